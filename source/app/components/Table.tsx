import {Box, Text} from 'ink';
import type {LiveRow} from '../../core/live-model.ts';
import {formatAge, rowStatus} from '../state/rows.ts';
import {fit, shortDigest, statusLook} from '../theme.ts';

export interface TableProps {
	readonly rows: readonly LiveRow[];
	readonly selectedId: string | null;
	readonly offset: number;
	readonly height: number;
	readonly width: number;
	readonly now: number;
	readonly color: boolean;
}

interface Columns {
	readonly status: number;
	readonly name: number;
	readonly image: number;
	readonly state: number;
	readonly age: number;
	readonly digests: number;
}

/** Column widths for a terminal `width` wide: the digest column only when there is room. */
export function columnsFor(width: number): Columns {
	const status = 12;
	const state = 9;
	const age = 7;
	const digests = width >= 120 ? 27 : 0;
	const gaps = digests > 0 ? 7 : 6;
	const flexible = Math.max(20, width - status - state - age - digests - gaps);
	const name = Math.max(8, Math.min(32, Math.floor(flexible * 0.35)));
	return {status, name, image: flexible - name, state, age, digests};
}

function line(columns: Columns, cells: {marker: string; status: string; name: string; image: string; state: string; age: string; digests: string}): string {
	const parts = [cells.marker, fit(cells.status, columns.status), fit(cells.name, columns.name), fit(cells.image, columns.image), fit(cells.state, columns.state), fit(cells.age, columns.age)];
	if (columns.digests > 0) {
		parts.push(fit(cells.digests, columns.digests));
	}

	return parts.join(' ');
}

/** The visible window of the table; rows outside it are never rendered. */
export function Table({rows, selectedId, offset, height, width, now, color}: TableProps) {
	const columns = columnsFor(width);
	const visible = rows.slice(offset, offset + height);
	return (
		<Box flexDirection='column'>
			<Text dimColor wrap='truncate'>{line(columns, {marker: ' ', status: 'STATUS', name: 'NAME', image: 'IMAGE', state: 'STATE', age: 'CHECKED', digests: 'LOCAL → REMOTE'})}</Text>
			{visible.length === 0
				? <Text dimColor>{rows.length === 0 ? '  No containers to show.' : ''}</Text>
				: visible.map(row => {
					const status = rowStatus(row);
					const look = statusLook[status];
					const verdict = row.result?.verdict;
					const digests = verdict?.status === 'update-available' ? `${shortDigest(verdict.localDigest)} → ${shortDigest(verdict.remoteDigest)}` : verdict?.status === 'up-to-date' ? shortDigest(verdict.remoteDigest) : '';
					const selected = row.id === selectedId;
					const age = row.checking ? '…' : `${formatAge(row.checkedAt, now)}${row.fromLastRun ? '*' : ''}`;
					return (
						<Text key={row.id} inverse={selected} bold={selected} color={color ? look.color : undefined} wrap='truncate'>
							{line(columns, {marker: selected ? '›' : ' ', status: `${look.symbol} ${look.label}`, name: row.name, image: row.image, state: row.state, age, digests})}
						</Text>
					);
				})}
		</Box>
	);
}
