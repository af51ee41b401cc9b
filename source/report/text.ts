import {padToWidth, safeTerminalText, terminalWidth, truncateToWidth} from '../core/terminal-text.ts';

/** Minimal ANSI styling, on only when the output is a terminal and NO_COLOR is unset. */
export interface Styler {
	readonly bold: (text: string) => string;
	readonly dim: (text: string) => string;
	readonly red: (text: string) => string;
	readonly green: (text: string) => string;
	readonly yellow: (text: string) => string;
	readonly cyan: (text: string) => string;
}

const wrap = (open: number, close: number) => (text: string): string => `\u001B[${open}m${text}\u001B[${close}m`;
const plain = (text: string): string => text;

export function styler(color: boolean): Styler {
	return color
		? {bold: wrap(1, 22), dim: wrap(2, 22), red: wrap(31, 39), green: wrap(32, 39), yellow: wrap(33, 39), cyan: wrap(36, 39)}
		: {bold: plain, dim: plain, red: plain, green: plain, yellow: plain, cyan: plain};
}

export interface Column {
	readonly header: string;
	/** The column that gives way when the table is wider than the terminal. */
	readonly shrink?: boolean;
}

/** One cell: plain text (made safe here), a style applied after padding, and shorter words for when the cell would be cut. */
export interface Cell {
	readonly text: string;
	readonly style?: ((text: string) => string) | undefined;
	/** Shown instead of `text` when the column is too narrow for it (an error's few words instead of its sentence cut short). */
	readonly short?: string | undefined;
}

/**
 * Aligned columns separated by two spaces. Every cell goes through `safeTerminalText` and is measured
 * in terminal columns, so neither escape sequences nor wide characters from outside move the columns;
 * styles are applied after padding. With `width`, the shrinking column is cut to fit.
 */
export function renderTable(columns: readonly Column[], rows: Iterable<readonly Cell[]>, header: (text: string) => string, width?: number): string {
	return [...tableLines(columns, rows, header, width)].join('\n');
}

/**
 * `renderTable` line by line, without line breaks. `rows` is read twice, once to measure and once to
 * write, and each row is made safe only for its line: with 50,000 rows, an iterable that makes each
 * row when asked holds no cell longer than its line needs it.
 */
export function * tableLines(columns: readonly Column[], rows: Iterable<readonly Cell[]>, header: (text: string) => string, width?: number): Generator<string, void, undefined> {
	const widths = naturalWidths(columns, rows);
	if (width !== undefined) {
		const total = widths.reduce((sum, value) => sum + value, 0) + (2 * (columns.length - 1));
		const shrinking = columns.findIndex(column => column.shrink);
		if (total > width && shrinking !== -1) {
			widths[shrinking] = Math.max(terminalWidth(columns[shrinking]!.header), widths[shrinking]! - (total - width));
		}
	}

	const line = (cells: readonly Cell[]): string => cells.map((cell, index) => {
		const size = widths[index]!;
		const text = safeTerminalText(cell.text);
		const shown = truncateToWidth(terminalWidth(text) <= size || cell.short === undefined ? text : safeTerminalText(cell.short), size);
		const padded = index === cells.length - 1 ? shown : padToWidth(shown, size);
		return cell.style ? cell.style(padded) : padded;
	}).join('  ');
	yield line(columns.map(column => ({text: column.header, style: header})));
	for (const row of rows) {
		yield line(row);
	}
}

/** Each column's width: its widest cell or header, measured on the safe text, in one pass over the rows. */
function naturalWidths(columns: readonly Column[], rows: Iterable<readonly Cell[]>): number[] {
	const widths = columns.map(column => terminalWidth(column.header));
	for (const row of rows) {
		for (let index = 0; index < widths.length; index++) {
			const size = terminalWidth(safeTerminalText(row[index]?.text ?? ''));
			if (size > widths[index]!) {
				widths[index] = size;
			}
		}
	}

	return widths;
}

/**
 * The columns `renderTable` needs to show every column whole but the shrinking one, which keeps
 * `keep` columns of its text (or all of it when shorter, and never less than its header).
 */
export function narrowestTable(columns: readonly Column[], rows: Iterable<readonly Cell[]>, keep = 0): number {
	const widths = naturalWidths(columns, rows).map((size, index) => columns[index]!.shrink ? Math.max(terminalWidth(columns[index]!.header), Math.min(size, keep)) : size);
	return widths.reduce((sum, value) => sum + value, 0) + (2 * (columns.length - 1));
}

/** `docker.io: 76 of 100 pulls left (per 6h)`. */
export function describeRateLimit(limit: {registry: string; limit: number; remaining: number; windowSeconds: number | null}): string {
	const window = limit.windowSeconds === null ? '' : ` per ${limit.windowSeconds % 3600 === 0 ? `${limit.windowSeconds / 3600}h` : `${limit.windowSeconds}s`}`;
	return `${safeTerminalText(limit.registry)}: ${limit.remaining} of ${limit.limit} pulls left${window}`;
}
