import {forEachLimit} from '../core/limit.ts';
import type {OsvClient} from './osv.ts';
import {assessSeverity, type Severity} from './severity.ts';
import type {OsvPackage} from './types.ts';

/** One vulnerability as updock keeps it: enough to count, rank and show it. */
export interface KnownVulnerability {
	readonly id: string;
	/** The record's `modified`, to notice a newer one. */
	readonly modified: string;
	readonly severity: Severity;
	/** CVSS base score when a vector gave the severity. */
	readonly score: number | null;
	/** The record's summary, else the start of its details; null when it has neither. */
	readonly summary: string | null;
}

export interface LookupOptions {
	/**
	 * How long what querybatch said of a package is reused before it is asked again.
	 * @default 6 h
	 */
	readonly queryTtlMs?: number;
	/** Records kept at most; the oldest go first. @default 20000 */
	readonly maxRecords?: number;
	/** @default Date.now */
	readonly now?: () => number;
}

interface QueryEntry {
	readonly at: number;
	readonly ids: ReadonlyArray<{readonly id: string; readonly modified: string | undefined}>;
}

const maxSummaryLength = 300;
const recordConcurrency = 8;
const maxQueries = 100_000;

export function packageKey(item: OsvPackage): string {
	return `${item.ecosystem}\0${item.name}\0${item.version}`;
}

/**
 * Known vulnerabilities per package, from OSV, remembered in memory: what querybatch said of each
 * (ecosystem, name, version) for `queryTtlMs`, and each record by id with its `modified` time, fetched
 * again only when querybatch reports a newer `modified`. One call sends each unknown package once.
 */
export class VulnerabilityLookup {
	readonly #client: OsvClient;
	readonly #queries = new Map<string, QueryEntry>();
	readonly #records = new Map<string, KnownVulnerability | null>();
	readonly #ttl: number;
	readonly #maxRecords: number;
	readonly #now: () => number;

	constructor(client: OsvClient, options: LookupOptions = {}) {
		this.#client = client;
		this.#ttl = options.queryTtlMs ?? 6 * 60 * 60 * 1000;
		this.#maxRecords = options.maxRecords ?? 20_000;
		this.#now = options.now ?? Date.now;
	}

	/** The vulnerabilities of each package, by `packageKey`. Throws OsvError; nothing half-learned is kept wrong. */
	async vulnerabilitiesOf(packages: readonly OsvPackage[], signal?: AbortSignal): Promise<Map<string, KnownVulnerability[]>> {
		const now = this.#now();
		const unique = new Map<string, OsvPackage>();
		for (const item of packages) {
			unique.set(packageKey(item), item);
		}

		const stale = [...unique.entries()].filter(([key]) => {
			const entry = this.#queries.get(key);
			return entry === undefined || now - entry.at >= this.#ttl;
		});
		if (stale.length > 0) {
			const answers = await this.#client.queryBatch(stale.map(([, item]) => item), signal);
			for (const [index, [key]] of stale.entries()) {
				this.#queries.set(key, {at: now, ids: answers[index] ?? []});
			}

			this.#trimQueries();
		}

		// A record is fetched when unknown, or when querybatch names a newer `modified` than the one kept.
		const wanted = new Map<string, string | undefined>();
		for (const key of unique.keys()) {
			for (const {id, modified} of this.#queries.get(key)?.ids ?? []) {
				const kept = this.#records.get(id);
				const newer = kept !== undefined && kept !== null && modified !== undefined && isNewer(modified, kept.modified);
				if (kept === undefined || newer) {
					wanted.set(id, modified);
				}
			}
		}

		await forEachLimit(wanted.keys(), recordConcurrency, async id => {
			const record = await this.#client.getVulnerability(id, signal);
			if (record === null || (record.withdrawn !== undefined && Date.parse(record.withdrawn) <= now)) {
				this.#records.set(id, null);
				return;
			}

			const {severity, score} = assessSeverity(record);
			this.#records.delete(id);
			this.#records.set(id, {id: record.id, modified: record.modified, severity, score, summary: summaryOf(record.summary, record.details)});
		});
		this.#trimRecords();

		const result = new Map<string, KnownVulnerability[]>();
		for (const key of unique.keys()) {
			const found = (this.#queries.get(key)?.ids ?? []).flatMap(({id}) => {
				const record = this.#records.get(id);
				// A 404 or withdrawn record is not counted; one that vanished from the cache is counted as unknown.
				if (record === null) {
					return [];
				}

				return [record ?? {id, modified: '', severity: 'unknown' as const, score: null, summary: null}];
			});
			result.set(key, found);
		}

		return result;
	}

	#trimQueries(): void {
		for (const key of this.#queries.keys()) {
			if (this.#queries.size <= maxQueries) {
				break;
			}

			this.#queries.delete(key);
		}
	}

	#trimRecords(): void {
		for (const key of this.#records.keys()) {
			if (this.#records.size <= this.#maxRecords) {
				break;
			}

			this.#records.delete(key);
		}
	}
}

function isNewer(reported: string, kept: string): boolean {
	const a = Date.parse(reported);
	const b = Date.parse(kept);
	return Number.isNaN(a) || Number.isNaN(b) ? reported !== kept : a > b;
}

function summaryOf(summary: string | undefined, details: string | undefined): string | null {
	const text = (summary?.trim() || details?.trim().split('\n')[0]?.trim() || '').replaceAll(/\s+/g, ' ');
	if (text === '') {
		return null;
	}

	return text.length > maxSummaryLength ? `${text.slice(0, maxSummaryLength - 1)}…` : text;
}
