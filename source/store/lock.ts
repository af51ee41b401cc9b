import {mkdir} from 'node:fs/promises';
import {dirname} from 'node:path';
import {lock} from 'proper-lockfile';
import {StoreError} from '../core/errors.ts';

/**
 * A lock whose directory has not been touched for this long belongs to a process that died (a live
 * holder touches it every `refreshMs`). Reading and writing the file, 64 MB at most, takes far less.
 */
export const staleLockMs = 10_000;
const refreshMs = 2000;
// 10 ms growing to 500 ms, about 26 s in all: more than the stale window, so a dead holder's lock
// is always taken over before a writer gives up, while a live one that never lets go is reported.
const retries = {retries: 60, minTimeout: 10, maxTimeout: 500, factor: 1.5, randomize: true};

const queues = new Map<string, Promise<void>>();

/**
 * Run `work` once every earlier call with the same key in this process has settled, whatever its
 * outcome: one queue per file, so this process's own writers never race each other for the lock.
 */
export async function inQueue<T>(key: string, work: () => Promise<T>): Promise<T> {
	const previous = queues.get(key) ?? Promise.resolve();
	const run = previous.then(work);
	const settled = run.then(() => undefined, () => undefined);
	queues.set(key, settled);
	void settled.then(() => {
		if (queues.get(key) === settled) {
			queues.delete(key);
		}
	});
	return run;
}

/**
 * Hold the cross-process lock on `target` (a directory `<target>.lock`, which can be made before the
 * file exists) while `work` runs. `work` gets a check to call just before it writes: it throws when
 * the lock was lost meanwhile (taken over as stale), so a write never lands without it.
 * @param path the path as the user gave it, for messages.
 */
export async function withFileLock<T>(target: string, path: string, work: (stillHeld: () => void) => Promise<T>): Promise<T> {
	const lockPath = `${target}.lock`;
	let lost: Error | undefined;
	let release: () => Promise<void>;
	try {
		await mkdir(dirname(target), {recursive: true, mode: 0o700});
		release = await lock(target, {
			lockfilePath: lockPath,
			realpath: false,
			stale: staleLockMs,
			update: refreshMs,
			retries,
			// The default throws from a timer, which would end the process.
			onCompromised(error) {
				lost = error;
			},
		});
	} catch (error) {
		const code = error instanceof Error && 'code' in error ? String(error.code) : String(error);
		if (code === 'ELOCKED') {
			throw new StoreError(path, `Another process has held the lock ${lockPath} on the updock database ${path} for too long. If no updock is running, remove ${lockPath}; the database has not been changed.`, {cause: error});
		}

		throw new StoreError(path, `Cannot lock the updock database ${path} (${code} creating ${lockPath}). Check the directory's permissions; the database has not been changed.`, {cause: error});
	}

	try {
		return await work(() => {
			if (lost !== undefined) {
				throw new StoreError(path, `The lock ${lockPath} on the updock database ${path} was lost (${lost.message}), so this change was not written. Try again.`, {cause: lost});
			}
		});
	} finally {
		// A lost lock is already gone; there is nothing left to release.
		await release().catch(() => undefined);
	}
}
