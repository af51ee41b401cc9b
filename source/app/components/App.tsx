import {Box, useApp, useInput, useWindowSize, type Key} from 'ink';
import {useMemo, useReducer} from 'react';
import type {LiveRow} from '../../core/live-model.ts';
import {familiarName, parseReference} from '../../core/reference.ts';
import {optionalColumns} from '../../core/status.ts';
import {useLive, type LiveSource} from '../hooks/use-live.ts';
import {useNow} from '../hooks/use-now.ts';
import {useTable} from '../hooks/use-table.ts';
import {sortKeysFor, visibleRows} from '../state/rows.ts';
import {initialViewState, viewReducer, type ExcludeChoice} from '../state/view-reducer.ts';
import {Detail, detailBaseHeight, detailHeight} from './Detail.tsx';
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
/**
 * The frame is one line shorter than the terminal and Ink ends it with a newline: together they fill
 * the screen exactly, so the header lands on the top line wherever the cursor was when the alternate
 * screen opened (it keeps the cursor's row), and the footer on the bottom one.
 */
const spareLines = 1;
/** Table rows kept on screen however tall the detail pane would like to be. */
const minTableLines = 3;

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
	const optional = useMemo(() => optionalColumns(snapshot.rows.map(row => row.result)), [snapshot.rows]);
	const sortKeys = sortKeysFor(optional.risk);
	// A sort that no longer applies (risk, once no row has one) falls back to the first, on screen too.
	const sort = sortKeys.includes(view.sort) ? view.sort : 'status';
	const shown = useMemo(() => visibleRows(snapshot.rows, {filter: view.filter, updatesOnly: view.updatesOnly, sort}), [snapshot.rows, view.filter, view.updatesOnly, sort]);
	const ids = useMemo(() => shown.map(row => row.id), [shown]);
	const hosts = useMemo(() => new Set(snapshot.rows.map(row => row.host)).size > 1, [snapshot.rows]);
	const fixedLines = headerLines + tableHeaderLines + footerLines + spareLines;
	// Room for the tallest pane any shown row needs, so moving between rows never resizes the table; but never so tall the table goes.
	const tallest = useMemo(() => {
		let needed = view.detail ? detailHeight(undefined) : 0;
		let base = needed;
		for (const row of view.detail ? shown : []) {
			needed = Math.max(needed, detailHeight(row));
			base = Math.max(base, detailBaseHeight(row.kind));
		}

		return {needed, base};
	}, [shown, view.detail]);
	const pane = Math.min(tallest.needed, Math.max(tallest.base, rows - fixedLines - minTableLines));
	const tableHeight = Math.max(1, rows - fixedLines - pane);
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
			dispatch({type: 'cycle-sort', keys: sortKeys});
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
		<Box flexDirection='column' width={columns} height={Math.max(1, rows - spareLines)}>
			<Header snapshot={snapshot} now={now} color={color} width={columns}/>
			<Box flexDirection='column' flexGrow={1}>
				{view.focus === 'help'
					? <Help height={tableHeight + tableHeaderLines}/>
					: <Table rows={shown} selectedId={table.selectedId} offset={table.offset} height={tableHeight} width={columns} now={now} color={color} hosts={hosts} optional={optional}/>}
			</Box>
			{view.detail && view.focus !== 'help' ? <Detail row={selected} now={now} color={color} width={columns} height={pane}/> : null}
			<Footer view={{...view, sort}} notice={snapshot.notice} alerts={snapshot.alerts} color={color}/>
		</Box>
	);
}
