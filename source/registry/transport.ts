import type {Readable} from 'node:stream';
import type {Dispatcher} from 'undici';
import {RegistryError} from '../core/errors.ts';
import {proxyFor, type ProxySettings} from './proxy.ts';
import {formatBytes, limits, type BodyLimit, type HttpRequest, type HttpResponse} from './send.ts';
import type {TlsSettings} from './trust.ts';

type Undici = typeof import('undici').default;

let undiciModule: Promise<Undici> | undefined;

/**
 * undici, loaded when the first registry request is sent, not at start-up: importing it takes about
 * 40 ms, which a run that never reaches a registry (an empty engine, `pins`, `dry-run`) should not pay,
 * and a scan that does asks its registries for tokens while the engines are listed, so the load
 * overlaps that wait.
 */
async function loadUndici(): Promise<Undici> {
	// Its CommonJS exports, as the bundle and Node both give them: the default export.
	undiciModule ??= import('undici').then(loaded => loaded.default);
	try {
		return await undiciModule;
	} catch (error) {
		// Not remembered: the next request tries again.
		undiciModule = undefined;
		throw error;
	}
}

/** What the transport needs to open connections. */
export interface TransportOptions {
	readonly timeoutMs: number;
	readonly connectionsPerHost: number;
	readonly userAgent: string;
	/** TLS settings for a `host[:port]`, undefined for the defaults. */
	readonly tlsFor: (host: string) => TlsSettings | undefined;
	readonly proxy: ProxySettings;
	/** Makes the dispatcher for an origin; tests pass MockAgent's pools. */
	readonly dispatcherFor?: ((origin: string) => Dispatcher) | undefined;
}

/**
 * The bottom layer: one keep-alive dispatcher per origin (direct, or through the proxy the environment
 * names), a timeout on every request, and the body read with its cap while it streams. Errors are
 * thrown as they come (undici's, the timeout's reason, the caller's abort reason), except a body over
 * its cap, which is a RegistryError naming the registry and the limit.
 */
export class Transport {
	readonly #options: TransportOptions;
	readonly #dispatchers = new Map<string, Dispatcher>();

	constructor(options: TransportOptions) {
		this.#options = options;
	}

	async send(request: HttpRequest): Promise<HttpResponse> {
		const dispatcher = this.#dispatchers.get(request.url.origin) ?? await this.#dispatcher(request.url);
		const timeout = AbortSignal.timeout(this.#options.timeoutMs);
		const signal = request.signal === undefined ? timeout : AbortSignal.any([request.signal, timeout]);
		const url = request.url.href;
		try {
			const response = await dispatcher.request({
				origin: request.url.origin,
				method: request.method,
				path: `${request.url.pathname}${request.url.search}`,
				headers: {'user-agent': this.#options.userAgent, ...request.headers},
				body: request.body,
				signal,
				// undici closes the connection after every HEAD unless told not to; registries send no HEAD body.
				reset: false,
			});
			const ok = response.statusCode >= 200 && response.statusCode < 300;
			const limit = ok ? request.limit ?? limits.small : smaller(request.limit ?? limits.small, limits.errorBody);
			const body = request.method === 'HEAD' ? await response.body.dump().then(() => Buffer.alloc(0)) : await readCapped(response.body, response.headers['content-length'], limit, request.registry, url, response.statusCode);
			return {status: response.statusCode, headers: response.headers, body, url};
		} catch (error) {
			if (request.signal?.aborted) {
				throw request.signal.reason ?? error;
			}

			// The timeout's own reason (a TimeoutError) tells the layers above what happened, whichever
			// undici error the abort surfaced as.
			if (timeout.aborted) {
				throw timeout.reason;
			}

			throw error;
		}
	}

	/**
	 * Start loading undici now, without waiting: a scan that knows it will ask a registry calls this
	 * before it lists the engines, so undici loads before dockerode does and the registry's first
	 * request is under way sooner (the first HEAD of a three-host scan came about 40 ms earlier).
	 */
	warmUp(): void {
		if (this.#options.dispatcherFor === undefined) {
			loadUndici().catch(() => undefined);
		}
	}

	/** The proxy requests to `url` go through, undefined for direct. */
	proxyOf(url: URL): URL | undefined {
		return this.#options.dispatcherFor === undefined ? proxyFor(url, this.#options.proxy) : undefined;
	}

	/**
	 * Ends every connection, and any request still under way with it: the caller is done with the
	 * registries (the scan is over, the program ends). Waiting for stragglers instead (a token asked for
	 * a registry the last scan named and no container uses now, whose host no longer answers) would
	 * hold the program up until their timeout.
	 */
	async close(): Promise<void> {
		await Promise.all([...this.#dispatchers.values()].map(async dispatcher => dispatcher.destroy()));
		this.#dispatchers.clear();
	}

	async #dispatcher(url: URL): Promise<Dispatcher> {
		const {dispatcherFor} = this.#options;
		let make: () => Dispatcher;
		if (dispatcherFor === undefined) {
			const undici = await loadUndici();
			make = () => this.#open(url, undici);
		} else {
			make = () => dispatcherFor(url.origin);
		}

		// Another request may have opened it while undici loaded.
		let dispatcher = this.#dispatchers.get(url.origin);
		if (dispatcher === undefined) {
			dispatcher = make();
			this.#dispatchers.set(url.origin, dispatcher);
		}

		return dispatcher;
	}

	#open(url: URL, {Pool, ProxyAgent}: Undici): Dispatcher {
		const tls = url.protocol === 'https:' ? this.#options.tlsFor(url.host) : undefined;
		const {timeoutMs} = this.#options;
		const common = {
			connections: this.#options.connectionsPerHost,
			headersTimeout: timeoutMs,
			bodyTimeout: timeoutMs,
			connectTimeout: timeoutMs,
			keepAliveTimeout: 30_000,
		};
		const proxy = this.proxyOf(url);
		if (proxy !== undefined) {
			// One ProxyAgent per registry origin: its CA and client certificate apply inside the CONNECT tunnel.
			return new ProxyAgent({...common, uri: proxy.href, ...(tls === undefined ? {} : {requestTls: {...tls}})});
		}

		return new Pool(url.origin, {...common, ...(tls === undefined ? {} : {connect: {...tls}})});
	}
}

function smaller(a: BodyLimit, b: BodyLimit): BodyLimit {
	return a.maxBytes <= b.maxBytes ? a : b;
}

/**
 * Read a body into memory, never more than `limit.maxBytes`: a declared length over the cap fails
 * before reading, and a body (chunked, no length) that grows past it is destroyed at once, which
 * closes the connection instead of draining whatever the other side keeps sending.
 */
export async function readCapped(body: Readable, contentLength: string | string[] | undefined, limit: BodyLimit, registry: string, url: string, status: number): Promise<Buffer> {
	const tooLarge = (): RegistryError => new RegistryError({
		message: `Registry ${registry} sent more than ${formatBytes(limit.maxBytes)} for ${url}; ${limit.why}, so updock stopped reading.`,
		status,
		code: 'TOO_LARGE',
		url,
		temporary: false,
	});
	const stop = (): void => {
		// Destroying undici's body emits an abort error of its own; the caller gets tooLarge() instead.
		body.on('error', () => undefined);
		body.destroy();
	};

	const declared = Number(Array.isArray(contentLength) ? contentLength[0] : contentLength);
	if (Number.isFinite(declared) && declared > limit.maxBytes) {
		stop();
		throw tooLarge();
	}

	const chunks: Buffer[] = [];
	let total = 0;
	for await (const chunk of body) {
		const bytes = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
		total += bytes.length;
		if (total > limit.maxBytes) {
			stop();
			throw tooLarge();
		}

		chunks.push(bytes);
	}

	return Buffer.concat(chunks, total);
}
