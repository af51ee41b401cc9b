import type {ContainerResult} from './types.ts';

/** What was last announced for a container: the remote digest (and newer tag, once there are tag events). */
export interface LastAnnounced {
	readonly digest: string;
	readonly tag?: string | undefined;
}

/** What was last announced for the container `name` on `host`, as the JSON file remembers it. */
export type AnnouncedLookup = (host: string, name: string) => LastAnnounced | undefined;

/** An update became available for a container: raised once per container and new remote digest. */
export interface AvailableEvent {
	readonly event: 'available';
	readonly severity: 'info';
	readonly host: string;
	readonly container: {readonly id: string; readonly name: string; readonly image: string};
	readonly localDigest: string;
	readonly remoteDigest: string;
	/** When a scan first saw this digest for the container (ISO). */
	readonly detectedAt: string;
}

/** The key of a container in the `announced` map: `host/name`, so it survives re-creation. */
export function announcementKey(host: string, name: string): string {
	return `${host}/${name}`;
}

/** The key of the event itself: container and digest (a newer tag would join it here). */
export function eventKey(event: AvailableEvent): string {
	return `${announcementKey(event.host, event.container.name)}@${event.remoteDigest}`;
}

/**
 * The `available` events a scan's results raise: containers with an update whose remote digest was
 * not announced for them yet. Pinned and excluded containers are never `update-available`, so they
 * raise nothing.
 * @param firstSeen when an event with this `eventKey` was first detected, for events raised again
 * after every delivery of them failed; defaults to `now`.
 */
export function raisedEvents(results: readonly ContainerResult[], announced: AnnouncedLookup, now: Date, firstSeen: (key: string) => string | undefined = () => undefined): AvailableEvent[] {
	const events: AvailableEvent[] = [];
	for (const result of results) {
		const {verdict} = result;
		if (verdict.status !== 'update-available') {
			continue;
		}

		const last = announced(result.host, result.name);
		if (last !== undefined && last.digest === verdict.remoteDigest && last.tag === undefined) {
			continue;
		}

		const event: AvailableEvent = {
			event: 'available',
			severity: 'info',
			host: result.host,
			container: {id: result.id, name: result.name, image: result.image},
			localDigest: verdict.localDigest,
			remoteDigest: verdict.remoteDigest,
			detectedAt: now.toISOString(),
		};
		events.push({...event, detectedAt: firstSeen(eventKey(event)) ?? event.detectedAt});
	}

	return events;
}

/**
 * Containers a scan found up to date: what was announced for them is forgotten, so falling behind
 * again later (even to the same digest) raises a new event.
 */
export function caughtUp(results: readonly ContainerResult[]): Array<{host: string; name: string}> {
	return results.filter(result => result.verdict.status === 'up-to-date').map(result => ({host: result.host, name: result.name}));
}

/** The live view's count of `available` events raised in its session. */
export interface SessionAlerts {
	/** When the session began. */
	readonly since: Date;
	readonly count: number;
	/** The remote digest known for each container (`announcementKey`): announced, pending at start, or raised in the session. */
	readonly known: ReadonlyMap<string, string>;
}

/**
 * A session's alerts before its first scan: what the JSON file says was announced, and the pending
 * updates of the last run (shown at start, so not new), count as known.
 */
export function startSessionAlerts(since: Date, lastRun: readonly ContainerResult[] = [], announced: AnnouncedLookup = () => undefined): SessionAlerts {
	const known = new Map<string, string>();
	for (const result of lastRun) {
		const digest = announced(result.host, result.name)?.digest ?? (result.verdict.status === 'update-available' ? result.verdict.remoteDigest : undefined);
		if (digest !== undefined) {
			known.set(announcementKey(result.host, result.name), digest);
		}
	}

	return {since, count: 0, known};
}

/** Add what a scan's results raise to the session's count. */
export function sessionAlertsAfterScan(state: SessionAlerts, results: readonly ContainerResult[], now: Date): SessionAlerts {
	const lookup: AnnouncedLookup = (host, name) => {
		const digest = state.known.get(announcementKey(host, name));
		return digest === undefined ? undefined : {digest};
	};

	const events = raisedEvents(results, lookup, now);
	const known = new Map(state.known);
	for (const {host, name} of caughtUp(results)) {
		known.delete(announcementKey(host, name));
	}

	for (const event of events) {
		known.set(announcementKey(event.host, event.container.name), event.remoteDigest);
	}

	return {since: state.since, count: state.count + events.length, known};
}

/** The footer text: `2 new since 14:02` (local time), or null when nothing new was raised. */
export function sessionAlertsText(state: SessionAlerts): string | null {
	if (state.count === 0) {
		return null;
	}

	const pad = (value: number): string => String(value).padStart(2, '0');
	return `${state.count} new since ${pad(state.since.getHours())}:${pad(state.since.getMinutes())}`;
}
