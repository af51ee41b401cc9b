import {Box, useApp, useInput, useWindowSize, type Key} from 'ink';
import {useMemo, useReducer} from 'react';
import type {LiveRow} from '../../core/live-model.ts';
import {familiarName, parseReference} from '../../core/reference.ts';
import {useLive, type LiveSource} from '../hooks/use-live.ts';
import {useNow} from '../hooks/use-now.ts';
import {useTable} from '../hooks/use-table.ts';
import {visibleRows} from '../state/rows.ts';
import {initialViewState, viewReducer, type ExcludeChoice} from '../state/view-reducer.ts';
import {Detail, detailHeight} from './Detail.tsx';
import {Footer} from './Footer.tsx';
import {Header} from './Header.tsx';
import {Help} from './Help.tsx';
import {Table} from './Table.tsx';

/** What the keys do outside the view: the session's actions. They report failures themselves. */
export interface AppActions {
	readonly scanNow: () => void;
	readonly togglePin: (row: LiveRow) => unknown;
	readonly exclude: (pattern: string) => unknown;
	readonly removeExclusionFor: (row: LiveRow) => unknown;
}

export interface AppProps {
	readonly source: LiveSource;
	readonly actions: AppActions;
	readonly color: boolean;
}

/** Header, table, detail pane and footer; lines left for the table once the rest is laid out. */
const headerLines = 2;
const tableHeaderLines = 1;
const footerLines = 1;
// Ink clears the whole screen when a frame is as tall as the terminal: stay one line short.
const spareLines = 1;

export function excludeChoice(row: LiveRow): ExcludeChoice {
	try {
		const reference = parseReference(row.image);
		const repository = familiarName(reference);
		const patterns = reference.tag === null ? [repository] : [`${repository}:${reference.tag}`, repository];
		return {containerName: row.name, patterns};
	} catch {
		return {containerName: row.name, patterns: [row.image]};
	}
}

export function App({source, actions, color}: AppProps) {
	const snapshot = useLive(source);
	const {columns, rows} = useWindowSize();
	const now = useNow();
	const {exit} = useApp();
	const [view, dispatch] = useReducer(viewReducer, initialViewState);
	const shown = useMemo(() => visibleRows(snapshot.rows, view), [snapshot.rows, view.filter, view.updatesOnly, view.sort]);
	const ids = useMemo(() => shown.map(row => row.id), [shown]);
	const tableHeight = Math.max(1, rows - headerLines - tableHeaderLines - footerLines - spareLines - (view.detail ? detailHeight : 0));
	const [table, navigate] = useTable(ids, tableHeight);
	const selected = shown.find(row => row.id === table.selectedId);

	const onTableKey = (input: string, key: Key): void => {
		if (input === 'q' || (key.ctrl && input === 'c')) {
			exit();
		} else if (key.upArrow || input === 'k') {
			navigate({type: 'move', delta: -1});
		} else if (key.downArrow || input === 'j') {
			navigate({type: 'move', delta: 1});
		} else if (key.pageUp) {
			navigate({type: 'page', direction: -1});
		} else if (key.pageDown || input === ' ') {
			navigate({type: 'page', direction: 1});
		} else if (input === 'g' || key.home) {
			navigate({type: 'top'});
		} else if (input === 'G' || key.end) {
			navigate({type: 'bottom'});
		} else if (key.return) {
			dispatch({type: 'toggle-detail'});
		} else if (input === 's') {
			actions.scanNow();
		} else if (input === 'p' && selected !== undefined) {
			void actions.togglePin(selected);
		} else if (input === 'x' && selected !== undefined) {
			dispatch({type: 'open-exclude', choice: excludeChoice(selected)});
		} else if (input === 'u' && selected !== undefined) {
			void actions.removeExclusionFor(selected);
		} else if (input === '/') {
			dispatch({type: 'open-filter'});
		} else if (input === 'a') {
			dispatch({type: 'toggle-updates-only'});
		} else if (input === 'o') {
			dispatch({type: 'cycle-sort'});
		} else if (input === '?') {
			dispatch({type: 'open-help'});
		} else if (key.escape && view.detail) {
			dispatch({type: 'toggle-detail'});
		}
	};

	useInput((input, key) => {
		// Keys typed fast, held down or sent over a slow link arrive as one chunk ("jjj", "j\r"): one at a time.
		if (input.length > 1 && !key.ctrl && !key.meta && !input.includes('\u001B')) {
			for (const character of input) {
				onTableKey(character === '\r' ? '' : character, {...key, return: character === '\r'});
			}

			return;
		}

		onTableKey(input, key);
	}, {isActive: view.focus === 'table'});

	useInput((input, key) => {
		if (key.return) {
			dispatch({type: 'close-filter', keep: true});
		} else if (key.escape) {
			dispatch({type: 'close-filter', keep: false});
		} else if (key.backspace || key.delete) {
			dispatch({type: 'filter-backspace'});
		} else if (!key.ctrl && !key.meta && input.length > 0 && !/[\u0000-\u001F]/.test(input)) {
			dispatch({type: 'filter-input', text: input});
		}
	}, {isActive: view.focus === 'filter'});

	useInput((input, key) => {
		if (key.escape || input === '?' || input === 'q') {
			dispatch({type: 'close'});
		}
	}, {isActive: view.focus === 'help'});

	useInput((input, key) => {
		const patterns = view.exclude?.patterns ?? [];
		const chosen = key.return || input === 'y' ? patterns[0] : /^[1-9]$/.test(input) ? patterns[Number(input) - 1] : undefined;
		if (chosen !== undefined) {
			dispatch({type: 'close'});
			void actions.exclude(chosen);
		} else if (key.escape || input === 'n' || input === 'q') {
			dispatch({type: 'close'});
		}
	}, {isActive: view.focus === 'exclude'});

	return (
		<Box flexDirection='column' width={columns}>
			<Header snapshot={snapshot} now={now} color={color} width={columns}/>
			{view.focus === 'help'
				? <Help height={tableHeight + tableHeaderLines}/>
				: <Table rows={shown} selectedId={table.selectedId} offset={table.offset} height={tableHeight} width={columns} now={now} color={color}/>}
			{view.detail && view.focus !== 'help' ? <Detail row={selected} now={now} color={color} width={columns}/> : null}
			<Footer view={view} notice={snapshot.notice} color={color}/>
		</Box>
	);
}
