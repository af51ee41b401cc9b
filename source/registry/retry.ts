import {setTimeout as sleep} from 'node:timers/promises';
import {header, type Send} from './send.ts';

export interface RetryOptions {
	/**
	 * Retries of a 429 or a 502/503/504 before it counts as the answer.
	 * @default 2
	 */
	readonly retries?: number | undefined;
	/**
	 * The longest wait a Retry-After may ask for and still be waited out; longer is reported instead.
	 * @default 10000
	 */
	readonly maxRetryWaitMs?: number | undefined;
	/**
	 * The first backoff when the registry gives no usable Retry-After; it doubles each retry.
	 * @default 500
	 */
	readonly retryBaseMs?: number | undefined;
}

const retryableStatuses = new Set([429, 502, 503, 504]);

/**
 * Retry a 429 or a 502/503/504 a bounded number of times, waiting what Retry-After asks (or a doubling
 * backoff); the last answer is returned as it is, for the layers above to describe.
 */
export function withRetries(next: Send, options: RetryOptions = {}): Send {
	const retries = options.retries ?? 2;
	const maxWait = options.maxRetryWaitMs ?? 10_000;
	const base = options.retryBaseMs ?? 500;
	return async request => {
		for (let attempt = 0; ; attempt++) {
			// eslint-disable-next-line no-await-in-loop -- retries are sequential by nature
			const response = await next(request);
			if (!retryableStatuses.has(response.status) || attempt >= retries) {
				return response;
			}

			const wait = retryAfterMs(header(response.headers, 'retry-after'), Date.now()) ?? (base * (2 ** attempt));
			if (wait > maxWait) {
				return response;
			}

			try {
				// eslint-disable-next-line no-await-in-loop
				await sleep(wait, undefined, {signal: request.signal});
			} catch (error) {
				throw request.signal?.reason ?? error;
			}
		}
	};
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
