import type {ContainerResult, HostReport, ImageLinks, NewerVersion, RateLimit, Risk, ScanReport, ScanSummary, Vulnerabilities, WorkloadKind} from '../core/types.ts';
import {updateReason} from '../core/status.ts';
import {batched, chunkSize} from './chunks.ts';

/** One container (or Swarm service) in `--once --json`: a contract, keep these names. */
export interface ContainerJson {
	/** The engine's name: `local`, a `--host`/saved name or a context name. */
	readonly host: string;
	readonly kind: WorkloadKind;
	readonly id: string;
	readonly name: string;
	readonly image: string;
	readonly state: string;
	readonly status: ContainerResult['verdict']['status'];
	readonly localDigest: string | null;
	readonly remoteDigest: string | null;
	readonly reason: string | null;
	readonly error: string | null;
	/** Newer versions of the tag, ascending, the newest of each kind; [] when it is the newest; null when not checked. */
	readonly newer: readonly NewerVersion[] | null;
	readonly newerError: string | null;
	readonly links: ImageLinks | null;
	/** With --vulns on: known vulnerabilities now and after the update; null when not known (see vulnerabilitiesError). */
	readonly vulnerabilities: Vulnerabilities | null;
	readonly vulnerabilitiesError: string | null;
	readonly risk: Risk | null;
	/** Services only: `replicated`, `global`, ... */
	readonly mode?: string;
	/** Services only: desired replicas, null for global services. */
	readonly replicas?: number | null;
	/** Services only: the ids of its task containers on that engine (not listed as rows of their own). */
	readonly tasks?: readonly string[];
}

export interface ScanJson {
	readonly scannedAt: string;
	readonly durationMs: number;
	readonly containers: readonly ContainerJson[];
	/** Counts by status, every engine asked, and the pull budgets registries reported (Docker Hub's rate limit). */
	readonly summary: ScanSummary & {readonly hosts: readonly HostReport[]; readonly rateLimits: readonly RateLimit[]};
}

export function containerJson(result: ContainerResult): ContainerJson {
	return {...verdictJson(result), ...enrichmentJson(result)};
}

function enrichmentJson(result: ContainerResult): Pick<ContainerJson, 'newer' | 'newerError' | 'links' | 'vulnerabilities' | 'vulnerabilitiesError' | 'risk'> {
	return {
		newer: result.newer ?? null,
		newerError: result.newerError ?? null,
		links: result.links ?? null,
		vulnerabilities: result.vulnerabilities ?? null,
		vulnerabilitiesError: result.vulnerabilitiesError ?? null,
		risk: result.risk ?? null,
	};
}

function verdictJson(result: ContainerResult): Omit<ContainerJson, keyof ReturnType<typeof enrichmentJson>> {
	const service = result.service === null ? {} : {mode: result.service.mode, replicas: result.service.replicas, tasks: result.service.tasks};
	const base = {host: result.host, kind: result.kind, id: result.id, name: result.name, image: result.image, state: result.state, ...service};
	const {verdict} = result;
	switch (verdict.status) {
		case 'up-to-date': {
			return {...base, status: verdict.status, localDigest: verdict.localDigest, remoteDigest: verdict.remoteDigest, reason: null, error: null};
		}

		case 'update-available': {
			return {...base, status: verdict.status, localDigest: verdict.localDigest, remoteDigest: verdict.remoteDigest, reason: updateReason(result), error: null};
		}

		case 'pinned': {
			return {...base, status: verdict.status, localDigest: verdict.localDigest, remoteDigest: null, reason: verdict.reason, error: null};
		}

		case 'excluded':
		case 'unknown': {
			return {...base, status: verdict.status, localDigest: null, remoteDigest: null, reason: verdict.reason, error: null};
		}

		case 'error': {
			return {...base, status: verdict.status, localDigest: verdict.localDigest, remoteDigest: null, reason: null, error: verdict.error};
		}
	}
}

export function scanJson(report: ScanReport): ScanJson {
	return {
		scannedAt: report.scannedAt,
		durationMs: report.durationMs,
		containers: report.containers.map(containerJson),
		summary: summaryJson(report),
	};
}

function summaryJson(report: ScanReport): ScanJson['summary'] {
	return {...report.summary, hosts: report.hosts, rateLimits: report.rateLimits ?? []};
}

/** Containers laid out by one `JSON.stringify` call: about 28 KB of the document, held at once. */
export const rowsPerPiece = 32;

/**
 * Exactly `JSON.stringify(scanJson(report), null, 2)` and a line break, in chunks of about `size`
 * characters, made `rows` containers at a time when asked for: with 50,000 containers neither the
 * 43 MB document nor its 50,000 objects are ever held at once.
 */
export function scanJsonChunks(report: ScanReport, size = chunkSize, rows = rowsPerPiece): Generator<string, void, undefined> {
	return batched(scanJsonPieces(report, rows), size);
}

/** Where the brackets `depth` arrays deep around an element end, and where they start again after it. */
const bracketsAt = new Map<number, {open: number; close: number}>();

/**
 * `values` as the elements of an array nested `depth` levels deep in a `JSON.stringify(…, null, 2)`
 * document, each after a line break and its indent: JSON.stringify's own text for them wrapped in
 * `depth` arrays, less those arrays' brackets. One call lays out many rows, with no second pass.
 */
function elementsAt(values: readonly unknown[], depth: number): string {
	let brackets = bracketsAt.get(depth);
	if (brackets === undefined) {
		const probe = JSON.stringify(wrappedIn([0], depth), null, 2);
		const element = probe.indexOf('0');
		brackets = {open: element - `\n${'  '.repeat(depth)}`.length, close: probe.length - element - 1};
		bracketsAt.set(depth, brackets);
	}

	const text = JSON.stringify(wrappedIn(values, depth), null, 2);
	return text.slice(brackets.open, text.length - brackets.close);
}

/** `array` inside `depth - 1` more arrays, so that its elements are `depth` levels deep. */
function wrappedIn(array: readonly unknown[], depth: number): unknown {
	let wrapped: unknown = array;
	for (let level = 1; level < depth; level++) {
		wrapped = [wrapped];
	}

	return wrapped;
}

/** The layout `JSON.stringify(value, null, 2)` gives to a value nested `depth` levels deep. */
function nested(value: unknown, depth: number): string {
	return elementsAt([value], depth).slice(1 + (2 * depth));
}

// The keys in scanJson's order; the unit test holds the two to the same bytes.
function * scanJsonPieces(report: ScanReport, rows: number): Generator<string, void, undefined> {
	yield `{\n  "scannedAt": ${JSON.stringify(report.scannedAt)},\n  "durationMs": ${JSON.stringify(report.durationMs)},\n  "containers": [`;
	const {containers} = report;
	for (let start = 0; start < containers.length; start += rows) {
		if (start > 0) {
			yield ',';
		}

		yield elementsAt(containers.slice(start, start + rows).map(result => containerJson(result)), 2);
	}

	yield `${containers.length === 0 ? '' : '\n  '}],\n  "summary": ${nested(summaryJson(report), 1)}\n}\n`;
}
