import {NtfyNotifier} from './ntfy.ts';
import type {Notifier} from './port.ts';
import type {NotifyHttp} from './post.ts';
import type {NotifyTarget} from './url.ts';
import {WebhookNotifier} from './webhook.ts';

/** The notifier for each target, sharing one HTTP client. */
export function makeNotifiers(targets: readonly NotifyTarget[], options: {http: NotifyHttp; webhookSecret: string | undefined; userAgent: string}): Notifier[] {
	return targets.map(target => {
		switch (target.kind) {
			case 'webhook': {
				return new WebhookNotifier({url: target.url, display: target.display, http: options.http, secret: options.webhookSecret, userAgent: options.userAgent});
			}

			case 'ntfy': {
				return new NtfyNotifier({url: target.url, display: target.display, credentials: target.credentials, http: options.http, userAgent: options.userAgent});
			}
		}
	});
}
