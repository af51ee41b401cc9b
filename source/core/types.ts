/** The verdict of one scan for one container. */
export type ScanStatus = 'up-to-date' | 'update-available' | 'pinned' | 'excluded' | 'unknown' | 'error';

export const scanStatuses: readonly ScanStatus[] = ['update-available', 'error', 'up-to-date', 'unknown', 'pinned', 'excluded'];

/** An image platform as the engine and OCI indexes describe it. */
export interface Platform {
	readonly os: string;
	readonly architecture: string;
	readonly variant?: string | undefined;
}

/** What the engine says about insecure registries (`GET /info` → RegistryConfig). */
export interface InsecurePolicy {
	/** Registry names marked `Secure: false` in IndexConfigs (the daemon's `insecure-registries` names). */
	readonly registries: readonly string[];
	/** InsecureRegistryCIDRs, e.g. `127.0.0.0/8`, `10.0.0.0/8`. */
	readonly cidrs: readonly string[];
}

/** How the engine stores images, which decides what an image id is. */
export type ImageStore = 'classic' | 'containerd';

/** What the engine says about one container and the image it runs. */
export interface ContainerFacts {
	readonly id: string;
	/** Without the leading slash. */
	readonly name: string;
	/** The reference the container was created from (`Config.Image`): a name, `name@digest`, or an image id. */
	readonly image: string;
	/** The id of the image the container runs (`sha256:...`). */
	readonly imageId: string;
	/** running, exited, created, paused, restarting, removing, dead. */
	readonly state: string;
	/** The image's RepoDigests (`repo@sha256:...`), empty for local builds and imports. */
	readonly repoDigests: readonly string[];
	/** Whether the image the container runs is still in the engine. */
	readonly imagePresent: boolean;
	/** The image's platform when already known; the scanner asks the engine when it needs it. */
	readonly platform: Platform | null;
}

/** The outcome for one container. A failure is data here, never an exception. */
export type Verdict =
	| {readonly status: 'up-to-date'; readonly localDigest: string; readonly remoteDigest: string}
	| {readonly status: 'update-available'; readonly localDigest: string; readonly remoteDigest: string}
	| {readonly status: 'pinned'; readonly reason: string; readonly localDigest: string | null}
	| {readonly status: 'excluded'; readonly reason: string}
	| {readonly status: 'unknown'; readonly reason: string}
	| {readonly status: 'error'; readonly error: string; readonly localDigest: string | null};

/** One row of a scan: the container and its verdict. */
export interface ContainerResult {
	readonly id: string;
	readonly name: string;
	readonly image: string;
	readonly state: string;
	readonly imageId: string;
	readonly platform: Platform | null;
	/** Canonical `registry/repository:tag`, null when the reference could not be read or is an id. */
	readonly reference: string | null;
	readonly verdict: Verdict;
}

export interface ScanSummary {
	readonly total: number;
	readonly upToDate: number;
	readonly updateAvailable: number;
	readonly pinned: number;
	readonly excluded: number;
	readonly unknown: number;
	readonly error: number;
}

/** A registry's pull budget as its `ratelimit-*` headers last told it (Docker Hub: `100;w=21600`). */
export interface RateLimit {
	readonly registry: string;
	readonly limit: number;
	readonly remaining: number;
	/** The window in seconds, when given. */
	readonly windowSeconds: number | null;
}

export interface ScanReport {
	readonly scannedAt: string;
	readonly durationMs: number;
	readonly containers: readonly ContainerResult[];
	readonly summary: ScanSummary;
	/** Pull budgets registries reported during the scan. */
	readonly rateLimits?: readonly RateLimit[];
}

/** What the registry holds now for a tag: the HEAD answer. */
export interface RemoteTag {
	/** The digest of the manifest or index the tag points to. */
	readonly digest: string;
	readonly mediaType: string;
}

/** The image a remote manifest or index gives for one platform. */
export interface PlatformImage {
	/** The digest of the platform's image manifest (the child of an index, or the manifest itself). */
	readonly manifestDigest: string;
	/** The digest of that manifest's config blob: the image id in the classic image store. */
	readonly configDigest: string;
}

/** A container the user pinned, by name so it survives being recreated. */
export interface Pin {
	readonly name: string;
	readonly containerId: string;
	readonly pinnedAt: string;
}

/** An image pattern never checked. */
export interface Exclusion {
	readonly id: number;
	readonly pattern: string;
	readonly createdAt: string;
}

export function summarize(results: readonly ContainerResult[]): ScanSummary {
	const count = (status: ScanStatus): number => results.filter(result => result.verdict.status === status).length;
	return {
		total: results.length,
		upToDate: count('up-to-date'),
		updateAvailable: count('update-available'),
		pinned: count('pinned'),
		excluded: count('excluded'),
		unknown: count('unknown'),
		error: count('error'),
	};
}

export function formatPlatform(platform: Platform): string {
	return platform.variant ? `${platform.os}/${platform.architecture}/${platform.variant}` : `${platform.os}/${platform.architecture}`;
}
