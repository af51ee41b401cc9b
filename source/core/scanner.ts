import {DockerUnavailableError, describeError} from './errors.ts';
import {forEachLimit} from './limit.ts';
import {planScan, type ContainerToCheck, type PlannedContainer} from './plan.ts';
import type {Clock, ContainerSource, RegistryClient, ScanMemory} from './ports.ts';
import type {ImageReference} from './reference.ts';
import {formatPlatform, summarize, type ContainerFacts, type ContainerResult, type Enrichment, type HostReport, type ImageStore, type Platform, type PlatformImage, type RemoteTag, type ScanReport, type Verdict} from './types.ts';
import {verdictFromPlatformImage, verdictFromTag} from './verdict.ts';

/** What a scan reports while it runs. */
export type ScanEvent =
	/** `unlistedHosts`: hosts whose engine could not be listed; their containers are not in `containers`. */
	| {readonly type: 'started'; readonly containers: readonly ContainerFacts[]; readonly checks: number; readonly partial: boolean; readonly unlistedHosts: readonly string[]}
	| {readonly type: 'result'; readonly result: ContainerResult}
	| {readonly type: 'progress'; readonly checked: number; readonly checks: number}
	| {readonly type: 'finished'; readonly report: ScanReport};

/** One engine to scan. */
export interface HostSource {
	/** The name rows carry (`local`, a `--host` or saved name, a context name). */
	readonly name: string;
	/** As the user would write it, for messages and the JSON `hosts` list. */
	readonly address: string;
	readonly engine: ContainerSource;
}

/** A row as a step after the verdicts sees it. */
export interface ScanStepInput {
	readonly result: ContainerResult;
	readonly facts: ContainerFacts;
	readonly reference: ImageReference | null;
}

/** A row as the plan left it, before any registry was asked. */
export interface PlannedStepInput {
	readonly facts: ContainerFacts;
	readonly reference: ImageReference | null;
	/** The verdict the plan gave without a registry (pinned, excluded, unknown, unreadable); null while the tag is still to be checked. */
	readonly settled: Verdict | null;
}

/** What a step that begins early is told as soon as the scan is planned. */
export interface ScanStepPlan {
	readonly rows: readonly PlannedStepInput[];
	/**
	 * Resolves, never rejects, once the scanner has prepared `registry` for this scan (one token for all
	 * of its repositories): a request sent before then would fetch a token of its own.
	 */
	ready(registry: string): Promise<void>;
}

/** The rest of a step begun early: it gets the finished rows and returns what `run` would. */
export type ScanStepFinish = (rows: readonly ScanStepInput[]) => Promise<ReadonlyMap<ScanStepInput, Enrichment>>;

/**
 * A step after the verdicts (newer versions, links, vulnerabilities): it adds fields to rows and never
 * changes a verdict. Failures for one row are data in that row.
 */
export interface ScanStep {
	readonly name: string;
	/**
	 * Optional: called once per scan right after the plan, before the HEADs, so work that needs no
	 * verdict (tag listings) runs beside them rather than after them. The function it returns finishes
	 * the step for this scan in place of `run`. Whatever it starts must carry its own rejection
	 * handlers: a scan that stops early never calls that function.
	 */
	begin?(plan: ScanStepPlan, signal?: AbortSignal): ScanStepFinish;
	/**
	 * What to add, keyed by the row as given (no key string is made per row: with 50,000 rows those
	 * strings were a tenth of a scan's garbage); rows left out are unchanged.
	 */
	run(rows: readonly ScanStepInput[], signal?: AbortSignal): Promise<ReadonlyMap<ScanStepInput, Enrichment>>;
	/** What a row gets when the step as a whole failed unexpectedly. */
	failed(message: string): Enrichment;
}

export interface ScannerOptions {
	/** Every engine, listed concurrently; one that fails becomes an error for that host only. */
	readonly hosts: readonly HostSource[];
	/** The host that pins without a host name belong to. @default the first host */
	readonly defaultHost?: string;
	readonly registry: RegistryClient;
	/** Steps run in order after the verdicts. */
	readonly steps?: readonly ScanStep[];
	/** Read at the start of every scan, so pins and exclusions made since are honoured. */
	readonly memory: () => Promise<ScanMemory>;
	/**
	 * The registries and repositories the last scan met (see `lastScanRepositories`). Their tokens are
	 * asked for while the engines are listed, instead of after: a repository the listing does not
	 * name costs nothing more than its scope in a token request, one it names that was not expected
	 * gets its token after the listing, as without this.
	 */
	readonly expected?: () => ReadonlyMap<string, readonly string[]>;
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
		const {hosts} = this.#options;
		if (only === undefined) {
			for (const [registry, repositories] of this.#options.expected?.() ?? []) {
				// Not waited for here: the prepare after the plan waits for it where the registry is still
				// used, and one no longer used (perhaps down) must not hold up the scan. A failure is none.
				void this.#options.registry.prepare?.(registry, repositories, signal).catch(() => undefined);
			}
		}

		const listings = await Promise.all(hosts.map(async host => listHost(host, signal)));
		if (signal?.aborted) {
			throw signal.reason;
		}

		// Read after the listing, right before the plan and the `started` event: a pin made in the live
		// view before that event is in this memory, and one made after it wins over this scan's result.
		const memory = await this.#options.memory();

		const failed = listings.filter(listing => listing.error !== null);
		if (failed.length === listings.length && failed[0] !== undefined) {
			// Nothing could be listed: the scan could not run at all, as with one unreachable engine.
			throw failed.length === 1 ? failed[0].cause : new DockerUnavailableError(failed.map(listing => listing.host.address).join(', '), `No Docker engine could be listed: ${failed.map(listing => `${listing.host.name}: ${listing.error ?? ''}`).join(' ')}`);
		}

		const imageStores = new Map<string, ImageStore>();
		const listed: ContainerFacts[] = [];
		for (const listing of listings) {
			imageStores.set(listing.host.name, listing.imageStore);
			for (const fact of listing.facts) {
				listed.push(fact);
			}
		}

		const facts = only === undefined ? listed : listed.filter(fact => only.has(fact.id));
		const plan = planScan(facts, {pins: memory.pins, exclusions: memory.exclusions, imageStores, defaultHost: this.#options.defaultHost ?? hosts[0]?.name ?? 'local'});
		this.#emit({type: 'started', containers: facts, checks: plan.checks.size, partial: only !== undefined, unlistedHosts: failed.map(listing => listing.host.name)});

		const results = new Map<PlannedContainer, ContainerResult>();
		// Image platforms, asked of the engine only for containers whose tag's digest differs.
		const platforms = new Map<string, Promise<Platform | null>>();
		const engines = new Map(hosts.map(host => [host.name, host.engine]));
		const platformOf = async (host: string, imageId: string): Promise<Platform | null> => {
			const key = `${host}|${imageId}`;
			let pending = platforms.get(key);
			if (pending === undefined) {
				const engine = engines.get(host);
				pending = engine === undefined ? Promise.resolve(null) : engine.imagePlatform(imageId, signal);
				platforms.set(key, pending);
			}

			return pending;
		};

		const record = (planned: PlannedContainer, verdict: Verdict, platform: Platform | null = planned.facts.platform, targetImage: PlatformImage | null = null): void => {
			const result = toResult(planned, verdict, platform, targetImage);
			results.set(planned, result);
			this.#emit({type: 'result', result});
		};

		const byKey = new Map<string, ContainerToCheck[]>();
		for (const planned of plan.containers) {
			if (planned.kind === 'settled') {
				record(planned, planned.verdict);
			} else {
				const sharing = byKey.get(planned.key);
				if (sharing === undefined) {
					byKey.set(planned.key, [planned]);
				} else {
					sharing.push(planned);
				}
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
			const groups = byRegistry.get(registry);
			if (groups === undefined) {
				byRegistry.set(registry, [containers]);
			} else {
				groups.push(containers);
			}
		}

		// Each registry is prepared once (a token for all of its repositories) before its HEADs; steps
		// begun early wait for it too, then run beside the HEADs.
		const prepared = new Map([...byRegistry].map(([registry, groups]) => [registry, this.#prepare(registry, groups, signal)]));
		const ready = async (registry: string): Promise<void> => prepared.get(registry)?.then(() => undefined, () => undefined);
		const plannedRows: PlannedStepInput[] = plan.containers.map(planned => ({facts: planned.facts, reference: planned.reference, settled: planned.kind === 'settled' ? planned.verdict : null}));
		const steps = this.#options.steps ?? [];
		const finishers = steps.map(step => beginStep(step, {rows: plannedRows, ready}, signal));

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

			// Most containers are decided by the tag's digest alone, at once; only the others wait for a platform.
			const waiting: ContainerToCheck[] = [];
			for (const container of containers) {
				const quick = verdictFromTag(container, remote);
				if (quick === null) {
					waiting.push(container);
				} else {
					record(container, quick);
				}
			}

			await Promise.all(waiting.map(async container => {
				const {verdict, platform, image} = await this.#decide(container, remote, imageStores.get(container.facts.host) ?? 'classic', resolve, platformOf, signal);
				record(container, verdict, platform, image);
			}));
			this.#emit({type: 'progress', checked: ++checked, checks: plan.checks.size});
		};

		await Promise.all([...byRegistry].map(async ([registry, groups]) => {
			await prepared.get(registry);
			await forEachLimit(groups, this.#options.concurrency ?? 8, check);
		}));

		let ordered = plan.containers.map(planned => results.get(planned)!);
		for (const [index, step] of steps.entries()) {
			if (signal?.aborted) {
				throw signal.reason;
			}

			// eslint-disable-next-line no-await-in-loop -- a step may use what the one before it added
			ordered = await this.#runStep(step, finishers[index], plan.containers, ordered, signal);
		}

		const finished = clock.now();
		const hostReports: HostReport[] = listings.map(listing => ({
			name: listing.host.name,
			address: listing.host.address,
			state: listing.error === null ? 'ok' : 'error',
			error: listing.error,
			total: ordered.filter(result => result.host === listing.host.name).length,
		}));
		const report: ScanReport = {
			scannedAt: started.toISOString(),
			hosts: hostReports,
			durationMs: Math.max(0, finished.getTime() - started.getTime()),
			containers: ordered,
			summary: summarize(ordered),
			rateLimits: this.#options.registry.rateLimits?.() ?? [],
		};
		this.#emit({type: 'finished', report});
		return {report, learned};
	}

	/** The verdict for a container its tag's digest alone does not decide: through its platform's image in the index. */
	async #decide(
		container: ContainerToCheck,
		remote: RemoteTag,
		imageStore: ImageStore,
		resolve: (container: ContainerToCheck, remote: RemoteTag, platform: Platform) => Promise<PlatformImage>,
		platformOf: (host: string, imageId: string) => Promise<Platform | null>,
		signal: AbortSignal | undefined,
	): Promise<{verdict: Verdict; platform: Platform | null; image: PlatformImage | null}> {
		let platform: Platform | null = container.facts.platform;
		try {
			platform ??= await platformOf(container.facts.host, container.facts.imageId);
			if (platform === null) {
				return {verdict: {status: 'unknown', reason: 'The image this container was created from is no longer in the engine, so there is nothing to compare with.'}, platform, image: null};
			}

			const image = await resolve(container, remote, platform);
			const verdict = verdictFromPlatformImage(container, remote, image, imageStore);
			return {verdict, platform, image: verdict.status === 'update-available' ? image : null};
		} catch (error) {
			rethrowAbort(error, signal);
			return {verdict: {status: 'error', error: describeError(error), localDigest: container.localDigests[0] ?? null}, platform, image: null};
		}
	}

	async #prepare(registry: string, groups: ReadonlyArray<readonly ContainerToCheck[]>, signal: AbortSignal | undefined): Promise<void> {
		const repositories = [...new Set(groups.map(containers => containers[0]!.reference.repository))];
		await this.#options.registry.prepare?.(registry, repositories, signal);
	}

	/** One step over the finished rows (finishing what it began, if it did); what it adds is merged in and re-announced row by row. */
	async #runStep(step: ScanStep, finish: ScanStepFinish | undefined, planned: readonly PlannedContainer[], rows: ContainerResult[], signal: AbortSignal | undefined): Promise<ContainerResult[]> {
		const inputs = rows.map((result, index) => ({result, facts: planned[index]!.facts, reference: planned[index]!.reference}));
		let added: ReadonlyMap<ScanStepInput, Enrichment>;
		try {
			added = await (finish === undefined ? step.run(inputs, signal) : finish(inputs));
		} catch (error) {
			rethrowAbort(error, signal);
			// A step never costs the verdicts: its failure is noted in every row it would have touched.
			added = new Map(inputs.map(input => [input, step.failed(describeError(error))]));
		}

		return rows.map((result, index) => {
			const extra = added.get(inputs[index]!);
			if (extra === undefined) {
				return result;
			}

			const enriched = {...result, ...extra};
			this.#emit({type: 'result', result: enriched});
			return enriched;
		});
	}

	#emit(event: ScanEvent): void {
		for (const listener of this.#listeners) {
			listener(event);
		}
	}
}

/** A step's early start; one that throws fails when it would have finished, as a `run` that throws does. */
function beginStep(step: ScanStep, plan: ScanStepPlan, signal: AbortSignal | undefined): ScanStepFinish | undefined {
	try {
		return step.begin?.(plan, signal);
	} catch (error) {
		return async () => {
			throw error;
		};
	}
}

interface HostListing {
	readonly host: HostSource;
	readonly imageStore: ImageStore;
	readonly facts: readonly ContainerFacts[];
	/** Why the host could not be listed, as a sentence; null when it was. */
	readonly error: string | null;
	readonly cause: unknown;
}

/** List one engine; a failure is data for that host, never an exception that stops the others. */
async function listHost(host: HostSource, signal: AbortSignal | undefined): Promise<HostListing> {
	try {
		const [imageStore, facts] = await Promise.all([host.engine.imageStore(signal), host.engine.listContainers(signal)]);
		return {host, imageStore, facts, error: null, cause: undefined};
	} catch (error) {
		return {host, imageStore: 'classic', facts: [], error: describeError(error), cause: error};
	}
}

/** A scan that was stopped ends as a whole; any other failure is data in the row. */
function rethrowAbort(error: unknown, signal: AbortSignal | undefined): void {
	if (signal?.aborted) {
		throw signal.reason ?? error;
	}
}

function toResult(planned: PlannedContainer, verdict: Verdict, platform: Platform | null, targetImage: PlatformImage | null): ContainerResult {
	const {facts} = planned;
	return {
		host: facts.host,
		kind: facts.kind,
		service: facts.service,
		id: facts.id,
		name: facts.name,
		image: facts.image,
		state: facts.state,
		imageId: facts.imageId,
		platform,
		reference: planned.key,
		verdict,
		...(targetImage === null ? {} : {targetImage}),
	};
}
