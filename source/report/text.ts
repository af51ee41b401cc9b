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

/**
 * Aligned columns separated by two spaces. Cells are plain text plus a style applied after padding,
 * so escape codes never disturb the alignment. With `width`, the shrinking column is cut to fit.
 */
export function renderTable(columns: readonly Column[], rows: ReadonlyArray<ReadonlyArray<{text: string; style?: (text: string) => string}>>, header: (text: string) => string, width?: number): string {
	const widths = columns.map((column, index) => Math.max(column.header.length, ...rows.map(row => row[index]?.text.length ?? 0)));
	if (width !== undefined) {
		const total = widths.reduce((sum, value) => sum + value, 0) + (2 * (columns.length - 1));
		const shrinking = columns.findIndex(column => column.shrink);
		if (total > width && shrinking !== -1) {
			widths[shrinking] = Math.max(columns[shrinking]!.header.length, widths[shrinking]! - (total - width));
		}
	}

	const cut = (text: string, size: number): string => text.length <= size ? text : `${text.slice(0, Math.max(0, size - 1))}…`;
	const line = (cells: ReadonlyArray<{text: string; style?: (text: string) => string}>): string => cells.map((cell, index) => {
		const size = widths[index]!;
		const text = cut(cell.text, size);
		const padded = index === cells.length - 1 ? text : text.padEnd(size);
		return cell.style ? cell.style(padded) : padded;
	}).join('  ');
	return [line(columns.map(column => ({text: column.header, style: header}))), ...rows.map(row => line(row))].join('\n');
}

export function shortDigest(digest: string | null): string {
	return digest === null ? '-' : digest.replace(/^sha256:/, '').slice(0, 12);
}

/** `docker.io: 76 of 100 pulls left (per 6h)`. */
export function describeRateLimit(limit: {registry: string; limit: number; remaining: number; windowSeconds: number | null}): string {
	const window = limit.windowSeconds === null ? '' : ` per ${limit.windowSeconds % 3600 === 0 ? `${limit.windowSeconds / 3600}h` : `${limit.windowSeconds}s`}`;
	return `${limit.registry}: ${limit.remaining} of ${limit.limit} pulls left${window}`;
}
