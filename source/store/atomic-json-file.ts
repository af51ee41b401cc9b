import {randomBytes} from 'node:crypto';
import {mkdir, open, readFile, rename, unlink} from 'node:fs/promises';
import {basename, dirname, join} from 'node:path';
import type {Adapter} from 'lowdb';
import {StoreError} from '../core/errors.ts';

/**
 * A lowdb adapter for a JSON file that is private and never half-written: the new text goes to a
 * temporary file created 0600 beside it, is flushed to disk, then renamed over the old one. lowdb's own
 * JSONFile (steno) also renames atomically but creates files with the umask's mode, world-readable.
 * A file that cannot be read or parsed is reported by path and left exactly as it is.
 */
export class AtomicJsonFile<T> implements Adapter<T> {
	readonly path: string;

	constructor(path: string) {
		this.path = path;
	}

	async read(): Promise<T | null> {
		let text: string;
		try {
			text = await readFile(this.path, 'utf8');
		} catch (error) {
			const {code} = error as NodeJS.ErrnoException;
			if (code === 'ENOENT') {
				return null;
			}

			throw new StoreError(this.path, `Cannot read the updock database ${this.path} (${code ?? (error as Error).message}). Fix its permissions or point UPDOCK_DB/--db elsewhere; updock has not changed it.`, {cause: error});
		}

		let parsed: unknown;
		try {
			parsed = JSON.parse(text);
		} catch (error) {
			throw new StoreError(this.path, `The updock database ${this.path} is not valid JSON (${(error as Error).message}). Fix or move it; updock has not changed it.`, {cause: error});
		}

		// lowdb takes null for "no file" and would put defaults in its place: a file holding `null` is not that.
		if (parsed === null) {
			throw new StoreError(this.path, `The updock database ${this.path} is not in the expected shape: the top level is not an object. Fix or move it; updock has not changed it.`);
		}

		return parsed as T;
	}

	async write(data: T): Promise<void> {
		const directory = dirname(this.path);
		const temporary = join(directory, `.${basename(this.path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
		try {
			await mkdir(directory, {recursive: true, mode: 0o700});
			const handle = await open(temporary, 'wx', 0o600);
			try {
				await handle.writeFile(`${JSON.stringify(data, null, 2)}\n`, 'utf8');
				await handle.datasync();
			} finally {
				await handle.close();
			}

			await rename(temporary, this.path);
		} catch (error) {
			await unlink(temporary).catch(() => undefined);
			const {code} = error as NodeJS.ErrnoException;
			throw new StoreError(this.path, `Cannot write the updock database ${this.path} (${code ?? (error as Error).message}); the previous version is intact. Check the directory's permissions and free space.`, {cause: error});
		}
	}
}
