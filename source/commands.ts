import type {Command, Config} from './config.ts';
import {ConfigError} from './core/errors.ts';
import {validatePattern} from './core/exclusions.ts';
import {pinMatches} from './core/pins.ts';
import {safeTerminalText} from './core/terminal-text.ts';
import {Scanner} from './core/scanner.ts';
import type {ScanReport} from './core/types.ts';
import {parseEngineAddress} from './docker/address.ts';
import {dryRunReport} from './dry-run.ts';
import {dryRunJson, renderDryRun} from './report/dry-run.ts';
import {renderExclusions, renderHosts, renderPins} from './report/lists.ts';
import {scanJsonChunks} from './report/scan-json.ts';
import {scanTableChunks} from './report/scan-table.ts';
import {engineHosts, registryStack, scanSteps, type EngineHost, type EngineHosts} from './wiring.ts';
import {JsonSettings, JsonStore, lastScanRepositories, rememberScan, scanMemory, type Database} from './store/store.ts';

/** Every name, address and message from an engine, a registry or the user's file, made safe for a terminal. */
function safe(value: string | number): string {
	return safeTerminalText(String(value));
}

export interface Output {
	/** One short text and a line break. */
	readonly out: (text: string) => void;
	/**
	 * A long document, written chunk by chunk as the output takes them (its line breaks are in the
	 * chunks); resolves when the last is written or the reader has gone away.
	 */
	readonly outChunks: (chunks: Iterable<string>) => Promise<void>;
	readonly err: (text: string) => void;
	/** Terminal width, when the output is a terminal. */
	readonly width: number | undefined;
}

/** Run one headless command; returns the exit status. Errors are thrown typed for cli.ts to report. */
export async function runCommand(config: Config, output: Output): Promise<number> {
	const store = new JsonStore(config.dbPath);
	const {command} = config;
	switch (command.kind) {
		case 'pins': {
			const {pins} = await store.load();
			output.out(command.json ? JSON.stringify({pins}, null, 2) : renderPins(pins, config.color));
			return 0;
		}

		case 'exclude-add': {
			const pattern = validatePattern(command.pattern);
			const {exclusion, added} = await new JsonSettings(store).addExclusion(pattern);
			output.out(added
				? `Excluded "${safe(exclusion.pattern)}" (id ${safe(exclusion.id)}): matching images are never checked. Undo with "updock exclude rm ${safe(exclusion.id)}".`
				: `"${safe(exclusion.pattern)}" is already excluded (id ${safe(exclusion.id)}).`);
			return 0;
		}

		case 'exclude-list': {
			const {exclusions} = await store.load();
			output.out(command.json ? JSON.stringify({exclusions}, null, 2) : renderExclusions(exclusions, config.color));
			return 0;
		}

		case 'exclude-rm': {
			return removeExclusion(command.target.trim(), store, output);
		}

		case 'host-add': {
			return addHost(command, store, output);
		}

		case 'host-list': {
			const {hosts} = await store.load();
			output.out(command.json ? JSON.stringify({hosts}, null, 2) : renderHosts(hosts, config.color));
			return 0;
		}

		case 'host-rm': {
			const removed = await new JsonSettings(store).removeHost(command.name);
			if (removed === undefined) {
				output.err(`updock: no saved host is named "${safe(command.name)}"; "updock host list" shows them.`);
				return 1;
			}

			output.out(`Removed host ${safe(removed.name)} (${safe(removed.address)}).`);
			return 0;
		}

		default: {
			// Everything else talks to the engines. Nothing connects until asked; closing lets the
			// process exit without waiting out keep-alive.
			const data = await store.load();
			const engines = engineHosts(config, data.hosts);
			try {
				return await runOnEngines(config, command, data, store, output, engines);
			} finally {
				await engines.close();
			}
		}
	}
}

async function runOnEngines(config: Config, command: Command, data: Database, store: JsonStore, output: Output, engines: EngineHosts): Promise<number> {
	switch (command.kind) {
		case 'scan': {
			return scan(config, command, data, store, output, engines);
		}

		case 'dry-run': {
			const {plan, schemes} = await dryRunReport(config, engines, data);
			output.out(command.json ? JSON.stringify(dryRunJson(plan, schemes), null, 2) : renderDryRun(plan, config.color, schemes));
			return 0;
		}

		case 'pin': {
			const found = await findContainer(command.container, engines, output);
			if (typeof found === 'number') {
				return found;
			}

			const added = await new JsonSettings(store, {defaultHost: engines.defaultHost}).pin(found.name, found.id, found.host);
			const label = hostLabel(engines, found.host, found.name);
			output.out(added ? `Pinned ${safe(label)}: updock will not check it until "updock unpin ${safe(label)}".` : `${safe(label)} is already pinned.`);
			return 0;
		}

		case 'unpin': {
			return unpin(command.container, data, store, output, engines);
		}

		default: {
			throw new Error(`runOnEngines got "${command.kind}", which needs no engine`);
		}
	}
}

async function scan(config: Config, command: Extract<Command, {kind: 'scan'}>, data: Database, store: JsonStore, output: Output, engines: EngineHosts): Promise<number> {
	const {client, http} = registryStack(config, engines.hosts.map(host => host.engine));
	const steps = await scanSteps(config, client, engines.hosts);
	steps.memory.load(data);
	const scanner = new Scanner({
		hosts: engines.hosts,
		defaultHost: engines.defaultHost,
		registry: client,
		steps: steps.steps,
		memory: async () => scanMemory(data),
		expected: () => lastScanRepositories(data),
		concurrency: config.concurrency,
	});
	let report: ScanReport;
	try {
		const outcome = await scanner.scan();
		report = outcome.report;
		try {
			await store.update(saved => {
				rememberScan(saved, outcome.report, outcome.learned, new Date());
				steps.memory.save(saved);
			});
		} catch (error) {
			output.err(`updock: warning: the results were not saved: ${safe(error instanceof Error ? error.message : String(error))}`);
		}
	} finally {
		await http.close();
		await steps.close();
	}

	await output.outChunks(command.json ? scanJsonChunks(report) : scanTableChunks(report, {color: config.color, width: output.width}));
	if (report.summary.error > 0 || report.hosts.some(host => host.state === 'error')) {
		return 1;
	}

	const pending = report.summary.updateAvailable + (command.exitCode === 'newer' ? report.summary.newerVersions : 0);
	return command.exitCode !== false && pending > 0 ? 2 : 0;
}

/** `host/name`, or a bare name or id that must name exactly one container across the hosts. */
async function findContainer(target: string, engines: EngineHosts, output: Output): Promise<{host: string; name: string; id: string} | number> {
	const slash = target.indexOf('/');
	if (slash > 0) {
		const hostName = target.slice(0, slash);
		const host = engines.hosts.find(candidate => candidate.name === hostName);
		if (host === undefined) {
			throw new ConfigError('pin', `There is no host named "${hostName}"; the hosts are ${engines.hosts.map(candidate => candidate.name).join(', ')}.`);
		}

		const container = await host.engine.findContainerName(target.slice(slash + 1));
		if (container === undefined) {
			output.err(`updock: no container named or with id "${safe(target.slice(slash + 1))}" on ${safe(host.name)} (${safe(host.address)}).`);
			return 1;
		}

		return {host: host.name, ...container};
	}

	const found = await findOnEveryHost(target, engines.hosts);
	if (found.length === 0) {
		output.err(`updock: no container named or with id "${safe(target)}" on ${safe(describeHosts(engines.hosts))}.`);
		return 1;
	}

	if (found.length > 1) {
		throw new ConfigError('pin', `"${target}" names a container on several hosts: ${found.map(container => `${container.host}/${container.name}`).join(', ')}. Say which, e.g. "updock pin ${found[0]!.host}/${found[0]!.name}".`);
	}

	return found[0]!;
}

/** Every host's container with this name or id; a host that cannot be asked is an error, not a miss. */
async function findOnEveryHost(target: string, hosts: readonly EngineHost[]): Promise<Array<{host: string; name: string; id: string}>> {
	const answers = await Promise.all(hosts.map(async host => {
		const container = await host.engine.findContainerName(target);
		return container === undefined ? [] : [{host: host.name, ...container}];
	}));
	return answers.flat();
}

/** `host/name` when there are several hosts, the bare name when there is one. */
function hostLabel(engines: EngineHosts, host: string, name: string): string {
	return engines.hosts.length > 1 ? `${host}/${name}` : name;
}

function describeHosts(hosts: readonly EngineHost[]): string {
	return hosts.length === 1 ? hosts[0]!.address : `any of the hosts ${hosts.map(host => host.name).join(', ')}`;
}

async function unpin(target: string, data: Database, store: JsonStore, output: Output, engines: EngineHosts): Promise<number> {
	const slash = target.indexOf('/');
	const wantedHost = slash > 0 ? target.slice(0, slash) : undefined;
	const wanted = slash > 0 ? target.slice(slash + 1) : target;
	const matches = (name: string, containerId: string): boolean => name === wanted || (/^[a-f\d]{4,64}$/.test(wanted) && containerId.startsWith(wanted));
	const pinned = data.pins.filter(pin => matches(pin.name, pin.containerId) && (wantedHost === undefined || pinMatches(pin, wantedHost, pin.name, engines.defaultHost)));
	const settings = new JsonSettings(store, {defaultHost: engines.defaultHost});
	if (pinned.length > 1) {
		throw new ConfigError('unpin', `"${target}" matches pins on several hosts: ${pinned.map(pin => `${pin.host ?? engines.defaultHost}/${pin.name}`).join(', ')}. Say which, e.g. "updock unpin ${pinned[0]!.host ?? engines.defaultHost}/${pinned[0]!.name}".`);
	}

	let pin = pinned[0] === undefined ? undefined : {host: pinned[0].host ?? engines.defaultHost, name: pinned[0].name};
	if (pin === undefined) {
		// Perhaps an id of the container as it is now, recreated since it was pinned by name.
		const found = await findContainer(target, engines, output);
		if (typeof found === 'number') {
			output.err('updock: "updock pins" lists the pins.');
			return found;
		}

		if (!data.pins.some(candidate => pinMatches(candidate, found.host, found.name, engines.defaultHost))) {
			output.out(`${safe(hostLabel(engines, found.host, found.name))} is not pinned; nothing to do.`);
			return 0;
		}

		pin = {host: found.host, name: found.name};
	}

	await settings.unpin(pin.name, pin.host);
	output.out(`Unpinned ${safe(hostLabel(engines, pin.host, pin.name))}: the next scan checks it again.`);
	return 0;
}

async function removeExclusion(target: string, store: JsonStore, output: Output): Promise<number> {
	const settings = new JsonSettings(store);
	const {exclusions} = await settings.load();
	const match = exclusions.find(exclusion => /^\d+$/.test(target) ? exclusion.id === Number(target) : exclusion.pattern === target);
	const removed = match === undefined ? undefined : await settings.removeExclusion(match.id);
	if (removed === undefined) {
		output.err(`updock: no exclusion has the id or pattern "${safe(target)}"; "updock exclude list" shows them.`);
		return 1;
	}

	output.out(`Removed exclusion ${safe(removed.id)} ("${safe(removed.pattern)}"): matching images are checked again.`);
	return 0;
}

async function addHost(command: Extract<Command, {kind: 'host-add'}>, store: JsonStore, output: Output): Promise<number> {
	const address = parseEngineAddress(command.address, {tlsVerify: command.tlsVerify, certPath: command.certPath});
	if ('error' in address) {
		throw new ConfigError('host add', address.error);
	}

	const saved = await new JsonSettings(store).addHost({name: command.name, address: command.address, tlsVerify: command.tlsVerify, certPath: command.certPath});
	if (!saved.added) {
		throw new ConfigError('host add', `A host named "${command.name}" is already saved; remove it first with "updock host rm ${command.name}".`);
	}

	output.out(`Added host ${safe(command.name)} (${safe(address.display)}): scans now cover the saved hosts.`);
	return 0;
}
