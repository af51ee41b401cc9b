import {join} from 'node:path';
import {afterAll, beforeAll, describe, expect, inject, it} from 'vitest';
import {docker, startDockerd, type Dockerd} from '../helpers/dockerd.ts';
import {waitFor} from '../helpers/process.ts';
import {accessLog} from '../helpers/registry.ts';
import {Scene} from '../helpers/scene.ts';
import {Terminal} from '../helpers/tmux.ts';
import {makeHome, updockBin} from '../helpers/updock.ts';

const sandbox = inject('sandbox');

/** A row of the live view: the selection marker or a space, the host in the HOST column, then the container's name. */
function hostRow(host: string, name: string): RegExp {
	return new RegExp(`^[\\s›]*${host}\\s+.*\\b${name}\\b`, 'm');
}

/**
 * The live view over two engines: the shared sandbox engine (alpha) and a second dockerd of this
 * file's own (beta), which is stopped and started again while the view runs.
 */
describe('the live view with two hosts', () => {
	let scene: Scene;
	let beta: Dockerd;
	let terminal: Terminal;
	const betaRoot = join(sandbox.root, 'tui-hosts-beta');
	const ref = (repository: string): string => scene.ref(sandbox.open.host, repository);
	const runOnBeta = async (): Promise<void> => {
		await docker(beta.host, ['pull', '--quiet', ref('api')]);
		await docker(beta.host, ['run', '-d', '--network', 'none', '--name', 'tuih-api', ref('api')]);
	};

	beforeAll(async () => {
		scene = await Scene.create(sandbox, 'tuih');
		beta = await startDockerd(betaRoot);
		await scene.push(ref('web'), {marker: 'tuih-web-1'});
		await scene.push(ref('api'), {marker: 'tuih-api-1'});
		await scene.pull(ref('web'));
		await scene.runContainer('web', ref('web'));
		await runOnBeta();
		await scene.push(ref('api'), {marker: 'tuih-api-2'});
		const home = await makeHome(sandbox);
		terminal = await Terminal.start(home.dir, [process.execPath, updockBin, '--host', `alpha=${sandbox.dockerHost}`, '--host', `beta=${beta.host}`], home.env, 120, 30);
	});

	const headsFor = async (repository: string): Promise<number> => (await accessLog(sandbox.open.logPath)).filter(entry => entry.method === 'HEAD' && entry.userAgent.startsWith('updock/') && entry.path === `/v2/tuih/${repository}/manifests/1`).length;

	afterAll(async () => {
		await terminal?.kill();
		await beta?.stop();
		await scene?.cleanup();
	});

	it('shows a HOST column and the rows of both hosts', async () => {
		const screen = await terminal.waitForScreen(text => /last scan/.test(text) && hostRow('alpha', 'tuih-web').test(text) && hostRow('beta', 'tuih-api').test(text), 'rows from both hosts');
		expect(screen).toMatch(/^\s*HOST\s+.*NAME/m);
		expect(screen).toMatch(/↑ update\s+tuih-api|tuih-api.*↑ update/);
		expect(screen).toMatch(/2 hosts: alpha, beta/);
	});

	it('names the host that went away in a banner and keeps the other host\'s rows', async () => {
		await beta.stop();
		await terminal.waitForScreen(text => /^! beta: Lost the Docker engine at unix:\/\/.*tui-hosts-beta\/docker\.sock/m.test(text), 'the banner naming beta', 30_000);
		// A scan while beta is away still checks alpha's container, and its row stays.
		const before = await headsFor('web');
		await terminal.keys('s');
		await waitFor('a HEAD for tuih/web while beta is away', async () => (await headsFor('web')) > before, 30_000);
		const screen = await terminal.waitForScreen(text => /^! beta: /m.test(text) && /✓ up to date\s+tuih-web/.test(text), 'alpha\'s row under the banner');
		expect(screen).not.toMatch(/alpha:/);
	});

	it('drops the banner when the host is back, and shows its rows again', async () => {
		beta = await startDockerd(betaRoot);
		await runOnBeta();
		await terminal.waitForScreen(text => !/! beta/.test(text) && hostRow('beta', 'tuih-api').test(text) && hostRow('alpha', 'tuih-web').test(text), 'the banner gone and both hosts\' rows', 60_000);
		await terminal.keys('q');
		expect(await terminal.exitCode()).toBe(0);
	});
});
