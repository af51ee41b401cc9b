import {spawn} from 'node:child_process';
import {closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import path from 'node:path';
import {Writable} from 'node:stream';
import {afterAll, describe, expect, it} from 'vitest';
import {isRegularFile, OutputError, writeChunks, writeChunksToFile} from '../../source/report/write-chunks.ts';

/** A slow reader: holds at most `highWaterMark` bytes before `write()` asks the writer to wait, and takes each chunk a turn of the event loop later. */
function slowStream(highWaterMark = 16): {stream: Writable; received: string[]} {
	const received: string[] = [];
	const stream = new Writable({
		highWaterMark,
		decodeStrings: false,
		write(chunk: string, _encoding, callback) {
			setImmediate(() => {
				received.push(chunk);
				callback();
			});
		},
	});
	return {stream, received};
}

/** Records, for each chunk asked for, whether the stream was still waiting to drain at that moment. */
function * recorded(chunks: readonly string[], stream: Writable, pulledWhileFull: boolean[]): Generator<string> {
	for (const chunk of chunks) {
		pulledWhileFull.push(stream.writableNeedDrain);
		yield chunk;
	}
}

describe('writeChunks', () => {
	it('asks for the next chunk only after the stream drained, and resolves once the last one is written', async () => {
		const {stream, received} = slowStream();
		const chunks = Array.from({length: 50}, (_, index) => `chunk ${index} ${'x'.repeat(index)}\n`);
		const pulledWhileFull: boolean[] = [];
		await writeChunks(stream, recorded(chunks, stream, pulledWhileFull));
		expect(pulledWhileFull).toHaveLength(50);
		expect(pulledWhileFull.every(full => !full)).toBe(true);
		// Every chunk has reached the reader, in order, by the time the promise resolves.
		expect(received).toEqual(chunks);
		// Nothing left behind on a stream others still write to.
		expect(stream.listenerCount('error') + stream.listenerCount('drain') + stream.listenerCount('close')).toBe(0);
	});

	it('resolves only once the last chunk is written, also when the stream never asked to wait', async () => {
		const {stream, received} = slowStream(1024 * 1024);
		const chunks = Array.from({length: 20}, (_, index) => `chunk ${index}\n`);
		await writeChunks(stream, chunks);
		expect(received).toEqual(chunks);
	});

	it('gives the event loop a turn now and then when the stream never asks to wait (a file, /dev/null)', async () => {
		const sink = new Writable({highWaterMark: 1024 * 1024 * 1024, write(_chunk, _encoding, callback) {
			callback();
		}});
		let turned = false;
		setImmediate(() => {
			turned = true;
		});
		const seen: boolean[] = [];
		function * chunks(): Generator<string> {
			for (let index = 0; index < 64; index++) {
				seen.push(turned);
				yield 'x'.repeat(1024);
			}
		}

		await writeChunks(sink, chunks());
		expect(seen).toHaveLength(64);
		// Without turns the whole document is made in one go and the immediate runs only after it.
		expect(seen.indexOf(true)).toBeGreaterThan(0);
		expect(seen.indexOf(true)).toBeLessThanOrEqual(17);
	});

	it('stops without an uncaught error when the reader goes away (EPIPE into head)', async () => {
		const head = spawn('head', ['-c', '100'], {stdio: ['pipe', 'pipe', 'ignore']});
		let printed = '';
		head.stdout.setEncoding('utf8').on('data', (data: string) => {
			printed += data;
		});
		const exited = new Promise<number | null>(resolve => head.once('exit', resolve));
		const total = 2000;
		let pulled = 0;
		function * endless(): Generator<string> {
			for (let index = 0; index < total; index++) {
				pulled++;
				yield 'y'.repeat(64 * 1024);
			}
		}

		// Without its own 'error' listener: an error the writer did not handle would fail the test run.
		await writeChunks(head.stdin, endless());
		expect(await exited).toBe(0);
		expect(printed).toBe('y'.repeat(100));
		expect(head.stdin.errored).toMatchObject({code: 'EPIPE'});
		// The rest was never made, let alone written.
		expect(pulled).toBeLessThan(total);
		expect(head.stdin.listenerCount('error')).toBe(0);
	});

	it('resolves and stops asking for chunks when the stream is destroyed while waiting to drain', async () => {
		// A reader that never takes what it is given, so 'drain' never comes.
		const stream = new Writable({highWaterMark: 16, write() {}});
		let pulled = 0;
		function * chunks(): Generator<string> {
			for (let index = 0; index < 100; index++) {
				pulled++;
				yield 'z'.repeat(32);
			}
		}

		const writing = writeChunks(stream, chunks());
		setImmediate(() => stream.destroy());
		await writing;
		expect(stream.destroyed).toBe(true);
		expect(pulled).toBe(1);
	});

	it('writes nothing to a stream already destroyed or ended', async () => {
		for (const stream of [new Writable({write() {}}).destroy(), new Writable({write() {}}).end()]) {
			let pulled = 0;
			function * chunks(): Generator<string> {
				pulled++;
				yield 'never';
			}

			// eslint-disable-next-line no-await-in-loop -- one stream after the other
			await writeChunks(stream, chunks());
			expect(pulled).toBe(0);
		}
	});
});

describe('writeChunksToFile', () => {
	const directory = mkdtempSync(path.join(tmpdir(), 'updock-write-'));
	afterAll(() => {
		rmSync(directory, {recursive: true, force: true});
	});

	it('writes every chunk to the file in order, characters of every width byte for byte', async () => {
		const file = path.join(directory, 'scan.json');
		const chunks = Array.from({length: 40}, (_, index) => `${index} caf\u00E9 \u20AC \uD83D\uDE00 ${'x'.repeat(index * 100)}\n`);
		const fd = openSync(file, 'w');
		try {
			expect(isRegularFile(fd)).toBe(true);
			await writeChunksToFile(fd, chunks);
		} finally {
			closeSync(fd);
		}

		expect(readFileSync(file, 'utf8')).toBe(chunks.join(''));
	});

	it('says what the system said when the file cannot be written, as an OutputError', async () => {
		const file = path.join(directory, 'read-only.json');
		writeFileSync(file, '');
		const fd = openSync(file, 'r');
		try {
			const error = await writeChunksToFile(fd, ['{}\n']).then(() => undefined, (error: unknown) => error);
			expect(error).toBeInstanceOf(OutputError);
			expect(error instanceof Error ? error.message : '').toMatch(/^Could not write the results to standard output: EBADF/);
		} finally {
			closeSync(fd);
		}
	});

	it('is for regular files only: not a directory, nor a descriptor that is not open', () => {
		const fd = openSync(directory, 'r');
		try {
			expect(isRegularFile(fd)).toBe(false);
		} finally {
			closeSync(fd);
		}

		expect(isRegularFile(fd)).toBe(false);
	});
});
