import {RegistryError} from '../../source/core/errors.ts';
import type {ContainerSource, RegistryClient, ScanMemory} from '../../source/core/ports.ts';
import type {HostSource} from '../../source/core/scanner.ts';
import {formatReference, type ImageReference} from '../../source/core/reference.ts';
import type {ContainerFacts, Platform, PlatformImage, RemoteTag} from '../../source/core/types.ts';

export const digest = (character: string): string => `sha256:${character.repeat(64)}`;
export const amd64: Platform = {os: 'linux', architecture: 'amd64'};

export function container(overrides: Partial<ContainerFacts> & {name: string; image: string}): ContainerFacts {
	return {
		host: 'local',
		kind: 'container',
		labels: {},
		service: null,
		id: `${overrides.name}-id`.padEnd(64, '0'),
		imageId: digest('1'),
		state: 'running',
		repoDigests: [],
		imagePresent: true,
		platform: amd64,
		...overrides,
	};
}

export function engine(containers: ContainerFacts[]): ContainerSource {
	return {
		listContainers: async () => containers,
		imageStore: async () => 'classic',
		imagePlatform: async imageId => containers.find(fact => fact.imageId === imageId)?.platform ?? amd64,
	};
}

/** The scanner's view of one fake engine, named `local`. */
export function oneHost(source: ContainerSource, name = 'local'): HostSource[] {
	return [{name, address: `unix:///fake/${name}.sock`, engine: source}];
}

/** A registry in memory that records every call. */
export class FakeRegistry implements RegistryClient {
	readonly heads: string[] = [];
	readonly resolves: string[] = [];
	readonly tags = new Map<string, RemoteTag | Error>();
	readonly images = new Map<string, PlatformImage>();

	async headTag(reference: ImageReference): Promise<RemoteTag> {
		const key = formatReference(reference);
		this.heads.push(key);
		const answer = this.tags.get(key);
		if (answer === undefined) {
			throw new RegistryError({message: `Tag not found: ${key}`, status: 404, code: 'MANIFEST_UNKNOWN', url: key, temporary: false});
		}

		if (answer instanceof Error) {
			throw answer;
		}

		return answer;
	}

	async resolvePlatform(_reference: ImageReference, remoteDigest: string): Promise<PlatformImage> {
		this.resolves.push(remoteDigest);
		const image = this.images.get(remoteDigest);
		if (image === undefined) {
			throw new Error(`unexpected resolve of ${remoteDigest}`);
		}

		return image;
	}
}

export function memory(partial: Partial<Omit<ScanMemory, 'platformImage'>> & {known?: Map<string, PlatformImage>} = {}): () => Promise<ScanMemory> {
	return async () => ({
		pins: partial.pins ?? [],
		exclusions: partial.exclusions ?? [],
		platformImage: (remoteDigest: string) => partial.known?.get(remoteDigest),
	});
}
