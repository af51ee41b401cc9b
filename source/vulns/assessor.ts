import {describeError} from '../core/errors.ts';
import {forEachLimit} from '../core/limit.ts';
import type {ImageReference} from '../core/reference.ts';
import {assessUpdate, topVulnerabilities} from '../core/risk.ts';
import {formatPlatform, type Platform, type Risk, type Vulnerabilities, type VulnerabilityNote} from '../core/types.ts';
import {readContainerPackages} from './container-files.ts';
import {packageKey, VulnerabilityLookup, type KnownVulnerability, type LookupOptions} from './lookup.ts';
import {OsvClient, type OsvClientOptions} from './osv.ts';
import {defaultOsvUrl, parseOsvUrl} from './osv-url.ts';
import {readSbomPackages} from './sbom.ts';
import type {AttestationRegistry, ContainerFiles, OsvPackage, PackageList, PackageResult} from './types.ts';

/** One container to assess. */
export interface AssessItem {
	/** The caller's key for the result (a row key). */
	readonly key: string;
	readonly reference: ImageReference;
	readonly containerId: string;
	/** The registry digest the container runs (index or manifest); null for local builds. */
	readonly currentDigest: string | null;
	/** The container's platform manifest inside `currentDigest`, to pick its attestation. */
	readonly platformManifestDigest?: string | undefined;
	/** The container's platform, to find its image (and so its attestation) in an index when the manifest digest is not known. */
	readonly platform?: Platform | null | undefined;
	/** The digest the update would bring; null when there is none. */
	readonly targetDigest: string | null;
	/** The platform manifest inside `targetDigest`. */
	readonly targetPlatformManifestDigest?: string | undefined;
}

/** What a row gets: both objects, or nulls with the reason. */
export interface Assessment {
	readonly vulnerabilities: Vulnerabilities | null;
	readonly vulnerabilitiesError: string | null;
	readonly risk: Risk | null;
	readonly topVulnerabilities: readonly VulnerabilityNote[];
}

export interface AssessorOptions {
	/** `UPDOCK_OSV_URL`. @default https://api.osv.dev */
	readonly osvUrl?: string;
	/** Milliseconds one OSV request may take. @default 15000 */
	readonly timeoutMs?: number;
	readonly registry: AttestationRegistry;
	readonly files: ContainerFiles;
	/** For tests: OSV client and cache settings. */
	readonly osv?: Partial<OsvClientOptions>;
	readonly lookup?: LookupOptions;
}

/** SBOM package lists kept, by digest; an image digest's SBOM never changes. */
const maxCachedLists = 512;
const fetchConcurrency = 4;

/**
 * Known vulnerabilities and a risk score per container: packages from the image's SBOM attestation (else
 * the container's own package database), then OSV for both the current and the target package sets.
 * Never throws for a container's failure: OSV unreachable, rate-limited, an SBOM that does not parse
 * become `vulnerabilitiesError` sentences.
 */
export class VulnerabilityAssessor {
	readonly #client: OsvClient;
	readonly #lookup: VulnerabilityLookup;
	readonly #registry: AttestationRegistry;
	readonly #files: ContainerFiles;
	readonly #sbomLists = new Map<string, PackageResult>();

	/** @throws ConfigError when `osvUrl` is not a usable OSV URL */
	constructor(options: AssessorOptions) {
		this.#client = new OsvClient({baseUrl: parseOsvUrl(options.osvUrl ?? defaultOsvUrl), timeoutMs: options.timeoutMs ?? 15_000, ...options.osv});
		this.#lookup = new VulnerabilityLookup(this.#client, options.lookup);
		this.#registry = options.registry;
		this.#files = options.files;
	}

	async close(): Promise<void> {
		await this.#client.close();
	}

	async assessAll(items: readonly AssessItem[], signal?: AbortSignal): Promise<Map<string, Assessment>> {
		const lists = new Map<string, {current: PackageResult; target: PackageList | null}>();
		await forEachLimit(items, fetchConcurrency, async item => {
			const current = await this.#currentPackages(item, signal);
			const target = item.targetDigest === null ? null : await this.#sbom(item.reference, item.targetDigest, item.targetPlatformManifestDigest ?? item.platform ?? undefined, signal);
			lists.set(item.key, {current, target: target?.ok ? target.list : null});
		});

		const everyPackage: OsvPackage[] = [];
		for (const {current, target} of lists.values()) {
			// One by one: an SBOM may list more packages than a spread of arguments takes.
			for (const packages of [current.ok ? current.list.packages : [], target?.packages ?? []]) {
				for (const item of packages) {
					everyPackage.push(item);
				}
			}
		}

		let known: Map<string, KnownVulnerability[]> | undefined;
		let osvFailure: string | undefined;
		if (everyPackage.length > 0) {
			try {
				known = await this.#lookup.vulnerabilitiesOf(everyPackage, signal);
			} catch (error) {
				if (signal?.aborted) {
					throw error;
				}

				osvFailure = `vulnerabilities unknown: ${describeError(error)}`;
			}
		}

		const results = new Map<string, Assessment>();
		for (const item of items) {
			const entry = lists.get(item.key);
			if (entry === undefined || !entry.current.ok) {
				results.set(item.key, failed(entry?.current.ok === false ? entry.current.failure.reason : 'packages unknown'));
				continue;
			}

			if (osvFailure !== undefined) {
				results.set(item.key, failed(osvFailure));
				continue;
			}

			const vulnerabilitiesOf = (list: PackageList): KnownVulnerability[] => list.packages.flatMap(item => known?.get(packageKey(item)) ?? []);
			const current = vulnerabilitiesOf(entry.current.list);
			const {vulnerabilities, risk} = assessUpdate(entry.current.list.source, current, entry.target === null ? null : vulnerabilitiesOf(entry.target));
			results.set(item.key, {
				vulnerabilities,
				vulnerabilitiesError: null,
				risk,
				topVulnerabilities: topVulnerabilities(current).map(({id, severity, summary}) => ({id, severity, summary})),
			});
		}

		return results;
	}

	/** The SBOM of what runs; when the image has none, the container's own files. */
	async #currentPackages(item: AssessItem, signal?: AbortSignal): Promise<PackageResult> {
		const sbom = item.currentDigest === null ? undefined : await this.#sbom(item.reference, item.currentDigest, item.platformManifestDigest ?? item.platform ?? undefined, signal);
		if (sbom !== undefined && (sbom.ok || sbom.failure.kind !== 'missing')) {
			return sbom;
		}

		const files = await readContainerPackages(this.#files, item.containerId, signal);
		if (files.ok || files.failure.kind !== 'missing') {
			return files;
		}

		const why = sbom === undefined ? 'the image has no registry digest to read an SBOM attestation by' : sbom.failure.reason;
		return {ok: false, failure: {kind: 'missing', reason: `packages unknown: no SBOM attestation and ${files.failure.reason} (${why})`}};
	}

	async #sbom(reference: ImageReference, digest: string, platformManifest: string | Platform | undefined, signal?: AbortSignal): Promise<PackageResult> {
		const key = `${reference.registry}/${reference.repository}@${digest}#${typeof platformManifest === 'object' ? formatPlatform(platformManifest) : platformManifest ?? ''}`;
		const cached = this.#sbomLists.get(key);
		if (cached !== undefined) {
			return cached;
		}

		const result = await readSbomPackages(this.#registry, reference, digest, platformManifest, signal);
		// A registry failure may pass; what the registry said (a list, no attestation, a broken one) does not.
		if (result.ok || result.failure.kind !== 'failed') {
			this.#sbomLists.set(key, result);
			for (const old of this.#sbomLists.keys()) {
				if (this.#sbomLists.size <= maxCachedLists) {
					break;
				}

				this.#sbomLists.delete(old);
			}
		}

		return result;
	}
}

function failed(reason: string): Assessment {
	return {vulnerabilities: null, vulnerabilitiesError: reason, risk: null, topVulnerabilities: []};
}
