/** A minimal deterministic ustar writer: enough for image layers made from a few files. */
export interface TarEntry {
	readonly path: string;
	readonly content?: Buffer;
	/** Directory when there is no content. */
	readonly mode?: number;
}

function header(path: string, size: number, mode: number, type: '0' | '5'): Buffer {
	const block = Buffer.alloc(512);
	if (Buffer.byteLength(path) > 100) {
		throw new Error(`tar path too long for this writer: ${path}`);
	}

	block.write(path, 0, 'utf8');
	block.write(`${mode.toString(8).padStart(7, '0')}\0`, 100, 'ascii');
	block.write('0000000\0', 108, 'ascii');
	block.write('0000000\0', 116, 'ascii');
	block.write(`${size.toString(8).padStart(11, '0')}\0`, 124, 'ascii');
	block.write('00000000000\0', 136, 'ascii');
	block.write('        ', 148, 'ascii');
	block.write(type, 156, 'ascii');
	block.write('ustar\u000000', 257, 'binary');
	let sum = 0;
	for (const byte of block) {
		sum += byte;
	}

	block.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'ascii');
	return block;
}

export function tar(entries: readonly TarEntry[]): Buffer {
	const parts: Buffer[] = [];
	for (const entry of entries) {
		if (entry.content === undefined) {
			parts.push(header(entry.path.endsWith('/') ? entry.path : `${entry.path}/`, 0, entry.mode ?? 0o755, '5'));
		} else {
			parts.push(header(entry.path, entry.content.length, entry.mode ?? 0o644, '0'), entry.content);
			const padding = (512 - (entry.content.length % 512)) % 512;
			parts.push(Buffer.alloc(padding));
		}
	}

	parts.push(Buffer.alloc(1024));
	return Buffer.concat(parts);
}
