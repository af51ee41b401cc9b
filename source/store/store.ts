import {Low} from 'lowdb';
import {StoreError} from '../core/errors.ts';
import type {ScanMemory, SettingsStore} from '../core/ports.ts';
import {platformImageKey} from '../core/scanner.ts';
import {summarize, type Exclusion, type Pin, type Platform, type PlatformImage, type ScanReport} from '../core/types.ts';
import {AtomicJsonFile} from './atomic-json-file.ts';

export const schemaVersion = 1;
/** Remembered platform resolutions kept at most; the oldest go first. */
const platformImageLimit = 2000;

export interface RememberedPlatformImage extends PlatformImage {
	readonly seenAt: string;
}

/** The JSON file's shape. Unknown top-level keys are kept as they are. */
export interface Database {
	version: number;
	pins: Pin[];
	exclusions: Exclusion[];
	nextExclusionId: number;
	lastScan: ScanReport | null;
	platformImages: Record<string, RememberedPlatformImage>;
	[key: string]: unknown;
}

function emptyDatabase(): Database {
	return {version: schemaVersion, pins: [], exclusions: [], nextExclusionId: 1, lastScan: null, platformImages: {}};
}

/**
 * Pins, exclusions and the last results in one lowdb JSON file. Every change reads the file afresh,
 * applies itself and writes atomically, so two updock processes do not undo each other's edits.
 */
export class JsonStore {
	readonly path: string;
	readonly #db: Low<Database>;

	constructor(path: string) {
		this.path = path;
		this.#db = new Low<Database>(new AtomicJsonFile<Database>(path), emptyDatabase());
	}

	/** The file's contents (defaults when it does not exist yet). Never writes. */
	async load(): Promise<Database> {
		await this.#db.read();
		this.#db.data = validate(this.#db.data, this.path);
		return this.#db.data;
	}

	/** Read, change, write. The change may throw to abandon the write. */
	async update<T>(change: (data: Database) => T): Promise<T> {
		const data = await this.load();
		const result = change(data);
		await this.#db.write();
		return result;
	}
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
 * Record a scan's results and what it resolved, keeping the cache bounded. A partial scan (a few
 * containers) updates their rows in the last results.
 */
export function rememberScan(data: Database, report: ScanReport, learned: ReadonlyMap<string, PlatformImage>, now: Date, partial = false): void {
	if (partial && data.lastScan !== null) {
		const updated = new Map(report.containers.map(result => [result.id, result]));
		const kept = data.lastScan.containers.map(result => updated.get(result.id) ?? result);
		const added = report.containers.filter(result => !data.lastScan!.containers.some(existing => existing.id === result.id));
		const containers = [...kept, ...added];
		data.lastScan = {...data.lastScan, containers, summary: summarize(containers)};
	} else {
		data.lastScan = report;
	}

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

function validate(value: unknown, path: string): Database {
	const fail = (what: string): never => {
		throw new StoreError(path, `The updock database ${path} is not in the expected shape: ${what}. Fix or move it; updock has not changed it.`);
	};

	if (typeof value !== 'object' || value === null || Array.isArray(value)) {
		return fail('the top level is not an object');
	}

	const record = value as Record<string, unknown>;
	const version = record['version'] ?? schemaVersion;
	if (typeof version !== 'number' || !Number.isInteger(version) || version < 1) {
		return fail('"version" is not a positive whole number');
	}

	if (version > schemaVersion) {
		throw new StoreError(path, `The updock database ${path} was written by a newer updock (schema ${version}; this one reads ${schemaVersion}). Upgrade updock; the file has not been changed.`);
	}

	const pins = record['pins'] ?? [];
	if (!Array.isArray(pins) || !pins.every(pin => isObject(pin) && typeof pin['name'] === 'string')) {
		return fail('"pins" is not a list of {name, containerId, pinnedAt}');
	}

	const exclusions = record['exclusions'] ?? [];
	if (!Array.isArray(exclusions) || !exclusions.every(exclusion => isObject(exclusion) && typeof exclusion['pattern'] === 'string' && typeof exclusion['id'] === 'number')) {
		return fail('"exclusions" is not a list of {id, pattern, createdAt}');
	}

	const largestId = Math.max(0, ...exclusions.map(exclusion => (exclusion as Exclusion).id));
	const nextExclusionId = record['nextExclusionId'] ?? largestId + 1;
	if (typeof nextExclusionId !== 'number' || !Number.isInteger(nextExclusionId)) {
		return fail('"nextExclusionId" is not a whole number');
	}

	const platformImages = record['platformImages'] ?? {};
	if (!isObject(platformImages)) {
		return fail('"platformImages" is not an object');
	}

	const lastScan = record['lastScan'] ?? null;
	if (lastScan !== null && !(isObject(lastScan) && Array.isArray(lastScan['containers']))) {
		return fail('"lastScan" is not a scan report');
	}

	return {
		...record,
		version: schemaVersion,
		pins: pins as Pin[],
		exclusions: exclusions as Exclusion[],
		nextExclusionId: Math.max(nextExclusionId, largestId + 1),
		lastScan: lastScan as ScanReport | null,
		platformImages: platformImages as Record<string, RememberedPlatformImage>,
	};
}

function isObject(value: unknown): value is Record<string, unknown> {
	return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Pins and exclusions for the live view, each change written at once. */
export class JsonSettings implements SettingsStore {
	readonly #store: JsonStore;

	constructor(store: JsonStore) {
		this.#store = store;
	}

	async load(): Promise<{pins: Pin[]; exclusions: Exclusion[]}> {
		const {pins, exclusions} = await this.#store.load();
		return {pins, exclusions};
	}

	async pin(name: string, containerId: string): Promise<boolean> {
		return this.#store.update(data => {
			if (data.pins.some(pin => pin.name === name)) {
				return false;
			}

			data.pins.push({name, containerId, pinnedAt: new Date().toISOString()});
			return true;
		});
	}

	async unpin(name: string): Promise<boolean> {
		return this.#store.update(data => {
			const before = data.pins.length;
			data.pins = data.pins.filter(pin => pin.name !== name);
			return data.pins.length !== before;
		});
	}

	async addExclusion(pattern: string): Promise<{exclusion: Exclusion; added: boolean}> {
		return this.#store.update(data => {
			const existing = data.exclusions.find(exclusion => exclusion.pattern === pattern);
			if (existing !== undefined) {
				return {exclusion: existing, added: false};
			}

			const exclusion = {id: data.nextExclusionId++, pattern, createdAt: new Date().toISOString()};
			data.exclusions.push(exclusion);
			return {exclusion, added: true};
		});
	}

	async removeExclusion(id: number): Promise<Exclusion | undefined> {
		return this.#store.update(data => {
			const index = data.exclusions.findIndex(exclusion => exclusion.id === id);
			return index === -1 ? undefined : data.exclusions.splice(index, 1)[0];
		});
	}
}
