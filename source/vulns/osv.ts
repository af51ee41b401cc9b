import {setTimeout as sleep} from 'node:timers/promises';
import {Pool, errors as undiciErrors, type Dispatcher} from 'undici';
import type {z} from 'zod';
import {innermostErrorCode} from '../core/errors.ts';
import {userAgent} from '../registry/http.ts';
import {retryAfterMs} from '../registry/retry.ts';
import {OsvError} from './errors.ts';
import {osvRecordSchema, queryBatchSchema, type OsvRecord} from './osv-schema.ts';
import type {OsvPackage} from './types.ts';

/** OSV takes at most 1000 queries per querybatch. */
export const maxQueriesPerBatch = 1000;
/** OSV answers up to 32 MiB over HTTP/1.1. */
const maxBatchBytes = 32 * 1024 * 1024;
const maxRecordBytes = 4 * 1024 * 1024;
/** Pages followed for one query; a package with more than this many pages of advisories is cut short. */
const maxPages = 20;
const retryableStatuses = new Set([429, 500, 502, 503, 504]);

export interface OsvClientOptions {
	readonly baseUrl: URL;
	/** Milliseconds one request may take, connection to last byte. @default 15000 */
	readonly timeoutMs?: number;
	/** Retries of a 429 or 5xx. @default 2 */
	readonly retries?: number;
	/** First backoff without a usable Retry-After; doubles each retry. @default 500 */
	readonly retryBaseMs?: number;
	/** The longest Retry-After waited out. @default 10000 */
	readonly maxRetryWaitMs?: number;
	/** For tests: the dispatcher to use instead of an undici Pool. */
	readonly dispatcher?: Dispatcher;
}

/** What querybatch says of one package: the ids affecting it and when each record last changed. */
export interface AffectingIds {
	readonly id: string;
	readonly modified: string | undefined;
}

/** `POST /v1/querybatch` and `GET /v1/vulns/{id}`, bounded, validated and retried. Throws OsvError. */
export class OsvClient {
	readonly #base: URL;
	readonly #timeoutMs: number;
	readonly #options: OsvClientOptions;
	readonly #dispatcher: Dispatcher;

	constructor(options: OsvClientOptions) {
		this.#options = options;
		this.#base = options.baseUrl;
		this.#timeoutMs = options.timeoutMs ?? 15_000;
		this.#dispatcher = options.dispatcher ?? new Pool(this.#base.origin, {connections: 4, headersTimeout: this.#timeoutMs, bodyTimeout: this.#timeoutMs, connectTimeout: this.#timeoutMs, keepAliveTimeout: 30_000});
	}

	async close(): Promise<void> {
		if (this.#options.dispatcher === undefined) {
			await this.#dispatcher.close();
		}
	}

	/** The ids affecting each package, in the order given; chunks of 1000, each query's pages followed. */
	async queryBatch(packages: readonly OsvPackage[], signal?: AbortSignal): Promise<AffectingIds[][]> {
		const results: AffectingIds[][] = packages.map(() => []);
		for (let start = 0; start < packages.length; start += maxQueriesPerBatch) {
			let pending = packages.slice(start, start + maxQueriesPerBatch).map((item, offset) => ({index: start + offset, item, token: undefined as string | undefined}));
			for (let page = 0; pending.length > 0 && page < maxPages; page++) {
				const body = JSON.stringify({queries: pending.map(({item, token}) => ({package: {ecosystem: item.ecosystem, name: item.name}, version: item.version, ...(token === undefined ? {} : {page_token: token})}))});
				// eslint-disable-next-line no-await-in-loop -- one batch at a time keeps OSV's load and our memory bounded
				const answer = await this.#json('POST', '/v1/querybatch', body, maxBatchBytes, queryBatchSchema, 'querybatch answer', signal);
				if (answer.results.length !== pending.length) {
					throw this.#invalid(`a querybatch answer with ${answer.results.length} results for ${pending.length} queries`, null);
				}

				const next: typeof pending = [];
				for (const [position, result] of answer.results.entries()) {
					const query = pending[position]!;
					// One by one: an answer may list more than a spread of arguments takes.
					for (const vuln of result.vulns ?? []) {
						results[query.index]!.push({id: vuln.id, modified: vuln.modified});
					}

					if (typeof result.next_page_token === 'string' && result.next_page_token !== '') {
						next.push({...query, token: result.next_page_token});
					}
				}

				pending = next;
			}
		}

		return results;
	}

	/** The record `id`; null when OSV no longer has it (404). */
	async getVulnerability(id: string, signal?: AbortSignal): Promise<OsvRecord | null> {
		return this.#json('GET', `/v1/vulns/${encodeURIComponent(id)}`, undefined, maxRecordBytes, osvRecordSchema, `record ${id}`, signal, true);
	}

	async #json<T extends z.ZodType>(method: 'GET' | 'POST', path: string, body: string | undefined, maxBytes: number, schema: T, what: string, signal: AbortSignal | undefined, nullOn404: true): Promise<z.infer<T> | null>;
	async #json<T extends z.ZodType>(method: 'GET' | 'POST', path: string, body: string | undefined, maxBytes: number, schema: T, what: string, signal: AbortSignal | undefined): Promise<z.infer<T>>;
	async #json<T extends z.ZodType>(method: 'GET' | 'POST', path: string, body: string | undefined, maxBytes: number, schema: T, what: string, signal: AbortSignal | undefined, nullOn404 = false): Promise<z.infer<T> | null> {
		const url = new URL(`${this.#base.pathname.replace(/\/$/, '')}${path}`, this.#base);
		const retries = this.#options.retries ?? 2;
		for (let attempt = 0; ; attempt++) {
			// eslint-disable-next-line no-await-in-loop -- retries are sequential by nature
			const response = await this.#send(method, url, body, maxBytes, signal);
			if (response.status === 200) {
				let json: unknown;
				try {
					json = JSON.parse(response.body.toString('utf8'));
				} catch {
					throw this.#invalid(`a ${what} that is not JSON`, url);
				}

				const parsed = schema.safeParse(json);
				if (!parsed.success) {
					const issue = parsed.error.issues[0];
					throw this.#invalid(`a ${what} of the wrong shape (${issue === undefined ? 'unknown' : `${issue.path.join('.')}: ${issue.message}`})`, url);
				}

				return parsed.data;
			}

			if (response.status === 404 && nullOn404) {
				return null;
			}

			const wait = retryAfterMs(response.retryAfter, Date.now()) ?? ((this.#options.retryBaseMs ?? 500) * (2 ** attempt));
			if (!retryableStatuses.has(response.status) || attempt >= retries || wait > (this.#options.maxRetryWaitMs ?? 10_000)) {
				throw this.#statusError(response.status, url);
			}

			try {
				// eslint-disable-next-line no-await-in-loop -- the backoff is the point
				await sleep(wait, undefined, {signal});
			} catch (error) {
				throw signal?.reason ?? error;
			}
		}
	}

	async #send(method: 'GET' | 'POST', url: URL, body: string | undefined, maxBytes: number, signal: AbortSignal | undefined): Promise<{status: number; body: Buffer; retryAfter: string | string[] | undefined}> {
		const timeout = AbortSignal.timeout(this.#timeoutMs);
		const combined = signal === undefined ? timeout : AbortSignal.any([signal, timeout]);
		try {
			const response = await this.#dispatcher.request({
				origin: url.origin,
				method,
				path: `${url.pathname}${url.search}`,
				headers: {'user-agent': userAgent, accept: 'application/json', ...(body === undefined ? {} : {'content-type': 'application/json'})},
				body,
				signal: combined,
			});
			if (response.statusCode !== 200) {
				await response.body.dump();
				return {status: response.statusCode, body: Buffer.alloc(0), retryAfter: response.headers['retry-after']};
			}

			const declared = Number(response.headers['content-length'] ?? 0);
			const chunks: Buffer[] = [];
			let total = declared;
			if (declared <= maxBytes) {
				total = 0;
				for await (const chunk of response.body) {
					const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
					total += buffer.length;
					if (total > maxBytes) {
						break;
					}

					chunks.push(buffer);
				}
			}

			if (total > maxBytes) {
				response.body.destroy();
				throw new OsvError({message: `OSV at ${url.origin} sent more than ${maxBytes / 1024 / 1024} MiB for ${url.pathname}; updock reads no more. Is UPDOCK_OSV_URL an OSV API?`, status: 200, code: 'TOO_LARGE', url: url.href, temporary: false});
			}

			return {status: 200, body: Buffer.concat(chunks), retryAfter: undefined};
		} catch (error) {
			if (error instanceof OsvError) {
				throw error;
			}

			if (signal?.aborted) {
				throw signal.reason ?? error;
			}

			throw this.#networkError(error, url, timeout.aborted);
		}
	}

	#statusError(status: number, url: URL): OsvError {
		if (status === 429) {
			return new OsvError({message: `OSV at ${url.origin} is rate-limiting updock (HTTP 429) after ${this.#options.retries ?? 2} retries; vulnerabilities are left out until a later scan.`, status, code: 'RATE_LIMITED', url: url.href, temporary: true});
		}

		const temporary = status >= 500;
		return new OsvError({message: `OSV at ${url.origin} answered HTTP ${status} for ${url.pathname}${temporary ? '; try again later' : ''}.`, status, code: temporary ? 'UNAVAILABLE' : `HTTP_${status}`, url: url.href, temporary});
	}

	#invalid(what: string, url: URL | null): OsvError {
		const origin = url?.origin ?? this.#base.origin;
		return new OsvError({message: `OSV at ${origin} sent ${what}; is UPDOCK_OSV_URL an OSV API?`, status: 200, code: 'INVALID_RESPONSE', url: url?.href ?? this.#base.href, temporary: false});
	}

	#networkError(error: unknown, url: URL, timedOut: boolean): OsvError {
		const base = {status: null, url: url.href, temporary: true, cause: error};
		if (timedOut || error instanceof undiciErrors.HeadersTimeoutError || error instanceof undiciErrors.BodyTimeoutError || error instanceof undiciErrors.ConnectTimeoutError) {
			return new OsvError({...base, code: 'TIMEOUT', message: `OSV at ${url.origin} did not answer within ${this.#timeoutMs / 1000} s.`});
		}

		const code = innermostErrorCode(error) ?? 'network error';
		const detail = code === 'ECONNREFUSED' ? 'connection refused' : code === 'ENOTFOUND' || code === 'EAI_AGAIN' ? `the name ${url.hostname} does not resolve` : (error instanceof Error ? error.message : String(error));
		return new OsvError({...base, code: 'UNREACHABLE', message: `OSV at ${url.origin} is unreachable: ${detail}. Check UPDOCK_OSV_URL and the network.`});
	}
}
