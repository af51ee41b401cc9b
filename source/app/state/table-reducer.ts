/**
 * Table navigation as a pure reducer (Shopify cli-kit `use-select-state`): the selection is a
 * container id, so it survives rescans, sorting and filtering; the visible window is state too,
 * so only the rows in it are rendered.
 */
export interface TableState {
	readonly selectedId: string | null;
	/** Index of the first visible row. */
	readonly offset: number;
	/** Rows that fit on screen. */
	readonly height: number;
}

export type TableAction =
	| {readonly type: 'move'; readonly delta: number; readonly ids: readonly string[]}
	| {readonly type: 'page'; readonly direction: 1 | -1; readonly ids: readonly string[]}
	| {readonly type: 'top'; readonly ids: readonly string[]}
	| {readonly type: 'bottom'; readonly ids: readonly string[]}
	/** The rows or the screen changed: keep the selection if it is still there, keep it in view. */
	| {readonly type: 'sync'; readonly ids: readonly string[]; readonly height: number};

export const initialTableState: TableState = {selectedId: null, offset: 0, height: 10};

export function tableReducer(state: TableState, action: TableAction): TableState {
	const {ids} = action;
	if (ids.length === 0) {
		const height = action.type === 'sync' ? Math.max(1, action.height) : state.height;
		return state.selectedId === null && state.offset === 0 && state.height === height ? state : {selectedId: null, offset: 0, height};
	}

	const current = state.selectedId === null ? -1 : ids.indexOf(state.selectedId);
	switch (action.type) {
		case 'move': {
			return select(state, ids, clamp((current === -1 ? 0 : current) + action.delta, ids.length), state.height);
		}

		case 'page': {
			const step = Math.max(1, state.height - 1);
			return select(state, ids, clamp((current === -1 ? 0 : current) + (action.direction * step), ids.length), state.height);
		}

		case 'top': {
			return select(state, ids, 0, state.height);
		}

		case 'bottom': {
			return select(state, ids, ids.length - 1, state.height);
		}

		case 'sync': {
			// A selected row that went away (filtered out, removed): stay near where it was.
			const index = current === -1 ? clamp(state.selectedId === null ? 0 : state.offset, ids.length) : current;
			return select(state, ids, index, Math.max(1, action.height));
		}
	}
}

function clamp(index: number, length: number): number {
	return Math.min(Math.max(0, index), length - 1);
}

/** The state with row `index` selected and in view; the same object when nothing changed. */
function select(state: TableState, ids: readonly string[], index: number, height: number): TableState {
	let offset = Math.min(state.offset, Math.max(0, ids.length - height));
	if (index < offset) {
		offset = index;
	} else if (index >= offset + height) {
		offset = index - height + 1;
	}

	const selectedId = ids[index] ?? null;
	return selectedId === state.selectedId && offset === state.offset && height === state.height ? state : {selectedId, offset, height};
}
