import {Pool, errors as undiciErrors, type Dispatcher} from 'undici';
import type {IncomingHttpHeaders} from 'undici/types/header.js';
import {RegistryError} from '../core/errors.ts';
import {dockerHub, isLoopbackRegistry} from '../core/reference.ts';

export interface HttpOptions {
	/**
	 * Milliseconds one request may take, connection to last byte.
	 * @default 15000
	 */
	readonly timeoutMs: number;
	/**
	 * Connections kept open to one registry host: its concurrency limit.
	 * @default 8
	 */
	readonly connectionsPerHost: number;
	readonly userAgent: string;
	/** Makes the dispatcher for an origin; tests pass MockAgent's pools. @default an undici Pool */
	readonly dispatcherFor?: (origin: string) => Dispatcher;
}

export interface HttpResponse {
	readonly status: number;
	readonly headers: IncomingHttpHeaders;
	/** Empty for HEAD. */
	readonly body: Buffer;
	readonly url: string;
}

export interface HttpRequest {
	readonly method: 'GET' | 'HEAD' | 'POST';
	readonly url: URL;
	readonly headers?: Readonly<Record<string, string>>;
	readonly body?: string;
	readonly signal?: AbortSignal | undefined;
	/** Which registry the request is for, for error messages. */
	readonly registry: string;
}

const maxBodyBytes = 8 * 1024 * 1024;

/** How updock introduces itself to registries (tests pick its requests out of access logs by it). */
export const userAgent = 'updock/0.1';

/** The base URL of a registry's API: plain HTTP only on loopback, Docker Hub at its API host. */
export function registryOrigin(registry: string): string {
	if (registry === dockerHub) {
		return 'https://registry-1.docker.io';
	}

	return `${isLoopbackRegistry(registry) ? 'http' : 'https'}://${registry}`;
}

/**
 * Keep-alive HTTP to registries: one undici Pool per origin, bounded connections, a timeout on every
 * request, and failures turned into RegistryError with words a user understands.
 */
export class RegistryHttp {
	readonly #options: HttpOptions;
	readonly #pools = new Map<string, Dispatcher>();

	constructor(options: HttpOptions) {
		this.#options = options;
	}

	async send(request: HttpRequest): Promise<HttpResponse> {
		const pool = this.#pool(request.url.origin);
		const timeout = AbortSignal.timeout(this.#options.timeoutMs);
		const signal = request.signal === undefined ? timeout : AbortSignal.any([request.signal, timeout]);
		const url = request.url.toString();
		try {
			const response = await pool.request({
				method: request.method,
				path: `${request.url.pathname}${request.url.search}`,
				headers: {'user-agent': this.#options.userAgent, ...request.headers},
				body: request.body,
				signal,
				// undici closes the connection after every HEAD unless told not to; registries send no HEAD body.
				reset: false,
			});
			let body = Buffer.alloc(0);
			if (request.method === 'HEAD') {
				await response.body.dump();
			} else {
				const length = Number(response.headers['content-length'] ?? 0);
				if (length > maxBodyBytes) {
					await response.body.dump();
					throw new RegistryError({message: `${request.registry} sent a ${length}-byte response for ${url}, more than a manifest can be; is this a registry?`, status: response.statusCode, code: 'TOO_LARGE', url, temporary: false});
				}

				body = Buffer.from(await response.body.arrayBuffer());
			}

			return {status: response.statusCode, headers: response.headers, body, url};
		} catch (error) {
			if (error instanceof RegistryError) {
				throw error;
			}

			if (request.signal?.aborted) {
				throw request.signal.reason ?? error;
			}

			throw networkError(error, request.registry, url, this.#options.timeoutMs, timeout.aborted);
		}
	}

	async close(): Promise<void> {
		await Promise.all([...this.#pools.values()].map(async pool => pool.close()));
		this.#pools.clear();
	}

	#pool(origin: string): Dispatcher {
		let pool = this.#pools.get(origin);
		if (pool === undefined) {
			pool = this.#options.dispatcherFor?.(origin) ?? new Pool(origin, {
				connections: this.#options.connectionsPerHost,
				headersTimeout: this.#options.timeoutMs,
				bodyTimeout: this.#options.timeoutMs,
				connectTimeout: this.#options.timeoutMs,
				keepAliveTimeout: 30_000,
			});
			this.#pools.set(origin, pool);
		}

		return pool;
	}
}

function networkError(error: unknown, registry: string, url: string, timeoutMs: number, timedOut: boolean): RegistryError {
	const base = {status: null, url, temporary: true, cause: error};
	if (timedOut || error instanceof undiciErrors.HeadersTimeoutError || error instanceof undiciErrors.BodyTimeoutError || error instanceof undiciErrors.ConnectTimeoutError) {
		return new RegistryError({...base, code: 'TIMEOUT', message: `Registry ${registry} did not answer within ${timeoutMs / 1000} s (${url}); it may be overloaded or unreachable, raise --timeout if it is just slow.`});
	}

	const code = errorCode(error);
	const detail = error instanceof Error ? error.message : String(error);
	switch (code) {
		case 'ECONNREFUSED': {
			return new RegistryError({...base, code: 'UNREACHABLE', message: `Registry ${registry} is unreachable: connection refused at ${new URL(url).host}. Is it running?`});
		}

		case 'ENOTFOUND':
		case 'EAI_AGAIN': {
			return new RegistryError({...base, code: 'UNREACHABLE', message: `Registry ${registry} is unreachable: the name ${new URL(url).hostname} does not resolve (${code}). Check DNS or the image reference.`});
		}

		case 'ECONNRESET':
		case 'EPIPE':
		case 'UND_ERR_SOCKET':
		case 'EHOSTUNREACH':
		case 'ENETUNREACH': {
			return new RegistryError({...base, code: 'UNREACHABLE', message: `Registry ${registry} is unreachable: ${detail} (${url}).`});
		}

		default: {
			if (code?.startsWith('ERR_TLS') || code?.includes('CERT') || code === 'EPROTO') {
				return new RegistryError({...base, temporary: false, code: 'TLS', message: `TLS to registry ${registry} failed: ${detail}. If it uses a private CA, trust it the way Docker does.`});
			}

			return new RegistryError({...base, code: 'NETWORK', message: `Request to registry ${registry} failed: ${detail} (${url}).`});
		}
	}
}

function errorCode(error: unknown): string | undefined {
	for (let current: unknown = error; typeof current === 'object' && current !== null; current = (current as {cause?: unknown}).cause) {
		const {code} = current as {code?: unknown};
		if (typeof code === 'string' && code !== 'UND_ERR_SOCKET' && code !== 'UND_ERR_CONNECT_TIMEOUT') {
			return code;
		}

		if (typeof code === 'string' && (current as {cause?: unknown}).cause === undefined) {
			return code;
		}
	}

	return undefined;
}

/** One header as a single string (the first when repeated). */
export function header(headers: IncomingHttpHeaders, name: string): string | undefined {
	const value = headers[name.toLowerCase()];
	return Array.isArray(value) ? value[0] : value;
}

/** Every value of a header that may repeat, like `WWW-Authenticate`. */
export function headerValues(headers: IncomingHttpHeaders, name: string): string[] {
	const value = headers[name.toLowerCase()];
	if (value === undefined) {
		return [];
	}

	return Array.isArray(value) ? value : [value];
}
