import {mkdir, readFile, writeFile} from 'node:fs/promises';
import {dirname, join} from 'node:path';
import {afterAll, beforeAll, describe, expect, inject, it} from 'vitest';
import {writeDockerContext} from '../helpers/contexts.ts';
import {docker} from '../helpers/dockerd.ts';
import {requestsDuring, type AccessEntry} from '../helpers/registry.ts';
import {Scene} from '../helpers/scene.ts';
import {startTlsDockerd, type TlsDockerd} from '../helpers/tls-dockerd.ts';
import {makeHome, scanJson, updock, type UpdockHome} from '../helpers/updock.ts';
import type {ScanJson} from '../../source/report/scan-json.ts';

const sandbox = inject('sandbox');

/** The row of `name` on `host`, failing clearly when it is missing. */
function rowOn(json: ScanJson, host: string, name: string): ScanJson['containers'][number] {
	const found = json.containers.find(container => container.host === host && container.name === name);
	if (found === undefined) {
		throw new Error(`no container "${name}" on host "${host}"; the scan has ${json.containers.map(container => `${container.host}/${container.name}`).join(', ')}`);
	}

	return found;
}

/** HEADs updock sent, by path. */
function headsByPath(requests: readonly AccessEntry[]): Map<string, number> {
	const heads = new Map<string, number>();
	for (const entry of requests) {
		if (entry.method === 'HEAD' && entry.userAgent.startsWith('updock/')) {
			heads.set(entry.path, (heads.get(entry.path) ?? 0) + 1);
		}
	}

	return heads;
}

/**
 * Two real engines, the sandbox's (over its unix socket) and a second one over TCP with mutual TLS,
 * running the same images from one registry; a third address that nothing answers.
 */
describe('several hosts in one scan', () => {
	let scene: Scene;
	let tls: TlsDockerd;
	let home: UpdockHome;
	const a = sandbox.dockerHost;
	const down = 'unix:///nonexistent/updock-hosts-down.sock';
	const ids: Record<string, string> = {};

	beforeAll(async () => {
		scene = await Scene.create(sandbox, 'hosts');
		tls = await startTlsDockerd(join(sandbox.root, 'hosts-tls'));
		home = await makeHome(sandbox);
		const ref = (repository: string): string => scene.ref(sandbox.open.host, repository);
		await scene.push(ref('web'), {marker: 'hosts-web-1'});
		await scene.push(ref('api'), {marker: 'hosts-api-1'});
		await scene.push(ref('solo'), {marker: 'hosts-solo-1'});
		// The same images, pulled and run on both engines (the second one set up over its own socket).
		for (const repository of ['web', 'api', 'solo']) {
			await scene.pull(ref(repository));
			ids[`alpha/${repository}`] = await scene.docker(['inspect', '--format', '{{.Id}}', await scene.runContainer(repository, ref(repository))]);
		}

		for (const repository of ['web', 'api']) {
			await docker(tls.socketHost, ['pull', '--quiet', ref(repository)]);
			ids[`beta/${repository}`] = await docker(tls.socketHost, ['run', '-d', '--network', 'none', '--name', `hosts-${repository}`, ref(repository)]);
		}

		// The tag moved on in the registry: both engines run the old api.
		await scene.push(ref('api'), {marker: 'hosts-api-2'});
		// Host b as `docker context create` leaves it, with its TLS material copied into the context store.
		await writeDockerContext(home.dockerConfig, 'beta', {host: tls.host, tls: {ca: join(tls.certPath, 'ca.pem'), cert: join(tls.certPath, 'cert.pem'), key: join(tls.certPath, 'key.pem')}});
	});

	afterAll(async () => {
		await scene?.cleanup();
		await tls?.stop();
	});

	it('two hosts: every row carries its host, summary.hosts totals each, and one HEAD per unique reference', async () => {
		const {result: {result, json}, requests} = await requestsDuring(sandbox.open, async () => scanJson(home, ['--host', `alpha=${a}`, '--context', 'beta']));
		expect(result.code, result.stderr).toBe(0);
		expect(json.summary.hosts).toEqual([
			{name: 'alpha', address: a, state: 'ok', error: null, total: 3},
			{name: 'beta', address: tls.host, state: 'ok', error: null, total: 2},
		]);
		expect(json.containers.map(container => `${container.host}/${container.name}`).sort()).toEqual(['alpha/hosts-api', 'alpha/hosts-solo', 'alpha/hosts-web', 'beta/hosts-api', 'beta/hosts-web']);
		for (const container of json.containers) {
			expect(container.kind).toBe('container');
			expect(ids[`${container.host}/${container.name.replace(/^hosts-/, '')}`]).toBe(container.id);
		}

		expect(rowOn(json, 'alpha', 'hosts-web').status).toBe('up-to-date');
		expect(rowOn(json, 'beta', 'hosts-web').status).toBe('up-to-date');
		expect(rowOn(json, 'alpha', 'hosts-api').status).toBe('update-available');
		expect(rowOn(json, 'beta', 'hosts-api').status).toBe('update-available');
		// Five containers, three unique references: three HEADs, whichever engine runs them.
		expect(headsByPath(requests)).toEqual(new Map([
			['/v2/hosts/web/manifests/1', 1],
			['/v2/hosts/api/manifests/1', 1],
			['/v2/hosts/solo/manifests/1', 1],
		]));
	});

	it('three hosts with one down: that host is an error sentence, the others are scanned, exit status 1', async () => {
		const {result, json} = await scanJson(home, ['--host', `alpha=${a}`, '--host', `down=${down}`, '--context', 'beta']);
		expect(result.code, result.stderr).toBe(1);
		const [first, second, third] = json.summary.hosts;
		expect(first).toEqual({name: 'alpha', address: a, state: 'ok', error: null, total: 3});
		expect(second).toMatchObject({name: 'down', address: down, state: 'error', total: 0});
		expect(second?.error).toMatch(/nonexistent\/updock-hosts-down\.sock/);
		expect(third).toEqual({name: 'beta', address: tls.host, state: 'ok', error: null, total: 2});
		expect(json.containers.map(container => `${container.host}/${container.name}`).sort()).toEqual(['alpha/hosts-api', 'alpha/hosts-solo', 'alpha/hosts-web', 'beta/hosts-api', 'beta/hosts-web']);
		expect(json.summary.updateAvailable).toBe(2);
		expect(json.summary.upToDate).toBe(3);
	});

	it('the table shows a HOST column when there are several hosts, and names the host that failed', async () => {
		const result = await updock(home, ['--once', '--host', `alpha=${a}`, '--host', `down=${down}`, '--context', 'beta']);
		expect(result.code, result.stderr).toBe(1);
		expect(result.stdout).toMatch(/HOST/);
		expect(result.stdout).toMatch(/^.*\bbeta\b.*hosts-api.*$/m);
		expect(result.stdout).toMatch(/^! down \(unix:\/\/\/nonexistent\/updock-hosts-down\.sock\): .*nonexistent\/updock-hosts-down\.sock/m);
	});

	it('host add, list and rm round-trip, and the saved hosts are scanned when no --host is given', async () => {
		const saved = await makeHome(sandbox);
		const addA = await updock(saved, ['host', 'add', 'alpha', a]);
		expect(addA.code, addA.stderr).toBe(0);
		const addB = await updock(saved, ['host', 'add', 'beta', tls.host, '--tls-verify', '--cert-path', tls.certPath]);
		expect(addB.code, addB.stderr).toBe(0);
		const again = await updock(saved, ['host', 'add', 'beta', tls.host]);
		expect(again.code).toBe(64);
		expect(again.stderr).toMatch(/already saved/);

		const listed = await updock(saved, ['host', 'list', '--json']);
		expect(listed.code, listed.stderr).toBe(0);
		const {hosts} = JSON.parse(listed.stdout) as {hosts: Array<{name: string; address: string; tlsVerify?: boolean; certPath?: string}>};
		expect(hosts.map(({name, address, tlsVerify, certPath}) => ({name, address, tlsVerify, certPath}))).toEqual([
			{name: 'alpha', address: a, tlsVerify: false, certPath: undefined},
			{name: 'beta', address: tls.host, tlsVerify: true, certPath: tls.certPath},
		]);
		const table = await updock(saved, ['host', 'list']);
		expect(table.stdout).toMatch(/^beta\s+tcp:\/\/127\.0\.0\.1:\d+\s+verify/m);

		const both = await scanJson(saved);
		expect(both.result.code, both.result.stderr).toBe(0);
		expect(both.json.summary.hosts.map(host => [host.name, host.state, host.total])).toEqual([['alpha', 'ok', 3], ['beta', 'ok', 2]]);
		expect(new Set(both.json.containers.map(container => container.host))).toEqual(new Set(['alpha', 'beta']));

		const removed = await updock(saved, ['host', 'rm', 'beta']);
		expect(removed.code, removed.stderr).toBe(0);
		const missing = await updock(saved, ['host', 'rm', 'beta']);
		expect(missing.code).toBe(1);
		expect(JSON.parse((await updock(saved, ['host', 'list', '--json'])).stdout)).toMatchObject({hosts: [{name: 'alpha', address: a}]});
		const one = await scanJson(saved);
		expect(one.json.summary.hosts.map(host => host.name)).toEqual(['alpha']);
		expect(new Set(one.json.containers.map(container => container.host))).toEqual(new Set(['alpha']));
	});

	describe('pins with host names', () => {
		let pins: UpdockHome;
		const scan = async (): Promise<ScanJson> => {
			const {result, json} = await scanJson(pins);
			expect(result.code, result.stderr).toBe(0);
			return json;
		};

		beforeAll(async () => {
			pins = await makeHome(sandbox);
			expect((await updock(pins, ['host', 'add', 'alpha', a])).code).toBe(0);
			expect((await updock(pins, ['host', 'add', 'beta', tls.host, '--tls-verify', '--cert-path', tls.certPath])).code).toBe(0);
		});

		it('pins host/name on that host only', async () => {
			const pinned = await updock(pins, ['pin', 'alpha/hosts-web']);
			expect(pinned.code, pinned.stderr).toBe(0);
			expect(pinned.stdout).toMatch(/Pinned alpha\/hosts-web/);
			const json = await scan();
			expect(rowOn(json, 'alpha', 'hosts-web').status).toBe('pinned');
			expect(rowOn(json, 'beta', 'hosts-web').status).toBe('up-to-date');
			const saved = JSON.parse(await readFile(pins.db, 'utf8')) as {pins: Array<{host?: string; name: string; containerId: string}>};
			expect(saved.pins).toMatchObject([{host: 'alpha', name: 'hosts-web', containerId: ids['alpha/web']}]);
		});

		it('pins a bare name that exactly one host has', async () => {
			const pinned = await updock(pins, ['pin', 'hosts-solo']);
			expect(pinned.code, pinned.stderr).toBe(0);
			expect(rowOn(await scan(), 'alpha', 'hosts-solo').status).toBe('pinned');
		});

		it('refuses a bare name that several hosts have with status 64, listing them', async () => {
			const refused = await updock(pins, ['pin', 'hosts-api']);
			expect(refused.code).toBe(64);
			expect(refused.stderr).toMatch(/alpha\/hosts-api/);
			expect(refused.stderr).toMatch(/beta\/hosts-api/);
			const json = await scan();
			expect(rowOn(json, 'alpha', 'hosts-api').status).toBe('update-available');
			expect(rowOn(json, 'beta', 'hosts-api').status).toBe('update-available');
		});

		it('unpins host/name', async () => {
			const unpinned = await updock(pins, ['unpin', 'alpha/hosts-web']);
			expect(unpinned.code, unpinned.stderr).toBe(0);
			const json = await scan();
			expect(rowOn(json, 'alpha', 'hosts-web').status).toBe('up-to-date');
			expect(rowOn(json, 'alpha', 'hosts-solo').status).toBe('pinned');
		});
	});

	it('a pin saved without a host keeps working for the default engine, named local', async () => {
		const legacy = await makeHome(sandbox);
		await mkdir(dirname(legacy.db), {recursive: true});
		await writeFile(legacy.db, JSON.stringify({version: 1, pins: [{name: 'hosts-api', containerId: ids['alpha/api'], pinnedAt: '2026-01-01T00:00:00.000Z'}], exclusions: [], nextExclusionId: 1}));
		const {result, json} = await scanJson(legacy);
		expect(result.code, result.stderr).toBe(0);
		expect(json.summary.hosts.map(host => host.name)).toEqual(['local']);
		expect(rowOn(json, 'local', 'hosts-api').status).toBe('pinned');
		expect(rowOn(json, 'local', 'hosts-web').status).toBe('up-to-date');
		// Named with its host, the engine's default name finds it too.
		const unpinned = await updock(legacy, ['unpin', 'local/hosts-api']);
		expect(unpinned.code, unpinned.stderr).toBe(0);
		expect(rowOn((await scanJson(legacy)).json, 'local', 'hosts-api').status).toBe('update-available');
	});
});
