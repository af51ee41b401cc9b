/**
 * What dockerode needs of a modem (`dial` and `Promise`), on updock's own Engine API transport.
 * dockerode's own modem (docker-modem) follows redirects, reads error bodies whole, takes DOCKER_HOST
 * from the environment whatever it is given, and opens an ssh connection per request without
 * checking the host key; through this one every call keeps EngineApi's caps, version negotiation,
 * timeout and failure sentences, and dockerode keeps building the calls.
 */
import {stringify} from 'node:querystring';
import {Readable} from 'node:stream';
import {z} from 'zod';
import {engineLimits, type EngineApi} from './engine-api.ts';
import type {ListingSpec} from './listing.ts';
import {containerSummarySchema, imageSummarySchema, serviceSchema} from './schemas.ts';

/** What dockerode passes to `modem.dial` (the fields updock reads; see docker-modem's `dial`). */
export interface DialOptions {
	/** Unversioned, ending in `?` when `options` become the query: `/containers/json?`. */
	readonly path: string;
	readonly method?: string | undefined;
	/** The call's options: the query when `path` ends in `?`; `_query` overrides them. */
	readonly options?: Readonly<Record<string, unknown>> | undefined;
	/** The statuses the call documents: a 404 listed here means "no such thing", not "not Docker". */
	readonly statusCodes?: Readonly<Record<number, string | boolean>> | undefined;
	/** The body is the caller's to read (events, archives). */
	readonly isStream?: boolean | undefined;
	readonly abortSignal?: AbortSignal | undefined;
	readonly hijack?: boolean | undefined;
	readonly file?: unknown;
}

/** How dockerode is answered: the error, or the parsed JSON (`unknown`: the caller checks its shape) or the body stream. */
export type DialCallback = (error: unknown, result?: unknown) => void;

/** What dockerode calls on a modem for the calls updock makes. */
export interface DockerodeModem {
	/** dockerode sets it to the Promise its calls return. */
	Promise: PromiseConstructor;
	dial(options: DialOptions, callback: DialCallback): void;
}

/** One GET as EngineApi sends it. */
export interface EngineRequest {
	/** Unversioned, with its query: `/containers/json?all=true`. */
	readonly path: string;
	/** Bytes read at most of a JSON answer. */
	readonly limit: number;
	/** What a 404 means when the call documents one (`no such container`); otherwise it means a wrong server. */
	readonly notFound: string | undefined;
	readonly stream: boolean;
	readonly signal: AbortSignal | undefined;
}

/** The engine answered 404 to a call that documents it (`no such container`, `no such image`). */
export class EngineNotFoundError extends Error {
	override readonly name = 'EngineNotFoundError';
	/** As docker-modem's errors carry it. */
	readonly statusCode = 404;
	readonly path: string;

	constructor(path: string, what: string) {
		super(`The Docker engine answered ${path}: ${what}.`);
		this.path = path;
	}
}

/**
 * A body dockerode hands back, as the Node stream EngineModem gave it (dockerode types it loosely).
 * @throws TypeError when it is not one: a bug in updock.
 */
export function nodeStream(body: NodeJS.ReadableStream): Readable {
	if (!(body instanceof Readable)) {
		throw new TypeError('dockerode returned a body that is not a Node stream (a bug in updock).');
	}

	return body;
}

/** A path segment of the Engine API: ids, names, `sha256:…`; nothing that changes the path's meaning. */
const segmentPattern = /^[\w.:@-]+$/;
const anyJson = z.unknown();

/**
 * A modem for `new Docker({modem})`. It only reads: updock never changes an engine, so any method but
 * GET is refused as a bug.
 */
export class EngineModem implements DockerodeModem {
	Promise: PromiseConstructor = Promise;
	readonly #api: EngineApi;

	constructor(api: EngineApi) {
		this.#api = api;
	}

	dial(options: DialOptions, callback: DialCallback): void {
		let request: EngineRequest;
		try {
			request = engineRequest(options);
		} catch (error) {
			queueMicrotask(() => {
				callback(error);
			});
			return;
		}

		this.#answer(request).then(result => {
			callback(null, result);
		}, (error: unknown) => {
			callback(error ?? new Error('The engine call failed without a reason.'));
		});
	}

	async #answer(request: EngineRequest): Promise<unknown> {
		if (request.stream) {
			// The body is read by the caller, each with its own cap (an event line, the archived file).
			const response = await this.#api.open(request.path, request.signal, {notFound: request.notFound !== undefined});
			if (response === undefined) {
				throw new EngineNotFoundError(request.path, request.notFound ?? 'not found');
			}

			return response.body;
		}

		if (request.notFound !== undefined) {
			const value = await this.#api.getJson(request.path, anyJson, {limit: request.limit, signal: request.signal, notFound: true});
			if (value === undefined) {
				throw new EngineNotFoundError(request.path, request.notFound);
			}

			return value;
		}

		const listing = listings.get(basePath(request.path));
		if (listing !== undefined) {
			// What dockerode hands back is the entries as their schema keeps them, not the engine's JSON.
			return this.#api.getListing(request.path, listing, request.signal);
		}

		return this.#api.getJson(request.path, anyJson, {limit: request.limit, signal: request.signal});
	}
}

/**
 * The listings, read entry by entry and cut down to what updock reads of each entry; every other JSON
 * answer is one document, read whole under `engineLimits.document`.
 */
export const containerListing = listing('/containers/json', engineLimits.containers, containerSummarySchema);
export const imageListing = listing('/images/json', engineLimits.images, imageSummarySchema);
export const serviceListing = listing('/services', engineLimits.services, serviceSchema);
const listings: ReadonlyMap<string, ListingSpec> = new Map([containerListing, imageListing, serviceListing].map(spec => [spec.name, spec]));

function listing<T>(name: string, limit: number, entry: z.ZodType<T>): ListingSpec<T> {
	return {name, limit, entry, lists: new WeakMap(), maxEntries: engineLimits.listEntries, maxEntryBytes: engineLimits.listEntry, maxKeptBytes: engineLimits.listKept, maxDepth: engineLimits.depth};
}

function basePath(path: string): string {
	const question = path.indexOf('?');
	return question === -1 ? path : path.slice(0, question);
}

/**
 * The GET a dial asks for, built as docker-modem builds it (objects in the query as JSON, arrays as
 * repeated keys), without the abort signal or credentials, and without keys whose value is undefined or
 * null (docker-modem would send them empty).
 * @throws Error (a bug in updock) for anything but a GET of a plain Engine API path.
 */
export function engineRequest(options: DialOptions): EngineRequest {
	const method = options.method ?? 'GET';
	if (method !== 'GET' || options.hijack === true || options.file !== undefined) {
		throw new Error(`updock only reads from Docker engines, yet a ${method} ${options.path} was asked for (a bug in updock).`);
	}

	const question = options.path.indexOf('?');
	const base = question === -1 ? options.path : options.path.slice(0, question);
	const segments = base.split('/').slice(1);
	if (!base.startsWith('/') || segments.some(segment => !segmentPattern.test(segment) || segment === '.' || segment === '..')) {
		throw new Error(`The Engine API path ${JSON.stringify(options.path)} has characters updock does not send (a bug in updock: check names before asking).`);
	}

	if (question !== -1 && question !== options.path.length - 1) {
		throw new Error(`The Engine API path ${JSON.stringify(options.path)} carries its own query (a bug in updock).`);
	}

	const query = question === -1 ? '' : querystring(options.options);
	const notFound = options.statusCodes?.[404];
	return {
		path: query === '' ? base : `${base}?${query}`,
		limit: limitFor(base),
		notFound: typeof notFound === 'string' ? notFound : undefined,
		stream: options.isStream === true,
		signal: options.abortSignal ?? signalIn(options.options),
	};
}

/** How much of a JSON answer is read, by what it is. */
export function limitFor(path: string): number {
	return listings.get(path)?.limit ?? engineLimits.document;
}

/** Keys that never go into the query: the signal (Image#inspect passes it only here) and credentials. */
const notQuery = new Set(['abortSignal', 'authconfig']);

function querystring(options: Readonly<Record<string, unknown>> | undefined): string {
	const source = options?.['_query'] ?? options ?? {};
	if (typeof source !== 'object' || source === null) {
		throw new Error('An Engine API query that is not an object (a bug in updock).');
	}

	const values: Record<string, string | string[]> = {};
	for (const [key, value] of Object.entries(source)) {
		if (notQuery.has(key) || key === '_query' || value === undefined || value === null) {
			continue;
		}

		values[key] = Array.isArray(value) ? value.map(item => queryValue(key, item)) : queryValue(key, value);
	}

	return stringify(values);
}

function queryValue(key: string, value: unknown): string {
	switch (typeof value) {
		case 'string': {
			return value;
		}

		case 'number':
		case 'boolean':
		case 'bigint': {
			return String(value);
		}

		case 'object': {
			// `filters` and the like: the Engine API takes them as JSON.
			return JSON.stringify(value);
		}

		default: {
			throw new Error(`The Engine API query parameter ${key} is a ${typeof value} (a bug in updock).`);
		}
	}
}

function signalIn(options: Readonly<Record<string, unknown>> | undefined): AbortSignal | undefined {
	const signal = options?.['abortSignal'];
	return signal instanceof AbortSignal ? signal : undefined;
}

declare module 'dockerode' {
	interface DockerOptions {
		/** dockerode then sends every call through this modem instead of making a docker-modem (lib/docker.js). */
		modem?: DockerodeModem;
	}

	interface ImageInspectOptions {
		/** Image#inspect hands the modem its options but not this signal; EngineModem takes it from there. */
		abortSignal?: AbortSignal | undefined;
	}
}
