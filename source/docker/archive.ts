import type {Readable} from 'node:stream';
import {DockerUnavailableError} from '../core/errors.ts';
import {connectionFailure, engineWhere, malformedFailure, type EngineTarget} from './failures.ts';

/** The first entry of an archive answer: a file's bytes, a symlink's target, or something else. */
export type ArchiveEntry =
	| {readonly kind: 'file'; readonly content: Buffer}
	| {readonly kind: 'symlink'; readonly target: string}
	| {readonly kind: 'other'};

const block = 512;
/** Extended headers (pax, GNU long names) carry a path or two: more is not an archive of one file. */
const maxHeaderData = 64 * 1024;

interface Header {
	readonly type: string;
	readonly size: number;
	readonly linkName: string;
}

/**
 * Read the first entry of the tar stream `GET /containers/{id}/archive` answers, with a cap on what is
 * read: the file's content (at most `maxBytes`), or a symlink's target. The stream is destroyed after.
 * @throws DockerUnavailableError when the file is larger than `maxBytes`, the archive is broken, or the body stalls.
 */
export async function readArchiveFile(body: Readable, options: {
	readonly target: EngineTarget;
	/** The path in the container, for messages. */
	readonly path: string;
	/** The request path, for messages. */
	readonly containerPath: string;
	readonly maxBytes: number;
	readonly timeoutMs: number;
	readonly signal?: AbortSignal | undefined;
}): Promise<ArchiveEntry> {
	const timeout = AbortSignal.timeout(options.timeoutMs);
	const signal = options.signal === undefined ? timeout : AbortSignal.any([options.signal, timeout]);
	const onAbort = (): void => {
		body.destroy(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
	};

	signal.addEventListener('abort', onAbort, {once: true});
	const reader = new BlockReader(body);
	try {
		let pax: Record<string, string> = {};
		let longLink: string | undefined;
		for (;;) {
			const raw = await reader.take(block);
			if (raw === undefined || raw.every(byte => byte === 0)) {
				return {kind: 'other'};
			}

			const header = parseHeader(raw);
			if (header === undefined) {
				throw malformedFailure(options.target, options.containerPath, 'a tar archive with a broken header');
			}

			const size = pax['size'] === undefined ? header.size : Number(pax['size']);
			if (header.type === 'x' || header.type === 'g' || header.type === 'L' || header.type === 'K') {
				if (size > maxHeaderData) {
					throw malformedFailure(options.target, options.containerPath, `a tar archive with an extended header of ${size} bytes`);
				}

				const data = await reader.take(padded(size));
				if (data === undefined) {
					throw malformedFailure(options.target, options.containerPath, 'a tar archive that ends early');
				}

				const text = data.subarray(0, size).toString('utf8');
				if (header.type === 'x') {
					pax = {...pax, ...parsePax(text)};
				} else if (header.type === 'K') {
					longLink = text.replace(/\0.*$/s, '');
				}

				continue;
			}

			if (header.type === '2') {
				return {kind: 'symlink', target: pax['linkpath'] ?? longLink ?? header.linkName};
			}

			if (header.type !== '0' && header.type !== '\0' && header.type !== '7') {
				return {kind: 'other'};
			}

			if (!Number.isSafeInteger(size) || size > options.maxBytes) {
				const where = engineWhere(options.target);
				throw new DockerUnavailableError(where, `The file ${options.path} in the container (engine ${where}) is larger than ${options.maxBytes} bytes, the most updock reads of it.`);
			}

			const content = await reader.take(size);
			if (content === undefined) {
				throw malformedFailure(options.target, options.containerPath, 'a tar archive that ends early');
			}

			return {kind: 'file', content: Buffer.from(content)};
		}
	} catch (error) {
		if (options.signal?.aborted === true) {
			throw options.signal.reason;
		}

		if (error instanceof DockerUnavailableError) {
			throw error;
		}

		throw connectionFailure(options.target, error, timeout.aborted ? options.timeoutMs : null);
	} finally {
		signal.removeEventListener('abort', onAbort);
		body.destroy();
	}
}

function padded(size: number): number {
	return Math.ceil(size / block) * block;
}

/** A ustar header; undefined when its checksum is wrong. */
function parseHeader(raw: Buffer): Header | undefined {
	const checksum = octal(raw.subarray(148, 156));
	let sum = 0;
	for (let index = 0; index < block; index++) {
		sum += index >= 148 && index < 156 ? 32 : raw[index]!;
	}

	if (checksum !== sum) {
		return undefined;
	}

	const sizeField = raw.subarray(124, 136);
	// Base-256 sizes (high bit set) are for files of 8 GiB and more: larger than any cap.
	const size = (sizeField[0]! & 0x80) === 0 ? octal(sizeField) : Number.MAX_SAFE_INTEGER;
	return {type: String.fromCodePoint(raw[156]!), size, linkName: cString(raw.subarray(157, 257))};
}

function octal(field: Buffer): number {
	const text = cString(field).trim();
	return /^[0-7]+$/.test(text) ? Number.parseInt(text, 8) : Number.NaN;
}

function cString(field: Buffer): string {
	const end = field.indexOf(0);
	return field.subarray(0, end === -1 ? field.length : end).toString('utf8');
}

/** `len key=value\n` records of a pax extended header. */
function parsePax(text: string): Record<string, string> {
	const records: Record<string, string> = {};
	let offset = 0;
	while (offset < text.length) {
		const space = text.indexOf(' ', offset);
		const length = Number(text.slice(offset, space));
		if (space === -1 || !Number.isInteger(length) || length <= 0) {
			break;
		}

		const record = text.slice(space + 1, offset + length - 1);
		const equals = record.indexOf('=');
		if (equals > 0) {
			records[record.slice(0, equals)] = record.slice(equals + 1);
		}

		offset += length;
	}

	return records;
}

/** Exactly n bytes at a time from a stream, holding no more than one chunk beyond what was asked. */
class BlockReader {
	readonly #iterator: AsyncIterator<unknown>;
	#pending: Buffer = Buffer.alloc(0);

	constructor(stream: Readable) {
		this.#iterator = stream[Symbol.asyncIterator]();
	}

	/** @returns undefined when the stream ends first. */
	async take(count: number): Promise<Buffer | undefined> {
		const parts: Buffer[] = [this.#pending];
		let length = this.#pending.length;
		while (length < count) {
			const next = await this.#iterator.next();
			if (next.done === true) {
				return undefined;
			}

			const chunk = Buffer.isBuffer(next.value) ? next.value : Buffer.from(String(next.value));
			parts.push(chunk);
			length += chunk.length;
		}

		const all = parts.length === 1 ? parts[0]! : Buffer.concat(parts, length);
		this.#pending = all.subarray(count);
		return all.subarray(0, count);
	}
}
