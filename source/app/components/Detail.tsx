import {Box, Text} from 'ink';
import type {LiveRow} from '../../core/live-model.ts';
import {formatPlatform} from '../../core/types.ts';
import {formatAge, rowStatus} from '../state/rows.ts';
import {statusLook} from '../theme.ts';

export const detailHeight = 10;

export interface DetailProps {
	readonly row: LiveRow | undefined;
	readonly now: number;
	readonly color: boolean;
	readonly width: number;
}

function Field({label, value}: {readonly label: string; readonly value: string}) {
	return (
		<Text wrap='truncate'>
			<Text dimColor>{label.padEnd(10)}</Text>
			{value}
		</Text>
	);
}

/** Everything known about the selected container, with the full error or reason. */
export function Detail({row, now, color, width}: DetailProps) {
	if (row === undefined) {
		return <Box height={detailHeight} borderStyle='single' width={width}><Text dimColor>No container selected.</Text></Box>;
	}

	const result = row.result;
	const verdict = result?.verdict;
	const look = statusLook[rowStatus(row)];
	const local = verdict !== undefined && 'localDigest' in verdict ? verdict.localDigest : null;
	const remote = verdict !== undefined && 'remoteDigest' in verdict ? verdict.remoteDigest : null;
	const why = verdict === undefined
		? 'Not checked yet.'
		: verdict.status === 'error'
			? verdict.error
			: 'reason' in verdict
				? verdict.reason
				: verdict.status === 'update-available' ? 'The registry has a newer image for this tag and platform: pull it and recreate the container.' : 'The registry has the image this container runs.';
	const registry = result?.reference?.split('/')[0] ?? '-';
	return (
		<Box flexDirection='column' borderStyle='single' width={width} height={detailHeight} paddingX={1}>
			<Text wrap='truncate'>
				<Text bold>{row.name}</Text>
				{`  ${row.state}  `}
				<Text color={color ? look.color : undefined}>{`${look.symbol} ${look.label}`}</Text>
				<Text dimColor>{`  checked ${row.checking ? 'now' : `${formatAge(row.checkedAt, now)} ago`}${row.fromLastRun ? ' (last run)' : ''}`}</Text>
			</Text>
			<Field label='image' value={`${row.image}${result?.reference && result.reference !== row.image ? `  (${result.reference})` : ''}`}/>
			<Field label='ids' value={`container ${row.id.slice(0, 12)}  image ${result?.imageId.replace(/^sha256:/, '').slice(0, 12) ?? '-'}`}/>
			<Field label='registry' value={`${registry}  platform ${result?.platform ? formatPlatform(result.platform) : '-'}`}/>
			<Field label='local' value={local ?? '-'}/>
			<Field label='remote' value={remote ?? '-'}/>
			<Text wrap='wrap' color={color && verdict?.status === 'error' ? 'red' : undefined}>{why}</Text>
		</Box>
	);
}
