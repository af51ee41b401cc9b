import type {ContainerFacts, Platform} from '../core/types.ts';
import type {ServiceAnswer} from './schemas.ts';

/** The label the engine puts on a Swarm task's container: the id of its service. */
export const serviceIdLabel = 'com.docker.swarm.service.id';

const digestPattern = /^sha256:[a-f\d]{64}$/;

/** `uname -m` names (what /info calls Architecture) as OCI platform names. */
const architectures: Readonly<Record<string, Pick<Platform, 'architecture' | 'variant'>>> = {
	x86_64: {architecture: 'amd64'},
	amd64: {architecture: 'amd64'},
	aarch64: {architecture: 'arm64'},
	arm64: {architecture: 'arm64'},
	armv7l: {architecture: 'arm', variant: 'v7'},
	armv6l: {architecture: 'arm', variant: 'v6'},
	i386: {architecture: '386'},
	i686: {architecture: '386'},
};

/** The engine's own platform from /info (`OSType`, `Architecture`), in OCI names; null when it does not say. */
export function enginePlatform(osType: string | null | undefined, architecture: string | null | undefined): Platform | null {
	if (!osType || !architecture) {
		return null;
	}

	const known = architectures[architecture];
	return {os: osType, architecture: known?.architecture ?? architecture, variant: known?.variant};
}

/**
 * A service spec's image, `repo:tag@sha256:<digest the manager resolved>`, as the facts of a row:
 * the reference without the digest (so the tag is checked), the digest as what runs.
 * A spec with only a digest keeps it in the reference (pinned); one without a digest has no image id.
 */
export function serviceImage(specImage: string): Pick<ContainerFacts, 'image' | 'imageId' | 'repoDigests'> {
	const at = specImage.lastIndexOf('@');
	const digest = at === -1 ? '' : specImage.slice(at + 1);
	if (at === -1 || !digestPattern.test(digest)) {
		return {image: specImage, imageId: '', repoDigests: []};
	}

	const name = specImage.slice(0, at);
	const colon = name.lastIndexOf(':');
	const hasTag = colon > name.lastIndexOf('/');
	const repository = hasTag ? name.slice(0, colon) : name;
	return {image: hasTag ? name : `${repository}@${digest}`, imageId: digest, repoDigests: [`${repository}@${digest}`]};
}

/** A Swarm service as a row: its spec's image, mode, replicas and its task containers on this engine. */
export function serviceFacts(service: ServiceAnswer, context: {readonly host: string; readonly platform: Platform | null; readonly tasks: readonly string[]}): ContainerFacts {
	const mode = service.Spec.Mode;
	const kind = mode?.Global ? 'global' : mode?.ReplicatedJob ? 'replicated-job' : mode?.GlobalJob ? 'global-job' : 'replicated';
	// The engine's default for a replicated service without a count is one replica.
	const replicas = kind === 'replicated' ? mode?.Replicated?.Replicas ?? 1 : null;
	const status = service.ServiceStatus;
	const state = kind === 'replicated'
		? `replicated ${status ? `${status.RunningTasks}/${status.DesiredTasks}` : `${replicas}`}`
		: kind;
	return {
		host: context.host,
		kind: 'service',
		labels: service.Spec.Labels,
		service: {mode: kind, replicas, tasks: context.tasks},
		id: service.ID,
		name: service.Spec.Name,
		...serviceImage(service.Spec.TaskTemplate?.ContainerSpec?.Image ?? ''),
		state,
		imagePresent: true,
		platform: context.platform,
	};
}
