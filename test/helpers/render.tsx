import {EventEmitter} from 'node:events';
import {render as inkRender, type Instance} from 'ink';
import type {ReactElement} from 'react';

/** A terminal of a known size that keeps what is written to it. */
export class SizedStdout extends EventEmitter {
	columns: number;
	rows: number;
	readonly isTTY = true;
	readonly frames: string[] = [];

	constructor(columns: number, rows: number) {
		super();
		this.columns = columns;
		this.rows = rows;
	}

	/** Called after each write (the bench times frames with it). */
	onWrite: (() => void) | undefined;

	write = (frame: string): boolean => {
		this.frames.push(frame);
		this.onWrite?.();
		return true;
	};
}

/** A keyboard: what is written is read by Ink as typed keys. */
export class FakeStdin extends EventEmitter {
	readonly isTTY = true;
	#chunks: string[] = [];

	write(data: string): void {
		this.#chunks.push(data);
		this.emit('readable');
	}

	read(): string | null {
		return this.#chunks.shift() ?? null;
	}

	setEncoding(): void {}
	setRawMode(): void {}
	resume(): void {}
	pause(): void {}
	ref(): void {}
	unref(): void {}
}

export interface Rendered {
	lastFrame(): string;
	/** Send keys, then wait until the frame changes (never a fixed sleep). */
	press(...input: string[]): Promise<string>;
	/** Send keys whose effect is not on screen (an action called); wait on the effect instead. */
	send(...input: string[]): void;
	/** Wait until the frame satisfies `check`. */
	waitFor(check: (frame: string) => boolean, what?: string): Promise<string>;
	resize(columns: number, rows: number): Promise<string>;
	readonly frames: readonly string[];
	unmount(): void;
	readonly instance: Instance;
}

// eslint-disable-next-line no-control-regex
const strip = (text: string): string => text.replaceAll(/\u001B\[[\d;?]*[A-Za-z]/g, '');

/**
 * Render into a terminal of a known size (ink-testing-library's is 100 columns and the real
 * terminal's height), with helpers that wait for the next frame instead of sleeping.
 */
export function renderSized(element: ReactElement, columns = 100, rows = 30): Rendered {
	const stdout = new SizedStdout(columns, rows);
	const stdin = new FakeStdin();
	const instance = inkRender(element, {
		stdout: stdout as unknown as NodeJS.WriteStream,
		stdin: stdin as unknown as NodeJS.ReadStream,
		stderr: new SizedStdout(columns, rows) as unknown as NodeJS.WriteStream,
		debug: true,
		exitOnCtrlC: false,
		patchConsole: false,
		interactive: true,
	});
	const lastFrame = (): string => strip(stdout.frames.at(-1) ?? '');
	const waitFor = async (check: (frame: string) => boolean, what = 'the expected frame'): Promise<string> => {
		const deadline = Date.now() + 3000;
		for (;;) {
			const frame = lastFrame();
			if (check(frame)) {
				return frame;
			}

			if (Date.now() > deadline) {
				throw new Error(`timed out waiting for ${what}; last frame:\n${frame}`);
			}

			await new Promise(resolve => setImmediate(resolve));
		}
	};

	return {
		lastFrame,
		frames: stdout.frames,
		instance,
		async press(...input: string[]) {
			const before = stdout.frames.length;
			for (const chunk of input) {
				stdin.write(chunk);
			}

			return waitFor(() => stdout.frames.length > before, `a frame after ${JSON.stringify(input)}`);
		},
		waitFor,
		send(...input: string[]) {
			for (const chunk of input) {
				stdin.write(chunk);
			}
		},
		async resize(newColumns: number, newRows: number) {
			const before = stdout.frames.length;
			stdout.columns = newColumns;
			stdout.rows = newRows;
			stdout.emit('resize');
			return waitFor(() => stdout.frames.length > before, 'a frame after resize');
		},
		unmount() {
			instance.unmount();
		},
	};
}
