import {chmod, mkdir, readFile, writeFile} from 'node:fs/promises';
import {join} from 'node:path';
import {afterAll, beforeAll, describe, expect, inject, it} from 'vitest';
import {startCdn, startFaultProxy, type Cdn, type FaultProxy} from '../helpers/fault-proxy.ts';
import {Scene} from '../helpers/scene.ts';
import {startTlsRegistry, type TlsRegistry} from '../helpers/tls.ts';
import {makeHome, row, scanJson, updock, writeDockerAuths, type UpdockHome} from '../helpers/updock.ts';

const sandbox = inject('sandbox');
const {basic} = sandbox;
const basicAuthorization = `Basic ${Buffer.from(`${basic.username}:${basic.password}`).toString('base64')}`;

describe('registries that misbehave, behind a fault-injecting proxy', () => {
	let scene: Scene;
	let proxy: FaultProxy;
	let cdn: Cdn;
	const names: Record<string, string> = {};

	beforeAll(async () => {
		scene = await Scene.create(sandbox, 'fault');
		// The proxy fronts the Basic-auth registry; image references name the proxy.
		proxy = await startFaultProxy(basic.host);
		cdn = await startCdn(basic.host, basicAuthorization);
		const cliConfig = join(sandbox.root, 'fault-cli');
		await mkdir(cliConfig, {recursive: true});
		await writeDockerAuths({dockerConfig: cliConfig} as UpdockHome, {[proxy.host]: basic});
		const credentials = `${basic.username}:${basic.password}`;
		for (const repository of ['app', 'stale']) {
			await scene.push(scene.ref(proxy.host, repository), {marker: `fault-${repository}-1`}, {credentials});
			await scene.pull(scene.ref(proxy.host, repository), cliConfig);
			names[repository] = await scene.runContainer(repository, scene.ref(proxy.host, repository), {start: false});
		}

		await scene.push(scene.ref(proxy.host, 'stale'), {marker: 'fault-stale-2'}, {credentials});
		await scene.push(scene.ref(sandbox.open.host, 'other'), {marker: 'fault-other'});
		await scene.pull(scene.ref(sandbox.open.host, 'other'));
		names['other'] = await scene.runContainer('other', scene.ref(sandbox.open.host, 'other'), {start: false});
	});

	afterAll(async () => {
		await scene?.cleanup();
		await proxy?.close();
		await cdn?.close();
	});

	/** A scan with a fresh home and the credentials for the proxy; what the proxy saw of it. */
	async function scanThroughProxy(fault: FaultProxy['fault'], args: string[] = []) {
		const home = await makeHome(sandbox);
		await writeDockerAuths(home, {[proxy.host]: basic});
		proxy.fault = fault;
		const before = proxy.seen.length;
		const {result, json} = await scanJson(home, args);
		proxy.fault = () => ({kind: 'pass'});
		const seen = proxy.seen.slice(before);
		const manifests = (method: string, repository: string) => seen.filter(request => request.method === method && request.path.startsWith(`/v2/fault/${repository}/manifests/`));
		return {result, json, seen, manifests, home};
	}

	const verdictsAreRight = (json: Awaited<ReturnType<typeof scanThroughProxy>>['json']): void => {
		expect(row(json, names['app']!).status).toBe('up-to-date');
		expect(row(json, names['stale']!).status).toBe('update-available');
		expect(row(json, names['other']!).status).toBe('up-to-date');
	};

	it('hashes the GET body when Docker-Content-Digest is missing', async () => {
		const {result, json, manifests} = await scanThroughProxy(() => ({kind: 'strip-digest'}));
		expect(result.code, result.stderr).toBe(0);
		verdictsAreRight(json);
		expect(manifests('HEAD', 'app')).toHaveLength(1);
		expect(manifests('GET', 'app')).toHaveLength(1);
		// stale: HEAD, GET for the digest, GET of the new manifest by digest for its config
		expect(manifests('HEAD', 'stale')).toHaveLength(1);
		expect(manifests('GET', 'stale')).toHaveLength(2);
	});

	it('falls back to GET when HEAD answers 405', async () => {
		const {json, manifests} = await scanThroughProxy(({method, path}) => method === 'HEAD' && path.includes('/manifests/') ? {kind: 'status', status: 405} : {kind: 'pass'});
		verdictsAreRight(json);
		expect(manifests('HEAD', 'app')).toHaveLength(1);
		expect(manifests('GET', 'app')).toHaveLength(1);
	});

	it('follows a redirect to another host and never sends it the credentials', async () => {
		const before = cdn.seen.length;
		const {json, seen} = await scanThroughProxy(({path}) => path.includes('/manifests/') ? {kind: 'redirect', location: `http://${cdn.host}/cdn${path}`} : {kind: 'pass'});
		verdictsAreRight(json);
		const atCdn = cdn.seen.slice(before);
		expect(atCdn.length).toBeGreaterThanOrEqual(3);
		expect(atCdn.every(request => request.authorization === undefined)).toBe(true);
		expect(seen.filter(request => request.path.includes('/manifests/')).every(request => request.authorization === basicAuthorization)).toBe(true);
	});

	for (const [form, retryAfter] of [['seconds', () => '1'], ['an HTTP date', () => new Date(Date.now() + 1500).toUTCString()], ['garbage', () => 'in a bit']] as const) {
		it(`waits out a 429 with Retry-After as ${form}, then checks`, async () => {
			const limited = new Set<string>();
			const {result, json, manifests} = await scanThroughProxy(({method, path}) => {
				if (method === 'HEAD' && path.includes('/manifests/') && !limited.has(path)) {
					limited.add(path);
					return {kind: 'status', status: 429, headers: {'retry-after': retryAfter()}};
				}

				return {kind: 'pass'};
			});
			expect(result.code, result.stderr).toBe(0);
			verdictsAreRight(json);
			expect(manifests('HEAD', 'app')).toHaveLength(2);
		});
	}

	it('reads the pull budget from ratelimit headers into the JSON summary and the table', async () => {
		const headers = {'ratelimit-limit': '100;w=21600', 'ratelimit-remaining': '76;w=21600'};
		const {json, home} = await scanThroughProxy(({path}) => path.includes('/manifests/') ? {kind: 'add-headers', headers} : {kind: 'pass'});
		expect(json.summary.rateLimits).toEqual([{registry: proxy.host, limit: 100, remaining: 76, windowSeconds: 21_600}]);
		proxy.fault = ({path}) => path.includes('/manifests/') ? {kind: 'add-headers', headers} : {kind: 'pass'};
		const table = await updock(home, ['--once']);
		proxy.fault = () => ({kind: 'pass'});
		expect(table.stdout).toContain(`Rate limits: ${proxy.host}: 76 of 100 pulls left per 6h`);
	});

	it('reports a persistent rate limit, stops asking that registry, and checks the others', async () => {
		const {result, json, manifests} = await scanThroughProxy(({path}) => path.includes('/manifests/') ? {kind: 'status', status: 429, headers: {'retry-after': '0'}} : {kind: 'pass'}, ['--concurrency', '1']);
		expect(result.code).toBe(1);
		for (const name of ['app', 'stale']) {
			expect(row(json, names[name]!).status).toBe('error');
			expect(row(json, names[name]!).error).toMatch(new RegExp(`Registry ${proxy.host} is rate-limiting updock \\(HTTP 429\\).*The other registries are still checked`));
		}

		expect(row(json, names['other']!).status).toBe('up-to-date');
		// One tag tried three times (two retries); the other not at all.
		expect(manifests('HEAD', 'app').length + manifests('HEAD', 'stale').length).toBe(3);
	});
});

describe('a TLS registry with a private CA and client certificates', () => {
	let scene: Scene;
	let dir: string;
	let tls: TlsRegistry;
	let name: string;

	beforeAll(async () => {
		scene = await Scene.create(sandbox, 'tls');
		dir = join(sandbox.root, 'tls');
		tls = await startTlsRegistry(dir);
		await scene.push(scene.ref(tls.host, 'app'), {marker: 'tls-1'});
		await scene.pull(scene.ref(tls.host, 'app'));
		name = await scene.runContainer('app', scene.ref(tls.host, 'app'), {start: false});
		await tls.restartRequiringClientCerts();
	});

	afterAll(async () => {
		await scene?.cleanup();
		await tls?.stop();
	});

	it('is trusted through a certs.d directory, presenting the client certificate', async () => {
		const home = await makeHome(sandbox);
		const {result, json} = await scanJson(home, ['--certs-dir', join(dir, 'certs.d')]);
		expect(result.code, result.stderr).toBe(0);
		expect(row(json, name).status).toBe('up-to-date');
	});

	it('fails clearly with the wrong CA, and without the client certificate', async () => {
		const home = await makeHome(sandbox);
		const wrong = await scanJson(home, ['--certs-dir', join(dir, 'wrong-certs.d')]);
		expect(row(wrong.json, name).status).toBe('error');
		expect(row(wrong.json, name).error).toMatch(new RegExp(`TLS to registry ${tls.host.replaceAll('.', '\\.')} failed.*certs\\.d`));

		const noClient = await scanJson(home, ['--certs-dir', join(dir, 'ca-only-certs.d')]);
		expect(row(noClient.json, name).status).toBe('error');
		expect(row(noClient.json, name).error).toContain(tls.host);
	});
});

describe('credentials from helpers and DOCKER_AUTH_CONFIG', () => {
	let scene: Scene;
	let bin: string;
	let helperLog: string;
	let name: string;

	beforeAll(async () => {
		scene = await Scene.create(sandbox, 'helper');
		const cliConfig = join(sandbox.root, 'helper-cli');
		await mkdir(cliConfig, {recursive: true});
		await writeDockerAuths({dockerConfig: cliConfig} as UpdockHome, {[basic.host]: basic});
		await scene.push(scene.ref(basic.host, 'app'), {marker: 'helper-1'}, {credentials: `${basic.username}:${basic.password}`});
		await scene.pull(scene.ref(basic.host, 'app'), cliConfig);
		name = await scene.runContainer('app', scene.ref(basic.host, 'app'), {start: false});

		// A credential helper speaking the real protocol: server URL on stdin, JSON on stdout.
		bin = join(sandbox.root, 'helper-bin');
		helperLog = join(sandbox.root, 'helper.log');
		await mkdir(bin, {recursive: true});
		const helper = join(bin, 'docker-credential-sandbox');
		await writeFile(helper, `#!/bin/sh
[ "$1" = get ] || exit 2
read -r server
echo "$server" >> '${helperLog}'
if [ "$server" = '${basic.host}' ]; then
	printf '{"ServerURL":"%s","Username":"%s","Secret":"%s"}\\n' "$server" '${basic.username}' '${basic.password}'
else
	echo "credentials not found in native keychain"
	exit 1
fi
`);
		await chmod(helper, 0o755);
	});

	afterAll(async () => {
		await scene?.cleanup();
	});

	async function scanWith(config: object, env: NodeJS.ProcessEnv = {}) {
		const home = await makeHome(sandbox, {PATH: `${bin}:${process.env['PATH'] ?? ''}`, ...env});
		await writeFile(join(home.dockerConfig, 'config.json'), JSON.stringify(config));
		await writeFile(helperLog, '');
		const {result, json} = await scanJson(home);
		return {result, json, asked: (await readFile(helperLog, 'utf8')).split('\n').filter(Boolean), db: await readFile(home.db, 'utf8')};
	}

	it('asks credHelpers[host] once per registry, and prints or stores nothing of it', async () => {
		const {result, json, asked, db} = await scanWith({credHelpers: {[basic.host]: 'sandbox'}});
		expect(row(json, name).status).toBe('up-to-date');
		expect(asked).toEqual([basic.host]);
		expect(`${result.stdout}${result.stderr}${db}`).not.toContain(basic.password);
	});

	it('uses credsStore for every registry, and takes "credentials not found" as anonymous', async () => {
		const {json, asked} = await scanWith({credsStore: 'sandbox'});
		expect(row(json, name).status).toBe('up-to-date');
		expect(asked).toContain(basic.host);

		const missing = await scanWith({credHelpers: {[basic.host]: 'sandbox'}}, {PATH: process.env['PATH']});
		expect(row(missing.json, name).status).toBe('error');
		expect(row(missing.json, name).error).toMatch(/docker-credential-sandbox, which is not on PATH/);
	});

	it('reads DOCKER_AUTH_CONFIG before the file', async () => {
		const auth = Buffer.from(`${basic.username}:${basic.password}`).toString('base64');
		const {json} = await scanWith({auths: {[basic.host]: {auth: Buffer.from('wrong:wrong').toString('base64')}}}, {DOCKER_AUTH_CONFIG: JSON.stringify({auths: {[basic.host]: {auth}}})});
		expect(row(json, name).status).toBe('up-to-date');
	});
});
