import type {LiveRow} from '../../core/live-model.ts';
import {hasNewerVersion, statusRank, type DisplayStatus} from '../../core/status.ts';

export type SortKey = 'status' | 'name' | 'image' | 'age' | 'risk';

/** The keys `o` cycles through: `risk` only when some row has a risk (`--vulns on`), where it means something. */
export function sortKeysFor(risk: boolean): readonly SortKey[] {
	return risk ? ['status', 'name', 'image', 'age', 'risk'] : ['status', 'name', 'image', 'age'];
}

export interface RowQuery {
	/** Case-insensitive text matched against name and image. */
	readonly filter: string;
	/** Only rows with an update or a newer version. */
	readonly updatesOnly: boolean;
	readonly sort: SortKey;
}

/** Status of a row for display: `checking` before its first verdict. */
export type RowStatus = DisplayStatus;

export function rowStatus(row: LiveRow): RowStatus {
	return row.result === null ? 'checking' : row.result.verdict.status;
}

/** The rows to show, filtered and sorted; ties by name so the order is stable across rescans. */
export function visibleRows(rows: readonly LiveRow[], query: RowQuery): LiveRow[] {
	const needle = query.filter.trim().toLowerCase();
	const shown = rows.filter(row => (!query.updatesOnly || rowStatus(row) === 'update-available' || hasNewerVersion(row.result))
		&& (needle === '' || row.name.toLowerCase().includes(needle) || row.image.toLowerCase().includes(needle)));
	const byName = (a: LiveRow, b: LiveRow): number => a.name.localeCompare(b.name) || a.id.localeCompare(b.id);
	const byStatus = (a: LiveRow, b: LiveRow): number => statusRank(rowStatus(a)) - statusRank(rowStatus(b)) || byName(a, b);
	// Rows without a risk (not assessed, or it failed) after every row with one, even a `none 0`.
	const riskScore = (row: LiveRow): number => row.result?.risk?.score ?? -1;
	const compare: Record<SortKey, (a: LiveRow, b: LiveRow) => number> = {
		status: byStatus,
		name: byName,
		image: (a, b) => a.image.localeCompare(b.image) || byName(a, b),
		// Oldest check first: what most needs a look.
		age: (a, b) => (a.checkedAt ?? '').localeCompare(b.checkedAt ?? '') || byName(a, b),
		// Highest first: what the update fixes matters most.
		risk: (a, b) => riskScore(b) - riskScore(a) || byStatus(a, b),
	};
	return shown.sort(compare[query.sort]);
}

/** `12s`, `5m`, `3h`, `2d`: how long ago. */
export function formatAge(from: string | null, now: number): string {
	if (from === null) {
		return '-';
	}

	const seconds = Math.max(0, Math.round((now - Date.parse(from)) / 1000));
	if (seconds < 60) {
		return `${seconds}s`;
	}

	if (seconds < 3600) {
		return `${Math.floor(seconds / 60)}m`;
	}

	if (seconds < 86_400) {
		return `${Math.floor(seconds / 3600)}h`;
	}

	return `${Math.floor(seconds / 86_400)}d`;
}

/** `5h59m`, `4m10s`, `9s`: time until. */
export function formatCountdown(to: string | null, now: number): string | null {
	if (to === null) {
		return null;
	}

	let seconds = Math.max(0, Math.round((Date.parse(to) - now) / 1000));
	const hours = Math.floor(seconds / 3600);
	seconds -= hours * 3600;
	const minutes = Math.floor(seconds / 60);
	seconds -= minutes * 60;
	if (hours > 0) {
		return `${hours}h${String(minutes).padStart(2, '0')}m`;
	}

	return minutes > 0 ? `${minutes}m${String(seconds).padStart(2, '0')}s` : `${seconds}s`;
}
