import {readFile} from 'node:fs/promises';
import type {Agent as HttpAgent, IncomingMessage, RequestOptions} from 'node:http';
import {homedir} from 'node:os';
import type {z} from 'zod';
import {DockerUnavailableError, innermostErrorCode} from '../core/errors.ts';
import type {EngineTls} from './address.ts';
import {connectionFailure, engineWhere, malformedFailure, oversizeFailure, statusFailure, type EngineTarget} from './failures.ts';
import {readListing, type LargeListing, type ListingSpec} from './listing.ts';
import {readCapped, readPrefix} from './read-capped.ts';
import {versionSchema} from './schemas.ts';

/**
 * Node's http module as `require` gives it. An ESM import of node:http reads every one of its exports,
 * and its lazy `WebSocket` getter then loads the undici bundled in Node: about 20 ms of every start-up.
 * node:https (and with it node:tls) is taken only for an engine spoken to over TLS.
 */
const http = process.getBuiltinModule('node:http');

/** How much updock reads of each kind of engine answer before it stops and says so. */
export const engineLimits = {
	/** `/containers/json?all=1`: about 1.3 KiB for each of 50,000 containers (labels included). */
	containers: 64 * 1024 * 1024,
	/** `/images/json`: an engine with 50,000 containers has fewer images than that. */
	images: 32 * 1024 * 1024,
	/** `/services` of a Swarm manager. */
	services: 32 * 1024 * 1024,
	/** Entries of one listing: twice the 50,000 containers updock is sized for. */
	listEntries: 100_000,
	/**
	 * One entry of a listing (a container with its labels is 0.5-1.3 KiB): the parser holds one whole
	 * entry, and one whole string or number, before it can be checked.
	 */
	listEntry: 1024 * 1024,
	/**
	 * What is kept of one listing, as JSON (a container's Id, names, image, state and the labels updock
	 * reads come to 250-400 bytes): bounds what a listing of small entries with long kept values makes.
	 */
	listKept: 32 * 1024 * 1024,
	/** Nesting of any answer (the Engine API's go about 6 deep). */
	depth: 64,
	/** One inspect, `/info`, `/version`. */
	document: 1024 * 1024,
	/** One line of the event stream. */
	eventLine: 1024 * 1024,
	/** The body of an error answer: only its message is shown. */
	errorBody: 64 * 1024,
} as const;

/**
 * The newest Engine API version updock asks for; an older engine is spoken to in its own version
 * (as the docker CLI negotiates). What updock reads exists since 1.25.
 */
export const maxApiVersion = '1.47';
const minApiMinor = 25;
const tlsFileLimit = 1024 * 1024;
const neverAborted = new AbortController().signal;
/** Connections per engine: the listing and 8 inspects at once, plus the event stream. */
const maxSockets = 12;

export interface JsonOptions {
	/** Bytes read at most; past it the call fails with a sentence naming the limit. */
	readonly limit: number;
	readonly signal?: AbortSignal | undefined;
}

/** An answer with its status, before its body is read. */
export interface EngineResponse {
	readonly status: number;
	readonly body: IncomingMessage;
	/** The path as sent (versioned), for messages. */
	readonly path: string;
}

/**
 * The Docker Engine API over the engine's own transport: a unix socket, TCP, TCP with TLS, or ssh
 * (`docker system dial-stdio` on the remote, as the docker CLI does). Every body is read with a cap,
 * redirects are never followed, every failure becomes a DockerUnavailableError naming the engine.
 */
export class EngineApi {
	readonly target: EngineTarget;
	readonly timeoutMs: number;
	#agent: Promise<HttpAgent> | undefined;
	#version: Promise<string> | undefined;
	#closed = false;
	readonly #onLargeListing: LargeListing | undefined;

	constructor(target: EngineTarget, timeoutMs: number, onLargeListing?: LargeListing) {
		this.target = target;
		this.timeoutMs = timeoutMs;
		this.#onLargeListing = onLargeListing;
	}

	/**
	 * GET `path` (unversioned: `/containers/json?all=1`) in the negotiated API version and parse it.
	 * @returns undefined on 404 when `notFound` is true.
	 * @throws DockerUnavailableError
	 */
	async getJson<T>(path: string, schema: z.ZodType<T>, options: JsonOptions & {notFound: true}): Promise<T | undefined>;
	async getJson<T>(path: string, schema: z.ZodType<T>, options: JsonOptions & {notFound?: false}): Promise<T>;
	async getJson<T>(path: string, schema: z.ZodType<T>, options: JsonOptions & {notFound?: boolean}): Promise<T | undefined> {
		return this.#timed(options.signal, async signal => {
			const response = await this.#versioned(path, signal);
			if (response.status === 404 && options.notFound === true) {
				response.body.resume();
				return undefined;
			}

			await this.#expectOk(response, signal);
			const body = await this.#read(response, options.limit, signal);
			return parseBody(this.target, response.path, body, schema, options.limit);
		});
	}

	/**
	 * GET a listing (`/containers/json?all=1`): a JSON array read entry by entry while it streams, each
	 * entry checked and cut down to what `spec.entry` keeps, under the caps of `spec`.
	 * @returns The kept entries, as `spec.entry` outputs them.
	 * @throws DockerUnavailableError
	 */
	async getListing<T>(path: string, spec: ListingSpec<T>, signal?: AbortSignal): Promise<readonly T[]> {
		return this.#timed(signal, async timed => {
			const response = await this.#versioned(path, timed);
			await this.#expectOk(response, timed);
			return readListing(this.target, response.path, response.body, spec, timed, this.#onLargeListing);
		});
	}

	/**
	 * GET a body that is read by the caller (the event stream, a tar archive). The timeout covers
	 * the answer's headers only; `signal` ends the body.
	 * @throws DockerUnavailableError
	 */
	async open(path: string, signal: AbortSignal | undefined, options: {notFound?: boolean} = {}): Promise<EngineResponse | undefined> {
		const response = await this.#timed(signal, async timed => {
			const answer = await this.#versioned(path, timed, signal ?? neverAborted);
			if (answer.status === 404 && options.notFound === true) {
				answer.body.resume();
				return undefined;
			}

			await this.#expectOk(answer, timed);
			return answer;
		});
		return response;
	}

	/** Read an answer's body with a cap, mapping its failures. */
	async read(response: EngineResponse, limit: number, signal?: AbortSignal): Promise<Buffer> {
		return this.#timed(signal, async timed => this.#read(response, limit, timed));
	}

	/**
	 * Start connecting and negotiating the API version before the first call needs it, so that the
	 * round trip overlaps with work the caller does meanwhile (loading dockerode, say). Its failure is
	 * the first call's.
	 */
	warmUp(): void {
		this.#negotiated().catch(() => undefined);
	}

	async close(): Promise<void> {
		this.#closed = true;
		const agent = this.#agent;
		this.#agent = undefined;
		const resolved = await agent?.catch(() => undefined);
		resolved?.destroy();
	}

	/** Run `work` under the caller's signal and this engine's timeout; map what fails. */
	async #timed<T>(callerSignal: AbortSignal | undefined, work: (signal: AbortSignal) => Promise<T>): Promise<T> {
		const timeout = AbortSignal.timeout(this.timeoutMs);
		const signal = callerSignal === undefined ? timeout : AbortSignal.any([callerSignal, timeout]);
		try {
			return await work(signal);
		} catch (error) {
			if (callerSignal?.aborted === true) {
				throw callerSignal.reason;
			}

			if (error instanceof DockerUnavailableError) {
				throw error;
			}

			throw connectionFailure(this.target, error, timeout.aborted ? this.timeoutMs : null);
		}
	}

	async #versioned(path: string, signal: AbortSignal, bodySignal: AbortSignal = signal): Promise<EngineResponse> {
		const version = await abortable(this.#negotiated(), signal);
		return this.#send(`/v${version}${path}`, signal, bodySignal);
	}

	/**
	 * The negotiation every call shares, under a timeout of its own (not the first caller's signal, which
	 * may end before the others'); its failure is already a sentence. A failed one is tried again next time.
	 */
	async #negotiated(): Promise<string> {
		if (this.#version === undefined) {
			const pending = this.#timed(undefined, async signal => this.#negotiate(signal));
			this.#version = pending;
			pending.catch(() => {
				if (this.#version === pending) {
					this.#version = undefined;
				}
			});
		}

		return this.#version;
	}

	/** The API version to use: the engine's (from /_ping, else /version), at most `maxApiVersion`. */
	async #negotiate(signal: AbortSignal): Promise<string> {
		const ping = await this.#send('/_ping', signal);
		const header = ping.body.headers['api-version'];
		await this.#expectOk(ping, signal);
		ping.body.resume();
		let version = typeof header === 'string' ? header.trim() : undefined;
		if (version === undefined) {
			const answer = await this.#send('/version', signal);
			await this.#expectOk(answer, signal);
			const body = await this.#read(answer, engineLimits.document, signal);
			version = parseBody(this.target, '/version', body, versionSchema, engineLimits.document).ApiVersion;
		}

		const match = /^1\.(\d{1,3})$/.exec(version);
		if (match === null) {
			throw malformedFailure(this.target, '/_ping', `an API version updock does not understand (${JSON.stringify(version.slice(0, 40))})`);
		}

		const minor = Number(match[1]);
		if (minor < minApiMinor) {
			const where = engineWhere(this.target);
			throw new DockerUnavailableError(where, `The Docker engine at ${where} speaks API ${version}; updock needs 1.${minApiMinor} or newer (Docker 1.13, 2017). Upgrade the engine.`);
		}

		return minor >= Number(maxApiVersion.split('.')[1]) ? maxApiVersion : version;
	}

	/** Anything but 200: read a little of the body for its message and fail. */
	async #expectOk(response: EngineResponse, signal: AbortSignal): Promise<void> {
		if (response.status === 200) {
			return;
		}

		let message = '';
		try {
			const body = await readPrefix(response.body, engineLimits.errorBody, signal);
			message = errorMessage(body.toString('utf8'));
		} catch (error) {
			message = `and then ${innermostErrorCode(error) ?? 'failed'}`;
		}

		throw statusFailure(this.target, response.path, response.status, message);
	}

	async #read(response: EngineResponse, limit: number, signal: AbortSignal): Promise<Buffer> {
		const body = await readCapped(response.body, limit, signal);
		if (body === 'over') {
			throw oversizeFailure(this.target, response.path, limit);
		}

		return body;
	}

	async #send(path: string, signal: AbortSignal, bodySignal: AbortSignal = signal): Promise<EngineResponse> {
		if (this.#closed) {
			throw new DockerUnavailableError(engineWhere(this.target), `The connection to the Docker engine at ${engineWhere(this.target)} was closed.`);
		}

		this.#agent ??= this.#makeAgent();
		const pending = this.#agent;
		pending.catch(() => {
			if (this.#agent === pending) {
				this.#agent = undefined;
			}
		});
		const agent = await pending;
		signal.throwIfAborted();
		const {address} = this.target;
		const base: RequestOptions = {agent, method: 'GET', path, headers: {'user-agent': 'updock'}};
		const options: RequestOptions = address.kind === 'unix'
			? {...base, socketPath: address.socketPath, headers: {...base.headers, host: 'docker'}}
			: address.kind === 'tcp'
				? {...base, host: address.host, port: address.port}
				// The ssh agent's connections lead to the remote engine whatever host is named here.
				: {...base, host: 'docker', port: 80};
		const send = address.kind === 'tcp' && address.tls !== null ? process.getBuiltinModule('node:https').request : http.request;
		return new Promise<EngineResponse>((resolve, reject) => {
			const request = send(options, body => {
				signal.removeEventListener('abort', onHeadersAbort);
				// From here the body is the reader's: `bodySignal` ends it.
				const onBodyAbort = (): void => {
					body.destroy(bodySignal.reason instanceof Error ? bodySignal.reason : new Error('aborted'));
				};

				if (bodySignal.aborted) {
					onBodyAbort();
				} else {
					bodySignal.addEventListener('abort', onBodyAbort, {once: true});
					body.once('close', () => bodySignal.removeEventListener('abort', onBodyAbort));
				}

				resolve({status: body.statusCode ?? 0, body, path});
			});
			const onHeadersAbort = (): void => {
				request.destroy(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
			};

			signal.addEventListener('abort', onHeadersAbort, {once: true});
			request.on('error', error => {
				signal.removeEventListener('abort', onHeadersAbort);
				reject(error);
			});
			request.end();
		});
	}

	async #makeAgent(): Promise<HttpAgent> {
		const {address} = this.target;
		if (address.kind === 'ssh') {
			// ssh2 is loaded only for ssh:// engines: it costs start-up time the others should not pay.
			const {SshAgent} = await import('./ssh.ts');
			return new SshAgent(address, {timeoutMs: this.timeoutMs, home: homedir(), env: process.env, maxSockets});
		}

		if (address.kind === 'tcp' && address.tls !== null) {
			const material = await this.#tlsMaterial(address.tls);
			const {Agent: HttpsAgent} = process.getBuiltinModule('node:https');
			return new HttpsAgent({keepAlive: true, maxSockets, rejectUnauthorized: address.tls.verify, ...material});
		}

		return new http.Agent({keepAlive: true, maxSockets});
	}

	async #tlsMaterial(tls: EngineTls): Promise<{ca?: Buffer; cert?: Buffer; key?: Buffer}> {
		const [ca, cert, key] = await Promise.all([tls.ca, tls.cert, tls.key].map(async path => this.#tlsFile(path)));
		if ((cert === undefined) !== (key === undefined)) {
			const where = engineWhere(this.target);
			throw new DockerUnavailableError(where, `TLS to the Docker engine at ${where}: ${cert === undefined ? tls.cert : tls.key} is missing while ${cert === undefined ? tls.key : tls.cert} is there; a client certificate needs both cert.pem and key.pem. Check DOCKER_CERT_PATH.`);
		}

		return {...(ca === undefined ? {} : {ca}), ...(cert === undefined ? {} : {cert}), ...(key === undefined ? {} : {key})};
	}

	/** A PEM file; undefined when it does not exist (no CA means the system roots, as the docker CLI does). */
	async #tlsFile(path: string | null): Promise<Buffer | undefined> {
		if (path === null) {
			return undefined;
		}

		try {
			const content = await readFile(path);
			if (content.length > tlsFileLimit) {
				throw new Error(`it is larger than ${tlsFileLimit / 1024 / 1024} MiB`);
			}

			return content;
		} catch (error) {
			if (innermostErrorCode(error) === 'ENOENT') {
				return undefined;
			}

			const where = engineWhere(this.target);
			throw new DockerUnavailableError(where, `TLS to the Docker engine at ${where}: cannot read ${path}: ${error instanceof Error ? error.message : String(error)}. Check DOCKER_CERT_PATH.`, {cause: error});
		}
	}
}

/**
 * JSON of the expected shape, or a sentence saying what it was instead. Before parsing, the values are
 * counted: a body of the allowed size made of tiny values (`[{},{},…]`) would otherwise become
 * gigabytes of objects. One value per 32 bytes allowed is more than real answers use (about 20 bytes
 * each) and keeps what a hostile body can make near 100 MB.
 */
export function parseBody<T>(target: EngineTarget, path: string, body: Buffer, schema: z.ZodType<T>, limit: number): T {
	const maxValues = Math.max(4096, Math.floor(limit / 32));
	const shape = jsonShape(body, maxValues, engineLimits.depth);
	if (shape === 'values') {
		return fail(`JSON of more than ${maxValues.toLocaleString('en-US')} values, more than updock reads for it`);
	}

	if (shape === 'depth') {
		return fail(`JSON nested more than ${engineLimits.depth} deep`);
	}

	let raw: unknown;
	try {
		raw = JSON.parse(body.toString('utf8'));
	} catch {
		const start = body.subarray(0, 40).toString('utf8').replace(/\s+/g, ' ').trim();
		return fail(`something that is not JSON (it starts ${JSON.stringify(start)})`);
	}

	return checkShape(target, path, raw, schema);

	function fail(problem: string): never {
		throw malformedFailure(target, path, problem);
	}
}

/**
 * A parsed answer as `schema` reads it, or a sentence naming the field that is not what the Engine API
 * sends there.
 * @throws DockerUnavailableError
 */
export function checkShape<T>(target: EngineTarget, path: string, raw: unknown, schema: z.ZodType<T>): T {
	const result = schema.safeParse(raw);
	if (!result.success) {
		const issue = result.error.issues[0];
		const at = issue === undefined || issue.path.length === 0 ? 'the top' : issue.path.map(String).join('.');
		throw malformedFailure(target, path, `JSON of another shape than the Engine API's (at ${at}: ${issue?.message ?? 'invalid'})`);
	}

	return result.data;
}

/** `work`, or the reason `signal` gives when it aborts first (`work` itself goes on: others share it). */
export async function abortable<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
	signal.throwIfAborted();
	let onAbort = (): void => undefined;
	const aborted = new Promise<never>((_resolve, reject) => {
		onAbort = () => {
			reject(signal.reason);
		};

		signal.addEventListener('abort', onAbort, {once: true});
	});
	try {
		return await Promise.race([work, aborted]);
	} finally {
		signal.removeEventListener('abort', onAbort);
	}
}

const quote = 0x22;
const backslash = 0x5C;

/**
 * Count the values of a JSON text (objects, arrays and the items after each comma) outside strings,
 * and its nesting, stopping at the first bound passed. Not a validator: JSON.parse is that.
 */
export function jsonShape(body: Buffer, maxValues: number, maxNesting: number): 'ok' | 'values' | 'depth' {
	let values = 0;
	let depth = 0;
	let inString = false;
	for (let index = 0; index < body.length; index++) {
		const byte = body[index]!;
		if (inString) {
			if (byte === backslash) {
				index++;
			} else if (byte === quote) {
				inString = false;
			}

			continue;
		}

		switch (byte) {
			case quote: {
				inString = true;
				break;
			}

			case 0x5B: // [
			case 0x7B: { // {
				if (++depth > maxNesting) {
					return 'depth';
				}

				if (++values > maxValues) {
					return 'values';
				}

				break;
			}

			case 0x5D: // ]
			case 0x7D: { // }
				depth--;
				break;
			}

			case 0x2C: { // ,
				if (++values > maxValues) {
					return 'values';
				}

				break;
			}

			default: {
				break;
			}
		}
	}

	return 'ok';
}

/** The engine's `{"message": "..."}`, or the text itself. */
function errorMessage(text: string): string {
	try {
		const parsed: unknown = JSON.parse(text);
		if (typeof parsed === 'object' && parsed !== null && 'message' in parsed && typeof parsed.message === 'string') {
			return parsed.message.trim();
		}
	} catch {
		// Not JSON: the text is the message.
	}

	return text.trim();
}
