import {posix} from 'node:path';
import type Dockerode from 'dockerode';
import type {z} from 'zod';
import {forEachLimit} from '../core/limit.ts';
import {isImageIdReference} from '../core/reference.ts';
import type {ContainerSource} from '../core/ports.ts';
import type {ContainerFacts, ImageStore, InsecurePolicy, Platform} from '../core/types.ts';
import type {EngineAddress} from './address.ts';
import {readArchiveFile} from './archive.ts';
import {abortable, checkShape, EngineApi} from './engine-api.ts';
import type {EngineTarget} from './failures.ts';
import {containerListing, EngineModem, EngineNotFoundError, imageListing, nodeStream, serviceListing} from './modem.ts';
import {listRead, type LargeListing} from './listing.ts';
import {containerInspectSchema, containerListSchema, containerNamePattern, imageInspectSchema, imageListSchema, infoSchema, serviceListSchema, type ContainerSummary} from './schemas.ts';
import {enginePlatform, serviceFacts, serviceIdLabel} from './services.ts';

interface EngineInfo {
	readonly imageStore: ImageStore;
	readonly insecure: InsecurePolicy;
	/** A Swarm manager lists services. */
	readonly swarmManager: boolean;
	readonly platform: Platform | null;
	readonly fetchedAt: number;
}

/** Inspect calls in flight at once: the engine serialises much of this work anyway. */
const inspectConcurrency = 8;
/**
 * How long one /info answer is used. The image store and registry settings change only with a daemon
 * restart, but a live view should notice an engine becoming a Swarm manager.
 */
const infoTtlMs = 60_000;
/** Symlinks followed by `readContainerFile` (/etc/os-release -> ../usr/lib/os-release). */
const maxSymlinks = 2;

export interface DockerEngineOptions {
	/** The host name rows carry: `local`, a context name, a `--host` or saved name. */
	readonly name: string;
	readonly address: EngineAddress;
	/** Timeout of one engine call. */
	readonly timeoutMs: number;
	/** Told when a listing passes that many entries (the program then saves memory). */
	readonly onLargeListing?: LargeListing | undefined;
}

/**
 * One Docker engine, through dockerode on updock's own transport (EngineModem): every container with the
 * facts of the image it runs, from the container and image lists, with an inspect only where the list
 * shows an image id; on a Swarm manager, its services too.
 */
export class DockerEngine implements ContainerSource {
	readonly name: string;
	readonly address: EngineAddress;
	readonly api: EngineApi;
	#docker: Promise<Dockerode> | undefined;
	#info: Promise<EngineInfo> | undefined;
	readonly #platforms = new Map<string, Promise<Platform | null>>();

	constructor(options: DockerEngineOptions) {
		this.name = options.name;
		this.address = options.address;
		this.api = new EngineApi(this.target, options.timeoutMs, options.onLargeListing);
	}

	/** The engine as messages name it. */
	get target(): EngineTarget {
		return {name: this.name, address: this.address};
	}

	async close(): Promise<void> {
		await this.api.close();
	}

	/**
	 * dockerode on this engine's transport. It is loaded on the first call, not at start-up: importing it
	 * costs tens of milliseconds (its BuildKit session code loads gRPC) that commands which never reach
	 * an engine should not pay, and the engine's /_ping goes out while it loads.
	 */
	async dockerode(): Promise<Dockerode> {
		if (this.#docker === undefined) {
			this.api.warmUp();
			const pending = import('dockerode').then(({default: Docker}) => new Docker({modem: new EngineModem(this.api)}));
			this.#docker = pending;
			pending.catch(() => {
				if (this.#docker === pending) {
					this.#docker = undefined;
				}
			});
		}

		return this.#docker;
	}

	async imageStore(signal?: AbortSignal): Promise<ImageStore> {
		return (await this.#engineInfo(signal)).imageStore;
	}

	/** The registries the engine treats as insecure (its `insecure-registries` and their CIDRs). */
	async insecureRegistries(signal?: AbortSignal): Promise<InsecurePolicy> {
		return (await this.#engineInfo(signal)).insecure;
	}

	async #engineInfo(signal?: AbortSignal): Promise<EngineInfo> {
		const cached = this.#info;
		if (cached !== undefined) {
			const info = await cached.catch(() => undefined);
			if (info !== undefined && Date.now() - info.fetchedAt < infoTtlMs) {
				return info;
			}

			if (this.#info !== cached) {
				return this.#engineInfo(signal);
			}
		}

		// Shared by the callers that come meanwhile, so no caller's signal ends it (the timeout does);
		// each caller stops waiting when its own signal aborts.
		const pending = this.#fetchInfo();
		this.#info = pending;
		pending.catch(() => {
			if (this.#info === pending) {
				this.#info = undefined;
			}
		});
		return signal === undefined ? pending : abortable(pending, signal);
	}

	async #fetchInfo(): Promise<EngineInfo> {
		const docker = await this.dockerode();
		const info = checkShape(this.target, '/info', await docker.info(), infoSchema);
		return {
			imageStore: info.DriverStatus?.find(([key]) => key === 'driver-type')?.[1] === 'io.containerd.snapshotter.v1' ? 'containerd' : 'classic',
			insecure: {
				registries: Object.values(info.RegistryConfig?.IndexConfigs ?? {}).flatMap(index => index.Secure === false && index.Name !== undefined ? [index.Name] : []),
				cidrs: info.RegistryConfig?.InsecureRegistryCIDRs ?? [],
			},
			swarmManager: info.Swarm?.LocalNodeState === 'active' && info.Swarm.ControlAvailable === true,
			platform: enginePlatform(info.OSType, info.Architecture),
			fetchedAt: Date.now(),
		};
	}

	/**
	 * Two calls for the whole list (containers, images); a container inspect only where the list shows
	 * an image id, which it does once the tag the container was created from has moved. On a Swarm
	 * manager, its services are rows too, and their task containers are not.
	 */
	async listContainers(signal?: AbortSignal): Promise<ContainerFacts[]> {
		const docker = await this.dockerode();
		// Once one listing fails the other stops reading: what it would keep is memory spent for nothing.
		const failed = new AbortController();
		const listing = signal === undefined ? failed.signal : AbortSignal.any([signal, failed.signal]);
		const stopOthers = (error: unknown): never => {
			failed.abort(error);
			throw error;
		};

		const [summaries, images, info] = await Promise.all([
			docker.listContainers({all: true, abortSignal: listing}).then(raw => listRead(containerListing, raw) ?? checkShape(this.target, '/containers/json', raw, containerListSchema), stopOthers),
			docker.listImages({abortSignal: listing}).then(raw => listRead(imageListing, raw) ?? checkShape(this.target, '/images/json', raw, imageListSchema), stopOthers),
			this.#engineInfo(signal),
		]);
		const services = info.swarmManager
			? await docker.listServices({status: true, abortSignal: signal}).then(raw => listRead(serviceListing, raw) ?? checkShape(this.target, '/services', raw, serviceListSchema))
			: [];
		const serviceIds = new Set(services.map(service => service.ID));
		const taskContainers = new Map<string, string[]>();
		const containers: ContainerSummary[] = [];
		for (const summary of summaries) {
			const serviceId = summary.Labels[serviceIdLabel];
			if (serviceId !== undefined && serviceIds.has(serviceId)) {
				if (summary.State === 'running') {
					taskContainers.set(serviceId, [...taskContainers.get(serviceId) ?? [], summary.Id]);
				}
			} else {
				containers.push(summary);
			}
		}

		const imagesById = new Map(images.map(image => [image.Id, image]));
		const factsOf = (summary: ContainerSummary, reference: string, name: string): ContainerFacts => {
			const image = imagesById.get(summary.ImageID);
			return {
				host: this.name,
				kind: 'container',
				labels: summary.Labels,
				service: null,
				id: summary.Id,
				name,
				image: reference,
				imageId: summary.ImageID,
				state: summary.State,
				repoDigests: image?.RepoDigests ?? [],
				imagePresent: image !== undefined,
				platform: null,
			};
		};

		// Only a container listed with an image id needs a call of its own; the others (nearly all of
		// 50,000) are made at once, without a promise each.
		const facts: Array<ContainerFacts | undefined> = containers.map(summary => isImageIdReference(summary.Image, summary.ImageID)
			? undefined
			: factsOf(summary, summary.Image, primaryName(summary.Names) ?? summary.Id.slice(0, 12)));
		const inspected = [...containers.keys()].filter(index => facts[index] === undefined);
		await forEachLimit(inspected, inspectConcurrency, async index => {
			const summary = containers[index]!;
			const container = await this.#inspectContainer(docker, summary.Id, signal);
			// Undefined when it was removed between list and inspect.
			if (container !== undefined) {
				facts[index] = factsOf(summary, container.Config.Image, container.Name.replace(/^\//, ''));
			}
		});
		const rows = facts.filter(fact => fact !== undefined);
		for (const service of services) {
			rows.push(serviceFacts(service, {host: this.name, platform: info.platform, tasks: taskContainers.get(service.ID) ?? []}));
		}

		return rows;
	}

	async imagePlatform(imageId: string, signal?: AbortSignal): Promise<Platform | null> {
		if (!imageIdPattern.test(imageId)) {
			// Not an id the engine could have given: nothing to ask it.
			return null;
		}

		let pending = this.#platforms.get(imageId);
		if (pending === undefined) {
			pending = this.#inspectImage(imageId, signal)
				.then(image => image === undefined ? null : {os: image.Os, architecture: image.Architecture, variant: image.Variant || undefined});
			this.#platforms.set(imageId, pending);
			pending.catch(() => this.#platforms.delete(imageId));
		}

		return pending;
	}

	/** A container's name, given its name or (a prefix of) its id; undefined when there is none. */
	async findContainerName(nameOrId: string, signal?: AbortSignal): Promise<{name: string; id: string} | undefined> {
		// dockerode puts it in the path as it is: anything Docker would not take as a name or an id is
		// no such container, and never a different request.
		const bare = nameOrId.replace(/^\//, '');
		if (!containerNamePattern.test(bare)) {
			return undefined;
		}

		const container = await this.#inspectContainer(await this.dockerode(), bare, signal);
		return container === undefined ? undefined : {name: container.Name.replace(/^\//, ''), id: container.Id};
	}

	/**
	 * A file of a container (running or not), read through the engine's archive endpoint, following a
	 * symlink at `path` up to twice. Null when the path does not exist.
	 * @throws DockerUnavailableError, also when the file is larger than `maxBytes`.
	 */
	async readContainerFile(containerId: string, path: string, maxBytes: number, signal?: AbortSignal): Promise<Buffer | null> {
		if (!containerNamePattern.test(containerId)) {
			return null;
		}

		const container = (await this.dockerode()).getContainer(containerId);
		const containerPath = `/containers/${containerId}/archive`;
		let current = path;
		for (let hop = 0; hop <= maxSymlinks; hop++) {
			const body = await notFoundAsUndefined(container.getArchive({path: current, abortSignal: signal}));
			if (body === undefined) {
				return null;
			}

			const entry = await readArchiveFile(nodeStream(body), {target: this.target, path: current, containerPath, maxBytes, timeoutMs: this.api.timeoutMs, signal});
			if (entry.kind === 'file') {
				return entry.content;
			}

			if (entry.kind !== 'symlink') {
				return null;
			}

			current = posix.resolve(posix.dirname(current), entry.target);
		}

		return null;
	}

	/** A container's inspect; undefined when the engine has no such container. */
	async #inspectContainer(docker: Dockerode, id: string, signal?: AbortSignal): Promise<ContainerInspect | undefined> {
		const raw = await notFoundAsUndefined(docker.getContainer(id).inspect({abortSignal: signal}));
		return raw === undefined ? undefined : checkShape(this.target, `/containers/${id}/json`, raw, containerInspectSchema);
	}

	async #inspectImage(id: string, signal?: AbortSignal): Promise<ImageInspect | undefined> {
		const raw = await notFoundAsUndefined((await this.dockerode()).getImage(id).inspect({abortSignal: signal}));
		return raw === undefined ? undefined : checkShape(this.target, `/images/${id}/json`, raw, imageInspectSchema);
	}
}

type ContainerInspect = z.infer<typeof containerInspectSchema>;
type ImageInspect = z.infer<typeof imageInspectSchema>;

/** An image id as engines give them (`sha256:<hex>`, or the bare hex of old engines). */
const imageIdPattern = /^(?:sha256:)?[a-f\d]{12,64}$/;

/** A call's answer, or undefined when the engine said there is no such thing (HTTP 404). */
async function notFoundAsUndefined<T>(call: Promise<T>): Promise<T | undefined> {
	try {
		return await call;
	} catch (error) {
		if (error instanceof EngineNotFoundError) {
			return undefined;
		}

		throw error;
	}
}

/** A container's own name: `/web`, not a link alias like `/other/web`. */
function primaryName(names: readonly string[]): string | undefined {
	const name = names.find(candidate => candidate.lastIndexOf('/') === 0) ?? names[0];
	return name?.replace(/^\//, '');
}
