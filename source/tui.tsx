import {render} from 'ink';
import type {Config} from './config.ts';
import {describeError} from './core/errors.ts';
import {LiveSession} from './core/live-session.ts';
import {ScanLoop} from './core/scan-loop.ts';
import {App} from './app/components/App.tsx';
import {watchEngine} from './docker/events.ts';
import {liveScanning} from './wiring.ts';
import {JsonSettings, lastAnnouncement} from './store/store.ts';
import {sessionAlertsAfterScan, sessionAlertsText, startSessionAlerts} from './core/alerts.ts';
import {QuietSaves} from './core/quiet-saves.ts';
import {safeTerminalText} from './core/terminal-text.ts';
import {saveMemory} from './memory-mode.ts';

/**
 * The live view: wires the engine, registries and JSON file to the model, the scan loop and the
 * engine watcher, and renders the Ink app until the user quits. Returns the exit status.
 */
export async function runTui(config: Config): Promise<number> {
	// It runs for days, scanning: from here, memory before CPU (see memory-mode.ts).
	saveMemory();
	// A broken JSON file stops here, before the screen is taken over, with its path in the message.
	const live = await liveScanning(config);
	const {data, engines, model, scanner} = live;
	// What this session raises, counted as `serve` would announce it; the footer says "2 new since 14:02".
	let alerts = startSessionAlerts(new Date(), data.lastScan?.report()?.containers ?? [], (host, name) => lastAnnouncement(data, host, name));
	const saves = new QuietSaves();
	const loop = new ScanLoop({
		scanner,
		model,
		intervalMs: config.intervalMs,
		async persist(outcome, partial) {
			alerts = sessionAlertsAfterScan(alerts, outcome.report.containers, new Date());
			model.setAlerts(sessionAlertsText(alerts));
			if (!saves.shouldSave(outcome, partial, Date.now())) {
				return;
			}

			try {
				await live.save(outcome, partial);
				saves.saved(outcome, Date.now());
			} catch (error) {
				model.setNotice({kind: 'error', text: `The results were not saved: ${describeError(error)}`});
			}
		},
		onScanError(error) {
			model.setNotice({kind: 'error', text: `The scan could not run: ${describeError(error)}`});
		},
	});
	const session = new LiveSession({model, loop, hosts: engines.hosts, settings: new JsonSettings(live.store), defaultHost: engines.defaultHost});

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
	// Each host is watched and reconnected on its own; the banner names every host that is away.
	const away = new Map<string, {message: string; retryAt: Date}>();
	const showEngines = (): void => {
		if (away.size === 0) {
			model.setEngine({status: 'connected', message: null, retryAt: null});
			return;
		}

		const soonest = Math.min(...[...away.values()].map(entry => entry.retryAt.getTime()));
		model.setEngine({status: 'unreachable', message: [...away.values()].map(entry => entry.message).join(' | '), retryAt: new Date(soonest).toISOString()});
	};

	const watching = engines.hosts.map(async host => watchEngine(host.engine, {
		signal: controller.signal,
		onEvent: () => {
			session.engineChanged();
		},
		onStatus: status => {
			if (status.status === 'connected') {
				if (away.delete(host.name)) {
					loop.scanSoon();
				}
			} else {
				away.set(host.name, {message: engines.hosts.length === 1 ? status.message : `${host.name}: ${status.message}`, retryAt: status.retryAt});
			}

			showEngines();
		},
	}));

	try {
		await instance.waitUntilExit();
	} finally {
		controller.abort();
		session.stop();
		await Promise.allSettled(watching);
		const held = saves.held();
		if (held !== undefined) {
			try {
				await live.save(held, false);
			} catch (error) {
				process.stderr.write(`updock: warning: the last results were not saved: ${safeTerminalText(describeError(error))}\n`);
			}
		}

		await live.close();
	}

	return 0;
}
