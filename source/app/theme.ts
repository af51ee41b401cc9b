import type {RowStatus} from './state/rows.ts';

export interface StatusLook {
	readonly symbol: string;
	readonly label: string;
	/** An Ink colour name, used only when colour is on. */
	readonly color: string | undefined;
}

/** Symbol and words for every status: the words carry the meaning without colour. */
export const statusLook: Record<RowStatus, StatusLook> = {
	'update-available': {symbol: '↑', label: 'update', color: 'yellow'},
	error: {symbol: '✗', label: 'error', color: 'red'},
	checking: {symbol: '…', label: 'checking', color: 'cyan'},
	'up-to-date': {symbol: '✓', label: 'up to date', color: 'green'},
	unknown: {symbol: '?', label: 'unknown', color: 'gray'},
	pinned: {symbol: '=', label: 'pinned', color: 'blue'},
	excluded: {symbol: '-', label: 'excluded', color: 'gray'},
};

export function shortDigest(digest: string | null | undefined): string {
	return digest === null || digest === undefined ? '-' : digest.replace(/^sha256:/, '').slice(0, 12);
}

/** Cut to `width` characters with an ellipsis, then pad. */
export function fit(text: string, width: number): string {
	if (width <= 0) {
		return '';
	}

	const cut = text.length > width ? `${text.slice(0, Math.max(0, width - 1))}…` : text;
	return cut.padEnd(width);
}
