import {Text} from 'ink';
import type {Notice} from '../../core/live-model.ts';
import {safeTerminalText} from '../../core/terminal-text.ts';
import type {ViewState} from '../state/view-reducer.ts';

export interface FooterProps {
	readonly view: ViewState;
	readonly notice: Notice | null;
	/** This session's `available` events ("2 new since 14:02"), shown before the keys. */
	readonly alerts?: string | null;
	readonly color: boolean;
}

/** One line: the filter being typed, the exclusion question, a notice, or the keys. */
export function Footer({view, notice, alerts = null, color}: FooterProps) {
	if (view.focus === 'filter') {
		return <Text wrap='truncate'>{`/${safeTerminalText(view.filter)}`}<Text inverse> </Text><Text dimColor>  Enter keep · Esc clear</Text></Text>;
	}

	if (view.focus === 'exclude' && view.exclude !== null) {
		const options = view.exclude.patterns.map((pattern, index) => `[${index + 1}] ${pattern}${index === 1 ? ' (every tag)' : ''}`).join('  ');
		return <Text wrap='truncate' color={color ? 'yellow' : undefined}>{safeTerminalText(`Exclude ${view.exclude.containerName}'s image from checks? ${options}  [Esc] cancel`)}</Text>;
	}

	const news = alerts === null ? '' : `↑ ${safeTerminalText(alerts)}  `;
	const keys = `${news}⏎ details  s scan  p pin  x exclude  u unexclude  / filter${view.filter ? `:"${safeTerminalText(view.filter)}"` : ''}  a ${view.updatesOnly ? 'all' : 'updates'}  o sort:${view.sort}  ? help  q quit`;
	if (notice !== null) {
		return (
			<Text wrap='truncate'>
				<Text color={color ? (notice.kind === 'error' ? 'red' : 'green') : undefined}>{`${notice.kind === 'error' ? '! ' : ''}${safeTerminalText(notice.text)}`}</Text>
				<Text dimColor>{`  ${keys}`}</Text>
			</Text>
		);
	}

	return <Text dimColor wrap='truncate'>{keys}</Text>;
}
