import {describe, expect, it} from 'vitest';
import {Scanner, type ScanEvent} from '../../source/core/scanner.ts';
import {RegistryError} from '../../source/core/errors.ts';
import {container, digest, engine, FakeRegistry, memory, oneHost} from './fakes.ts';

describe('Scanner', () => {
	it('sends one HEAD per unique tag however many containers share it', async () => {
		const registry = new FakeRegistry();
		registry.tags.set('docker.io/library/nginx:1', {digest: digest('a'), mediaType: ''});
		const containers = ['a', 'b', 'c'].map(name => container({name, image: 'nginx:1', repoDigests: [`nginx@${digest('a')}`]}));
		const {report} = await new Scanner({hosts: oneHost(engine(containers)), registry, memory: memory()}).scan();
		expect(registry.heads).toEqual(['docker.io/library/nginx:1']);
		expect(report.summary).toMatchObject({total: 3, upToDate: 3});
	});

	it('compares with every RepoDigest of the repository, not the first', async () => {
		const registry = new FakeRegistry();
		registry.tags.set('docker.io/library/nginx:1', {digest: digest('b'), mediaType: ''});
		const facts = container({name: 'web', image: 'nginx:1', repoDigests: [`other/repo@${digest('b')}`, `nginx@${digest('a')}`, `docker.io/library/nginx@${digest('b')}`]});
		const {report} = await new Scanner({hosts: oneHost(engine([facts])), registry, memory: memory()}).scan();
		expect(report.containers[0]?.verdict).toEqual({status: 'up-to-date', localDigest: digest('b'), remoteDigest: digest('b')});
		expect(registry.resolves).toEqual([]);
	});

	it('resolves a changed digest once per digest and platform, and uses what it remembers', async () => {
		const registry = new FakeRegistry();
		registry.tags.set('docker.io/library/nginx:1', {digest: digest('c'), mediaType: ''});
		registry.images.set(digest('c'), {manifestDigest: digest('d'), configDigest: digest('1')});
		const containers = ['a', 'b'].map(name => container({name, image: 'nginx:1', repoDigests: [`nginx@${digest('a')}`]}));
		const scanner = new Scanner({hosts: oneHost(engine(containers)), registry, memory: memory()});
		const {report, learned} = await scanner.scan();
		expect(registry.resolves).toEqual([digest('c')]);
		expect(report.summary.upToDate).toBe(2);
		expect([...learned.keys()]).toEqual([`${digest('c')}|linux/amd64`]);

		const again = new Scanner({hosts: oneHost(engine(containers)), registry, memory: memory({known: new Map([[digest('c'), registry.images.get(digest('c'))!]])})});
		await again.scan();
		expect(registry.resolves).toEqual([digest('c')]);
	});

	it('reports update-available when the platform image has another config', async () => {
		const registry = new FakeRegistry();
		registry.tags.set('docker.io/library/nginx:1', {digest: digest('c'), mediaType: ''});
		registry.images.set(digest('c'), {manifestDigest: digest('d'), configDigest: digest('2')});
		const {report} = await new Scanner({hosts: oneHost(engine([container({name: 'a', image: 'nginx:1', repoDigests: [`nginx@${digest('a')}`]})])), registry, memory: memory()}).scan();
		expect(report.containers[0]?.verdict).toEqual({status: 'update-available', localDigest: digest('a'), remoteDigest: digest('c')});
	});

	it('keeps failures in their rows and checks the rest', async () => {
		const registry = new FakeRegistry();
		registry.tags.set('ghcr.io/acme/down:1', new RegistryError({message: 'Registry ghcr.io is unreachable', status: null, code: 'UNREACHABLE', url: '', temporary: true}));
		registry.tags.set('docker.io/library/nginx:1', {digest: digest('a'), mediaType: ''});
		const containers = [
			container({name: 'down', image: 'ghcr.io/acme/down:1', repoDigests: [`ghcr.io/acme/down@${digest('a')}`]}),
			container({name: 'web', image: 'nginx:1', repoDigests: [`nginx@${digest('a')}`]}),
		];
		const {report} = await new Scanner({hosts: oneHost(engine(containers)), registry, memory: memory()}).scan();
		expect(report.containers.map(result => result.verdict.status)).toEqual(['error', 'up-to-date']);
		expect(report.containers[0]?.verdict).toMatchObject({error: 'Registry ghcr.io is unreachable'});
	});

	it('settles pinned, excluded, digest, id and local containers without any request', async () => {
		const registry = new FakeRegistry();
		const containers = [
			container({name: 'pinned', image: 'nginx:1', repoDigests: [`nginx@${digest('a')}`]}),
			container({name: 'excluded', image: 'ghcr.io/acme/app:1', repoDigests: [`ghcr.io/acme/app@${digest('a')}`]}),
			container({name: 'digest', image: `nginx@${digest('a')}`, repoDigests: [`nginx@${digest('a')}`]}),
			container({name: 'by-id', image: '111111111111'}),
			container({name: 'local', image: 'myapp:dev'}),
			container({name: 'gone', image: 'nginx:2', repoDigests: [], imagePresent: false, platform: null}),
			container({name: 'broken', image: 'Bad/Name'}),
		];
		const {report} = await new Scanner({
			hosts: oneHost(engine(containers)),
			registry,
			memory: memory({pins: [{name: 'pinned', containerId: 'x', pinnedAt: '2026-01-01T00:00:00.000Z'}], exclusions: [{id: 1, pattern: 'ghcr.io/acme/*', createdAt: ''}]}),
		}).scan();
		expect(registry.heads).toEqual([]);
		expect(Object.fromEntries(report.containers.map(result => [result.name, result.verdict.status]))).toEqual({
			pinned: 'pinned', excluded: 'excluded', digest: 'pinned', 'by-id': 'pinned', local: 'unknown', gone: 'unknown', broken: 'error',
		});
	});

	it('reports progress and results as it goes', async () => {
		const registry = new FakeRegistry();
		registry.tags.set('docker.io/library/nginx:1', {digest: digest('a'), mediaType: ''});
		const scanner = new Scanner({hosts: oneHost(engine([container({name: 'a', image: 'nginx:1', repoDigests: [`nginx@${digest('a')}`]}), container({name: 'b', image: 'local:dev'})])), registry, memory: memory()});
		const events: ScanEvent['type'][] = [];
		const stop = scanner.subscribe(event => events.push(event.type));
		await scanner.scan();
		stop();
		await scanner.scan();
		expect(events).toEqual(['started', 'result', 'result', 'progress', 'finished']);
	});

	it('stops as a whole when aborted', async () => {
		const controller = new AbortController();
		const registry = new FakeRegistry();
		registry.headTag = async () => {
			controller.abort(new Error('stopped by the user'));
			throw new Error('aborted');
		};

		const scanner = new Scanner({hosts: oneHost(engine([container({name: 'a', image: 'nginx:1', repoDigests: [`nginx@${digest('a')}`]})])), registry, memory: memory()});
		await expect(scanner.scan(controller.signal)).rejects.toThrow('stopped by the user');
	});
});

describe('Scanner with a slow registry', () => {
	it('finishes the other registries while one still hangs', async () => {
		const registry = new FakeRegistry();
		let release: () => void = () => undefined;
		const hanging = new Promise<void>(resolve => {
			release = resolve;
		});
		const fastHead = registry.headTag.bind(registry);
		registry.headTag = async reference => {
			if (reference.registry === 'slow.example') {
				await hanging;
				throw new RegistryError({message: 'Registry slow.example did not answer', status: null, code: 'TIMEOUT', url: '', temporary: true});
			}

			return fastHead(reference);
		};

		const containers = [
			...Array.from({length: 4}, (_, index) => container({name: `slow${index}`, image: `slow.example/app${index}:1`, repoDigests: [`slow.example/app${index}@${digest('a')}`]})),
			...Array.from({length: 6}, (_, index) => container({name: `fast${index}`, image: `fast.example/app${index}:1`, repoDigests: [`fast.example/app${index}@${digest('a')}`]})),
		];
		for (let index = 0; index < 6; index++) {
			registry.tags.set(`fast.example/app${index}:1`, {digest: digest('a'), mediaType: ''});
		}

		const scanner = new Scanner({hosts: oneHost(engine(containers)), registry, memory: memory(), concurrency: 2});
		const done: string[] = [];
		scanner.subscribe(event => {
			if (event.type === 'result') {
				done.push(event.result.name);
				if (done.filter(name => name.startsWith('fast')).length === 6) {
					release();
				}
			}
		});
		const {report} = await scanner.scan();
		// Every fast result arrived before any slow one: the slow registry's queue held only its own slots.
		expect(done.slice(0, 6).every(name => name.startsWith('fast'))).toBe(true);
		expect(report.summary).toMatchObject({upToDate: 6, error: 4});
	});
});

describe('Scanner and the engine', () => {
	it('asks the engine for an image platform only when a digest differs, once per image', async () => {
		const registry = new FakeRegistry();
		registry.tags.set('docker.io/library/nginx:1', {digest: digest('c'), mediaType: ''});
		registry.tags.set('docker.io/library/redis:7', {digest: digest('a'), mediaType: ''});
		registry.images.set(digest('c'), {manifestDigest: digest('d'), configDigest: digest('1')});
		const asked: string[] = [];
		const containers = [
			container({name: 'a', image: 'nginx:1', repoDigests: [`nginx@${digest('a')}`], platform: null}),
			container({name: 'b', image: 'nginx:1', repoDigests: [`nginx@${digest('a')}`], platform: null}),
			container({name: 'c', image: 'redis:7', imageId: digest('2'), repoDigests: [`redis@${digest('a')}`], platform: null}),
		];
		const source = {...engine(containers), imagePlatform: async (imageId: string) => {
			asked.push(imageId);
			return {os: 'linux', architecture: 'amd64'};
		}};
		const {report} = await new Scanner({hosts: oneHost(source), registry, memory: memory()}).scan();
		expect(asked).toEqual([digest('1')]);
		expect(report.containers.map(result => [result.name, result.verdict.status, result.platform?.architecture ?? null])).toEqual([
			['a', 'up-to-date', 'amd64'], ['b', 'up-to-date', 'amd64'], ['c', 'up-to-date', null],
		]);
	});
});

describe('tokens for the repositories the last scan met', () => {
	it('are asked for while the engines are listed, and only on full scans', async () => {
		const calls: string[] = [];
		let listed: () => void = () => undefined;
		const listing = new Promise<void>(resolve => {
			listed = resolve;
		});
		const registry = new FakeRegistry();
		registry.tags.set('docker.io/library/nginx:1', {digest: digest('a'), mediaType: 'application/vnd.oci.image.index.v1+json'});
		const prepared = Object.assign(registry, {
			async prepare(name: string, repositories: readonly string[]): Promise<void> {
				calls.push(`prepare ${name} ${repositories.join(',')}`);
			},
		});
		const facts = [container({name: 'web', image: 'nginx:1', repoDigests: [`nginx@${digest('a')}`]})];
		const slow = {...engine(facts), listContainers: async () => {
			calls.push('listing');
			await listing;
			calls.push('listed');
			return facts;
		}};
		const scanner = new Scanner({hosts: oneHost(slow), registry: prepared, memory: memory(), expected: () => new Map([['docker.io', ['library/nginx', 'library/gone']]])});
		const scan = scanner.scan();
		await new Promise(resolve => {
			setImmediate(resolve);
		});
		expect(calls).toEqual(['prepare docker.io library/nginx,library/gone', 'listing']);
		listed();
		const {report} = await scan;
		expect(report.containers[0]?.verdict.status).toBe('up-to-date');
		// Then as always, for what the plan found.
		expect(calls.slice(2)).toEqual(['listed', 'prepare docker.io library/nginx']);

		calls.length = 0;
		listed();
		await scanner.scan(undefined, new Set([facts[0]!.id]));
		expect(calls.filter(call => call.startsWith('prepare'))).toEqual(['prepare docker.io library/nginx']);
	});
});
