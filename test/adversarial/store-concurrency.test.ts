import {spawn, type ChildProcess} from 'node:child_process';
import {mkdir, readFile, readdir, stat, symlink, utimes, writeFile} from 'node:fs/promises';
import {join} from 'node:path';
import {pathToFileURL} from 'node:url';
import {beforeEach, describe, expect, it} from 'vitest';
import {z} from 'zod';
import {JsonSettings, JsonStore} from '../../source/store/store.ts';
import {temporaryDirectory} from '../helpers/temporary.ts';

const storeModule = pathToFileURL(join(import.meta.dirname, '../../source/store/store.ts')).href;

let dir: string;
let path: string;
beforeEach(async () => {
	dir = await temporaryDirectory('updock-store-race-');
	path = join(dir, 'updock.json');
});

async function savedPins(): Promise<string[]> {
	const {pins} = z.object({pins: z.array(z.object({name: z.string()}))}).parse(JSON.parse(await readFile(path, 'utf8')));
	return pins.map(pin => pin.name).sort();
}

/** A node process running `script` (TypeScript, run as Node runs .ts files) with `args`. */
async function startChild(script: string, args: readonly string[]): Promise<{child: ChildProcess; lines: () => string[]; waitFor: (line: string) => Promise<void>; exited: Promise<number | null>}> {
	const file = join(dir, `child-${Math.random().toString(16).slice(2)}.ts`);
	await writeFile(file, script);
	const child = spawn(process.execPath, [file, ...args], {stdio: ['pipe', 'pipe', 'pipe']});
	const seen: string[] = [];
	let stderr = '';
	const waiters: Array<() => void> = [];
	let buffered = '';
	child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
		buffered += chunk;
		const parts = buffered.split('\n');
		buffered = parts.pop() ?? '';
		seen.push(...parts);
		for (const wake of waiters.splice(0)) {
			wake();
		}
	});
	child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
		stderr += chunk;
	});
	const exited = new Promise<number | null>(resolve => {
		child.on('exit', code => {
			for (const wake of waiters.splice(0)) {
				wake();
			}

			resolve(code);
		});
	});
	const waitFor = async (line: string): Promise<void> => {
		while (!seen.includes(line)) {
			if (child.exitCode !== null || child.signalCode !== null) {
				throw new Error(`child exited (${child.exitCode ?? child.signalCode}) before "${line}": ${stderr}`);
			}

			await new Promise<void>(resolve => waiters.push(resolve));
		}
	};

	return {child, lines: () => seen, waitFor, exited};
}

describe('no update is lost', () => {
	it('keeps all of 50 changes made at once in one process, through two stores and a link to the file', async () => {
		const link = join(dir, 'link.json');
		await symlink('updock.json', link);
		const stores = [new JsonStore(path), new JsonStore(path), new JsonStore(link)];
		const settings = stores.map(store => new JsonSettings(store));
		const names = Array.from({length: 50}, (_, index) => `c${index}`);
		const results = await Promise.all(names.map(async (name, index) => {
			// Raw updates and settings calls mixed, as the live view's scan save and a pin are.
			if (index % 2 === 0) {
				return stores[index % 3]!.update(data => {
					data.pins.push({name, containerId: `id-${name}`, pinnedAt: new Date().toISOString()});
					return true;
				});
			}

			return settings[index % 3]!.pin(name, `id-${name}`);
		}));
		expect(results.every(Boolean)).toBe(true);
		expect(await savedPins()).toEqual([...names].sort());
		expect((await stat(link)).isFile()).toBe(true);
		expect(await readdir(dir)).toEqual(['link.json', 'updock.json']);
	});

	it('applies one process\'s changes in the order they were made (a pin then an unpin stays unpinned)', async () => {
		const store = new JsonStore(path);
		const settings = new JsonSettings(store);
		const order = Array.from({length: 20}, (_, index) => index);
		const toggles = [settings.pin('web', 'id'), settings.unpin('web'), settings.pin('web', 'id'), settings.unpin('web')];
		await Promise.all(order.map(async index => store.update(data => {
			data.exclusions.push({id: data.nextExclusionId++, pattern: `team-${index}/*`, createdAt: new Date().toISOString()});
		})));
		expect(await Promise.all(toggles)).toEqual([true, true, true, true]);
		expect(await savedPins()).toEqual([]);
		expect((await store.load()).exclusions.map(exclusion => exclusion.pattern)).toEqual(order.map(index => `team-${index}/*`));
	});

	it('keeps every pin when three processes pin at the same time', async () => {
		const script = `
import {JsonSettings, JsonStore} from ${JSON.stringify(storeModule)};
const [path, prefix, count] = process.argv.slice(2);
const settings = new JsonSettings(new JsonStore(path));
process.stdout.write('ready\\n');
await new Promise(resolve => process.stdin.once('data', resolve));
const added = await Promise.all(Array.from({length: Number(count)}, (_, index) => settings.pin(prefix + '-' + index, 'id')));
process.stdout.write(added.every(Boolean) ? 'done\\n' : 'refused\\n');
process.stdin.destroy();
`;
		const children = await Promise.all(['a', 'b', 'c'].map(async prefix => startChild(script, [path, prefix, '20'])));
		// Every child has loaded its modules and waits: "go" reaches them together.
		await Promise.all(children.map(async child => child.waitFor('ready')));
		for (const {child} of children) {
			child.stdin!.write('go\n');
		}

		const codes = await Promise.all(children.map(async child => child.exited));
		expect(codes).toEqual([0, 0, 0]);
		expect(children.map(child => child.lines().at(-1))).toEqual(['done', 'done', 'done']);
		const expected = ['a', 'b', 'c'].flatMap(prefix => Array.from({length: 20}, (_, index) => `${prefix}-${index}`)).sort();
		expect(await savedPins()).toEqual(expected);
		expect((await readdir(dir)).filter(name => name.startsWith('.') || name.endsWith('.lock'))).toEqual([]);
	}, 60_000);

	it('a change that throws lets the next one through', async () => {
		const store = new JsonStore(path);
		const failing = store.update(() => {
			throw new Error('changed my mind');
		});
		const next = new JsonSettings(store).pin('web', 'id');
		await expect(failing).rejects.toThrow('changed my mind');
		expect(await next).toBe(true);
		expect(await savedPins()).toEqual(['web']);
	});
});

describe('a lock left behind', () => {
	it('is taken over at once when it is older than the stale window', async () => {
		await writeFile(path, '{"pins": []}');
		const lock = `${path}.lock`;
		await mkdir(lock);
		const longAgo = new Date(Date.now() - 60_000);
		await utimes(lock, longAgo, longAgo);
		expect(await new JsonSettings(new JsonStore(path)).pin('web', 'id')).toBe(true);
		expect(await savedPins()).toEqual(['web']);
		expect(await readdir(dir)).toEqual(['updock.json']);
	});

	it('by a process killed while it held it does not block the next writer for good', async () => {
		const script = `
import {JsonStore} from ${JSON.stringify(storeModule)};
await new JsonStore(process.argv[2]).update(() => {
	process.stdout.write('holding\\n');
	for (;;) {}
});
`;
		const holder = await startChild(script, [path]);
		await holder.waitFor('holding');
		holder.child.kill('SIGKILL');
		await holder.exited;
		// The dead process's lock is still there, fresh: only the stale window frees it.
		expect((await stat(`${path}.lock`)).isDirectory()).toBe(true);
		expect(await new JsonSettings(new JsonStore(path)).pin('web', 'id')).toBe(true);
		expect(await savedPins()).toEqual(['web']);
		expect(await readdir(dir)).not.toContain('updock.json.lock');
	}, 60_000);
});
