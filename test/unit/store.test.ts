import {readFile, readdir, stat, writeFile} from 'node:fs/promises';
import {join} from 'node:path';
import {beforeEach, describe, expect, it} from 'vitest';
import {StoreError} from '../../source/core/errors.ts';
import {JsonStore, rememberScan, scanMemory} from '../../source/store/store.ts';
import {summarize} from '../../source/core/types.ts';
import {temporaryDirectory} from '../helpers/temporary.ts';

let dir: string;
beforeEach(async () => {
	dir = await temporaryDirectory('updock-store-');
});

describe('JsonStore', () => {
	it('starts empty without writing, creates the file 0600 in a 0700 directory on the first change', async () => {
		const path = join(dir, 'nested', 'updock.json');
		const store = new JsonStore(path);
		expect((await store.load()).pins).toEqual([]);
		await expect(stat(path)).rejects.toThrow();
		await store.update(data => {
			data.pins.push({name: 'web', containerId: 'abc', pinnedAt: '2026-01-01T00:00:00.000Z'});
		});
		expect((await stat(path)).mode & 0o777).toBe(0o600);
		expect((await stat(join(dir, 'nested'))).mode & 0o777).toBe(0o700);
		expect(JSON.parse(await readFile(path, 'utf8'))).toMatchObject({version: 1, pins: [{name: 'web'}]});
		expect(await readdir(join(dir, 'nested'))).toEqual(['updock.json']);
	});

	it('re-reads before every change, so two writers do not undo each other', async () => {
		const path = join(dir, 'updock.json');
		const one = new JsonStore(path);
		const two = new JsonStore(path);
		await one.load();
		await two.load();
		await one.update(data => data.exclusions.push({id: data.nextExclusionId++, pattern: 'a/*', createdAt: ''}));
		await two.update(data => data.exclusions.push({id: data.nextExclusionId++, pattern: 'b/*', createdAt: ''}));
		expect((await one.load()).exclusions).toEqual([{id: 1, pattern: 'a/*', createdAt: ''}, {id: 2, pattern: 'b/*', createdAt: ''}]);
	});

	it('does not write when the change throws', async () => {
		const path = join(dir, 'updock.json');
		await writeFile(path, '{"pins":[]}');
		await expect(new JsonStore(path).update(() => {
			throw new Error('changed my mind');
		})).rejects.toThrow('changed my mind');
		expect(await readFile(path, 'utf8')).toBe('{"pins":[]}');
	});

	it.each([
		['{"pins": [', /not valid JSON/],
		['null', /top level is not an object/],
		['{"version": 2}', /newer updock/],
		['{"version": "1"}', /"version"/],
		['{"exclusions": [{"pattern": 1}]}', /"exclusions"/],
		['{"lastScan": 5}', /"lastScan"/],
	])('refuses %s by path and leaves it alone', async (content, message) => {
		const path = join(dir, 'updock.json');
		await writeFile(path, content);
		const store = new JsonStore(path);
		const error = await store.update(data => data.pins.push({name: 'x', containerId: 'y', pinnedAt: ''})).catch((caught: unknown) => caught);
		expect(error).toBeInstanceOf(StoreError);
		expect((error as StoreError).message).toContain(path);
		expect((error as StoreError).message).toMatch(message);
		expect(await readFile(path, 'utf8')).toBe(content);
	});

	it('remembers scans and platform resolutions, bounded', async () => {
		const store = new JsonStore(join(dir, 'updock.json'));
		const learned = new Map([[`sha256:${'a'.repeat(64)}|linux/amd64`, {manifestDigest: `sha256:${'b'.repeat(64)}`, configDigest: `sha256:${'c'.repeat(64)}`}]]);
		await store.update(data => {
			rememberScan(data, {scannedAt: '2026-01-01T00:00:00.000Z', durationMs: 5, containers: [], summary: summarize([])}, learned, new Date('2026-01-01T00:00:00.000Z'));
		});
		const memory = scanMemory(await store.load());
		expect(memory.platformImage(`sha256:${'a'.repeat(64)}`, {os: 'linux', architecture: 'amd64'})).toEqual(learned.values().next().value);
		expect(memory.platformImage(`sha256:${'a'.repeat(64)}`, {os: 'linux', architecture: 'arm64'})).toBeUndefined();

		await store.update(data => {
			const many = new Map(Array.from({length: 2100}, (_, index) => [`sha256:${index.toString(16).padStart(64, '0')}|linux/amd64`, {manifestDigest: '', configDigest: ''}]));
			rememberScan(data, data.lastScan!, many, new Date('2026-02-01T00:00:00.000Z'));
		});
		const data = await store.load();
		expect(Object.keys(data.platformImages)).toHaveLength(2000);
		expect(data.platformImages[`sha256:${'a'.repeat(64)}|linux/amd64`]).toBeUndefined();
	});
});
