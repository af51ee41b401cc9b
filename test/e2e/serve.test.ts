import {spawn, type ChildProcess} from 'node:child_process';
import {createHmac} from 'node:crypto';
import {once} from 'node:events';
import {mkdir, readFile, stat, writeFile} from 'node:fs/promises';
import {request as httpRequest} from 'node:http';
import {createServer, type Server, type Socket} from 'node:net';
import {dirname} from 'node:path';
import parsePrometheusTextFormat, {type ParsedMetric} from 'parse-prometheus-text-format';
import {afterAll, beforeAll, describe, expect, inject, it} from 'vitest';
import {z} from 'zod';
import * as api from '../../source/http/schemas.ts';
import {freePort, stopProcess, systemEnv, waitFor} from '../helpers/process.ts';
import {startReceiver, type Receiver} from '../helpers/receivers.ts';
import {startRegistry} from '../helpers/registry.ts';
import {Scene} from '../helpers/scene.ts';
import {makeHome, row, scanJson, updock, updockBin, type UpdockHome} from '../helpers/updock.ts';

const sandbox = inject('sandbox');

/** A pino line as serve writes it: level, msg, and whatever fields the line carries. */
const logLine = z.looseObject({level: z.number(), msg: z.string()});
type LogLine = z.infer<typeof logLine>;

/** `updock serve` as a process on a free loopback port, its JSON log lines collected. */
class Serve {
	readonly origin: string;
	readonly lines: LogLine[] = [];
	readonly stderr: string[] = [];
	readonly #child: ChildProcess;
	readonly #exited: Promise<number | null>;
	#buffer = '';

	private constructor(child: ChildProcess, origin: string) {
		this.#child = child;
		this.origin = origin;
		this.#exited = once(child, 'exit').then(([code]) => typeof code === 'number' ? code : null);
		child.stdout?.on('data', (chunk: Buffer) => {
			this.#buffer += chunk.toString('utf8');
			for (let newline = this.#buffer.indexOf('\n'); newline !== -1; newline = this.#buffer.indexOf('\n')) {
				const text = this.#buffer.slice(0, newline);
				this.#buffer = this.#buffer.slice(newline + 1);
				// Every line on stdout must be a JSON log line.
				this.lines.push(logLine.parse(JSON.parse(text)));
			}
		});
		child.stderr?.on('data', (chunk: Buffer) => this.stderr.push(chunk.toString('utf8')));
	}

	static async start(home: UpdockHome, args: readonly string[] = [], env: NodeJS.ProcessEnv = {}): Promise<Serve> {
		const port = await freePort();
		const child = spawn(process.execPath, [updockBin, 'serve', '--listen', `127.0.0.1:${port}`, '--log-level', 'debug', ...args], {env: systemEnv({...home.env, ...env}), stdio: ['ignore', 'pipe', 'pipe']});
		const serve = new Serve(child, `http://127.0.0.1:${port}`);
		await waitFor('serve to answer /healthz', async () => {
			if (child.exitCode !== null) {
				throw new Error(`serve exited ${child.exitCode}: ${serve.stderr.join('')}`);
			}

			return (await fetch(`${serve.origin}/healthz`).catch(() => undefined))?.status === 200;
		});
		return serve;
	}

	async request(path: string, init: RequestInit = {}): Promise<Response> {
		return fetch(`${this.origin}${path}`, init);
	}

	async json<T>(schema: z.ZodType<T>, path: string, init: RequestInit = {}, status = 200): Promise<T> {
		const response = await this.request(path, init);
		const text = await response.text();
		expect(response.status, `${init.method ?? 'GET'} ${path}: ${text}`).toBe(status);
		return schema.parse(JSON.parse(text));
	}

	async error(path: string, init: RequestInit, status: number): Promise<{code: string; message: string}> {
		const response = await this.request(path, init);
		expect(response.status, `${init.method ?? 'GET'} ${path}`).toBe(status);
		expect(response.headers.get('content-type')).toMatch(/^application\/json/);
		return api.errorSchema.strict().parse(await response.json()).error;
	}

	/** The id of a full scan that has finished, after `after` (or the first). */
	async finishedScan(after: string | null = null): Promise<string> {
		let id: string | null = null;
		await waitFor('a full scan to finish', async () => {
			id = (await this.json(api.summaryAnswerSchema, '/api/v1/updates/summary')).scan.lastScanId;
			return id !== null && id !== after;
		}, 60_000);
		return id!;
	}

	/** Ask for a scan and wait until it finished and its alerts were worked out. */
	async scanNow(): Promise<string> {
		const {id} = await this.json(api.scanStartedSchema, '/api/v1/updates/scan', {method: 'POST'}, 202);
		await this.alertsDone(id);
		return id;
	}

	async alertsDone(scanId: string): Promise<void> {
		await waitFor(`the alerts of scan ${scanId}`, () => this.lines.some(line => line['scanId'] === scanId && 'events' in line), 60_000);
	}

	async metrics(): Promise<ParsedMetric[]> {
		const response = await this.request('/metrics');
		expect(response.status).toBe(200);
		expect(response.headers.get('content-type')).toMatch(/^text\/plain/);
		return parsePrometheusTextFormat(await response.text());
	}

	async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
		if (this.#child.exitCode === null && this.#child.signalCode === null) {
			this.#child.kill(signal);
		}

		return this.#exited;
	}

	async kill(): Promise<void> {
		await stopProcess(this.#child, 5000);
	}
}

function sample(metrics: readonly ParsedMetric[], name: string, labels: Record<string, string> = {}): number | undefined {
	const metric = metrics.find(candidate => candidate.name === name);
	const found = metric?.metrics.find(entry => Object.entries(labels).every(([key, value]) => entry.labels?.[key] === value));
	return found?.value === undefined ? undefined : Number(found.value);
}

const pinsJson = z.object({pins: z.array(z.looseObject({name: z.string()}))});
const exclusionsJson = z.object({exclusions: z.array(z.looseObject({id: z.number(), pattern: z.string()}))});

const webhookBody = z.strictObject({
	events: z.array(z.strictObject({
		event: z.literal('available'),
		severity: z.literal('info'),
		host: z.string(),
		container: z.strictObject({id: z.string(), name: z.string(), image: z.string()}),
		status: z.enum(['update-available', 'up-to-date']),
		localDigest: z.string(),
		remoteDigest: z.string(),
		newer: z.array(api.newerVersionSchema).nullable(),
		links: api.linksSchema.nullable(),
		vulnerabilities: api.vulnerabilitiesSchema.nullable(),
		risk: api.riskSchema.nullable(),
		detectedAt: z.iso.datetime(),
	})),
	updock: z.string(),
});

describe('updock serve against the sandbox', () => {
	let scene: Scene;
	let home: UpdockHome;
	let serve: Serve;
	const names: Record<string, string> = {};
	const open = sandbox.open.host;

	beforeAll(async () => {
		scene = await Scene.create(sandbox, 'serve');
		home = await makeHome(sandbox);
		const ref = (repository: string): string => scene.ref(open, repository);
		await scene.push(ref('fresh'), {marker: 'serve-fresh-1'});
		await scene.pull(ref('fresh'));
		names['fresh'] = await scene.runContainer('fresh', ref('fresh'));
		await scene.push(ref('stale'), {marker: 'serve-stale-1'});
		await scene.pull(ref('stale'));
		names['stale'] = await scene.runContainer('stale', ref('stale'));
		await scene.push(ref('stale'), {marker: 'serve-stale-2'});
		await scene.push(ref('other'), {marker: 'serve-other-1'});
		await scene.pull(ref('other'));
		names['other'] = await scene.runContainer('other', ref('other'));
		await scene.push(ref('other'), {marker: 'serve-other-2'});
		serve = await Serve.start(home);
		await serve.finishedScan();
	});

	afterAll(async () => {
		await serve?.kill();
		await scene?.cleanup();
	});

	it('lists the containers with updates as the objects of --once --json', async () => {
		const {updates, scannedAt} = await serve.json(api.updatesSchema, '/api/v1/updates');
		expect(Number.isNaN(Date.parse(scannedAt!))).toBe(false);
		const mine = updates.filter(container => container.name.startsWith('serve-'));
		expect(mine.map(container => container.name).sort()).toEqual([names['other'], names['stale']].sort());
		const {json} = await scanJson(home);
		for (const container of mine) {
			expect(container).toEqual(row(json, container.name));
		}

		const upToDate = await serve.json(api.updatesSchema, '/api/v1/updates?status=up-to-date');
		expect(upToDate.updates.find(container => container.name === names['fresh'])).toEqual(row(json, names['fresh']!));
		expect((await serve.json(api.updatesSchema, '/api/v1/updates?status=all')).updates.filter(container => container.name.startsWith('serve-'))).toHaveLength(3);
		expect((await serve.error('/api/v1/updates?status=later', {}, 400)).code).toBe('invalid_request');
	});

	it('summarises the scan loop and the counts as --json does', async () => {
		const {scan, summary} = await serve.json(api.summaryAnswerSchema, '/api/v1/updates/summary');
		expect(scan.state).toBe('idle');
		expect(scan.lastScanId).not.toBeNull();
		expect(Date.parse(scan.nextScanAt!)).toBeGreaterThan(Date.now());
		expect(summary.updateAvailable).toBeGreaterThanOrEqual(2);
		expect(summary.hosts).toEqual([expect.objectContaining({name: 'local', state: 'ok'})]);
	});

	it('starts a scan with 202, covers a second request with the same scan, and reports it by id', async () => {
		const [first, second] = await Promise.all([1, 2].map(async () => serve.json(api.scanStartedSchema, '/api/v1/updates/scan', {method: 'POST'}, 202)));
		expect(first!.state).toBe('running');
		expect(second!.id).toBe(first!.id);
		let scan: z.infer<typeof api.scanSchema> | undefined;
		await waitFor('the scan to finish', async () => {
			scan = await serve.json(api.scanSchema, `/api/v1/updates/scan/${first!.id}`);
			return scan.state !== 'running';
		});
		expect(scan).toMatchObject({id: first!.id, state: 'finished', error: null});
		expect(scan!.checks).toBeGreaterThanOrEqual(3);
		expect(scan!.checked).toBe(scan!.checks);
		expect(scan!.summary!.updateAvailable).toBeGreaterThanOrEqual(2);
		expect((await serve.error('/api/v1/updates/scan/no-such-scan', {}, 404)).code).toBe('not_found');
	});

	it('finds one container by id, id prefix, name or host/name, and says 404 otherwise', async () => {
		const byName = await serve.json(api.containerSchema, `/api/v1/updates/container/${names['stale']}`);
		expect(byName.status).toBe('update-available');
		expect(await serve.json(api.containerSchema, `/api/v1/updates/container/${byName.id}`)).toEqual(byName);
		expect(await serve.json(api.containerSchema, `/api/v1/updates/container/${byName.id.slice(0, 12)}`)).toEqual(byName);
		expect(await serve.json(api.containerSchema, `/api/v1/updates/container/local%2F${names['stale']}`)).toEqual(byName);
		expect((await serve.error('/api/v1/updates/container/serve-nothing', {}, 404)).code).toBe('not_found');
	});

	it('answers dry-run exactly as updock dry-run --json prints it', async () => {
		const fromApi = await serve.json(api.dryRunSchema, '/api/v1/updates/dry-run');
		const cli = await updock(home, ['dry-run', '--json']);
		expect(cli.code, cli.stderr).toBe(0);
		expect(fromApi).toEqual(JSON.parse(cli.stdout));
	});

	it('pins through the API for the CLI to see, and the other way round', async () => {
		const {pin} = await serve.json(api.pinAnswerSchema, `/api/v1/updates/pin/${names['stale']}`, {method: 'POST'});
		expect(pin).toMatchObject({host: 'local', name: names['stale']});
		const pins = pinsJson.parse(JSON.parse((await updock(home, ['pins', '--json'])).stdout));
		expect(pins.pins.map(entry => entry.name)).toContain(names['stale']);
		expect((await serve.json(api.containerSchema, `/api/v1/updates/container/${names['stale']}`)).status).toBe('pinned');

		const unpinned = await updock(home, ['unpin', names['stale']!]);
		expect(unpinned.code, unpinned.stderr).toBe(0);
		expect((await serve.json(api.containerSchema, `/api/v1/updates/container/${names['stale']}`)).status).toBe('update-available');

		const pinned = await updock(home, ['pin', names['other']!]);
		expect(pinned.code, pinned.stderr).toBe(0);
		const other = await serve.json(api.containerSchema, `/api/v1/updates/container/${names['other']}`);
		expect(other.status).toBe('pinned');
		expect(other.reason).toMatch(/Pinned by you/);
		expect((await serve.json(api.pinAnswerSchema, `/api/v1/updates/pin/${names['other']}`, {method: 'DELETE'})).pin.name).toBe(names['other']);
		expect(JSON.parse((await updock(home, ['pins', '--json'])).stdout)).toEqual({pins: []});
		expect((await serve.error(`/api/v1/updates/pin/${names['other']}`, {method: 'DELETE'}, 404)).code).toBe('not_found');
		expect((await serve.error('/api/v1/updates/pin/serve-nothing', {method: 'POST'}, 404)).code).toBe('not_found');
		await waitFor('the unpinned container to be checked again', async () => (await serve.json(api.containerSchema, `/api/v1/updates/container/${names['other']}`)).status === 'update-available');
	});

	it('adds and removes exclusions through the API for the CLI to see, and the other way round', async () => {
		const pattern = `${open}/serve/fre*`;
		const created = await serve.json(api.exclusionSchema, '/api/v1/updates/exclusions', {method: 'POST', headers: {'content-type': 'application/json'}, body: JSON.stringify({image: pattern})}, 201);
		expect(created.image).toBe(pattern);
		const listed = exclusionsJson.parse(JSON.parse((await updock(home, ['exclude', 'list', '--json'])).stdout));
		expect(listed.exclusions).toContainEqual(expect.objectContaining({id: created.id, pattern}));
		expect((await serve.json(api.containerSchema, `/api/v1/updates/container/${names['fresh']}`)).status).toBe('excluded');

		const added = await updock(home, ['exclude', 'add', `${open}/serve/oth*`]);
		expect(added.code, added.stderr).toBe(0);
		const {exclusions} = await serve.json(api.exclusionsSchema, '/api/v1/updates/exclusions');
		const cliMade = exclusions.find(exclusion => exclusion.image === `${open}/serve/oth*`);
		expect(cliMade).toBeDefined();
		expect((await serve.json(api.containerSchema, `/api/v1/updates/container/${names['other']}`)).status).toBe('excluded');

		for (const exclusion of [created, cliMade!]) {
			const removed = await serve.request(`/api/v1/updates/exclusions/${exclusion.id}`, {method: 'DELETE'});
			expect(removed.status).toBe(204);
			expect(await removed.text()).toBe('');
		}

		expect(JSON.parse((await updock(home, ['exclude', 'list', '--json'])).stdout)).toEqual({exclusions: []});
		expect((await serve.error(`/api/v1/updates/exclusions/${created.id}`, {method: 'DELETE'}, 404)).code).toBe('not_found');
		expect((await serve.error('/api/v1/updates/exclusions', {method: 'POST', headers: {'content-type': 'application/json'}, body: '{"image": "Not A Pattern!"}'}, 400)).code).toBe('invalid_pattern');
		await waitFor('the excluded containers to be checked again', async () => (await serve.json(api.containerSchema, `/api/v1/updates/container/${names['fresh']}`)).status === 'up-to-date');
	});

	it('answers errors as JSON: unknown path, wrong method, not JSON, too large, broken JSON', async () => {
		expect((await serve.error('/api/v2/updates', {}, 404)).code).toBe('not_found');
		const wrong = await serve.request('/api/v1/updates/exclusions', {method: 'PATCH'});
		expect(wrong.status).toBe(405);
		expect(wrong.headers.get('allow')).toBe('GET, POST, HEAD');
		expect((await serve.error('/api/v1/updates/exclusions', {method: 'POST', headers: {'content-type': 'text/plain'}, body: 'nginx'}, 415)).code).toBe('unsupported_media_type');
		expect((await serve.error('/api/v1/updates/exclusions', {method: 'POST', headers: {'content-type': 'application/x-www-form-urlencoded'}, body: 'image=nginx'}, 415)).code).toBe('unsupported_media_type');
		expect((await serve.error('/api/v1/updates/exclusions', {method: 'POST', headers: {'content-type': 'application/json'}, body: JSON.stringify({image: 'a'.repeat(65 * 1024)})}, 413)).code).toBe('payload_too_large');
		expect((await serve.error('/api/v1/updates/exclusions', {method: 'POST', headers: {'content-type': 'application/json'}, body: '{"image":'}, 400)).code).toBe('invalid_json');
		expect((await serve.error('/api/v1/updates/exclusions', {method: 'POST', headers: {'content-type': 'application/json'}, body: '{"pattern": "nginx"}'}, 400)).code).toBe('invalid_request');
		// One log line per API error, and nothing else on stdout but JSON lines.
		expect(serve.lines.some(line => line['status'] === 415 && line['code'] === 'unsupported_media_type')).toBe(true);
	});

	it('serves Prometheus metrics from its own registry', async () => {
		const metrics = await serve.metrics();
		expect(metrics.map(metric => metric.name).sort()).toEqual(['updock_containers', 'updock_last_scan_timestamp_seconds', 'updock_notifications_total', 'updock_registry_ratelimit_remaining', 'updock_registry_requests_total', 'updock_scan_duration_seconds']);
		const {summary} = await serve.json(api.summaryAnswerSchema, '/api/v1/updates/summary');
		expect(sample(metrics, 'updock_containers', {host: 'local', status: 'update-available'})).toBe(summary.updateAvailable);
		expect(sample(metrics, 'updock_containers', {host: 'local', status: 'up-to-date'})).toBe(summary.upToDate);
		expect(metrics.find(metric => metric.name === 'updock_scan_duration_seconds')?.type).toBe('HISTOGRAM');
		expect(Number(metrics.find(metric => metric.name === 'updock_scan_duration_seconds')?.metrics[0]?.count)).toBeGreaterThanOrEqual(2);
		expect(sample(metrics, 'updock_last_scan_timestamp_seconds')! * 1000).toBeGreaterThan(Date.now() - 600_000);
		expect(sample(metrics, 'updock_registry_requests_total', {registry: open, method: 'HEAD', code: '200'})).toBeGreaterThanOrEqual(3);
	});

	it('serves its OpenAPI 3.1 document and /healthz', async () => {
		const document = await serve.json(z.looseObject({openapi: z.literal('3.1.0'), paths: z.record(z.string(), z.unknown())}), '/api/v1/openapi.json');
		expect(Object.keys(document.paths)).toContain('/api/v1/updates/pin/{container_id}');
		expect(await serve.json(api.healthSchema, '/healthz')).toEqual({ok: true});
	});

	it('stops on SIGTERM with exit 0, leaving a JSON file the CLI reads', async () => {
		expect(await serve.stop('SIGTERM')).toBe(0);
		const saved: unknown = JSON.parse(await readFile(home.db, 'utf8'));
		expect(saved).toMatchObject({lastScan: {containers: expect.any(Array)}});
		expect((await updock(home, ['pins', '--json'])).code).toBe(0);
	});
});

describe('updock serve notifications', () => {
	let scene: Scene;
	let home: UpdockHome;
	let webhook: Receiver;
	let ntfy: Receiver;
	let serve: Serve | undefined;
	const secret = 'webhook-s3cret';

	beforeAll(async () => {
		scene = await Scene.create(sandbox, 'notify');
		home = await makeHome(sandbox, {UPDOCK_WEBHOOK_SECRET: secret});
		webhook = await startReceiver('webhook');
		ntfy = await startReceiver('ntfy');
	});

	afterAll(async () => {
		await serve?.kill();
		await webhook?.close();
		await ntfy?.close();
		await scene?.cleanup();
	});

	const start = async (): Promise<Serve> => Serve.start(home, ['--notify', `${webhook.origin}/hooks/updock`, '--notify', `ntfy://alice:pw@127.0.0.1:${ntfy.port}/updates?scheme=http`]);

	it('sends exactly one notification per channel for a pushed update, across scans and a restart, and a new one when the tag moves again', async () => {
		const reference = scene.ref(sandbox.open.host, 'app');
		await scene.push(reference, {marker: 'notify-app-1'});
		await scene.pull(reference);
		const name = await scene.runContainer('app', reference);
		const second = await scene.push(reference, {marker: 'notify-app-2'});

		serve = await start();
		await serve.alertsDone(await serve.finishedScan());
		await waitFor('both receivers to take the notification', () => webhook.taken().length === 1 && ntfy.taken().length === 1);
		const [hook] = webhook.taken();
		expect(hook!.path).toBe('/hooks/updock');
		expect(hook!.headers['x-updock-signature']).toBe(`sha256=${createHmac('sha256', secret).update(hook!.body).digest('hex')}`);
		const body = webhookBody.parse(JSON.parse(hook!.body.toString('utf8')));
		expect(body.events).toEqual([expect.objectContaining({host: 'local', container: expect.objectContaining({name, image: reference}), remoteDigest: second})]);
		const [message] = ntfy.taken();
		expect(message!.path).toBe('/updates');
		expect(message!.headers['title']).toBe('updock: 1 update available');
		expect(message!.headers['authorization']).toBe(`Basic ${Buffer.from('alice:pw').toString('base64')}`);
		expect(message!.body.toString('utf8')).toContain(`local/${name}: ${reference}`);

		await serve.scanNow();
		expect(await serve.stop()).toBe(0);
		serve = await start();
		await serve.alertsDone(await serve.finishedScan());
		await serve.scanNow();
		expect(webhook.received).toHaveLength(1);
		expect(ntfy.received).toHaveLength(1);
		const announced = z.looseObject({announced: z.record(z.string(), z.looseObject({digest: z.string()}))}).parse(JSON.parse(await readFile(home.db, 'utf8')));
		expect(announced.announced[`local/${name}`]?.digest).toBe(second);

		const third = await scene.push(reference, {marker: 'notify-app-3'});
		await serve.scanNow();
		await waitFor('the second notification', () => webhook.taken().length === 2 && ntfy.taken().length === 2);
		expect(webhookBody.parse(JSON.parse(webhook.taken()[1]!.body.toString('utf8'))).events.map(event => event.remoteDigest)).toEqual([third]);
		const metrics = await serve.metrics();
		expect(sample(metrics, 'updock_notifications_total', {channel: 'webhook', result: 'success'})).toBe(1);
		expect(sample(metrics, 'updock_notifications_total', {channel: 'ntfy', result: 'success'})).toBe(1);
		expect(await serve.stop()).toBe(0);
		serve = undefined;
	});

	it('announces a newer version once, across scans and a restart, with what --json says of the container; ?type= finds it', async () => {
		const running = scene.ref(sandbox.open.host, 'versioned', '1.0');
		const runningDigest = await scene.push(running, {marker: 'versioned-1.0'});
		await scene.pull(running);
		const name = await scene.runContainer('versioned', running);
		await scene.push(scene.ref(sandbox.open.host, 'versioned', '1.1'), {marker: 'versioned-1.1'});
		await scene.push(scene.ref(sandbox.open.host, 'versioned', '2.0'), {marker: 'versioned-2.0'});
		const receiver = await startReceiver('webhook');
		const eventsFor = (): Array<z.infer<typeof webhookBody>['events'][number]> => receiver.taken().flatMap(request => webhookBody.parse(JSON.parse(request.body.toString('utf8'))).events).filter(event => event.container.name === name);
		try {
			serve = await Serve.start(home, ['--notify', `${receiver.origin}/versions`]);
			await serve.alertsDone(await serve.finishedScan());
			await waitFor('the newer version to be announced', () => eventsFor().length === 1);
			const [event] = eventsFor();
			const {json} = await scanJson(home);
			const container = row(json, name);
			expect(event).toMatchObject({status: 'up-to-date', localDigest: runningDigest, remoteDigest: runningDigest, newer: [{tag: '1.1', type: 'minor'}, {tag: '2.0', type: 'major'}]});
			expect({newer: event!.newer, links: event!.links, vulnerabilities: event!.vulnerabilities, risk: event!.risk}).toEqual({newer: container.newer, links: container.links, vulnerabilities: container.vulnerabilities, risk: container.risk});

			// The default list has it (a newer version, though its tag is up to date); ?type= keeps the kinds it has.
			const names = async (query: string): Promise<string[]> => (await serve!.json(api.updatesSchema, `/api/v1/updates${query}`)).updates.map(entry => entry.name);
			expect(await names('')).toContain(name);
			expect(await names('?type=minor')).toContain(name);
			expect(await names('?type=major')).toContain(name);
			expect(await names('?type=patch')).not.toContain(name);
			expect(await names('?status=update-available')).not.toContain(name);
			expect(await names('?sort=risk')).toEqual(await names(''));

			await serve.scanNow();
			expect(await serve.stop()).toBe(0);
			serve = await Serve.start(home, ['--notify', `${receiver.origin}/versions`]);
			await serve.alertsDone(await serve.finishedScan());
			await serve.scanNow();
			expect(eventsFor()).toHaveLength(1);
			const announced = z.looseObject({announced: z.record(z.string(), z.looseObject({digest: z.string(), tag: z.string().optional()}))}).parse(JSON.parse(await readFile(home.db, 'utf8')));
			expect(announced.announced[`local/${name}`]).toMatchObject({digest: runningDigest, tag: '2.0'});
			expect(await serve.stop()).toBe(0);
			serve = undefined;
		} finally {
			await receiver.close();
		}
	});

	it('retries a receiver that fails twice, then succeeds, counting every attempt', async () => {
		const reference = scene.ref(sandbox.open.host, 'retry');
		await scene.push(reference, {marker: 'retry-1'});
		await scene.pull(reference);
		await scene.runContainer('retry', reference);
		const newer = await scene.push(reference, {marker: 'retry-2'});
		const flaky = await startReceiver('webhook');
		try {
			flaky.failNext(2);
			serve = await Serve.start(home, ['--notify', `${flaky.origin}/flaky`]);
			await waitFor('the third attempt to be taken', () => flaky.taken().length === 1, 60_000);
			expect(flaky.received.map(entry => entry.status)).toEqual([500, 500, 200]);
			expect(webhookBody.parse(JSON.parse(flaky.taken()[0]!.body.toString('utf8'))).events.map(event => event.remoteDigest)).toContain(newer);
			await waitFor('the success to be logged', () => serve!.lines.some(line => line['result'] === 'success'));
			const attempts = serve.lines.filter(line => line['channel'] === 'webhook').map(line => [line['attempt'], line['result']]);
			expect(attempts).toEqual([[1, 'failure'], [2, 'failure'], [3, 'success']]);
			const metrics = await serve.metrics();
			expect(sample(metrics, 'updock_notifications_total', {channel: 'webhook', result: 'failure'})).toBe(2);
			expect(sample(metrics, 'updock_notifications_total', {channel: 'webhook', result: 'success'})).toBe(1);
			expect(await serve.stop()).toBe(0);
			serve = undefined;
		} finally {
			await flaky.close();
		}
	});
});

describe('updock serve access and shutdown', () => {
	let home: UpdockHome;
	let scene: Scene;

	beforeAll(async () => {
		home = await makeHome(sandbox);
		scene = await Scene.create(sandbox, 'serve-stop');
	});

	afterAll(async () => {
		await scene?.cleanup();
	});

	it('asks for the bearer token on every request but GET /healthz', async () => {
		const serve = await Serve.start(home, [], {UPDOCK_API_TOKEN: 'e2e-t0ken'});
		try {
			expect((await serve.request('/healthz')).status).toBe(200);
			for (const authorization of [undefined, 'Bearer wrong', 'Bearer e2e-t0ke']) {
				const code = (await serve.error('/api/v1/updates', authorization === undefined ? {} : {headers: {authorization}}, 401)).code;
				expect(code).toBe('unauthorized');
			}

			expect((await serve.request('/metrics')).status).toBe(401);
			expect((await serve.request('/api/v1/updates', {headers: {authorization: 'Bearer e2e-t0ken'}})).status).toBe(200);
			expect(serve.lines.map(line => JSON.stringify(line)).join('\n')).not.toContain('e2e-t0ken');
		} finally {
			expect(await serve.stop()).toBe(0);
		}
	});

	it('refuses a non-loopback address without a token, and an empty token file, with exit 64', async () => {
		const port = await freePort();
		const open = await updock(home, ['serve', '--listen', `0.0.0.0:${port}`]);
		expect(open.code).toBe(64);
		expect(open.stderr).toMatch(/UPDOCK_API_TOKEN/);
		const empty = `${home.dir}/empty-token`;
		await writeFile(empty, '  \n');
		const withEmpty = await updock(home, ['serve', '--listen', `127.0.0.1:${port}`, '--api-token-file', empty]);
		expect(withEmpty.code).toBe(64);
		expect(withEmpty.stderr).toMatch(/--api-token-file .* is empty/);
		const badNotify = await updock(home, ['serve', '--notify', 'http://hooks.example/x']);
		expect(badNotify.code).toBe(64);
		expect(badNotify.stderr).toMatch(/--notify: .*plain HTTP/);
	});

	it('listens on a unix socket with mode 0660, replacing a stale socket but never another file', async () => {
		const path = `${home.dir}/updock.sock`;
		// A socket left behind by a process that died: killed, it had no chance to unlink it.
		const holder = spawn(process.execPath, ['-e', 'require("node:net").createServer().listen(process.argv[1])', path], {stdio: 'ignore'});
		await waitFor('the socket to be bound', async () => (await stat(path).catch(() => undefined))?.isSocket() === true);
		holder.kill('SIGKILL');
		await once(holder, 'exit');
		expect((await stat(path)).isSocket()).toBe(true);
		await writeFile(`${home.dir}/not-a-socket`, 'keep me');
		const refused = await updock(home, ['serve', '--listen', `unix://${home.dir}/not-a-socket`]);
		expect(refused.code).toBe(64);
		expect(refused.stderr).toMatch(/is not a socket/);
		expect(await readFile(`${home.dir}/not-a-socket`, 'utf8')).toBe('keep me');

		const child = spawn(process.execPath, [updockBin, 'serve', '--listen', `unix://${path}`], {env: systemEnv(home.env), stdio: 'ignore'});
		try {
			const get = async (): Promise<{status: number; body: string}> => new Promise((resolve, reject) => {
				const request = httpRequest({socketPath: path, path: '/healthz'}, response => {
					let body = '';
					response.on('data', (chunk: Buffer) => {
						body += chunk.toString('utf8');
					});
					response.on('end', () => resolve({status: response.statusCode ?? 0, body}));
				});
				request.on('error', reject);
				request.end();
			});
			await waitFor('serve on the unix socket', async () => (await get().catch(() => undefined))?.status === 200);
			expect(JSON.parse((await get()).body)).toEqual({ok: true});
			expect((await stat(path)).mode & 0o777).toBe(0o660);
		} finally {
			child.kill('SIGTERM');
			await once(child, 'exit');
		}
	});

	it('stops in the middle of a scan on SIGTERM, exit 0, leaving a valid JSON file', async () => {
		// A registry that accepts connections and never answers holds the scan up.
		const gone = await startRegistry(`${sandbox.root}/serve-blackhole`, {kind: 'none'});
		const reference = scene.ref(gone.host, 'hang');
		await scene.push(reference, {marker: 'hang-1'});
		await scene.pull(reference);
		await scene.runContainer('hang', reference);
		await gone.stop();
		const sockets = new Set<Socket>();
		const blackhole: Server = createServer(socket => {
			sockets.add(socket);
		});
		blackhole.listen(Number(gone.host.split(':')[1]), '127.0.0.1');
		await once(blackhole, 'listening');
		let serve: Serve | undefined;
		try {
			await mkdir(dirname(home.db), {recursive: true});
			await writeFile(home.db, JSON.stringify({version: 1, pins: [], exclusions: [], keptKey: 'kept'}));
			serve = await Serve.start(home, ['--timeout', '5m']);
			await waitFor('the scan to reach the silent registry', () => sockets.size > 0);
			expect((await serve.json(api.summaryAnswerSchema, '/api/v1/updates/summary')).scan.state).toBe('running');
			// A write to the file while the scan runs, then the stop.
			await serve.json(api.pinAnswerSchema, `/api/v1/updates/pin/${scene.prefix}-hang`, {method: 'POST'});
			expect(await serve.stop('SIGTERM')).toBe(0);
			expect(serve.lines.some(line => line.msg === 'Stopped')).toBe(true);
			const saved = z.looseObject({version: z.literal(1), keptKey: z.literal('kept'), pins: z.array(z.looseObject({name: z.string()}))}).parse(JSON.parse(await readFile(home.db, 'utf8')));
			expect(saved.pins.map(pin => pin.name)).toEqual([`${scene.prefix}-hang`]);
			expect((await updock(home, ['pins', '--json'])).code).toBe(0);
		} finally {
			await serve?.kill();
			for (const socket of sockets) {
				socket.destroy();
			}

			blackhole.close();
		}
	});
});
