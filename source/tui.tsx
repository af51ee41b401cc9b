import {render} from 'ink';
import type {Config} from './config.ts';
import {describeError} from './core/errors.ts';
import {LiveModel} from './core/live-model.ts';
import {LiveSession} from './core/live-session.ts';
import {ScanLoop} from './core/scan-loop.ts';
import {Scanner} from './core/scanner.ts';
import {App} from './app/components/App.tsx';
import {DockerEngine} from './docker/engine.ts';
import {watchEngine} from './docker/events.ts';
import {registryStack} from './wiring.ts';
import {JsonSettings, JsonStore, rememberScan, scanMemory} from './store/store.ts';

/**
 * The live view: wires the engine, registries and JSON file to the model, the scan loop and the
 * engine watcher, and renders the Ink app until the user quits. Returns the exit status.
 */
export async function runTui(config: Config): Promise<number> {
	const store = new JsonStore(config.dbPath);
	// A broken file stops here, before the screen is taken over, with its path in the message.
	const data = await store.load();
	const engine = new DockerEngine(config.engine, config.timeoutMs);
	const {client, http} = registryStack(config, engine);
	const model = new LiveModel(config.engine.display);
	model.loadLastRun(data.lastScan);

	const scanner = new Scanner({
		containers: engine,
		registry: client,
		memory: async () => scanMemory(await store.load()),
		concurrency: config.concurrency,
	});
	scanner.subscribe(model.onScanEvent);
	const loop = new ScanLoop({
		scanner,
		model,
		intervalMs: config.intervalMs,
		async persist(outcome, partial) {
			try {
				await store.update(saved => {
					rememberScan(saved, outcome.report, outcome.learned, new Date(), partial);
				});
			} catch (error) {
				model.setNotice({kind: 'error', text: `The results were not saved: ${describeError(error)}`});
			}
		},
		onScanError(error) {
			model.setNotice({kind: 'error', text: `The scan could not run: ${describeError(error)}`});
		},
	});
	const session = new LiveSession({model, loop, containers: engine, settings: new JsonSettings(store)});

	const controller = new AbortController();
	const instance = render(
		<App
			source={model}
			color={config.color}
			actions={{
				scanNow: () => {
					session.scanNow();
				},
				togglePin: async row => session.togglePin(row),
				exclude: async pattern => session.exclude(pattern),
				removeExclusionFor: async row => session.removeExclusionFor(row),
			}}
		/>,
		// Interactive even where CI is set: this is only reached with a terminal on both ends.
		{alternateScreen: true, interactive: true, exitOnCtrlC: true, patchConsole: true},
	);

	loop.start(controller.signal);
	let lostEngine = false;
	const watching = watchEngine(config.engine, {
		signal: controller.signal,
		onEvent: () => {
			session.engineChanged();
		},
		onStatus: status => {
			if (status.status === 'connected') {
				model.setEngine({status: 'connected', message: null, retryAt: null});
				if (lostEngine) {
					lostEngine = false;
					loop.scanSoon();
				}
			} else {
				lostEngine = true;
				model.setEngine({status: 'unreachable', message: status.message, retryAt: status.retryAt.toISOString()});
			}
		},
	});

	try {
		await instance.waitUntilExit();
	} finally {
		controller.abort();
		session.stop();
		await watching.catch(() => undefined);
		await http.close();
		await engine.close();
	}

	return 0;
}
