/**
 * `npm run bench`: updock against its own scaled sandbox — real dockerds and a Bearer-token registry
 * on loopback, U unique images (default 300) on version tags (`1.0.0`, with newer tags beside some),
 * 2U containers per engine, a quarter of the tags moved on, and a proxy adding a fixed latency per
 * request (0 and 50 ms by default). Measures one engine and several engines running the same images,
 * and the live view's memory while it scans. Prints a table and writes bench/results.json. Nothing here
 * is a test: no figure is asserted.
 *
 *   npm run bench -- --images 300 --latency 0,50 --concurrency 8 --hosts 3 --live-containers 2000
 *
 * Each steady-state scan (a second scan of the same state, and one with `--tags off`) is run
 * `--steady-runs` times (default 5), each right after a run of the floor; the median run is reported,
 * with the median of the floors it was paired with and the median of the ratios pair by pair.
 *
 * `--parts live` runs only the named parts (startup, scans, live, tui) and `--out FILE` writes the
 * figures elsewhere than bench/results.json. `--live-variants 'exec;node --max-old-space-size=96'`
 * runs the live view once per variant on the same scene: `exec` starts dist/updock.js as a user does
 * (its shebang line and the flags in it), `node FLAGS` starts it as `node FLAGS dist/updock.js`.
 */
import {spawn} from 'node:child_process';
import {existsSync} from 'node:fs';
import {mkdir, mkdtemp, readFile, rm, writeFile} from 'node:fs/promises';
import {cpus, loadavg, release, tmpdir, totalmem} from 'node:os';
import {join, resolve} from 'node:path';
import {parseArgs} from 'node:util';
import {build} from 'esbuild';
import {z} from 'zod';
import {startDockerd, type Dockerd} from '../test/helpers/dockerd.ts';
import {ImageFactory} from '../test/helpers/images.ts';
import {ensurePackages} from '../test/helpers/packages.ts';
import {must, run} from '../test/helpers/process.ts';
import {requestsDuring, type AccessEntry} from '../test/helpers/registry.ts';
import {startSandbox, type Sandbox, type SandboxInfo} from '../test/helpers/sandbox.ts';
import {Terminal} from '../test/helpers/tmux.ts';
import type {TokenRequest} from '../test/helpers/token-server.ts';
import {startDelayProxy, type DelayProxy} from './delay-proxy.ts';
import {snapshotDist} from './dist-snapshot.ts';
import {BenchEngine} from './engine-api.ts';
import {measureFloor} from './floor.ts';
import {measureLive, type LiveFigures} from './live-rss.ts';
import {addTags} from './registry-tags.ts';

const {values} = parseArgs({options: {
	images: {type: 'string', default: '300'},
	latency: {type: 'string', default: '0,50'},
	concurrency: {type: 'string', default: '8'},
	'tui-rows': {type: 'string', default: '2000'},
	hosts: {type: 'string', default: '3'},
	'setup-parallel': {type: 'string', default: '4'},
	'live-containers': {type: 'string', default: '2000'},
	'live-interval': {type: 'string', default: '2s'},
	'live-latency': {type: 'string', default: '0'},
	'live-scans': {type: 'string', default: '100'},
	'live-seconds': {type: 'string', default: '300'},
	'live-variants': {type: 'string', default: 'exec'},
	'steady-runs': {type: 'string', default: '5'},
	parts: {type: 'string', default: 'startup,scans,live,tui'},
	out: {type: 'string', default: 'bench/results.json'},
}});
const parts = new Set(values.parts.split(',').map(part => part.trim()));
const unknownParts = [...parts].filter(part => !['startup', 'scans', 'live', 'tui'].includes(part));
if (unknownParts.length > 0) {
	throw new Error(`--parts: unknown part ${unknownParts.join(', ')} (known: startup, scans, live, tui)`);
}

/** How to start updock for one live measurement, as given: `exec`, or `node` and its flags. */
const liveVariants = values['live-variants'].split(';').map(variant => variant.trim()).filter(Boolean).map(variant => {
	const words = variant.split(/\s+/);
	if (variant === 'exec' || words[0] === 'node') {
		return {name: variant, flags: variant === 'exec' ? undefined : words.slice(1)};
	}

	throw new Error(`--live-variants: "${variant}" is neither exec nor "node FLAGS"`);
});
const images = Number(values.images);
const latencies = values.latency.split(',').map(Number);
const concurrency = Number(values.concurrency);
const tuiRows = Number(values['tui-rows']);
const hostCount = Number(values.hosts);
const setupParallel = Number(values['setup-parallel']);
const live = {containers: Number(values['live-containers']), interval: values['live-interval'], latencyMs: Number(values['live-latency']), maxScans: Number(values['live-scans']), maxSeconds: Number(values['live-seconds'])};
/** Steady-state scans (and --tags off) are run this many times and the median run is reported: one run varies by ±150 ms here. */
const steadyRuns = Math.max(1, Number(values['steady-runs']));
const containersPerHost = images * 2;
const moved = Math.floor(images / 4);
/** The tag every container runs; a version, so every scan also lists each repository's tags. */
const currentTag = '1.0.0';
/** Tags beside `1.0.0` in repository `index`: some newer (patch, minor, major), a pre-release and names that are no version. */
const otherTags = (index: number): string[] => [
	'0.9.0',
	'latest',
	...(index % 2 === 0 ? ['1.0.1'] : []),
	...(index % 3 === 0 ? ['1.1.0'] : []),
	...(index % 4 === 0 ? ['2.0.0-rc1'] : []),
	...(index % 5 === 0 ? ['2.0.0'] : []),
];
const say = (text: string): void => {
	process.stderr.write(`bench: ${text}\n`);
};

async function limit<T>(items: readonly T[], parallel: number, work: (item: T, index: number) => Promise<void>): Promise<void> {
	let next = 0;
	await Promise.all(Array.from({length: parallel}, async () => {
		for (let index = next++; index < items.length; index = next++) {
			await work(items[index]!, index);
		}
	}));
}

const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const seconds = async <T>(work: () => Promise<T>): Promise<{value: T; seconds: number}> => {
	const started = performance.now();
	const value = await work();
	return {value, seconds: Math.round((performance.now() - started) / 100) / 10};
};

// Everything the bench starts is stopped through here, in reverse order, on success, failure or a signal.
const stops = new Set<{what: string; stop: () => Promise<void>}>();
const track = (what: string, stop: () => Promise<void>): (() => void) => {
	const entry = {what, stop};
	stops.add(entry);
	return () => {
		stops.delete(entry);
	};
};

let stopping: Promise<void> | undefined;
const stopAll = async (): Promise<void> => {
	stopping ??= (async () => {
		for (const entry of [...stops].reverse()) {
			stops.delete(entry);
			await entry.stop().catch((error: unknown) => {
				say(`cleanup: stopping ${entry.what} failed: ${String(error)}`);
			});
		}
	})();
	return stopping;
};

for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
	process.once(signal, () => {
		say(`${signal}: stopping everything the bench started…`);
		void stopAll().finally(() => process.exit(130));
	});
}

// The machine is shared: its load when the bench starts and ends says how far to trust the figures.
const loadAtStart = loadavg();

/** updock.js in the run's private copy of dist/ (see snapshotDist). */
let updockBin = '';

const scanJson = z.object({summary: z.record(z.string(), z.unknown())});

/** Run updock under /usr/bin/time, as a user does (the executable, with its flags): wall time from spawn to exit, and peak RSS. */
async function timedUpdock(env: NodeJS.ProcessEnv, args: string[]): Promise<{wallMs: number; peakRssMb: number; code: number; summary: Record<string, unknown>}> {
	const started = performance.now();
	const result = await run('/usr/bin/time', ['-f', 'UPDOCK_BENCH %M', updockBin, ...args], {env, timeoutMs: 600_000});
	const wallMs = performance.now() - started;
	const rss = /UPDOCK_BENCH (\d+)/.exec(result.stderr);
	const parsed = scanJson.safeParse((() => {
		try {
			return JSON.parse(result.stdout) as unknown;
		} catch {
			return undefined;
		}
	})());
	if (!parsed.success || result.code === 64) {
		throw new Error(`updock ${args.join(' ')} printed no scan (exit ${result.code}):\n${result.stderr.slice(0, 2000)}`);
	}

	return {wallMs, peakRssMb: rss === null ? Number.NaN : Number(rss[1]) / 1024, code: result.code, summary: parsed.data.summary};
}

/** Process start to exit, nothing in between (no wrapper): what a user of `--once` waits. */
async function startToExit(env: NodeJS.ProcessEnv, args: string[]): Promise<number> {
	const started = performance.now();
	const child = spawn(updockBin, args, {env, stdio: ['ignore', 'ignore', 'pipe']});
	let stderr = '';
	child.stderr.on('data', (chunk: Buffer) => {
		stderr = (stderr + chunk.toString('utf8')).slice(-2000);
	});
	const code = await new Promise<number | null>(resolve => child.once('exit', resolve));
	const elapsed = performance.now() - started;
	if (code !== 0) {
		throw new Error(`updock ${args.join(' ')} exited ${code}: ${stderr}`);
	}

	return elapsed;
}

async function tokenRequests(sandbox: SandboxInfo): Promise<TokenRequest[]> {
	return (await fetch(`${sandbox.tokenServer}/_requests`)).json() as Promise<TokenRequest[]>;
}

function byKind(requests: readonly AccessEntry[], tokens: number, unique: number) {
	const mine = requests.filter(entry => entry.userAgent.startsWith('updock/'));
	const count = (predicate: (entry: AccessEntry) => boolean): number => mine.filter(predicate).length;
	const kinds = {
		ping: count(entry => entry.method === 'GET' && entry.path === '/v2/'),
		token: tokens,
		head: count(entry => entry.method === 'HEAD'),
		get: count(entry => entry.method === 'GET' && entry.path.includes('/manifests/')),
		list: count(entry => entry.method === 'GET' && entry.path.includes('/tags/list')),
		blob: count(entry => entry.path.includes('/blobs/')),
	};
	return {...kinds, total: mine.length, perImage: Object.fromEntries(Object.entries(kinds).map(([kind, value]) => [kind, Number((value / unique).toFixed(3))]))};
}

type ScanFigures = Awaited<ReturnType<typeof timedUpdock>> & {requests: ReturnType<typeof byKind>};
/** The median of several steady-state runs, each paired with a floor run just before it. */
type SteadyFigures = ScanFigures & {runsMs: number[]; pairedFloorsMs: number[]; pairedFloorMs: number; pairedRatio: number};

const snapshotDir = await mkdtemp(join(tmpdir(), 'updock-bench-dist-'));
track('the copy of dist/', async () => rm(snapshotDir, {recursive: true, force: true}));
const snapshot = await snapshotDist(snapshotDir, say).catch(async (error: unknown) => {
	await stopAll();
	throw error;
});
updockBin = snapshot.bin;
say('starting the sandbox (dockerd, registries, token server)…');
await ensurePackages(['docker.io', 'docker-registry', 'skopeo', 'tmux', 'busybox-static', 'openssl', 'time']);
const sandbox: Sandbox = await startSandbox().catch(async (error: unknown) => {
	await stopAll();
	throw error;
});
const sandboxDockerdPid = Number(await readFile(join(sandbox.info.root, 'engine', 'dockerd.pid'), 'utf8').catch(() => '0'));
track('the sandbox', async () => {
	await sandbox.stop();
	// The sandbox's own stop gives up on an engine that does not answer; the pid is ours to end.
	if (sandboxDockerdPid > 0 && existsSync(`/proc/${sandboxDockerdPid}`)) {
		process.kill(sandboxDockerdPid, 'SIGKILL');
	}
});
const engineA = new BenchEngine('a', sandbox.info.dockerHost.replace(/^unix:\/\//, ''));
track('the containers of engine a', async () => engineA.removeAll());
const results: Record<string, unknown> = {};
const scans: Array<Record<string, unknown>> = [];
const multiHost: Array<Record<string, unknown>> = [];
const setup: Record<string, number> = {};
let failed = false;
try {
	const home = async (name: string, auth?: unknown): Promise<NodeJS.ProcessEnv> => {
		const dir = await mkdtemp(join(sandbox.info.root, `bench-${name}-`));
		await mkdir(join(dir, 'docker'), {recursive: true});
		await mkdir(join(dir, 'tmp'), {recursive: true});
		if (auth !== undefined) {
			await writeFile(join(dir, 'docker', 'config.json'), JSON.stringify(auth));
		}

		// A temporary directory of its own: Node's compile cache lives there, and other programs on the
		// machine must not share (or empty) it while the bench measures.
		return {PATH: process.env['PATH'], HOME: dir, TMPDIR: join(dir, 'tmp'), DOCKER_HOST: sandbox.info.dockerHost, DOCKER_CONFIG: join(dir, 'docker'), UPDOCK_DB: join(dir, 'updock.json')};
	};

	if (parts.has('startup')) {
		// Start-up, against an engine with no containers yet, once the just-started daemons have settled.
		say('start-up of --once on an empty engine…');
		await new Promise(resolve => setTimeout(resolve, 5000));
		results['startup'] = await (async () => {
			const emptyEnv = await home('empty');
			// The first run fills Node's compile cache (in this home's temporary directory) for the others.
			const cold = await startToExit(emptyEnv, ['--once', '--json']);
			const warm: number[] = [];
			for (let index = 0; index < 25; index++) {
				warm.push(await startToExit(emptyEnv, ['--once', '--json']));
			}

			const firstFrames: number[] = [];
			for (let index = 0; index < 5; index++) {
				const dir = await mkdtemp(join(emptyEnv['HOME']!, 'frame-'));
				const started = performance.now();
				const terminal = await Terminal.start(dir, [updockBin], emptyEnv, 120, 40);
				const untrack = track('a tmux server', async () => terminal.kill());
				await terminal.waitForScreen(screen => /^updock {2}/m.test(screen) && /q quit/.test(screen), 'the first frame', 10_000);
				firstFrames.push(performance.now() - started);
				await terminal.keys('q');
				await terminal.exitCode();
				await terminal.kill();
				untrack();
			}

			return {onceColdMs: cold, onceWarmMedianMs: median(warm), onceWarmMinMs: Math.min(...warm), onceWarmMaxMs: Math.max(...warm), onceRuns: warm.length, tuiFirstFrameMedianMs: median(firstFrames)};
		})();
		const startup = results['startup'] as Record<string, number>;
		say(`start-up: --once ${startup['onceWarmMedianMs']!.toFixed(0)} ms median (${startup['onceWarmMinMs']!.toFixed(0)}–${startup['onceWarmMaxMs']!.toFixed(0)}), cold ${startup['onceColdMs']!.toFixed(0)} ms, first frame ${startup['tuiFirstFrameMedianMs']!.toFixed(0)} ms`);
	}

	// The scaled scene, on the token registry behind the delay proxy (at 0 ms while building it).
	const proxy: DelayProxy = await startDelayProxy(sandbox.info.token.host);
	track('the delay proxy', async () => proxy.close());
	const credentials = `${sandbox.info.token.username}:${sandbox.info.token.password}`;
	const auth = {auths: {[proxy.host]: {auth: Buffer.from(credentials).toString('base64')}}};
	const factory = new ImageFactory(join(sandbox.info.root, 'bench-images'));
	await mkdir(join(sandbox.info.root, 'bench-images'), {recursive: true});
	const repositories = Array.from({length: images}, (_, index) => `bench/app${index}`);
	const reference = (repository: string): string => `${proxy.host}/${repository}:${currentTag}`;

	// The other engines start while the images are pushed.
	say(`starting ${hostCount - 1} more dockerds; pushing ${images} images…`);
	const engines: BenchEngine[] = [engineA];
	const otherEngines = (async () => {
		for (const name of 'bcdefgh'.slice(0, hostCount - 1)) {
			const dockerd: Dockerd = await startDockerd(join(sandbox.info.root, `engine-${name}`));
			const engine = new BenchEngine(name, dockerd.socket);
			track(`dockerd ${name}`, async () => {
				await engine.removeAll().catch(() => undefined);
				await dockerd.stop().catch((error: unknown) => {
					say(`dockerd ${name} did not stop cleanly (${String(error)}); killing pid ${dockerd.pid}`);
					process.kill(dockerd.pid, 'SIGKILL');
				});
			});
			engines.push(engine);
		}
	})();
	setup['pushSeconds'] = (await seconds(async () => limit(repositories, 4, async repository => {
		await factory.push(reference(repository), {marker: `${repository}-1`}, {credentials});
	}))).seconds;
	setup['tagSeconds'] = (await seconds(async () => limit(repositories, 8, async (repository, index) => {
		await addTags({registry: sandbox.info.token.host, tokenServer: sandbox.info.tokenServer, service: 'updock-sandbox', credentials, repository, from: currentTag, tags: otherTags(index)});
	}))).seconds;
	setup['enginesStartSeconds'] = (await seconds(async () => otherEngines)).seconds;

	say(`pulling ${images} images on ${engines.length} engines and creating ${containersPerHost} containers on each…`);
	const pullAuth = {username: sandbox.info.token.username, password: sandbox.info.token.password, serveraddress: proxy.host};
	setup['pullSeconds'] = (await seconds(async () => Promise.all(engines.map(async engine => limit(repositories, setupParallel, async repository => {
		await engine.pull(`${proxy.host}/${repository}`, currentTag, pullAuth);
	}))))).seconds;
	const perHost = repositories.flatMap(repository => [repository, repository]);
	setup['createSeconds'] = (await seconds(async () => Promise.all(engines.map(async engine => limit(perHost, setupParallel, async (repository, index) => {
		await engine.create(`bench-${index}`, reference(repository));
	}))))).seconds;
	say(`moving on a quarter of the tags (${moved})…`);
	setup['moveSeconds'] = (await seconds(async () => limit(repositories.slice(0, moved), 4, async repository => {
		await factory.push(reference(repository), {marker: `${repository}-2`}, {credentials});
	}))).seconds;
	say(`setup: ${JSON.stringify(setup)}`);

	const hostArgs = engines.flatMap(engine => ['--host', `${engine.name}=${engine.host}`]);
	const measure = async (env: NodeJS.ProcessEnv, args: string[]): Promise<ScanFigures> => {
		const tokensBefore = (await tokenRequests(sandbox.info)).length;
		const {result, requests} = await requestsDuring(sandbox.info.token, async () => timedUpdock(env, ['--once', '--json', '--concurrency', String(concurrency), ...args]));
		const tokens = (await tokenRequests(sandbox.info)).length - tokensBefore;
		return {...result, requests: byKind(requests, tokens, images)};
	};

	/**
	 * Tokens in hand before the floor's clock starts, 50 repositories each as updock asks for them (a
	 * token for all 300 is too large a header for the registry). Asked afresh for each use.
	 */
	const floorTokens = async (): Promise<Map<string, string>> => {
		const tokens = new Map<string, string>();
		for (let start = 0; start < repositories.length; start += 50) {
			const chunk = repositories.slice(start, start + 50);
			const answer = await (await fetch(`${sandbox.info.tokenServer}/token?service=updock-sandbox&${chunk.map(repository => `scope=repository:${repository}:pull`).join('&')}`, {headers: {authorization: `Basic ${Buffer.from(credentials).toString('base64')}`}})).json() as {token: string};
			for (const repository of chunk) {
				tokens.set(repository, `Bearer ${answer.token}`);
			}
		}

		return tokens;
	};

	const floorNow = async (tokens: ReadonlyMap<string, string>): Promise<number> => measureFloor({registry: proxy.host, repositories, tag: currentTag, concurrency, authorization: repository => tokens.get(repository)!});

	/**
	 * `steadyRuns` scans of one state, each right after a floor run, so that each scan is compared with a
	 * floor measured under the same load (this machine's speed drifts by a quarter within minutes): the
	 * median run by wall time, every run's wall time and floor, and the median of the ratios pair by pair.
	 */
	const steady = async (env: NodeJS.ProcessEnv, args: string[]): Promise<SteadyFigures> => {
		const tokens = await floorTokens();
		const runs: ScanFigures[] = [];
		const floorsMs: number[] = [];
		for (let index = 0; index < steadyRuns; index++) {
			floorsMs.push(await floorNow(tokens));
			runs.push(await measure(env, args));
		}

		const middle = [...runs].sort((a, b) => a.wallMs - b.wallMs)[Math.floor(runs.length / 2)]!;
		return {
			...middle,
			runsMs: runs.map(run => Math.round(run.wallMs)),
			pairedFloorsMs: floorsMs.map(Math.round),
			pairedFloorMs: median(floorsMs),
			pairedRatio: median(runs.map((run, index) => run.wallMs / floorsMs[index]!)),
		};
	};

	for (const latency of parts.has('scans') ? latencies : []) {
		proxy.delayMs = latency;
		const single = await home(`scan-${latency}`, auth);
		say(`latency ${latency} ms, one engine: first scan, ${steadyRuns} steady scans, ${steadyRuns} with --tags off, each after a floor run…`);
		const first = await measure(single, []);
		const second = await steady(single, []);
		const tagsOff = await steady(single, ['--tags', 'off']);
		const tokens = await floorTokens();
		const floors: number[] = [];
		for (let index = 0; index < 3; index++) {
			floors.push(await floorNow(tokens));
		}

		const floor = median(floors);
		scans.push({latencyMs: latency, first, second, tagsOff, floorMs: floor, floorsMs: floors, ratioFirst: first.wallMs / floor, ratioSecond: second.pairedRatio, ratioTagsOff: tagsOff.pairedRatio});
		say(`latency ${latency} ms, one engine: first ${first.wallMs.toFixed(0)} ms, steady ${second.runsMs.join('/')} ms (floors ${second.pairedFloorsMs.join('/')} ms), --tags off ${tagsOff.wallMs.toFixed(0)} ms, floor ${floor.toFixed(0)} ms`);

		if (engines.length > 1) {
			const several = await home(`hosts-${latency}`, auth);
			say(`latency ${latency} ms, ${engines.length} engines: first scan, ${steadyRuns} steady scans, ${steadyRuns} with --tags off, each after a floor run…`);
			const hostsFirst = await measure(several, hostArgs);
			const hostsSecond = await steady(several, hostArgs);
			const hostsTagsOff = await steady(several, [...hostArgs, '--tags', 'off']);
			multiHost.push({latencyMs: latency, hosts: engines.length, containers: engines.length * containersPerHost, first: hostsFirst, second: hostsSecond, tagsOff: hostsTagsOff, floorMs: floor, ratioFirst: hostsFirst.wallMs / floor, ratioSecond: hostsSecond.pairedRatio, ratioTagsOff: hostsTagsOff.pairedRatio});
			say(`latency ${latency} ms, ${engines.length} engines: first ${hostsFirst.wallMs.toFixed(0)} ms, steady ${hostsSecond.runsMs.join('/')} ms (floors ${hostsSecond.pairedFloorsMs.join('/')} ms; ${hostsSecond.requests.head} HEADs, ${hostsSecond.requests.list} listings), --tags off ${hostsTagsOff.wallMs.toFixed(0)} ms`);
		}
	}

	results['scans'] = scans;
	results['multiHost'] = multiHost;

	// The live view scanning on its interval, on every engine, with containers added to reach the count.
	if (parts.has('live')) {
		const extra = Math.max(0, live.containers - engines.length * containersPerHost);
		const receivers = engines.length > 1 ? engines.slice(0, -1) : engines;
		const extraPerEngine = receivers.map((_, index) => Math.floor(extra / receivers.length) + (index < extra % receivers.length ? 1 : 0));
		setup['liveCreateSeconds'] = (await seconds(async () => Promise.all(receivers.map(async (engine, which) => limit(Array.from({length: extraPerEngine[which]!}, (_, index) => index), setupParallel, async index => {
			await engine.create(`bench-live-${index}`, reference(repositories[index % repositories.length]!));
		}))))).seconds;
		const perEngine = engines.map((_, index) => containersPerHost + (extraPerEngine[index] ?? 0));
		proxy.delayMs = live.latencyMs;
		const variants: Array<Record<string, unknown>> = [];
		for (const variant of liveVariants) {
			say(`the live view (${variant.name}) scanning ${perEngine.join('+')} containers every ${live.interval} at ${live.latencyMs} ms latency (up to ${live.maxScans} scans or ${live.maxSeconds} s)…`);
			// A home of its own: each variant starts from no JSON file, as the first did.
			const env = await home(`live-${variants.length}`, auth);
			let untrack = (): void => undefined;
			try {
				const figures: LiveFigures = await measureLive({
					dir: env['HOME']!,
					env,
					args: [...hostArgs, '--interval', live.interval, '--concurrency', String(concurrency)],
					registryLog: sandbox.info.token.logPath,
					uniqueReferences: images,
					maxScans: live.maxScans,
					maxSeconds: live.maxSeconds,
					track(stop) {
						untrack = track('the live view in tmux', stop);
					},
					say,
					command: variant.flags === undefined ? [updockBin] : [process.execPath, ...variant.flags, updockBin],
				});
				variants.push({variant: variant.name, hosts: engines.length, containersPerEngine: perEngine, containers: perEngine.reduce((sum, count) => sum + count, 0), interval: live.interval, latencyMs: live.latencyMs, ...figures});
			} finally {
				untrack();
			}
		}

		results['live'] = variants[0];
		results['liveVariants'] = variants;
	}

	if (parts.has('tui')) {
		say(`the live view with ${tuiRows} containers (in-memory terminal, key presses)…`);
		const bundleDir = join(sandbox.info.root, 'tui-keys');
		const bundle = join(bundleDir, 'tui-keys.js');
		await build({entryPoints: [resolve(import.meta.dirname, 'tui-keys.ts')], outdir: bundleDir, splitting: true, bundle: true, format: 'esm', platform: 'node', target: 'node22', external: ['react-devtools-core'], banner: {js: 'import {createRequire as __cr} from "node:module"; const require = __cr(import.meta.url);'}, logLevel: 'warning', define: {'process.env.NODE_ENV': '"production"'}});
		const keys = await must(process.execPath, [bundle, String(tuiRows), '60'], {timeoutMs: 120_000});
		results['tui'] = JSON.parse(keys.trim().split('\n').at(-1)!) as unknown;
	}
} catch (error) {
	failed = true;
	say(`failed: ${error instanceof Error ? error.stack ?? error.message : String(error)}`);
	say(`figures so far: ${JSON.stringify({setup, ...results, scans, multiHost})}`);
} finally {
	say('stopping everything the bench started…');
	await stopAll();
}

if (failed) {
	process.exit(1);
}

const commit = (await run('git', ['rev-parse', '--short', 'HEAD'])).stdout.trim();
const dirty = (await run('git', ['status', '--short', '--', 'source'])).stdout.split('\n').filter(Boolean).length;
const report = {
	date: new Date().toISOString(),
	commit,
	machine: {cpus: cpus().length, cpuModel: cpus()[0]?.model, memoryGiB: Math.round(totalmem() / 2 ** 30), kernel: release(), node: process.version, loadAverageAtStart: loadAtStart, loadAverageAtEnd: loadavg()},
	build: {changedSourceFiles: dirty, distBuiltAt: snapshot.builtAt.toISOString(), builtByBench: snapshot.built},
	parameters: {parts: [...parts], images, containers: containersPerHost, moved, tag: currentTag, reposWithNewerTags: Array.from({length: images}, (_, index) => index).filter(index => index % 2 === 0 || index % 3 === 0 || index % 5 === 0).length, concurrency, latencies, hosts: hostCount, setupParallel, tuiRows, live: {...live, variants: liveVariants.map(variant => variant.name)}},
	setup,
	...results,
};
const outFile = resolve(values.out);
await writeFile(outFile, `${JSON.stringify(report, null, 2)}\n`);

const lines: string[] = [];
const startup = results['startup'] as Record<string, number> | undefined;
const fixed = (value: number, digits = 0): string => value.toFixed(digits);
lines.push(`updock bench · ${images} images on ${currentTag} (${report.parameters.reposWithNewerTags} with newer tags), ${containersPerHost} containers per engine, ${moved} moved · concurrency ${concurrency} · ${report.machine.cpus} cores · node ${process.version} · ${commit}${dirty > 0 ? ` + ${dirty} changed source files` : ''}`);
lines.push(`load average (1, 5, 15 min) at start ${loadAtStart.map(value => value.toFixed(1)).join(' ')}, at end ${report.machine.loadAverageAtEnd.map(value => value.toFixed(1)).join(' ')}`);
lines.push(`setup: push ${setup['pushSeconds']} s, tags ${setup['tagSeconds']} s, engines ${setup['enginesStartSeconds']} s, pull ${setup['pullSeconds']} s, create ${setup['createSeconds']} s (${hostCount} × ${containersPerHost}), move ${setup['moveSeconds']} s, live extra ${setup['liveCreateSeconds']} s`);
if (startup !== undefined) {
	lines.push('', `start-up  --once on an empty engine: ${fixed(startup['onceWarmMedianMs']!)} ms median, ${fixed(startup['onceWarmMinMs']!)} min, ${fixed(startup['onceWarmMaxMs']!)} max of ${startup['onceRuns']} (first run ${fixed(startup['onceColdMs']!)} ms)   first TUI frame: ${fixed(startup['tuiFirstFrameMedianMs']!)} ms`);
}

const header = 'latency  engines  scan      wall ms  floor ms  ratio  RSS MB  HEAD  GET  list  blob  token  ping   rows  update  newer  error';
if (scans.length > 0) {
	lines.push('', header);
}

const row = (latency: number, hosts: number, which: string, entry: ScanFigures & Partial<SteadyFigures>, floor: number): string =>
	`${String(latency).padStart(5)} ms  ${String(hosts).padStart(7)}  ${which.padEnd(8)} ${fixed(entry.wallMs).padStart(8)}  ${fixed(entry.pairedFloorMs ?? floor).padStart(8)}  ${fixed(entry.pairedRatio ?? entry.wallMs / floor, 2).padStart(5)}  ${fixed(entry.peakRssMb).padStart(6)}  ${String(entry.requests.head).padStart(4)}  ${String(entry.requests.get).padStart(3)}  ${String(entry.requests.list).padStart(4)}  ${String(entry.requests.blob).padStart(4)}  ${String(entry.requests.token).padStart(5)}  ${String(entry.requests.ping).padStart(4)}  ${String(entry.summary['total']).padStart(5)}  ${String(entry.summary['updateAvailable']).padStart(6)}  ${String(entry.summary['newerVersions']).padStart(5)}  ${String(entry.summary['error']).padStart(5)}`;
for (const group of [scans, multiHost]) {
	for (const scan of group) {
		for (const which of ['first', 'second', 'tagsOff'] as const) {
			lines.push(row(scan['latencyMs'] as number, (scan['hosts'] as number | undefined) ?? 1, which === 'tagsOff' ? 'tags off' : which === 'second' ? 'steady' : which, scan[which] as ScanFigures, scan['floorMs'] as number));
		}
	}
}

const liveReports = (results['liveVariants'] ?? []) as Array<{variant: string; containers: number; containersPerEngine: number[]; interval: string; latencyMs: number} & LiveFigures>;
for (const liveReport of liveReports) {
	lines.push('', `live view (${liveReport.variant}), ${liveReport.containersPerEngine.join('+')} containers, --interval ${liveReport.interval}, ${liveReport.latencyMs} ms latency: ${liveReport.scans} scans in ${fixed(liveReport.seconds)} s, ${liveReport.lists} tag listings in all; RSS peak ${fixed(liveReport.rss.vmHwmMb)} MB (sampled ${fixed(liveReport.rss.peakSampledMb)}), median ${fixed(liveReport.rss.firstQuarterMedianMb)} MB first quarter → ${fixed(liveReport.rss.lastQuarterMedianMb)} MB last quarter; CPU ${fixed(liveReport.cpuSeconds, 1)} s`);
}

const tui = results['tui'] as Record<string, number> | undefined;
if (tui !== undefined) {
	lines.push('', `TUI with ${tui['rows']} containers: key press to frame ${tui['medianMs']!.toFixed(1)} ms median, ${tui['p95Ms']!.toFixed(1)} ms p95; peak RSS ${tui['peakRssMb']!.toFixed(0)} MB`);
}

lines.push('', `written to ${outFile}`);
process.stdout.write(`${lines.join('\n')}\n`);
