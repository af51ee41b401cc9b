import {describe, expect, it} from 'vitest';
import {formatAge, formatCountdown, sortKeysFor, visibleRows, type SortKey} from '../../source/app/state/rows.ts';
import {initialTableState, tableReducer, type TableState} from '../../source/app/state/table-reducer.ts';
import {initialViewState, viewReducer} from '../../source/app/state/view-reducer.ts';
import {facts, modelWith, verdicts} from './fixtures.ts';

const ids = Array.from({length: 50}, (_, index) => `c${index}`);
const synced = (state: TableState = initialTableState, height = 10): TableState => tableReducer(state, {type: 'sync', ids, height});

describe('tableReducer', () => {
	it('selects the first row and keeps the selection in view while moving', () => {
		let state = synced();
		expect(state).toEqual({selectedId: 'c0', offset: 0, height: 10});
		state = tableReducer(state, {type: 'move', delta: 12, ids});
		expect(state).toEqual({selectedId: 'c12', offset: 3, height: 10});
		state = tableReducer(state, {type: 'move', delta: -10, ids});
		expect(state).toEqual({selectedId: 'c2', offset: 2, height: 10});
		expect(tableReducer(state, {type: 'move', delta: -99, ids}).selectedId).toBe('c0');
		expect(tableReducer(state, {type: 'bottom', ids})).toEqual({selectedId: 'c49', offset: 40, height: 10});
		expect(tableReducer(state, {type: 'page', direction: 1, ids}).selectedId).toBe('c11');
	});

	it('follows the selected id when the rows are reordered, and stays near when it goes', () => {
		let state = tableReducer(synced(), {type: 'move', delta: 20, ids});
		const reordered = [...ids].reverse();
		state = tableReducer(state, {type: 'sync', ids: reordered, height: 10});
		expect(state.selectedId).toBe('c20');
		expect(reordered.indexOf('c20')).toBeGreaterThanOrEqual(state.offset);
		expect(reordered.indexOf('c20')).toBeLessThan(state.offset + state.height);

		const without = reordered.filter(id => id !== 'c20');
		state = tableReducer(state, {type: 'sync', ids: without, height: 10});
		expect(state.selectedId).not.toBeNull();
		expect(without.indexOf(state.selectedId!)).toBeGreaterThanOrEqual(state.offset);
	});

	it('returns the same state when nothing changes (no render loop), and copes with no rows', () => {
		const state = synced();
		expect(synced(state)).toBe(state);
		expect(tableReducer(state, {type: 'sync', ids: [], height: 10})).toEqual({selectedId: null, offset: 0, height: 10});
		expect(tableReducer(state, {type: 'sync', ids, height: 30}).height).toBe(30);
	});
});

describe('viewReducer', () => {
	it('edits, keeps and clears the filter', () => {
		let state = viewReducer(initialViewState, {type: 'open-filter'});
		state = viewReducer(viewReducer(state, {type: 'filter-input', text: 'webx'}), {type: 'filter-backspace'});
		expect(state).toMatchObject({focus: 'filter', filter: 'web'});
		expect(viewReducer(state, {type: 'close-filter', keep: true})).toMatchObject({focus: 'table', filter: 'web'});
		expect(viewReducer(state, {type: 'close-filter', keep: false})).toMatchObject({focus: 'table', filter: ''});
	});

	it('cycles the sort through every key and back; risk only when rows have a risk', () => {
		const cycle = (keys: readonly SortKey[], times: number): string[] => {
			const sorts: string[] = [];
			let state = initialViewState;
			for (let index = 0; index < times; index++) {
				sorts.push(state.sort);
				state = viewReducer(state, {type: 'cycle-sort', keys});
			}

			return sorts;
		};

		expect(cycle(sortKeysFor(false), 5)).toEqual(['status', 'name', 'image', 'age', 'status']);
		expect(cycle(sortKeysFor(true), 6)).toEqual(['status', 'name', 'image', 'age', 'risk', 'status']);
		// Sorted by risk, and then no row has one: the next key is the first.
		expect(viewReducer({...initialViewState, sort: 'risk'}, {type: 'cycle-sort', keys: sortKeysFor(false)}).sort).toBe('status');
	});
});

describe('visibleRows', () => {
	const rows = modelWith([[facts('web'), verdicts.upToDate], [facts('api', 'ghcr.io/acme/api:2'), verdicts.update], [facts('db'), verdicts.error]]).getSnapshot().rows;

	it('filters on name and image, case-insensitively, and can show only updates', () => {
		expect(visibleRows(rows, {filter: 'ACME', updatesOnly: false, sort: 'name'}).map(row => row.name)).toEqual(['api']);
		expect(visibleRows(rows, {filter: '', updatesOnly: true, sort: 'name'}).map(row => row.name)).toEqual(['api']);
		expect(visibleRows(rows, {filter: '', updatesOnly: false, sort: 'status'}).map(row => row.name)).toEqual(['api', 'db', 'web']);
		expect(visibleRows(rows, {filter: '', updatesOnly: false, sort: 'image'}).map(row => row.name)).toEqual(['api', 'db', 'web']);
	});

	it('keeps rows with a newer version when showing only updates, and sorts by risk, highest first, rows without one last', () => {
		const enriched = modelWith([
			[facts('web'), verdicts.upToDate, {newer: [{tag: '1.27.1', type: 'minor'}], risk: {score: 20, level: 'high'}}],
			[facts('api'), verdicts.update, {newer: [], risk: {score: 72, level: 'high'}}],
			[facts('db'), verdicts.upToDate, {newer: null, risk: null}],
			[facts('cache'), verdicts.upToDate, {newer: [], risk: {score: 0, level: 'none'}}],
			[facts('old'), verdicts.error],
		]).getSnapshot().rows;
		expect(visibleRows(enriched, {filter: '', updatesOnly: true, sort: 'name'}).map(row => row.name)).toEqual(['api', 'web']);
		// Without a risk: by status (the error first), then by name.
		expect(visibleRows(enriched, {filter: '', updatesOnly: false, sort: 'risk'}).map(row => row.name)).toEqual(['api', 'web', 'cache', 'old', 'db']);
	});

	it('formats ages and countdowns', () => {
		const now = Date.parse('2026-11-23T12:00:00Z');
		expect(formatAge('2026-11-23T11:59:30Z', now)).toBe('30s');
		expect(formatAge('2026-11-23T11:00:00Z', now)).toBe('1h');
		expect(formatAge('2026-11-20T12:00:00Z', now)).toBe('3d');
		expect(formatAge(null, now)).toBe('-');
		expect(formatCountdown('2026-11-23T17:59:00Z', now)).toBe('5h59m');
		expect(formatCountdown('2026-11-23T12:04:05Z', now)).toBe('4m05s');
		expect(formatCountdown(null, now)).toBeNull();
	});
});
