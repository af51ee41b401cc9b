/** The verdict of one scan for one container. */
export type ScanStatus = 'up-to-date' | 'update-available' | 'pinned' | 'excluded' | 'unknown' | 'error';

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

/** A row is a container, or a Swarm service (whose task containers are listed under it, not as rows). */
export type WorkloadKind = 'container' | 'service';

/** What a Swarm manager says about a service, beyond its image. */
export interface ServiceInfo {
	/** `replicated`, `global`, `replicated-job`, `global-job`. */
	readonly mode: string;
	/** Desired replicas for replicated services; null for global ones. */
	readonly replicas: number | null;
	/** Ids of this service's task containers on the engine that was asked (they are not rows of their own). */
	readonly tasks: readonly string[];
}

/** What the engine says about one container (or Swarm service) and the image it runs. */
export interface ContainerFacts {
	/** The name of the engine it runs on: a `--host`/saved name, a context name, or `local`. */
	readonly host: string;
	readonly kind: WorkloadKind;
	/** Container or service labels (`updock.enable`, `updock.tags.*`, ...). */
	readonly labels: Readonly<Record<string, string>>;
	/** For a service: its mode, replicas and task containers; null for a container. */
	readonly service: ServiceInfo | null;
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

/** How big a jump a newer version is. */
export type VersionKind = 'patch' | 'minor' | 'major';

/** A newer version of the container's tag that it could move to without changing anything else. */
export interface NewerVersion {
	readonly tag: string;
	readonly type: VersionKind;
}

/** Where to read what changed, from the images' OCI labels; each null when not known. */
export interface ImageLinks {
	readonly source: string | null;
	readonly revision: string | null;
	readonly targetRevision: string | null;
	/** A compare URL between the running and the target revision. */
	readonly changes: string | null;
	/** The release page of the target version. */
	readonly release: string | null;
}

/** Known vulnerabilities of one package set, by severity. */
export interface VulnerabilityCounts {
	readonly critical: number;
	readonly high: number;
	readonly medium: number;
	readonly low: number;
	readonly unknown: number;
	readonly ids: readonly string[];
}

export interface Vulnerabilities {
	/** Where the package list came from: the image's SBOM attestation, or the container's own files. */
	readonly source: 'sbom' | 'container';
	readonly current: VulnerabilityCounts;
	/** The image the update would bring; null when its packages are unknown. */
	readonly target: VulnerabilityCounts | null;
	/** Ids the update removes; null when the target is unknown. */
	readonly fixed: readonly string[] | null;
}

export type RiskLevel = 'none' | 'low' | 'medium' | 'high' | 'critical';

export interface Risk {
	/** 0-100, severity-weighted (see the README). */
	readonly score: number;
	readonly level: RiskLevel;
}

/** One vulnerability as the detail pane shows it. */
export interface VulnerabilityNote {
	readonly id: string;
	readonly severity: 'critical' | 'high' | 'medium' | 'low' | 'unknown';
	readonly summary: string | null;
}

/**
 * What the steps after the verdict add to a row. Absent means the step did not run (an older file, a
 * scan without the step); null means it ran and has nothing, with the `...Error` field saying why.
 */
export interface Enrichment {
	readonly newer?: readonly NewerVersion[] | null;
	readonly newerError?: string | null;
	readonly links?: ImageLinks | null;
	readonly vulnerabilities?: Vulnerabilities | null;
	readonly vulnerabilitiesError?: string | null;
	readonly risk?: Risk | null;
	/** The most severe vulnerabilities first, at most a handful, for the detail pane. */
	readonly topVulnerabilities?: readonly VulnerabilityNote[];
}

/** One row of a scan: the container and its verdict. */
export interface ContainerResult extends Enrichment {
	readonly host: string;
	readonly kind: WorkloadKind;
	readonly service: ServiceInfo | null;
	readonly id: string;
	readonly name: string;
	readonly image: string;
	readonly state: string;
	readonly imageId: string;
	readonly platform: Platform | null;
	/** Canonical `registry/repository:tag`, null when the reference could not be read or is an id. */
	readonly reference: string | null;
	readonly verdict: Verdict;
	/** For an update: the image the tag now gives this platform (its manifest and config digests). */
	readonly targetImage?: PlatformImage | null;
}

/** A row's identity across hosts. */
export function rowKey(row: {readonly host: string; readonly id: string}): string {
	return `${row.host}/${row.id}`;
}

export interface ScanSummary {
	readonly total: number;
	readonly upToDate: number;
	readonly updateAvailable: number;
	readonly pinned: number;
	readonly excluded: number;
	readonly unknown: number;
	readonly error: number;
	/** Rows with at least one newer version to move to. */
	readonly newerVersions: number;
}

/** A registry's pull budget as its `ratelimit-*` headers last told it (Docker Hub: `100;w=21600`). */
export interface RateLimit {
	readonly registry: string;
	readonly limit: number;
	readonly remaining: number;
	/** The window in seconds, when given. */
	readonly windowSeconds: number | null;
}

/** How listing one engine went in a scan. */
export interface HostReport {
	readonly name: string;
	/** As the user would write it: `unix:///var/run/docker.sock`, `tcp://...`, `ssh://...`. */
	readonly address: string;
	readonly state: 'ok' | 'error';
	/** Why the engine could not be listed; null when it was. */
	readonly error: string | null;
	/** Rows from this engine. */
	readonly total: number;
}

export interface ScanReport {
	readonly scannedAt: string;
	/** Every engine asked, in the order given. */
	readonly hosts: readonly HostReport[];
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
	/** The engine it is on; absent for pins made before updock knew several hosts (they mean the default engine). */
	readonly host?: string | undefined;
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
		newerVersions: results.filter(result => hasNewerVersion(result)).length,
	};
}

/** Whether a row has at least one newer version to move to: what the NEWER count, the header and the updates-only filter count. */
export function hasNewerVersion(result: Pick<Enrichment, 'newer'> | null | undefined): boolean {
	return (result?.newer?.length ?? 0) > 0;
}

export function formatPlatform(platform: Platform): string {
	return platform.variant ? `${platform.os}/${platform.architecture}/${platform.variant}` : `${platform.os}/${platform.architecture}`;
}
