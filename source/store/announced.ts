import {announcementKey} from '../core/alerts.ts';
import type {Announcement, Database} from './schema.ts';

/** What was announced for a container not seen by any scan for this long is forgotten. */
export const announcedRetentionMs = 30 * 24 * 60 * 60 * 1000;
/** Entries kept at most (the engine listings are sized for 50,000 containers); the least recently seen go first. */
export const announcedLimit = 50_000;

/** An update `serve` told someone about. */
export interface AnnouncedUpdate {
	readonly host: string;
	/** The container's (or service's) name. */
	readonly name: string;
	/** The remote digest announced. */
	readonly digest: string;
	/** The newer tag announced, when there was one. */
	readonly tag?: string | undefined;
}

export function lastAnnouncement(data: Database, host: string, name: string): Announcement | undefined {
	return Object.hasOwn(data.announced, announcementKey(host, name)) ? data.announced[announcementKey(host, name)] : undefined;
}

/** Whether this very update (digest, and tag when there is one) was the last announced for the container. */
export function isAnnounced(data: Database, update: AnnouncedUpdate): boolean {
	const last = lastAnnouncement(data, update.host, update.name);
	return last !== undefined && last.digest === update.digest && last.tag === update.tag;
}

export function recordAnnouncement(data: Database, update: AnnouncedUpdate, now: Date): void {
	const at = now.toISOString();
	data.announced[announcementKey(update.host, update.name)] = {digest: update.digest, ...(update.tag === undefined ? {} : {tag: update.tag}), at, seenAt: at};
	bound(data);
}

/** Forget what was announced for a container (it was updated): falling behind again is news again. */
export function forgetAnnouncement(data: Database, host: string, name: string): boolean {
	const key = announcementKey(host, name);
	if (!Object.hasOwn(data.announced, key)) {
		return false;
	}

	data.announced = Object.fromEntries(Object.entries(data.announced).filter(([existing]) => existing !== key));
	return true;
}

/**
 * After a full scan: the containers it saw are still there; entries for others not seen for 30 days
 * go, except on hosts the scan could not reach (their containers were not looked at).
 */
export function pruneAnnouncements(data: Database, seen: Iterable<{readonly host: string; readonly name: string}>, unreachableHosts: ReadonlySet<string>, now: Date): void {
	const seenAt = now.toISOString();
	for (const {host, name} of seen) {
		const key = announcementKey(host, name);
		const entry = data.announced[key];
		if (Object.hasOwn(data.announced, key) && entry !== undefined) {
			data.announced[key] = {...entry, seenAt};
		}
	}

	const oldest = now.getTime() - announcedRetentionMs;
	data.announced = Object.fromEntries(Object.entries(data.announced).filter(([key, entry]) => {
		const host = key.slice(0, key.indexOf('/'));
		return unreachableHosts.has(host) || Date.parse(entry.seenAt ?? entry.at) >= oldest;
	}));
	bound(data);
}

function bound(data: Database): void {
	const entries = Object.entries(data.announced);
	if (entries.length > announcedLimit) {
		entries.sort(([, a], [, b]) => (b.seenAt ?? b.at).localeCompare(a.seenAt ?? a.at));
		data.announced = Object.fromEntries(entries.slice(0, announcedLimit));
	}
}
