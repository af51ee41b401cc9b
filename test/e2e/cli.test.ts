import {mkdir, readFile, stat, writeFile} from 'node:fs/promises';
import {dirname} from 'node:path';
import {afterAll, beforeAll, describe, expect, inject, it} from 'vitest';
import {parseEngineAddress} from '../../source/docker/address.ts';
import {DockerEngine} from '../../source/docker/engine.ts';
import {requestsDuring} from '../helpers/registry.ts';
import {Scene} from '../helpers/scene.ts';
import {makeHome, row, scanJson, updock, type UpdockHome} from '../helpers/updock.ts';

const sandbox = inject('sandbox');

describe('pins, exclusions and the JSON file', () => {
	let scene: Scene;
	let home: UpdockHome;
	let image: string;

	beforeAll(async () => {
		scene = await Scene.create(sandbox, 'cli');
		home = await makeHome(sandbox);
		image = scene.ref(sandbox.open.host, 'app');
		await scene.push(image, {marker: 'cli-1'});
		await scene.pull(image);
		await scene.runContainer('web', image);
		await scene.runContainer('worker', image, {start: false});
	});

	afterAll(async () => {
		await scene?.cleanup();
	});

	it('pins by name, and the pin survives the container being recreated', async () => {
		const pin = await updock(home, ['pin', 'cli-web']);
		expect(pin.code, pin.stderr).toBe(0);
		expect(pin.stdout).toContain('Pinned cli-web');
		expect((await stat(home.db)).mode & 0o777).toBe(0o600);

		const again = await updock(home, ['pin', 'cli-web']);
		expect(again.stdout).toContain('already pinned');

		await scene.removeContainer('cli-web');
		await scene.runContainer('web', image);
		const {json} = await scanJson(home);
		expect(row(json, 'cli-web').status).toBe('pinned');
		expect(row(json, 'cli-worker').status).toBe('up-to-date');

		const pins = await updock(home, ['pins', '--json']);
		expect((JSON.parse(pins.stdout) as {pins: Array<{name: string}>}).pins.map(entry => entry.name)).toEqual(['cli-web']);
	});

	it('unpins by the id of the container as it is now', async () => {
		const id = await scene.docker(['inspect', '--format', '{{.Id}}', 'cli-web']);
		const unpin = await updock(home, ['unpin', id.slice(0, 12)]);
		expect(unpin.code, unpin.stderr).toBe(0);
		expect(unpin.stdout).toContain('Unpinned cli-web');
		const {json} = await scanJson(home);
		expect(row(json, 'cli-web').status).toBe('up-to-date');

		const notPinned = await updock(home, ['unpin', 'cli-web']);
		expect(notPinned.code).toBe(0);
		expect(notPinned.stdout).toContain('not pinned');
		const nothing = await updock(home, ['unpin', 'no-such-container']);
		expect(nothing.code).toBe(1);
		expect(nothing.stderr).toContain('no-such-container');
	});

	it('refuses to pin a container that does not exist', async () => {
		const result = await updock(home, ['pin', 'cli-nope']);
		expect(result.code).toBe(1);
		expect(result.stderr).toMatch(/no container named or with id "cli-nope"/);
	});

	it('adds, lists and removes exclusions by id or pattern', async () => {
		const added = await updock(home, ['exclude', 'add', `${sandbox.open.host}/cli/*`]);
		expect(added.code, added.stderr).toBe(0);
		const second = await updock(home, ['exclude', 'add', 'ghcr.io/acme/*']);
		expect(second.code).toBe(0);
		const duplicate = await updock(home, ['exclude', 'add', 'ghcr.io/acme/*']);
		expect(duplicate.stdout).toContain('already excluded');

		const listed = JSON.parse((await updock(home, ['exclude', 'list', '--json'])).stdout) as {exclusions: Array<{id: number; pattern: string}>};
		expect(listed.exclusions.map(exclusion => exclusion.pattern)).toEqual([`${sandbox.open.host}/cli/*`, 'ghcr.io/acme/*']);
		const [first, other] = listed.exclusions;

		const {json} = await scanJson(home);
		expect(row(json, 'cli-web').status).toBe('excluded');
		expect(row(json, 'cli-web').reason).toContain(`exclusion ${first!.id}`);

		expect((await updock(home, ['exclude', 'rm', String(first!.id)])).code).toBe(0);
		expect((await updock(home, ['exclude', 'rm', other!.pattern])).code).toBe(0);
		const missing = await updock(home, ['exclude', 'rm', '999']);
		expect(missing.code).toBe(1);
		expect(missing.stderr).toContain('999');
		const human = await updock(home, ['exclude', 'list']);
		expect(human.stdout).toMatch(/No exclusions/);

		const after = await scanJson(home);
		expect(row(after.json, 'cli-web').status).toBe('up-to-date');
	});

	it('behaves like --once when the output is not a terminal', async () => {
		const result = await updock(home, []);
		expect(result.code, result.stderr).toBe(0);
		expect(result.stdout).toMatch(/^NAME\s+IMAGE\s+STATE\s+STATUS/);
		expect(result.stdout).toMatch(/cli-web\s/);
	});

	it('dry-run lists what would be checked without sending anything', async () => {
		await updock(home, ['pin', 'cli-worker']);
		const {result, requests} = await requestsDuring(sandbox.open, async () => updock(home, ['dry-run', '--json']));
		expect(result.code, result.stderr).toBe(0);
		expect(requests).toEqual([]);
		const plan = JSON.parse(result.stdout) as {registries: Array<{registry: string; scheme: string; checks: Array<{reference: string; containers: string[]}>}>; skipped: Array<{name: string; status: string}>};
		const registry = plan.registries.find(entry => entry.registry === sandbox.open.host);
		expect(registry?.scheme).toBe('http');
		expect(registry?.checks.find(check => check.reference === image)?.containers).toEqual(['cli-web']);
		expect(plan.skipped).toContainEqual(expect.objectContaining({name: 'cli-worker', status: 'pinned'}));

		const human = await updock(home, ['dry-run']);
		expect(human.stdout).toContain(image);
		expect(human.stdout).toMatch(/nothing was sent/);
	});
});

describe('bad input gets a clear message and loses nothing', () => {
	let home: UpdockHome;

	beforeAll(async () => {
		home = await makeHome(sandbox);
	});

	it('reports a corrupt JSON file by path, exits 1 and leaves it byte for byte', async () => {
		await mkdir(dirname(home.db), {recursive: true});
		const broken = '{"pins": [ {"name": "web"'; // cut short
		await writeFile(home.db, broken);
		const before = await stat(home.db);
		for (const args of [['--once'], ['pin', 'anything'], ['exclude', 'add', 'x/*'], ['pins'], ['dry-run']]) {
			const result = await updock(home, args);
			expect(result.code, args.join(' ')).toBe(1);
			expect(result.stderr, args.join(' ')).toContain(home.db);
			expect(result.stderr, args.join(' ')).toMatch(/not valid JSON/);
		}

		expect(await readFile(home.db, 'utf8')).toBe(broken);
		expect((await stat(home.db)).mtimeMs).toBe(before.mtimeMs);
	});

	it('refuses a file of the wrong shape or from a newer updock, untouched', async () => {
		for (const content of ['{"version": 99, "pins": []}', '{"pins": "web"}', '[1, 2]']) {
			await writeFile(home.db, content);
			const result = await updock(home, ['exclude', 'add', 'ghcr.io/acme/*']);
			expect(result.code, content).toBe(1);
			expect(result.stderr, content).toContain(home.db);
			expect(await readFile(home.db, 'utf8')).toBe(content);
		}
	});

	it('reports an unreadable file and keeps keys it does not know', async () => {
		await mkdir(dirname(home.db), {recursive: true});
		await writeFile(home.db, JSON.stringify({version: 1, pins: [], exclusions: [], mine: {keep: true}}));
		expect((await updock(home, ['exclude', 'add', 'ghcr.io/acme/*'])).code).toBe(0);
		const saved = JSON.parse(await readFile(home.db, 'utf8')) as {mine: unknown; exclusions: unknown[]};
		expect(saved.mine).toEqual({keep: true});
		expect(saved.exclusions).toHaveLength(1);

		// A path that cannot be read as a file (root reads anything, so a directory stands in for "unreadable").
		const other = await makeHome(sandbox);
		await mkdir(other.db, {recursive: true});
		const result = await updock(other, ['pins']);
		expect(result.code).toBe(1);
		expect(result.stderr).toContain(other.db);
		expect(result.stderr).toMatch(/Cannot read/);
	});

	it('exits 64 naming the flag or variable for usage errors', async () => {
		const cases: Array<[string[], NodeJS.ProcessEnv, RegExp]> = [
			[['--once', '--frobnicate'], {}, /--frobnicate/],
			[['--once', '--concurrency', '0'], {}, /--concurrency/],
			[['--once', '--concurrency', 'lots'], {}, /--concurrency/],
			[['--once', '--timeout', '10 seconds'], {}, /--timeout.*Go duration/],
			[['--once'], {UPDOCK_UPDATE_INTERVAL: 'daily'}, /UPDOCK_UPDATE_INTERVAL.*Go duration/],
			[['--once'], {UPDOCK_UPDATE_INTERVAL: '0s'}, /UPDOCK_UPDATE_INTERVAL/],
			[['--once', '--interval', '5'], {}, /--interval/],
			[['frobnicate'], {}, /Unknown command "frobnicate"/],
			[['pin'], {}, /needs a container/],
			[['exclude', 'add', 'has spaces in it'], {}, /not an image pattern/],
			[['exclude'], {}, /add <pattern>, list, or rm/],
			[['pins', '--exit-code'], {}, /--exit-code/],
			[['--once'], {DOCKER_HOST: 'npipe:////./pipe/docker_engine'}, /DOCKER_HOST/],
		];
		for (const [args, env, message] of cases) {
			const result = await updock(home, args, env);
			expect(result.code, args.join(' ')).toBe(64);
			expect(result.stderr, args.join(' ')).toMatch(message);
			expect(result.stdout, args.join(' ')).toBe('');
		}
	});

	it('accepts Go durations for the interval and timeout', async () => {
		const result = await updock(home, ['dry-run', '--timeout', '1m30s'], {UPDOCK_UPDATE_INTERVAL: '1h30m'});
		expect(result.code, result.stderr).toBe(0);
	});

	it('names the engine address it could not reach, and exits 1', async () => {
		const missing = await updock(home, ['--once'], {DOCKER_HOST: 'unix:///tmp/updock-no-such-engine.sock'});
		expect(missing.code).toBe(1);
		expect(missing.stderr).toContain('unix:///tmp/updock-no-such-engine.sock');
		expect(missing.stderr).toMatch(/Is dockerd running/);

		const refused = await updock(home, ['--once', '--json'], {DOCKER_HOST: 'tcp://127.0.0.1:1'});
		expect(refused.code).toBe(1);
		expect(refused.stderr).toContain('tcp://127.0.0.1:1');
		expect(refused.stdout).toBe('');
	});
});

describe('what the engine says about registries', () => {
	it('reads the insecure registry CIDRs from a real /info', async () => {
		const address = parseEngineAddress(sandbox.dockerHost);
		if ('error' in address) {
			throw new Error(address.error);
		}

		const engine = new DockerEngine({name: 'local', address, timeoutMs: 5000});
		try {
			// dockerd's default: loopback is insecure; nothing is marked insecure by name.
			expect(await engine.insecureRegistries()).toEqual({registries: [], cidrs: expect.arrayContaining(['127.0.0.0/8'])});
			expect(await engine.imageStore()).toBe('classic');
		} finally {
			await engine.close();
		}
	});
});
