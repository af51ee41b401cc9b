import {describe, expect, it} from 'vitest';
import {RegistryError} from '../../source/core/errors.ts';
import {NewerVersionsStep, type TagSource} from '../../source/core/newer-step.ts';
import type {Clock} from '../../source/core/ports.ts';
import type {ImageReference} from '../../source/core/reference.ts';
import {Scanner} from '../../source/core/scanner.ts';
import type {ContainerFacts, RemoteTag} from '../../source/core/types.ts';
import {container, digest, engine, FakeRegistry, memory, oneHost} from './fakes.ts';

/** A promise with its resolve in hand. */
function deferred(): {promise: Promise<void>; resolve: () => void} {
	let resolve = (): void => undefined;
	const promise = new Promise<void>(done => {
		resolve = done;
	});
	return {promise, resolve};
}

/** Fails instead of hanging: a scan whose HEADs wait for a listing that only starts after them never ends. */
async function guarded<T>(work: Promise<T>, what: string): Promise<T> {
	let timer: NodeJS.Timeout | undefined;
	const timeout = new Promise<never>((_, reject) => {
		timer = setTimeout(() => {
			reject(new Error(`${what} did not finish within 5 s: deadlocked`));
		}, 5000);
	});
	try {
		return await Promise.race([work, timeout]);
	} finally {
		clearTimeout(timer);
	}
}

/** Tag listings in memory, recorded by repository as they are asked for. */
class FakeTags implements TagSource {
	readonly listed: string[] = [];
	readonly tags = new Map<string, string[] | Error>();
	#onList: () => void = () => undefined;

	/** Called at every listing, as it is asked for. */
	onList(listener: () => void): void {
		this.#onList = listener;
	}

	async listTags(reference: ImageReference): Promise<string[]> {
		const repository = `${reference.registry}/${reference.repository}`;
		this.listed.push(repository);
		this.#onList();
		const answer = this.tags.get(repository);
		if (answer === undefined) {
			throw new RegistryError({message: `No repository ${repository}`, status: 404, code: 'NAME_UNKNOWN', url: repository, temporary: false});
		}

		if (answer instanceof Error) {
			throw answer;
		}

		return answer;
	}
}

/** A registry whose HEADs wait for `gate` first. */
class GatedRegistry extends FakeRegistry {
	readonly #gate: Promise<void>;

	constructor(gate: Promise<void>) {
		super();
		this.#gate = gate;
	}

	override async headTag(reference: ImageReference): Promise<RemoteTag> {
		await this.#gate;
		return super.headTag(reference);
	}
}

const nginxTags = ['1.24.0', '1.25.3', '1.25.4', '1.26.0', 'latest'];
const upToDate = (name: string, image: string, host = 'local'): ContainerFacts => container({name, image, host, repoDigests: [`${image.split(':')[0]!}@${digest('a')}`]});

function registryWith(registry: FakeRegistry, ...references: string[]): FakeRegistry {
	for (const reference of references) {
		registry.tags.set(reference, {digest: digest('a'), mediaType: ''});
	}

	return registry;
}

describe('NewerVersionsStep in a scan', () => {
	it('starts the listings while the HEADs run, not after them', async () => {
		const listingAsked = deferred();
		const tags = new FakeTags();
		tags.tags.set('docker.io/library/nginx', nginxTags);
		tags.onList(listingAsked.resolve);
		// Every HEAD waits until a listing has been asked for: run one after the other, this never ends.
		const registry = registryWith(new GatedRegistry(listingAsked.promise), 'docker.io/library/nginx:1.25.3');
		const scanner = new Scanner({hosts: oneHost(engine([upToDate('web', 'nginx:1.25.3')])), registry, memory: memory(), steps: [new NewerVersionsStep({tags})]});
		const {report} = await guarded(scanner.scan(), 'a scan whose HEADs wait for a listing');
		expect(registry.heads).toEqual(['docker.io/library/nginx:1.25.3']);
		expect(tags.listed).toEqual(['docker.io/library/nginx']);
		expect(report.containers[0]).toMatchObject({verdict: {status: 'up-to-date'}, newer: [{tag: '1.25.4', type: 'patch'}, {tag: '1.26.0', type: 'minor'}], newerError: null});
	});

	it('lists each repository once per scan, whatever the tags, containers and hosts that share it', async () => {
		const tags = new FakeTags();
		tags.tags.set('docker.io/library/nginx', nginxTags);
		tags.tags.set('ghcr.io/acme/api', ['2.0', '2.1']);
		const registry = registryWith(new FakeRegistry(), 'docker.io/library/nginx:1.25.3', 'docker.io/library/nginx:1.24.0', 'ghcr.io/acme/api:2.0');
		const hosts = [
			...oneHost(engine([upToDate('a', 'nginx:1.25.3'), upToDate('b', 'nginx:1.24.0'), upToDate('api', 'ghcr.io/acme/api:2.0')]), 'one'),
			...oneHost(engine([upToDate('c', 'nginx:1.25.3', 'two')]), 'two'),
		];
		const {report} = await new Scanner({hosts, registry, memory: memory(), steps: [new NewerVersionsStep({tags})]}).scan();
		expect([...tags.listed].sort()).toEqual(['docker.io/library/nginx', 'ghcr.io/acme/api']);
		expect(Object.fromEntries(report.containers.map(result => [result.name, result.newer?.map(version => version.tag)]))).toEqual({
			a: ['1.25.4', '1.26.0'],
			b: ['1.26.0'],
			api: ['2.1'],
			c: ['1.25.4', '1.26.0'],
		});
	});

	it('awaits the listing it began, even when listings are not reused between scans', async () => {
		const tags = new FakeTags();
		tags.tags.set('docker.io/library/nginx', nginxTags);
		const registry = registryWith(new FakeRegistry(), 'docker.io/library/nginx:1.25.3');
		const scanner = new Scanner({hosts: oneHost(engine([upToDate('web', 'nginx:1.25.3')])), registry, memory: memory(), steps: [new NewerVersionsStep({tags, cacheMs: 0})]});
		await scanner.scan();
		const {report} = await scanner.scan();
		expect(tags.listed).toEqual(['docker.io/library/nginx', 'docker.io/library/nginx']);
		expect(report.containers[0]?.newer).toHaveLength(2);
	});

	it('lists nothing for repositories whose rows are pinned, excluded, unknown or not on a version tag', async () => {
		const tags = new FakeTags();
		const registry = registryWith(new FakeRegistry(), 'docker.io/library/redis:latest', 'docker.io/library/postgres:16');
		const containers = [
			upToDate('pinned', 'nginx:1.25.3'),
			upToDate('excluded', 'ghcr.io/acme/app:1.0'),
			container({name: 'local', image: 'myapp:1.0'}),
			upToDate('latest', 'redis:latest'),
			container({name: 'labelled', image: 'postgres:16', repoDigests: [`postgres@${digest('a')}`], labels: {'updock.tags': 'off'}}),
		];
		const {report} = await new Scanner({
			hosts: oneHost(engine(containers)),
			registry,
			memory: memory({pins: [{name: 'pinned', containerId: 'x', pinnedAt: '2026-01-01T00:00:00.000Z'}], exclusions: [{id: 1, pattern: 'ghcr.io/acme/*', createdAt: ''}]}),
			steps: [new NewerVersionsStep({tags})],
		}).scan();
		expect(tags.listed).toEqual([]);
		expect(report.containers.map(result => result.newer)).toEqual([null, null, null, null, null]);
	});

	it('waits for the registry to be prepared before listing (the scan\'s one token, not one per listing)', async () => {
		const preparing = deferred();
		const order: string[] = [];
		const registry = registryWith(new FakeRegistry(), 'docker.io/library/nginx:1.25.3');
		const prepared = Object.assign(registry, {
			async prepare(): Promise<void> {
				await preparing.promise;
				order.push('prepared');
			},
		});
		const tags = new FakeTags();
		tags.tags.set('docker.io/library/nginx', nginxTags);
		tags.onList(() => order.push('listed'));
		const scan = new Scanner({hosts: oneHost(engine([upToDate('web', 'nginx:1.25.3')])), registry: prepared, memory: memory(), steps: [new NewerVersionsStep({tags})]}).scan();
		await new Promise(resolve => setImmediate(resolve));
		expect(order).toEqual([]);
		preparing.resolve();
		await scan;
		expect(order).toEqual(['prepared', 'listed']);
	});

	it('keeps at most `concurrency` listings of one registry in flight', async () => {
		let inFlight = 0;
		let most = 0;
		const listed: string[] = [];
		const tags: TagSource = {
			async listTags(reference) {
				listed.push(reference.repository);
				most = Math.max(most, ++inFlight);
				// A few turns of the event loop, so that listings started together overlap.
				for (let turn = 0; turn < 5; turn++) {
					await new Promise(resolve => setImmediate(resolve));
				}

				inFlight--;
				return ['1.0', '1.1'];
			},
		};
		const names = ['a', 'b', 'c', 'd', 'e'];
		const registry = registryWith(new FakeRegistry(), ...names.map(name => `docker.io/acme/${name}:1.0`));
		await new Scanner({hosts: oneHost(engine(names.map(name => upToDate(name, `acme/${name}:1.0`)))), registry, memory: memory(), steps: [new NewerVersionsStep({tags, concurrency: 2})]}).scan();
		expect(listed.sort()).toEqual(names.map(name => `acme/${name}`));
		expect(most).toBe(2);
	});

	it('reuses a listing within cacheMs, lists again after it, and never keeps a failure', async () => {
		let now = Date.parse('2026-05-01T00:00:00Z');
		const clock: Clock = {now: () => new Date(now)};
		const tags = new FakeTags();
		tags.tags.set('docker.io/library/nginx', new RegistryError({message: 'Registry docker.io did not answer', status: null, code: 'TIMEOUT', url: '', temporary: true}));
		const registry = registryWith(new FakeRegistry(), 'docker.io/library/nginx:1.25.3');
		const step = new NewerVersionsStep({tags, cacheMs: 60_000, clock});
		const scanner = new Scanner({hosts: oneHost(engine([upToDate('web', 'nginx:1.25.3')])), registry, memory: memory(), steps: [step]});

		const failed = await scanner.scan();
		expect(failed.report.containers[0]).toMatchObject({verdict: {status: 'up-to-date'}, newer: null, newerError: 'Could not list the tags of docker.io/library/nginx: Registry docker.io did not answer'});

		tags.tags.set('docker.io/library/nginx', nginxTags);
		const listedAgain = await scanner.scan();
		expect(tags.listed).toHaveLength(2);
		expect(listedAgain.report.containers[0]).toMatchObject({newer: [{tag: '1.25.4'}, {tag: '1.26.0'}], newerError: null});

		now += 59_000;
		const reused = await scanner.scan();
		expect(tags.listed).toHaveLength(2);
		expect(reused.report.containers[0]?.newer).toEqual(listedAgain.report.containers[0]?.newer);

		now += 2000;
		await scanner.scan();
		expect(tags.listed).toHaveLength(3);
	});

	it('lists a repository whose only row ends unknown once the HEAD is in (the plan could not know), and reports no versions for it', async () => {
		const tags = new FakeTags();
		tags.tags.set('docker.io/library/nginx', nginxTags);
		const registry = new FakeRegistry();
		registry.tags.set('docker.io/library/nginx:1.25.3', {digest: digest('b'), mediaType: ''});
		// The digest differs and the engine no longer knows the image's platform: the verdict is unknown.
		const gone = container({name: 'gone', image: 'nginx:1.25.3', repoDigests: [`nginx@${digest('a')}`], platform: null, imageId: digest('9')});
		const source = {...engine([gone]), imagePlatform: async () => null};
		const {report} = await new Scanner({hosts: oneHost(source), registry, memory: memory(), steps: [new NewerVersionsStep({tags})]}).scan();
		expect(report.containers[0]).toMatchObject({verdict: {status: 'unknown'}, newer: null, newerError: null});
		expect(tags.listed).toEqual(['docker.io/library/nginx']);
	});

	it('leaves no unhandled rejection when the scan stops while its listings run', async () => {
		const controller = new AbortController();
		const headAsked = deferred();
		const tags: TagSource = {
			async listTags(_reference, signal) {
				await new Promise((_, reject) => {
					signal?.addEventListener('abort', () => {
						reject(signal.reason);
					});
				});
				return [];
			},
		};
		// HEADs that answer only by failing when the scan stops.
		const registry = new class extends FakeRegistry {
			override async headTag(_reference: ImageReference, signal?: AbortSignal): Promise<RemoteTag> {
				headAsked.resolve();
				return new Promise((_, reject) => {
					signal?.addEventListener('abort', () => {
						reject(signal.reason);
					});
				});
			}
		}();

		const scan = new Scanner({hosts: oneHost(engine([upToDate('web', 'nginx:1.25.3')])), registry, memory: memory(), steps: [new NewerVersionsStep({tags})]}).scan(controller.signal);
		await headAsked.promise;
		controller.abort(new Error('stopped'));
		await expect(scan).rejects.toThrow('stopped');
		// Vitest fails the run on an unhandled rejection; give one a chance to surface.
		await new Promise(resolve => setImmediate(resolve));
	});
});

describe('NewerVersionsStep on its own', () => {
	it('lists in run() when nothing was begun', async () => {
		const tags = new FakeTags();
		tags.tags.set('docker.io/library/nginx', nginxTags);
		const registry = registryWith(new FakeRegistry(), 'docker.io/library/nginx:1.25.3');
		const {report} = await new Scanner({hosts: oneHost(engine([upToDate('web', 'nginx:1.25.3')])), registry, memory: memory()}).scan();
		const step = new NewerVersionsStep({tags});
		const added = await step.run(report.containers.map(result => ({result, facts: upToDate('web', 'nginx:1.25.3'), reference: {registry: 'docker.io', repository: 'library/nginx', tag: '1.25.3', digest: null}})));
		expect([...added.values()]).toEqual([{newer: [{tag: '1.25.4', type: 'patch'}, {tag: '1.26.0', type: 'minor'}], newerError: null}]);
		expect(tags.listed).toEqual(['docker.io/library/nginx']);
	});
});
