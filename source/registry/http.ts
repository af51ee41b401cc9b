import type {Dispatcher} from 'undici';
import type {IncomingHttpHeaders} from 'undici/types/header.js';
import {RegistryError} from '../core/errors.ts';
import type {RateLimit} from '../core/types.ts';
import {withErrorMapping} from './error-mapping.ts';
import {proxySettingsFromEnv} from './proxy.ts';
import {withRedirects} from './redirect.ts';
import {withRetries, type RetryOptions} from './retry.ts';
import {header, type HttpRequest, type HttpResponse, type Send} from './send.ts';
import {Transport} from './transport.ts';
import {RegistryTrust} from './trust.ts';

export interface HttpOptions extends RetryOptions {
	/**
	 * Milliseconds one request may take, connection to last byte.
	 * @default 15000
	 */
	readonly timeoutMs: number;
	/**
	 * Connections kept open to one registry host: its concurrency limit, room for the scan's HEADs and
	 * the tag listings that run beside them.
	 * @default 8
	 */
	readonly connectionsPerHost: number;
	readonly userAgent: string;
	/** Scheme and certificates per registry. @default Docker's rules with /etc/docker/certs.d */
	readonly trust?: RegistryTrust;
	/** Where HTTP_PROXY, HTTPS_PROXY and NO_PROXY are read from. @default process.env */
	readonly env?: Readonly<Record<string, string | undefined>>;
	/** Makes the dispatcher for an origin; tests pass MockAgent's pools. @default an undici Pool, or a ProxyAgent */
	readonly dispatcherFor?: (origin: string) => Dispatcher;
	/** Told once per request with its final answer (after redirects, retries and fallback); status null when none arrived. Should not throw. */
	readonly onRequest?: (registry: string, method: string, status: number | null) => void;
}

export type {HttpRequest, HttpResponse, RateLimit};
export {header, headerValues} from './send.ts';
export {retryAfterMs} from './retry.ts';

/** How updock introduces itself to registries (tests pick its requests out of access logs by it). */
export const userAgent = 'updock/0.1';

/**
 * HTTP to registries, in layers (outermost first): the insecure-registry fallback, redirects,
 * retries, error mapping, and the transport (keep-alive pools per origin, proxies, TLS, capped
 * bodies). Each layer is a function of the one below; this class wires them and keeps what outlives
 * one request: the fallbacks taken and the rate limits seen.
 */
export class RegistryHttp {
	readonly #trust: RegistryTrust;
	readonly #transport: Transport;
	readonly #send: Send;
	readonly #fallbacks = new Map<string, string>();
	readonly #rateLimits = new Map<string, RateLimit>();
	readonly #onRequest: HttpOptions['onRequest'];

	constructor(options: HttpOptions) {
		this.#onRequest = options.onRequest;
		this.#trust = options.trust ?? new RegistryTrust();
		const trust = this.#trust;
		this.#transport = new Transport({
			timeoutMs: options.timeoutMs,
			connectionsPerHost: options.connectionsPerHost,
			userAgent: options.userAgent,
			tlsFor: host => trust.tlsFor(host),
			proxy: proxySettingsFromEnv(options.env ?? process.env),
			dispatcherFor: options.dispatcherFor,
		});
		const observed: Send = async request => {
			const response = await this.#transport.send(request);
			this.#noteRateLimit(request.registry, response.headers);
			return response;
		};

		this.#send = withRedirects(withRetries(withErrorMapping(observed, options.timeoutMs, url => this.#transport.proxyOf(url)), options));
	}

	/** The origin of a registry's API, e.g. `https://ghcr.io` or `http://127.0.0.1:5000`. */
	async base(registry: string): Promise<string> {
		return this.#fallbacks.get(registry) ?? (await this.#trust.endpoint(registry)).origin;
	}

	/** See `Transport.warmUp`. */
	warmUp(): void {
		this.#transport.warmUp();
	}

	/** The last pull budget each registry reported. */
	rateLimits(): RateLimit[] {
		return [...this.#rateLimits.values()];
	}

	async send(request: HttpRequest): Promise<HttpResponse> {
		let response: HttpResponse;
		try {
			response = await this.#sendOrFallBack(request);
		} catch (error) {
			this.#onRequest?.(request.registry, request.method, error instanceof RegistryError ? error.status : null);
			throw error;
		}

		this.#onRequest?.(request.registry, request.method, response.status);
		return response;
	}

	async #sendOrFallBack(request: HttpRequest): Promise<HttpResponse> {
		const endpoint = await this.#trust.endpoint(request.registry);
		try {
			return await this.#send(request);
		} catch (error) {
			// An insecure registry that does not speak HTTPS: once, switch it to plain HTTP for good.
			if (endpoint.fallback !== undefined && !this.#fallbacks.has(request.registry) && request.url.origin === endpoint.origin && error instanceof RegistryError && (error.code === 'TLS' || error.code === 'UNREACHABLE')) {
				this.#fallbacks.set(request.registry, endpoint.fallback);
				return this.#send({...request, url: new URL(`${request.url.pathname}${request.url.search}`, endpoint.fallback)});
			}

			throw error;
		}
	}

	async close(): Promise<void> {
		await this.#transport.close();
	}

	#noteRateLimit(registry: string, headers: IncomingHttpHeaders): void {
		const limit = parseRateLimitHeader(header(headers, 'ratelimit-limit'));
		const remaining = parseRateLimitHeader(header(headers, 'ratelimit-remaining'));
		if (limit !== undefined && remaining !== undefined) {
			this.#rateLimits.set(registry, {registry, limit: limit.value, remaining: remaining.value, windowSeconds: remaining.window ?? limit.window ?? null});
		}
	}
}

/** `100;w=21600` -> {value: 100, window: 21600}. */
export function parseRateLimitHeader(value: string | undefined): {value: number; window: number | undefined} | undefined {
	const match = value === undefined ? null : /^\s*(\d+)\s*(?:;\s*w\s*=\s*(\d+))?/.exec(value);
	if (match === null) {
		return undefined;
	}

	return {value: Number(match[1]), window: match[2] === undefined ? undefined : Number(match[2])};
}
