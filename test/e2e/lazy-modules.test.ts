/**
 * A run loads what it needs and no more, since every module costs start-up time: a run that asks no
 * registry does not load undici (about 40 ms), one that reaches no engine does not load dockerode, and
 * none loads the undici bundled in Node (an ESM import of node:http does, through its lazy WebSocket
 * export: about 20 ms). Each run is the built executable against a stub engine on a unix socket; a
 * `--import` hook reports which of dist/'s files were loaded.
 */
import {once} from 'node:events';
import {readdir, readFile, writeFile} from 'node:fs/promises';
import {createServer, type Server} from 'node:http';
import {join, resolve} from 'node:path';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {startHostileServer, type HostileServer} from '../helpers/hostile-http.ts';
import {run} from '../helpers/process.ts';
import {temporaryDirectory} from '../helpers/temporary.ts';
import {updockBin} from '../helpers/updock.ts';

const dist = resolve(updockBin, '..');
const digest = `sha256:${'a'.repeat(64)}`;

let dir = '';
let engine: Server;
let registry: HostileServer;
/** The container the stub engine lists: none, or one whose image is on the stub registry. */
let containers: unknown[] = [];
/** dist/ files holding undici's code, and dockerode's. */
let undiciFiles: string[] = [];
let dockerodeFiles: string[] = [];

interface Loaded {
	readonly files: string[];
	readonly nodeUndici: boolean;
}

async function filesHolding(marker: string): Promise<string[]> {
	const names = (await readdir(dist)).filter(name => name.endsWith('.js'));
	const holding: string[] = [];
	for (const name of names) {
		// eslint-disable-next-line no-await-in-loop -- a handful of files
		if ((await readFile(join(dist, name), 'utf8')).includes(marker)) {
			holding.push(name);
		}
	}

	return holding;
}

/** Run dist/updock.js with `args` (as `node dist/updock.js`), and tell what it loaded. */
async function loadedBy(args: readonly string[]): Promise<Loaded & {code: number; stdout: string}> {
	const report = join(dir, `loaded-${Math.random().toString(36).slice(2)}.json`);
	const result = await run(process.execPath, ['--import', join(dir, 'hook.mjs'), updockBin, ...args], {env: {
		PATH: process.env['PATH'],
		HOME: dir,
		DOCKER_CONFIG: join(dir, 'docker'),
		DOCKER_HOST: `unix://${join(dir, 'engine.sock')}`,
		UPDOCK_DB: join(dir, `db-${Math.random().toString(36).slice(2)}.json`),
		LOADED_REPORT: report,
	}});
	const loaded: Loaded = JSON.parse(await readFile(report, 'utf8')) as Loaded;
	return {...loaded, code: result.code, stdout: result.stdout};
}

beforeAll(async () => {
	dir = await temporaryDirectory('updock-lazy-');
	await writeFile(join(dir, 'hook.mjs'), [
		"import {registerHooks} from 'node:module';",
		"import {writeFileSync} from 'node:fs';",
		'const files = new Set();',
		"registerHooks({load(url, context, next) { if (url.startsWith('file:')) files.add(url.slice(url.lastIndexOf('/') + 1)); return next(url, context); }});",
		"process.on('exit', () => writeFileSync(process.env.LOADED_REPORT, JSON.stringify({files: [...files], nodeUndici: process.moduleLoadList.some(name => name.includes('deps/undici'))})));",
		'',
	].join('\n'));
	undiciFiles = await filesHolding('undici.error.UND_ERR');
	dockerodeFiles = await filesHolding('prototype.listContainers');
	registry = await startHostileServer((request, response) => {
		if (request.url === '/v2/') {
			response.writeHead(200, {'content-type': 'application/json'}).end('{}');
		} else if (request.url?.startsWith('/v2/acme/app/manifests/') === true) {
			response.writeHead(200, {'docker-content-digest': digest, 'content-type': 'application/vnd.oci.image.index.v1+json', 'content-length': '2'}).end(request.method === 'HEAD' ? undefined : '{}');
		} else {
			response.writeHead(404, {'content-type': 'application/json'}).end('{"errors":[{"code":"NAME_UNKNOWN","message":"no"}]}');
		}
	});
	engine = createServer((request, response) => {
		const url = request.url ?? '';
		const json = (value: unknown): void => {
			response.writeHead(200, {'content-type': 'application/json'}).end(JSON.stringify(value));
		};

		if (url.endsWith('/_ping')) {
			response.writeHead(200, {'api-version': '1.45', 'content-type': 'text/plain'}).end('OK');
		} else if (url.includes('/version')) {
			json({ApiVersion: '1.45', Version: '27.0.0', Os: 'linux', Arch: 'amd64'});
		} else if (url.includes('/info')) {
			json({OSType: 'linux', Architecture: 'x86_64', DriverStatus: [], Swarm: {LocalNodeState: 'inactive', ControlAvailable: false}});
		} else if (url.includes('/containers/json')) {
			json(containers);
		} else if (url.includes('/images/json')) {
			json(containers.length === 0 ? [] : [{Id: `sha256:${'b'.repeat(64)}`, RepoDigests: [`${registry.host}/acme/app@${digest}`], RepoTags: [`${registry.host}/acme/app:1.0`], Size: 1, Labels: {}}]);
		} else {
			response.writeHead(404, {'content-type': 'application/json'}).end('{"message":"page not found"}');
		}
	});
	engine.listen(join(dir, 'engine.sock'));
	await once(engine, 'listening');
});

afterAll(async () => {
	engine.close();
	await registry.close();
});

describe('what a run loads', () => {
	it('finds the files it looks for in dist/', () => {
		expect(undiciFiles.length).toBeGreaterThan(0);
		expect(dockerodeFiles.length).toBeGreaterThan(0);
	});

	it('loads neither undici nor dockerode for a command that reaches no engine', async () => {
		const loaded = await loadedBy(['pins', '--json']);
		expect(loaded.code).toBe(0);
		expect(loaded.files).toContain('updock.js');
		expect(loaded.files.filter(file => undiciFiles.includes(file) || dockerodeFiles.includes(file))).toEqual([]);
		expect(loaded.nodeUndici).toBe(false);
	});

	it('loads dockerode but not undici for a scan of an engine with no containers', async () => {
		containers = [];
		const loaded = await loadedBy(['--once', '--json']);
		expect(loaded.code).toBe(0);
		expect(JSON.parse(loaded.stdout)).toMatchObject({summary: {total: 0}});
		expect(loaded.files.some(file => dockerodeFiles.includes(file))).toBe(true);
		expect(loaded.files.filter(file => undiciFiles.includes(file))).toEqual([]);
		expect(loaded.nodeUndici).toBe(false);
	});

	it('loads undici when a registry is asked, and the scan goes through it', async () => {
		containers = [{
			Id: 'c'.repeat(64), Names: ['/web'], Image: `${registry.host}/acme/app:1.0`, ImageID: `sha256:${'b'.repeat(64)}`, Command: 'web', Created: 1_700_000_000,
			State: 'running', Status: 'Up', Ports: [], Labels: {}, HostConfig: {NetworkMode: 'none'}, NetworkSettings: {Networks: {}}, Mounts: [],
		}];
		const loaded = await loadedBy(['--once', '--json', '--tags', 'off']);
		expect(loaded.code).toBe(0);
		expect(JSON.parse(loaded.stdout)).toMatchObject({containers: [{name: 'web', status: 'up-to-date', remoteDigest: digest}]});
		expect(loaded.files.some(file => undiciFiles.includes(file))).toBe(true);
		expect(loaded.nodeUndici).toBe(false);
	});
});
