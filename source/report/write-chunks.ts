import {fstatSync, writeSync} from 'node:fs';
import type {Writable} from 'node:stream';
import {setImmediate as nextTurn} from 'node:timers/promises';

/** Chunks written before the event loop gets a turn, when the stream never asks to wait: about 1 MB. */
const chunksPerTurn = 16;

/** The output could not be written (a full disk, an I/O error): said, not taken for updock's own bug. */
export class OutputError extends Error {
	override readonly name = 'OutputError';
}

/** True when `fd` is open on a regular file (`updock --once --json > scan.json`). */
export function isRegularFile(fd: number): boolean {
	try {
		return fstatSync(fd).isFile();
	} catch {
		return false;
	}
}

/**
 * Writes the chunks to the regular file open as `fd`, each string as it is. Node's own stream for a
 * file (SyncWriteStream) first copies every chunk into a new Buffer, and those copies wait for a
 * collection: with the 43 MB document of 50,000 rows, about 15 MB more at the peak.
 * @throws OutputError naming what the system said (ENOSPC, EIO, ...).
 */
export async function writeChunksToFile(fd: number, chunks: Iterable<string>): Promise<void> {
	let sinceTurn = 0;
	for (const chunk of chunks) {
		writeWhole(fd, chunk);
		if (++sinceTurn >= chunksPerTurn) {
			// As in writeChunks: without a turn now and then, V8 cannot finish a collection.
			sinceTurn = 0;
			// eslint-disable-next-line no-await-in-loop -- the turn is the point
			await nextTurn();
		}
	}
}

function writeWhole(fd: number, chunk: string): void {
	try {
		const written = writeSync(fd, chunk);
		const length = Buffer.byteLength(chunk);
		if (written < length) {
			// A short write is rare on a file; the rest goes as bytes, since a character may have been cut.
			const rest = Buffer.from(chunk).subarray(written);
			for (let offset = 0; offset < rest.length;) {
				offset += writeSync(fd, rest, offset);
			}
		}
	} catch (error) {
		throw new OutputError(`Could not write the results to standard output: ${error instanceof Error ? error.message : String(error)}. Check the disk the output goes to.`, {cause: error});
	}
}

/**
 * Writes the chunks to `stream` in order, asking for the next one only while the stream has room
 * (after 'drain' when `write()` said it had none), so a long document is held neither whole nor in the
 * stream's buffer. Resolves once the last chunk has been handed on, or as soon as the stream fails or
 * closes: EPIPE means the reader went away (`updock --once | head`), and the rest is then dropped
 * rather than reported, as other command-line tools do.
 */
export async function writeChunks(stream: Writable, chunks: Iterable<string>): Promise<void> {
	if (stream.destroyed || !stream.writable) {
		return;
	}

	let gone = false;
	let end = (): void => {};
	const ended = new Promise<void>(resolve => {
		end = resolve;
	});
	const stop = (): void => {
		gone = true;
		end();
	};

	let resume: (() => void) | undefined;
	const drained = (): void => {
		resume?.();
	};

	// While this listens, an EPIPE ends the output instead of being an uncaught 'error' event.
	stream.on('error', stop);
	stream.on('close', stop);
	stream.on('drain', drained);
	try {
		let written: Promise<void> = Promise.resolve();
		let sinceTurn = 0;
		for (const chunk of chunks) {
			let room = true;
			written = new Promise(resolve => {
				room = stream.write(chunk, () => {
					resolve();
				});
			});
			if (!room) {
				sinceTurn = 0;
				// eslint-disable-next-line no-await-in-loop -- one chunk at a time is the point
				await Promise.race([new Promise<void>(resolve => {
					resume = resolve;
				}), ended]);
			} else if (++sinceTurn >= chunksPerTurn) {
				// A file or /dev/null always has room: without a turn of the event loop now and then, V8
				// cannot finish a collection and the whole document's garbage piles up (225 MB instead of
				// 180 MB for 50,000 rows into a file).
				sinceTurn = 0;
				// eslint-disable-next-line no-await-in-loop -- the turn is the point
				await nextTurn();
			}

			// Leaving the loop ends the generator too, so nothing more is made for a reader that is gone.
			if (gone || stream.destroyed) {
				return;
			}
		}

		// Waited for, so that no write is still under way (and could fail with nobody listening) once this returns.
		await Promise.race([written, ended]);
	} finally {
		stream.off('error', stop);
		stream.off('close', stop);
		stream.off('drain', drained);
	}
}
