import {Box, Text} from 'ink';
import type {LiveRow} from '../../core/live-model.ts';
import {shortDigest, upToDateReason, updateReason, workloadState} from '../../core/status.ts';
import {safeTerminalText} from '../../core/terminal-text.ts';
import {formatPlatform, type WorkloadKind} from '../../core/types.ts';
import {enrichmentLines, type DetailLine} from '../state/detail-lines.ts';
import {formatAge, rowStatus} from '../state/rows.ts';
import {statusLook} from '../theme.ts';

/** Lines the pane takes without what the steps after the verdict add, borders included: a service's has one more (mode, replicas, tasks). */
export function detailBaseHeight(kind: WorkloadKind | undefined): number {
	return kind === 'service' ? 11 : 10;
}

/** Lines the pane needs for `row`, borders included. */
export function detailHeight(row: LiveRow | undefined): number {
	return detailBaseHeight(row?.kind) + enrichmentLines(row?.result).length;
}

export interface DetailProps {
	readonly row: LiveRow | undefined;
	readonly now: number;
	readonly color: boolean;
	readonly width: number;
	/** Lines the pane takes, borders included; lines past it are left out from the end. Default: what `row` needs. */
	readonly height?: number | undefined;
}

function Field({label, value, color, bold, note}: DetailLine) {
	return (
		<Text wrap='truncate'>
			<Text dimColor>{label.padEnd(10)}</Text>
			<Text color={color} bold={bold}>{safeTerminalText(value)}</Text>
			{note === undefined ? null : <Text dimColor>{safeTerminalText(note)}</Text>}
		</Text>
	);
}

/** Everything known about the selected container or service, with the full error or reason. */
export function Detail({row, now, color, width, height = detailHeight(row)}: DetailProps) {
	if (row === undefined) {
		return <Box height={height} borderStyle='single' width={width}><Text dimColor>No container selected.</Text></Box>;
	}

	const result = row.result;
	const verdict = result?.verdict;
	const look = statusLook[rowStatus(row)];
	const local = verdict !== undefined && 'localDigest' in verdict ? verdict.localDigest : null;
	const remote = verdict !== undefined && 'remoteDigest' in verdict ? verdict.remoteDigest : null;
	let why: string;
	if (verdict === undefined) {
		why = 'Not checked yet.';
	} else if (verdict.status === 'error') {
		why = verdict.error;
	} else if ('reason' in verdict) {
		why = verdict.reason;
	} else {
		why = verdict.status === 'update-available' ? updateReason({...row, platform: result?.platform ?? null}) : upToDateReason;
	}

	const registry = result?.reference?.split('/')[0] ?? '-';
	const {service} = row;
	return (
		<Box flexDirection='column' borderStyle='single' width={width} height={height} paddingX={1}>
			<Text wrap='truncate'>
				<Text bold>{safeTerminalText(row.name)}</Text>
				{`  ${safeTerminalText(workloadState(row))}  `}
				<Text color={color ? look.color : undefined}>{`${look.symbol} ${look.label}`}</Text>
				<Text dimColor>{`  checked ${row.checking ? 'now' : `${formatAge(row.checkedAt, now)} ago`}${row.fromLastRun ? ' (last run)' : ''}`}</Text>
			</Text>
			<Field label='image' value={`${row.image}${result?.reference && result.reference !== row.image ? `  (${result.reference})` : ''}`}/>
			<Field label='ids' value={`${row.kind} ${shortDigest(row.id)}  image ${shortDigest(result?.imageId)}  host ${row.host}`}/>
			{service === null
				? null
				: <Field label='service' value={`${service.mode}${service.replicas === null ? '' : `, ${service.replicas} replica${service.replicas === 1 ? '' : 's'}`}; tasks here: ${service.tasks.length === 0 ? 'none' : service.tasks.map(task => shortDigest(task)).join(' ')}`}/>}
			<Field label='registry' value={`${registry}  platform ${result?.platform ? formatPlatform(result.platform) : '-'}`}/>
			<Field label='local' value={local ?? '-'}/>
			<Field label='remote' value={remote ?? '-'}/>
			{enrichmentLines(result).slice(0, Math.max(0, height - detailBaseHeight(row.kind))).map(line => (
				<Field key={`${line.label}:${line.value}`} {...line} color={color ? line.color : undefined} bold={color && line.bold}/>
			))}
			<Text wrap='wrap' color={color && verdict?.status === 'error' ? 'red' : undefined}>{safeTerminalText(why)}</Text>
		</Box>
	);
}
