import {rm} from 'node:fs/promises';
import {join} from 'node:path';
import {lock} from 'proper-lockfile';
import {startDockerd} from './dockerd.ts';
import {linkExists} from './leftovers.ts';
import {freePort, must, waitFor} from './process.ts';

/**
 * Swarm's gossip port (7946) cannot be moved and `docker_gwbridge` is one name per machine, so only one
 * swarm may exist at a time; test runs of several people on one machine wait for each other here.
 */
const machineLock = '/tmp/updock-swarm.lock';
const gatewayBridge = 'docker_gwbridge';

/** A single-node swarm on a sandbox engine, initialised by `initSwarm`. */
export interface Swarm {
	/** The engine, `unix://…`. */
	readonly host: string;
	readonly nodeId: string;
	/** `127.0.0.1:PORT` where the manager listens (a free port, not 2377). */
	readonly managerAddress: string;
	/** `docker swarm leave --force` (which removes the services and their task containers), delete `docker_gwbridge`, release the machine lock. */
	leave(): Promise<void>;
}

/**
 * `docker swarm init` on the engine at `dockerHost`, listening and advertising on 127.0.0.1 only.
 * Waits (up to 4 minutes) while another swarm on this machine holds the lock.
 */
export async function initSwarm(dockerHost: string): Promise<Swarm> {
	const release = await lock(machineLock, {
		realpath: false,
		stale: 30_000,
		retries: {retries: 240, factor: 1, minTimeout: 1000, maxTimeout: 1000},
		onCompromised(error) {
			process.stderr.write(`swarm: the machine lock ${machineLock} was lost: ${error.message}\n`);
		},
	});
	// Only a bridge this swarm made is ours to delete.
	const bridgeWasThere = await linkExists(gatewayBridge);
	const leave = async (): Promise<void> => {
		try {
			await must('docker', ['-H', dockerHost, 'swarm', 'leave', '--force'], {timeoutMs: 60_000});
			if (!bridgeWasThere && await linkExists(gatewayBridge)) {
				await must('ip', ['link', 'delete', gatewayBridge]);
			}
		} finally {
			await release();
		}
	};

	let initialised = false;
	try {
		const port = await freePort();
		const managerAddress = `127.0.0.1:${port}`;
		await must('docker', ['-H', dockerHost, 'swarm', 'init', '--advertise-addr', managerAddress, '--listen-addr', managerAddress], {timeoutMs: 60_000});
		initialised = true;
		const nodeId = (await must('docker', ['-H', dockerHost, 'info', '--format', '{{.Swarm.NodeID}}'])).trim();
		// The engine makes the bridge for its ingress network a moment after init returns; waiting for it
		// means a quick leave cannot race its creation and leave it behind.
		await waitFor(`${gatewayBridge} after swarm init on ${dockerHost}`, async () => linkExists(gatewayBridge), 30_000, 50);
		let left = false;
		return {
			host: dockerHost,
			nodeId,
			managerAddress,
			async leave() {
				if (!left) {
					left = true;
					await leave();
				}
			},
		};
	} catch (error) {
		if (initialised) {
			await leave().catch(() => undefined);
		} else {
			await release();
		}

		throw error;
	}
}

/** A dockerd of its own in swarm mode: what the Swarm tests use, so the shared engine never becomes a manager. */
export interface SwarmEngine extends Swarm {
	readonly socket: string;
	/** The dockerd process. */
	readonly pid: number;
	/** The directory given to `startSwarmEngine`; removed by `stop()`. */
	readonly root: string;
	/** Leave the swarm, remove containers, stop dockerd and wait for it, unmount, delete `docker_gwbridge`, remove `root`. */
	stop(): Promise<void>;
}

/** Start a private dockerd under `dir` (see `startDockerd`) and make it a single-node swarm manager. */
export async function startSwarmEngine(dir: string): Promise<SwarmEngine> {
	const engine = await startDockerd(join(dir, 'engine'));
	let swarm: Swarm;
	try {
		swarm = await initSwarm(engine.host);
	} catch (error) {
		await engine.stop();
		await rm(dir, {recursive: true, force: true});
		throw error;
	}

	return {
		...swarm,
		leave: async () => swarm.leave(),
		socket: engine.socket,
		pid: engine.pid,
		root: dir,
		async stop() {
			try {
				await swarm.leave();
			} finally {
				await engine.stop();
				await rm(dir, {recursive: true, force: true, maxRetries: 3});
			}
		},
	};
}

export interface ServiceOptions {
	/** Number of tasks of a replicated service. @default 1 */
	readonly replicas?: number;
	/** `global` runs one task per node (here: one). @default 'replicated' */
	readonly mode?: 'replicated' | 'global';
	/** The task's command; without it, the image's own (sandbox images run `busybox sleep 3600`). */
	readonly command?: readonly string[];
	/** Labels on the service (`--label`). */
	readonly labels?: Readonly<Record<string, string>>;
	/** Labels on its task containers (`--container-label`). */
	readonly containerLabels?: Readonly<Record<string, string>>;
	/**
	 * Let the CLI pin the tag to the registry's digest in the spec (`image:tag@sha256:…`); false keeps the
	 * reference as given (`--no-resolve-image`), and the engine resolves the tag when it pulls.
	 * @default true
	 */
	readonly resolveImage?: boolean;
	/** A docker config directory with credentials for the image's registry: sent along with `--with-registry-auth`. */
	readonly config?: string;
	/** How long to wait for the tasks to run. @default 60_000 */
	readonly timeoutMs?: number;
}

/** A service whose tasks were all seen running. */
export interface Service {
	readonly id: string;
	readonly name: string;
	/** The image in the service spec, as the engine stored it (with `@sha256:…` when resolved). */
	readonly specImage: string;
	/** `docker service rm`, then wait until its task containers are gone. */
	remove(): Promise<void>;
}

interface TaskLine {
	readonly desired: string;
	readonly current: string;
	readonly error: string;
}

async function tasks(dockerHost: string, id: string): Promise<TaskLine[]> {
	const out = await must('docker', ['-H', dockerHost, 'service', 'ps', '--no-trunc', '--format', '{{.DesiredState}}\t{{.CurrentState}}\t{{.Error}}', id]);
	return out.split('\n').filter(Boolean).map(line => {
		const [desired = '', current = '', error = ''] = line.split('\t');
		return {desired, current, error};
	});
}

/**
 * `docker service create --detach --name NAME … IMAGE [command]` on a swarm manager, then wait until as
 * many tasks run as the service wants. A task that fails (a missing command, an image that will not pull)
 * fails this at once with the engine's error instead of after the timeout.
 */
export async function createService(dockerHost: string, name: string, image: string, options: ServiceOptions = {}): Promise<Service> {
	const replicas = options.replicas ?? 1;
	if (!Number.isInteger(replicas) || replicas < 0 || replicas > 100) {
		throw new RangeError(`replicas must be an integer from 0 to 100, not ${replicas}`);
	}

	const global = options.mode === 'global';
	const args = [
		...(options.config === undefined ? [] : ['--config', options.config]),
		'-H', dockerHost,
		'service', 'create', '--detach', '--quiet', '--name', name,
		...(global ? ['--mode', 'global'] : ['--replicas', String(replicas)]),
		// busybox sleep as pid 1 ignores SIGTERM: without this every removed task takes the 10 s default.
		'--stop-grace-period', '0s',
		...Object.entries(options.labels ?? {}).flatMap(([key, value]) => ['--label', `${key}=${value}`]),
		...Object.entries(options.containerLabels ?? {}).flatMap(([key, value]) => ['--container-label', `${key}=${value}`]),
		...(options.resolveImage === false ? ['--no-resolve-image'] : []),
		...(options.config === undefined ? [] : ['--with-registry-auth']),
		image,
		...(options.command ?? []),
	];
	const id = (await must('docker', args, {timeoutMs: 60_000})).trim();
	const wanted = global ? Number((await must('docker', ['-H', dockerHost, 'info', '--format', '{{.Swarm.Nodes}}'])).trim()) : replicas;
	await waitFor(`${wanted} running task(s) of service ${name}`, async () => {
		const lines = await tasks(dockerHost, id);
		const failed = lines.find(line => line.error !== '');
		if (failed !== undefined) {
			throw new Error(`a task of service ${name} (${image}) failed: ${failed.error}`);
		}

		return lines.filter(line => line.desired === 'Running' && line.current.startsWith('Running')).length >= wanted;
	}, options.timeoutMs ?? 60_000, 200);
	const specImage = (await must('docker', ['-H', dockerHost, 'service', 'inspect', '--format', '{{.Spec.TaskTemplate.ContainerSpec.Image}}', id])).trim();
	return {
		id,
		name,
		specImage,
		async remove() {
			await must('docker', ['-H', dockerHost, 'service', 'rm', id]);
			// The engine removes task containers after the call returns.
			await waitFor(`the task containers of service ${name} to go`, async () => (await must('docker', ['-H', dockerHost, 'ps', '-aq', '--filter', `label=com.docker.swarm.service.id=${id}`])).trim() === '', 60_000, 200);
		},
	};
}
