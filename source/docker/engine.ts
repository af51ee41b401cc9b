import {DockerUnavailableError} from '../core/errors.ts';
import {forEachLimit} from '../core/limit.ts';
import {isImageIdReference} from '../core/reference.ts';
import type {ContainerSource} from '../core/ports.ts';
import type {ContainerFacts, ImageStore, InsecurePolicy, Platform} from '../core/types.ts';
import type {EngineAddress} from './address.ts';
import {EngineApi, EngineHttpError} from './engine-api.ts';

interface RawInfo {
	readonly DriverStatus?: Array<[string, string]> | null;
	readonly RegistryConfig?: {
		readonly IndexConfigs?: Record<string, {readonly Name?: string; readonly Secure?: boolean}> | null;
		readonly InsecureRegistryCIDRs?: unknown[] | null;
	} | null;
}

interface EngineInfo {
	readonly imageStore: ImageStore;
	readonly insecure: InsecurePolicy;
}

/** Inspect calls in flight at once: the engine serialises much of this work anyway. */
const inspectConcurrency = 8;

interface ContainerSummary {
	readonly Id: string;
	readonly Names: string[];
	/** The reference as created, or the image id once that reference points elsewhere. */
	readonly Image: string;
	readonly ImageID: string;
	readonly State: string;
}

interface ImageSummary {
	readonly Id: string;
	readonly RepoDigests?: string[] | null;
}

interface ContainerInspect {
	readonly Id: string;
	readonly Name: string;
	readonly Image: string;
	readonly Config: {readonly Image: string};
	readonly State: {readonly Status: string};
}

interface ImageInspect {
	readonly RepoDigests?: string[] | null;
	readonly Os: string;
	readonly Architecture: string;
	readonly Variant?: string;
}

/**
 * The Docker engine: every container with the facts of the image it runs, from container inspect
 * (`Config.Image`, `Image`) and image inspect (RepoDigests, platform).
 */
export class DockerEngine implements ContainerSource {
	readonly address: EngineAddress;
	readonly #api: EngineApi;
	#info: Promise<EngineInfo> | undefined;
	readonly #platforms = new Map<string, Promise<Platform | null>>();

	constructor(address: EngineAddress, timeoutMs: number) {
		this.address = address;
		this.#api = new EngineApi(address, timeoutMs);
	}

	async close(): Promise<void> {
		await this.#api.close();
	}

	async imageStore(): Promise<ImageStore> {
		return (await this.#engineInfo()).imageStore;
	}

	/** The registries the engine treats as insecure (its `insecure-registries` and their CIDRs). */
	async insecureRegistries(): Promise<InsecurePolicy> {
		return (await this.#engineInfo()).insecure;
	}

	async #engineInfo(): Promise<EngineInfo> {
		// One /info per process: the image store and registry settings only change with a daemon restart.
		this.#info ??= this.#call(async () => this.#api.get<RawInfo>('/info')).then(info => ({
			imageStore: info.DriverStatus?.find(([key]) => key === 'driver-type')?.[1] === 'io.containerd.snapshotter.v1' ? 'containerd' : 'classic',
			insecure: {
				registries: Object.values(info.RegistryConfig?.IndexConfigs ?? {}).filter(index => index.Secure === false && typeof index.Name === 'string').map(index => index.Name!),
				cidrs: (info.RegistryConfig?.InsecureRegistryCIDRs ?? []).filter((cidr): cidr is string => typeof cidr === 'string'),
			},
		}));
		this.#info.catch(() => {
			this.#info = undefined;
		});
		return this.#info;
	}

	/**
	 * Two calls for the whole list (containers, images); a container inspect only where the list shows
	 * an image id, which it does once the tag the container was created from has moved.
	 */
	async listContainers(): Promise<ContainerFacts[]> {
		const [summaries, images] = await Promise.all([
			this.#call(async () => this.#api.get<ContainerSummary[]>('/containers/json?all=1')),
			this.#call(async () => this.#api.get<ImageSummary[]>('/images/json')),
		]);
		const imagesById = new Map(images.map(image => [image.Id, image]));
		const facts: Array<ContainerFacts | undefined> = Array.from({length: summaries.length});
		await forEachLimit(summaries.keys(), inspectConcurrency, async index => {
			const summary = summaries[index]!;
			let reference = summary.Image;
			let name = primaryName(summary.Names) ?? summary.Id.slice(0, 12);
			if (isImageIdReference(reference, summary.ImageID)) {
				const container = await this.#ifExists(async () => this.#api.get<ContainerInspect>(`/containers/${encodeURIComponent(summary.Id)}/json`));
				if (container === undefined) {
					return; // Removed between list and inspect.
				}

				reference = container.Config.Image;
				name = container.Name.replace(/^\//, '');
			}

			const image = imagesById.get(summary.ImageID);
			facts[index] = {
				id: summary.Id,
				name,
				image: reference,
				imageId: summary.ImageID,
				state: summary.State,
				repoDigests: image?.RepoDigests ?? [],
				imagePresent: image !== undefined,
				platform: null,
			};
		});
		return facts.filter(fact => fact !== undefined);
	}

	async imagePlatform(imageId: string): Promise<Platform | null> {
		let pending = this.#platforms.get(imageId);
		if (pending === undefined) {
			pending = this.#ifExists(async () => this.#api.get<ImageInspect>(`/images/${encodeURIComponent(imageId)}/json`))
				.then(image => image === undefined ? null : {os: image.Os, architecture: image.Architecture, variant: image.Variant || undefined});
			this.#platforms.set(imageId, pending);
			pending.catch(() => this.#platforms.delete(imageId));
		}

		return pending;
	}

	/** A container's name, given its name or (a prefix of) its id; undefined when there is none. */
	async findContainerName(nameOrId: string): Promise<{name: string; id: string} | undefined> {
		const container = await this.#ifExists(async () => this.#api.get<ContainerInspect>(`/containers/${encodeURIComponent(nameOrId)}/json`));
		return container === undefined ? undefined : {name: container.Name.replace(/^\//, ''), id: container.Id};
	}

	async #ifExists<T>(call: () => Promise<T>): Promise<T | undefined> {
		try {
			return await this.#call(call);
		} catch (error) {
			if (error instanceof EngineHttpError && error.statusCode === 404) {
				return undefined;
			}

			throw error;
		}
	}

	async #call<T>(call: () => Promise<T>): Promise<T> {
		try {
			return await call();
		} catch (error) {
			if (error instanceof EngineHttpError && error.statusCode !== 404) {
				throw new DockerUnavailableError(this.address.display, `The Docker engine at ${this.address.display} answered HTTP ${error.statusCode}: ${error.message || 'no message'}.`, {cause: error});
			}

			throw error;
		}
	}
}

/** A container's own name: `/web`, not a link alias like `/other/web`. */
function primaryName(names: readonly string[] | null | undefined): string | undefined {
	const name = names?.find(candidate => candidate.lastIndexOf('/') === 0) ?? names?.[0];
	return name?.replace(/^\//, '');
}
