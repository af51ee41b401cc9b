import {readFile, writeFile} from 'node:fs/promises';
import {afterAll, beforeAll, describe, expect, inject, it} from 'vitest';
import {hostPlatform} from '../helpers/images.ts';
import {requestsDuring, startRegistry, type AccessEntry, type RunningRegistry} from '../helpers/registry.ts';
import {Scene} from '../helpers/scene.ts';
import {tar} from '../helpers/tar.ts';
import {makeHome, row, scanJson, updock, type UpdockHome} from '../helpers/updock.ts';
import type {ScanJson} from '../../source/report/scan-json.ts';

const sandbox = inject('sandbox');
const otherPlatform = {os: 'linux', architecture: hostPlatform.architecture === 'arm64' ? 'amd64' : 'arm64'};

/**
 * One engine with a container for every status, scanned by the built binary against real registries.
 */
describe('updock --once against a real engine and registry', () => {
	let scene: Scene;
	let home: UpdockHome;
	let down: RunningRegistry;
	let first: {json: ScanJson; code: number; stderr: string; requests: AccessEntry[]};
	const digests: Record<string, string> = {};
	const names: Record<string, string> = {};
	const open = sandbox.open.host;

	beforeAll(async () => {
		scene = await Scene.create(sandbox, 'scan');
		home = await makeHome(sandbox);
		const ref = (repository: string, tag = '1'): string => scene.ref(open, repository, tag);

		// up to date
		digests['fresh'] = await scene.push(ref('fresh'), {marker: 'fresh-1'});
		await scene.pull(ref('fresh'));
		names['fresh'] = await scene.runContainer('fresh', ref('fresh'));
		names['fresh-stopped'] = await scene.runContainer('fresh-stopped', ref('fresh'), {start: false});

		// update available: the tag moved on in the registry
		await scene.push(ref('stale'), {marker: 'stale-1'});
		await scene.pull(ref('stale'));
		names['stale'] = await scene.runContainer('stale', ref('stale'));
		digests['stale-new'] = await scene.push(ref('stale'), {marker: 'stale-2'});

		// the tag moved locally too: the old container still runs the old image
		await scene.push(ref('moved'), {marker: 'moved-1'});
		await scene.pull(ref('moved'));
		names['moved-old'] = await scene.runContainer('moved-old', ref('moved'));
		await scene.push(ref('moved'), {marker: 'moved-2'});
		await scene.pull(ref('moved'));
		names['moved-new'] = await scene.runContainer('moved-new', ref('moved'));

		// multi-platform: only the other platform changed -> up to date
		const mine = {marker: 'multi-mine-1', platform: hostPlatform};
		await scene.push(ref('multi'), [mine, {marker: 'multi-other-1', platform: otherPlatform}]);
		await scene.pull(ref('multi'));
		names['multi-other-changed'] = await scene.runContainer('multi-other-changed', ref('multi'));
		digests['multi-new'] = await scene.push(ref('multi'), [mine, {marker: 'multi-other-2', platform: otherPlatform}]);

		// multi-platform: this platform changed -> update available
		await scene.push(ref('multimine'), [{marker: 'mm-1', platform: hostPlatform}, {marker: 'mm-other', platform: otherPlatform}]);
		await scene.pull(ref('multimine'));
		names['multi-mine-changed'] = await scene.runContainer('multi-mine-changed', ref('multimine'));
		await scene.push(ref('multimine'), [{marker: 'mm-2', platform: hostPlatform}, {marker: 'mm-other', platform: otherPlatform}]);

		// same image config re-pushed in another manifest format -> up to date
		digests['format-oci'] = await scene.push(ref('format'), {marker: 'format-1'});
		await scene.pull(ref('format'));
		names['format'] = await scene.runContainer('format', ref('format'));
		digests['format-v2s2'] = await scene.push(ref('format'), {marker: 'format-1'}, {format: 'v2s2'});

		// created from a digest, and from an image id -> pinned, no request
		names['by-digest'] = await scene.runContainer('by-digest', `${open}/scan/fresh@${digests['fresh']}`);
		const imageId = await scene.docker(['image', 'inspect', '--format', '{{.Id}}', ref('fresh')]);
		names['by-id'] = await scene.runContainer('by-id', imageId.slice('sha256:'.length, 'sha256:'.length + 12));

		// built locally -> unknown, no request
		const localTag = `updock-local/${scene.prefix}:dev`;
		const rootfs = `${sandbox.root}/scan-rootfs.tar`;
		await writeFile(rootfs, tar([{path: 'bin/'}, {path: 'bin/busybox', content: await readFile('/bin/busybox'), mode: 0o755}]));
		await scene.docker(['import', '--change', 'CMD ["/bin/busybox","sleep","3600"]', rootfs, localTag]);
		names['local'] = await scene.runContainer('local', localTag);

		// excluded -> no request for its repository
		await scene.push(ref('excluded'), {marker: 'excluded-1'});
		await scene.pull(ref('excluded'));
		names['excluded'] = await scene.runContainer('excluded', ref('excluded'));
		const exclude = await updock(home, ['exclude', 'add', `${open}/scan/excl*`]);
		expect(exclude.code, exclude.stderr).toBe(0);

		// pinned by the user -> no request
		await scene.push(ref('pinme'), {marker: 'pinme-1'});
		await scene.pull(ref('pinme'));
		names['pinned'] = await scene.runContainer('pinned', ref('pinme'));
		const pin = await updock(home, ['pin', names['pinned']]);
		expect(pin.code, pin.stderr).toBe(0);

		// the tag was deleted from the registry -> error
		const gone = await scene.push(ref('gone'), {marker: 'gone-1'});
		await scene.pull(ref('gone'));
		names['gone'] = await scene.runContainer('gone', ref('gone'));
		const deleted = await fetch(`http://${open}/v2/scan/gone/manifests/${gone}`, {method: 'DELETE'});
		expect(deleted.status).toBe(202);

		// a registry that is down -> error, and the others are still checked
		down = await startRegistry(`${sandbox.root}/scan-down`, {kind: 'none'});
		await scene.push(scene.ref(down.host, 'app'), {marker: 'down-1'});
		await scene.pull(scene.ref(down.host, 'app'));
		names['down'] = await scene.runContainer('down', scene.ref(down.host, 'app'));
		await down.stop();

		const {result: {json, code, stderr}, requests} = await requestsDuring(sandbox.open, async () => {
			const {result, json} = await scanJson(home);
			return {json, code: result.code, stderr: result.stderr};
		});
		first = {json, code, stderr, requests: requests.filter(entry => entry.userAgent.startsWith('updock/'))};
	});

	afterAll(async () => {
		await scene?.cleanup();
	});

	const status = (name: string): string => row(first.json, names[name]!).status;

	it('reports up-to-date for a container whose tag has not moved, running or not', () => {
		const fresh = row(first.json, names['fresh']!);
		expect(fresh).toMatchObject({status: 'up-to-date', localDigest: digests['fresh'], remoteDigest: digests['fresh'], reason: null, error: null, state: 'running', image: scene.ref(open, 'fresh')});
		expect(row(first.json, names['fresh-stopped']!)).toMatchObject({status: 'up-to-date', state: 'created'});
	});

	it('reports update-available when the tag moved on in the registry', () => {
		expect(row(first.json, names['stale']!)).toMatchObject({status: 'update-available', remoteDigest: digests['stale-new']});
	});

	it('compares what the container runs, not what its tag points to locally', () => {
		expect(status('moved-old')).toBe('update-available');
		expect(status('moved-new')).toBe('up-to-date');
	});

	it('ignores index changes for other platforms and reports changes for its own', () => {
		expect(row(first.json, names['multi-other-changed']!)).toMatchObject({status: 'up-to-date', remoteDigest: digests['multi-new']});
		expect(status('multi-mine-changed')).toBe('update-available');
	});

	it('treats the same image config in another manifest format as up to date', () => {
		expect(digests['format-v2s2']).not.toBe(digests['format-oci']);
		expect(row(first.json, names['format']!)).toMatchObject({status: 'up-to-date', remoteDigest: digests['format-v2s2']});
	});

	it('reports containers created from a digest or an image id as pinned', () => {
		expect(row(first.json, names['by-digest']!)).toMatchObject({status: 'pinned', localDigest: digests['fresh']});
		expect(row(first.json, names['by-id']!).status).toBe('pinned');
		expect(row(first.json, names['by-id']!).reason).toMatch(/image ID/);
	});

	it('reports a locally built image as unknown, with the reason', () => {
		expect(row(first.json, names['local']!)).toMatchObject({status: 'unknown', localDigest: null, remoteDigest: null});
		expect(row(first.json, names['local']!).reason).toMatch(/locally/);
	});

	it('honours exclusions and pins', () => {
		expect(row(first.json, names['excluded']!).status).toBe('excluded');
		expect(row(first.json, names['pinned']!).status).toBe('pinned');
		expect(row(first.json, names['pinned']!).reason).toMatch(/Pinned by you/);
	});

	it('reports a deleted tag and a registry that is down as errors, in words, and exits 1', () => {
		const gone = row(first.json, names['gone']!);
		expect(gone.status).toBe('error');
		expect(gone.error).toMatch(/Tag "1" not found in 127\.0\.0\.1:\d+\/scan\/gone/);
		const downRow = row(first.json, names['down']!);
		expect(downRow.status).toBe('error');
		expect(downRow.error).toContain(down.host);
		expect(downRow.error).toMatch(/unreachable/);
		expect(first.code).toBe(1);
	});

	it('prints the JSON contract with a summary that adds up', () => {
		const {summary, containers, scannedAt, durationMs} = first.json;
		expect(Number.isNaN(Date.parse(scannedAt))).toBe(false);
		expect(durationMs).toBeGreaterThanOrEqual(0);
		for (const container of containers) {
			expect(Object.keys(container).sort()).toEqual(['error', 'host', 'id', 'image', 'kind', 'links', 'localDigest', 'name', 'newer', 'newerError', 'reason', 'remoteDigest', 'risk', 'state', 'status', 'vulnerabilities', 'vulnerabilitiesError']);
			expect(container.name.startsWith('/')).toBe(false);
			expect(container).toMatchObject({host: 'local', kind: 'container', vulnerabilities: null, risk: null});
		}

		const mine = containers.filter(container => container.name.startsWith('scan-'));
		expect(mine).toHaveLength(Object.keys(names).length);
		expect(summary.total).toBe(containers.length);
		expect(summary.upToDate + summary.updateAvailable + summary.pinned + summary.excluded + summary.unknown + summary.error).toBe(summary.total);
		expect(summary.hosts).toEqual([{name: 'local', address: sandbox.dockerHost, state: 'ok', error: null, total: containers.length}]);
	});

	it('sends one HEAD per unique tag, GETs only where HEAD cannot decide, nothing for settled containers', () => {
		const heads = first.requests.filter(entry => entry.method === 'HEAD');
		const gets = first.requests.filter(entry => entry.method === 'GET' && entry.path.includes('/manifests/'));
		const headPaths = heads.map(entry => entry.path).sort();
		// fresh (two containers) once; moved (two containers) once; never excluded, pinned or local images
		expect(headPaths).toEqual([...new Set(headPaths)]);
		expect(headPaths).toEqual(['fresh', 'format', 'gone', 'moved', 'multi', 'multimine', 'stale'].map(repository => `/v2/scan/${repository}/manifests/1`).sort());
		expect(first.requests.some(entry => /excluded|pinme/.test(entry.path))).toBe(false);
		// GETs: the 404 body of the deleted tag; the index and child for each moved multi-platform tag;
		// the manifest of stale, moved-old and format (HEAD digest not among theirs)
		const getPaths = gets.map(entry => entry.path);
		expect(getPaths.filter(path => path.includes('/scan/fresh/'))).toEqual([]);
		expect(getPaths.filter(path => path.includes('/scan/multi/'))).toHaveLength(2);
		expect(getPaths.filter(path => path.includes('/scan/multimine/'))).toHaveLength(2);
		expect(getPaths.filter(path => path.includes('/scan/stale/'))).toHaveLength(1);
		expect(getPaths.filter(path => path.includes('/scan/moved/'))).toHaveLength(1);
		expect(getPaths.filter(path => path.includes('/scan/format/'))).toHaveLength(1);
		expect(first.requests.filter(entry => entry.path === '/v2/')).toHaveLength(1);
	});

	it('remembers what a GET taught it: the next scan sends HEADs only', async () => {
		const {result: second, requests} = await requestsDuring(sandbox.open, async () => scanJson(home));
		const mine = requests.filter(entry => entry.userAgent.startsWith('updock/'));
		expect(mine.filter(entry => entry.method === 'GET' && entry.path.includes('/manifests/') && !entry.path.includes('/scan/gone/'))).toEqual([]);
		expect(mine.filter(entry => entry.method === 'HEAD')).toHaveLength(7);
		for (const name of Object.keys(names)) {
			expect(row(second.json, names[name]!).status, name).toBe(status(name));
		}

		const saved = JSON.parse(await readFile(home.db, 'utf8')) as {lastScan: {containers: unknown[]}; platformImages: Record<string, unknown>};
		expect(saved.lastScan.containers.length).toBe(second.json.containers.length);
		expect(Object.keys(saved.platformImages).length).toBeGreaterThanOrEqual(5);
	});

	it('prints an aligned human table with a summary line, without colour when not a TTY', async () => {
		const result = await updock(home, ['--once']);
		expect(result.code).toBe(1);
		expect(result.stdout).not.toContain('\u001B[');
		const lines = result.stdout.split('\n');
		// Tags are on by default: NEWER is there, empty where nothing is newer.
		expect(lines[0]).toMatch(/^NAME\s+IMAGE\s+STATE\s+STATUS\s+NEWER\s+DETAIL$/);
		const staleLine = lines.find(line => line.startsWith(`${names['stale']} `));
		expect(staleLine).toMatch(/update available\s+[\da-f]{12} -> [\da-f]{12}/);
		expect(lines[0]!.indexOf('STATUS')).toBe(staleLine!.indexOf('update available'));
		expect(result.stdout).toMatch(/\d+ containers: \d+ update available, 2 errors, \d+ up to date/);
	});

	it('exits 2 with --exit-code when updates are available and nothing failed', async () => {
		await scene.removeContainer(names['gone']!);
		await scene.removeContainer(names['down']!);
		const plain = await updock(home, ['--once', '--json']);
		expect(plain.code).toBe(0);
		const withFlag = await updock(home, ['--once', '--json', '--exit-code']);
		expect(withFlag.code).toBe(2);
	});
});
