/**
 * `npm run bench`: updock against its own scaled sandbox — a real dockerd and a Bearer-token registry
 * on loopback, U unique images (default 300) and 2U containers, a quarter of the tags moved on, and a
 * proxy adding a fixed latency per request (0 and 50 ms by default). Prints a table and writes
 * bench/results.json. Nothing here is a test: no figure is asserted.
 *
 *   npm run bench -- --images 300 --latency 0,50 --concurrency 8
 */
import {spawn} from 'node:child_process';
import {once} from 'node:events';
import {mkdir, mkdtemp, rm, writeFile} from 'node:fs/promises';
import {cpus, release, tmpdir, totalmem} from 'node:os';
import {join, resolve} from 'node:path';
import {parseArgs} from 'node:util';
import {build} from 'esbuild';
import {docker} from '../test/helpers/dockerd.ts';
import {ImageFactory} from '../test/helpers/images.ts';
import {ensurePackages} from '../test/helpers/packages.ts';
import {must, run} from '../test/helpers/process.ts';
import {requestsDuring, type AccessEntry} from '../test/helpers/registry.ts';
import {startSandbox, type SandboxInfo} from '../test/helpers/sandbox.ts';
import {Terminal} from '../test/helpers/tmux.ts';
import type {TokenRequest} from '../test/helpers/token-server.ts';
import {updockBin} from '../test/helpers/updock.ts';
import {startDelayProxy} from './delay-proxy.ts';
import {measureFloor} from './floor.ts';

const {values} = parseArgs({options: {
	images: {type: 'string', default: '300'},
	latency: {type: 'string', default: '0,50'},
	concurrency: {type: 'string', default: '8'},
	'tui-rows': {type: 'string', default: '2000'},
}});
const images = Number(values.images);
const latencies = values.latency.split(',').map(Number);
const concurrency = Number(values.concurrency);
const tuiRows = Number(values['tui-rows']);
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

/** Run updock under /usr/bin/time: wall time from spawn to exit, and peak RSS. */
async function timedUpdock(env: NodeJS.ProcessEnv, args: string[]): Promise<{wallMs: number; peakRssMb: number; code: number; stdout: string}> {
	const started = performance.now();
	const result = await run('/usr/bin/time', ['-f', 'UPDOCK_BENCH %M', process.execPath, updockBin, ...args], {env, timeoutMs: 600_000});
	const wallMs = performance.now() - started;
	const rss = /UPDOCK_BENCH (\d+)/.exec(result.stderr);
	return {wallMs, peakRssMb: rss === null ? Number.NaN : Number(rss[1]) / 1024, code: result.code, stdout: result.stdout};
}

/** Process start to exit, nothing in between (no wrapper): what a user of `--once` waits. */
async function startToExit(env: NodeJS.ProcessEnv, args: string[]): Promise<number> {
	const started = performance.now();
	const child = spawn(process.execPath, [updockBin, ...args], {env, stdio: 'ignore'});
	await once(child, 'exit');
	return performance.now() - started;
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
	};
	return {...kinds, perImage: Object.fromEntries(Object.entries(kinds).map(([kind, value]) => [kind, Number((value / unique).toFixed(3))]))};
}

say('starting the sandbox (dockerd, registries, token server)…');
await ensurePackages(['docker.io', 'docker-registry', 'skopeo', 'tmux', 'busybox-static', 'openssl', 'time']);
const sandbox = await startSandbox();
const results: Record<string, unknown> = {};
const scans: Array<Record<string, unknown>> = [];
try {
	const home = async (name: string): Promise<NodeJS.ProcessEnv> => {
		const dir = await mkdtemp(join(sandbox.info.root, `bench-${name}-`));
		await mkdir(join(dir, 'docker'), {recursive: true});
		return {PATH: process.env['PATH'], HOME: dir, DOCKER_HOST: sandbox.info.dockerHost, DOCKER_CONFIG: join(dir, 'docker'), UPDOCK_DB: join(dir, 'updock.json')};
	};

	// Start-up, against an engine with no containers yet, once the just-started daemons have settled.
	say('start-up of --once on an empty engine…');
	await new Promise(resolve => setTimeout(resolve, 5000));
	const emptyEnv = await home('empty');
	// The first run also fills Node's compile cache (in the system temp directory) for the others.
	await rm(join(tmpdir(), 'node-compile-cache'), {recursive: true, force: true});
	const cold = {wallMs: await startToExit(emptyEnv, ['--once', '--json'])};
	const warm: number[] = [];
	for (let index = 0; index < 25; index++) {
		warm.push(await startToExit(emptyEnv, ['--once', '--json']));
	}

	const firstFrames: number[] = [];
	for (let index = 0; index < 5; index++) {
		const started = performance.now();
		const terminal = await Terminal.start(emptyEnv['HOME']!, [process.execPath, updockBin], emptyEnv, 120, 40);
		await terminal.waitForScreen(screen => /^updock {2}/m.test(screen) && /q quit/.test(screen), 'the first frame', 10_000);
		firstFrames.push(performance.now() - started);
		await terminal.keys('q');
		await terminal.exitCode();
		await terminal.kill();
	}

	results['startup'] = {onceColdMs: cold.wallMs, onceWarmMedianMs: median(warm), onceWarmMinMs: Math.min(...warm), onceWarmMaxMs: Math.max(...warm), tuiFirstFrameMedianMs: median(firstFrames)};
	say(`start-up: --once ${median(warm).toFixed(0)} ms (cold ${cold.wallMs.toFixed(0)} ms), first frame ${median(firstFrames).toFixed(0)} ms`);

	// The scaled scene, on the token registry behind the delay proxy (at 0 ms while building it).
	const proxy = await startDelayProxy(sandbox.info.token.host);
	const credentials = `${sandbox.info.token.username}:${sandbox.info.token.password}`;
	const cliConfig = join(sandbox.info.root, 'bench-cli');
	await mkdir(cliConfig, {recursive: true});
	const auth = {auths: {[proxy.host]: {auth: Buffer.from(credentials).toString('base64')}}};
	await writeFile(join(cliConfig, 'config.json'), JSON.stringify(auth));
	const factory = new ImageFactory(join(sandbox.info.root, 'bench-images'));
	await mkdir(join(sandbox.info.root, 'bench-images'), {recursive: true});
	const repositories = Array.from({length: images}, (_, index) => `bench/app${index}`);
	const reference = (repository: string): string => `${proxy.host}/${repository}:1`;
	say(`pushing ${images} images…`);
	await limit(repositories, 4, async repository => {
		await factory.push(reference(repository), {marker: `${repository}-1`}, {credentials});
	});
	say(`pulling them and creating ${images * 2} containers…`);
	await limit(repositories, 4, async repository => {
		await docker(sandbox.info.dockerHost, ['pull', '--quiet', reference(repository)], cliConfig);
	});
	await limit(repositories.flatMap(repository => [repository, repository]), 8, async (repository, index) => {
		await docker(sandbox.info.dockerHost, ['create', '--network', 'none', '--name', `bench-${index}`, reference(repository)]);
	});
	say(`moving on a quarter of the tags (${Math.floor(images / 4)})…`);
	await limit(repositories.slice(0, Math.floor(images / 4)), 4, async repository => {
		await factory.push(reference(repository), {marker: `${repository}-2`}, {credentials});
	});

	for (const latency of latencies) {
		proxy.delayMs = latency;
		const env = await home(`scan-${latency}`);
		await writeFile(join(env['DOCKER_CONFIG']!, 'config.json'), JSON.stringify(auth));
		const measure = async (): Promise<Record<string, unknown>> => {
			const tokensBefore = (await tokenRequests(sandbox.info)).length;
			const {result, requests} = await requestsDuring(sandbox.info.token, async () => timedUpdock(env, ['--once', '--json', '--concurrency', String(concurrency)]));
			const tokens = (await tokenRequests(sandbox.info)).length - tokensBefore;
			const json = JSON.parse(result.stdout) as {summary: Record<string, number>};
			return {wallMs: result.wallMs, peakRssMb: result.peakRssMb, exit: result.code, summary: json.summary, requests: byKind(requests, tokens, images)};
		};

		say(`latency ${latency} ms: first scan…`);
		const first = await measure();
		say(`latency ${latency} ms: second scan…`);
		const second = await measure();
		// Tokens in hand before the clock starts, 50 repositories each as updock asks for them (a token
		// for all 300 is too large a header for the registry).
		const tokens = new Map<string, string>();
		for (let start = 0; start < repositories.length; start += 50) {
			const chunk = repositories.slice(start, start + 50);
			const answer = await (await fetch(`${sandbox.info.tokenServer}/token?service=updock-sandbox&${chunk.map(repository => `scope=repository:${repository}:pull`).join('&')}`, {headers: {authorization: `Basic ${Buffer.from(credentials).toString('base64')}`}})).json() as {token: string};
			for (const repository of chunk) {
				tokens.set(repository, `Bearer ${answer.token}`);
			}
		}

		const floors: number[] = [];
		for (let index = 0; index < 3; index++) {
			floors.push(await measureFloor({registry: proxy.host, repositories, concurrency, authorization: repository => tokens.get(repository)!}));
		}

		const floor = median(floors);
		scans.push({latencyMs: latency, first, second, floorMs: floor, ratioFirst: (first['wallMs'] as number) / floor, ratioSecond: (second['wallMs'] as number) / floor});
		say(`latency ${latency} ms: first ${(first['wallMs'] as number).toFixed(0)} ms, second ${(second['wallMs'] as number).toFixed(0)} ms, floor ${floor.toFixed(0)} ms`);
	}

	results['scans'] = scans;
	await proxy.close();

	say(`the live view with ${tuiRows} containers…`);
	const bundleDir = join(sandbox.info.root, 'tui-keys');
	const bundle = join(bundleDir, 'tui-keys.js');
	await build({entryPoints: [resolve(import.meta.dirname, 'tui-keys.ts')], outdir: bundleDir, splitting: true, bundle: true, format: 'esm', platform: 'node', target: 'node22', external: ['react-devtools-core'], banner: {js: 'import {createRequire as __cr} from "node:module"; const require = __cr(import.meta.url);'}, logLevel: 'warning', define: {'process.env.NODE_ENV': '"production"'}});
	const keys = await must(process.execPath, [bundle, String(tuiRows), '60'], {timeoutMs: 120_000});
	results['tui'] = JSON.parse(keys.trim().split('\n').at(-1)!) as unknown;
} finally {
	say('stopping the sandbox…');
	await sandbox.stop();
}

const commit = (await run('git', ['rev-parse', '--short', 'HEAD'])).stdout.trim();
const report = {
	date: new Date().toISOString(),
	commit,
	machine: {cpus: cpus().length, cpuModel: cpus()[0]?.model, memoryGiB: Math.round(totalmem() / 2 ** 30), kernel: release(), node: process.version},
	parameters: {images, containers: images * 2, moved: Math.floor(images / 4), concurrency, latencies, tuiRows},
	...results,
};
await mkdir(resolve(import.meta.dirname), {recursive: true});
await writeFile(resolve(import.meta.dirname, 'results.json'), `${JSON.stringify(report, null, 2)}\n`);

const lines: string[] = [];
const startup = results['startup'] as Record<string, number>;
lines.push(`updock bench · ${images} images, ${images * 2} containers, ${Math.floor(images / 4)} moved · concurrency ${concurrency} · ${report.machine.cpus} cores · node ${process.version} · ${commit}`);
lines.push('', `start-up  --once on an empty engine: ${startup['onceWarmMedianMs']!.toFixed(0)} ms median (first run ${startup['onceColdMs']!.toFixed(0)} ms)   first TUI frame: ${startup['tuiFirstFrameMedianMs']!.toFixed(0)} ms`);
lines.push('', 'latency  scan    wall ms  floor ms  ratio  RSS MB  ping/img  token  HEAD/img  GET/img');
for (const scan of scans) {
	for (const which of ['first', 'second'] as const) {
		const entry = scan[which] as {wallMs: number; peakRssMb: number; requests: {token: number; perImage: Record<string, number>}};
		lines.push(`${String(scan['latencyMs']).padStart(5)} ms  ${which.padEnd(6)} ${entry.wallMs.toFixed(0).padStart(8)}  ${(scan['floorMs'] as number).toFixed(0).padStart(8)}  ${(entry.wallMs / (scan['floorMs'] as number)).toFixed(2).padStart(5)}  ${entry.peakRssMb.toFixed(0).padStart(6)}  ${String(entry.requests.perImage['ping']).padStart(8)}  ${String(entry.requests.token).padStart(5)}  ${String(entry.requests.perImage['head']).padStart(8)}  ${String(entry.requests.perImage['get']).padStart(7)}`);
	}
}

const tui = results['tui'] as Record<string, number>;
lines.push('', `TUI with ${tui['rows']} containers: key press to frame ${tui['medianMs']!.toFixed(1)} ms median, ${tui['p95Ms']!.toFixed(1)} ms p95; peak RSS ${tui['peakRssMb']!.toFixed(0)} MB`);
lines.push('', `written to ${resolve(import.meta.dirname, 'results.json')}`);
process.stdout.write(`${lines.join('\n')}\n`);
await rm(join(sandbox.info.root), {recursive: true, force: true});
