import {Box, Text} from 'ink';
import type {LiveSnapshot} from '../../core/live-model.ts';
import {hasNewerVersion, newerLook, statusOrder} from '../../core/status.ts';
import {safeTerminalText} from '../../core/terminal-text.ts';
import {formatAge, formatCountdown, rowStatus, type RowStatus} from '../state/rows.ts';
import {statusLook} from '../theme.ts';

export interface HeaderProps {
	readonly snapshot: LiveSnapshot;
	readonly now: number;
	readonly color: boolean;
	readonly width: number;
}

/** Engine, counts by status, last and next scan, progress; a banner when the engine is gone. */
export function Header({snapshot, now, color, width}: HeaderProps) {
	const counts = new Map<RowStatus, number>();
	let newer = 0;
	for (const row of snapshot.rows) {
		const status = rowStatus(row);
		counts.set(status, (counts.get(status) ?? 0) + 1);
		newer += hasNewerVersion(row.result) ? 1 : 0;
	}

	const {scan, engine} = snapshot;
	const fromLastRun = snapshot.rows.some(row => row.fromLastRun);
	let timing: string;
	if (scan.running) {
		timing = `scanning: ${scan.checked} of ${scan.checks} image${scan.checks === 1 ? '' : 's'} checked`;
	} else if (scan.lastScanAt === null) {
		timing = 'no scan yet';
	} else {
		const next = formatCountdown(scan.nextScanAt, now);
		timing = `last scan ${new Date(scan.lastScanAt).toTimeString().slice(0, 8)} (${formatAge(scan.lastScanAt, now)} ago)${next === null ? '' : ` · next in ${next}`}`;
	}

	for (const limit of scan.rateLimits) {
		timing += ` · ${limit.registry} ${limit.remaining}/${limit.limit} pulls left`;
	}

	if (fromLastRun) {
		timing += ' · some rows are from the last run';
	}

	const summary = [
		...statusOrder.filter(status => (counts.get(status) ?? 0) > 0).map(status => `${statusLook[status].symbol}${counts.get(status)} ${statusLook[status].label}`),
		// Not a status: rows counted here are counted under their status too. Left out at zero, as they are.
		...(newer > 0 ? [`${newerLook.symbol}${newer} ${newerLook.label}`] : []),
	].join('  ');
	return (
		<Box flexDirection='column' width={width}>
			<Text wrap='truncate'>
				<Text bold color={color ? 'cyan' : undefined}>updock</Text>
				{`  ${summary || 'no containers'}  (${snapshot.rows.length} container${snapshot.rows.length === 1 ? '' : 's'})`}
			</Text>
			{engine.status === 'unreachable'
				? <Text color={color ? 'red' : undefined} bold wrap='truncate'>{`! ${safeTerminalText(engine.message ?? 'The Docker engine is unreachable.')} Retrying in ${formatCountdown(engine.retryAt, now) ?? 'a moment'}.`}</Text>
				: <Text dimColor wrap='truncate'>{safeTerminalText(`${engine.address} · ${timing}`)}</Text>}
		</Box>
	);
}
