import type {ContainerResult, ImageLinks, NewerVersion, Risk, Vulnerabilities} from './types.ts';

/**
 * What was last announced for a container: the digest its tag pointed at then, and the newest newer
 * version offered then, when there was one.
 */
export interface LastAnnounced {
	readonly digest: string;
	readonly tag?: string | undefined;
}

/** What was last announced for the container `name` on `host`, as the JSON file remembers it. */
export type AnnouncedLookup = (host: string, name: string) => LastAnnounced | undefined;

/**
 * Something new to move to for a container: raised once per container and new remote digest of its
 * tag, and once per newest newer version. The enrichment fields are as `--once --json` has them.
 */
export interface AvailableEvent {
	readonly event: 'available';
	readonly severity: 'info';
	readonly host: string;
	readonly container: {readonly id: string; readonly name: string; readonly image: string};
	/** The container's status as `--once --json` has it: `up-to-date` when only a newer version is new. */
	readonly status: 'update-available' | 'up-to-date';
	readonly localDigest: string;
	/** The digest the container's tag points at now. */
	readonly remoteDigest: string;
	/** Newer versions of the tag, ascending; null when not known. */
	readonly newer: readonly NewerVersion[] | null;
	readonly links: ImageLinks | null;
	/** With --vulns on: known vulnerabilities now and after the update; null when not known. */
	readonly vulnerabilities: Vulnerabilities | null;
	readonly risk: Risk | null;
	/** When a scan first saw this for the container (ISO). */
	readonly detectedAt: string;
}

/** The key of a container in the JSON file's `announced` map and the live view's memory: `host/name`, so it survives re-creation. */
export function announcementKey(host: string, name: string): string {
	return `${host}/${name}`;
}

/** The key of the event itself: container, digest, and the newest newer version when there is one. */
export function eventKey(event: AvailableEvent): string {
	const tag = newestTag(event.newer);
	return `${announcementKey(event.host, event.container.name)}@${event.remoteDigest}${tag === undefined ? '' : `:${tag}`}`;
}

/** The newest of the newer versions (they come ascending), if any. */
function newestTag(newer: readonly NewerVersion[] | null | undefined): string | undefined {
	return newer?.at(-1)?.tag;
}

/**
 * What to remember once an update was announced: its digest, and its newest newer version; when the
 * newer versions were not known this time (a listing failed), the version announced before is kept,
 * so it is not announced again once the listing works.
 */
export function announcementAfter(update: Pick<AvailableEvent, 'remoteDigest' | 'newer'>, last: LastAnnounced | undefined): LastAnnounced {
	const tag = newestTag(update.newer) ?? (update.newer === null ? last?.tag : undefined);
	return tag === undefined ? {digest: update.remoteDigest} : {digest: update.remoteDigest, tag};
}

/**
 * What a row could announce: its tag's new digest (`behind`) and its newest newer version. Only rows
 * whose tag was checked: pinned and excluded rows have neither, and a failed check has no digests to
 * tell.
 */
function announceable(result: ContainerResult): {status: AvailableEvent['status']; localDigest: string; remoteDigest: string; behind: boolean; tag: string | undefined} | undefined {
	const {verdict} = result;
	if (verdict.status !== 'update-available' && verdict.status !== 'up-to-date') {
		return undefined;
	}

	const behind = verdict.status === 'update-available';
	const tag = newestTag(result.newer);
	return behind || tag !== undefined ? {status: verdict.status, localDigest: verdict.localDigest, remoteDigest: verdict.remoteDigest, behind, tag} : undefined;
}

/**
 * The `available` events a scan's results raise: containers whose tag moved to a remote digest not
 * announced for them yet, or that have a newest newer version not announced yet. Pinned and excluded
 * containers are neither `update-available` nor have newer versions, so they raise nothing.
 * @param firstSeen when an event with this `eventKey` was first detected, for events raised again
 * after every delivery of them failed; defaults to `now`.
 */
export function raisedEvents(results: readonly ContainerResult[], announced: AnnouncedLookup, now: Date, firstSeen: (key: string) => string | undefined = () => undefined): AvailableEvent[] {
	const events: AvailableEvent[] = [];
	for (const result of results) {
		const news = announceable(result);
		if (news === undefined) {
			continue;
		}

		const last = announced(result.host, result.name);
		const newDigest = news.behind && news.remoteDigest !== last?.digest;
		const newTag = news.tag !== undefined && news.tag !== last?.tag;
		if (!newDigest && !newTag) {
			continue;
		}

		const event: AvailableEvent = {
			event: 'available',
			severity: 'info',
			host: result.host,
			container: {id: result.id, name: result.name, image: result.image},
			status: news.status,
			localDigest: news.localDigest,
			remoteDigest: news.remoteDigest,
			newer: result.newer ?? null,
			links: result.links ?? null,
			vulnerabilities: result.vulnerabilities ?? null,
			risk: result.risk ?? null,
			detectedAt: now.toISOString(),
		};
		events.push({...event, detectedAt: firstSeen(eventKey(event)) ?? event.detectedAt});
	}

	return events;
}

/**
 * Containers a scan found up to date with nothing newer to move to: what was announced for them is
 * forgotten, so falling behind again later (even to the same digest) raises a new event. One still
 * offered a newer version keeps its memory (else that version would be announced again), and so
 * does one whose newer versions could not be listed this time. The file keeps one digest per
 * container, so such a container that later falls behind to the very digest announced before is
 * not announced again; a digest it was not told of is.
 */
export function caughtUp(results: readonly ContainerResult[]): Array<{host: string; name: string}> {
	return results
		.filter(result => result.verdict.status === 'up-to-date' && (result.newer?.length ?? 0) === 0 && !(result.newer === null && typeof result.newerError === 'string'))
		.map(result => ({host: result.host, name: result.name}));
}

/** The live view's count of `available` events raised in its session. */
export interface SessionAlerts {
	/** When the session began. */
	readonly since: Date;
	readonly count: number;
	/** What is known for each container (`announcementKey`): announced, pending at start, or raised in the session. */
	readonly known: ReadonlyMap<string, LastAnnounced>;
}

/**
 * A session's alerts before its first scan: what the JSON file says was announced, and the pending
 * updates and newer versions of the last run (shown at start, so not new), count as known.
 */
export function startSessionAlerts(since: Date, lastRun: readonly ContainerResult[] = [], announced: AnnouncedLookup = () => undefined): SessionAlerts {
	const known = new Map<string, LastAnnounced>();
	for (const result of lastRun) {
		const last = announced(result.host, result.name);
		const pending = announceable(result);
		const entry = pending === undefined ? last : announcementAfter({remoteDigest: pending.remoteDigest, newer: result.newer ?? null}, last);
		if (entry !== undefined) {
			known.set(announcementKey(result.host, result.name), entry);
		}
	}

	return {since, count: 0, known};
}

/** Add what a scan's results raise to the session's count. */
export function sessionAlertsAfterScan(state: SessionAlerts, results: readonly ContainerResult[], now: Date): SessionAlerts {
	const events = raisedEvents(results, (host, name) => state.known.get(announcementKey(host, name)), now);
	const known = new Map(state.known);
	for (const {host, name} of caughtUp(results)) {
		known.delete(announcementKey(host, name));
	}

	for (const event of events) {
		const key = announcementKey(event.host, event.container.name);
		known.set(key, announcementAfter(event, known.get(key)));
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
