import {createHash} from 'node:crypto';
import {once} from 'node:events';
import {mkdir, readFile} from 'node:fs/promises';
import {createServer, type Server} from 'node:https';
import {join} from 'node:path';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {RegistryError} from '../../source/core/errors.ts';
import {parseReference} from '../../source/core/reference.ts';
import {RegistryAuth} from '../../source/registry/auth.ts';
import {HttpRegistryClient} from '../../source/registry/client.ts';
import {RegistryHttp} from '../../source/registry/http.ts';
import {RegistryTrust} from '../../source/registry/trust.ts';
import {startHostileServer, type HostileServer} from '../helpers/hostile-http.ts';
import {startHttpProxy, type HttpProxy} from '../helpers/http-proxy.ts';
import {must} from '../helpers/process.ts';
import {temporaryDirectory} from '../helpers/temporary.ts';

/**
 * Registry traffic through a real proxy on loopback. The registries are named `registry.invalid`, a
 * name that never resolves (RFC 6761): only the proxy knows it is 127.0.0.1, so an answer proves the
 * request went through the proxy, and a direct attempt fails with ENOTFOUND.
 */
const digest = `sha256:${createHash('sha256').update('m').digest('hex')}`;
let proxy: HttpProxy;
let plain: HostileServer;
let tls: {server: Server; port: number; connections: number; certsDir: string};

beforeAll(async () => {
	proxy = await startHttpProxy({'registry.invalid': '127.0.0.1'});
	plain = await startHostileServer((request, response) => {
		response.writeHead(200, {'docker-content-digest': digest}).end(request.method === 'HEAD' ? undefined : '{}');
	});

	const dir = await temporaryDirectory('updock-proxy-');
	const key = join(dir, 'key.pem');
	const cert = join(dir, 'cert.pem');
	await must('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '2', '-subj', '/CN=registry.invalid', '-addext', 'subjectAltName=DNS:registry.invalid']);
	const server = createServer({key: await readFile(key), cert: await readFile(cert)}, (request, response) => {
		response.writeHead(200, {'docker-content-digest': digest}).end(request.method === 'HEAD' ? undefined : '{}');
	});
	server.listen(0, '127.0.0.1');
	await once(server, 'listening');
	const address = server.address();
	if (address === null || typeof address === 'string') {
		throw new Error('no address');
	}

	tls = {server, port: address.port, connections: 0, certsDir: join(dir, 'certs.d')};
	server.on('secureConnection', () => {
		tls.connections++;
	});
	await mkdir(join(tls.certsDir, `registry.invalid:${tls.port}`), {recursive: true});
	await must('cp', [cert, join(tls.certsDir, `registry.invalid:${tls.port}`, 'ca.crt')]);
});

afterAll(async () => {
	await proxy?.close();
	await plain?.close();
	tls?.server.closeAllConnections();
	tls?.server.close();
});

async function withClient<T>(env: Record<string, string>, use: (client: HttpRegistryClient, http: RegistryHttp) => Promise<T>): Promise<T> {
	const http = new RegistryHttp({timeoutMs: 10_000, connectionsPerHost: 2, userAgent: 'updock-test', env, trust: new RegistryTrust({certsDir: tls.certsDir})});
	try {
		return await use(new HttpRegistryClient(http, new RegistryAuth(http, {source: 'none', get: async () => undefined})), http);
	} finally {
		await http.close();
	}
}

async function failure(promise: Promise<unknown>): Promise<RegistryError> {
	const error = await promise.then(() => undefined, (caught: unknown) => caught);
	expect(error).toBeInstanceOf(RegistryError);
	return error as RegistryError;
}

describe('HTTPS_PROXY, HTTP_PROXY and NO_PROXY, as Docker reads them', () => {
	it('tunnels HTTPS through HTTPS_PROXY with CONNECT, verifying the registry with its certs.d CA, over kept-alive connections', async () => {
		const registry = `registry.invalid:${tls.port}`;
		const before = proxy.seen.length;
		const connectionsBefore = tls.connections;
		await withClient({HTTPS_PROXY: proxy.url}, async client => {
			for (let index = 0; index < 5; index++) {
				// eslint-disable-next-line no-await-in-loop -- sequential on purpose: the connection is reused
				expect((await client.headTag(parseReference(`${registry}/acme/app:${index}`))).digest).toBe(digest);
			}
		});
		// Six requests (a ping, five HEADs) over at most the two connections allowed per host.
		const tunnels = proxy.seen.slice(before);
		expect(tunnels.length).toBeGreaterThanOrEqual(1);
		expect(tunnels.length).toBeLessThanOrEqual(2);
		expect(tunnels.every(seen => seen.method === 'CONNECT' && seen.target === registry)).toBe(true);
		expect(tls.connections - connectionsBefore).toBe(tunnels.length);
	});

	it('forwards plain HTTP through HTTP_PROXY (lower-case name too)', async () => {
		for (const name of ['HTTP_PROXY', 'http_proxy']) {
			const before = proxy.seen.length;
			// eslint-disable-next-line no-await-in-loop
			const response = await withClient({[name]: proxy.url}, async (_client, http) => http.send({method: 'GET', url: new URL(`http://registry.invalid:${plain.port}/v2/`), registry: `registry.invalid:${plain.port}`}));
			expect(response.status).toBe(200);
			expect(proxy.seen.slice(before)).toEqual([{method: 'GET', target: `http://registry.invalid:${plain.port}/v2/`, authorization: false}]);
		}
	});

	it('the upper-case name wins over the lower-case one', async () => {
		const before = proxy.seen.length;
		const response = await withClient({HTTP_PROXY: proxy.url, http_proxy: 'http://127.0.0.1:1'}, async (_client, http) => http.send({method: 'GET', url: new URL(`http://registry.invalid:${plain.port}/v2/`), registry: 'r'}));
		expect(response.status).toBe(200);
		expect(proxy.seen.length).toBe(before + 1);
	});

	it('never sends HTTPS through HTTP_PROXY (Go\'s rule): without HTTPS_PROXY it goes direct', async () => {
		const before = proxy.seen.length;
		const error = await withClient({HTTP_PROXY: proxy.url}, async client => failure(client.headTag(parseReference(`registry.invalid:${tls.port}/acme/app:1`))));
		expect(error.code).toBe('UNREACHABLE');
		expect(error.message).toMatch(/registry.invalid does not resolve/);
		expect(proxy.seen.length).toBe(before);
	});

	it.each(['registry.invalid', '.invalid', '*.invalid', 'invalid', `registry.invalid:${0}`, '*'])('NO_PROXY=%s sends it direct', async noProxy => {
		const port = tls.port;
		const entry = noProxy.replace(':0', `:${port}`);
		const before = proxy.seen.length;
		const error = await withClient({HTTPS_PROXY: proxy.url, NO_PROXY: entry}, async client => failure(client.headTag(parseReference(`registry.invalid:${port}/acme/app:1`))));
		expect(error.code).toBe('UNREACHABLE');
		expect(proxy.seen.length).toBe(before);
	});

	it('a NO_PROXY entry for another port does not bypass', async () => {
		const before = proxy.seen.length;
		await withClient({HTTPS_PROXY: proxy.url, no_proxy: 'registry.invalid:1'}, async client => client.headTag(parseReference(`registry.invalid:${tls.port}/acme/app:1`)));
		expect(proxy.seen.length).toBeGreaterThan(before);
	});

	it('a loopback registry goes direct whatever the environment says', async () => {
		const before = proxy.seen.length;
		await withClient({HTTP_PROXY: proxy.url, HTTPS_PROXY: proxy.url}, async client => {
			expect((await client.headTag(parseReference(`${plain.host}/acme/app:1`))).digest).toBe(digest);
		});
		expect(proxy.seen.length).toBe(before);
	});

	it('a proxy that is down is named in the error', async () => {
		const error = await withClient({HTTPS_PROXY: 'http://127.0.0.1:1'}, async client => failure(client.headTag(parseReference(`registry.invalid:${tls.port}/acme/app:1`))));
		expect(error.code).toBe('PROXY');
		expect(error.message).toBe(`Registry registry.invalid:${tls.port} is unreachable through the proxy http://127.0.0.1:1 (HTTPS_PROXY): ECONNREFUSED. Check the proxy, or list the registry in NO_PROXY.`);
	});
});
