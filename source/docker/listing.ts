/**
 * The engine's listings (`/containers/json`, `/images/json`, `/services`) read entry by entry while the
 * body streams: each entry is checked against its schema as soon as it is complete and only what
 * updock reads of it is kept (zod drops the rest), so memory follows what is kept, not what was sent.
 * Reading a 64 MiB listing whole and parsing it at once took 500-700 MB for 30-60,000 containers.
 *
 * What is kept waits as JSON text in buffers outside the JavaScript heap until the list is complete,
 * and becomes objects only then. Kept as objects while the body streams, 50,000 entries (30 MB) made
 * V8 grow its young generation to its largest (128 MB on 64-bit Node) for a listing that may still be
 * refused at its cap.
 */
import type {Readable} from 'node:stream';
import {JSONParser, TokenType, type ParsedElementInfo, type ParsedTokenInfo} from '@streamparser/json';
import type {z} from 'zod';
import {DockerUnavailableError} from '../core/errors.ts';
import {malformedFailure, mib, oversizeFailure, type EngineTarget} from './failures.ts';

/** How one listing is read. */
export interface ListingSpec {
	/** The listing as messages about its content name it: `/containers/json`. */
	readonly name: string;
	/** Bytes of the whole body; past it the call fails with a sentence naming the limit. */
	readonly limit: number;
	/** Entries at most. */
	readonly maxEntries: number;
	/** Bytes of one entry at most: the parser holds one whole entry (and one whole string) before it is checked. */
	readonly maxEntryBytes: number;
	/** Bytes of what is kept of all entries, as JSON, at most. */
	readonly maxKeptBytes: number;
	/** Nesting at most (the list itself is 1). */
	readonly maxDepth: number;
	/** One entry; what its output keeps is all that stays in memory. */
	readonly entry: z.ZodType;
}

/**
 * Bytes handed to the parser at once: the entry-size check runs between slices, so an entry (or a string,
 * or a number, which the parser gathers whole) grows at most this much past its cap before it is refused.
 */
const sliceBytes = 16 * 1024;
/** What a body that is not JSON starts with, for the message. */
const headBytes = 40;
/** The kept entries' JSON text is written into blocks of this size. */
const blockBytes = 1024 * 1024;

/**
 * Read a listing body (a JSON array) under `spec`, entry by entry.
 * @param path The path as sent, for the message past the byte cap.
 * @returns The entries as `spec.entry` outputs them, as plain JSON values: the caller checks their type.
 * @throws DockerUnavailableError naming the listing and the engine: over a cap, not JSON, or an entry of another shape.
 */
export async function readListing(target: EngineTarget, path: string, body: Readable, spec: ListingSpec, signal: AbortSignal): Promise<unknown> {
	signal.throwIfAborted();
	const onAbort = (): void => {
		body.destroy(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
	};

	signal.addEventListener('abort', onAbort, {once: true});
	const listing = new ListingParser(target, spec);
	let received = 0;
	try {
		for await (const chunk of body) {
			const bytes = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
			received += bytes.length;
			if (received > spec.limit) {
				throw oversizeFailure(target, path, spec.limit);
			}

			for (let start = 0; start < bytes.length; start += sliceBytes) {
				listing.write(bytes.subarray(start, start + sliceBytes));
			}
		}

		return listing.end();
	} finally {
		signal.removeEventListener('abort', onAbort);
		// A failure leaves the rest of the body unread: end it rather than let it fill the socket's buffers.
		body.destroy();
	}
}

/** The parser with the checks between it and the bytes: size of each entry, nesting, count, shape. */
class ListingParser {
	readonly #target: EngineTarget;
	readonly #spec: ListingSpec;
	readonly #parser = new JSONParser({paths: ['$.*'], keepStack: false});
	readonly #kept = new KeptEntries();
	#head = Buffer.alloc(0);
	#written = 0;
	#depth = 0;
	#opened = false;
	/** Where the entry being read may start: just after the `[` or `,` before it; undefined outside the list. */
	#entryFrom: number | undefined;
	/** Where the entry being read starts (its first byte that is not white space), once it has. */
	#entryStart: number | undefined;

	constructor(target: EngineTarget, spec: ListingSpec) {
		this.#target = target;
		this.#spec = spec;
		this.#parser.onToken = token => {
			this.#token(token);
		};

		this.#parser.onValue = element => {
			this.#entry(element);
		};
	}

	write(bytes: Buffer): void {
		if (this.#head.length < headBytes) {
			this.#head = Buffer.concat([this.#head, bytes.subarray(0, headBytes - this.#head.length)]);
		}

		const sliceStart = this.#written;
		this.#written += bytes.length;
		this.#run(() => {
			this.#parser.write(bytes);
		});
		// The parser gathers a string or a number whole before it says anything, so the entry's size is
		// bounded from here. White space costs the parser nothing: an entry starts at its first other byte
		// (the body's cap bounds the white space).
		if (this.#entryStart === undefined && this.#entryFrom !== undefined) {
			for (let index = Math.max(this.#entryFrom - sliceStart, 0); index < bytes.length; index++) {
				if (!isWhiteSpace(bytes[index]!)) {
					this.#entryStart = sliceStart + index;
					break;
				}
			}
		}

		if (this.#entryStart !== undefined && this.#written - this.#entryStart > this.#spec.maxEntryBytes) {
			this.#tooLarge();
		}
	}

	end(): unknown {
		// The parser ends by itself after the list's `]`; ending it again is an error of its own.
		if (!this.#parser.isEnded) {
			this.#run(() => {
				this.#parser.end();
			});
		}

		if (!this.#opened) {
			this.#notJson();
		}

		return this.#kept.parse();
	}

	/** Run the parser, turning its own complaints into the sentence for a body that is not JSON. */
	#run(work: () => void): void {
		try {
			work();
		} catch (error) {
			if (error instanceof DockerUnavailableError) {
				throw error;
			}

			this.#notJson(error instanceof Error ? error.message : String(error));
		}
	}

	#token({token, offset}: ParsedTokenInfo): void {
		if (this.#depth === 0 && token !== TokenType.LEFT_BRACKET) {
			// After the list only white space may come (the tokenizer says so): this is a value instead of one.
			this.#fail('JSON of another shape than the Engine API\'s (at the top: not a list)');
		}

		switch (token) {
			case TokenType.LEFT_BRACKET:
			case TokenType.LEFT_BRACE: {
				if (++this.#depth > this.#spec.maxDepth) {
					this.#fail(`JSON nested more than ${this.#spec.maxDepth} deep`);
				}

				if (this.#depth === 1) {
					this.#opened = true;
					this.#nextEntry(offset + 1);
				}

				break;
			}

			case TokenType.RIGHT_BRACKET:
			case TokenType.RIGHT_BRACE: {
				this.#depth--;
				if (this.#depth === 1 && this.#entryStart !== undefined && offset + 1 - this.#entryStart > this.#spec.maxEntryBytes) {
					this.#tooLarge();
				}

				if (this.#depth === 0) {
					this.#entryFrom = undefined;
					this.#entryStart = undefined;
				}

				break;
			}

			case TokenType.COMMA: {
				if (this.#depth === 1) {
					this.#nextEntry(offset + 1);
				}

				break;
			}

			default: {
				break;
			}
		}
	}

	#entry({value, key}: ParsedElementInfo): void {
		const index = this.#kept.count;
		if (index >= this.#spec.maxEntries) {
			this.#fail(`a list of more than ${this.#spec.maxEntries.toLocaleString('en-US')} entries, more than updock reads for it`);
		}

		const result = this.#spec.entry.safeParse(value);
		if (!result.success) {
			const issue = result.error.issues[0];
			const at = [typeof key === 'number' ? key : index, ...issue?.path ?? []].map(String).join('.');
			this.#fail(`JSON of another shape than the Engine API's (at ${at}: ${issue?.message ?? 'invalid'})`);
		}

		if (this.#kept.add(result.data) > this.#spec.maxKeptBytes) {
			this.#fail(`entries of which what updock keeps (names, references, labels it reads) passes ${mib(this.#spec.maxKeptBytes)} at ${index}`);
		}
	}

	#nextEntry(from: number): void {
		this.#entryFrom = from;
		this.#entryStart = undefined;
	}

	#tooLarge(): never {
		return this.#fail(`an entry larger than ${mib(this.#spec.maxEntryBytes)} (at ${this.#kept.count}), more than updock reads for one`);
	}

	#notJson(reason?: string): never {
		const start = this.#head.toString('utf8').replace(/\s+/g, ' ').trim();
		const where = reason === undefined ? '' : `, and breaks off or goes wrong within the first ${this.#written.toLocaleString('en-US')} bytes`;
		return this.#fail(`something that is not JSON (it starts ${JSON.stringify(start)}${where})`);
	}

	#fail(problem: string): never {
		throw malformedFailure(this.#target, this.#spec.name, problem);
	}
}

/**
 * Entries as JSON text in blocks outside the JavaScript heap; an entry never spans two blocks, so each
 * block is parsed alone and no copy of the whole text is ever made.
 */
class KeptEntries {
	count = 0;
	readonly #blocks: Array<{bytes: Buffer; used: number}> = [];
	#total = 0;

	/** @returns The bytes kept so far. */
	add(entry: unknown): number {
		const json = JSON.stringify(entry);
		const length = Buffer.byteLength(json) + 1;
		let block = this.#blocks.at(-1);
		if (block === undefined || block.bytes.length - block.used < length) {
			block = {bytes: Buffer.allocUnsafeSlow(Math.max(blockBytes, length)), used: 0};
			this.#blocks.push(block);
		}

		block.used += block.bytes.write(block.used === 0 ? json : `,${json}`, block.used);
		this.#total += length;
		this.count++;
		return this.#total;
	}

	/** The entries as a JSON array; the blocks are let go as they are read. */
	parse(): unknown[] {
		const entries: unknown[] = [];
		for (const block of this.#blocks.splice(0)) {
			const part: unknown = JSON.parse(`[${block.bytes.toString('utf8', 0, block.used)}]`);
			if (Array.isArray(part)) {
				for (const entry of part) {
					entries.push(entry);
				}
			}
		}

		return entries;
	}
}

function isWhiteSpace(byte: number): boolean {
	return byte === 0x20 || byte === 0x0A || byte === 0x0D || byte === 0x09;
}
