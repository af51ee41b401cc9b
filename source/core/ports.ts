import type {ImageReference} from './reference.ts';
import type {ContainerFacts, Exclusion, ImageStore, Pin, Platform, PlatformImage, RateLimit, RemoteTag} from './types.ts';

/** The engine, as the scanner sees it. */
export interface ContainerSource {
	/** Every container, running or not, with the facts of the image it runs. */
	listContainers(signal?: AbortSignal): Promise<ContainerFacts[]>;
	/** Which image store the engine uses (it decides what an image id means). */
	imageStore(signal?: AbortSignal): Promise<ImageStore>;
	/** The platform of an image, null when the engine no longer has it. Only asked when a digest differs. */
	imagePlatform(imageId: string, signal?: AbortSignal): Promise<Platform | null>;
}

/** The registries, as the scanner sees them. Implementations throw RegistryError. */
export interface RegistryClient {
	/** HEAD the tag's manifest: the digest it points to now. */
	headTag(reference: ImageReference, signal?: AbortSignal): Promise<RemoteTag>;
	/** GET the manifest `digest` and, for an index, the child for `platform`: the image that platform gets. */
	resolvePlatform(reference: ImageReference, digest: string, platform: Platform, signal?: AbortSignal): Promise<PlatformImage>;
	/** Before a registry's checks: the repositories to come, so one token can cover them all. Never throws. */
	prepare?(registry: string, repositories: readonly string[], signal?: AbortSignal): Promise<void>;
	/** Pull budgets the registries reported. */
	rateLimits?(): readonly RateLimit[];
	/** Every tag of the repository (`tags/list`, Link pages on the same origin, at most 20 pages of 4 MiB). */
	listTags?(reference: ImageReference, signal?: AbortSignal): Promise<string[]>;
	/** The labels of an image's config (for an index, of its child for `platform`, default linux/amd64); empty when none. */
	getConfigLabels?(reference: ImageReference, manifestDigest: string, signal?: AbortSignal, platform?: Platform): Promise<Record<string, string>>;
	/** The manifest `digest`: its media type, its bytes as received (verified against the digest), its JSON. */
	getManifest?(reference: ImageReference, digest: string, signal?: AbortSignal): Promise<{readonly mediaType: string; readonly bytes: Uint8Array; readonly json: unknown}>;
	/** The blob `digest`, at most `maxBytes`, verified against the digest. */
	getBlob?(reference: ImageReference, digest: string, maxBytes: number, signal?: AbortSignal): Promise<Uint8Array>;
}

/** What the scanner reads and remembers between scans. */
export interface ScanMemory {
	readonly pins: readonly Pin[];
	readonly exclusions: readonly Exclusion[];
	/** A remembered resolution of a remote digest for a platform, so a pending update costs no GET next time. */
	platformImage(digest: string, platform: Platform): PlatformImage | undefined;
}

export interface Clock {
	now(): Date;
}

/** Pins and exclusions as the live view changes them. Implementations throw StoreError; nothing is lost on failure. */
export interface SettingsStore {
	load(): Promise<{readonly pins: readonly Pin[]; readonly exclusions: readonly Exclusion[]}>;
	/** @returns false when the container was already pinned on that host. */
	pin(name: string, containerId: string, host?: string): Promise<boolean>;
	/** @returns false when it was not pinned. */
	unpin(name: string, host?: string): Promise<boolean>;
	/** @returns the exclusion, new (`added`) or the existing one with the same pattern. */
	addExclusion(pattern: string): Promise<{exclusion: Exclusion; added: boolean}>;
	removeExclusion(id: number): Promise<Exclusion | undefined>;
}
