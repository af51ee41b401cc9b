import {Box, Text} from 'ink';
import {useMemo} from 'react';
import type {LiveRow} from '../../core/live-model.ts';
import {newestVersion, riskLooks, riskText, shortDigest, shortError, shortImage, workloadState} from '../../core/status.ts';
import {fitToWidth, safeTerminalText, terminalWidth} from '../../core/terminal-text.ts';
import {formatAge, rowStatus} from '../state/rows.ts';
import {statusLook} from '../theme.ts';

export interface TableProps {
	readonly rows: readonly LiveRow[];
	readonly selectedId: string | null;
	readonly offset: number;
	readonly height: number;
	readonly width: number;
	readonly now: number;
	readonly color: boolean;
	/** Show the HOST column: the rows come from more than one engine. */
	readonly hosts?: boolean;
	/** Show NEWER and RISK: decided over every row, not just the filtered ones, so they do not come and go with a filter. */
	readonly optional?: {readonly newer: boolean; readonly risk: boolean};
}

/** How wide NEWER and RISK would like to be, in full and cut to the tag or the score; 0 when the column is not shown. */
export interface OptionalWidths {
	readonly newer: number;
	readonly newerShort: number;
	readonly risk: number;
	readonly riskShort: number;
}

const noOptional: OptionalWidths = {newer: 0, newerShort: 0, risk: 0, riskShort: 0};

interface Columns {
	/** 0 when there is one engine: no HOST column. */
	readonly host: number;
	readonly status: number;
	readonly name: number;
	readonly image: number;
	readonly state: number;
	readonly age: number;
	/** 0 when not shown. */
	readonly newer: number;
	/** NEWER holds the tag alone, without its kind. */
	readonly newerShort: boolean;
	/** 0 when not shown. */
	readonly risk: number;
	/** RISK holds the score alone, without its level. */
	readonly riskShort: boolean;
	readonly digests: number;
}

/** NAME and IMAGE together keep at least this much before NEWER and RISK get any room (at 100 columns they have 45 without them). */
const nameAndImage = 40;

/**
 * Column widths for a terminal `width` wide: the last column holds two 12-digit digests when there is
 * room, else 6-digit ones, and an error's few words. STATE grows to `stateWidth` (a service's
 * `replicated 3`) up to a limit. NEWER and RISK take only what NAME and IMAGE can spare: the digests
 * shrink first, then NEWER loses the kind, RISK the level, then NEWER goes, then RISK.
 */
export function columnsFor(width: number, hosts = false, stateWidth = 0, optional: OptionalWidths = noOptional): Columns {
	const status = 12;
	const state = Math.min(14, Math.max(width >= 100 ? 9 : 8, stateWidth));
	const age = 7;
	const preferred = width >= 120 ? 27 : width >= 100 ? 20 : 15;
	const gaps = 7;
	const layout = (digests: number, newer: number, risk: number): {columns: Columns; room: number} => {
		const extra = (newer > 0 ? newer + 1 : 0) + (risk > 0 ? risk + 1 : 0);
		const available = Math.max(20, width - status - state - age - digests - gaps - extra);
		const host = hosts ? Math.max(6, Math.min(16, Math.floor(available * 0.2))) : 0;
		const flexible = Math.max(20, available - (hosts ? host + 1 : 0));
		const name = Math.max(8, Math.min(32, Math.floor(flexible * 0.35)));
		const columns = {host, status, name, image: flexible - name, state, age, newer, newerShort: newer > 0 && newer < optional.newer, risk, riskShort: risk > 0 && risk < optional.risk, digests};
		return {columns, room: width - status - state - age - digests - gaps - extra - (hosts ? host + 1 : 0)};
	};

	// RISK outlasts NEWER: it is there only when asked for (`--vulns on`), NEWER by default.
	const candidates: ReadonlyArray<readonly [number, number, number]> = [
		[preferred, optional.newer, optional.risk],
		[15, optional.newer, optional.risk],
		[15, optional.newerShort, optional.risk],
		[15, optional.newerShort, optional.riskShort],
		[15, 0, optional.risk],
		[15, 0, optional.riskShort],
	];
	for (const [digests, newer, risk] of candidates) {
		const {columns, room} = layout(digests, newer, risk);
		if (room >= nameAndImage) {
			return columns;
		}
	}

	return layout(preferred, 0, 0).columns;
}

interface Cells {
	readonly marker: string;
	readonly host: string;
	readonly status: string;
	readonly name: string;
	readonly image: string;
	readonly state: string;
	readonly age: string;
	readonly newer: string;
	readonly risk: string;
	readonly digests: string;
}

/** One line of fixed columns, as the text before RISK, RISK, and the text after it (so RISK can have its own colour); every cell is made safe and measured in terminal columns. */
function line(columns: Columns, cells: Cells): [before: string, risk: string, after: string] {
	const cell = (text: string, width: number): string => fitToWidth(safeTerminalText(text), width);
	const before = [
		cells.marker,
		...(columns.host > 0 ? [cell(cells.host, columns.host)] : []),
		cell(cells.status, columns.status),
		cell(cells.name, columns.name),
		cell(cells.image, columns.image),
		cell(cells.state, columns.state),
		cell(cells.age, columns.age),
		...(columns.newer > 0 ? [cell(cells.newer, columns.newer)] : []),
	].join(' ');
	const digests = cell(cells.digests, columns.digests);
	return columns.risk > 0 ? [`${before} `, cell(cells.risk, columns.risk), ` ${digests}`] : [`${before} `, '', digests];
}

/** What the last column says: the digests of a check, or the few words of an error. */
function detailCell(row: LiveRow, digestLength: number): string {
	const verdict = row.result?.verdict;
	const short = (digest: string): string => shortDigest(digest, digestLength);
	switch (verdict?.status) {
		case 'update-available': {
			return `${short(verdict.localDigest)} → ${short(verdict.remoteDigest)}`;
		}

		case 'up-to-date': {
			return short(verdict.remoteDigest);
		}

		case 'error': {
			return shortError(verdict.error);
		}

		default: {
			return '';
		}
	}
}

/** The widest of `texts` made safe, between `header`'s width and `limit`. */
function widest(texts: Iterable<string>, header: string, limit: number): number {
	let width = terminalWidth(header);
	for (const text of texts) {
		width = Math.max(width, terminalWidth(safeTerminalText(text)));
	}

	return Math.min(limit, width);
}

/** What NEWER and RISK need for these rows: nothing for a column not shown. */
export function optionalWidths(rows: readonly LiveRow[], optional: {readonly newer: boolean; readonly risk: boolean}): OptionalWidths {
	if (!optional.newer && !optional.risk) {
		return noOptional;
	}

	const results = rows.flatMap(row => row.result ?? []);
	return {
		newer: optional.newer ? widest(results.map(result => newestVersion(result.newer)), 'NEWER', 28) : 0,
		newerShort: optional.newer ? widest(results.map(result => newestVersion(result.newer, true)), 'NEWER', 20) : 0,
		risk: optional.risk ? widest(results.map(result => riskText(result.risk)), 'RISK', 12) : 0,
		riskShort: optional.risk ? widest(results.map(result => riskText(result.risk, true)), 'RISK', 4) : 0,
	};
}

/** The visible window of the table; rows outside it are never rendered. */
export function Table({rows, selectedId, offset, height, width, now, color, hosts = false, optional = {newer: false, risk: false}}: TableProps) {
	// Measured over every row, not just the visible ones, so the columns do not shift while scrolling.
	const stateWidth = useMemo(() => rows.reduce((widest, row) => row.service === null ? widest : Math.max(widest, terminalWidth(safeTerminalText(workloadState(row)))), 0), [rows]);
	const wanted = useMemo(() => optionalWidths(rows, optional), [rows, optional.newer, optional.risk]);
	const columns = columnsFor(width, hosts, stateWidth, wanted);
	const digestLength = columns.digests >= 27 ? 12 : 6;
	const visible = rows.slice(offset, offset + height);
	const header = line(columns, {marker: ' ', host: 'HOST', status: 'STATUS', name: 'NAME', image: 'IMAGE', state: 'STATE', age: 'CHECKED', newer: 'NEWER', risk: 'RISK', digests: columns.digests > 15 ? 'LOCAL → REMOTE' : 'DIGESTS'});
	return (
		<Box flexDirection='column'>
			<Text dimColor wrap='truncate'>{header.join('')}</Text>
			{visible.length === 0
				? <Text dimColor>{rows.length === 0 ? '  No containers to show.' : ''}</Text>
				: visible.map(row => {
					const look = statusLook[rowStatus(row)];
					const selected = row.id === selectedId;
					const age = row.checking ? '…' : `${formatAge(row.checkedAt, now)}${row.fromLastRun ? '*' : ''}`;
					const risk = row.result?.risk;
					const riskLook = risk === null || risk === undefined ? undefined : riskLooks[risk.level];
					const [before, riskCell, after] = line(columns, {
						marker: selected ? '›' : ' ',
						host: row.host,
						status: `${look.symbol} ${look.label}`,
						name: row.name,
						image: shortImage(row.image),
						state: workloadState(row),
						age,
						newer: newestVersion(row.result?.newer, columns.newerShort),
						risk: riskText(risk, columns.riskShort),
						digests: detailCell(row, digestLength),
					});
					return (
						<Text key={row.id} inverse={selected} bold={selected} color={color ? look.color : undefined} wrap='truncate'>
							{before}
							<Text color={color ? riskLook?.color : undefined} bold={riskLook?.bold}>{riskCell}</Text>
							{after}
						</Text>
					);
				})}
		</Box>
	);
}
