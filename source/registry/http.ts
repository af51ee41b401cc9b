import {setTimeout as sleep} from 'node:timers/promises';
import {Pool, errors as undiciErrors, type Dispatcher} from 'undici';
import type {IncomingHttpHeaders} from 'undici/types/header.js';
import {innermostErrorCode, RegistryError} from '../core/errors.ts';
import type {RateLimit} from '../core/types.ts';
import {RegistryTrust} from './trust.ts';

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
	/** Scheme and certificates per registry. @default Docker's rules with /etc/docker/certs.d */
	readonly trust?: RegistryTrust;
	/**
	 * Retries of a 429 or a 502/503/504 before it counts as the answer.
	 * @default 2
	 */
	readonly retries?: number;
	/**
	 * The longest wait a Retry-After may ask for and still be waited out; longer is reported instead.
	 * @default 10000
	 */
	readonly maxRetryWaitMs?: number;
	/**
	 * The first backoff when the registry gives no usable Retry-After; it doubles each retry.
	 * @default 500
	 */
	readonly retryBaseMs?: number;
	/** Makes the dispatcher for an origin; tests pass MockAgent's pools. @default an undici Pool */
	readonly dispatcherFor?: (origin: string) => Dispatcher;
}

export interface HttpResponse {
	readonly status: number;
	readonly headers: IncomingHttpHeaders;
	/** Empty for HEAD. */
	readonly body: Buffer;
	/** The URL that answered, after redirects. */
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

export type {RateLimit};

const maxBodyBytes = 8 * 1024 * 1024;
const maxRedirects = 5;
const retryableStatuses = new Set([429, 502, 503, 504]);

/** How updock introduces itself to registries (tests pick its requests out of access logs by it). */
export const userAgent = 'updock/0.1';

/**
 * Keep-alive HTTP to registries: one undici Pool per origin, bounded connections, a timeout on every
 * request, redirects followed without carrying Authorization to another host, 429 and 5xx retried a
 * bounded number of times, and failures turned into RegistryError with words a user understands.
 */
export class RegistryHttp {
	readonly #options: HttpOptions;
	readonly #trust: RegistryTrust;
	readonly #pools = new Map<string, Dispatcher>();
	readonly #fallbacks = new Map<string, string>();
	readonly #rateLimits = new Map<string, RateLimit>();

	constructor(options: HttpOptions) {
		this.#options = options;
		this.#trust = options.trust ?? new RegistryTrust();
	}

	/** The origin of a registry's API, e.g. `https://ghcr.io` or `http://127.0.0.1:5000`. */
	async base(registry: string): Promise<string> {
		return this.#fallbacks.get(registry) ?? (await this.#trust.endpoint(registry)).origin;
	}

	/** The last pull budget each registry reported. */
	rateLimits(): RateLimit[] {
		return [...this.#rateLimits.values()];
	}

	async send(request: HttpRequest): Promise<HttpResponse> {
		const endpoint = await this.#trust.endpoint(request.registry);
		try {
			return await this.#sendFollowing(request);
		} catch (error) {
			// An insecure registry that does not speak HTTPS: once, switch it to plain HTTP for good.
			if (endpoint.fallback !== undefined && !this.#fallbacks.has(request.registry) && request.url.origin === endpoint.origin && error instanceof RegistryError && (error.code === 'TLS' || error.code === 'UNREACHABLE')) {
				this.#fallbacks.set(request.registry, endpoint.fallback);
				return this.#sendFollowing({...request, url: new URL(`${request.url.pathname}${request.url.search}`, endpoint.fallback)});
			}

			throw error;
		}
	}

	async close(): Promise<void> {
		await Promise.all([...this.#pools.values()].map(async pool => pool.close()));
		this.#pools.clear();
	}

	async #sendFollowing(request: HttpRequest): Promise<HttpResponse> {
		let current = request;
		for (let hop = 0; ; hop++) {
			const response = await this.#sendRetrying(current);
			const location = response.headers['location'];
			if (![301, 302, 303, 307, 308].includes(response.status) || typeof location !== 'string' || request.method === 'POST') {
				return response;
			}

			if (hop >= maxRedirects) {
				throw new RegistryError({message: `Registry ${request.registry} redirected more than ${maxRedirects} times from ${request.url.href}.`, status: response.status, code: 'TOO_MANY_REDIRECTS', url: response.url, temporary: false});
			}

			const next = new URL(location, current.url);
			if (next.protocol !== 'https:' && next.protocol !== 'http:') {
				throw new RegistryError({message: `Registry ${request.registry} redirected to an unsupported URL ${next.protocol}.`, status: response.status, code: 'BAD_REDIRECT', url: response.url, temporary: false});
			}

			if (next.protocol === 'http:' && current.url.protocol === 'https:') {
				throw new RegistryError({message: `Registry ${request.registry} redirected from HTTPS to plain HTTP (${next.origin}); updock does not downgrade.`, status: response.status, code: 'BAD_REDIRECT', url: response.url, temporary: false});
			}

			// Credentials are for the registry: a redirect to another host (a CDN, a bucket) gets none.
			const headers = next.origin === current.url.origin ? current.headers : withoutAuthorization(current.headers);
			current = {...current, url: next, headers};
		}
	}

	async #sendRetrying(request: HttpRequest): Promise<HttpResponse> {
		const retries = this.#options.retries ?? 2;
		const maxWait = this.#options.maxRetryWaitMs ?? 10_000;
		for (let attempt = 0; ; attempt++) {
			const response = await this.#sendOnce(request);
			if (!retryableStatuses.has(response.status) || attempt >= retries) {
				return response;
			}

			const asked = retryAfterMs(response.headers['retry-after'], Date.now());
			const wait = asked ?? ((this.#options.retryBaseMs ?? 500) * (2 ** attempt));
			if (wait > maxWait) {
				return response;
			}

			try {
				await sleep(wait, undefined, {signal: request.signal});
			} catch (error) {
				throw request.signal?.reason ?? error;
			}
		}
	}

	async #sendOnce(request: HttpRequest): Promise<HttpResponse> {
		const pool = this.#pool(request.url);
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

			this.#noteRateLimit(request.registry, response.headers);
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

	#noteRateLimit(registry: string, headers: IncomingHttpHeaders): void {
		const limit = parseRateLimitHeader(header(headers, 'ratelimit-limit'));
		const remaining = parseRateLimitHeader(header(headers, 'ratelimit-remaining'));
		if (limit !== undefined && remaining !== undefined) {
			this.#rateLimits.set(registry, {registry, limit: limit.value, remaining: remaining.value, windowSeconds: remaining.window ?? limit.window ?? null});
		}
	}

	#pool(url: URL): Dispatcher {
		let pool = this.#pools.get(url.origin);
		if (pool === undefined) {
			const tls = url.protocol === 'https:' ? this.#trust.tlsFor(url.host) : undefined;
			pool = this.#options.dispatcherFor?.(url.origin) ?? new Pool(url.origin, {
				connections: this.#options.connectionsPerHost,
				headersTimeout: this.#options.timeoutMs,
				bodyTimeout: this.#options.timeoutMs,
				connectTimeout: this.#options.timeoutMs,
				keepAliveTimeout: 30_000,
				...(tls === undefined ? {} : {connect: {...tls}}),
			});
			this.#pools.set(url.origin, pool);
		}

		return pool;
	}
}

function withoutAuthorization(headers: Readonly<Record<string, string>> | undefined): Record<string, string> {
	return Object.fromEntries(Object.entries(headers ?? {}).filter(([name]) => name.toLowerCase() !== 'authorization'));
}

/**
 * `Retry-After` in milliseconds: delta-seconds or an HTTP date. Undefined for garbage or a date
 * already past, which mean "use your own backoff".
 */
export function retryAfterMs(value: string | string[] | undefined, now: number): number | undefined {
	const text = (Array.isArray(value) ? value[0] : value)?.trim();
	if (text === undefined || text === '') {
		return undefined;
	}

	if (/^\d+$/.test(text)) {
		return Number(text) * 1000;
	}

	const date = Date.parse(text);
	if (Number.isNaN(date) || !/[a-z]/i.test(text) || date <= now) {
		return undefined;
	}

	return date - now;
}

/** `100;w=21600` -> {value: 100, window: 21600}. */
export function parseRateLimitHeader(value: string | undefined): {value: number; window: number | undefined} | undefined {
	const match = value === undefined ? null : /^\s*(\d+)\s*(?:;\s*w\s*=\s*(\d+))?/.exec(value);
	if (match === null) {
		return undefined;
	}

	return {value: Number(match[1]), window: match[2] === undefined ? undefined : Number(match[2])};
}

function networkError(error: unknown, registry: string, url: string, timeoutMs: number, timedOut: boolean): RegistryError {
	const base = {status: null, url, temporary: true, cause: error};
	if (timedOut || error instanceof undiciErrors.HeadersTimeoutError || error instanceof undiciErrors.BodyTimeoutError || error instanceof undiciErrors.ConnectTimeoutError) {
		return new RegistryError({...base, code: 'TIMEOUT', message: `Registry ${registry} did not answer within ${timeoutMs / 1000} s (${url}); it may be overloaded or unreachable, raise --timeout if it is just slow.`});
	}

	const code = innermostErrorCode(error);
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
			if (code !== undefined && (code.startsWith('ERR_TLS') || code.startsWith('ERR_SSL') || code.includes('CERT') || code === 'EPROTO' || code.startsWith('UNABLE_TO') || code.startsWith('SELF_SIGNED') || code === 'DEPTH_ZERO_SELF_SIGNED_CERT')) {
				return new RegistryError({...base, temporary: false, code: 'TLS', message: `TLS to registry ${registry} failed: ${detail}. If it uses a private CA, put it in /etc/docker/certs.d/${registry}/ca.crt (or the --certs-dir given), as for Docker.`});
			}

			return new RegistryError({...base, code: 'NETWORK', message: `Request to registry ${registry} failed: ${detail} (${url}).`});
		}
	}
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

