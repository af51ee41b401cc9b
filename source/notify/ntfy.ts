import type {AvailableEvent} from '../core/alerts.ts';
import {newestVersion, riskText, shortDigest} from '../core/status.ts';
import {safeTerminalText} from '../core/terminal-text.ts';
import type {NotificationBatch, Notifier} from './port.ts';
import type {NotifyHttp} from './post.ts';

/** ntfy turns longer messages into attachments; stay well under its 4096 bytes. */
const maxMessageChars = 3500;

/** The title and text of one ntfy message for a batch. */
export function ntfyMessage(events: readonly AvailableEvent[]): {title: string; body: string} {
	const count = events.length;
	const title = `updock: ${count} update${count === 1 ? '' : 's'} available`;
	const lines: string[] = [];
	let length = 0;
	for (const [index, event] of events.entries()) {
		const line = eventLine(event);
		if (length + line.length + 1 > maxMessageChars) {
			lines.push(`… and ${count - index} more`);
			break;
		}

		lines.push(line);
		length += line.length + 1;
	}

	return {title, body: lines.join('\n')};
}

/**
 * One line per container: what is new (the tag's new image, a newer version), then, when known, the
 * risk and where to read what changed. Folded to one line: names come from engines and registries.
 */
function eventLine(event: AvailableEvent): string {
	const newer = newestVersion(event.newer);
	const parts = [event.status === 'update-available'
		? `${event.host}/${event.container.name}: ${event.container.image} has a new image (${shortDigest(event.localDigest)} -> ${shortDigest(event.remoteDigest)})${newer === '' ? '' : `; newer version ${newer}`}`
		: `${event.host}/${event.container.name}: ${event.container.image} has a newer version: ${newer}`];
	if (event.risk !== null) {
		parts.push(`risk ${riskText(event.risk)}${vulnerabilityText(event.vulnerabilities)}`);
	}

	const {changes, release} = event.links ?? {changes: null, release: null};
	if (changes !== null) {
		parts.push(`changes: ${changes}`);
	} else if (release !== null) {
		parts.push(`release: ${release}`);
	}

	return safeTerminalText(parts.join('; '));
}

/** ` (3 known vulnerabilities, 2 fixed by the update)`, or nothing when not known. */
function vulnerabilityText(vulnerabilities: AvailableEvent['vulnerabilities']): string {
	if (vulnerabilities === null) {
		return '';
	}

	const {critical, high, medium, low, unknown} = vulnerabilities.current;
	const known = critical + high + medium + low + unknown;
	const fixed = vulnerabilities.fixed === null ? '' : `, ${vulnerabilities.fixed.length} fixed by the update`;
	return ` (${known} known vulnerabilit${known === 1 ? 'y' : 'ies'}${fixed})`;
}

/** An ntfy topic: one message per batch; credentials only to that server, as Basic auth. */
export class NtfyNotifier implements Notifier {
	readonly channel = 'ntfy';
	readonly display: string;
	readonly #url: URL;
	readonly #http: NotifyHttp;
	readonly #authorization: string | undefined;
	readonly #userAgent: string;

	constructor(options: {url: URL; display: string; credentials: {username: string; password: string} | null; http: NotifyHttp; userAgent: string}) {
		this.#url = options.url;
		this.display = options.display;
		this.#http = options.http;
		this.#userAgent = options.userAgent;
		this.#authorization = options.credentials === null ? undefined : `Basic ${Buffer.from(`${options.credentials.username}:${options.credentials.password}`).toString('base64')}`;
	}

	async send(batch: NotificationBatch, signal: AbortSignal): Promise<void> {
		const {title, body} = ntfyMessage(batch.events);
		const headers: Record<string, string> = {'content-type': 'text/plain; charset=utf-8', 'user-agent': this.#userAgent, title, priority: 'default', tags: 'arrow_up'};
		if (this.#authorization !== undefined) {
			headers['authorization'] = this.#authorization;
		}

		await this.#http.post(this.#url, headers, body, this.display, signal);
	}
}
