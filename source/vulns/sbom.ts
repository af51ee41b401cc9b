import {z} from 'zod';
import {describeError} from '../core/errors.ts';
import {selectPlatform} from '../core/platform.ts';
import type {ImageReference} from '../core/reference.ts';
import {formatPlatform, type Platform} from '../core/types.ts';
import {packageList, parsePurl, purlPackage, type Distribution} from './ecosystems.ts';
import type {AttestationRegistry, OsvPackage, PackageResult} from './types.ts';

/** The largest SBOM updock reads: Syft documents of big images run to a few MiB. */
export const maxSbomBytes = 32 * 1024 * 1024;

const referenceType = 'vnd.docker.reference.type';
const referenceDigest = 'vnd.docker.reference.digest';
const predicateTypeAnnotation = 'in-toto.io/predicate-type';
const digestPattern = /^sha256:[a-f\d]{64}$/;

const descriptor = z.object({
	digest: z.string().regex(digestPattern),
	mediaType: z.string().optional(),
	size: z.number().int().nonnegative().optional(),
	annotations: z.record(z.string(), z.string()).optional(),
	platform: z.object({os: z.string(), architecture: z.string(), variant: z.string().optional()}).optional(),
});
const imageIndex = z.object({manifests: z.array(descriptor)});
const imageManifest = z.object({layers: z.array(descriptor)});
const statement = z.object({predicateType: z.string().optional(), predicate: z.unknown()});
const spdxDocument = z.object({
	spdxVersion: z.string(),
	packages: z.array(z.object({
		name: z.string().optional(),
		versionInfo: z.string().optional(),
		primaryPackagePurpose: z.string().optional(),
		externalRefs: z.array(z.object({referenceType: z.string(), referenceLocator: z.string()})).optional(),
	})).optional(),
});

interface CycloneComponent {
	readonly type?: string | undefined;
	readonly name?: string | undefined;
	readonly version?: string | undefined;
	readonly purl?: string | undefined;
	readonly components?: readonly CycloneComponent[] | undefined;
}

const cycloneComponent: z.ZodType<CycloneComponent> = z.lazy(() => z.object({
	type: z.string().optional(),
	name: z.string().optional(),
	version: z.string().optional(),
	purl: z.string().optional(),
	components: z.array(cycloneComponent).optional(),
}));
const cycloneDocument = z.object({
	bomFormat: z.literal('CycloneDX'),
	metadata: z.object({component: cycloneComponent.optional()}).optional(),
	components: z.array(cycloneComponent).optional(),
});

type SbomKind = 'spdx' | 'cyclonedx';

/** `https://spdx.dev/Document` (and `/v2.3`), `https://cyclonedx.org/bom` (and `/v1.5`); provenance and the rest are not SBOMs. */
function sbomKind(predicateType: string | undefined): SbomKind | undefined {
	if (predicateType === undefined) {
		return undefined;
	}

	if (/^https:\/\/spdx\.dev\/Document(?:\/v[\d.]+)?$/.test(predicateType)) {
		return 'spdx';
	}

	return /^https:\/\/cyclonedx\.org\/bom(?:\/v[\d.]+)?$/.test(predicateType) ? 'cyclonedx' : undefined;
}

/**
 * The packages of an image from its BuildKit SBOM attestation: the index `indexDigest` holds an
 * attestation manifest (`vnd.docker.reference.type: attestation-manifest`) per platform manifest it
 * describes; its layers are in-toto statements told apart by their `in-toto.io/predicate-type`
 * annotation. `platformManifest` picks the attestation of the container's platform: the digest of its
 * image manifest, or the platform itself (its image in the index is looked up); without it, the first
 * attestation in the index is read.
 */
export async function readSbomPackages(registry: AttestationRegistry, reference: ImageReference, indexDigest: string, platformManifest: string | Platform | undefined, signal?: AbortSignal): Promise<PackageResult> {
	const where = `${reference.registry}/${reference.repository}@${indexDigest}`;
	try {
		const top = await registry.getManifest(reference, indexDigest, signal);
		const index = imageIndex.safeParse(top.json);
		if (!index.success) {
			return missing(`${where} is a single image manifest, not an index, so it carries no SBOM attestation`);
		}

		// A multi-platform index has an attestation per platform, in any order: the first may be another platform's.
		const platformManifestDigest = typeof platformManifest === 'object' ? selectPlatform(index.data.manifests, platformManifest)?.digest : platformManifest;
		if (typeof platformManifest === 'object' && platformManifestDigest === undefined) {
			return missing(`the image index ${where} has no image for ${formatPlatform(platformManifest)}`);
		}

		const attestations = index.data.manifests.filter(entry => entry.annotations?.[referenceType] === 'attestation-manifest');
		const chosen = platformManifestDigest === undefined
			? attestations[0]
			: attestations.find(entry => entry.annotations?.[referenceDigest] === platformManifestDigest);
		if (chosen === undefined) {
			return missing(attestations.length === 0
				? `the image index ${where} has no SBOM attestation`
				: `the image index ${where} has no attestation for the platform manifest ${platformManifestDigest ?? ''}`);
		}

		const manifest = imageManifest.safeParse((await registry.getManifest(reference, chosen.digest, signal)).json);
		if (!manifest.success) {
			return invalid(`the attestation manifest ${chosen.digest} is not an image manifest`);
		}

		const layer = manifest.data.layers.find(candidate => sbomKind(candidate.annotations?.[predicateTypeAnnotation]) !== undefined);
		if (layer === undefined) {
			return missing(`the attestation ${chosen.digest} of ${where} holds no SBOM (only ${manifest.data.layers.map(candidate => candidate.annotations?.[predicateTypeAnnotation] ?? 'unlabelled').join(', ') || 'no'} layers)`);
		}

		if ((layer.size ?? 0) > maxSbomBytes) {
			return invalid(`the SBOM attestation ${layer.digest} is ${layer.size ?? 0} bytes, more than the ${maxSbomBytes / 1024 / 1024} MiB updock reads`);
		}

		const bytes = await registry.getBlob(reference, layer.digest, maxSbomBytes, signal);
		return parseSbomStatement(bytes, sbomKind(layer.annotations?.[predicateTypeAnnotation]) ?? 'spdx');
	} catch (error) {
		if (signal?.aborted) {
			throw error;
		}

		return {ok: false, failure: {kind: 'failed', reason: `the SBOM attestation of ${where} could not be read: ${describeError(error)}`}};
	}
}

/** An in-toto statement whose predicate is an SPDX 2.x JSON or CycloneDX JSON document. */
export function parseSbomStatement(bytes: Buffer, kind: SbomKind): PackageResult {
	let json: unknown;
	try {
		json = JSON.parse(bytes.toString('utf8'));
	} catch (error) {
		return invalid(`the SBOM attestation does not parse: it is not JSON (${describeError(error)})`);
	}

	const parsedStatement = statement.safeParse(json);
	if (!parsedStatement.success || parsedStatement.data.predicate === undefined) {
		return invalid('the SBOM attestation does not parse: it is not an in-toto statement with a predicate');
	}

	const {predicate} = parsedStatement.data;
	const packages = kind === 'spdx' ? spdxPackages(predicate) : cyclonePackages(predicate);
	if (typeof packages === 'string') {
		return invalid(`the SBOM attestation does not parse: ${packages}`);
	}

	return {ok: true, list: packageList(packages, 'sbom')};
}

function spdxPackages(predicate: unknown): OsvPackage[] | string {
	const document = spdxDocument.safeParse(predicate);
	if (!document.success) {
		return `the predicate is not an SPDX JSON document (${firstIssue(document.error)})`;
	}

	const all = document.data.packages ?? [];
	const os = all.find(item => item.primaryPackagePurpose === 'OPERATING-SYSTEM');
	const fallback = osDistribution(os?.name, os?.versionInfo);
	return all.flatMap(item => (item.externalRefs ?? [])
		.filter(ref => ref.referenceType === 'purl')
		.flatMap(ref => {
			const purl = parsePurl(ref.referenceLocator);
			const found = purl === undefined ? undefined : purlPackage(purl, fallback);
			return found === undefined ? [] : [found];
		}));
}

function cyclonePackages(predicate: unknown): OsvPackage[] | string {
	const document = cycloneDocument.safeParse(predicate);
	if (!document.success) {
		return `the predicate is not a CycloneDX JSON document (${firstIssue(document.error)})`;
	}

	const flat: CycloneComponent[] = [];
	const visit = (components: readonly CycloneComponent[] | undefined, depth: number): void => {
		for (const component of depth > 16 ? [] : components ?? []) {
			flat.push(component);
			visit(component.components, depth + 1);
		}
	};

	visit(document.data.components, 0);
	const os = [document.data.metadata?.component, ...flat].find(component => component?.type === 'operating-system');
	const fallback = osDistribution(os?.name, os?.version);
	return flat.flatMap(component => {
		const purl = component.purl === undefined ? undefined : parsePurl(component.purl);
		const found = purl === undefined ? undefined : purlPackage(purl, fallback);
		return found === undefined ? [] : [found];
	});
}

function osDistribution(name: string | undefined, version: string | undefined): Distribution | undefined {
	return name === undefined || version === undefined ? undefined : {id: name.toLowerCase(), versionId: version};
}

function firstIssue(error: z.ZodError): string {
	const issue = error.issues[0];
	return issue === undefined ? 'unknown shape' : `${issue.path.join('.') || 'document'}: ${issue.message}`;
}

function missing(reason: string): PackageResult {
	return {ok: false, failure: {kind: 'missing', reason}};
}

function invalid(reason: string): PackageResult {
	return {ok: false, failure: {kind: 'invalid', reason}};
}
