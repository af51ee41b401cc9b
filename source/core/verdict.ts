import type {ContainerToCheck} from './plan.ts';
import type {ImageStore, PlatformImage, RemoteTag, Verdict} from './types.ts';

/**
 * The verdict when the tag's digest is one the container was pulled by; null when it is not and the
 * platform's image must be looked at (the index may have changed only for other platforms, or only its format).
 */
export function verdictFromTag(container: ContainerToCheck, remote: RemoteTag): Verdict | null {
	if (container.localDigests.includes(remote.digest)) {
		return {status: 'up-to-date', localDigest: remote.digest, remoteDigest: remote.digest};
	}

	return null;
}

/**
 * The verdict from the image the tag now gives this container's platform. Classic store: the image id
 * is the config digest, so the same config is the same image whatever manifest carries it.
 */
export function verdictFromPlatformImage(container: ContainerToCheck, remote: RemoteTag, image: PlatformImage, imageStore: ImageStore): Verdict {
	const localDigest = container.localDigests[0] ?? container.facts.imageId;
	const sameManifest = container.localDigests.includes(image.manifestDigest);
	const sameConfig = imageStore === 'classic' && image.configDigest === container.facts.imageId;
	if (sameManifest || sameConfig) {
		return {status: 'up-to-date', localDigest, remoteDigest: remote.digest};
	}

	return {status: 'update-available', localDigest, remoteDigest: remote.digest};
}
