import {Agent, type Dispatcher} from 'undici';
import {innermostErrorCode} from '../core/errors.ts';
import {NotifyError} from './port.ts';

/** Receivers answer with a short acknowledgement; anything past this is not read. */
const maxAnswerBytes = 64 * 1024;

export interface PostOptions {
	/** @default 10000 */
	readonly timeoutMs?: number;
}

/**
 * POSTs to notification receivers: a timeout on every request, redirects not followed (a receiver
 * that moved is a failure to fix, and credentials never follow a redirect), the answer read up to
 * 64 KiB and discarded.
 */
export class NotifyHttp {
	readonly #agent: Dispatcher;
	readonly #timeoutMs: number;

	constructor(options: PostOptions = {}) {
		this.#timeoutMs = options.timeoutMs ?? 10_000;
		this.#agent = new Agent({connect: {timeout: this.#timeoutMs}, headersTimeout: this.#timeoutMs, bodyTimeout: this.#timeoutMs, keepAliveTimeout: 10_000});
	}

	/** @throws NotifyError for anything but a 2xx answer; `display` names the target in the message. */
	async post(url: URL, headers: Readonly<Record<string, string>>, body: string | Buffer, display: string, signal: AbortSignal): Promise<void> {
		const timeout = AbortSignal.timeout(this.#timeoutMs);
		let status: number;
		try {
			const response = await this.#agent.request({
				origin: url.origin,
				path: `${url.pathname}${url.search}`,
				method: 'POST',
				headers: {...headers, 'content-length': String(Buffer.byteLength(body))},
				body,
				signal: AbortSignal.any([signal, timeout]),
			});
			status = response.statusCode;
			await drain(response.body);
		} catch (error) {
			if (error instanceof NotifyError) {
				throw error;
			}

			const reason = timeout.aborted ? `no answer within ${this.#timeoutMs / 1000} s` : signal.aborted ? 'updock is stopping' : innermostErrorCode(error) ?? (error instanceof Error ? error.message : String(error));
			throw new NotifyError(`Could not deliver to ${display}: ${reason}.`, null, {cause: error});
		}

		if (status < 200 || status > 299) {
			throw new NotifyError(`${display} answered HTTP ${status}; the notification was not taken.`, status);
		}
	}

	async close(): Promise<void> {
		await this.#agent.close();
	}
}

/** Read and drop the answer, stopping at the cap. */
async function drain(body: Dispatcher.ResponseData['body']): Promise<void> {
	let read = 0;
	for await (const chunk of body) {
		read += Buffer.isBuffer(chunk) ? chunk.length : String(chunk).length;
		if (read > maxAnswerBytes) {
			body.destroy();
			return;
		}
	}
}
