import {formatDuration} from '../core/duration.ts';
import {newerLook, newestVersion, optionalColumns, riskLooks, riskText, shortDigest, shortError, shortImage, statusLooks, statusOrder, statusRank, summaryCount, workloadState, type StatusLook} from '../core/status.ts';
import type {ContainerResult, Risk, ScanReport} from '../core/types.ts';
import {safeTerminalText} from '../core/terminal-text.ts';
import {batched, chunkSize} from './chunks.ts';
import {describeRateLimit, narrowestTable, styler, tableLines, type Cell, type Column, type Styler} from './text.ts';

function statusStyle(color: StatusLook['color'], style: Styler): (text: string) => string {
	switch (color) {
		case 'yellow': {
			return text => style.bold(style.yellow(text));
		}

		case 'red': {
			return style.red;
		}

		case 'green': {
			return style.green;
		}

		default: {
			return style.dim;
		}
	}
}

function detail({verdict}: ContainerResult): Cell {
	switch (verdict.status) {
		case 'update-available': {
			return {text: `${shortDigest(verdict.localDigest)} -> ${shortDigest(verdict.remoteDigest)}`};
		}

		case 'up-to-date': {
			return {text: shortDigest(verdict.remoteDigest)};
		}

		case 'error': {
			return {text: verdict.error, short: shortError(verdict.error)};
		}

		default: {
			return {text: verdict.reason};
		}
	}
}

/** Updates first, then errors, then the rest; by name (then host) within a status. */
export function sortForReport(results: readonly ContainerResult[]): ContainerResult[] {
	return [...results].sort((a, b) => statusRank(a.verdict.status) - statusRank(b.verdict.status) || a.name.localeCompare(b.name) || a.host.localeCompare(b.host));
}

function riskStyle(risk: Risk | null | undefined, style: Styler): ((text: string) => string) | undefined {
	if (risk === null || risk === undefined) {
		return undefined;
	}

	const look = riskLooks[risk.level];
	const paint = look.color === 'red' ? style.red : look.color === 'yellow' ? style.yellow : look.color === 'green' ? style.green : style.dim;
	return look.bold ? text => style.bold(paint(text)) : paint;
}

/** How the NEWER and RISK columns show: in full, cut to the tag or the score, or left out. */
type Extra = 'full' | 'short' | 'none';

/** DETAIL keeps this much before NEWER and RISK give way: room for an error's few words (`credential helper failed`). */
const detailKept = 24;

/**
 * Tried in turn when the full table is too wide for the terminal: NEWER and RISK give up their kind
 * and level words, then NEWER goes, then RISK (asked for with `--vulns on`, where NEWER is there by
 * default), before NAME or IMAGE would have to wrap. The live view gives way in the same order.
 */
const narrowerLayouts: ReadonlyArray<readonly [newer: Extra, risk: Extra]> = [['short', 'full'], ['short', 'short'], ['none', 'full'], ['none', 'short'], ['none', 'none']];

/** How `renderScanTable` and `scanTableChunks` lay the table out. */
export interface ScanTableOptions {
	readonly color: boolean;
	/** The terminal's columns; the table is not cut when undefined. */
	readonly width?: number | undefined;
}

/** The human table of `updock --once`, with a summary line. A HOST column when the rows come from more than one engine; NEWER and RISK when those steps ran. */
export function renderScanTable(report: ScanReport, options: ScanTableOptions): string {
	return [...scanTableLines(report, options)].join('\n');
}

/** `renderScanTable` and a line break, in chunks of about `size` characters, so that a table of 50,000 rows is never one string. */
export function scanTableChunks(report: ScanReport, options: ScanTableOptions, size = chunkSize): Generator<string, void, undefined> {
	return batched(withLineBreaks(scanTableLines(report, options)), size);
}

function * withLineBreaks(lines: Iterable<string>): Generator<string, void, undefined> {
	for (const line of lines) {
		yield `${line}\n`;
	}
}

function * scanTableLines(report: ScanReport, options: ScanTableOptions): Generator<string, void, undefined> {
	const style = styler(options.color);
	const {summary} = report;
	// Exit status 1 for a host that could not be listed must come with the reason.
	const failed = report.hosts.filter(host => host.state === 'error').map(host => style.red(safeTerminalText(`! ${host.name} (${host.address}): ${host.error ?? 'it could not be listed.'}`)));
	if (summary.total === 0) {
		yield 'No containers on this engine.';
		yield * failed;
		return;
	}

	const hosts = new Set(report.containers.map(result => result.host)).size > 1;
	const optional = optionalColumns(report.containers);
	const sorted = sortForReport(report.containers);
	const layout = (newer: Extra, risk: Extra): {columns: Column[]; rows: Iterable<Cell[]>} => {
		const showNewer = optional.newer && newer !== 'none';
		const showRisk = optional.risk && risk !== 'none';
		const row = (result: ContainerResult): Cell[] => {
			const look = statusLooks[result.verdict.status];
			return [
				...(hosts ? [{text: result.host, style: style.dim}] : []),
				{text: result.name, style: style.bold},
				{text: shortImage(result.image)},
				{text: workloadState(result), style: style.dim},
				{text: look.words, style: statusStyle(look.color, style)},
				...(showNewer ? [{text: newestVersion(result.newer, newer === 'short'), style: style.cyan}] : []),
				...(showRisk ? [{text: riskText(result.risk, risk === 'short'), style: riskStyle(result.risk, style)}] : []),
				detail(result),
			];
		};

		// Each row is made when it is read (measured, then written): 50,000 rows of cells are never held at once.
		const rows: Iterable<Cell[]> = {
			* [Symbol.iterator]() {
				for (const result of sorted) {
					yield row(result);
				}
			},
		};
		const columns: Column[] = [
			...(hosts ? [{header: 'HOST'}] : []),
			{header: 'NAME'},
			{header: 'IMAGE'},
			{header: 'STATE'},
			{header: 'STATUS'},
			...(showNewer ? [{header: 'NEWER'}] : []),
			...(showRisk ? [{header: 'RISK'}] : []),
			{header: 'DETAIL', shrink: true},
		];
		return {columns, rows};
	};

	const {width} = options;
	let chosen = layout('full', 'full');
	for (const [newer, risk] of narrowerLayouts) {
		if (width === undefined || narrowestTable(chosen.columns, chosen.rows, detailKept) <= width) {
			break;
		}

		chosen = layout(newer, risk);
	}

	yield * tableLines(chosen.columns, chosen.rows, style.dim, width);
	const counts = statusOrder
		.map(status => [status, summaryCount(summary, status)] as const)
		.filter(([, count]) => count > 0)
		.map(([status, count]) => {
			const look = statusLooks[status];
			// The counts are not bold: only the rows' own update status is.
			const paint = look.color === 'yellow' ? style.yellow : statusStyle(look.color, style);
			return paint(`${count} ${count === 1 ? look.words : look.plural}`);
		})
		.join(', ');
	// Not a status, so apart from the status counts; like them, left out at zero.
	const newer = summary.newerVersions > 0 ? `; ${style.cyan(`${summary.newerVersions} ${summary.newerVersions === 1 ? newerLook.words : newerLook.plural}`)}` : '';
	const line = `${summary.total} container${summary.total === 1 ? '' : 's'}: ${counts}${newer} (checked in ${formatDuration(report.durationMs)})`;
	const budgets = (report.rateLimits ?? []).map(limit => describeRateLimit(limit));
	yield '';
	yield line;
	if (budgets.length > 0) {
		yield style.dim(`Rate limits: ${budgets.join('; ')}`);
	}

	yield * failed;
}
