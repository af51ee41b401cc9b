import {execFile} from 'node:child_process';
import {lstat, mkdir, readFile, readdir, readlink, stat, symlink, truncate, writeFile} from 'node:fs/promises';
import {createServer, type Server} from 'node:net';
import {join} from 'node:path';
import {promisify} from 'node:util';
import {afterAll, beforeEach, describe, expect, it} from 'vitest';
import {StoreError} from '../../source/core/errors.ts';
import {JsonSettings, JsonStore} from '../../source/store/store.ts';
import {temporaryDirectory} from '../helpers/temporary.ts';

let dir: string;
beforeEach(async () => {
	dir = await temporaryDirectory('updock-store-file-');
});

const servers: Server[] = [];
afterAll(async () => {
	await Promise.all(servers.map(async server => new Promise(resolve => server.close(resolve))));
});

async function refusal(store: JsonStore): Promise<StoreError> {
	const error: unknown = await store.load().catch((caught: unknown) => caught);
	expect(error).toBeInstanceOf(StoreError);
	const written: unknown = await new JsonSettings(store).pin('web', 'id').catch((caught: unknown) => caught);
	expect(written).toBeInstanceOf(StoreError);
	return error instanceof StoreError ? error : new StoreError('', 'not a StoreError');
}

describe('a symbolic link at the path', () => {
	it('stays a link through a chain of relative links; the final target is replaced and stays private', async () => {
		await mkdir(join(dir, 'dotfiles'));
		const target = join(dir, 'dotfiles', 'updock.json');
		await writeFile(target, '{"pins": [], "mine": true}', {mode: 0o600});
		await symlink('dotfiles/updock.json', join(dir, 'middle.json'));
		const path = join(dir, 'updock.json');
		await symlink('middle.json', path);

		expect(await new JsonSettings(new JsonStore(path)).pin('web', 'id')).toBe(true);
		expect((await lstat(path)).isSymbolicLink()).toBe(true);
		expect(await readlink(path)).toBe('middle.json');
		expect((await lstat(join(dir, 'middle.json'))).isSymbolicLink()).toBe(true);
		expect(JSON.parse(await readFile(target, 'utf8'))).toMatchObject({mine: true, pins: [{name: 'web'}]});
		expect((await stat(target)).mode & 0o777).toBe(0o600);
		// The temporary file went beside the target and is gone; the lock too.
		expect(await readdir(join(dir, 'dotfiles'))).toEqual(['updock.json']);
	});

	it('that dangles gets its target created, and stays a link', async () => {
		await mkdir(join(dir, 'dotfiles'));
		const path = join(dir, 'updock.json');
		await symlink(join(dir, 'dotfiles', 'updock.json'), path);
		expect((await new JsonStore(path).load()).pins).toEqual([]);
		await new JsonSettings(new JsonStore(path)).pin('web', 'id');
		expect((await lstat(path)).isSymbolicLink()).toBe(true);
		expect((await stat(join(dir, 'dotfiles', 'updock.json'))).mode & 0o777).toBe(0o600);
	});

	it('in a loop is refused by path', async () => {
		const path = join(dir, 'updock.json');
		await symlink('other.json', path);
		await symlink('updock.json', join(dir, 'other.json'));
		expect((await refusal(new JsonStore(path))).message).toMatch(/symbolic links \(or a loop\)/);
	});
});

describe('something other than a file at the path is refused at once, and left alone', () => {
	it('a named pipe', async () => {
		const path = join(dir, 'updock.json');
		await promisify(execFile)('mkfifo', [path]);
		const error = await refusal(new JsonStore(path));
		expect(error.message).toBe(`Cannot read the updock database ${path}: it is a named pipe (FIFO), not a regular file, so updock will not open it. Move it away or point UPDOCK_DB/--db at a file; updock has not touched it.`);
		expect((await lstat(path)).isFIFO()).toBe(true);
	});

	it('a link to a named pipe', async () => {
		const fifo = join(dir, 'pipe');
		await promisify(execFile)('mkfifo', [fifo]);
		const path = join(dir, 'updock.json');
		await symlink(fifo, path);
		expect((await refusal(new JsonStore(path))).message).toContain(`${path} (a link to ${fifo}): it is a named pipe (FIFO)`);
		expect((await lstat(fifo)).isFIFO()).toBe(true);
	});

	it('a socket', async () => {
		const path = join(dir, 'updock.json');
		const server = createServer();
		servers.push(server);
		await new Promise<void>(resolve => server.listen(path, resolve));
		expect((await refusal(new JsonStore(path))).message).toContain(`${path}: it is a socket, not a regular file`);
		expect((await lstat(path)).isSocket()).toBe(true);
	});

	it('a link to a device', async () => {
		const path = join(dir, 'updock.json');
		await symlink('/dev/null', path);
		expect((await refusal(new JsonStore(path))).message).toContain('(a link to /dev/null): it is a character device');
		expect(await readlink(path)).toBe('/dev/null');
	});

	it('a directory', async () => {
		const path = join(dir, 'updock.json');
		await mkdir(path);
		expect((await refusal(new JsonStore(path))).message).toContain(`Cannot read the updock database ${path}: it is a directory`);
	});
});

describe('size', () => {
	it('refuses a file over 64 MB before reading it, and leaves it alone', async () => {
		const path = join(dir, 'updock.json');
		await writeFile(path, '{"pins": []}');
		// Sparse: 600 MB on paper, nothing on disk.
		await truncate(path, 600 * 1024 * 1024);
		const error = await refusal(new JsonStore(path));
		expect(error.message).toBe(`The updock database ${path} is 600 MB, over the 64 MB limit updock reads; updock never writes one that large. Move it away or point UPDOCK_DB/--db at another file; updock has not changed it.`);
		expect((await stat(path)).size).toBe(600 * 1024 * 1024);
	});

	it('does not write a file it would refuse to read', async () => {
		const path = join(dir, 'updock.json');
		await writeFile(path, '{"pins": []}');
		const error: unknown = await new JsonStore(path).update(data => {
			data['blob'] = 'x'.repeat(65 * 1024 * 1024);
		}).catch((caught: unknown) => caught);
		expect(error).toBeInstanceOf(StoreError);
		expect(String(error)).toContain(`The updock database ${path} would be over 64 MB; it was not written`);
		expect(await readFile(path, 'utf8')).toBe('{"pins": []}');
	});

	it('reads a file just under the limit', async () => {
		const path = join(dir, 'updock.json');
		const padding = ' '.repeat(64 * 1024 * 1024 - 20);
		await writeFile(path, `{"pins": []}${padding}`);
		expect((await new JsonStore(path).load()).pins).toEqual([]);
	});
});
