import {mkdtemp, rm} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {afterAll} from 'vitest';

const directories: string[] = [];

// Registered when a test file imports this module: its directories go when the file is done.
afterAll(async () => {
	await Promise.all(directories.splice(0).map(async directory => rm(directory, {recursive: true, force: true})));
});

/** A new directory under the system temp directory, removed after the test file. */
export async function temporaryDirectory(prefix: string): Promise<string> {
	const directory = await mkdtemp(join(tmpdir(), prefix));
	directories.push(directory);
	return directory;
}
