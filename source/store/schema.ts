import {z} from 'zod';
import {StoreError} from '../core/errors.ts';
import {validatePattern} from '../core/exclusions.ts';
import {summarize, type ContainerResult, type Exclusion, type Pin, type PlatformImage, type ScanReport} from '../core/types.ts';
import {deepFreeze} from './atomic-json-file.ts';

/** The file's schema version. A file with a larger one was written by a newer updock and is refused. */
export const schemaVersion = 1;

/** A platform resolution remembered so a pending update costs no manifest GET next time. */
export interface RememberedPlatformImage extends PlatformImage {
	readonly seenAt: string;
}

/** An engine saved with `updock host add`. */
export interface SavedHost {
	/** Unique; no `/` or white space, as it prefixes container names (`prod/web`). */
	readonly name: string;
	/** As in DOCKER_HOST: `unix://...`, `tcp://...`, `ssh://...`. */
	readonly address: string;
	/** @default false */
	readonly tlsVerify?: boolean | undefined;
	/** Directory holding ca.pem, cert.pem and key.pem. */
	readonly certPath?: string | undefined;
	readonly addedAt: string;
}

/** What `serve` last announced as available for one container (keyed `host/name`). */
export interface Announcement {
	/** The remote digest announced. */
	readonly digest: string;
	/** The newer tag announced, when the announcement was about one. */
	readonly tag?: string | undefined;
	/** When it was announced. */
	readonly at: string;
	/** When a scan last saw the container; entries not seen for 30 days go. Absent means `at`. */
	readonly seenAt?: string | undefined;
}

/** An image config's labels, remembered by the config's digest (a digest's labels never change). */
export interface RememberedImageLabels {
	readonly labels: Readonly<Record<string, string>>;
	readonly seenAt: string;
}

/**
 * The JSON file's shape. The user's data (pins, exclusions, hosts) is validated strictly: a file
 * whose user data is wrong is refused and never written. The caches (lastScan, platformImages,
 * announced, imageLabels) are validated too (lastScan when first asked for, see `LastResults`), but an
 * entry that fails is only left out of what is read, and so dropped at the next write. Unknown
 * top-level keys are kept as they are.
 */
export interface Database {
	version: number;
	pins: Pin[];
	exclusions: Exclusion[];
	nextExclusionId: number;
	hosts: SavedHost[];
	lastScan: LastResults | null;
	platformImages: Record<string, RememberedPlatformImage>;
	announced: Record<string, Announcement>;
	imageLabels: Record<string, RememberedImageLabels>;
	[key: string]: unknown;
}

export function emptyDatabase(): Database {
	return {version: schemaVersion, pins: [], exclusions: [], nextExclusionId: 1, hosts: [], lastScan: null, platformImages: {}, announced: {}, imageLabels: {}};
}

// Every schema of the user's data carries its `error` text: it completes "X is not ..." and "X is missing (expected ...)".
const isoDate = z.iso.datetime({offset: true, error: 'an ISO date'});
const text = z.string({error: 'a string'});
const nonEmptyText = z.string({error: 'a non-empty string'}).min(1, {error: 'a non-empty string'});
const positiveId = z.int({error: 'a whole number from 1'}).min(1, {error: 'a whole number from 1'});
const hostNamePattern = /^[^/\s\p{C}]+$/u;
const hostName = z.string({error: 'a host name'}).regex(hostNamePattern, {error: 'a host name (not empty; no "/", spaces or control characters)'});

const pinSchema = z.looseObject({
	host: hostName.optional(),
	name: nonEmptyText,
	containerId: text,
	pinnedAt: isoDate,
}, {error: 'a pin ({name, containerId, pinnedAt})'});

const exclusionSchema = z.looseObject({
	id: positiveId,
	pattern: text.refine(isPattern, {error: 'an image pattern'}),
	createdAt: isoDate,
}, {error: 'an exclusion ({id, pattern, createdAt})'});

const hostSchema = z.looseObject({
	name: hostName,
	address: nonEmptyText,
	tlsVerify: z.boolean({error: 'true or false'}).optional(),
	certPath: nonEmptyText.optional(),
	addedAt: isoDate,
}, {error: 'a saved host ({name, address, addedAt})'});

const userDataSchema = z.looseObject({
	pins: z.array(pinSchema, {error: 'a list of pins'}).optional(),
	exclusions: z.array(exclusionSchema, {error: 'a list of exclusions'}).optional(),
	nextExclusionId: positiveId.optional(),
	hosts: z.array(hostSchema, {error: 'a list of saved hosts'}).optional(),
}).superRefine((data, context) => {
	const firstWith = new Map<unknown, number>();
	for (const [index, exclusion] of (data.exclusions ?? []).entries()) {
		const first = firstWith.get(exclusion.id);
		if (first === undefined) {
			firstWith.set(exclusion.id, index);
		} else {
			context.addIssue({code: 'custom', path: ['exclusions', index, 'id'], message: `is ${exclusion.id}, as exclusions[${first}].id is (ids must be unique)`, params: {sentence: true}});
		}
	}

	const firstNamed = new Map<string, number>();
	for (const [index, host] of (data.hosts ?? []).entries()) {
		const first = firstNamed.get(host.name);
		if (first === undefined) {
			firstNamed.set(host.name, index);
		} else {
			context.addIssue({code: 'custom', path: ['hosts', index, 'name'], message: `is "${host.name}", as hosts[${first}].name is (names must be unique)`, params: {sentence: true}});
		}
	}
});

function isPattern(pattern: string): boolean {
	try {
		return validatePattern(pattern) === pattern;
	} catch {
		return false;
	}
}

// The caches: looser (extra fields kept for the updock that wrote them), and rows written before
// updock knew several engines get the defaults they meant. An enrichment field that does not
// validate is left out, as if its step had not run; a row or report that does not, drops the report.
const platformSchema = z.looseObject({os: z.string(), architecture: z.string(), variant: z.string().optional()});
const verdictSchema = z.discriminatedUnion('status', [
	z.looseObject({status: z.literal('up-to-date'), localDigest: z.string(), remoteDigest: z.string()}),
	z.looseObject({status: z.literal('update-available'), localDigest: z.string(), remoteDigest: z.string()}),
	z.looseObject({status: z.literal('pinned'), reason: z.string(), localDigest: z.string().nullable()}),
	z.looseObject({status: z.literal('excluded'), reason: z.string()}),
	z.looseObject({status: z.literal('unknown'), reason: z.string()}),
	z.looseObject({status: z.literal('error'), error: z.string(), localDigest: z.string().nullable()}),
]);
const count = z.int().min(0);
const severity = z.enum(['critical', 'high', 'medium', 'low', 'unknown']);
const vulnerabilityCountsSchema = z.looseObject({critical: count, high: count, medium: count, low: count, unknown: count, ids: z.array(z.string())});
const droppedWhenInvalid = <T extends z.ZodType>(schema: T) => schema.optional().catch(undefined);

function rowShape(defaultHost: string) {
	return {
		host: z.string().min(1).default(defaultHost),
		kind: z.enum(['container', 'service']).default('container'),
		service: z.looseObject({mode: z.string(), replicas: count.nullable(), tasks: z.array(z.string())}).nullable().default(null),
		id: z.string(),
		name: z.string(),
		image: z.string(),
		state: z.string(),
		imageId: z.string(),
		platform: platformSchema.nullable(),
		reference: z.string().nullable(),
		verdict: verdictSchema,
		targetImage: droppedWhenInvalid(z.looseObject({manifestDigest: z.string(), configDigest: z.string()}).nullable()),
		newer: droppedWhenInvalid(z.array(z.looseObject({tag: z.string(), type: z.enum(['patch', 'minor', 'major'])})).nullable()),
		newerError: droppedWhenInvalid(z.string().nullable()),
		links: droppedWhenInvalid(z.looseObject({
			source: z.string().nullable(),
			revision: z.string().nullable(),
			targetRevision: z.string().nullable(),
			changes: z.string().nullable(),
			release: z.string().nullable(),
		}).nullable()),
		vulnerabilities: droppedWhenInvalid(z.looseObject({
			source: z.enum(['sbom', 'container']),
			current: vulnerabilityCountsSchema,
			target: vulnerabilityCountsSchema.nullable(),
			fixed: z.array(z.string()).nullable(),
		}).nullable()),
		vulnerabilitiesError: droppedWhenInvalid(z.string().nullable()),
		risk: droppedWhenInvalid(z.looseObject({score: z.number().min(0).max(100), level: z.enum(['none', 'low', 'medium', 'high', 'critical'])}).nullable()),
		topVulnerabilities: droppedWhenInvalid(z.array(z.looseObject({id: z.string(), severity, summary: z.string().nullable()}))),
	// Every field of a row, no more: a field added to ContainerResult fails to compile here until it is validated.
	} satisfies Record<keyof ContainerResult, z.ZodType>;
}

function scanReportSchema(defaultHost: string) {
	return z.looseObject({
		scannedAt: isoDate,
		hosts: z.array(z.looseObject({
			name: z.string(),
			address: z.string(),
			state: z.enum(['ok', 'error']),
			error: z.string().nullable(),
			total: count,
		})).default([]),
		durationMs: z.number().min(0),
		containers: z.array(z.looseObject(rowShape(defaultHost))),
		// Counted again from the rows on reading: it can only disagree with them by being wrong.
		summary: z.unknown(),
		rateLimits: droppedWhenInvalid(z.array(z.looseObject({registry: z.string(), limit: z.number(), remaining: z.number(), windowSeconds: z.number().nullable()}))),
	} satisfies Record<keyof ScanReport, z.ZodType>);
}

/**
 * The last results as the file holds them, checked the first time they are asked for (`report()`),
 * not when the file is read: `--once` replaces them whole and needs only the image references they
 * name (`references()`), and checking 1,800 rows took about 45 ms before its first request. Results
 * this process's scanner made are typed from the start and never checked (checking 2,000 rows at
 * every scan of the live view was a tenth of what it allocated). Written as checked: results that do
 * not validate are dropped at the next write, as every cache entry that fails.
 */
export class LastResults {
	readonly #raw: unknown;
	readonly #defaultHost: string;
	#report: ScanReport | null | undefined;

	private constructor(raw: unknown, defaultHost: string, report: ScanReport | undefined) {
		this.#raw = raw;
		this.#defaultHost = defaultHost;
		this.#report = report;
	}

	/** Results this process's scanner made; frozen from here, as what is read from the file is. */
	static made(report: ScanReport): LastResults {
		return new LastResults(report, '', deepFreeze(report));
	}

	/** Results as read from the file; null for none (or for anything but an object, which never validates). */
	static read(raw: unknown, defaultHost: string): LastResults | null {
		return isRecord(raw) ? new LastResults(raw, defaultHost, undefined) : null;
	}

	/** The results, checked, with the summary counted again from the rows; null when they do not validate. */
	report(): ScanReport | null {
		if (this.#report === undefined) {
			const parsed = scanReportSchema(this.#defaultHost).safeParse(this.#raw);
			// Frozen, as everything read from the file is: a change replaces the results, never edits them.
			this.#report = parsed.success ? deepFreeze({...parsed.data, summary: summarize(parsed.data.containers)}) : null;
		}

		return this.#report;
	}

	/** The image references the rows name (a row's `reference` when it is a string), the rest unchecked. */
	references(): string[] {
		const containers = this.#report === undefined ? (isRecord(this.#raw) ? this.#raw['containers'] : undefined) : this.#report?.containers;
		const references: string[] = [];
		for (const row of Array.isArray(containers) ? containers : []) {
			const reference: unknown = isRecord(row) ? row['reference'] : undefined;
			if (typeof reference === 'string') {
				references.push(reference);
			}
		}

		return references;
	}

	toJSON(): ScanReport | null {
		return this.report();
	}
}

const platformImageSchema = z.looseObject({manifestDigest: z.string(), configDigest: z.string(), seenAt: isoDate});
const announcementSchema = z.looseObject({digest: z.string().min(1), tag: z.string().optional(), at: isoDate, seenAt: isoDate.optional()});
const imageLabelsSchema = z.looseObject({labels: z.record(z.string(), z.string()), seenAt: isoDate});

/** A parsed file checked: its data with defaults, or the first problem found. */
export type CheckedDatabase =
	| {readonly ok: true; readonly data: Database}
	| {readonly ok: false; readonly problem: string; readonly newerVersion?: number};

/**
 * Check a parsed file and give it its defaults. The problem names the first field at fault
 * (`pins[3].pinnedAt is missing (expected an ISO date)`).
 * @param defaultHost the host name that rows written before updock knew several engines belong to.
 * @param checked the file this value was made from, already checked: its parts found unchanged (the
 * same objects) are not checked again.
 */
export function checkDatabase(value: unknown, defaultHost: string, checked?: Database): CheckedDatabase {
	if (!isRecord(value)) {
		return {ok: false, problem: 'the top level is not an object'};
	}

	// Before anything else: a newer updock may have changed any other part of the shape.
	const version = value['version'] ?? schemaVersion;
	if (typeof version !== 'number' || !Number.isSafeInteger(version) || version < 1) {
		return {ok: false, problem: 'version is not a whole number from 1'};
	}

	if (version > schemaVersion) {
		return {ok: false, problem: `version is ${version}`, newerVersion: version};
	}

	const parsed = userDataSchema.safeParse(value);
	if (!parsed.success) {
		const [issue] = parsed.error.issues;
		return {ok: false, problem: issue === undefined ? 'it does not validate' : describeIssue(issue, value)};
	}

	const {pins = [], exclusions = [], hosts = [], nextExclusionId} = parsed.data;
	const largestId = Math.max(0, ...exclusions.map(exclusion => exclusion.id));

	return {ok: true, data: {
		...value,
		version: schemaVersion,
		pins,
		exclusions,
		hosts,
		nextExclusionId: Math.max(nextExclusionId ?? 1, largestId + 1),
		lastScan: value['lastScan'] instanceof LastResults ? value['lastScan'] : LastResults.read(value['lastScan'], defaultHost),
		platformImages: validEntries<RememberedPlatformImage>(value['platformImages'], platformImageSchema, checked?.platformImages),
		announced: validEntries<Announcement>(value['announced'], announcementSchema, checked?.announced),
		imageLabels: validEntries<RememberedImageLabels>(value['imageLabels'], imageLabelsSchema, checked?.imageLabels),
	}};
}

/**
 * Check a file as read.
 * @throws StoreError naming the file and the field at fault, or saying a newer updock wrote it.
 */
export function parseDatabase(value: unknown, path: string, defaultHost: string): Database {
	const checked = checkDatabase(value, defaultHost);
	if (checked.ok) {
		return checked.data;
	}

	if (checked.newerVersion !== undefined) {
		throw new StoreError(path, `The updock database ${path} was written by a newer updock (schema ${checked.newerVersion}; this one reads ${schemaVersion}). Upgrade updock; the file has not been changed.`);
	}

	throw new StoreError(path, `The updock database ${path} is not in the expected shape: ${checked.problem}. Fix or move it; updock has not changed it.`);
}

/** Whether a name can name a saved host: it prefixes container names (`prod/web`), so no `/` or spaces. */
export function isHostName(name: string): boolean {
	return hostNamePattern.test(name);
}

/**
 * A cache's entries that validate; the others are left out (and so dropped at the next write).
 * @param checked the same cache as checked before: its entries found unchanged (the same objects) are kept as they are.
 */
function validEntries<T>(value: unknown, schema: z.ZodType<T>, checked?: Readonly<Record<string, T>>): Record<string, T> {
	if (!isRecord(value)) {
		return {};
	}

	// fromEntries defines own properties, so a key such as "__proto__" stays a plain key.
	return Object.fromEntries(Object.entries(value).flatMap(([key, entry]) => {
		const known = checked !== undefined && Object.hasOwn(checked, key) ? checked[key] : undefined;
		if (known !== undefined && known === entry) {
			return [[key, known] as const];
		}

		const parsed = schema.safeParse(entry);
		return parsed.success ? [[key, parsed.data] as const] : [];
	}));
}

function describeIssue(issue: z.core.$ZodIssue, root: Record<string, unknown>): string {
	const where = issue.path.map((segment, index) => typeof segment === 'number' ? `[${segment}]` : index === 0 ? String(segment) : `.${String(segment)}`).join('');
	// The checks across entries say what is wrong in full; every other message names what was expected.
	if (issue.code === 'custom' && issue.params?.['sentence'] === true) {
		return `${where} ${issue.message}`;
	}

	let current: unknown = root;
	for (const segment of issue.path) {
		if (Array.isArray(current) && typeof segment === 'number') {
			current = current[segment];
		} else {
			current = isRecord(current) && typeof segment === 'string' ? current[segment] : undefined;
		}
	}

	return current === undefined ? `${where} is missing (expected ${issue.message})` : `${where} is not ${issue.message}`;
}

function isRecord(value: unknown): value is Record<string, unknown> {
	return typeof value === 'object' && value !== null && !Array.isArray(value);
}
