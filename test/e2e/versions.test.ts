import {once} from 'node:events';
import {readFile} from 'node:fs/promises';
import {createServer, type Server} from 'node:http';
import {afterAll, beforeAll, describe, expect, inject, it} from 'vitest';
import {z} from 'zod';
import {copyToTags, pushRelabelled} from '../helpers/manifests.ts';
import {startPagingProxy, type Listing, type PagingProxy} from '../helpers/paging-proxy.ts';
import {requestsDuring, type AccessEntry} from '../helpers/registry.ts';
import {Scene} from '../helpers/scene.ts';
import {makeHome, row, scanJson, updock, type UpdockHome} from '../helpers/updock.ts';
import type {ScanJson} from '../../source/report/scan-json.ts';
import type {NewerVersion} from '../../source/core/types.ts';

const sandbox = inject('sandbox');
const open = sandbox.open.host;

/** The tags of each repository on the open registry, chosen so that each rule decides the answer. */
const tagSets: Record<string, readonly string[]> = {
	// The prefix is part of the version: `v` tags move to `v` tags only.
	prefix: ['v1.2.3', 'v1.2.4', 'v1.3.0', 'v2.0.0', '1.2.4', '1.2.5', '1.9.9', '3.0.0', 'latest'],
	// The precision too: a two-part tag never gets a three-part one (1.26.0 would beat 1.25).
	precision: ['1.14', '1.15.0', '1.25', '1.25.3', '1.25.4', '1.26.0', '2', '3'],
	// `-alpine` stays `-alpine`; `-alpine3.19` may become `-alpine3.20`, even on older numbers' builds.
	suffix: ['1.25.3-alpine', '1.25.4-alpine', '1.25.4-alpine3.19', '1.25.4-alpine3.20', '1.26.1-alpine3.18', '1.26.0', '1.25.9-bookworm', '1.25.5-alpine-slim'],
	// A build number alone is a patch; `version-...` is a name, not a version.
	linuxserver: ['10.2-ls209', '10.2-ls210', '10.2-ls212', '10.3-ls100', '11.0-ls1', '10.2', 'version-10.2-ls213'],
	// Glued pre-releases are never offered to a release.
	postgres: ['14', '14-bullseye', '15', '15-bullseye', '16beta1', '16beta1-bullseye', '17rc1-bullseye'],
	// `-rc.N` only for a current `-rc`; a release of the same numbers is its patch.
	prerelease: ['1.9.0', '1.9.1', '2.0.0-rc.1', '2.0.0-rc.2', '2.1.0-rc.1', '2.1.0-rc.2', '2.1.0', '2.1.1-beta.1', '2.2.0-rc.1'],
	dates: ['2023.12.31', '2024.06.01', '2024.07.15', 'latest'],
	latest: ['latest', '1.0', '1.1'],
	'tags-off': ['1.0', '1.1'],
	filtered: ['1.0.0', '1.0.1', '1.1.0', '2.0.0'],
};

/** `1.0.0` ... `2.6.24`: 350 tags, four pages of 100 behind the paging proxy. */
const manyTags = [1, 2].flatMap(major => Array.from({length: 7}, (_, minor) => Array.from({length: 25}, (_, patch) => `${major}.${minor}.${patch}`)).flat());

/** How the paging proxy answers each repository's tag listing. */
const proxied: Record<string, {readonly tags: readonly string[]; readonly listing: (foreign: string) => Listing}> = {
	many: {tags: manyTags, listing: () => ({kind: 'pages'})},
	foreign: {tags: ['1.0.0', '1.0.1'], listing: foreign => ({kind: 'foreign', origin: foreign})},
	missing: {tags: ['1.0.0', '1.0.1'], listing: () => ({kind: 'status', status: 404, code: 'NAME_UNKNOWN'})},
	denied: {tags: ['1.0.0', '1.0.1'], listing: () => ({kind: 'status', status: 401, code: 'UNAUTHORIZED'})},
	dropped: {tags: ['1.0.0', '1.0.1'], listing: () => ({kind: 'drop'})},
};

interface Case {
	/** The container's name, after the scene's prefix. */
	readonly name: string;
	readonly repository: string;
	readonly tag: string;
	readonly labels?: Readonly<Record<string, string>>;
	readonly proxied?: boolean;
	readonly newer: readonly NewerVersion[] | null;
}

const v = (tag: string, type: NewerVersion['type']): NewerVersion => ({tag, type});

const cases: readonly Case[] = [
	{name: 'prefix-a', repository: 'prefix', tag: 'v1.2.3', newer: [v('v1.2.4', 'patch'), v('v1.3.0', 'minor'), v('v2.0.0', 'major')]},
	{name: 'prefix-b', repository: 'prefix', tag: 'v1.2.3', newer: [v('v1.2.4', 'patch'), v('v1.3.0', 'minor'), v('v2.0.0', 'major')]},
	{name: 'prefix-none', repository: 'prefix', tag: '1.2.4', newer: [v('1.2.5', 'patch'), v('1.9.9', 'minor'), v('3.0.0', 'major')]},
	{name: 'two-parts', repository: 'precision', tag: '1.14', newer: [v('1.25', 'minor')]},
	{name: 'three-parts', repository: 'precision', tag: '1.25.3', newer: [v('1.25.4', 'patch'), v('1.26.0', 'minor')]},
	{name: 'one-part', repository: 'precision', tag: '2', newer: [v('3', 'major')]},
	{name: 'alpine', repository: 'suffix', tag: '1.25.3-alpine', newer: [v('1.25.4-alpine', 'patch')]},
	{name: 'alpine-build', repository: 'suffix', tag: '1.25.4-alpine3.19', newer: [v('1.25.4-alpine3.20', 'patch'), v('1.26.1-alpine3.18', 'minor')]},
	{name: 'ls', repository: 'linuxserver', tag: '10.2-ls209', newer: [v('10.2-ls212', 'patch'), v('10.3-ls100', 'minor'), v('11.0-ls1', 'major')]},
	{name: 'pg', repository: 'postgres', tag: '14', newer: [v('15', 'major')]},
	{name: 'pg-bullseye', repository: 'postgres', tag: '14-bullseye', newer: [v('15-bullseye', 'major')]},
	{name: 'release', repository: 'prerelease', tag: '1.9.0', newer: [v('1.9.1', 'patch'), v('2.1.0', 'major')]},
	{name: 'rc', repository: 'prerelease', tag: '2.0.0-rc.1', newer: [v('2.0.0-rc.2', 'patch'), v('2.2.0-rc.1', 'minor')]},
	{name: 'rc-released', repository: 'prerelease', tag: '2.1.0-rc.1', newer: [v('2.1.0', 'patch'), v('2.2.0-rc.1', 'minor')]},
	{name: 'date', repository: 'dates', tag: '2024.06.01', newer: [v('2024.07.15', 'minor')]},
	{name: 'latest', repository: 'latest', tag: 'latest', newer: null},
	{name: 'label-off', repository: 'tags-off', tag: '1.0', labels: {'updock.tags': 'off'}, newer: null},
	{name: 'unfiltered', repository: 'filtered', tag: '1.0.0', newer: [v('1.0.1', 'patch'), v('1.1.0', 'minor'), v('2.0.0', 'major')]},
	{name: 'excluding', repository: 'filtered', tag: '1.0.0', labels: {'updock.tags.exclude': String.raw`^2\.`}, newer: [v('1.0.1', 'patch'), v('1.1.0', 'minor')]},
	{name: 'including', repository: 'filtered', tag: '1.0.0', labels: {'updock.tags.include': String.raw`^1\.0\.`}, newer: [v('1.0.1', 'patch')]},
	{name: 'many', repository: 'many', tag: '1.0.0', proxied: true, newer: [v('1.0.24', 'patch'), v('1.6.24', 'minor'), v('2.6.24', 'major')]},
];

const failing: ReadonlyArray<{name: string; error: RegExp}> = [
	{name: 'foreign', error: /another origin/},
	{name: 'missing', error: /does not exist/},
	{name: 'denied', error: /refused access/},
	{name: 'dropped', error: /unreachable/},
];

const revisions = {old: '3f1c2d4e5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d', new: '9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e0d'};
const source = 'https://github.com/acme/app';

const savedLabels = z.object({imageLabels: z.record(z.string(), z.object({labels: z.record(z.string(), z.string())}))});

/** The tag listings updock asked for, by repository (`versions/<name>`), one entry per page. */
function listings(requests: ReadonlyArray<Pick<AccessEntry, 'method' | 'path' | 'userAgent'>>): Map<string, string[]> {
	const byRepository = new Map<string, string[]>();
	for (const request of requests) {
		const match = /^\/v2\/(.+)\/tags\/list(?:\?.*)?$/.exec(request.path);
		if (match !== null && request.method === 'GET' && request.userAgent.startsWith('updock/')) {
			byRepository.set(match[1]!, [...(byRepository.get(match[1]!) ?? []), request.path]);
		}
	}

	return byRepository;
}

/**
 * Newer versions and links, scanned by the built binary: containers on tags of real repositories
 * whose tag sets exercise each rule, a paging proxy for long and failing listings, and an image whose
 * tag moved to another revision.
 */
describe('newer versions and links against a real engine and registry', () => {
	let scene: Scene;
	let home: UpdockHome;
	let proxy: PagingProxy;
	let foreignServer: Server;
	let foreignOrigin: string;
	let foreignHits = 0;
	const containers: string[] = [];
	let first: {json: ScanJson; code: number; stderr: string; requests: AccessEntry[]; proxied: PagingProxy['seen']};
	/** The config digests of the image the app container runs and of the one its tag moved to. */
	const appConfig = {old: '', new: ''};

	const create = async (name: string, image: string, labels: Readonly<Record<string, string>> = {}): Promise<void> => {
		const full = `${scene.prefix}-${name}`;
		await scene.docker(['create', '--network', 'none', '--name', full, ...Object.entries(labels).flatMap(([key, value]) => ['--label', `${key}=${value}`]), image]);
		containers.push(full);
	};

	const name = (short: string): string => `${scene.prefix}-${short}`;

	beforeAll(async () => {
		scene = await Scene.create(sandbox, 'versions');
		home = await makeHome(sandbox);
		// Where a Link to another origin points: it must never be asked.
		foreignServer = createServer((request, response) => {
			foreignHits++;
			request.resume();
			response.writeHead(200, {'content-type': 'application/json'});
			response.end(JSON.stringify({name: 'elsewhere', tags: ['9.9.9']}));
		});
		foreignServer.listen(0, '127.0.0.1');
		await once(foreignServer, 'listening');
		const address = foreignServer.address();
		if (address === null || typeof address === 'string') {
			throw new Error('the foreign server has no TCP address');
		}

		foreignOrigin = `http://127.0.0.1:${address.port}`;
		proxy = await startPagingProxy(open, {pageSize: 100, listing: repository => proxied[repository.replace(/^versions\//, '')]?.listing(foreignOrigin) ?? {kind: 'pages'}});

		// One image, tagged many times in every repository: tags of one image are cheap.
		await scene.push(`${open}/versions/base:1`, {marker: 'versions-base'});
		for (const [repository, tags] of [...Object.entries(tagSets), ...Object.entries(proxied).map(([repository, {tags}]) => [repository, tags] as const)]) {
			// eslint-disable-next-line no-await-in-loop -- one repository at a time spares the registry
			await copyToTags(open, 'versions/base', '1', `versions/${repository}`, tags);
		}

		// The links: the tag 1.4 moves from one revision of acme/app to the next.
		const labels = (revision: string, version: string): Record<string, string> => ({
			'org.opencontainers.image.source': source,
			'org.opencontainers.image.revision': revision,
			'org.opencontainers.image.version': version,
		});
		appConfig.old = (await pushRelabelled(open, 'versions/base', '1', 'versions/app', '1.4', labels(revisions.old, '1.4.0'))).configDigest;

		const imageOf = ({repository, tag, proxied: viaProxy}: Pick<Case, 'repository' | 'tag' | 'proxied'>): string => `${viaProxy === true ? proxy.host : open}/versions/${repository}:${tag}`;
		const failingCases = failing.map(({name}) => ({name, repository: name, tag: '1.0.0', proxied: true}));
		const images = [...new Set([...cases, ...failingCases].map(imageOf)), `${open}/versions/app:1.4`];
		for (let start = 0; start < images.length; start += 4) {
			// eslint-disable-next-line no-await-in-loop -- a few pulls at a time on a shared machine
			await Promise.all(images.slice(start, start + 4).map(async image => scene.pull(image)));
		}

		for (const item of [...cases, ...failingCases]) {
			// eslint-disable-next-line no-await-in-loop -- the engine creates one at a time anyway
			await create(item.name, imageOf(item), 'labels' in item ? item.labels : undefined);
		}

		await create('app', `${open}/versions/app:1.4`);
		appConfig.new = (await pushRelabelled(open, 'versions/base', '1', 'versions/app', '1.4', labels(revisions.new, '1.4.1'))).configDigest;

		const seenBefore = proxy.seen.length;
		const {result: {json, code, stderr}, requests} = await requestsDuring(sandbox.open, async () => {
			const {result, json} = await scanJson(home);
			return {json, code: result.code, stderr: result.stderr};
		});
		first = {json, code, stderr, requests: requests.filter(entry => entry.userAgent.startsWith('updock/')), proxied: proxy.seen.slice(seenBefore)};
	});

	afterAll(async () => {
		if (containers.length > 0) {
			await scene?.docker(['rm', '-f', ...containers]).catch(() => undefined);
		}

		await scene?.cleanup();
		await proxy?.close();
		if (foreignServer?.listening) {
			foreignServer.closeAllConnections();
			foreignServer.close();
			await once(foreignServer, 'close');
		}
	});

	it.each(cases)('finds the newer versions of $repository:$tag ($name)', ({name: short, newer}) => {
		const found = row(first.json, name(short));
		expect(found.newer).toEqual(newer);
		expect(found.newerError).toBeNull();
		// The status stays the verdict on the container's own tag.
		expect(found.status).toBe('up-to-date');
	});

	it('counts the rows with a newer version in the summary', () => {
		const expected = cases.filter(({newer}) => newer !== null && newer.length > 0).length;
		expect(first.json.summary.newerVersions).toBe(expected);
		expect(first.code, first.stderr).toBe(0);
	});

	it('lists each repository once per scan, only where a container runs a version tag', () => {
		const direct = listings(first.requests);
		const wanted = [...new Set(cases.filter(({newer, proxied: viaProxy}) => newer !== null && viaProxy !== true).map(({repository}) => `versions/${repository}`)), 'versions/app'].sort();
		expect([...direct.keys()].sort()).toEqual(wanted);
		for (const [repository, pages] of direct) {
			expect(pages, repository).toEqual([`/v2/${repository}/tags/list?n=1000`]);
		}

		// `latest` is not a version and `updock.tags=off` opts out: not a single request for them.
		expect(first.requests.some(entry => entry.path.startsWith('/v2/versions/latest/') && entry.path.includes('/tags/'))).toBe(false);
		expect(first.requests.some(entry => entry.path.startsWith('/v2/versions/tags-off/') && entry.path.includes('/tags/'))).toBe(false);
	});

	it('follows Link pages of a registry that ignores n, on the same origin only', async () => {
		// The sandbox registry (distribution 2.8) ignores n: every direct listing above came from a
		// registry that ignores it. The proxy pages in its place, with fewer per page than asked for.
		const ignored = await fetch(`http://${open}/v2/versions/many/tags/list?n=100`);
		expect(z.object({tags: z.array(z.string())}).parse(await ignored.json()).tags).toHaveLength(manyTags.length);
		expect(ignored.headers.get('link')).toBeNull();

		const viaProxy = listings(first.proxied);
		expect(viaProxy.get('versions/many')).toEqual([
			'/v2/versions/many/tags/list?n=1000',
			...[99, 199, 299].map(index => `/v2/versions/many/tags/list?last=${[...manyTags].sort()[index]}&n=100`),
		]);
		expect(foreignHits).toBe(0);
	});

	it.each(failing)('keeps the status when the listing of $name fails, and says why', ({name: short, error}) => {
		const found = row(first.json, name(short));
		expect(found.status).toBe('up-to-date');
		expect(found.newer).toBeNull();
		expect(found.newerError).toMatch(error);
		expect(found.newerError).toContain(`${proxy.host}/versions/${short}`);
		// Asked once: a failed listing is not retried within the scan.
		expect(listings(first.proxied).get(`versions/${short}`)).toEqual([`/v2/versions/${short}/tags/list?n=1000`]);
	});

	it('links the running and the target revision of an update, fetching the target config once', () => {
		expect(row(first.json, name('app'))).toMatchObject({
			status: 'update-available',
			newer: [],
			links: {
				source,
				revision: revisions.old,
				targetRevision: revisions.new,
				changes: `${source}/compare/${revisions.old}...${revisions.new}`,
				release: `${source}/releases/tag/1.4.1`,
			},
		});
		const blobs = first.requests.filter(entry => entry.path.includes('/blobs/'));
		// The running image's labels come from the engine: no request for its config.
		expect(appConfig.old).not.toBe(appConfig.new);
		expect(blobs.map(entry => `${entry.method} ${entry.path}`)).toEqual([`GET /v2/versions/app/blobs/${appConfig.new}`]);
	});

	it('remembers the target labels in the file: the next scan fetches no config and keeps the links', async () => {
		const saved = savedLabels.parse(JSON.parse(await readFile(home.db, 'utf8')));
		expect(saved.imageLabels[appConfig.new]?.labels['org.opencontainers.image.revision']).toBe(revisions.new);

		const {result: {json}, requests} = await requestsDuring(sandbox.open, async () => scanJson(home));
		const mine = requests.filter(entry => entry.userAgent.startsWith('updock/'));
		expect(mine.filter(entry => entry.path.includes('/blobs/'))).toEqual([]);
		expect(row(json, name('app')).links).toEqual(row(first.json, name('app')).links);
		// A new process lists again, once per repository.
		expect([...listings(mine).values()].every(pages => pages.length === 1)).toBe(true);
	});

	it.each([
		{how: '--tags off', args: ['--tags', 'off'], env: {}},
		{how: 'UPDOCK_TAGS=off', args: [], env: {UPDOCK_TAGS: 'off'}},
	])('lists no tags with $how', async ({args, env}) => {
		const seenBefore = proxy.seen.length;
		const {result: json, requests} = await requestsDuring(sandbox.open, async () => {
			const result = await updock(home, ['--once', '--json', ...args], env);
			expect(result.code, result.stderr).toBe(0);
			return z.object({containers: z.array(z.object({name: z.string(), status: z.string(), newer: z.null(), newerError: z.null()}).loose())}).parse(JSON.parse(result.stdout));
		});
		expect(requests.filter(entry => entry.path.includes('/tags/list'))).toEqual([]);
		expect(proxy.seen.slice(seenBefore).filter(entry => entry.path.includes('/tags/list'))).toEqual([]);
		for (const {name: short} of cases) {
			expect(json.containers.find(container => container.name === name(short))?.status, short).toBe('up-to-date');
		}
	});

	it('shows the newest newer version with its kind in the NEWER column of the table', async () => {
		const result = await updock(home, ['--once']);
		expect(result.code, result.stderr).toBe(0);
		const lines = result.stdout.split('\n');
		expect(lines[0]).toMatch(/^NAME\s+IMAGE\s+STATE\s+STATUS\s+NEWER\s+DETAIL$/);
		const column = lines[0]!.indexOf('NEWER');
		const line = (short: string): string => lines.find(text => text.startsWith(`${name(short)} `)) ?? '';
		expect(line('prefix-a').slice(column)).toMatch(/^v2\.0\.0 major\s/);
		expect(line('alpine').slice(column)).toMatch(/^1\.25\.4-alpine patch\s/);
		expect(line('date').slice(column)).toMatch(/^2024\.07\.15 minor\s/);
		expect(line('latest').slice(column, column + 'NEWER'.length)).toBe('     ');
		expect(result.stdout).toMatch(new RegExp(`; ${first.json.summary.newerVersions} newer versions`));
	});

	it('exits 2 with --exit-code=newer when only newer versions exist, 0 with --exit-code', async () => {
		await scene.removeContainer(name('app'));
		const withNewer = await updock(home, ['--once', '--json', '--exit-code=newer']);
		expect(withNewer.code, withNewer.stderr).toBe(2);
		const plain = await updock(home, ['--once', '--json', '--exit-code']);
		expect(plain.code, plain.stderr).toBe(0);
		const tagsOff = await updock(home, ['--once', '--json', '--exit-code=newer', '--tags', 'off']);
		expect(tagsOff.code, tagsOff.stderr).toBe(0);
	});
});
