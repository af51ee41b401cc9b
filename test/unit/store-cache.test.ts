import {spawn} from 'node:child_process';
import {readFile, rename, stat, unlink, utimes, writeFile} from 'node:fs/promises';
import {join} from 'node:path';
import {afterEach, beforeEach, describe, expect, it, vi} from 'vitest';
import {JsonStore, LastResults} from '../../source/store/store.ts';
import {summarize} from '../../source/core/types.ts';
import {temporaryDirectory} from '../helpers/temporary.ts';

// Whole seconds: utimes cannot put back a time finer than a microsecond.
const fixedTime = new Date('2026-01-01T00:00:00.000Z');
const pin = (name: string) => ({name, containerId: 'abc', pinnedAt: '2026-01-01T00:00:00.000Z'});

/** The file's text with one pin named `name`, padded to `size` bytes so a change can keep the size. */
const withPin = (name: string, size = 200): string => JSON.stringify({version: 1, pins: [pin(name)]}).padEnd(size - 1, ' ') + '\n';

let dir: string;
let path: string;
beforeEach(async () => {
	dir = await temporaryDirectory('updock-store-cache-');
	path = join(dir, 'updock.json');
});

afterEach(() => {
	vi.useRealTimers();
});

/** Write the file from another process, as a second updock or an editor would. */
async function writeFromAnotherProcess(file: string, text: string): Promise<void> {
	const child = spawn(process.execPath, ['-e', 'require("node:fs").writeFileSync(process.argv[1], process.argv[2])', file, text], {stdio: 'ignore'});
	const code = await new Promise<number | null>(resolve => child.once('exit', resolve));
	expect(code).toBe(0);
}

describe('JsonStore keeps the last file it read or wrote', () => {
	it('hands out the same frozen value while the file is unchanged', async () => {
		await writeFile(path, withPin('web'));
		const store = new JsonStore(path);
		const first = await store.load();
		const second = await store.load();
		expect(second).toBe(first);
		expect(Object.isFrozen(first.pins[0])).toBe(true);
		expect(() => first.pins.push(pin('api'))).toThrow(TypeError);
		expect((await store.load()).pins.map(saved => saved.name)).toEqual(['web']);
	});

	// Checked right before the change, where the bytes are compared, and with the clock an hour ahead at
	// the check, where the file's times alone decide.
	const laters = [['right after', 0], ['an hour after', 3_600_000]] as const;

	it.each(laters)('sees a change made in place by another process %s, same size, with the old modification time put back', async (_, laterMs) => {
		await writeFile(path, withPin('web'));
		await utimes(path, fixedTime, fixedTime);
		const before = await stat(path, {bigint: true});
		vi.useFakeTimers({toFake: ['Date'], now: Date.now() + laterMs});
		const store = new JsonStore(path);
		expect((await store.load()).pins[0]?.name).toBe('web');
		await writeFromAnotherProcess(path, withPin('api'));
		await utimes(path, fixedTime, fixedTime);
		const after = await stat(path, {bigint: true});
		expect([after.ino, after.size, after.mtimeNs]).toEqual([before.ino, before.size, before.mtimeNs]);
		expect((await store.load()).pins[0]?.name).toBe('api');
	});

	it.each(laters)('sees a file put in its place by a rename %s, same size and modification time', async (_, laterMs) => {
		await writeFile(path, withPin('web'));
		await utimes(path, fixedTime, fixedTime);
		const before = await stat(path, {bigint: true});
		vi.useFakeTimers({toFake: ['Date'], now: Date.now() + laterMs});
		const store = new JsonStore(path);
		expect((await store.load()).pins[0]?.name).toBe('web');
		const replacement = join(dir, 'replacement.json');
		await writeFile(replacement, withPin('api'));
		await utimes(replacement, fixedTime, fixedTime);
		await rename(replacement, path);
		const after = await stat(path, {bigint: true});
		expect([after.size, after.mtimeNs]).toEqual([before.size, before.mtimeNs]);
		expect((await store.load()).pins[0]?.name).toBe('api');
	});

	it('sees what another store on the same file wrote, and a file removed', async () => {
		const store = new JsonStore(path);
		const other = new JsonStore(path);
		await store.update(data => {
			data.pins.push(pin('web'));
		});
		expect((await other.load()).pins.map(saved => saved.name)).toEqual(['web']);
		await other.update(data => {
			data.pins.push(pin('api'));
		});
		expect((await store.load()).pins.map(saved => saved.name)).toEqual(['web', 'api']);
		await unlink(path);
		expect((await store.load()).pins).toEqual([]);
	});

	it('long after the last check trusts the file times, and still sees a change', async () => {
		await writeFile(path, withPin('web'));
		const store = new JsonStore(path);
		const first = await store.load();
		// An hour on: the file's change time is far behind the last check, so its times alone decide.
		vi.useFakeTimers({toFake: ['Date'], now: Date.now() + 3_600_000});
		expect(await store.load()).toBe(first);
		await writeFromAnotherProcess(path, withPin('api'));
		expect((await store.load()).pins[0]?.name).toBe('api');
	});

	it('never lets a change reach a value already handed out, nor keeps a change that threw', async () => {
		const store = new JsonStore(path);
		await store.update(data => {
			data.pins.push(pin('web'));
		});
		const loaded = await store.load();
		await expect(store.update(data => {
			data.pins.push(pin('api'));
			throw new Error('changed my mind');
		})).rejects.toThrow('changed my mind');
		expect(loaded.pins.map(saved => saved.name)).toEqual(['web']);
		expect((await store.load()).pins.map(saved => saved.name)).toEqual(['web']);
		await store.update(data => {
			data.pins.push(pin('api'));
		});
		expect(loaded.pins.map(saved => saved.name)).toEqual(['web']);
		expect((await store.load()).pins.map(saved => saved.name)).toEqual(['web', 'api']);
		expect(JSON.parse(await readFile(path, 'utf8'))).toMatchObject({pins: [{name: 'web'}, {name: 'api'}]});
	});

	it('refuses a change to a row of the last scan made in place, rather than changing every reader', async () => {
		const store = new JsonStore(path);
		const row = {host: 'local', kind: 'container' as const, service: null, id: 'a1', name: 'web', image: 'nginx:1', state: 'running', imageId: '', platform: null, reference: 'docker.io/library/nginx:1', verdict: {status: 'up-to-date' as const, localDigest: 'sha256:1', remoteDigest: 'sha256:1'}};
		await store.update(data => {
			data.lastScan = LastResults.made({scannedAt: '2026-01-01T00:00:00.000Z', hosts: [], durationMs: 1, containers: [row], summary: summarize([row])});
		});
		await expect(store.update(data => {
			Object.assign(data.lastScan!.report()!.containers[0]!, {state: 'exited'});
		})).rejects.toThrow(TypeError);
		expect((await store.load()).lastScan?.report()?.containers[0]?.state).toBe('running');
		// Read back by another store, as from the file: checked, and frozen too.
		await expect(new JsonStore(path).update(data => {
			Object.assign(data.lastScan!.report()!.containers[0]!, {state: 'exited'});
		})).rejects.toThrow(TypeError);
	});
});
