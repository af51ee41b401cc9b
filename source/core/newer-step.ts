import {describeError} from './errors.ts';
import type {Clock} from './ports.ts';
import type {ImageReference} from './reference.ts';
import type {ScanStep, ScanStepFinish, ScanStepInput, ScanStepPlan} from './scanner.ts';
import type {ContainerFacts, Enrichment, Verdict} from './types.ts';
import {newerVersions, parseVersionTag} from './versions.ts';

/** Lists a repository's tags (`GET /v2/<name>/tags/list`, paged). Throws RegistryError. */
export interface TagSource {
	listTags(reference: ImageReference, signal?: AbortSignal): Promise<string[]>;
}

/** Labels that narrow the newer-version search per container or service. */
export const tagLabels = {
	off: 'updock.tags',
	include: 'updock.tags.include',
	exclude: 'updock.tags.exclude',
} as const;

export interface NewerVersionsOptions {
	readonly tags: TagSource;
	/**
	 * How long a listing is reused (the live view and `serve`); it is kept in memory only.
	 * @default 6h
	 */
	readonly cacheMs?: number;
	/**
	 * Listings in flight at once per registry. They run beside the scan's HEADs, so the registry's
	 * connection pool needs room for both.
	 * @default 8
	 */
	readonly concurrency?: number;
	readonly clock?: Clock;
}

/** Labels longer than this are not taken as regular expressions (a container's owner wrote them). */
const maxPatternLength = 500;

/**
 * The scan step that finds newer versions of each container's version tag: one tag listing per
 * repository per scan (shared by every container and host that runs it), reused for `cacheMs`. A
 * listing that fails never touches the verdict: `newer` is null and `newerError` says why.
 *
 * The listings start as soon as the scan is planned (`begin`), beside the HEADs, for every
 * repository with a row that may end with a listing: settled rows are judged by their verdict, rows
 * still to be checked by their tag and labels alone. A checked row can still end `unknown` (its image
 * left the engine between the listing of containers and the verdict); the plan cannot know that, so
 * its repository may be listed for nothing, once.
 */
export class NewerVersionsStep implements ScanStep {
	readonly name = 'newer versions';
	readonly #options: NewerVersionsOptions;
	readonly #listings = new Map<string, {readonly at: number; readonly tags: Promise<string[]>}>();
	readonly #slots: <T>(registry: string, task: () => Promise<T>) => Promise<T>;

	constructor(options: NewerVersionsOptions) {
		this.#options = options;
		this.#slots = keyedLimiter(options.concurrency ?? 8);
	}

	begin(plan: ScanStepPlan, signal?: AbortSignal): ScanStepFinish {
		const started = new Map<string, Promise<string[]>>();
		for (const row of plan.rows) {
			const decision = eligibility(row.settled?.status ?? null, row.facts, row.reference);
			if ('enrichment' in decision) {
				continue;
			}

			const repository = repositoryOf(decision.reference);
			if (!started.has(repository)) {
				started.set(repository, this.#listing(repository, decision.reference, signal, async () => plan.ready(decision.reference.registry)));
			}
		}

		return async rows => this.#finish(rows, started, signal);
	}

	async run(rows: readonly ScanStepInput[], signal?: AbortSignal): Promise<ReadonlyMap<ScanStepInput, Enrichment>> {
		return this.#finish(rows, new Map(), signal);
	}

	failed(message: string): Enrichment {
		return {newer: null, newerError: message};
	}

	/** Each row's newer versions, from the listings begun for this scan or, for any other repository, listed now. */
	async #finish(rows: readonly ScanStepInput[], started: ReadonlyMap<string, Promise<string[]>>, signal: AbortSignal | undefined): Promise<ReadonlyMap<ScanStepInput, Enrichment>> {
		const added = new Map<ScanStepInput, Enrichment>();
		const wanted = new Map<string, {reference: ImageReference; rows: Array<{row: ScanStepInput; tag: string; include: RegExp | undefined; exclude: RegExp | undefined}>}>();
		for (const row of rows) {
			const decision = eligibility(row.result.verdict.status, row.facts, row.reference);
			if ('enrichment' in decision) {
				added.set(row, decision.enrichment);
				continue;
			}

			const repository = repositoryOf(decision.reference);
			const entry = wanted.get(repository) ?? {reference: decision.reference, rows: []};
			entry.rows.push({row, tag: decision.tag, include: decision.include, exclude: decision.exclude});
			wanted.set(repository, entry);
		}

		await Promise.all([...wanted].map(async ([repository, {reference, rows: waiting}]) => {
			let tags: string[];
			try {
				tags = await (started.get(repository) ?? this.#listing(repository, reference, signal));
			} catch (error) {
				if (signal?.aborted) {
					return;
				}

				const newerError = `Could not list the tags of ${repository}: ${describeError(error)}`;
				for (const {row} of waiting) {
					added.set(row, {newer: null, newerError});
				}

				return;
			}

			// Rows of one image ask the same question: each (tag, filters) is answered once.
			const answers = new Map<string, Enrichment>();
			for (const {row, tag, include, exclude} of waiting) {
				const question = `${tag}\u0000${include?.source ?? ''}\u0000${exclude?.source ?? ''}`;
				let answer = answers.get(question);
				if (answer === undefined) {
					answer = {newer: newerVersions(tag, tags, {include, exclude}), newerError: null};
					answers.set(question, answer);
				}

				added.set(row, answer);
			}
		}));
		return added;
	}

	/**
	 * The repository's tags: the listing still fresh from an earlier scan, else a new one once `ready`
	 * and a slot allow. Not async on purpose: it returns the very promise that carries the rejection
	 * handler below, so a listing begun for a scan that stops before awaiting it is never an unhandled rejection.
	 */
	#listing(repository: string, reference: ImageReference, signal: AbortSignal | undefined, ready?: () => Promise<void>): Promise<string[]> {
		const now = (this.#options.clock?.now() ?? new Date()).getTime();
		const cached = this.#listings.get(repository);
		if (cached !== undefined && now - cached.at < (this.#options.cacheMs ?? 6 * 3_600_000)) {
			return cached.tags;
		}

		const tags = (async () => {
			await ready?.();
			return this.#slots(reference.registry, async () => {
				signal?.throwIfAborted();
				return this.#options.tags.listTags(reference, signal);
			});
		})();
		const entry = {at: now, tags};
		this.#listings.set(repository, entry);
		// A failure is not remembered: the next scan asks again.
		tags.catch(() => {
			if (this.#listings.get(repository) === entry) {
				this.#listings.delete(repository);
			}
		});
		return tags;
	}
}

function repositoryOf(reference: ImageReference): string {
	return `${reference.registry}/${reference.repository}`;
}

/** At most `limit` tasks at once per key; the others wait their turn in order. */
function keyedLimiter(limit: number): <T>(key: string, task: () => Promise<T>) => Promise<T> {
	const queues = new Map<string, {running: number; readonly waiting: Array<() => void>}>();
	return async <T>(key: string, task: () => Promise<T>): Promise<T> => {
		let queue = queues.get(key);
		if (queue === undefined) {
			queue = {running: 0, waiting: []};
			queues.set(key, queue);
		}

		const mine = queue;
		if (mine.running < Math.max(1, limit)) {
			mine.running++;
		} else {
			// The task that finishes hands its slot straight to the next in line.
			await new Promise<void>(resolve => {
				mine.waiting.push(resolve);
			});
		}

		try {
			return await task();
		} finally {
			const next = mine.waiting.shift();
			if (next === undefined) {
				mine.running--;
			} else {
				next();
			}
		}
	};
}

type Eligibility =
	| {readonly enrichment: Enrichment}
	| {readonly reference: ImageReference; readonly tag: string; readonly include: RegExp | undefined; readonly exclude: RegExp | undefined};

/**
 * Whether a row's tag is worth a listing, and the label filters that apply to it. `status` null: the
 * verdict is not known yet (the row is still to be checked), so only its tag and labels decide.
 */
/** A row whose tag's versions are not looked at (shared: called twice for every row of every scan). */
const notChecked: Eligibility = Object.freeze({enrichment: Object.freeze({newer: null, newerError: null})});

function eligibility(status: Verdict['status'] | null, facts: ContainerFacts, reference: ImageReference | null): Eligibility {
	if (status === 'pinned' || status === 'excluded' || status === 'unknown' || reference === null || reference.tag === null || reference.digest !== null) {
		return notChecked;
	}

	if (/^(?:off|false|0|no)$/i.test(facts.labels[tagLabels.off]?.trim() ?? '') || parseVersionTag(reference.tag) === null) {
		return notChecked;
	}

	const include = labelPattern(facts.labels[tagLabels.include]);
	if (include instanceof Error) {
		return unusable(tagLabels.include, include, facts);
	}

	const exclude = labelPattern(facts.labels[tagLabels.exclude]);
	if (exclude instanceof Error) {
		return unusable(tagLabels.exclude, exclude, facts);
	}

	return {reference, tag: reference.tag, include, exclude};
}

function unusable(label: string, problem: Error, facts: ContainerFacts): Eligibility {
	return {enrichment: {newer: null, newerError: `The label ${label} is not a usable regular expression (${problem.message}); fix it on the ${facts.kind}.`}};
}

function labelPattern(text: string | undefined): RegExp | Error | undefined {
	if (text === undefined || text.trim() === '') {
		return undefined;
	}

	if (text.length > maxPatternLength) {
		return new Error(`longer than ${maxPatternLength} characters`);
	}

	try {
		return new RegExp(text, 'u');
	} catch (error) {
		return error instanceof Error ? error : new Error(String(error));
	}
}
