import {useCallback, useState} from 'react';
import {initialTableState, tableReducer, type TableAction, type TableState} from '../state/table-reducer.ts';

type Navigation = Exclude<TableAction, {type: 'sync'}>['type'];

/**
 * The table reducer, kept in step with the rows and the screen: every render and every key sees the
 * state synced to the current ids and height, so a rescan or a resize never leaves it stale.
 */
export function useTable(ids: readonly string[], height: number): [TableState, (action: {type: Navigation; delta?: number; direction?: 1 | -1}) => void] {
	const [state, setState] = useState<TableState>(initialTableState);
	const synced = tableReducer(state, {type: 'sync', ids, height});
	if (synced !== state) {
		// Keep what the sync decided (the first row selected, say), so the selection then follows that id.
		setState(synced);
	}

	const dispatch = useCallback((action: {type: Navigation; delta?: number; direction?: 1 | -1}) => {
		setState(previous => {
			const base = tableReducer(previous, {type: 'sync', ids, height});
			switch (action.type) {
				case 'move': {
					return tableReducer(base, {type: 'move', delta: action.delta ?? 1, ids});
				}

				case 'page': {
					return tableReducer(base, {type: 'page', direction: action.direction ?? 1, ids});
				}

				default: {
					return tableReducer(base, {type: action.type, ids});
				}
			}
		});
	}, [ids, height]);
	return [synced, dispatch];
}
