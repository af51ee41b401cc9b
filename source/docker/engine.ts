import Docker from 'dockerode';
import {DockerUnavailableError} from '../core/errors.ts';
import {forEachLimit} from '../core/limit.ts';
import type {ContainerSource} from '../core/ports.ts';
import type {ContainerFacts, ImageStore, InsecurePolicy, Platform} from '../core/types.ts';
import type {EngineAddress} from './address.ts';

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

/**
 * The Docker engine through dockerode: every container with the facts of the image it runs, from
 * container inspect (`Config.Image`, `Image`) and image inspect (RepoDigests, platform).
 */
export class DockerEngine implements ContainerSource {
	readonly address: EngineAddress;
	readonly #docker: Docker;
	#info: Promise<EngineInfo> | undefined;

	constructor(address: EngineAddress, timeoutMs: number) {
		this.address = address;
		this.#docker = address.kind === 'unix'
			? new Docker({socketPath: address.socketPath, timeout: timeoutMs})
			: new Docker({host: address.host, port: address.port, protocol: 'http', timeout: timeoutMs});
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
		this.#info ??= this.#call(async () => this.#docker.info() as Promise<RawInfo>).then(info => ({
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
		const summaries = await this.#call(async () => this.#docker.listContainers({all: true}));
		const inspected: Array<Docker.ContainerInspectInfo | undefined> = Array.from({length: summaries.length});
		await forEachLimit(summaries.keys(), inspectConcurrency, async index => {
			inspected[index] = await this.#ifExists(async () => this.#docker.getContainer(summaries[index]!.Id).inspect());
		});

		const images = new Map<string, Promise<ImageFacts | null>>();
		const imageFacts = async (id: string): Promise<ImageFacts | null> => {
			let pending = images.get(id);
			if (pending === undefined) {
				pending = this.#ifExists(async () => this.#docker.getImage(id).inspect()).then(image => image === undefined ? null : {
					repoDigests: image.RepoDigests ?? [],
					platform: {os: image.Os, architecture: image.Architecture, variant: (image as {Variant?: string}).Variant || undefined},
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
		const container = await this.#ifExists(async () => this.#docker.getContainer(nameOrId).inspect());
		return container === undefined ? undefined : {name: container.Name.replace(/^\//, ''), id: container.Id};
	}

	async #ifExists<T>(call: () => Promise<T>): Promise<T | undefined> {
		try {
			return await this.#call(call);
		} catch (error) {
			if (error instanceof DockerUnavailableError && (error.cause as {statusCode?: number} | undefined)?.statusCode === 404) {
				return undefined;
			}

			throw error;
		}
	}

	async #call<T>(call: () => Promise<T>): Promise<T> {
		try {
			return await call();
		} catch (error) {
			throw engineError(this.address, error);
		}
	}
}

function engineError(address: EngineAddress, error: unknown): DockerUnavailableError {
	const {code, statusCode, message} = error as {code?: string; statusCode?: number; message?: string};
	const where = address.display;
	if (statusCode !== undefined) {
		return new DockerUnavailableError(where, `The Docker engine at ${where} answered HTTP ${statusCode}: ${message ?? 'no message'}.`, {cause: error});
	}

	switch (code) {
		case 'ENOENT': {
			return new DockerUnavailableError(where, `Cannot reach the Docker engine at ${where}: the socket does not exist. Is dockerd running? Set DOCKER_HOST to its address.`, {cause: error});
		}

		case 'ECONNREFUSED': {
			return new DockerUnavailableError(where, `Cannot reach the Docker engine at ${where}: connection refused. Is dockerd running? Set DOCKER_HOST to its address.`, {cause: error});
		}

		case 'EACCES': {
			return new DockerUnavailableError(where, `Cannot reach the Docker engine at ${where}: permission denied. Run as a member of the docker group, or as root.`, {cause: error});
		}

		default: {
			return new DockerUnavailableError(where, `Cannot reach the Docker engine at ${where}: ${message ?? String(error)}.`, {cause: error});
		}
	}
}
