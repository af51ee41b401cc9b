import type {ImageReference} from '../core/reference.ts';

/** One installed package, named the way OSV looks it up: the ecosystem, and the source package for distributions. */
export interface OsvPackage {
	/** An OSV ecosystem string, e.g. `Debian:12`, `Alpine:v3.20`, `Ubuntu:24.04:LTS`, `npm`. */
	readonly ecosystem: string;
	readonly name: string;
	readonly version: string;
}

/** Where a package list came from: the image's SBOM attestation, or the container's own package database. */
export type PackageSourceKind = 'sbom' | 'container';

/** The packages of one image or container. */
export interface PackageList {
	readonly source: PackageSourceKind;
	/** Every ecosystem seen, e.g. `['Alpine:v3.20', 'npm']`. */
	readonly ecosystems: readonly string[];
	readonly packages: readonly OsvPackage[];
}

/**
 * Why the packages could not be learned. `missing`: there is nothing to read (no attestation, no package
 * database); `invalid`: there is something, and it does not parse; `failed`: reading it failed (registry
 * or engine error), which may pass.
 */
export interface PackageFailure {
	readonly kind: 'missing' | 'invalid' | 'failed';
	/** A sentence for the row, e.g. "the SBOM attestation does not parse: ...". */
	readonly reason: string;
}

export type PackageResult = {readonly ok: true; readonly list: PackageList} | {readonly ok: false; readonly failure: PackageFailure};

/** A manifest as the registry client returns it. */
export interface FetchedManifest {
	readonly mediaType: string;
	readonly bytes: Buffer;
	readonly json: unknown;
}

/** What the SBOM source needs of the registry client (its `getManifest` and `getBlob`). Implementations throw RegistryError. */
export interface AttestationRegistry {
	getManifest(reference: ImageReference, digest: string, signal?: AbortSignal): Promise<FetchedManifest>;
	getBlob(reference: ImageReference, digest: string, maxBytes: number, signal?: AbortSignal): Promise<Buffer>;
}

/** What the container source needs of the engine: one file of a container, symlinks followed, null when absent. */
export interface ContainerFiles {
	readContainerFile(containerId: string, path: string, maxBytes: number, signal?: AbortSignal): Promise<Buffer | null>;
}
