import {describeError} from './errors.ts';
import {forEachLimit} from './limit.ts';
import type {Clock} from './ports.ts';
import type {ImageReference} from './reference.ts';
import type {ScanStep, ScanStepInput} from './scanner.ts';
import {rowKey, type Enrichment} from './types.ts';
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
	 * Listings in flight at once.
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
 */
export class NewerVersionsStep implements ScanStep {
	readonly name = 'newer versions';
	readonly #options: NewerVersionsOptions;
	readonly #listings = new Map<string, {readonly at: number; readonly tags: Promise<string[]>}>();

	constructor(options: NewerVersionsOptions) {
		this.#options = options;
	}

	async run(rows: readonly ScanStepInput[], signal?: AbortSignal): Promise<ReadonlyMap<string, Enrichment>> {
		const added = new Map<string, Enrichment>();
		const wanted = new Map<string, {reference: ImageReference; rows: Array<{row: ScanStepInput; tag: string; include: RegExp | undefined; exclude: RegExp | undefined}>}>();
		for (const row of rows) {
			const decision = eligibility(row);
			if ('enrichment' in decision) {
				added.set(rowKey(row.result), decision.enrichment);
				continue;
			}

			const repository = `${decision.reference.registry}/${decision.reference.repository}`;
			const entry = wanted.get(repository) ?? {reference: decision.reference, rows: []};
			entry.rows.push({row, tag: decision.tag, include: decision.include, exclude: decision.exclude});
			wanted.set(repository, entry);
		}

		await forEachLimit(wanted, this.#options.concurrency ?? 8, async ([repository, {reference, rows: waiting}]) => {
			let tags: string[];
			try {
				tags = await this.#listing(repository, reference, signal);
			} catch (error) {
				if (signal?.aborted) {
					return;
				}

				const newerError = `Could not list the tags of ${repository}: ${describeError(error)}`;
				for (const {row} of waiting) {
					added.set(rowKey(row.result), {newer: null, newerError});
				}

				return;
			}

			for (const {row, tag, include, exclude} of waiting) {
				added.set(rowKey(row.result), {newer: newerVersions(tag, tags, {include, exclude}), newerError: null});
			}
		});
		return added;
	}

	failed(message: string): Enrichment {
		return {newer: null, newerError: message};
	}

	async #listing(repository: string, reference: ImageReference, signal: AbortSignal | undefined): Promise<string[]> {
		const now = (this.#options.clock?.now() ?? new Date()).getTime();
		const cached = this.#listings.get(repository);
		if (cached !== undefined && now - cached.at < (this.#options.cacheMs ?? 6 * 3_600_000)) {
			return cached.tags;
		}

		const tags = this.#options.tags.listTags(reference, signal);
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

type Eligibility =
	| {readonly enrichment: Enrichment}
	| {readonly reference: ImageReference; readonly tag: string; readonly include: RegExp | undefined; readonly exclude: RegExp | undefined};

/** Whether a row's tag is worth a listing, and the label filters that apply to it. */
function eligibility({result, facts, reference}: ScanStepInput): Eligibility {
	const notChecked = {enrichment: {newer: null, newerError: null}};
	const {status} = result.verdict;
	if (status === 'pinned' || status === 'excluded' || status === 'unknown' || reference === null || reference.tag === null || reference.digest !== null) {
		return notChecked;
	}

	if (/^(?:off|false|0|no)$/i.test(facts.labels[tagLabels.off]?.trim() ?? '') || parseVersionTag(reference.tag) === null) {
		return notChecked;
	}

	const include = labelPattern(facts.labels[tagLabels.include]);
	const exclude = labelPattern(facts.labels[tagLabels.exclude]);
	for (const [label, pattern] of [[tagLabels.include, include], [tagLabels.exclude, exclude]] as const) {
		if (pattern instanceof Error) {
			return {enrichment: {newer: null, newerError: `The label ${label} is not a usable regular expression (${pattern.message}); fix it on the ${facts.kind}.`}};
		}
	}

	return {reference, tag: reference.tag, include: include instanceof Error ? undefined : include, exclude: exclude instanceof Error ? undefined : exclude};
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
