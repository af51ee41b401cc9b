import {describeError} from './errors.ts';
import {forEachLimit} from './limit.ts';
import type {RegistryClient} from './ports.ts';
import type {ImageReference} from './reference.ts';
import type {ScanStep, ScanStepInput} from './scanner.ts';
import {rowKey, type Enrichment, type Platform, type WorkloadKind} from './types.ts';

/** The platform of an image on an engine (image inspect), null when the engine does not say. */
export type ImagePlatformOf = (host: string, imageId: string, signal?: AbortSignal) => Promise<Platform | null>;

/** One row whose known vulnerabilities are wanted. */
export interface VulnerabilityItem {
	/** `rowKey` of the row. */
	readonly key: string;
	readonly host: string;
	readonly kind: WorkloadKind;
	/** The container to read package files from; for a service, none (its SBOM only). */
	readonly containerId: string | null;
	readonly reference: ImageReference;
	readonly platform: Platform | null;
	/** The registry digest the container runs (an index or a manifest). */
	readonly currentDigest: string;
	/** The digest an update would bring: the tag's new digest, or the newest compatible version's. */
	readonly targetDigest: string | null;
	/** This platform's manifest inside `targetDigest`, when the scan resolved it (the tag's own update). */
	readonly targetPlatformManifestDigest: string | undefined;
}

/** Packages and their known vulnerabilities: `vulnerabilities`, `vulnerabilitiesError`, `risk`, `topVulnerabilities` per key. */
export interface VulnerabilitySource {
	assess(items: readonly VulnerabilityItem[], signal?: AbortSignal): Promise<ReadonlyMap<string, Enrichment>>;
}

/**
 * The scan step that looks up known vulnerabilities of what a container runs and of what its update
 * would bring (opt-in: it sends package names and versions to OSV). Never changes a verdict.
 */
export class VulnerabilitiesStep implements ScanStep {
	readonly name = 'vulnerabilities';
	readonly #source: VulnerabilitySource;
	readonly #registry: Pick<RegistryClient, 'headTag'>;
	readonly #platformOf: ImagePlatformOf | undefined;

	/** `platformOf` is asked for a container whose verdict did not need its platform (an up-to-date index). */
	constructor(source: VulnerabilitySource, registry: Pick<RegistryClient, 'headTag'>, platformOf?: ImagePlatformOf) {
		this.#source = source;
		this.#registry = registry;
		this.#platformOf = platformOf;
	}

	async run(rows: readonly ScanStepInput[], signal?: AbortSignal): Promise<ReadonlyMap<ScanStepInput, Enrichment>> {
		const added = new Map<ScanStepInput, Enrichment>();
		/** The rows asked about, by their items' keys. */
		const asked = new Map<string, ScanStepInput>();
		const items: VulnerabilityItem[] = [];
		// A newer version's digest costs one HEAD per tag, asked only here, where the user opted in.
		const newerDigests = new Map<string, Promise<string | null>>();
		// An index holds an SBOM attestation per platform: without the platform, the wrong one may be read.
		const platforms = new Map<string, Promise<Platform | null>>();
		await forEachLimit(rows, 8, async row => {
			const {result, facts, reference} = row;
			const {verdict} = result;
			if ((verdict.status !== 'up-to-date' && verdict.status !== 'update-available') || reference === null) {
				added.set(row, {vulnerabilities: null, vulnerabilitiesError: null, risk: null});
				return;
			}

			let targetDigest: string | null = verdict.status === 'update-available' ? verdict.remoteDigest : null;
			let targetPlatformManifestDigest = result.targetImage?.manifestDigest;
			const newest = result.newer?.at(-1)?.tag;
			if (newest !== undefined) {
				targetPlatformManifestDigest = undefined;
				const target: ImageReference = {...reference, tag: newest, digest: null};
				const key = `${target.registry}/${target.repository}:${newest}`;
				let pending = newerDigests.get(key);
				if (pending === undefined) {
					pending = this.#registry.headTag(target, signal).then(remote => remote.digest, () => null);
					newerDigests.set(key, pending);
				}

				targetDigest = await pending ?? targetDigest;
			}

			let platform = result.platform ?? facts.platform;
			if (platform === null && facts.kind === 'container' && this.#platformOf !== undefined) {
				const key = `${result.host}|${facts.imageId}`;
				let pending = platforms.get(key);
				if (pending === undefined) {
					pending = this.#platformOf(result.host, facts.imageId, signal).catch(() => null);
					platforms.set(key, pending);
				}

				platform = await pending;
			}

			const itemKey = rowKey(result);
			asked.set(itemKey, row);
			items.push({
				key: itemKey,
				host: result.host,
				kind: facts.kind,
				containerId: facts.kind === 'container' ? facts.id : null,
				reference,
				platform,
				currentDigest: verdict.localDigest,
				targetDigest,
				targetPlatformManifestDigest,
			});
		});

		try {
			for (const [key, enrichment] of await this.#source.assess(items, signal)) {
				const row = asked.get(key);
				if (row !== undefined) {
					added.set(row, enrichment);
				}
			}
		} catch (error) {
			if (signal?.aborted) {
				throw error;
			}

			for (const row of asked.values()) {
				added.set(row, this.failed(describeError(error)));
			}
		}

		return added;
	}

	failed(message: string): Enrichment {
		return {vulnerabilities: null, vulnerabilitiesError: message, risk: null};
	}
}
