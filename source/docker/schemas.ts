/**
 * The parts of Engine API answers updock reads, as schemas: an answer of another shape is reported as
 * such (naming the field), never half-used. Unknown keys are dropped.
 */
import {z} from 'zod';
import {serviceIdLabel} from './services.ts';

/**
 * Docker's pattern for a container name without its leading slash; container ids (hex) match it too.
 * What the engine lists is checked against it before it goes into a request path.
 */
export const containerNamePattern = /^[a-zA-Z\d][\w.-]*$/;

/**
 * The image labels links are made of (source/core/links.ts; test/unit/docker-listing.test.ts checks that
 * links come out the same with only these). Engines copy an image's labels onto its containers, and
 * images built by CI carry a dozen OCI labels, some long (descriptions).
 */
const linkLabels = new Set([
	'org.opencontainers.image.source', 'org.label-schema.vcs-url',
	'org.opencontainers.image.url', 'org.label-schema.url',
	'org.opencontainers.image.documentation', 'org.label-schema.usage',
	'org.opencontainers.image.revision', 'org.label-schema.vcs-ref',
	'org.opencontainers.image.version', 'org.label-schema.version',
]);

/**
 * The labels updock reads: its own (`updock.enable`, `updock.tags…`), those links are made of, and a
 * Swarm task's service id. The others (compose's, an orchestrator's, the rest of an image's) are dropped
 * as the listing is read: with 50,000 containers, labels are most of a listing.
 */
export function isReadLabel(name: string): boolean {
	return name.startsWith('updock.') || linkLabels.has(name) || name === serviceIdLabel;
}

/**
 * The labels updock reads, checked; the others are dropped before the check, so a listing's many other
 * labels cost no copy (checked, then dropped, they were a fifth of what a listing allocated).
 */
const labels = z.preprocess(readLabelsOf, z.record(z.string(), z.string()).nullish().transform(value => value ?? {}));

function readLabelsOf(value: unknown): unknown {
	if (typeof value !== 'object' || value === null || Array.isArray(value)) {
		return value;
	}

	const kept: Record<string, unknown> = {};
	for (const name in value) {
		// A read label's name starts `updock.`, `org.` or `com.docker.`: never `__proto__`.
		if (Object.hasOwn(value, name) && isReadLabel(name)) {
			kept[name] = Reflect.get(value, name);
		}
	}

	return kept;
}
const strings = z.array(z.string()).nullish().transform(value => value ?? []);

export const containerSummarySchema = z.object({
	Id: z.string().regex(containerNamePattern),
	Names: strings,
	/** The reference as created, or the image id once that reference points elsewhere. */
	Image: z.string(),
	ImageID: z.string(),
	State: z.string(),
	Labels: labels,
});
export type ContainerSummary = z.infer<typeof containerSummarySchema>;
export const containerListSchema = z.array(containerSummarySchema);

export const imageSummarySchema = z.object({
	Id: z.string(),
	RepoDigests: strings,
});
export const imageListSchema = z.array(imageSummarySchema);

export const containerInspectSchema = z.object({
	Id: z.string().regex(containerNamePattern),
	Name: z.string(),
	Image: z.string(),
	Config: z.object({Image: z.string()}),
	State: z.object({Status: z.string()}),
});

export const imageInspectSchema = z.object({
	Os: z.string(),
	Architecture: z.string(),
	Variant: z.string().nullish(),
});

export const infoSchema = z.object({
	DriverStatus: z.array(z.array(z.string())).nullish(),
	RegistryConfig: z.object({
		IndexConfigs: z.record(z.string(), z.object({Name: z.string().optional(), Secure: z.boolean().optional()})).nullish(),
		InsecureRegistryCIDRs: z.array(z.string()).nullish(),
	}).nullish(),
	OSType: z.string().nullish(),
	Architecture: z.string().nullish(),
	Swarm: z.object({
		LocalNodeState: z.string().nullish(),
		ControlAvailable: z.boolean().nullish(),
	}).nullish(),
});
export type EngineInfoAnswer = z.infer<typeof infoSchema>;

export const versionSchema = z.object({ApiVersion: z.string()});

const count = z.number().int().min(0).max(1_000_000_000);

export const serviceSchema = z.object({
	ID: z.string().min(1),
	Spec: z.object({
		Name: z.string(),
		Labels: labels,
		Mode: z.object({
			Replicated: z.object({Replicas: count.nullish()}).nullish(),
			Global: z.object({}).nullish(),
			ReplicatedJob: z.object({}).nullish(),
			GlobalJob: z.object({}).nullish(),
		}).nullish(),
		TaskTemplate: z.object({
			ContainerSpec: z.object({Image: z.string().nullish()}).nullish(),
		}).nullish(),
	}),
	ServiceStatus: z.object({RunningTasks: count, DesiredTasks: count}).nullish(),
});
export type ServiceAnswer = z.infer<typeof serviceSchema>;
export const serviceListSchema = z.array(serviceSchema);

/** `X-Docker-Container-Path-Stat` of an archive answer (base64 JSON). */
export const pathStatSchema = z.object({
	name: z.string(),
	size: z.number(),
	mode: z.number(),
	linkTarget: z.string().nullish(),
});
