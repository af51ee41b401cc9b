import {resolve} from 'node:path';
import {Low} from 'lowdb';
import {StoreError} from '../core/errors.ts';
import type {ScanMemory} from '../core/ports.ts';
import {parseReference, type ImageReference} from '../core/reference.ts';
import {platformImageKey} from '../core/scanner.ts';
import {summarize, type ContainerResult, type HostReport, type Platform, type PlatformImage, type ScanReport} from '../core/types.ts';
import {pruneAnnouncements} from './announced.ts';
import {AtomicJsonFile} from './atomic-json-file.ts';
import {inQueue, withFileLock} from './lock.ts';
import {checkDatabase, emptyDatabase, LastResults, parseDatabase, type Database} from './schema.ts';

export {isAnnounced, lastAnnouncement, forgetAnnouncement, recordAnnouncement, type AnnouncedUpdate} from './announced.ts';
export {imageLabelsFor, rememberImageLabels} from './image-labels.ts';
export {isHostName, LastResults, schemaVersion, type Announcement, type Database, type RememberedImageLabels, type RememberedPlatformImage, type SavedHost} from './schema.ts';
export {JsonSettings, type AddHostResult, type NewHost} from './settings.ts';

/** Remembered platform resolutions kept at most; the oldest go first. */
const platformImageLimit = 2000;
/**
 * Rows of the last results kept in the file at most. Past it the last results are not kept: 50,000
 * rows made a 50 MB file that every pin read whole, and near the file's 64 MB cap. The live view then
 * shows rows once it has listed them, not from the last run.
 */
export const lastScanRowLimit = 5000;

export interface JsonStoreOptions {
	/**
	 * The name of the engine that pins and rows saved without a host (before updock knew several
	 * engines) belong to.
	 * @default 'local'
	 */
	readonly defaultHost?: string;
}

/**
 * Pins, exclusions, saved hosts and the last results in one lowdb JSON file. Every change runs in
 * this process's one queue for the file and under a cross-process lock, reads the file afresh,
 * applies itself and writes atomically: no writer, in this process or another, undoes another's edit.
 */
export class JsonStore {
	readonly path: string;
	readonly defaultHost: string;
	readonly #file: AtomicJsonFile<Database>;

	constructor(path: string, options: JsonStoreOptions = {}) {
		this.path = path;
		this.defaultHost = options.defaultHost ?? 'local';
		this.#file = new AtomicJsonFile<Database>(path, value => parseDatabase(value, path, this.defaultHost));
	}

	/**
	 * The file's contents (defaults when it does not exist yet). Never writes, never waits for the lock.
	 * While the file is unchanged every call returns the same value, frozen: change it with `update`.
	 */
	async load(): Promise<Database> {
		// A Low per call: a shared one's `data` would be swapped under a change by a load running beside it.
		const db = new Low<Database>(this.#file, emptyDatabase());
		await db.read();
		return db.data;
	}

	/**
	 * Read, change, write, holding the file's lock throughout. The change may throw to abandon the
	 * write; a change that would leave the file in a shape updock refuses is not written either.
	 */
	async update<T>(change: (data: Database) => T): Promise<T> {
		// Queued by the path as given, before anything is awaited, so changes apply in the order they were asked for.
		return inQueue(resolve(this.path), async () => withFileLock(await this.#file.target(), this.path, async stillHeld => {
			const db = new Low<Database>(this.#file, emptyDatabase());
			await db.read();
			const read = db.data;
			const data = editable(read);
			const result = change(data);
			const checked = checkDatabase(data, this.defaultHost, read);
			if (!checked.ok) {
				throw new StoreError(this.path, `This change would leave the updock database ${this.path} in a shape updock refuses (${checked.problem}), so it was not written.`);
			}

			db.data = checked.data;
			stillHeld();
			await db.write();
			return result;
		}));
	}
}

/**
 * A copy of a loaded (frozen) file that a change may edit: the top level and the lists and maps that
 * changes add to or remove from are new, their entries are shared and stay frozen (a change replaces
 * an entry, never edits one).
 */
function editable(data: Database): Database {
	return {
		...data,
		pins: [...data.pins],
		exclusions: [...data.exclusions],
		hosts: [...data.hosts],
		platformImages: {...data.platformImages},
		announced: {...data.announced},
		imageLabels: {...data.imageLabels},
	};
}

/**
 * The registries the last results name, each with its repositories: what the scanner asks tokens for
 * while it lists the engines (`ScannerOptions.expected`). Rows checked against no registry (pinned by
 * digest, excluded, unreadable references) count too: a token scope more costs nothing.
 */
export function lastScanRepositories(data: Database): ReadonlyMap<string, readonly string[]> {
	// Read from the rows as they are, without checking the rest of them: a reference that is not one is skipped below.
	const references = new Set(data.lastScan?.references());

	const byRegistry = new Map<string, Set<string>>();
	for (const text of references) {
		let reference: ImageReference;
		try {
			reference = parseReference(text);
		} catch {
			continue;
		}

		const repositories = byRegistry.get(reference.registry) ?? new Set<string>();
		repositories.add(reference.repository);
		byRegistry.set(reference.registry, repositories);
	}

	return new Map([...byRegistry].map(([registry, repositories]) => [registry, [...repositories]]));
}

/** What the scanner needs from a loaded file. */
export function scanMemory(data: Database): ScanMemory {
	return {
		pins: data.pins,
		exclusions: data.exclusions,
		platformImage(digest: string, platform: Platform) {
			const remembered = data.platformImages[platformImageKey(digest, platform)];
			return remembered === undefined ? undefined : {manifestDigest: remembered.manifestDigest, configDigest: remembered.configDigest};
		},
	};
}

/**
 * Record a scan's results and what it resolved, keeping the caches bounded. A partial scan (a few
 * containers) updates their rows in the last results. A full one also tells which containers are
 * still there, so what was announced for containers gone 30 days is forgotten.
 */
export function rememberScan(data: Database, report: ScanReport, learned: ReadonlyMap<string, PlatformImage>, now: Date, partial = false): void {
	if (partial) {
		// A few rows are no last results of their own: without the full ones (none yet, past the limit, or not valid) they are not kept.
		const last = data.lastScan?.report() ?? null;
		if (last === null) {
			rememberLearned(data, learned, now);
			return;
		}

		const updated = new Map(report.containers.map(result => [rowKey(result), result]));
		const kept = last.containers.map(result => updated.get(rowKey(result)) ?? result);
		const known = new Set(kept.map(result => rowKey(result)));
		const added = report.containers.filter(result => !known.has(rowKey(result)));
		const containers = [...kept, ...added];
		const hosts = new Map<string, HostReport>(last.hosts.map(host => [host.name, host]));
		for (const host of report.hosts) {
			hosts.set(host.name, host);
		}

		data.lastScan = keptResults({...last, hosts: [...hosts.values()], containers, summary: summarize(containers)});
	} else {
		data.lastScan = keptResults(report);
		const unreachable = new Set(report.hosts.filter(host => host.state === 'error').map(host => host.name));
		pruneAnnouncements(data, report.containers, unreachable, now);
	}

	rememberLearned(data, learned, now);
}

/** The results as the file keeps them: not at all past `lastScanRowLimit` rows. */
function keptResults(report: ScanReport): LastResults | null {
	return report.containers.length > lastScanRowLimit ? null : LastResults.made(report);
}

function rememberLearned(data: Database, learned: ReadonlyMap<string, PlatformImage>, now: Date): void {
	const seenAt = now.toISOString();
	for (const [key, image] of learned) {
		data.platformImages[key] = {...image, seenAt};
	}

	const entries = Object.entries(data.platformImages);
	if (entries.length > platformImageLimit) {
		entries.sort(([, a], [, b]) => b.seenAt.localeCompare(a.seenAt));
		data.platformImages = Object.fromEntries(entries.slice(0, platformImageLimit));
	}
}

// Ids are only unique on one engine, and a service and a container are different rows.
function rowKey(result: ContainerResult): string {
	return `${result.host}\u0000${result.kind}\u0000${result.id}`;
}
