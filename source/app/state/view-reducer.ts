import type {SortKey} from './rows.ts';

/** Which part of the screen has the keyboard: one `useInput` each, switched with `isActive`. */
export type Focus = 'table' | 'filter' | 'help' | 'exclude';

export interface ExcludeChoice {
	readonly containerName: string;
	/** The patterns offered: this image's tag, the whole repository. */
	readonly patterns: readonly string[];
}

export interface ViewState {
	readonly focus: Focus;
	readonly filter: string;
	readonly updatesOnly: boolean;
	readonly sort: SortKey;
	readonly detail: boolean;
	readonly exclude: ExcludeChoice | null;
}

export type ViewAction =
	| {readonly type: 'toggle-detail'}
	| {readonly type: 'toggle-updates-only'}
	/** To the next of `keys` (the sort keys that apply now), or the first when the current one does not apply. */
	| {readonly type: 'cycle-sort'; readonly keys: readonly SortKey[]}
	| {readonly type: 'open-help'}
	| {readonly type: 'open-filter'}
	| {readonly type: 'filter-input'; readonly text: string}
	| {readonly type: 'filter-backspace'}
	/** Enter keeps the filter, Escape clears it; both give the keyboard back to the table. */
	| {readonly type: 'close-filter'; readonly keep: boolean}
	| {readonly type: 'open-exclude'; readonly choice: ExcludeChoice}
	| {readonly type: 'close'};

export const initialViewState: ViewState = {focus: 'table', filter: '', updatesOnly: false, sort: 'status', detail: false, exclude: null};

export function viewReducer(state: ViewState, action: ViewAction): ViewState {
	switch (action.type) {
		case 'toggle-detail': {
			return {...state, detail: !state.detail};
		}

		case 'toggle-updates-only': {
			return {...state, updatesOnly: !state.updatesOnly};
		}

		case 'cycle-sort': {
			return {...state, sort: action.keys[(action.keys.indexOf(state.sort) + 1) % action.keys.length] ?? 'status'};
		}

		case 'open-help': {
			return {...state, focus: 'help'};
		}

		case 'open-filter': {
			return {...state, focus: 'filter'};
		}

		case 'filter-input': {
			return {...state, filter: state.filter + action.text};
		}

		case 'filter-backspace': {
			return {...state, filter: state.filter.slice(0, -1)};
		}

		case 'close-filter': {
			return {...state, focus: 'table', filter: action.keep ? state.filter : ''};
		}

		case 'open-exclude': {
			return {...state, focus: 'exclude', exclude: action.choice};
		}

		case 'close': {
			return {...state, focus: 'table', exclude: null};
		}
	}
}
