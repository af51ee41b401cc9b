import type {Command, Config} from './config.ts';
import {validatePattern} from './core/exclusions.ts';
import {planScan} from './core/plan.ts';
import {Scanner} from './core/scanner.ts';
import type {ScanReport} from './core/types.ts';
import {DockerEngine} from './docker/engine.ts';
import {dryRunJson, renderDryRun} from './report/dry-run.ts';
import {renderExclusions, renderPins} from './report/lists.ts';
import {scanJson} from './report/scan-json.ts';
import {renderScanTable} from './report/scan-table.ts';
import {registryStack} from './wiring.ts';
import {JsonSettings, JsonStore, rememberScan, scanMemory} from './store/store.ts';

export interface Output {
	readonly out: (text: string) => void;
	readonly err: (text: string) => void;
	/** Terminal width, when the output is a terminal. */
	readonly width: number | undefined;
}

/** Run one headless command; returns the exit status. Errors are thrown typed for cli.ts to report. */
export async function runCommand(config: Config, output: Output): Promise<number> {
	// Nothing connects until asked; closing lets the process exit without waiting out keep-alive.
	const engine = new DockerEngine(config.engine, config.timeoutMs);
	try {
		return await run(config, output, engine);
	} finally {
		await engine.close();
	}
}

async function run(config: Config, output: Output, engine: DockerEngine): Promise<number> {
	const store = new JsonStore(config.dbPath);
	const {command} = config;
	switch (command.kind) {
		case 'scan': {
			return scan(config, command, store, output, engine);
		}

		case 'dry-run': {
			const data = await store.load();
			const [facts, imageStore] = await Promise.all([engine.listContainers(), engine.imageStore()]);
			const plan = planScan(facts, data.pins, data.exclusions, imageStore);
			output.out(command.json ? JSON.stringify(dryRunJson(plan), null, 2) : renderDryRun(plan, config.color));
			return 0;
		}

		case 'pin': {
			await store.load();
			const container = await engine.findContainerName(command.container);
			if (container === undefined) {
				output.err(`updock: no container named or with id "${command.container}" on ${config.engine.display}.`);
				return 1;
			}

			const added = await new JsonSettings(store).pin(container.name, container.id);
			output.out(added ? `Pinned ${container.name}: updock will not check it until "updock unpin ${container.name}".` : `${container.name} is already pinned.`);
			return 0;
		}

		case 'unpin': {
			return unpin(config, command.container, store, output, engine);
		}

		case 'pins': {
			const {pins} = await store.load();
			output.out(command.json ? JSON.stringify({pins}, null, 2) : renderPins(pins, config.color));
			return 0;
		}

		case 'exclude-add': {
			const pattern = validatePattern(command.pattern);
			const {exclusion, added} = await new JsonSettings(store).addExclusion(pattern);
			output.out(added
				? `Excluded "${exclusion.pattern}" (id ${exclusion.id}): matching images are never checked. Undo with "updock exclude rm ${exclusion.id}".`
				: `"${exclusion.pattern}" is already excluded (id ${exclusion.id}).`);
			return 0;
		}

		case 'exclude-list': {
			const {exclusions} = await store.load();
			output.out(command.json ? JSON.stringify({exclusions}, null, 2) : renderExclusions(exclusions, config.color));
			return 0;
		}

		case 'exclude-rm': {
			const target = command.target.trim();
			const settings = new JsonSettings(store);
			const {exclusions} = await settings.load();
			const match = exclusions.find(exclusion => /^\d+$/.test(target) ? exclusion.id === Number(target) : exclusion.pattern === target);
			const removed = match === undefined ? undefined : await settings.removeExclusion(match.id);
			if (removed === undefined) {
				output.err(`updock: no exclusion has the id or pattern "${target}"; "updock exclude list" shows them.`);
				return 1;
			}

			output.out(`Removed exclusion ${removed.id} ("${removed.pattern}"): matching images are checked again.`);
			return 0;
		}
	}
}

async function scan(config: Config, command: Extract<Command, {kind: 'scan'}>, store: JsonStore, output: Output, engine: DockerEngine): Promise<number> {
	// Read the file first: a broken one stops everything before any engine or registry is asked.
	const data = await store.load();
	const {client, http} = registryStack(config, engine);
	const scanner = new Scanner({
		containers: engine,
		registry: client,
		memory: async () => scanMemory(data),
		concurrency: config.concurrency,
	});
	let report: ScanReport;
	try {
		const outcome = await scanner.scan();
		report = outcome.report;
		try {
			await store.update(data => {
				rememberScan(data, outcome.report, outcome.learned, new Date());
			});
		} catch (error) {
			output.err(`updock: warning: the results were not saved: ${(error as Error).message}`);
		}
	} finally {
		await http.close();
	}

	output.out(command.json ? JSON.stringify(scanJson(report), null, 2) : renderScanTable(report, {color: config.color, width: output.width}));
	if (report.summary.error > 0) {
		return 1;
	}

	return command.exitCode && report.summary.updateAvailable > 0 ? 2 : 0;
}

async function unpin(config: Config, target: string, store: JsonStore, output: Output, engine: DockerEngine): Promise<number> {
	const matches = (name: string, containerId: string): boolean => name === target || (/^[a-f\d]{4,64}$/.test(target) && containerId.startsWith(target));
	const settings = new JsonSettings(store);
	const {pins} = await settings.load();
	let name = pins.find(pin => matches(pin.name, pin.containerId))?.name;
	if (name === undefined) {
		// Perhaps an id of the container as it is now, recreated since it was pinned by name.
		const container = await engine.findContainerName(target);
		if (container === undefined) {
			output.err(`updock: "${target}" is neither a pinned container nor a container on ${config.engine.display}; "updock pins" lists the pins.`);
			return 1;
		}

		if (!pins.some(pin => pin.name === container.name)) {
			output.out(`${container.name} is not pinned; nothing to do.`);
			return 0;
		}

		name = container.name;
	}

	await settings.unpin(name);
	output.out(`Unpinned ${name}: the next scan checks it again.`);
	return 0;
}
