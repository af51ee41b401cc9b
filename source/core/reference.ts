import {InvalidReferenceError} from './errors.ts';

/**
 * A parsed image reference, normalised the way Docker does it
 * (google/go-containerregistry `pkg/name`, docker/distribution `reference`).
 */
export interface ImageReference {
	/** Canonical registry name: `docker.io` for Docker Hub, else `host[:port]` as written (lowercased). */
	readonly registry: string;
	/** Repository path inside the registry, with `library/` added for one-component Docker Hub names. */
	readonly repository: string;
	/** The tag; `latest` when none was written. Null only when a digest was written without a tag. */
	readonly tag: string | null;
	/** `sha256:...` when the reference names a digest. */
	readonly digest: string | null;
}

export const dockerHub = 'docker.io';
const dockerHubAliases = new Set(['docker.io', 'index.docker.io', 'registry-1.docker.io']);
const componentPattern = /^[a-z\d]+(?:(?:\.|_|__|-+)[a-z\d]+)*$/;
const tagPattern = /^[\w][\w.-]{0,127}$/;
const digestPattern = /^sha256:[a-f\d]{64}$/;
const hostPattern = /^(?:\[[a-f\d:.]+\]|[a-z\d](?:[a-z\d-]*[a-z\d])?(?:\.[a-z\d](?:[a-z\d-]*[a-z\d])?)*)(?::\d{1,5})?$/i;

/**
 * True when a container was created from an image id (`docker run 3f2a...` or `sha256:3f2a...`)
 * rather than a name: `Config.Image` is then the id of the image it runs, or a prefix of it.
 */
export function isImageIdReference(configImage: string, imageId: string): boolean {
	const value = configImage.startsWith('sha256:') ? configImage.slice('sha256:'.length) : configImage;
	const id = imageId.startsWith('sha256:') ? imageId.slice('sha256:'.length) : imageId;
	return /^[a-f\d]+$/.test(value) && value.length > 0 && id.startsWith(value);
}

/** True for a tag the distribution spec allows: `[A-Za-z0-9_][A-Za-z0-9._-]{0,127}`. */
export function isTag(value: string): boolean {
	return tagPattern.test(value);
}

/** True for `sha256:` followed by 64 lowercase hex digits. */
export function isDigest(value: string): boolean {
	return digestPattern.test(value);
}

/**
 * Parse an image reference as Docker does: `nginx`, `nginx:1.27`, `ghcr.io/acme/app:v1`,
 * `localhost:5000/app@sha256:...`, `registry:5000/team/app:1@sha256:...`.
 * @throws InvalidReferenceError naming what is wrong.
 */
export function parseReference(input: string): ImageReference {
	const text = input.trim();
	if (text === '') {
		throw new InvalidReferenceError('The image reference is empty.');
	}

	let rest = text;
	let digest: string | null = null;
	const at = rest.indexOf('@');
	if (at !== -1) {
		digest = rest.slice(at + 1);
		rest = rest.slice(0, at);
		if (!isDigest(digest)) {
			throw new InvalidReferenceError(`"${input}" has an invalid digest "${digest}": expected sha256: and 64 lowercase hex digits.`);
		}
	}

	let tag: string | null = null;
	const colon = rest.lastIndexOf(':');
	if (colon !== -1 && !rest.slice(colon + 1).includes('/')) {
		tag = rest.slice(colon + 1);
		rest = rest.slice(0, colon);
		if (!tagPattern.test(tag)) {
			throw new InvalidReferenceError(`"${input}" has an invalid tag "${tag}": tags are letters, digits, _, . and -, at most 128 characters, not starting with . or -.`);
		}
	}

	let registry = dockerHub;
	let path = rest;
	const slash = rest.indexOf('/');
	if (slash !== -1) {
		const first = rest.slice(0, slash);
		if (first === 'localhost' || first.includes('.') || first.includes(':')) {
			if (!hostPattern.test(first)) {
				throw new InvalidReferenceError(`"${input}" has an invalid registry host "${first}".`);
			}

			registry = first.toLowerCase();
			path = rest.slice(slash + 1);
		}
	}

	if (dockerHubAliases.has(registry)) {
		registry = dockerHub;
	}

	if (path === '') {
		throw new InvalidReferenceError(`"${input}" has no repository name.`);
	}

	for (const component of path.split('/')) {
		if (!componentPattern.test(component)) {
			const hint = /[A-Z]/.test(component) ? ' (repository names must be lowercase)' : '';
			throw new InvalidReferenceError(`"${input}" has an invalid repository name "${path}"${hint}.`);
		}
	}

	if (registry === dockerHub && !path.includes('/')) {
		path = `library/${path}`;
	}

	if (tag === null && digest === null) {
		tag = 'latest';
	}

	return {registry, repository: path, tag, digest};
}

/** `registry/repository`, the key RepoDigests are matched on. */
export function repositoryKey(reference: Pick<ImageReference, 'registry' | 'repository'>): string {
	return `${reference.registry}/${reference.repository}`;
}

/** The full canonical form: `docker.io/library/nginx:latest`, `ghcr.io/a/b:1@sha256:...`. */
export function formatReference(reference: ImageReference): string {
	const tag = reference.tag === null ? '' : `:${reference.tag}`;
	const digest = reference.digest === null ? '' : `@${reference.digest}`;
	return `${repositoryKey(reference)}${tag}${digest}`;
}

/** The short form people type: `nginx:latest`, `acme/app:1`, `ghcr.io/a/b:1`. */
export function familiarName(reference: Pick<ImageReference, 'registry' | 'repository'>): string {
	if (reference.registry === dockerHub) {
		return reference.repository.startsWith('library/') ? reference.repository.slice('library/'.length) : reference.repository;
	}

	return repositoryKey(reference);
}

/**
 * The digests in an image's RepoDigests (`repo@sha256:...`) that belong to the same normalised
 * repository as `reference`. An image can hold several (one per pull) and entries of other repositories.
 */
export function matchingRepoDigests(reference: ImageReference, repoDigests: readonly string[]): string[] {
	const wanted = repositoryKey(reference);
	const digests: string[] = [];
	for (const entry of repoDigests) {
		try {
			const parsed = parseReference(entry);
			if (parsed.digest !== null && repositoryKey(parsed) === wanted && !digests.includes(parsed.digest)) {
				digests.push(parsed.digest);
			}
		} catch {
			// An entry the engine wrote that we cannot read says nothing about this repository.
		}
	}

	return digests;
}

const loopbackHost = /^(?:localhost|127(?:\.\d{1,3}){3}|\[::1\])(?::\d+)?$/;

/** True for registries on this machine, the only ones spoken to over plain HTTP. */
export function isLoopbackRegistry(registry: string): boolean {
	return loopbackHost.test(registry);
}
