import type {ChildProcess} from 'node:child_process';
import {mkdir, readFile, rm} from 'node:fs/promises';
import {request} from 'node:http';
import {join} from 'node:path';
import {must, run, startLogged, stopProcess, waitFor} from './process.ts';

export interface Dockerd {
	readonly socket: string;
	readonly host: string;
	readonly root: string;
	readonly logPath: string;
	/** The dockerd process, so a test can check that `stop()` left nothing running. */
	readonly pid: number;
	stop(): Promise<void>;
}

export interface DockerdOptions {
	/** More dockerd flags, such as another `-H` listener with its TLS flags. */
	readonly extraArgs?: readonly string[];
}

async function ping(socketPath: string): Promise<boolean> {
	return new Promise(resolve => {
		const req = request({socketPath, path: '/_ping', method: 'GET', timeout: 1000}, response => {
			response.resume();
			resolve(response.statusCode === 200);
		});
		req.on('error', () => resolve(false));
		req.on('timeout', () => {
			req.destroy();
			resolve(false);
		});
		req.end();
	});
}

/** Unmount everything left under `root`, deepest first (dockerd leaves shm and netns mounts behind). */
async function unmountUnder(root: string): Promise<void> {
	const mountinfo = await readFile('/proc/self/mountinfo', 'utf8').catch(() => '');
	const points = mountinfo.split('\n').map(line => line.split(' ')[4]).filter((point): point is string => point !== undefined && (point === root || point.startsWith(`${root}/`)));
	for (const point of points.sort((a, b) => b.length - a.length)) {
		await run('umount', ['-l', point]);
	}
}

/**
 * Start a private dockerd: its own data and exec roots and socket under `root`, no iptables, no bridge,
 * vfs storage, so it never collides with anything on the machine. Containers need --network none.
 */
export async function startDockerd(root: string, options: DockerdOptions = {}): Promise<Dockerd> {
	if (process.getuid?.() !== 0) {
		throw new Error('The test sandbox starts its own dockerd, which needs root.');
	}

	await mkdir(root, {recursive: true});
	const socket = join(root, 'docker.sock');
	const logPath = join(root, 'dockerd.log');
	const child: ChildProcess = startLogged('dockerd', [
		'--data-root', join(root, 'data'),
		'--exec-root', join(root, 'exec'),
		'--pidfile', join(root, 'dockerd.pid'),
		'-H', `unix://${socket}`,
		'--iptables=false',
		'--ip6tables=false',
		'--bridge=none',
		'--storage-driver=vfs',
		...(options.extraArgs ?? []),
	], logPath);
	let exited = false;
	child.on('exit', () => {
		exited = true;
	});
	try {
		await waitFor('dockerd to answer /_ping', async () => {
			if (exited) {
				throw new Error(`dockerd exited while starting:\n${await readFile(logPath, 'utf8').catch(() => '')}`);
			}

			return ping(socket);
		}, 60_000, 100);
	} catch (error) {
		await stopProcess(child, 5000);
		await unmountUnder(root);
		throw error;
	}

	const host = `unix://${socket}`;
	return {
		socket,
		host,
		root,
		logPath,
		pid: child.pid ?? 0,
		async stop() {
			// Removing the containers first is quick; dockerd would otherwise stop each for up to 10 s.
			const ids = await run('docker', ['-H', host, 'ps', '-aq']);
			const list = ids.stdout.split('\n').filter(Boolean);
			if (list.length > 0) {
				await run('docker', ['-H', host, 'rm', '-f', ...list], {timeoutMs: 120_000});
			}

			await stopProcess(child, 30_000);
			await unmountUnder(root);
			await rm(root, {recursive: true, force: true, maxRetries: 3});
		},
	};
}

/** The docker CLI against a sandbox engine. */
export async function docker(host: string, args: readonly string[], config?: string): Promise<string> {
	const prefix = config === undefined ? ['-H', host] : ['--config', config, '-H', host];
	return (await must('docker', [...prefix, ...args], {timeoutMs: 180_000})).trim();
}
