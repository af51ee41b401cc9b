import {describe, expect, it} from 'vitest';
import type {NewerVersion} from '../../source/core/types.ts';
import {compatible, newerVersions, parseVersionTag, type VersionTag} from '../../source/core/versions.ts';

// Tag names below come from the real tag lists of these repositories (Docker Hub, docker-library's
// official-images `library/*` files); a few lists are trimmed, none is invented unless marked.

/** `prefix|numbers|pre-release|suffixShape|suffixBuild`, with `~` before a glued pre-release. */
function summary(version: VersionTag | null): string | null {
	if (version === null) {
		return null;
	}

	const pre = version.prerelease === null
		? ''
		: `${version.prerelease.glued ? '~' : ''}${version.prerelease.word}${version.prerelease.numbers.join('.')}`;
	return `${version.prefix}|${version.numbers.join('.')}|${pre}|${version.suffixShape}|${version.suffixBuild.join('.')}`;
}

describe('parseVersionTag', () => {
	it.each([
		// nginx
		['1.27.3', '|1.27.3|||'],
		['1.27.3-alpine', '|1.27.3||-alpine|'],
		['1.27-alpine3.20', '|1.27||-alpine#.#|3.20'],
		['1.27.3-alpine-slim', '|1.27.3||-alpine-slim|'],
		['1.27.3-alpine3.20-slim', '|1.27.3||-alpine#.#-slim|3.20'],
		['1.27.3-alpine-perl', '|1.27.3||-alpine-perl|'],
		['mainline', null],
		['stable-perl', null],
		['mainline-alpine-perl', null],
		// postgres
		['14', '|14|||'],
		['14.12', '|14.12|||'],
		['14.12-bookworm', '|14.12||-bookworm|'],
		['16beta1-bullseye', '|16|~beta1|-bullseye|'],
		['17rc1', '|17|~rc1||'],
		['12-beta3-alpine', '|12|beta3|-alpine|'],
		// node
		['22', '|22|||'],
		['22.11.0-alpine3.20', '|22.11.0||-alpine#.#|3.20'],
		['22.11.0-bookworm-slim', '|22.11.0||-bookworm-slim|'],
		['lts-slim', null],
		['iron', null],
		['chakracore-10.6.0', null],
		// python
		['3.12.7-slim-bookworm', '|3.12.7||-slim-bookworm|'],
		['3.13.0rc3', '|3.13.0|~rc3||'],
		['3.15.0a2-slim-trixie', '|3.15.0|~a2|-slim-trixie|'],
		['3.15-rc-alpine3.22', '|3.15|rc|-alpine#.#|3.22'],
		['3.12-alpine3.20', '|3.12||-alpine#.#|3.20'],
		['3.14.0-windowsservercore-ltsc2025', '|3.14.0||-windowsservercore-ltsc2025|'],
		['windowsservercore-ltsc2022', null],
		// linuxserver
		['4.0.12.2823-ls232', '|4.0.12.2823||-ls#|232'],
		['10.2-ls209', '|10.2||-ls#|209'],
		['version-10.2-ls209', null],
		['amd64-4.0.12.2823-ls232', null],
		['arm64v8-4.0.12.2823-ls232', null],
		['develop', null],
		// traefik
		['v3.2.1', 'v|3.2.1|||'],
		['v3.2', 'v|3.2|||'],
		['3.2.1', '|3.2.1|||'],
		['v3.2.0-rc1', 'v|3.2.0|rc1||'],
		['v2.9.4-windowsservercore-1809', 'v|2.9.4||-windowsservercore-1809|'],
		['banon', null],
		// redis
		['7.4.1-alpine3.20', '|7.4.1||-alpine#.#|3.20'],
		['7.4-rc2', '|7.4|rc2||'],
		['7.2-rc-bookworm', '|7.2|rc|-bookworm|'],
		['8.0-M02', '|8.0||-M#|2'],
		// alpine
		['3.20.3', '|3.20.3|||'],
		['20240923', '|20240923|||'],
		['edge', null],
		['latest', null],
		// ubuntu
		['24.04', '|24.4|||'],
		['12.04.5', '|12.4.5|||'],
		['noble-20240904.1', null],
		['noble', null],
		// golang
		['1.23.3-bookworm', '|1.23.3||-bookworm|'],
		['1.23rc2', '|1.23|~rc2||'],
		['1.23.3-windowsservercore-ltsc2022', '|1.23.3||-windowsservercore-ltsc2022|'],
		['1.25.3-nanoserver-ltsc2025', '|1.25.3||-nanoserver-ltsc2025|'],
		['alpine3.20', 'alpine|3.20|||'],
		['tip-20241123', null],
		// bitnami
		['1.7.0-debian-12-r3', '|1.7.0||-debian-12-r#|3'],
		// other forms the rules name
		['2024.06.01', '|2024.6.1|||'],
		['8.0-fpm', '|8.0||-fpm|'],
		['2.4.59-alpine3.20', '|2.4.59||-alpine#.#|3.20'],
		['2.1.0-rc.1', '|2.1.0|rc1||'],
		['2.1.0-beta.2', '|2.1.0|beta2||'],
		['2.1.0-alpha2', '|2.1.0|alpha2||'],
		['2.1.0-preview', '|2.1.0|preview||'],
		['2.1.0-dev', '|2.1.0|dev||'],
		['2.1.0-nightly', '|2.1.0|nightly||'],
		['1.0.0-SNAPSHOT', '|1.0.0|snapshot||'],
		['1.2.3-rc-1', '|1.2.3|rc1||'],
		['22-ea-10-jdk', '|22|ea10|-jdk|'],
		['1.2.3rc1', '|1.2.3|~rc1||'],
		['1.2.3_1', '|1.2.3||_#|1'],
		['1.2.3.4', '|1.2.3.4|||'],
		['1.2.3.4.5', null],
		['1.2.x', null],
		['1.0.0rc1.post2', null],
		// hashes and names
		['sha-3f2a1b', null],
		['3f2a1b4', null],
		['abc1234', null],
		['1abc234', null],
		['cafe0123456789', null],
		['abc123', 'abc|123|||'],
		['3f2a1b4c5d6e7f8091a2b3c4d5e6f708192a3b4c', null],
		['1234567', '|1234567|||'],
		['1234567890123456', null],
		['', null],
		['-1.2', null],
		['1.2 ', null],
	])('%s -> %s', (tag, expected) => {
		expect(summary(parseVersionTag(tag))).toBe(expected);
	});

	it('gives up at once on a 10,000-character tag', () => {
		expect(parseVersionTag(`1${'-a'.repeat(5000)}`)).toBeNull();
		expect(parseVersionTag(`${'1.'.repeat(5000)}x`)).toBeNull();
		expect(parseVersionTag('1'.repeat(10_000))).toBeNull();
	});
});

describe('compatible', () => {
	const parse = (tag: string): VersionTag => {
		const version = parseVersionTag(tag);
		if (version === null) {
			throw new Error(`${tag} should read as a version`);
		}

		return version;
	};

	it.each([
		['1.27.3-alpine', '1.27.4-alpine', true],
		['1.27.3-alpine', '1.27.4-alpine3.20', false],
		['1.27-alpine3.19', '1.27-alpine3.20', true],
		['1.27-alpine3.19', '1.27-alpine', false],
		['10.2-ls209', '10.2-ls212', true],
		['1.7.0-debian-12-r3', '1.7.0-debian-12-r5', true],
		['1.7.0-debian-12-r3', '1.8.0-debian-13-r0', false],
		['1.14', '1.15.0', false],
		['v3.2.0', '3.2.1', false],
		['14', '16beta1', false],
		['2.1.0-rc.1', '2.1.0-rc.2', true],
		['2.1.0-rc.1', '2.1.0', true],
		['2.1.0-rc.1', '2.1.0-beta.3', false],
		['3.13.0rc2', '3.13.0-rc3', false],
		['1.23.3-windowsservercore-ltsc2022', '1.23.4-windowsservercore-ltsc2025', false],
	])('%s -> %s: %s', (current, candidate, expected) => {
		expect(compatible(parse(current), parse(candidate))).toBe(expected);
	});
});

const nginx = [
	'1.26.2', '1.26.2-alpine', '1.26', '1.26-alpine', '1.26.2-alpine3.20', '1.27.1-alpine3.19', '1.27-alpine3.19',
	'1.27.2', '1.27.2-alpine', '1.27.2-alpine3.20', '1.27.3', '1.27.3-alpine', '1.27.3-alpine-slim', '1.27.3-alpine3.20',
	'1.27.3-alpine3.20-slim', '1.27.3-perl', '1.27.3-alpine-perl', '1.27.3-bookworm', '1.27.4-alpine-slim', '1.27', '1.27-alpine',
	'1.27-alpine3.20', '1.27-perl', '1', '1-alpine', '1.28.0', '1.28.0-alpine', '1.28.0-alpine3.21', '1.28-alpine', '1.28-alpine3.21',
	'1.29.1', '1.29.1-alpine', '1.29.1-alpine3.22', '1.29-alpine3.22', 'mainline', 'mainline-alpine', 'stable', 'stable-perl',
	'stable-alpine', 'latest', 'alpine', 'perl',
];
const postgres = [
	'12-beta3', '12', '14', '14.12', '14.13', '14-bookworm', '14.12-bookworm', '14.13-bookworm', '15', '15.8', '16', '16.4',
	'16.4-bookworm', '16-bookworm', '16-bullseye', '16beta1', '16beta1-bullseye', '16beta2-bullseye', '16rc1', '17rc1',
	'17rc1-bookworm', '17', '17.0', '17.2', '17.2-bookworm', '17-bullseye', 'latest', 'alpine', 'bookworm',
];
const node = [
	'22', '23', '22.11.0', '22.11.0-alpine3.20', '22.12.0-alpine3.20', '22.12.0-alpine3.21', '22-alpine3.20', '22-alpine3.21',
	'23.3.0-alpine3.20', '22.11.0-bookworm-slim', '22.12.0-bookworm-slim', '23-bookworm-slim', 'lts-slim', 'lts', 'iron',
	'iron-alpine', 'jod', 'current-alpine', 'chakracore-10.6.0',
];
const python = [
	'3.12.7', '3.12.8', '3.12.7-slim-bookworm', '3.12.8-slim-bookworm', '3.13.0-slim-bookworm', '3.13.1-slim-bookworm',
	'3.13.0rc2', '3.13.0rc3', '3.13.0rc3-slim-bookworm', '3.13.0', '3.13.1', '3.14.0b1', '3.15.0a2', '3.12-alpine3.20',
	'3.12-alpine3.21', '3.13-alpine3.21', '3.14-rc-alpine3.21', '3.14.0a2-alpine3.21', '3.13.0-windowsservercore-ltsc2022',
	'3.13.1-windowsservercore-ltsc2022', '3.13.1-windowsservercore-ltsc2025',
];
const sonarr = [
	'4.0.12.2823-ls232', '4.0.12.2823-ls233', '4.0.13.2932-ls265', '4.0.14.2939-ls276', 'latest', 'develop',
	'amd64-4.0.12.2823-ls232', 'arm64v8-4.0.14.2939-ls276', 'version-4.0.14.2939',
];
const traefik = [
	'v3.2.1', 'v3.2.0', 'v3.2', 'v3.1.7', 'v3.2.0-rc1', 'v3.3.0-rc1', '3.2.0', '3.2.1', '3.2', 'v2.11.14', 'v2.11', 'latest',
	'banon', 'chabichou', 'v3.2.1-windowsservercore-1809', 'v3.2.2-windowsservercore-1809',
];
const redis = [
	'7.2', '7.2-rc3', '7.4-rc1', '7.4-rc2', '7.4-rc2-alpine3.20', '7.4', '7.4.1', '7.4.2', '7.4.1-alpine3.20', '7.4.1-alpine3.21',
	'7.4.2-alpine3.21', '8.0-M02', '8.0-rc1', '8.0.0-alpine3.21',
];
const alpine = ['3.19.4', '3.20.2', '3.20.3', '3.21.0', '3.20', '3.21', '3', 'latest', 'edge', '20240807', '20240923', '20241010'];
const ubuntu = ['20.04', '22.04', '24.04', '24.10', '25.04', 'focal', 'noble', 'noble-20240904.1', 'jammy-20240911', 'latest', 'rolling'];
const golang = [
	'1.23.3-bookworm', '1.23.4-bookworm', '1.24.0-bookworm', '1.23rc2', '1.23rc2-bookworm', '1.24rc1-bookworm', '1.23-bookworm',
	'1.24-bookworm', '1.23.3-windowsservercore-ltsc2022', '1.23.4-windowsservercore-ltsc2022',
	'1.23.4-windowsservercore-ltsc2025', '1.23-alpine3.20', '1.23-alpine3.21', '1.23', '1.24', 'tip-20241123', 'alpine3.20',
	'alpine3.21',
];
const bitnamiRedis = ['7.4.1-debian-12-r0', '7.4.1-debian-12-r3', '7.4.2-debian-12-r0', '7.4.2-debian-12-r1', '8.0.2-debian-12-r4', '8.2.0-debian-13-r0'];

const patch = (tag: string): NewerVersion => ({tag, type: 'patch'});
const minor = (tag: string): NewerVersion => ({tag, type: 'minor'});
const major = (tag: string): NewerVersion => ({tag, type: 'major'});

describe('newerVersions', () => {
	it.each<[string, string, readonly string[], NewerVersion[] | null]>([
		// Same suffix only; bare `-alpine` never becomes `-alpine3.21`.
		['nginx patch and minor', '1.27.2', nginx, [patch('1.27.3'), minor('1.29.1')]],
		['nginx -alpine', '1.27.2-alpine', nginx, [patch('1.27.3-alpine'), minor('1.29.1-alpine')]],
		['nginx -alpine, two parts', '1.27-alpine', nginx, [minor('1.28-alpine')]],
		['nginx -alpine3.19 moves to a later alpine', '1.27-alpine3.19', nginx, [patch('1.27-alpine3.20'), minor('1.29-alpine3.22')]],
		['nginx -alpine-slim', '1.27.3-alpine-slim', nginx, [patch('1.27.4-alpine-slim')]],
		['nginx -alpine3.20-slim is the newest of its shape', '1.27.3-alpine3.20-slim', nginx, []],
		['nginx mainline is no version', 'mainline', nginx, null],
		['nginx stable-perl is no version', 'stable-perl', nginx, null],
		// postgres:14 is never offered a beta; one-part versions only have majors.
		['postgres 14', '14', postgres, [major('17')]],
		['postgres 14.12: two parts', '14.12', postgres, [minor('14.13'), major('17.2')]],
		['postgres 14.12-bookworm', '14.12-bookworm', postgres, [minor('14.13-bookworm'), major('17.2-bookworm')]],
		['postgres glued beta moves to its release', '16beta1-bullseye', postgres, [patch('16-bullseye'), major('17-bullseye')]],
		['postgres rc with no later rc', '17rc1', postgres, [patch('17')]],
		['postgres 11 is not offered 12-beta3', '11', ['11', '12-beta3'], []],
		// node
		['node 22', '22', node, [major('23')]],
		['node alpine build breaks the tie', '22.11.0-alpine3.20', node, [minor('22.12.0-alpine3.21'), major('23.3.0-alpine3.20')]],
		['node 22-alpine3.20', '22-alpine3.20', node, [patch('22-alpine3.21')]],
		['node lts-slim', 'lts-slim', node, null],
		['node iron', 'iron', node, null],
		// python
		['python slim-bookworm', '3.12.7-slim-bookworm', python, [patch('3.12.8-slim-bookworm'), minor('3.13.1-slim-bookworm')]],
		['python release', '3.12.7', python, [patch('3.12.8'), minor('3.13.1')]],
		['python rc moves to the release', '3.13.0rc2', python, [patch('3.13.1')]],
		['python rc moves to a later rc', '3.13.0rc2', ['3.13.0rc2', '3.13.0rc3', '3.14.0b1', '3.13.0-rc4'], [patch('3.13.0rc3')]],
		['python alpine3.20', '3.12-alpine3.20', python, [patch('3.12-alpine3.21'), minor('3.13-alpine3.21')]],
		['python windows keeps its release', '3.13.0-windowsservercore-ltsc2022', python, [patch('3.13.1-windowsservercore-ltsc2022')]],
		// linuxserver: 4 parts, ls build numbers
		['sonarr', '4.0.12.2823-ls232', sonarr, [patch('4.0.14.2939-ls276')]],
		['ls build only is a patch', '10.2-ls209', ['10.2-ls209', '10.2-ls212', '10.2-ls210', '10.3-ls1', '11.4-ls3', '10.2'], [
			patch('10.2-ls212'), minor('10.3-ls1'), major('11.4-ls3'),
		]],
		['ls newest build', '10.2-ls212', ['10.2-ls209', '10.2-ls212'], []],
		// traefik: the v prefix is kept
		['traefik v3.2.0', 'v3.2.0', traefik, [patch('v3.2.1')]],
		['traefik v3.2 is the newest two-part', 'v3.2', traefik, []],
		['traefik v2 to v3', 'v2.11.14', traefik, [major('v3.2.1')]],
		['traefik rc', 'v3.2.0-rc1', traefik, [patch('v3.2.1'), minor('v3.3.0-rc1')]],
		['traefik without v', '3.2.0', ['3.2.0', 'v3.2.2', '3.2.1'], [patch('3.2.1')]],
		['traefik windows', 'v3.2.1-windowsservercore-1809', traefik, [patch('v3.2.2-windowsservercore-1809')]],
		// redis
		['redis alpine', '7.4.1-alpine3.20', redis, [patch('7.4.2-alpine3.21'), major('8.0.0-alpine3.21')]],
		['redis rc', '7.4-rc1', redis, [patch('7.4'), major('8.0-rc1')]],
		['redis release skips rc and milestones', '7.2', redis, [minor('7.4')]],
		// alpine: dates are versions too
		['alpine', '3.20.2', alpine, [patch('3.20.3'), minor('3.21.0')]],
		['alpine two parts', '3.20', alpine, [minor('3.21')]],
		['alpine edge snapshot date', '20240807', alpine, [major('20241010')]],
		['alpine edge', 'edge', alpine, null],
		// ubuntu
		['ubuntu', '22.04', ubuntu, [major('25.04')]],
		['ubuntu dated name', 'noble-20240904.1', ubuntu, null],
		// golang
		['golang bookworm', '1.23.3-bookworm', golang, [patch('1.23.4-bookworm'), minor('1.24.0-bookworm')]],
		['golang rc to release', '1.23rc2-bookworm', golang, [patch('1.23-bookworm'), minor('1.24-bookworm')]],
		['golang windows', '1.23.3-windowsservercore-ltsc2022', golang, [patch('1.23.4-windowsservercore-ltsc2022')]],
		['golang alpine3.20 alone', 'alpine3.20', golang, [minor('alpine3.21')]],
		['golang tip', 'tip-20241123', golang, null],
		// bitnami: `-debian-12-rN` builds; debian 13 is another shape
		['bitnami', '7.4.1-debian-12-r0', bitnamiRedis, [patch('7.4.2-debian-12-r1'), major('8.0.2-debian-12-r4')]],
		// Rules of the issue with made-up lists.
		['two parts are not offered three', '1.14', ['1.14', '1.15.0', '1.14.1', '2.0.0'], []],
		['dates', '2024.06.01', ['2024.06.01', '2024.06.15', '2024.07.01', '2025.01.03'], [
			patch('2024.06.15'), minor('2024.07.01'), major('2025.01.03'),
		]],
		['pre-release to a later one of the same word', '2.1.0-rc.1', ['2.1.0-rc.1', '2.1.0-rc.2', '2.1.0-beta.3'], [patch('2.1.0-rc.2')]],
		['pre-release to its release', '2.1.0-rc.1', ['2.1.0-rc.2', '2.1.0', '2.1.0-beta.3', '2.2.0-beta.1'], [patch('2.1.0')]],
		['releases are never offered pre-releases', '2.1.0', ['2.1.0-rc.2', '2.2.0-rc.1', '3.0.0-beta', '2.1.1-dev'], []],
		['newest already', '1.27.3', ['1.27.3', '1.27.2', '1.26.2'], []],
		['no tags', '1.27.3', [], []],
	])('%s: %s', (_name, current, tags, expected) => {
		expect(newerVersions(current, tags)).toEqual(expected);
	});

	it('chooses between equal versions written differently the same way whatever the order', () => {
		expect(newerVersions('1.25.3', ['1.25.04', '1.25.4'])).toEqual([patch('1.25.4')]);
		expect(newerVersions('1.25.3', ['1.25.4', '1.25.04'])).toEqual([patch('1.25.4')]);
		// Written like the current tag wins over shorter.
		expect(newerVersions('2024.06.01', ['2024.7.1', '2024.07.01'])).toEqual([minor('2024.07.01')]);
		expect(newerVersions('2024.06.01', ['2024.07.01', '2024.7.1'])).toEqual([minor('2024.07.01')]);
		// Written alike and as long: code-unit order.
		expect(newerVersions('1.2.3', ['1.2.05', '01.2.5'])).toEqual([patch('01.2.5')]);
		expect(newerVersions('1.2.3', ['01.2.5', '1.2.05'])).toEqual([patch('01.2.5')]);
	});

	it('narrows candidates with include and exclude, also with a global regular expression', () => {
		expect(newerVersions('1.27.2-alpine', nginx, {include: /^1\.27\./})).toEqual([patch('1.27.3-alpine')]);
		expect(newerVersions('1.27.2-alpine', nginx, {exclude: /^1\.29\./})).toEqual([patch('1.27.3-alpine'), minor('1.28.0-alpine')]);
		expect(newerVersions('1.27.2-alpine', nginx, {include: /alpine$/, exclude: /^1\.27\.3/})).toEqual([minor('1.29.1-alpine')]);
		const global = /^1\.2[78]\./g;
		expect(newerVersions('1.27.2', nginx, {include: global})).toEqual([patch('1.27.3'), minor('1.28.0')]);
		expect(newerVersions('1.27.2', nginx, {include: global})).toEqual([patch('1.27.3'), minor('1.28.0')]);
		// The filter is on candidates, not on the current tag.
		expect(newerVersions('1.27.2', nginx, {include: /^1\.29/})).toEqual([minor('1.29.1')]);
	});

	it('goes through a repository of 5,000 tags in one pass', () => {
		const tags: string[] = ['latest', 'x'.repeat(10_000)];
		for (let major = 1; major <= 5; major++) {
			for (let minor = 0; minor < 50; minor++) {
				for (let patch = 0; patch < 10; patch++) {
					tags.push(`${major}.${minor}.${patch}`, `${major}.${minor}.${patch}-alpine3.${20 + (patch % 3)}`);
				}
			}
		}

		expect(tags.length).toBeGreaterThan(5000);
		expect(newerVersions('3.10.2-alpine3.20', tags)).toEqual([
			patch('3.10.9-alpine3.20'), minor('3.49.9-alpine3.20'), major('5.49.9-alpine3.20'),
		]);
	});
});
