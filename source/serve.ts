import process from 'node:process';
import type {FastifyInstance} from 'fastify';
import {pino, type Logger} from 'pino';
import packageJson from '../package.json' with {type: 'json'};
import type {Config} from './config.ts';
import {announcementAfter, caughtUp} from './core/alerts.ts';
import {describeError} from './core/errors.ts';
import {LiveSession} from './core/live-session.ts';
import {ScanLoop, type ScanEnd} from './core/scan-loop.ts';
import type {ScanOutcome} from './core/scanner.ts';
import type {HostReport} from './core/types.ts';
import {watchEngine} from './docker/events.ts';
import {saveMemory} from './memory-mode.ts';
import {dryRunReport} from './dry-run.ts';
import {buildApi} from './http/app.ts';
import {listen, readApiToken, removeSocket} from './http/listen.ts';
import {ServeMetrics} from './http/metrics.ts';
import {ScanHistory} from './http/scan-history.ts';
import {ServeBackend} from './http/serve-backend.ts';
import {Announcer} from './notify/announcer.ts';
import {Deliveries} from './notify/deliveries.ts';
import {makeNotifiers} from './notify/notifiers.ts';
import {NotifyHttp} from './notify/post.ts';
import {dryRunJson} from './report/dry-run.ts';
import type {ServeCommand} from './serve-config.ts';
import {forgetAnnouncement, JsonSettings, lastAnnouncement, recordAnnouncement, type Database} from './store/store.ts';
import {liveScanning, type EngineHosts} from './wiring.ts';

/** Never logged: whatever a credential or token may be called. */
const redactPaths = ['authorization', '*.authorization', 'headers.authorization', '*.headers.authorization', 'req.headers.authorization', 'token', '*.token', 'password', '*.password', 'secret', '*.secret'];

/**
 * `updock serve`: the scan loop of the live view without a terminal, the HTTP API, and notifications
 * of new updates, until SIGINT or SIGTERM. Returns the exit status.
 * @throws ConfigError (exit 64) for an unusable token file or listen address.
 */
export async function runServe(config: Config): Promise<number> {
	const {command} = config;
	if (command.kind !== 'serve') {
		throw new Error(`runServe got "${command.kind}"`);
	}

	// It runs for days, scanning: from here, memory before CPU (see memory-mode.ts).
	saveMemory();

	const stopping = stopSignal();
	const logger = pino({level: command.logLevel, redact: {paths: redactPaths, censor: '[redacted]'}, timestamp: pino.stdTimeFunctions.isoTime, base: {pid: process.pid}});
	const token = await readApiToken(command.token);
	const service = await wireService(config, command, logger);
	let listening = false;
	let app: FastifyInstance | undefined;
	try {
		app = await buildApi({backend: service.backend, logger, token, version: packageJson.version});
		await listen(app, command.listen);
		listening = true;
		logger.info({listen: command.listen.display, auth: token !== undefined, notify: command.notify.map(target => target.display), hosts: service.hosts.hosts.map(host => host.name), intervalMs: config.intervalMs}, `updock ${packageJson.version} serves on ${command.listen.display}`);
		service.start();
		const signal = await stopping;
		logger.info({signal}, `Stopping on ${signal}`);
	} finally {
		// No new requests first (those still in flight are answered); then the loop stops.
		await app?.close();
		await service.stop();
		if (listening) {
			await removeSocket(command.listen);
		}

		logger.info('Stopped');
		logger.flush();
	}

	return 0;
}

/** The running parts of the service: built in one place, so the engines and scanner are wired as the live view's. */
interface Service {
	readonly hosts: EngineHosts;
	readonly backend: ServeBackend;
	start(): void;
	/** Abort the running scan, wait for what it saves, stop retries and watchers, close connections. */
	stop(): Promise<void>;
}

async function wireService(config: Config, command: ServeCommand, logger: Logger): Promise<Service> {
	const metrics = new ServeMetrics();
	// Read before anything connects: a broken file stops `serve` with its path in the message.
	const live = await liveScanning(config, {onRequest: metrics.registryRequest});
	const {data, store, model, scanner, engines: hosts} = live;
	const settings = new JsonSettings(store);
	let lastHosts: readonly HostReport[] = data.lastScan?.report()?.hosts ?? [];

	const history = new ScanHistory();
	scanner.subscribe(history.onScanEvent);

	const notifyHttp = new NotifyHttp({timeoutMs: Math.min(config.timeoutMs, 30_000)});
	const announcer: Announcer = new Announcer({
		async announced() {
			const saved = await store.load();
			return (host, name) => lastAnnouncement(saved, host, name);
		},
		markAnnounced: async events => store.update(saved => {
			const now = new Date();
			for (const event of events) {
				const {host, container: {name}} = event;
				recordAnnouncement(saved, {host, name, ...announcementAfter(event, lastAnnouncement(saved, host, name))}, now);
			}
		}),
		enabled: command.notify.length > 0,
		log: logger,
		deliveries: new Deliveries({
		notifiers: makeNotifiers(command.notify, {http: notifyHttp, webhookSecret: command.webhookSecret, userAgent: `updock/${packageJson.version}`}),
		version: packageJson.version,
		onAttempt(attempt) {
			metrics.notification(attempt.channel, attempt.result);
			const line = {channel: attempt.channel, target: attempt.target, attempt: attempt.attempt, events: attempt.events, result: attempt.result, retryAt: attempt.retryAt};
			if (attempt.result === 'success') {
				logger.info(line, `Notified ${attempt.target} of ${attempt.events} update${attempt.events === 1 ? '' : 's'}`);
			} else {
				logger.warn({...line, error: attempt.error}, `Notification to ${attempt.target} failed: ${attempt.error ?? ''}`);
			}
		},
		onDelivered: async (events): Promise<void> => announcer.delivered(events),
		}),
	});

	const loop = new ScanLoop({
		scanner,
		model,
		intervalMs: config.intervalMs,
		async persist(outcome: ScanOutcome, partial: boolean) {
			try {
				await live.save(outcome, partial, (saved: Database) => {
					// Up to date again: falling behind later is news again.
					for (const {host, name} of caughtUp(outcome.report.containers)) {
						forgetAnnouncement(saved, host, name);
					}
				});
			} catch (error) {
				logger.error({error: describeError(error)}, `The results were not saved: ${describeError(error)}`);
			}
		},
		onScanError(error) {
			logger.error({error: describeError(error)}, `The scan could not run: ${describeError(error)}`);
		},
		onStarted: history.started,
		onFinished(scan: ScanEnd) {
			history.finished(scan);
			if (scan.outcome === undefined) {
				return;
			}

			const {report} = scan.outcome;
			if (!scan.partial) {
				lastHosts = report.hosts;
				metrics.scanFinished(report.durationMs, scan.finishedAt);
			}

			logger.info({scanId: scan.id, partial: scan.partial, durationMs: report.durationMs, summary: report.summary, failedHosts: report.hosts.filter(host => host.state === 'error').map(host => ({name: host.name, error: host.error}))}, `Scan ${scan.id} ${scan.partial ? `of ${report.containers.length} container${report.containers.length === 1 ? '' : 's'} ` : ''}finished: ${report.summary.updateAvailable} update${report.summary.updateAvailable === 1 ? '' : 's'} available, ${report.summary.error} error${report.summary.error === 1 ? '' : 's'}`);
			void announcer.afterScan(scan.id, scan.outcome.report.containers);
		},
	});

	const session = new LiveSession({model, loop, hosts: hosts.hosts, settings, defaultHost: hosts.defaultHost});
	const controller = new AbortController();
	let running = false;
	const backend = new ServeBackend({
		model,
		loop,
		history,
		settings,
		defaultHost: hosts.defaultHost,
		hosts: () => lastHosts,
		async listContainers() {
			const listed = await Promise.all(hosts.hosts.map(async host => host.engine.listContainers().catch(() => [])));
			return listed.flat();
		},
		async dryRun() {
			// As `updock dry-run --json`: the plan from the engines and the file, nothing sent to a registry.
			const {plan, schemes} = await dryRunReport(config, hosts, await store.load());
			const json = dryRunJson(plan, schemes);
			return {
				registries: json.registries.map(registry => ({...registry, checks: registry.checks.map(check => ({...check, containers: [...check.containers]}))})),
				skipped: [...json.skipped],
				summary: {...json.summary},
			};
		},
		metrics,
		healthy: () => running && !controller.signal.aborted,
	});

	const watching: Array<Promise<void>> = [];
	return {
		hosts,
		backend,
		start() {
			running = true;
			loop.start(controller.signal);
			for (const host of hosts.hosts) {
				let lost = false;
				watching.push(watchEngine(host.engine, {
					signal: controller.signal,
					onEvent: () => {
						session.engineChanged();
					},
					onStatus: status => {
						if (status.status === 'connected') {
							if (lost) {
								lost = false;
								logger.info({host: host.name}, `Reconnected to the engine of ${host.name}; scanning again`);
								loop.scanSoon();
							}
						} else {
							// One line when the engine goes; the retries that follow only at debug level.
							logger[lost ? 'debug' : 'warn']({host: host.name, retryAt: status.retryAt.toISOString()}, status.message);
							lost = true;
						}
					},
				}).catch((error: unknown) => {
					logger.error({host: host.name, error: describeError(error)}, `Stopped watching ${host.name}: ${describeError(error)}`);
				}));
			}
		},
		async stop() {
			running = false;
			controller.abort();
			session.stop();
			await loop.idle();
			await announcer.close();
			await Promise.all(watching);
			await Promise.all([live.close(), notifyHttp.close()]);
		},
	};
}

/** Resolves with the name of the first SIGINT or SIGTERM. */
async function stopSignal(): Promise<string> {
	return new Promise(resolve => {
		const stop = (signal: string): void => {
			process.off('SIGINT', stop);
			process.off('SIGTERM', stop);
			resolve(signal);
		};

		process.on('SIGINT', stop);
		process.on('SIGTERM', stop);
	});
}

