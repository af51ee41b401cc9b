import {createHash, randomBytes} from 'node:crypto';
import {constants, type BigIntStats, type Stats} from 'node:fs';
import {lstat, mkdir, open, readlink, realpath, rename, stat, unlink} from 'node:fs/promises';
import {basename, dirname, join, resolve} from 'node:path';
import type {Adapter} from 'lowdb';
import {ownErrorCode, StoreError} from '../core/errors.ts';

/** The largest file updock reads or writes: far above what it writes (bounded caches), far below what hurts. */
export const maxDatabaseBytes = 64 * 1024 * 1024;
// As Linux's own limit on links followed in one path (40).
const maxLinkHops = 40;
/**
 * The coarsest change-time step of the file systems updock may meet (FAT keeps 2 s; Linux's own keep
 * a clock tick). A change this close after a read may carry the very change time the read saw.
 */
const timestampStepNs = 2_000_000_000n;

/** What identifies one version of the file without reading it. */
interface FileStamp {
	readonly target: string;
	readonly dev: bigint;
	readonly ino: bigint;
	readonly size: bigint;
	readonly mtimeNs: bigint;
	readonly ctimeNs: bigint;
}

/** The last version read or written, parsed and frozen, with what tells whether the file still holds it. */
interface Remembered<T> {
	readonly stamp: FileStamp;
	/** SHA-256 of the bytes. */
	readonly digest: string;
	/**
	 * The file held these bytes at some moment after this time (wall clock, ns): a later change gets a
	 * change time from this minus one timestamp step on, so a change time before that cannot be the
	 * change time of a later change.
	 */
	verifiedAtNs: bigint;
	readonly value: T;
}

/**
 * A lowdb adapter for a JSON file that is private and never half-written: the new text goes to a
 * temporary file created 0600 beside the real file, is flushed to disk, then renamed over it. A
 * symbolic link at the path is followed and stays a link: its final target is what is replaced. A
 * file that cannot be read, is not a regular file, is over 64 MB or does not parse is reported by path
 * and left exactly as it is. lowdb's own JSONFile (steno) creates files world-readable and replaces
 * a link with a regular file.
 *
 * The last version read or written is kept, parsed and deeply frozen, and `read` hands out that same
 * value while the file is unchanged: parsing and checking several MB at every scan of a live view was
 * constant garbage and CPU. Unchanged means the same device, inode, size, change and modification
 * times (in ns); when the change time is within a timestamp step of the last check, where a change
 * could hide behind an equal time, the bytes are read and compared (SHA-256) instead of parsed.
 * What `read` returns must never be changed: copy what is to be changed (it is frozen, so a change
 * throws rather than reaching every other reader).
 */
export class AtomicJsonFile<T> implements Adapter<T> {
	readonly path: string;
	readonly #parse: (value: unknown) => T;
	#remembered: Remembered<T> | undefined;

	/** @param parse checks what the file holds; it throws (StoreError) for a value it refuses. */
	constructor(path: string, parse: (value: unknown) => T) {
		this.path = path;
		this.#parse = parse;
	}

	/** The file that is really read and written: the path with every symbolic link followed. */
	async target(): Promise<string> {
		return resolveTarget(this.path);
	}

	/** The file's value, frozen (null when there is no file). */
	async read(): Promise<T | null> {
		const startedNs = wallClockNs();
		const target = await this.target();
		const where = this.#where(target);
		const cannotRead = (error: unknown): StoreError => new StoreError(this.path, `Cannot read the updock database ${where} (${errorCode(error)}). Fix its permissions or point UPDOCK_DB/--db elsewhere; updock has not changed it.`, {cause: error});

		// stat before open: opening a FIFO blocks until a writer comes, opening a device may do anything.
		let stats: Stats;
		try {
			stats = await stat(target);
		} catch (error) {
			if (errorCode(error) === 'ENOENT') {
				this.#remembered = undefined;
				return null;
			}

			throw cannotRead(error);
		}

		this.#checkKind(stats, where);
		let bytes: Buffer;
		let stamp: FileStamp;
		try {
			// O_NONBLOCK: should the path become a FIFO since the stat, opening it does not wait for a writer.
			// The times come from the open file: opening is where network file systems look again.
			const handle = await open(target, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOFOLLOW);
			try {
				const opened = await handle.stat({bigint: true});
				this.#checkKind(opened, where);
				stamp = fileStamp(target, opened);
				const remembered = this.#remembered;
				if (remembered !== undefined && sameStamp(remembered.stamp, stamp) && stamp.ctimeNs + timestampStepNs < remembered.verifiedAtNs) {
					return remembered.value;
				}

				bytes = await readCapped(handle, () => this.#tooLarge(where, undefined));
				if (remembered !== undefined && sameStamp(remembered.stamp, stamp) && sha256(bytes) === remembered.digest) {
					remembered.verifiedAtNs = startedNs;
					return remembered.value;
				}
			} finally {
				await handle.close();
			}
		} catch (error) {
			if (error instanceof StoreError) {
				throw error;
			}

			if (errorCode(error) === 'ENOENT') {
				this.#remembered = undefined;
				return null;
			}

			throw cannotRead(error);
		}

		let text: string;
		try {
			text = new TextDecoder('utf-8', {fatal: true}).decode(bytes);
		} catch (error) {
			throw new StoreError(this.path, `The updock database ${where} is not UTF-8 text. Fix or move it; updock has not changed it.`, {cause: error});
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

		const value = deepFreeze(this.#parse(parsed));
		this.#remembered = {stamp, digest: sha256(bytes), verifiedAtNs: startedNs, value};
		return value;
	}

	/** Write the value; from then on `read` hands out the value written, frozen, while the file is unchanged. */
	async write(data: T): Promise<void> {
		const startedNs = wallClockNs();
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

		const bytes = Buffer.from(text, 'utf8');
		const target = await this.target();
		const where = this.#where(target);
		const directory = dirname(target);
		const temporary = join(directory, `.${basename(target)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
		// Forgotten first: should the write fail halfway, the next read looks at the file afresh.
		this.#remembered = undefined;
		let stamp: FileStamp;
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
				await handle.writeFile(bytes);
				await handle.datasync();
				await rename(temporary, target);
				// Stamped after the rename, which sets the change time, through the handle: the inode written.
				stamp = fileStamp(target, await handle.stat({bigint: true}));
			} finally {
				await handle.close();
			}

			await syncDirectory(directory);
		} catch (error) {
			await unlink(temporary).catch(() => undefined);
			if (error instanceof StoreError) {
				throw error;
			}

			throw new StoreError(this.path, `Cannot write the updock database ${where} (${errorCode(error)}); the previous version is intact. Check the directory's permissions and free space.`, {cause: error});
		}

		// Verified as of before the write: the first read within a timestamp step compares the bytes.
		this.#remembered = {stamp, digest: sha256(bytes), verifiedAtNs: startedNs, value: deepFreeze(data)};
	}

	#where(target: string): string {
		return target === resolve(this.path) ? this.path : `${this.path} (a link to ${target})`;
	}

	#checkKind(stats: Stats | BigIntStats, where: string): void {
		const kind = fileKind(stats);
		if (kind !== undefined) {
			throw new StoreError(this.path, `Cannot read the updock database ${where}: it is ${kind}, not a regular file, so updock will not open it. Move it away or point UPDOCK_DB/--db at a file; updock has not touched it.`);
		}

		if (Number(stats.size) > maxDatabaseBytes) {
			throw this.#tooLarge(where, Number(stats.size));
		}
	}

	#tooLarge(where: string, size: number | undefined): StoreError {
		const mib = (bytes: number): string => `${Math.ceil(bytes / 1024 / 1024)} MB`;
		const measured = size === undefined ? '' : `${mib(size)}, `;
		return new StoreError(this.path, `The updock database ${where} is ${measured}over the ${mib(maxDatabaseBytes)} limit updock reads; updock never writes one that large. Move it away or point UPDOCK_DB/--db at another file; updock has not changed it.`);
	}
}

function fileStamp(target: string, stats: BigIntStats): FileStamp {
	return {target, dev: stats.dev, ino: stats.ino, size: stats.size, mtimeNs: stats.mtimeNs, ctimeNs: stats.ctimeNs};
}

function sameStamp(a: FileStamp, b: FileStamp): boolean {
	return a.target === b.target && a.dev === b.dev && a.ino === b.ino && a.size === b.size && a.mtimeNs === b.mtimeNs && a.ctimeNs === b.ctimeNs;
}

function sha256(bytes: Buffer): string {
	return createHash('sha256').update(bytes).digest('hex');
}

function wallClockNs(): bigint {
	return BigInt(Date.now()) * 1_000_000n;
}

/**
 * Freeze a value and everything reachable from it: a value handed to every reader must not change
 * under one. Iterative, as the file's unknown keys may nest deeper than the stack goes; what is
 * frozen already was frozen by this (the parts a change kept), so it is not walked again.
 */
export function deepFreeze<T>(value: T): T {
	const stack: object[] = [];
	const visit = (member: unknown): void => {
		if (typeof member === 'object' && member !== null && !Object.isFrozen(member)) {
			stack.push(member);
		}
	};

	visit(value);
	// No array of keys per object: the live view freezes its 2,000 rows after every scan.
	for (let next = stack.pop(); next !== undefined; next = stack.pop()) {
		Object.freeze(next);
		if (Array.isArray(next)) {
			for (const member of next) {
				visit(member);
			}
		} else {
			// What is frozen here is JSON's values and plain objects: own enumerable string keys are all they have.
			for (const key in next) {
				if (Object.hasOwn(next, key)) {
					visit(Reflect.get(next, key));
				}
			}
		}
	}

	return value;
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

function fileKind(stats: Stats | BigIntStats): string | undefined {
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
	return ownErrorCode(error) ?? describe(error);
}

function describe(error: unknown): string {
	return error instanceof Error ? error.message : String(error);
}
