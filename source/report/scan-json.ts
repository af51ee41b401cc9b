import type {ContainerResult, RateLimit, ScanReport, ScanSummary} from '../core/types.ts';
import {formatPlatform} from '../core/types.ts';

/** One container in `--once --json`: a contract, keep these names. */
export interface ContainerJson {
	readonly id: string;
	readonly name: string;
	readonly image: string;
	readonly state: string;
	readonly status: ContainerResult['verdict']['status'];
	readonly localDigest: string | null;
	readonly remoteDigest: string | null;
	readonly reason: string | null;
	readonly error: string | null;
}

export interface ScanJson {
	readonly scannedAt: string;
	readonly durationMs: number;
	readonly containers: readonly ContainerJson[];
	/** Counts by status, and the pull budgets registries reported (Docker Hub's rate limit). */
	readonly summary: ScanSummary & {readonly rateLimits: readonly RateLimit[]};
}

export function containerJson(result: ContainerResult): ContainerJson {
	const base = {id: result.id, name: result.name, image: result.image, state: result.state};
	const {verdict} = result;
	switch (verdict.status) {
		case 'up-to-date': {
			return {...base, status: verdict.status, localDigest: verdict.localDigest, remoteDigest: verdict.remoteDigest, reason: null, error: null};
		}

		case 'update-available': {
			const platform = result.platform === null ? '' : ` for ${formatPlatform(result.platform)}`;
			return {...base, status: verdict.status, localDigest: verdict.localDigest, remoteDigest: verdict.remoteDigest, reason: `The registry has a newer image${platform} for this tag; pull it and recreate the container.`, error: null};
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
		summary: {...report.summary, rateLimits: report.rateLimits ?? []},
	};
}
