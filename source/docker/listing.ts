/**
 * The engine's listings (`/containers/json`, `/images/json`, `/services`) read entry by entry while the
 * body streams: a scan over the bytes finds where each entry of the list starts and ends (outside
 * strings, counting brackets), the entry alone is parsed with `JSON.parse`, checked against its schema
 * and only what updock reads of it is kept (zod drops the rest). Memory follows what is kept, not what
 * was sent: a listing is never held whole, and an entry at most up to its cap.
 *
 * The scan does not allocate per byte. A tokenizer that makes a JavaScript value of every token
 * (`@streamparser/json`, used before) made about 45 bytes of garbage per byte of listing: with the live
 * view listing 2,000 containers on three hosts every 2 s, a third of all it allocated.
 */
import type {Readable} from 'node:stream';
import type {z} from 'zod';
import {malformedFailure, mib, oversizeFailure, type EngineTarget} from './failures.ts';

/** How one listing is read. */
export interface ListingSpec<T = unknown> {
	/** The listing as messages about its content name it: `/containers/json`. */
	readonly name: string;
	/** Bytes of the whole body; past it the call fails with a sentence naming the limit. */
	readonly limit: number;
	/** Entries at most. */
	readonly maxEntries: number;
	/** Bytes of one entry at most: one whole entry is held before it is parsed and checked. */
	readonly maxEntryBytes: number;
	/** What is kept of all entries, counted as the length of its strings and 16 bytes a value, at most. */
	readonly maxKeptBytes: number;
	/** Nesting at most (the list itself is 1). */
	readonly maxDepth: number;
	/** One entry; what its output keeps is all that stays in memory. */
	readonly entry: z.ZodType<T>;
	/**
	 * The lists `readListing` returned under this spec, held weakly: one that comes back through
	 * dockerode is known to be checked, and is not checked again (see `listRead`).
	 */
	readonly lists: WeakMap<object, readonly T[]>;
}

/**
 * `value` when `readListing` returned it under `spec`, typed: its entries were checked as they were
 * read (with 50,000 containers a second check of the whole list cost 90 MB of garbage). Undefined for
 * anything else, which the caller then checks itself.
 */
export function listRead<T>(spec: ListingSpec<T>, value: unknown): readonly T[] | undefined {
	return typeof value === 'object' && value !== null ? spec.lists.get(value) : undefined;
}

/** Told once when a listing has kept `entries` entries, while it is still read (see memory-mode.ts). */
export interface LargeListing {
	readonly entries: number;
	readonly reached: () => void;
}

/** What a body that is not JSON starts with, for the message. */
const headBytes = 40;

/**
 * Read a listing body (a JSON array) under `spec`, entry by entry.
 * @param path The path as sent, for the message past the byte cap.
 * @returns The entries as `spec.entry` outputs them, as plain JSON values: the caller checks their type.
 * @throws DockerUnavailableError naming the listing and the engine: over a cap, not JSON, or an entry of another shape.
 */
export async function readListing<T>(target: EngineTarget, path: string, body: Readable, spec: ListingSpec<T>, signal: AbortSignal, onMany?: LargeListing): Promise<readonly T[]> {
	signal.throwIfAborted();
	const onAbort = (): void => {
		body.destroy(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
	};

	signal.addEventListener('abort', onAbort, {once: true});
	const listing = new ListingReader<T>(target, spec, onMany);
	let received = 0;
	try {
		for await (const chunk of body) {
			const bytes = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
			received += bytes.length;
			if (received > spec.limit) {
				throw oversizeFailure(target, path, spec.limit);
			}

			listing.write(bytes);
		}

		const list = listing.end();
		spec.lists.set(list, list);
		return list;
	} finally {
		signal.removeEventListener('abort', onAbort);
		// A failure leaves the rest of the body unread: end it rather than let it fill the socket's buffers.
		body.destroy();
	}
}

const Byte = {
	Quote: 0x22,
	Backslash: 0x5C,
	Comma: 0x2C,
	OpenBracket: 0x5B,
	CloseBracket: 0x5D,
	OpenBrace: 0x7B,
	CloseBrace: 0x7D,
} as const;

/** Where the reader is in the list: before it, expecting an entry, after an entry, after it. */
type Place = 'before' | 'entry' | 'after-entry' | 'after';

/** The list's structure, found byte by byte, with the caps checked between the bytes and the parser. */
class ListingReader<T> {
	readonly #target: EngineTarget;
	readonly #spec: ListingSpec<T>;
	readonly #kept: T[] = [];
	/** Strings of what is kept, each once: 50,000 containers of 300 images name the same digests. */
	readonly #strings = new Map<string, string>();
	#keptBytes = 0;
	#head = Buffer.alloc(0);
	/** Bytes written before the current chunk. */
	#written = 0;
	#place: Place = 'before';
	/** Nesting inside the list: 0 between entries. */
	#depth = 0;
	#inString = false;
	#escaped = false;
	/** The current entry is a number, `true`, `false` or `null`: it ends at the first byte of no literal. */
	#literal = false;
	/** Where the current entry starts in the body, and its bytes so far (from earlier chunks). */
	#entryStart: number | undefined;
	#entryParts: Buffer[] = [];
	readonly #onMany: LargeListing | undefined;

	constructor(target: EngineTarget, spec: ListingSpec<T>, onMany?: LargeListing) {
		this.#target = target;
		this.#spec = spec;
		this.#onMany = onMany;
	}

	write(bytes: Buffer): void {
		if (this.#head.length < headBytes) {
			this.#head = Buffer.concat([this.#head, bytes.subarray(0, headBytes - this.#head.length)]);
		}

		/** Where the part of the current entry in this chunk starts. */
		let from = this.#entryStart === undefined ? 0 : Math.max(0, this.#entryStart - this.#written);
		for (let index = 0; index < bytes.length; index++) {
			const byte = bytes[index]!;
			if (this.#inString) {
				if (this.#escaped) {
					this.#escaped = false;
				} else if (byte === Byte.Backslash) {
					this.#escaped = true;
				} else if (byte === Byte.Quote) {
					this.#inString = false;
					if (this.#depth === 0 && this.#place === 'entry') {
						this.#endEntry(bytes, from, index + 1);
					}
				}

				continue;
			}

			if (this.#literal) {
				if (isLiteral(byte)) {
					continue;
				}

				this.#endEntry(bytes, from, index);
			}

			if (isWhiteSpace(byte)) {
				continue;
			}

			if (this.#depth > 0) {
				switch (byte) {
					case Byte.Quote: {
						this.#inString = true;
						break;
					}

					case Byte.OpenBracket:
					case Byte.OpenBrace: {
						this.#deeper();
						break;
					}

					case Byte.CloseBracket:
					case Byte.CloseBrace: {
						if (--this.#depth === 0) {
							this.#endEntry(bytes, from, index + 1);
						}

						break;
					}

					default: {
						break;
					}
				}

				continue;
			}

			switch (this.#place) {
				case 'before': {
					if (byte !== Byte.OpenBracket) {
						// A value other than a list (an error object, a string) is JSON of another shape; anything else is not JSON.
						return isValueStart(byte) ? this.#fail('JSON of another shape than the Engine API\'s (at the top: not a list)') : this.#notJson('');
					}

					this.#place = 'entry';
					break;
				}

				case 'entry': {
					if (byte === Byte.CloseBracket && this.#kept.length === 0 && this.#entryStart === undefined) {
						this.#place = 'after';
						break;
					}

					if (!isValueStart(byte)) {
						return this.#notJson('');
					}

					if (this.#kept.length >= this.#spec.maxEntries) {
						this.#fail(`a list of more than ${this.#spec.maxEntries.toLocaleString('en-US')} entries, more than updock reads for it`);
					}

					this.#entryStart = this.#written + index;
					from = index;
					if (byte === Byte.Quote) {
						this.#inString = true;
					} else if (byte === Byte.OpenBracket || byte === Byte.OpenBrace) {
						this.#deeper();
					} else {
						this.#literal = true;
					}

					break;
				}

				case 'after-entry': {
					if (byte === Byte.Comma) {
						this.#place = 'entry';
					} else if (byte === Byte.CloseBracket) {
						this.#place = 'after';
					} else {
						return this.#notJson('');
					}

					break;
				}

				case 'after': {
					return this.#notJson('');
				}
			}
		}

		this.#written += bytes.length;
		if (this.#entryStart !== undefined) {
			this.#entryParts.push(bytes.subarray(from));
			if (this.#written - this.#entryStart > this.#spec.maxEntryBytes) {
				this.#tooLarge();
			}
		}
	}

	end(): readonly T[] {
		if (this.#place !== 'after') {
			this.#notJson(this.#place === 'before' ? undefined : '');
		}

		return this.#kept;
	}

	#deeper(): void {
		// The list itself is one level.
		if (++this.#depth + 1 > this.#spec.maxDepth) {
			this.#fail(`JSON nested more than ${this.#spec.maxDepth} deep`);
		}
	}

	/** The current entry ends at `end` of `bytes` (exclusive); its part in `bytes` starts at `from`. */
	#endEntry(bytes: Buffer, from: number, end: number): void {
		const start = this.#entryStart ?? 0;
		if (this.#written + end - start > this.#spec.maxEntryBytes) {
			this.#tooLarge();
		}

		const parts = this.#entryParts;
		const text = parts.length === 0 ? bytes.toString('utf8', from, end) : Buffer.concat([...parts, bytes.subarray(from, end)]).toString('utf8');
		this.#entryParts = [];
		this.#entryStart = undefined;
		this.#literal = false;
		this.#place = 'after-entry';
		let value: unknown;
		try {
			value = JSON.parse(text);
		} catch (error) {
			this.#notJson(error instanceof Error ? error.message : String(error));
		}

		const index = this.#kept.length;
		const result = this.#spec.entry.safeParse(value);
		if (!result.success) {
			const issue = result.error.issues[0];
			const at = [index, ...issue?.path ?? []].map(String).join('.');
			this.#fail(`JSON of another shape than the Engine API's (at ${at}: ${issue?.message ?? 'invalid'})`);
		}

		const kept = result.data;
		this.#shareIn(kept);
		if (this.#keptBytes > this.#spec.maxKeptBytes) {
			this.#fail(`entries of which what updock keeps (names, references, labels it reads) passes ${mib(this.#spec.maxKeptBytes)} at ${index}`);
		}

		this.#kept.push(kept);
		if (this.#kept.length === this.#onMany?.entries) {
			this.#onMany.reached();
		}
	}

	/** Replaces each string inside `value` (an object or array) by the one kept before, if any; counts what is kept. */
	#shareIn(value: unknown): void {
		// A value costs at least a reference; a string kept for the first time costs its characters too.
		this.#keptBytes += 16;
		if (Array.isArray(value)) {
			for (let index = 0; index < value.length; index++) {
				value[index] = this.#shared(value[index]);
			}
		} else if (typeof value === 'object' && value !== null) {
			// zod's output: plain objects of its own making, without prototype keys.
			for (const key in value) {
				if (Object.hasOwn(value, key)) {
					Reflect.set(value, key, this.#shared(Reflect.get(value, key)));
				}
			}
		}
	}

	/** `value`, or the string kept before that equals it; objects and arrays have theirs shared in place. */
	#shared(value: unknown): unknown {
		if (typeof value !== 'string') {
			this.#shareIn(value);
			return value;
		}

		this.#keptBytes += 16;
		const known = this.#strings.get(value);
		if (known !== undefined) {
			return known;
		}

		this.#keptBytes += value.length;
		this.#strings.set(value, value);
		return value;
	}

	#tooLarge(): never {
		return this.#fail(`an entry larger than ${mib(this.#spec.maxEntryBytes)} (at ${this.#kept.length}), more than updock reads for one`);
	}

	/** @param reason Undefined when the body ended before anything; otherwise the body goes wrong somewhere. */
	#notJson(reason: string | undefined): never {
		const start = this.#head.toString('utf8').replace(/\s+/g, ' ').trim();
		const where = reason === undefined ? '' : `, and breaks off or goes wrong within the first ${this.#written.toLocaleString('en-US')} bytes`;
		return this.#fail(`something that is not JSON (it starts ${JSON.stringify(start)}${where})`);
	}

	#fail(problem: string): never {
		throw malformedFailure(this.#target, this.#spec.name, problem);
	}
}

function isWhiteSpace(byte: number): boolean {
	return byte === 0x20 || byte === 0x0A || byte === 0x0D || byte === 0x09;
}

/** The bytes of a number, `true`, `false` and `null` (JSON.parse checks their order). */
function isLiteral(byte: number): boolean {
	return (byte >= 0x30 && byte <= 0x39) || (byte >= 0x61 && byte <= 0x7A) || byte === 0x2D || byte === 0x2B || byte === 0x2E || byte === 0x45;
}

function isValueStart(byte: number): boolean {
	return byte === Byte.Quote || byte === Byte.OpenBracket || byte === Byte.OpenBrace || isLiteral(byte);
}
