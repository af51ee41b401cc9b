import {DockerUnavailableError} from '../core/errors.ts';
import {forEachLimit} from '../core/limit.ts';
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

interface ImageFacts {
	readonly repoDigests: readonly string[];
	readonly platform: Platform;
}

/** Inspect calls in flight at once: the engine serialises much of this work anyway. */
const inspectConcurrency = 8;

interface ContainerSummary {
	readonly Id: string;
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

	async listContainers(): Promise<ContainerFacts[]> {
		const summaries = await this.#call(async () => this.#api.get<ContainerSummary[]>('/containers/json?all=1'));
		const inspected: Array<ContainerInspect | undefined> = Array.from({length: summaries.length});
		await forEachLimit(summaries.keys(), inspectConcurrency, async index => {
			inspected[index] = await this.#ifExists(async () => this.#api.get<ContainerInspect>(`/containers/${encodeURIComponent(summaries[index]!.Id)}/json`));
		});

		const images = new Map<string, Promise<ImageFacts | null>>();
		const imageFacts = async (id: string): Promise<ImageFacts | null> => {
			let pending = images.get(id);
			if (pending === undefined) {
				pending = this.#ifExists(async () => this.#api.get<ImageInspect>(`/images/${encodeURIComponent(id)}/json`)).then(image => image === undefined ? null : {
					repoDigests: image.RepoDigests ?? [],
					platform: {os: image.Os, architecture: image.Architecture, variant: image.Variant || undefined},
				});
				images.set(id, pending);
			}

			return pending;
		};

		const facts: Array<ContainerFacts | undefined> = Array.from({length: summaries.length});
		await forEachLimit(inspected.keys(), inspectConcurrency, async index => {
			const container = inspected[index];
			if (container === undefined) {
				return; // Removed between list and inspect.
			}

			const image = await imageFacts(container.Image);
			facts[index] = {
				id: container.Id,
				name: container.Name.replace(/^\//, ''),
				image: container.Config.Image,
				imageId: container.Image,
				state: container.State.Status,
				repoDigests: image?.repoDigests ?? [],
				platform: image?.platform ?? null,
			};
		});
		return facts.filter(fact => fact !== undefined);
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
