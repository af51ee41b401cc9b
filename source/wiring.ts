import type {Config} from './config.ts';
import {ConfigError} from './core/errors.ts';
import type {HostSource} from './core/scanner.ts';
import type {InsecurePolicy} from './core/types.ts';
import {parseEngineAddress, resolveContext, resolveDefaultEngine, type EngineAddress} from './docker/address.ts';
import {DockerEngine} from './docker/engine.ts';
import type {LargeListing} from './docker/listing.ts';
import {manyEntries, saveMemory} from './memory-mode.ts';
import {RegistryAuth} from './registry/auth.ts';
import {HttpRegistryClient} from './registry/client.ts';
import {DockerConfigCredentials} from './registry/credentials.ts';
import {RegistryHttp, userAgent, type HttpOptions} from './registry/http.ts';
import {RegistryTrust} from './registry/trust.ts';
import {LinksStep, type LabelMemory} from './core/links-step.ts';
import {NewerVersionsStep} from './core/newer-step.ts';
import type {ScanStep} from './core/scanner.ts';
import {VulnerabilitiesStep, type VulnerabilitySource} from './core/vulns-step.ts';
import {LiveModel} from './core/live-model.ts';
import {Scanner, type ScanOutcome} from './core/scanner.ts';
import {imageLabelsFor, JsonStore, lastScanRepositories, rememberImageLabels, rememberScan, scanMemory, type Database, type SavedHost} from './store/store.ts';

/** One engine, connected lazily: nothing is dialled until it is asked something. */
export interface EngineHost extends HostSource {
	readonly engine: DockerEngine;
}

/** The engines a command works on, and the one that pins without a host belong to. */
export interface EngineHosts {
	readonly hosts: readonly EngineHost[];
	/** The default engine's name (`local`, or the current context's name). */
	readonly defaultHost: string;
	close(): Promise<void>;
}

/** A listing this long makes the program save memory from then on (see memory-mode.ts). */
const onLargeListing: LargeListing = {entries: manyEntries, reached: saveMemory};

/**
 * The engines to scan: `--host`/`--context` when given, else the hosts saved with `updock host add`,
 * else the one engine DOCKER_HOST or the current docker context names.
 * @throws ConfigError naming the flag, the saved host or the variable whose address is not usable.
 */
export function engineHosts(config: Config, saved: readonly SavedHost[]): EngineHosts {
	const fallback = resolveDefaultEngine(config.engineEnv);
	let chosen: Array<{name: string; address: EngineAddress}>;
	if (config.hosts.length > 0) {
		chosen = config.hosts.map(choice => {
			const resolved = choice.kind === 'address'
				? parseEngineAddress(choice.address, {})
				: resolveContext(choice.name, config.engineEnv.dockerConfigDir);
			if ('error' in resolved) {
				throw new ConfigError(choice.kind === 'address' ? '--host' : '--context', `${choice.kind === 'address' ? `--host ${choice.name}` : `--context ${choice.name}`}: ${resolved.error}`);
			}

			return {name: choice.name, address: resolved};
		});
	} else if (saved.length > 0) {
		chosen = saved.map(host => {
			const resolved = parseEngineAddress(host.address, {tlsVerify: host.tlsVerify, certPath: host.certPath});
			if ('error' in resolved) {
				throw new ConfigError(`host ${host.name}`, `The saved host "${host.name}" has an address updock cannot use: ${resolved.error} Fix it with "updock host rm ${host.name}" and "updock host add".`);
			}

			return {name: host.name, address: resolved};
		});
	} else {
		if ('error' in fallback) {
			throw new ConfigError(fallback.source, fallback.error);
		}

		chosen = [fallback];
	}

	const defaultHost = 'error' in fallback ? 'local' : fallback.name;
	const hosts = chosen.map(({name, address}) => ({name, address: address.display, engine: new DockerEngine({name, address, timeoutMs: config.timeoutMs, onLargeListing})}));
	return {
		hosts,
		defaultHost,
		async close() {
			await Promise.all(hosts.map(async host => host.engine.close()));
		},
	};
}

/**
 * The registry side, configured: trust from certs.d and the engines, credentials, HTTP, the client.
 * `hooks.onRequest` is told of every registry request (`serve` counts them for /metrics).
 */
export function registryStack(config: Config, engines: readonly DockerEngine[], hooks: Pick<HttpOptions, 'onRequest'> = {}): {client: HttpRegistryClient; http: RegistryHttp} {
	const trust = registryTrust(config, engines);
	// The HEADs keep `--concurrency` connections to themselves; the tag listings that run beside them get their own.
	const http = new RegistryHttp({timeoutMs: config.timeoutMs, connectionsPerHost: config.concurrency + listingsInFlight(config), userAgent, trust, ...hooks});
	const credentials = new DockerConfigCredentials(config.dockerConfigPath, {envJson: config.dockerAuthConfig});
	return {client: new HttpRegistryClient(http, new RegistryAuth(http, credentials)), http};
}

/**
 * Tag listings in flight per registry, beside the HEADs: as many as the HEADs, so a scan that lists
 * every repository it checks takes about as long as its HEADs alone. None with `--tags off`.
 */
export function listingsInFlight(config: Pick<Config, 'tags' | 'concurrency'>): number {
	return config.tags ? config.concurrency : 0;
}

/** Which scheme and certificates each registry gets: certs.d, loopback, and what the engines call insecure. */
export function registryTrust(config: Config, engines: readonly DockerEngine[]): RegistryTrust {
	return new RegistryTrust({certsDir: config.certsDir, insecure: async () => insecureUnion(engines)});
}

/** Registries any of the engines calls insecure; an engine that cannot be asked adds none. */
async function insecureUnion(engines: readonly DockerEngine[]): Promise<InsecurePolicy> {
	const policies = await Promise.all(engines.map(async engine => engine.insecureRegistries().catch(() => undefined)));
	const registries = new Set<string>();
	const cidrs = new Set<string>();
	for (const policy of policies) {
		for (const registry of policy?.registries ?? []) {
			registries.add(registry);
		}

		for (const cidr of policy?.cidrs ?? []) {
			cidrs.add(cidr);
		}
	}

	return {registries: [...registries], cidrs: [...cidrs]};
}

/** The steps after the verdicts, and the memory they keep in the JSON file. */
export interface ScanSteps {
	readonly steps: readonly ScanStep[];
	/** Image labels by config digest: read from the file before a scan, what was learned written after it. */
	readonly memory: {load(data: Database): void; save(data: Database): void};
	close(): Promise<void>;
}

/**
 * Newer versions (unless `--tags off`), links, and, with `--vulns on`, known vulnerabilities. The
 * vulnerability code (OSV client, SBOM and package parsers, CVSS) is loaded only when it is on.
 */
export async function scanSteps(config: Config, client: HttpRegistryClient, hosts: readonly EngineHost[]): Promise<ScanSteps> {
	const labels = new FileLabelMemory();
	const steps: ScanStep[] = [];
	if (config.tags) {
		steps.push(new NewerVersionsStep({tags: client, cacheMs: config.tagsIntervalMs, concurrency: listingsInFlight(config)}));
	}

	steps.push(new LinksStep(client, labels));
	let close = async (): Promise<void> => undefined;
	if (config.vulns) {
		const {VulnerabilityAssessor} = await import('./vulns/assessor.ts');
		const engines = new Map(hosts.map(host => [host.name, host.engine]));
		const assessor = new VulnerabilityAssessor({
			osvUrl: config.osvUrl,
			timeoutMs: config.timeoutMs,
			registry: client,
			files: {
				// Each item names its container as `host/id`: the files are read from that host's engine.
				async readContainerFile(key, path, maxBytes, signal) {
					const slash = key.indexOf('/');
					const engine = engines.get(key.slice(0, slash));
					return engine === undefined || slash === -1 ? null : engine.readContainerFile(key.slice(slash + 1), path, maxBytes, signal);
				},
			},
		});
		const source: VulnerabilitySource = {
			async assess(items, signal) {
				const assessed = await assessor.assessAll(items.map(item => ({
					key: item.key,
					reference: item.reference,
					containerId: item.containerId === null ? '' : `${item.host}/${item.containerId}`,
					platform: item.platform,
					currentDigest: item.currentDigest,
					targetDigest: item.targetDigest,
					targetPlatformManifestDigest: item.targetPlatformManifestDigest,
				})), signal);
				return assessed;
			},
		};
		steps.push(new VulnerabilitiesStep(source, client, async (host, imageId, signal) => engines.get(host)?.imagePlatform(imageId, signal) ?? null));
		close = async () => assessor.close();
	}

	return {steps, memory: labels, close};
}

/** Image labels remembered in the JSON file by config digest; what a scan learns is saved with its results. */
class FileLabelMemory implements LabelMemory {
	#data: Database | undefined;
	readonly #learned = new Map<string, Readonly<Record<string, string>>>();

	load(data: Database): void {
		this.#data = data;
	}

	get(configDigest: string): Readonly<Record<string, string>> | undefined {
		return this.#learned.get(configDigest) ?? (this.#data === undefined ? undefined : imageLabelsFor(this.#data, configDigest));
	}

	set(configDigest: string, labels: Readonly<Record<string, string>>): void {
		this.#learned.set(configDigest, labels);
	}

	save(data: Database): void {
		rememberImageLabels(data, this.#learned, new Date());
		this.#learned.clear();
		this.#data = data;
	}
}

/** What the live view and `serve` share: the file, the engines, the registries, the steps, the model and the scanner. */
export interface LiveScanning {
	/** The JSON file as read at start. */
	readonly data: Database;
	readonly store: JsonStore;
	readonly engines: EngineHosts;
	readonly client: HttpRegistryClient;
	readonly model: LiveModel;
	readonly scanner: Scanner;
	/** Save a scan's results and what its steps learned; `also` changes the same write. Throws StoreError. */
	save(outcome: ScanOutcome, partial: boolean, also?: (data: Database) => void): Promise<void>;
	close(): Promise<void>;
}

/**
 * Wire a long-running scanner: the JSON file read first (a broken one stops here, with its path), the
 * engines, the registry stack, the steps, the live model fed by the scanner, pins and exclusions read
 * afresh at every scan.
 */
export async function liveScanning(config: Config, hooks: Pick<HttpOptions, 'onRequest'> = {}): Promise<LiveScanning> {
	const data = await new JsonStore(config.dbPath).load();
	const engines = engineHosts(config, data.hosts);
	const store = new JsonStore(config.dbPath, {defaultHost: engines.defaultHost});
	const {client, http} = registryStack(config, engines.hosts.map(host => host.engine), hooks);
	const model = new LiveModel(engines.hosts.length === 1 ? engines.hosts[0]!.address : `${engines.hosts.length} hosts: ${engines.hosts.map(host => host.name).join(', ')}`);
	model.loadLastRun(data.lastScan?.report() ?? null);
	const steps = await scanSteps(config, client, engines.hosts);
	let latest = data;
	const scanner = new Scanner({
		hosts: engines.hosts,
		defaultHost: engines.defaultHost,
		registry: client,
		steps: steps.steps,
		memory: async () => {
			const saved = await store.load();
			latest = saved;
			steps.memory.load(saved);
			return scanMemory(saved);
		},
		// As the file was at the scan before: what the last saved results name.
		expected: () => lastScanRepositories(latest),
		concurrency: config.concurrency,
	});
	scanner.subscribe(model.onScanEvent);
	return {
		data,
		store,
		engines,
		client,
		model,
		scanner,
		async save(outcome, partial, also) {
			await store.update(saved => {
				rememberScan(saved, outcome.report, outcome.learned, new Date(), partial);
				steps.memory.save(saved);
				also?.(saved);
			});
		},
		async close() {
			await http.close();
			await steps.close();
			await engines.close();
		},
	};
}
