import {formatDuration} from '../core/duration.ts';
import type {ContainerResult, ScanReport, ScanStatus} from '../core/types.ts';
import {scanStatuses} from '../core/types.ts';
import {containerJson} from './scan-json.ts';
import {describeRateLimit, renderTable, shortDigest, styler, type Styler} from './text.ts';

const statusText: Record<ScanStatus, string> = {
	'update-available': 'update available',
	error: 'error',
	'up-to-date': 'up to date',
	unknown: 'unknown',
	pinned: 'pinned',
	excluded: 'excluded',
};

function statusStyle(status: ScanStatus, style: Styler): (text: string) => string {
	switch (status) {
		case 'update-available': {
			return text => style.bold(style.yellow(text));
		}

		case 'error': {
			return style.red;
		}

		case 'up-to-date': {
			return style.green;
		}

		default: {
			return style.dim;
		}
	}
}

function detail(result: ContainerResult): string {
	const json = containerJson(result);
	switch (json.status) {
		case 'update-available': {
			return `${shortDigest(json.localDigest)} -> ${shortDigest(json.remoteDigest)}`;
		}

		case 'up-to-date': {
			return shortDigest(json.remoteDigest);
		}

		case 'error': {
			return json.error ?? '';
		}

		default: {
			return json.reason ?? '';
		}
	}
}

/** Updates first, then errors, then the rest; by name within a status. */
export function sortForReport(results: readonly ContainerResult[]): ContainerResult[] {
	const rank = (result: ContainerResult): number => scanStatuses.indexOf(result.verdict.status);
	return [...results].sort((a, b) => rank(a) - rank(b) || a.name.localeCompare(b.name));
}

/** The human table of `updock --once`, with a summary line. */
export function renderScanTable(report: ScanReport, options: {color: boolean; width?: number | undefined}): string {
	const style = styler(options.color);
	const {summary} = report;
	if (summary.total === 0) {
		return 'No containers on this engine.';
	}

	const rows = sortForReport(report.containers).map(result => [
		{text: result.name, style: style.bold},
		{text: result.image.replace(/@sha256:([a-f\d]{12})[a-f\d]{52}$/, '@sha256:$1…')},
		{text: result.state, style: style.dim},
		{text: statusText[result.verdict.status], style: statusStyle(result.verdict.status, style)},
		{text: detail(result)},
	]);
	const table = renderTable([{header: 'NAME'}, {header: 'IMAGE'}, {header: 'STATE'}, {header: 'STATUS'}, {header: 'DETAIL', shrink: true}], rows, style.dim, options.width);
	const parts = [
		[summary.updateAvailable, 'update available', style.yellow],
		[summary.error, summary.error === 1 ? 'error' : 'errors', style.red],
		[summary.upToDate, 'up to date', style.green],
		[summary.unknown, 'unknown', style.dim],
		[summary.pinned, 'pinned', style.dim],
		[summary.excluded, 'excluded', style.dim],
	] as const;
	const counts = parts.filter(([count]) => count > 0).map(([count, label, paint]) => paint(`${count} ${label}`)).join(', ');
	const line = `${summary.total} container${summary.total === 1 ? '' : 's'}: ${counts} (checked in ${formatDuration(report.durationMs)})`;
	const budgets = (report.rateLimits ?? []).map(limit => describeRateLimit(limit));
	return `${table}\n\n${line}${budgets.length === 0 ? '' : `\n${style.dim(`Rate limits: ${budgets.join('; ')}`)}`}`;
}
