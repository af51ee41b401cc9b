import type {ContainerResult, HostReport, ImageLinks, NewerVersion, RateLimit, Risk, ScanReport, ScanSummary, Vulnerabilities, WorkloadKind} from '../core/types.ts';
import {updateReason} from '../core/status.ts';

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
		summary: {...report.summary, hosts: report.hosts, rateLimits: report.rateLimits ?? []},
	};
}
