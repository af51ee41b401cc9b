import {describeError} from './errors.ts';
import {forEachLimit} from './limit.ts';
import {planScan, type ContainerToCheck, type PlannedContainer} from './plan.ts';
import type {Clock, ContainerSource, RegistryClient, ScanMemory} from './ports.ts';
import {formatReference} from './reference.ts';
import {formatPlatform, summarize, type ContainerFacts, type ContainerResult, type ImageStore, type Platform, type PlatformImage, type RemoteTag, type ScanReport, type Verdict} from './types.ts';
import {verdictFromPlatformImage, verdictFromTag} from './verdict.ts';

/** What a scan reports while it runs. */
export type ScanEvent =
	| {readonly type: 'started'; readonly containers: readonly ContainerFacts[]; readonly checks: number; readonly partial: boolean}
	| {readonly type: 'result'; readonly result: ContainerResult}
	| {readonly type: 'progress'; readonly checked: number; readonly checks: number}
	| {readonly type: 'finished'; readonly report: ScanReport};

export interface ScannerOptions {
	readonly containers: ContainerSource;
	readonly registry: RegistryClient;
	/** Read at the start of every scan, so pins and exclusions made since are honoured. */
	readonly memory: () => Promise<ScanMemory>;
	readonly clock?: Clock;
	/**
	 * Registry checks (unique tags) in flight at once per registry.
	 * @default 8
	 */
	readonly concurrency?: number;
}

/** A finished scan and what it learned that is worth remembering. */
export interface ScanOutcome {
	readonly report: ScanReport;
	/** Platform resolutions made by this scan, keyed by `platformImageKey`. */
	readonly learned: ReadonlyMap<string, PlatformImage>;
}

export function platformImageKey(digest: string, platform: Platform): string {
	return `${digest}|${formatPlatform(platform)}`;
}

const systemClock: Clock = {now: () => new Date()};

/** One scan of every container: settle what needs no registry, then one HEAD per unique tag. */
export class Scanner {
	readonly #options: ScannerOptions;
	readonly #listeners = new Set<(event: ScanEvent) => void>();

	constructor(options: ScannerOptions) {
		this.#options = options;
	}

	/** Listen to scan events; returns the function that stops listening. */
	subscribe(listener: (event: ScanEvent) => void): () => void {
		this.#listeners.add(listener);
		return () => this.#listeners.delete(listener);
	}

	/**
	 * Scan every container, or with `only` just those ids (a container created or recreated since the
	 * last scan). The report then holds only those.
	 */
	async scan(signal?: AbortSignal, only?: ReadonlySet<string>): Promise<ScanOutcome> {
		const clock = this.#options.clock ?? systemClock;
		const started = clock.now();
		const [imageStore, listed, memory] = await Promise.all([
			this.#options.containers.imageStore(signal),
			this.#options.containers.listContainers(signal),
			this.#options.memory(),
		]);
		const facts = only === undefined ? listed : listed.filter(fact => only.has(fact.id));
		const plan = planScan(facts, memory.pins, memory.exclusions, imageStore);
		this.#emit({type: 'started', containers: facts, checks: plan.checks.size, partial: only !== undefined});

		const results = new Map<PlannedContainer, ContainerResult>();
		// Image platforms, asked of the engine only for containers whose tag's digest differs.
		const platforms = new Map<string, Promise<Platform | null>>();
		const platformOf = async (imageId: string): Promise<Platform | null> => {
			let pending = platforms.get(imageId);
			if (pending === undefined) {
				pending = this.#options.containers.imagePlatform(imageId, signal);
				platforms.set(imageId, pending);
			}

			return pending;
		};

		const record = (planned: PlannedContainer, verdict: Verdict, platform: Platform | null = planned.facts.platform): void => {
			const result = toResult(planned, verdict, platform);
			results.set(planned, result);
			this.#emit({type: 'result', result});
		};

		const byKey = new Map<string, ContainerToCheck[]>();
		for (const planned of plan.containers) {
			if (planned.kind === 'settled') {
				record(planned, planned.verdict);
			} else {
				byKey.set(planned.key, [...(byKey.get(planned.key) ?? []), planned]);
			}
		}

		const learned = new Map<string, PlatformImage>();
		const resolving = new Map<string, Promise<PlatformImage>>();
		const resolve = async (container: ContainerToCheck, remote: RemoteTag, platform: Platform): Promise<PlatformImage> => {
			const key = platformImageKey(remote.digest, platform);
			const known = memory.platformImage(remote.digest, platform) ?? learned.get(key);
			if (known !== undefined) {
				return known;
			}

			let pending = resolving.get(key);
			if (pending === undefined) {
				pending = this.#options.registry.resolvePlatform(container.reference, remote.digest, platform, signal).then(image => {
					learned.set(key, image);
					return image;
				});
				resolving.set(key, pending);
			}

			return pending;
		};

		// Each registry gets its own queue and limit, so a slow or dead registry never holds up the others.
		const byRegistry = new Map<string, ContainerToCheck[][]>();
		for (const containers of byKey.values()) {
			const {registry} = containers[0]!.reference;
			byRegistry.set(registry, [...(byRegistry.get(registry) ?? []), containers]);
		}

		let checked = 0;
		const check = async (containers: ContainerToCheck[]): Promise<void> => {
			const first = containers[0]!;
			let remote: RemoteTag;
			try {
				remote = await this.#options.registry.headTag(first.reference, signal);
			} catch (error) {
				rethrowAbort(error, signal);
				for (const container of containers) {
					record(container, {status: 'error', error: describeError(error), localDigest: container.localDigests[0] ?? null});
				}

				this.#emit({type: 'progress', checked: ++checked, checks: plan.checks.size});
				return;
			}

			await Promise.all(containers.map(async container => {
				const {verdict, platform} = await this.#decide(container, remote, imageStore, resolve, platformOf, signal);
				record(container, verdict, platform);
			}));
			this.#emit({type: 'progress', checked: ++checked, checks: plan.checks.size});
		};

		await Promise.all([...byRegistry].map(async ([registry, groups]) => {
			const repositories = [...new Set(groups.map(containers => containers[0]!.reference.repository))];
			await this.#options.registry.prepare?.(registry, repositories, signal);
			await forEachLimit(groups, this.#options.concurrency ?? 8, check);
		}));

		const ordered = plan.containers.map(planned => results.get(planned)!);
		const finished = clock.now();
		const report: ScanReport = {
			scannedAt: started.toISOString(),
			durationMs: Math.max(0, finished.getTime() - started.getTime()),
			containers: ordered,
			summary: summarize(ordered),
			rateLimits: this.#options.registry.rateLimits?.() ?? [],
		};
		this.#emit({type: 'finished', report});
		return {report, learned};
	}

	async #decide(
		container: ContainerToCheck,
		remote: RemoteTag,
		imageStore: ImageStore,
		resolve: (container: ContainerToCheck, remote: RemoteTag, platform: Platform) => Promise<PlatformImage>,
		platformOf: (imageId: string) => Promise<Platform | null>,
		signal: AbortSignal | undefined,
	): Promise<{verdict: Verdict; platform: Platform | null}> {
		const quick = verdictFromTag(container, remote);
		if (quick !== null) {
			return {verdict: quick, platform: container.facts.platform};
		}

		let platform: Platform | null = container.facts.platform;
		try {
			platform ??= await platformOf(container.facts.imageId);
			if (platform === null) {
				return {verdict: {status: 'unknown', reason: 'The image this container was created from is no longer in the engine, so there is nothing to compare with.'}, platform};
			}

			const image = await resolve(container, remote, platform);
			return {verdict: verdictFromPlatformImage(container, remote, image, imageStore), platform};
		} catch (error) {
			rethrowAbort(error, signal);
			return {verdict: {status: 'error', error: describeError(error), localDigest: container.localDigests[0] ?? null}, platform};
		}
	}

	#emit(event: ScanEvent): void {
		for (const listener of this.#listeners) {
			listener(event);
		}
	}
}

/** A scan that was stopped ends as a whole; any other failure is data in the row. */
function rethrowAbort(error: unknown, signal: AbortSignal | undefined): void {
	if (signal?.aborted) {
		throw signal.reason ?? error;
	}
}

function toResult(planned: PlannedContainer, verdict: Verdict, platform: Platform | null): ContainerResult {
	const {facts} = planned;
	return {
		id: facts.id,
		name: facts.name,
		image: facts.image,
		state: facts.state,
		imageId: facts.imageId,
		platform,
		reference: planned.reference === null ? null : formatReference(planned.reference),
		verdict,
	};
}
