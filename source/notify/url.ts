import {ConfigError} from '../core/errors.ts';
import {isLoopbackRegistry} from '../core/reference.ts';

/** Where notifications go, parsed from a `--notify` URL (shoutrrr's URL style). */
export type NotifyTarget =
	| {
		readonly kind: 'webhook';
		/** The URL POSTed to, as given. */
		readonly url: URL;
		/** For logs: scheme and host only, as webhook paths often hold a secret. */
		readonly display: string;
	}
	| {
		readonly kind: 'ntfy';
		/** `http(s)://host[:port]/topic`, without credentials. */
		readonly url: URL;
		/** Sent as Basic auth to that host only. */
		readonly credentials: {readonly username: string; readonly password: string} | null;
		/** For logs: `ntfy://host/topic`, without credentials. */
		readonly display: string;
	};

/** The channel label of a target in logs and metrics. */
export type NotifyChannel = NotifyTarget['kind'];

const topicPattern = /^[\w-]{1,64}$/;

/**
 * Parse one notification URL: `https://...` (or `http://` to a loopback host) for a generic webhook,
 * `ntfy://[user:pass@]host[:port]/topic[?scheme=http]` for an ntfy server. Pure.
 * @throws ConfigError naming `source` for an unknown scheme, plain HTTP to another machine, or a
 * malformed URL; the message never repeats a password.
 */
export function parseNotifyUrl(text: string, source: string): NotifyTarget {
	let url: URL;
	try {
		url = new URL(text.trim());
	} catch {
		throw new ConfigError(source, `${source}: "${redactUserinfo(text)}" is not a URL; give https://host/path for a webhook or ntfy://host/topic for ntfy.`);
	}

	const shown = redactUserinfo(url.href);
	switch (url.protocol) {
		case 'https:':
		case 'http:': {
			if (url.username !== '' || url.password !== '') {
				throw new ConfigError(source, `${source}: ${shown} carries credentials in the URL; webhooks are sent without them (use UPDOCK_WEBHOOK_SECRET to sign them).`);
			}

			plainHttpOnLoopback(url, url.protocol === 'http:', source, shown);
			return {kind: 'webhook', url, display: `${url.protocol}//${url.host}/…`};
		}

		case 'ntfy:': {
			const scheme = url.searchParams.get('scheme') ?? 'https';
			if (scheme !== 'https' && scheme !== 'http') {
				throw new ConfigError(source, `${source}: ${shown} has scheme=${scheme}; use scheme=http or leave it out for HTTPS.`);
			}

			if ([...url.searchParams.keys()].some(key => key !== 'scheme')) {
				throw new ConfigError(source, `${source}: ${shown} has query parameters other than scheme=http; updock knows no others.`);
			}

			const topic = decodeURIComponent(url.pathname.replace(/^\//, ''));
			if (!topicPattern.test(topic)) {
				throw new ConfigError(source, `${source}: ${shown} needs one topic after the host (letters, digits, "_" and "-", up to 64), like ntfy://ntfy.sh/my-updates.`);
			}

			if (url.hostname === '') {
				throw new ConfigError(source, `${source}: ${shown} needs a host, like ntfy://ntfy.sh/${topic}.`);
			}

			const endpoint = new URL(`${scheme}://${url.host}/${topic}`);
			plainHttpOnLoopback(endpoint, scheme === 'http', source, shown);
			const credentials = url.username === '' && url.password === '' ? null : {username: decodeURIComponent(url.username), password: decodeURIComponent(url.password)};
			return {kind: 'ntfy', url: endpoint, credentials, display: `ntfy://${url.host}/${topic}`};
		}

		default: {
			throw new ConfigError(source, `${source}: ${shown} has the unknown scheme "${url.protocol.replace(/:$/, '')}"; updock sends to https:// (or loopback http://) webhooks and ntfy:// topics.`);
		}
	}
}

function plainHttpOnLoopback(url: URL, plain: boolean, source: string, shown: string): void {
	if (plain && !isLoopbackRegistry(url.host)) {
		throw new ConfigError(source, `${source}: ${shown} would send notifications over plain HTTP to another machine; use HTTPS (plain HTTP is only for loopback).`);
	}
}

/** The URL as it may be shown: a password in it replaced. */
function redactUserinfo(text: string): string {
	return text.replace(/^([a-z][\w+.-]*:\/\/)([^/@]*)@/i, (_match, scheme: string, userinfo: string) => `${scheme}${userinfo.includes(':') ? `${userinfo.split(':')[0]}:***` : userinfo}@`);
}
