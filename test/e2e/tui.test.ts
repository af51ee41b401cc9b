import {readFile} from 'node:fs/promises';
import {join} from 'node:path';
import {afterAll, beforeAll, describe, expect, inject, it} from 'vitest';
import {startDockerd} from '../helpers/dockerd.ts';
import {accessLog} from '../helpers/registry.ts';
import {Scene} from '../helpers/scene.ts';
import {Terminal} from '../helpers/tmux.ts';
import {makeHome, updockBin, type UpdockHome} from '../helpers/updock.ts';
import {waitFor} from '../helpers/process.ts';

const sandbox = inject('sandbox');

describe('the live view in a real terminal', () => {
	let scene: Scene;
	let home: UpdockHome;
	let terminal: Terminal;

	beforeAll(async () => {
		scene = await Scene.create(sandbox, 'tui');
		home = await makeHome(sandbox);
		const ref = (repository: string): string => scene.ref(sandbox.open.host, repository);
		for (const name of ['web', 'api']) {
			await scene.push(ref(name), {marker: `tui-${name}-1`});
			await scene.pull(ref(name));
			await scene.runContainer(name, ref(name));
		}

		await scene.push(ref('api'), {marker: 'tui-api-2'});
		terminal = await Terminal.start(home.dir, [process.execPath, updockBin], home.env, 120, 32);
	});

	afterAll(async () => {
		await terminal?.kill();
		await scene?.cleanup();
	});

	const headsFor = async (repository: string): Promise<number> => (await accessLog(sandbox.open.logPath)).filter(entry => entry.method === 'HEAD' && entry.userAgent.startsWith('updock/') && entry.path === `/v2/tui/${repository}/manifests/1`).length;

	it('shows the table and scans at start', async () => {
		const screen = await terminal.waitForScreen(text => /tui-api .*↑ update|↑ update\s+tui-api/.test(text) && /tui-web/.test(text) && /last scan/.test(text), 'the first scan in the table');
		expect(screen).toMatch(/updock {2}↑1 update/);
		expect(screen).toMatch(/s scan {2}p pin/);
		expect(await headsFor('api')).toBe(1);
	});

	it('scans again on s', async () => {
		await terminal.keys('s');
		await waitFor('a second HEAD for tui/api', async () => (await headsFor('api')) === 2, 10_000);
		await terminal.waitForScreen(text => /last scan/.test(text) && !/scanning:/.test(text), 'the scan to finish');
	});

	it('pins the selected container with p, in the JSON file too', async () => {
		// The first row is the update (tui-api): pin it.
		await terminal.keys('g', 'p');
		await terminal.waitForScreen(text => /= pinned\s+tui-api/.test(text), 'tui-api pinned on screen');
		await waitFor('the pin in the JSON file', async () => {
			const saved = JSON.parse(await readFile(home.db, 'utf8').catch(() => '{}')) as {pins?: Array<{name: string}>};
			return saved.pins?.some(pin => pin.name === 'tui-api') === true;
		}, 10_000);
	});

	it('shows a container created meanwhile, checked without waiting for the interval', async () => {
		await scene.runContainer('late', scene.ref(sandbox.open.host, 'web'));
		await terminal.waitForScreen(text => /✓ up to date\s+tui-late/.test(text), 'the new container, checked');
	});

	const savedScanAt = async (): Promise<string | undefined> => (JSON.parse(await readFile(home.db, 'utf8')) as {lastScan?: {scannedAt?: string}}).lastScan?.scannedAt;
	/** Press s and wait until that scan is over: one more HEAD for tui/web, and the table no longer scanning. */
	const scanAgain = async (): Promise<void> => {
		const heads = await headsFor('web');
		await terminal.keys('s');
		await waitFor('one more HEAD for tui/web', async () => (await headsFor('web')) === heads + 1, 10_000);
		await terminal.waitForScreen(text => /last scan/.test(text) && !/scanning:/.test(text), 'the scan to finish');
	};

	let quietScanSaved: string | undefined;
	it('saves a scan that tells something new at once, and holds one that found the same', async () => {
		const before = await savedScanAt();
		// The last save was the partial scan of tui-late alone: three rows are news.
		await scanAgain();
		await waitFor('the full scan in the JSON file', async () => (await savedScanAt()) !== before, 10_000);
		quietScanSaved = await savedScanAt();
		await scanAgain();
		// Time for a write that should not come.
		await new Promise(resolve => {
			setTimeout(resolve, 1500);
		});
		expect(await savedScanAt()).toBe(quietScanSaved);
	});

	it('quits on q with status 0, saving the scan it held', async () => {
		await terminal.keys('q');
		expect(await terminal.exitCode()).toBe(0);
		const saved = await savedScanAt();
		expect(saved).toBeDefined();
		expect(saved! > quietScanSaved!).toBe(true);
	});
});

describe('the live view when the engine goes away', () => {
	it('shows a banner, keeps running, and reconnects when the engine is back', async () => {
		const root = join(sandbox.root, 'tui-engine');
		let engine = await startDockerd(root);
		const home = await makeHome({root: sandbox.root, dockerHost: engine.host});
		const terminal = await Terminal.start(home.dir, [process.execPath, updockBin], home.env, 120, 30);
		try {
			await terminal.waitForScreen(text => /\(0 containers\)/.test(text) && /last scan/.test(text), 'the first scan of an empty engine');
			await engine.stop();
			await terminal.waitForScreen(text => /! Lost the Docker engine at unix:\/\/.*Retrying in/.test(text), 'the banner');
			engine = await startDockerd(root);
			await terminal.waitForScreen(text => !/Lost the Docker engine/.test(text) && /last scan/.test(text), 'the banner gone after reconnecting', 60_000);
			await terminal.keys('q');
			expect(await terminal.exitCode()).toBe(0);
		} finally {
			await terminal.kill();
			await engine.stop();
		}
	});
});
