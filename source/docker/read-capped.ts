import type {Readable} from 'node:stream';

/**
 * Read a body whole, stopping as soon as it passes `limit` bytes (the stream is destroyed then).
 * @returns the bytes, or 'over' when there were more than `limit`.
 */
export async function readCapped(stream: Readable, limit: number, signal: AbortSignal): Promise<Buffer | 'over'> {
	return collect(stream, limit, signal, false);
}

/** The first `limit` bytes of a body (an error message: the rest is not worth waiting for). */
export async function readPrefix(stream: Readable, limit: number, signal: AbortSignal): Promise<Buffer> {
	const bytes = await collect(stream, limit, signal, true);
	return bytes === 'over' ? Buffer.alloc(0) : bytes;
}

async function collect(stream: Readable, limit: number, signal: AbortSignal, truncate: boolean): Promise<Buffer | 'over'> {
	signal.throwIfAborted();
	const chunks: Buffer[] = [];
	let total = 0;
	const onAbort = (): void => {
		stream.destroy(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
	};

	signal.addEventListener('abort', onAbort, {once: true});
	try {
		for await (const chunk of stream) {
			const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
			if (total + buffer.length > limit) {
				if (truncate) {
					chunks.push(buffer.subarray(0, limit - total));
					total = limit;
				}

				stream.destroy();
				return truncate ? Buffer.concat(chunks, total) : 'over';
			}

			chunks.push(buffer);
			total += buffer.length;
		}
	} finally {
		signal.removeEventListener('abort', onAbort);
	}

	return Buffer.concat(chunks, total);
}
