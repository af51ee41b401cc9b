/** About this many characters per chunk of a streamed document: few writes, and little held at once. */
export const chunkSize = 64 * 1024;

/**
 * The pieces joined, handed out in chunks of at least `size` characters (the last one may be
 * shorter), so that a document of 50,000 rows is neither one string nor 50,000 tiny writes.
 */
export function * batched(pieces: Iterable<string>, size = chunkSize): Generator<string, void, undefined> {
	let chunk = '';
	for (const piece of pieces) {
		chunk += piece;
		if (chunk.length >= size) {
			yield chunk;
			chunk = '';
		}
	}

	if (chunk.length > 0) {
		yield chunk;
	}
}
