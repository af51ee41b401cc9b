import {createHmac} from 'node:crypto';
import type {NotificationBatch, Notifier} from './port.ts';
import type {NotifyHttp} from './post.ts';

/** The header carrying the body's signature when UPDOCK_WEBHOOK_SECRET is set. */
export const signatureHeader = 'x-updock-signature';

/** The exact bytes a webhook receives for a batch: `{"events": [...], "updock": "<version>"}`. */
export function webhookBody(batch: NotificationBatch): Buffer {
	return Buffer.from(JSON.stringify({events: batch.events, updock: batch.version}));
}

/** `sha256=` and the lower-case hex HMAC-SHA256 of the exact body bytes. */
export function webhookSignature(body: Buffer, secret: string): string {
	return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

/** A generic webhook: one JSON POST per batch, signed when a secret is given. */
export class WebhookNotifier implements Notifier {
	readonly channel = 'webhook';
	readonly display: string;
	readonly #url: URL;
	readonly #http: NotifyHttp;
	readonly #secret: string | undefined;
	readonly #userAgent: string;

	constructor(options: {url: URL; display: string; http: NotifyHttp; secret: string | undefined; userAgent: string}) {
		this.#url = options.url;
		this.display = options.display;
		this.#http = options.http;
		this.#secret = options.secret;
		this.#userAgent = options.userAgent;
	}

	async send(batch: NotificationBatch, signal: AbortSignal): Promise<void> {
		const body = webhookBody(batch);
		const headers: Record<string, string> = {'content-type': 'application/json', 'user-agent': this.#userAgent};
		if (this.#secret !== undefined) {
			headers[signatureHeader] = webhookSignature(body, this.#secret);
		}

		await this.#http.post(this.#url, headers, body, this.display, signal);
	}
}
