import {afterAll, beforeAll, describe, expect, inject, it} from 'vitest';
import {requestsDuring} from '../helpers/registry.ts';
import {Scene} from '../helpers/scene.ts';
import {startCountingProxy, type CountingProxy} from '../helpers/tcp-proxy.ts';
import {makeHome, row, scanJson, type UpdockHome} from '../helpers/updock.ts';

const sandbox = inject('sandbox');

describe('request economy on a real registry', () => {
	let scene: Scene;
	let home: UpdockHome;
	let proxy: CountingProxy;
	const tags = 12;

	beforeAll(async () => {
		scene = await Scene.create(sandbox, 'econ');
		home = await makeHome(sandbox);
		// The registry is reached through a proxy that counts TCP connections; image references name the proxy.
		proxy = await startCountingProxy(sandbox.open.host);
		for (let index = 0; index < tags; index++) {
			const reference = scene.ref(proxy.host, `app${index}`);
			await scene.push(reference, {marker: `econ-${index}`});
			await scene.pull(reference);
			await scene.runContainer(`c${index}`, reference, {start: false});
		}

		// Three more containers on one tag: still one HEAD for it.
		for (const name of ['twin-a', 'twin-b', 'twin-c']) {
			await scene.runContainer(name, scene.ref(proxy.host, 'app0'), {start: false});
		}
	});

	afterAll(async () => {
		await scene?.cleanup();
		await proxy?.close();
	});

	it('sends one HEAD per unique tag over reused keep-alive connections, within the concurrency limit', async () => {
		const before = proxy.connections();
		// Newer versions off: this is about the verdicts' requests (the listings are counted in versions.test.ts).
		const {result: {result, json}, requests} = await requestsDuring(sandbox.open, async () => scanJson(home, ['--concurrency', '2', '--tags', 'off']));
		expect(result.code, result.stderr).toBe(0);
		const mine = json.containers.filter(container => container.name.startsWith('econ-'));
		expect(mine).toHaveLength(tags + 3);
		expect(mine.every(container => container.status === 'up-to-date')).toBe(true);

		const updockRequests = requests.filter(entry => entry.userAgent.startsWith('updock/'));
		const heads = updockRequests.filter(entry => entry.method === 'HEAD');
		expect(heads).toHaveLength(tags);
		expect(updockRequests.filter(entry => entry.method === 'GET' && entry.path !== '/v2/')).toEqual([]);
		// 13 requests (a ping and 12 HEADs) over at most 2 connections: HEADs did not close them.
		expect(proxy.connections() - before).toBeLessThanOrEqual(2);
	});

	it('with newer versions on, adds one tag listing per repository over the pool of HEADs and listings', async () => {
		const before = proxy.connections();
		const {result: {result, json}, requests} = await requestsDuring(sandbox.open, async () => scanJson(home, ['--concurrency', '2']));
		expect(result.code, result.stderr).toBe(0);
		const mine = json.containers.filter(container => container.name.startsWith('econ-'));
		expect(mine).toHaveLength(tags + 3);
		// Every tag is `1` and the only one: looked for, nothing newer.
		expect(mine.every(container => container.status === 'up-to-date' && container.newerError === null && container.newer?.length === 0)).toBe(true);

		const updockRequests = requests.filter(entry => entry.userAgent.startsWith('updock/'));
		expect(updockRequests.filter(entry => entry.method === 'HEAD')).toHaveLength(tags);
		const gets = updockRequests.filter(entry => entry.method === 'GET' && entry.path !== '/v2/');
		const listed = gets.map(entry => /^\/v2\/(.+)\/tags\/list(?:\?|$)/.exec(entry.path)?.[1] ?? entry.path);
		expect(listed.sort()).toEqual(Array.from({length: tags}, (_, index) => `${scene.prefix}/app${index}`).sort());
		// 25 requests (a ping, 12 HEADs, 12 listings) over at most 2 + 2 connections: the HEADs' and the listings'.
		expect(proxy.connections() - before).toBeLessThanOrEqual(4);
	});
});

describe('a registry that accepts connections and never answers', () => {
	let scene: Scene;
	let home: UpdockHome;
	let proxy: CountingProxy;

	beforeAll(async () => {
		scene = await Scene.create(sandbox, 'hang');
		home = await makeHome(sandbox);
		proxy = await startCountingProxy(sandbox.open.host);
		for (const name of ['one', 'two', 'three']) {
			await scene.push(scene.ref(proxy.host, name), {marker: `hang-${name}`});
			await scene.pull(scene.ref(proxy.host, name));
			await scene.runContainer(name, scene.ref(proxy.host, name), {start: false});
		}

		await scene.push(scene.ref(sandbox.open.host, 'healthy'), {marker: 'hang-healthy'});
		await scene.pull(scene.ref(sandbox.open.host, 'healthy'));
		await scene.runContainer('healthy', scene.ref(sandbox.open.host, 'healthy'), {start: false});
		proxy.hang();
	});

	afterAll(async () => {
		await scene?.cleanup();
		await proxy?.close();
	});

	it('times out its rows with a clear error and still checks the others', async () => {
		const {result, json} = await scanJson(home, ['--timeout', '1s']);
		expect(result.code).toBe(1);
		expect(row(json, 'hang-healthy').status).toBe('up-to-date');
		for (const name of ['one', 'two', 'three']) {
			const entry = row(json, `hang-${name}`);
			expect(entry.status).toBe('error');
			expect(entry.error).toContain(proxy.host);
			expect(entry.error).toMatch(/did not answer within 1 s.*--timeout/);
		}
	});
});
