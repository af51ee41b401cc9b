import {execFile, spawn, type ChildProcess} from 'node:child_process';
import {once} from 'node:events';
import {createServer} from 'node:net';
import {appendFileSync, closeSync, openSync} from 'node:fs';

/**
 * The environment for the sandbox's programs: dockerd, runc and friends live in sbin directories that
 * a non-login PATH may lack.
 */
export function systemEnv(env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
	const path = (env['PATH'] ?? '').split(':').filter(Boolean);
	for (const directory of ['/usr/local/sbin', '/usr/sbin', '/sbin', '/usr/local/bin', '/usr/bin', '/bin']) {
		if (!path.includes(directory)) {
			path.push(directory);
		}
	}

	return {...env, PATH: path.join(':')};
}

export interface RunResult {
	readonly code: number;
	readonly stdout: string;
	readonly stderr: string;
}

/** Run a command to completion; never throws for a non-zero exit. */
export async function run(file: string, args: readonly string[], options: {env?: NodeJS.ProcessEnv; input?: string; timeoutMs?: number; cwd?: string} = {}): Promise<RunResult> {
	return new Promise((resolve, reject) => {
		const child = execFile(file, args, {env: systemEnv(options.env), timeout: options.timeoutMs ?? 120_000, maxBuffer: 64 * 1024 * 1024, cwd: options.cwd, encoding: 'utf8'}, (error, stdout, stderr) => {
			if (error !== null && typeof error.code !== 'number') {
				reject(new Error(`${file} ${args.join(' ')} failed to run: ${error.message}\n${stderr}`));
				return;
			}

			resolve({code: error === null ? 0 : Number(error.code), stdout, stderr});
		});
		if (options.input !== undefined) {
			child.stdin?.end(options.input);
		}
	});
}

/** Run a command that must succeed; its stdout. */
export async function must(file: string, args: readonly string[], options: {env?: NodeJS.ProcessEnv; input?: string; timeoutMs?: number} = {}): Promise<string> {
	const result = await run(file, args, options);
	if (result.code !== 0) {
		throw new Error(`${file} ${args.join(' ')} exited ${result.code}:\n${result.stderr}${result.stdout}`);
	}

	return result.stdout;
}

/** Start a long-running process with its output in a log file. */
export function startLogged(file: string, args: readonly string[], logPath: string, env: NodeJS.ProcessEnv = process.env): ChildProcess {
	const fd = openSync(logPath, 'a');
	try {
		const child = spawn(file, args, {stdio: ['ignore', fd, fd], env: systemEnv(env)});
		// A program that cannot start emits 'error' and no 'exit': record it where callers look.
		child.on('error', error => {
			appendFileSync(logPath, `\nfailed to start ${file}: ${error.message}\n`);
			child.emit('exit', null, 'SIGKILL');
		});
		return child;
	} finally {
		closeSync(fd);
	}
}

/** A TCP port on 127.0.0.1 that was free a moment ago. */
export async function freePort(): Promise<number> {
	const server = createServer();
	server.listen(0, '127.0.0.1');
	await once(server, 'listening');
	const address = server.address();
	server.close();
	await once(server, 'close');
	if (address === null || typeof address === 'string') {
		throw new Error('could not get a free port');
	}

	return address.port;
}

/** Poll until `check` returns true, or fail after `timeoutMs` with `what`. */
export async function waitFor(what: string, check: () => Promise<boolean> | boolean, timeoutMs = 30_000, intervalMs = 50): Promise<void> {
	const deadline = Date.now() + timeoutMs;
	for (;;) {
		if (await check()) {
			return;
		}

		if (Date.now() > deadline) {
			throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
		}

		await new Promise(resolve => setTimeout(resolve, intervalMs));
	}
}

/** Stop a child: SIGTERM, then SIGKILL after `graceMs`; resolves when it has exited. */
export async function stopProcess(child: ChildProcess, graceMs = 15_000): Promise<void> {
	if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) {
		return;
	}

	const exited = once(child, 'exit');
	child.kill('SIGTERM');
	const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
	await exited;
	clearTimeout(timer);
}
