import {z} from 'zod';
import {statusOrder} from '../core/status.ts';
import type {ScanStatus} from '../core/types.ts';

// The API's shapes, once: requests are validated with them, answers serialized through them, and the
// OpenAPI document is generated from them. Arrays of answers are read-only, as the scan's own types are.

const statusSchema = z.enum(statusOrder.filter((status): status is ScanStatus => status !== 'checking'));

const nullableText = z.string().nullable();

const count = z.int().min(0);

export const versionKinds = ['patch', 'minor', 'major'] as const;

export const newerVersionSchema = z.object({
	tag: z.string(),
	type: z.enum(versionKinds).meta({description: '`patch` (same major and minor), `minor` (same major) or `major`.'}),
}).meta({id: 'NewerVersion'});

export const linksSchema = z.object({
	source: nullableText.meta({description: 'The source repository, from the image\'s OCI labels.'}),
	revision: nullableText.meta({description: 'The revision the running image was built from.'}),
	targetRevision: nullableText.meta({description: 'The revision of the image the container would move to.'}),
	changes: nullableText.meta({description: 'A compare URL between the two revisions.'}),
	release: nullableText.meta({description: 'The release page of the target version.'}),
}).meta({id: 'Links'});

const vulnerabilityCountsSchema = z.object({
	critical: count,
	high: count,
	medium: count,
	low: count,
	unknown: count,
	ids: z.array(z.string()).readonly(),
}).meta({id: 'VulnerabilityCounts'});

export const vulnerabilitiesSchema = z.object({
	source: z.enum(['sbom', 'container']).meta({description: 'Where the package list came from: the SBOM attestation, or the container\'s own files.'}),
	current: vulnerabilityCountsSchema,
	target: vulnerabilityCountsSchema.nullable().meta({description: 'The image the update would bring; null when its packages are unknown.'}),
	fixed: z.array(z.string()).readonly().nullable().meta({description: 'Ids the update removes; null when the target is unknown.'}),
}).meta({id: 'Vulnerabilities'});

export const riskSchema = z.object({
	score: z.number().min(0).max(100),
	level: z.enum(['none', 'low', 'medium', 'high', 'critical']),
}).meta({id: 'Risk', description: 'A severity-weighted score of what the update fixes (of what the container carries when the target is unknown).'});

/**
 * A container (or Swarm service) exactly as `updock --once --json` prints it. Loose, so a field that
 * output gains passes through before it is described here.
 */
export const containerSchema = z.looseObject({
	host: z.string().meta({description: 'The engine: `local`, a --host or saved name, or a context name.'}),
	kind: z.enum(['container', 'service']),
	id: z.string(),
	name: z.string(),
	image: z.string().meta({description: 'The reference the container was created from.'}),
	state: z.string(),
	status: statusSchema,
	localDigest: nullableText,
	remoteDigest: nullableText,
	reason: nullableText,
	error: nullableText,
	newer: z.array(newerVersionSchema).readonly().nullable().meta({description: 'Newer versions of the tag, ascending, the newest of each kind; [] when it is the newest; null when not checked.'}),
	newerError: nullableText.meta({description: 'Why the newer versions are not known.'}),
	links: linksSchema.nullable(),
	vulnerabilities: vulnerabilitiesSchema.nullable().meta({description: 'With --vulns on: known vulnerabilities now and after the update; null when not known.'}),
	vulnerabilitiesError: nullableText.meta({description: 'Why the vulnerabilities are not known.'}),
	risk: riskSchema.nullable(),
	mode: z.string().optional().meta({description: 'Services only: `replicated`, `global`, ...'}),
	replicas: z.int().min(0).nullable().optional().meta({description: 'Services only: desired replicas, null for global services.'}),
	tasks: z.array(z.string()).readonly().optional().meta({description: 'Services only: the ids of its task containers on that engine.'}),
}).meta({id: 'Container', description: 'A container as `updock --once --json` prints it.'});

/** The summary of `--once --json`: counts by status, every engine asked, the registries' pull budgets. */
export const summarySchema = z.looseObject({
	total: count,
	upToDate: count,
	updateAvailable: count,
	pinned: count,
	excluded: count,
	unknown: count,
	error: count,
	newerVersions: count.meta({description: 'Containers with at least one newer version to move to.'}),
	hosts: z.array(z.object({name: z.string(), address: z.string(), state: z.enum(['ok', 'error']), error: nullableText, total: count})),
	rateLimits: z.array(z.object({registry: z.string(), limit: z.number(), remaining: z.number(), windowSeconds: z.number().nullable()})),
}).meta({id: 'Summary'});

export const errorSchema = z.object({
	error: z.object({
		code: z.string().meta({description: 'Stable, machine-readable: not_found, method_not_allowed, invalid_request, unauthorized, ...'}),
		message: z.string(),
	}),
}).meta({id: 'Error'});

export const updatesQuerySchema = z.strictObject({
	status: z.enum([...statusSchema.options, 'all']).optional().meta({description: 'Only containers with this status, or `all`. Without it: containers with an update available or a newer version.'}),
	type: z.enum(versionKinds).optional().meta({description: 'Only containers with a newer version of this kind.'}),
	sort: z.enum(['risk']).optional().meta({description: '`risk`: the highest risk score first, containers without one last.'}),
});

export const updatesSchema = z.object({
	updates: z.array(containerSchema),
	scannedAt: nullableText.meta({description: 'When the last full scan started; null before the first.'}),
});

export const scanStateSchema = z.object({
	state: z.enum(['idle', 'running']),
	lastScanId: nullableText,
	lastScannedAt: nullableText,
	nextScanAt: nullableText,
});

export const summaryAnswerSchema = z.object({scan: scanStateSchema, summary: summarySchema});

export const scanStartedSchema = z.object({id: z.string(), state: z.enum(['running'])});

export const scanSchema = z.object({
	id: z.string(),
	state: z.enum(['running', 'finished', 'failed']),
	startedAt: nullableText.meta({description: 'Null while a requested scan waits for a partial one to end.'}),
	finishedAt: nullableText,
	checked: count.meta({description: 'Unique tags checked so far.'}),
	checks: count.meta({description: 'Unique tags the scan checks.'}),
	summary: summarySchema.nullable(),
	error: nullableText,
}).meta({id: 'Scan'});

export const scanParamsSchema = z.strictObject({scan_id: z.string().min(1).max(200)});

export const containerParamsSchema = z.strictObject({
	container_id: z.string().min(1).max(300).meta({description: 'A container id, an id prefix, a name, or host/name.'}),
});

export const pinSchema = z.object({
	host: z.string().optional(),
	name: z.string(),
	containerId: z.string(),
	pinnedAt: z.string(),
}).meta({id: 'Pin'});

export const pinAnswerSchema = z.object({pin: pinSchema});

export const exclusionSchema = z.object({
	id: z.int().min(1),
	image: z.string().meta({description: 'The image pattern: a reference, or a glob with * and ?.'}),
	createdAt: z.string(),
}).meta({id: 'Exclusion'});

export const exclusionsSchema = z.object({exclusions: z.array(exclusionSchema)});

export const exclusionBodySchema = z.strictObject({image: z.string().min(1).max(1000)});

export const exclusionParamsSchema = z.strictObject({id: z.string().regex(/^\d{1,9}$/, 'a whole number')});

/** What `updock dry-run --json` prints. */
export const dryRunSchema = z.looseObject({
	registries: z.array(z.looseObject({registry: z.string(), scheme: z.enum(['http', 'https']), checks: z.array(z.looseObject({reference: z.string(), containers: z.array(z.string())}))})),
	skipped: z.array(z.looseObject({name: z.string(), image: z.string(), status: statusSchema, reason: z.string()})),
	summary: z.looseObject({containers: count, checks: count, registries: count, skipped: count}),
}).meta({id: 'DryRun'});

export const healthSchema = z.object({ok: z.boolean()});

export type ContainerAnswer = z.infer<typeof containerSchema>;
export type SummaryAnswer = z.infer<typeof summarySchema>;
export type ScanAnswer = z.infer<typeof scanSchema>;
export type DryRunAnswer = z.infer<typeof dryRunSchema>;
export type PinAnswer = z.infer<typeof pinSchema>;
export type ExclusionAnswer = z.infer<typeof exclusionSchema>;
export type UpdatesQuery = z.infer<typeof updatesQuerySchema>;
