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

/** Column widths for a terminal `width` wide: digests of 12 characters when there is room, else 6. */
export function columnsFor(width: number): Columns {
	const status = 12;
	const state = width >= 100 ? 9 : 8;
	const age = 7;
	const digests = width >= 120 ? 27 : 15;
	const gaps = 7;
	const flexible = Math.max(20, width - status - state - age - digests - gaps);
	const name = Math.max(8, Math.min(32, Math.floor(flexible * 0.35)));
	return {status, name, image: flexible - name, state, age, digests};
}

function line(columns: Columns, cells: {marker: string; status: string; name: string; image: string; state: string; age: string; digests: string}): string {
	return [cells.marker, fit(cells.status, columns.status), fit(cells.name, columns.name), fit(cells.image, columns.image), fit(cells.state, columns.state), fit(cells.age, columns.age), fit(cells.digests, columns.digests)].join(' ');
}

/** The visible window of the table; rows outside it are never rendered. */
export function Table({rows, selectedId, offset, height, width, now, color}: TableProps) {
	const columns = columnsFor(width);
	const digestLength = columns.digests > 15 ? 12 : 6;
	const short = (digest: string): string => shortDigest(digest).slice(0, digestLength);
	const visible = rows.slice(offset, offset + height);
	return (
		<Box flexDirection='column'>
			<Text dimColor wrap='truncate'>{line(columns, {marker: ' ', status: 'STATUS', name: 'NAME', image: 'IMAGE', state: 'STATE', age: 'CHECKED', digests: columns.digests > 15 ? 'LOCAL → REMOTE' : 'DIGESTS'})}</Text>
			{visible.length === 0
				? <Text dimColor>{rows.length === 0 ? '  No containers to show.' : ''}</Text>
				: visible.map(row => {
					const status = rowStatus(row);
					const look = statusLook[status];
					const verdict = row.result?.verdict;
					const digests = verdict?.status === 'update-available' ? `${short(verdict.localDigest)} → ${short(verdict.remoteDigest)}` : verdict?.status === 'up-to-date' ? short(verdict.remoteDigest) : '';
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
