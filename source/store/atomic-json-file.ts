import {randomBytes} from 'node:crypto';
import {constants, type Stats} from 'node:fs';
import {lstat, mkdir, open, readlink, realpath, rename, stat, unlink} from 'node:fs/promises';
import {basename, dirname, join, resolve} from 'node:path';
import type {Adapter} from 'lowdb';
import {StoreError} from '../core/errors.ts';

/** The largest file updock reads or writes: far above what it writes (bounded caches), far below what hurts. */
export const maxDatabaseBytes = 64 * 1024 * 1024;
// As Linux's own limit on links followed in one path (40).
const maxLinkHops = 40;

/**
 * A lowdb adapter for a JSON file that is private and never half-written: the new text goes to a
 * temporary file created 0600 beside the real file, is flushed to disk, then renamed over it. A
 * symbolic link at the path is followed and stays a link: its final target is what is replaced. A
 * file that cannot be read, is not a regular file, is over 64 MB or does not parse is reported by path
 * and left exactly as it is. lowdb's own JSONFile (steno) creates files world-readable and replaces
 * a link with a regular file.
 */
export class AtomicJsonFile<T> implements Adapter<T> {
	readonly path: string;
	readonly #parse: (value: unknown) => T;

	/** @param parse checks what the file holds; it throws (StoreError) for a value it refuses. */
	constructor(path: string, parse: (value: unknown) => T) {
		this.path = path;
		this.#parse = parse;
	}

	/** The file that is really read and written: the path with every symbolic link followed. */
	async target(): Promise<string> {
		return resolveTarget(this.path);
	}

	async read(): Promise<T | null> {
		const target = await this.target();
		const where = this.#where(target);
		const cannotRead = (error: unknown): StoreError => new StoreError(this.path, `Cannot read the updock database ${where} (${errorCode(error)}). Fix its permissions or point UPDOCK_DB/--db elsewhere; updock has not changed it.`, {cause: error});

		// stat before open: opening a FIFO blocks until a writer comes, opening a device may do anything.
		let stats: Stats;
		try {
			stats = await stat(target);
		} catch (error) {
			if (errorCode(error) === 'ENOENT') {
				return null;
			}

			throw cannotRead(error);
		}

		this.#checkKind(stats, where);
		let text: string;
		try {
			// O_NONBLOCK: should the path become a FIFO since the stat, opening it does not wait for a writer.
			const handle = await open(target, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOFOLLOW);
			try {
				this.#checkKind(await handle.stat(), where);
				text = new TextDecoder('utf-8', {fatal: true}).decode(await readCapped(handle, () => this.#tooLarge(where, undefined)));
			} finally {
				await handle.close();
			}
		} catch (error) {
			if (error instanceof StoreError) {
				throw error;
			}

			if (errorCode(error) === 'ENOENT') {
				return null;
			}

			if (error instanceof TypeError) {
				throw new StoreError(this.path, `The updock database ${where} is not UTF-8 text. Fix or move it; updock has not changed it.`, {cause: error});
			}

			throw cannotRead(error);
		}

		let parsed: unknown;
		try {
			parsed = JSON.parse(text);
		} catch (error) {
			throw new StoreError(this.path, `The updock database ${where} is not valid JSON (${describe(error)}). Fix or move it; updock has not changed it.`, {cause: error});
		}

		// lowdb takes null for "no file" and would put defaults in its place: a file holding `null` is not that.
		if (parsed === null) {
			throw new StoreError(this.path, `The updock database ${where} is not in the expected shape: the top level is not an object. Fix or move it; updock has not changed it.`);
		}

		return this.#parse(parsed);
	}

	async write(data: T): Promise<void> {
		let text: string;
		try {
			text = `${JSON.stringify(data, null, 2)}\n`;
		} catch (error) {
			// A string past V8's limit: far over the cap anyway.
			throw new StoreError(this.path, `The updock database ${this.path} would be over ${maxDatabaseBytes / 1024 / 1024} MB (${describe(error)}); it was not written and the previous version is intact.`, {cause: error});
		}

		if (Buffer.byteLength(text) > maxDatabaseBytes) {
			throw new StoreError(this.path, `The updock database ${this.path} would be over ${maxDatabaseBytes / 1024 / 1024} MB; it was not written and the previous version is intact. Remove pins, exclusions or saved hosts you no longer need.`);
		}

		const target = await this.target();
		const where = this.#where(target);
		const directory = dirname(target);
		const temporary = join(directory, `.${basename(target)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
		try {
			const existing = await lstat(target).catch((error: unknown) => {
				if (errorCode(error) === 'ENOENT') {
					return undefined;
				}

				throw error;
			});
			if (existing !== undefined) {
				this.#checkKind(existing, where);
			}

			await mkdir(directory, {recursive: true, mode: 0o700});
			const handle = await open(temporary, 'wx', 0o600);
			try {
				await handle.writeFile(text, 'utf8');
				await handle.datasync();
			} finally {
				await handle.close();
			}

			await rename(temporary, target);
			await syncDirectory(directory);
		} catch (error) {
			await unlink(temporary).catch(() => undefined);
			if (error instanceof StoreError) {
				throw error;
			}

			throw new StoreError(this.path, `Cannot write the updock database ${where} (${errorCode(error)}); the previous version is intact. Check the directory's permissions and free space.`, {cause: error});
		}
	}

	#where(target: string): string {
		return target === resolve(this.path) ? this.path : `${this.path} (a link to ${target})`;
	}

	#checkKind(stats: Stats, where: string): void {
		const kind = fileKind(stats);
		if (kind !== undefined) {
			throw new StoreError(this.path, `Cannot read the updock database ${where}: it is ${kind}, not a regular file, so updock will not open it. Move it away or point UPDOCK_DB/--db at a file; updock has not touched it.`);
		}

		if (stats.size > maxDatabaseBytes) {
			throw this.#tooLarge(where, stats.size);
		}
	}

	#tooLarge(where: string, size: number | undefined): StoreError {
		const mib = (bytes: number): string => `${Math.ceil(bytes / 1024 / 1024)} MB`;
		const measured = size === undefined ? '' : `${mib(size)}, `;
		return new StoreError(this.path, `The updock database ${where} is ${measured}over the ${mib(maxDatabaseBytes)} limit updock reads; updock never writes one that large. Move it away or point UPDOCK_DB/--db at another file; updock has not changed it.`);
	}
}

/**
 * Follow symbolic links, chains and relative ones included, to the file they name, which need not
 * exist yet (a dotfiles link to a file not written yet). The directory part is made canonical when it
 * exists, so every path to the same file gives the same answer (and the same lock).
 */
export async function resolveTarget(path: string): Promise<string> {
	let current = resolve(path);
	for (let hops = 0; ; hops++) {
		let stats: Stats;
		try {
			stats = await lstat(current);
		} catch (error) {
			if (errorCode(error) === 'ENOENT') {
				break;
			}

			throw new StoreError(path, `Cannot read the updock database ${path} (${errorCode(error)} at ${current}). Fix its permissions or point UPDOCK_DB/--db elsewhere; updock has not changed it.`, {cause: error});
		}

		if (!stats.isSymbolicLink()) {
			break;
		}

		if (hops === maxLinkHops) {
			throw new StoreError(path, `The updock database ${path} is a chain of more than ${maxLinkHops} symbolic links (or a loop). Point it at a file; updock has not changed it.`);
		}

		current = resolve(dirname(current), await readlink(current));
	}

	const directory = await realpath(dirname(current)).catch(() => dirname(current));
	return join(directory, basename(current));
}

/** Read a whole file, but never more than the cap: the size seen by stat may grow while it is read. */
async function readCapped(handle: Awaited<ReturnType<typeof open>>, tooLarge: () => StoreError): Promise<Buffer> {
	const chunks: Buffer[] = [];
	let total = 0;
	for (;;) {
		// One byte past the cap is enough to know the file is over it.
		const room = Math.min(1024 * 1024, maxDatabaseBytes + 1 - total);
		const {bytesRead, buffer} = await handle.read({buffer: Buffer.allocUnsafe(room), position: total});
		if (bytesRead === 0) {
			return Buffer.concat(chunks, total);
		}

		total += bytesRead;
		if (total > maxDatabaseBytes) {
			throw tooLarge();
		}

		chunks.push(buffer.subarray(0, bytesRead));
	}
}

function fileKind(stats: Stats): string | undefined {
	if (stats.isFile()) {
		return undefined;
	}

	if (stats.isFIFO()) {
		return 'a named pipe (FIFO)';
	}

	if (stats.isSocket()) {
		return 'a socket';
	}

	if (stats.isCharacterDevice()) {
		return 'a character device';
	}

	if (stats.isBlockDevice()) {
		return 'a block device';
	}

	return stats.isDirectory() ? 'a directory' : 'an unknown kind of file';
}

// The rename is only durable once the directory entry is; not every file system lets a directory be synced.
async function syncDirectory(directory: string): Promise<void> {
	try {
		const handle = await open(directory, constants.O_RDONLY);
		try {
			await handle.sync();
		} finally {
			await handle.close();
		}
	} catch {}
}

function errorCode(error: unknown): string {
	if (error instanceof Error && 'code' in error && typeof error.code === 'string') {
		return error.code;
	}

	return describe(error);
}

function describe(error: unknown): string {
	return error instanceof Error ? error.message : String(error);
}
