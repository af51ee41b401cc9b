import {writeFile, readFile, chmod} from 'node:fs/promises';
import {join} from 'node:path';
import {must, run, waitFor} from './process.ts';

/** A real terminal: a program in a private tmux server, driven with send-keys and read with capture-pane. */
export class Terminal {
	readonly #socket: string;
	readonly #exitFile: string;

	private constructor(socket: string, exitFile: string) {
		this.#socket = socket;
		this.#exitFile = exitFile;
	}

	/** Run `command` with `env` in a `columns`x`rows` terminal. */
	static async start(dir: string, command: readonly string[], env: NodeJS.ProcessEnv, columns = 120, rows = 32): Promise<Terminal> {
		const socket = `updock-test-${process.pid}-${Date.now()}`;
		const exitFile = join(dir, 'terminal-exit');
		const script = join(dir, 'terminal-run.sh');
		const quote = (value: string): string => `'${value.replaceAll("'", "'\\''")}'`;
		const exports = Object.entries(env).filter(([, value]) => value !== undefined).map(([key, value]) => `export ${key}=${quote(value!)}`);
		await writeFile(script, ['#!/bin/sh', ...exports, 'export TERM=xterm-256color', `${command.map(quote).join(' ')}`, `echo $? > ${quote(exitFile)}`, ''].join('\n'));
		await chmod(script, 0o755);
		await must('tmux', ['-L', socket, '-f', '/dev/null', 'new-session', '-d', '-x', String(columns), '-y', String(rows), script]);
		return new Terminal(socket, exitFile);
	}

	async screen(): Promise<string> {
		const result = await run('tmux', ['-L', this.#socket, 'capture-pane', '-p']);
		return result.code === 0 ? result.stdout : '';
	}

	async waitForScreen(check: (screen: string) => boolean, what: string, timeoutMs = 20_000): Promise<string> {
		let screen = '';
		try {
			await waitFor(what, async () => check(screen = await this.screen()), timeoutMs, 100);
		} catch (error) {
			throw new Error(`${(error as Error).message}; the screen was:\n${screen}`);
		}

		return screen;
	}

	async keys(...keys: string[]): Promise<void> {
		await must('tmux', ['-L', this.#socket, 'send-keys', ...keys]);
	}

	/** The program's exit status, once it has exited. */
	async exitCode(timeoutMs = 15_000): Promise<number> {
		let text = '';
		await waitFor('the program to exit', async () => {
			text = await readFile(this.#exitFile, 'utf8').catch(() => '');
			return text.trim() !== '';
		}, timeoutMs, 100);
		return Number(text.trim());
	}

	async kill(): Promise<void> {
		await run('tmux', ['-L', this.#socket, 'kill-server']);
	}
}
