import {describe, expect, it} from 'vitest';
import {imageLinks, readImageLabels, type ImageLabels} from '../../source/core/links.ts';
import type {ImageLinks} from '../../source/core/types.ts';

const source = 'org.opencontainers.image.source';
const revision = 'org.opencontainers.image.revision';
const version = 'org.opencontainers.image.version';

const running = 'b1094a33decb8238769620c831cb73ec76c64346';
const target = '5c8459f1bd20b7b7f92325f83898636f3c8db95f';

describe('readImageLabels: the source repository', () => {
	it.each([
		['https://github.com/nginxinc/docker-nginx', 'https://github.com/nginxinc/docker-nginx'],
		['https://github.com/nginxinc/docker-nginx.git', 'https://github.com/nginxinc/docker-nginx'],
		['https://github.com/nginxinc/docker-nginx/', 'https://github.com/nginxinc/docker-nginx'],
		['git@github.com:nginxinc/docker-nginx.git', 'https://github.com/nginxinc/docker-nginx'],
		['git+https://github.com/traefik/traefik.git', 'https://github.com/traefik/traefik'],
		['ssh://git@github.com/traefik/traefik.git', 'https://github.com/traefik/traefik'],
		['git://github.com/tianon/docker-brew-ubuntu-core', 'https://github.com/tianon/docker-brew-ubuntu-core'],
		['https://github.com/docker-library/postgres/tree/master/17/bookworm', 'https://github.com/docker-library/postgres'],
		['http://www.github.com/linuxserver/docker-sonarr', 'https://github.com/linuxserver/docker-sonarr'],
		['https://x-access-token:ghs_secret@github.com/acme/app', 'https://github.com/acme/app'],
		['https://github.com/acme/app?tab=readme#top', 'https://github.com/acme/app'],
		['https://gitlab.com/gitlab-org/gitlab-runner', 'https://gitlab.com/gitlab-org/gitlab-runner'],
		['https://gitlab.com/group/subgroup/project/-/tree/main/docker', 'https://gitlab.com/group/subgroup/project'],
		['https://gitlab.com/group/project.git', 'https://gitlab.com/group/project'],
		['https://gitlab.example.com:8443/team/app.git', 'https://gitlab.example.com:8443/team/app'],
		['git@gitlab.example.com:team/app.git', 'https://gitlab.example.com/team/app'],
		['https://codeberg.org/forgejo/forgejo/src/branch/forgejo', 'https://codeberg.org/forgejo/forgejo'],
		['https://gitea.example.org/ops/tools.git', 'https://gitea.example.org/ops/tools'],
		['https://bitbucket.org/atlassian/python-bitbucket/src/master/', 'https://bitbucket.org/atlassian/python-bitbucket'],
		// Another host keeps its path, minus the decorations.
		['https://git.example.com/some/path.git/', 'https://git.example.com/some/path'],
		['https://github.com.evil.example/o/r', 'https://github.com.evil.example/o/r'],
		// Only http(s) comes out.
		['javascript:alert(1)', null],
		['file:///etc/passwd', null],
		['data:text/html,<script>', null],
		['ftp://github.com/o/r', null],
		['git@git.example.com:o/r.git', null],
		['not a url', null],
		['https://github.com/only-owner', null],
		['https://github.com/o/r\u202Egpj.exe', null],
		['https://github.com/o/r\u0007', null],
		[`https://github.com/o/${'r'.repeat(2001)}`, null],
		['', null],
	])('%s -> %s', (value, expected) => {
		expect(readImageLabels({[source]: value}).source).toBe(expected);
	});

	it('falls back to the label-schema names', () => {
		const facts = readImageLabels({
			'org.label-schema.vcs-url': 'https://github.com/acme/app.git',
			'org.label-schema.vcs-ref': running,
			'org.label-schema.version': '1.2.3',
			'org.label-schema.url': 'https://acme.example/',
		});
		expect(facts).toEqual({source: 'https://github.com/acme/app', revision: running, version: '1.2.3', url: 'https://acme.example/', documentation: null});
	});

	it('prefers the OCI names', () => {
		const facts = readImageLabels({'org.label-schema.vcs-url': 'https://github.com/old/app', [source]: 'https://github.com/new/app'});
		expect(facts.source).toBe('https://github.com/new/app');
	});

	it('keeps only http(s) page links', () => {
		expect(readImageLabels({'org.opencontainers.image.url': 'javascript:alert(1)'}).url).toBeNull();
		expect(readImageLabels({'org.opencontainers.image.documentation': 'https://u:p@docs.example/x'}).documentation).toBe('https://docs.example/x');
		expect(readImageLabels(null)).toEqual({source: null, revision: null, version: null, url: null, documentation: null});
	});

	it.each([
		[running, running],
		['b1094a3', 'b1094a3'],
		['v1.27.3', 'v1.27.3'],
		['release/1.27', 'release/1.27'],
		['main..evil', null],
		['a b', null],
		['-flag', null],
		['main/', null],
		['x%2e%2e', null],
		['ref.lock', null],
		['abc', 'abc'],
	])('revision %s -> %s', (value, expected) => {
		expect(readImageLabels({[revision]: value}).revision).toBe(expected);
	});
});

function labels(repository: string | null, rev: string | null, ver: string | null = null): ImageLabels {
	return {
		...(repository === null ? {} : {[source]: repository}),
		...(rev === null ? {} : {[revision]: rev}),
		...(ver === null ? {} : {[version]: ver}),
	};
}

describe('imageLinks', () => {
	it.each<[string, ImageLabels | null, ImageLabels | null, string | null, ImageLinks]>([
		['GitHub', labels('https://github.com/redis/docker-library-redis', running), labels('https://github.com/redis/docker-library-redis', target, '7.4.2'), '7.4', {
			source: 'https://github.com/redis/docker-library-redis',
			revision: running,
			targetRevision: target,
			changes: `https://github.com/redis/docker-library-redis/compare/${running}...${target}`,
			release: 'https://github.com/redis/docker-library-redis/releases/tag/7.4.2',
		}],
		['GitLab, nested groups', labels('https://gitlab.com/g/sub/p', running), labels('https://gitlab.com/g/sub/p.git', target, 'v2.0.1'), null, {
			source: 'https://gitlab.com/g/sub/p',
			revision: running,
			targetRevision: target,
			changes: `https://gitlab.com/g/sub/p/-/compare/${running}...${target}`,
			release: 'https://gitlab.com/g/sub/p/-/releases/v2.0.1',
		}],
		['self-hosted GitLab', labels('https://gitlab.example.com/team/app', 'v1.0.0'), labels('https://gitlab.example.com/team/app', 'v1.1.0'), '1.1.0', {
			source: 'https://gitlab.example.com/team/app',
			revision: 'v1.0.0',
			targetRevision: 'v1.1.0',
			changes: 'https://gitlab.example.com/team/app/-/compare/v1.0.0...v1.1.0',
			release: 'https://gitlab.example.com/team/app/-/releases/1.1.0',
		}],
		['Codeberg', labels('https://codeberg.org/forgejo/forgejo', running), labels('https://codeberg.org/forgejo/forgejo', target, 'v9.0.3'), null, {
			source: 'https://codeberg.org/forgejo/forgejo',
			revision: running,
			targetRevision: target,
			changes: `https://codeberg.org/forgejo/forgejo/compare/${running}...${target}`,
			release: 'https://codeberg.org/forgejo/forgejo/releases/tag/v9.0.3',
		}],
		['Bitbucket: newer first, no release page', labels('https://bitbucket.org/acme/app', running), labels('https://bitbucket.org/acme/app', target, '2.0.0'), null, {
			source: 'https://bitbucket.org/acme/app',
			revision: running,
			targetRevision: target,
			changes: `https://bitbucket.org/acme/app/branches/compare/${target}%0D${running}`,
			release: null,
		}],
		['ref names keep their slashes', labels('https://github.com/acme/app', 'release/1.0'), labels('https://github.com/acme/app', 'release/1.1'), null, {
			source: 'https://github.com/acme/app',
			revision: 'release/1.0',
			targetRevision: 'release/1.1',
			changes: 'https://github.com/acme/app/compare/release/1.0...release/1.1',
			release: null,
		}],
		['the target image not known yet: release from the tag', labels('https://github.com/traefik/traefik', running), null, 'v3.2.1', {
			source: 'https://github.com/traefik/traefik',
			revision: running,
			targetRevision: null,
			changes: null,
			release: 'https://github.com/traefik/traefik/releases/tag/v3.2.1',
		}],
		['a tag that is no version gives no release', labels('https://github.com/traefik/traefik', running), null, 'latest', {
			source: 'https://github.com/traefik/traefik',
			revision: running,
			targetRevision: null,
			changes: null,
			release: null,
		}],
		['a version label that is no version falls back to the tag', labels('https://github.com/acme/app', running), labels('https://github.com/acme/app', target, 'main'), '1.4.0', {
			source: 'https://github.com/acme/app',
			revision: running,
			targetRevision: target,
			changes: `https://github.com/acme/app/compare/${running}...${target}`,
			release: 'https://github.com/acme/app/releases/tag/1.4.0',
		}],
		['the same revision: nothing to compare', labels('https://github.com/acme/app', running), labels('https://github.com/acme/app', running.toUpperCase()), null, {
			source: 'https://github.com/acme/app',
			revision: running,
			targetRevision: running.toUpperCase(),
			changes: null,
			release: null,
		}],
		['the repository moved: no compare, release from the new one', labels('https://github.com/old/app', running), labels('https://github.com/new/app', target, '2.0.0'), null, {
			source: 'https://github.com/old/app',
			revision: running,
			targetRevision: target,
			changes: null,
			release: 'https://github.com/new/app/releases/tag/2.0.0',
		}],
		['only the target has a source', labels(null, running), labels('git@github.com:acme/app.git', target), null, {
			source: 'https://github.com/acme/app',
			revision: running,
			targetRevision: target,
			changes: `https://github.com/acme/app/compare/${running}...${target}`,
			release: null,
		}],
		['an unknown host gives its link, no compare', labels('https://git.example.com/acme/app', running), labels('https://git.example.com/acme/app', target, '1.0.0'), null, {
			source: 'https://git.example.com/acme/app',
			revision: running,
			targetRevision: target,
			changes: null,
			release: null,
		}],
		['a hostile source gives nothing', labels('javascript:alert(1)', running), labels('javascript:alert(1)', target, '1.0.0'), '1.0.0', {
			source: null,
			revision: running,
			targetRevision: target,
			changes: null,
			release: null,
		}],
		['no labels at all', null, null, null, {source: null, revision: null, targetRevision: null, changes: null, release: null}],
	])('%s', (_name, current, targetLabels, tag, expected) => {
		expect(imageLinks(current, targetLabels, tag)).toEqual(expected);
	});

	it('returns only well-formed http(s) URLs', () => {
		const links = imageLinks(labels('https://github.com/acme/app', 'v1+a'), labels('https://github.com/acme/app', 'v1+b', 'v1.0.0'), null);
		for (const url of [links.source, links.changes, links.release]) {
			expect(url).not.toBeNull();
			expect(new URL(url ?? '').protocol).toBe('https:');
		}

		expect(links.changes).toBe('https://github.com/acme/app/compare/v1%2Ba...v1%2Bb');
	});
});
