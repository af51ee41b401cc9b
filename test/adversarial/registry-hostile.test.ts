import {spawn} from 'node:child_process';
import {createHash} from 'node:crypto';
import {once} from 'node:events';
import {fileURLToPath} from 'node:url';
import {afterEach, describe, expect, it} from 'vitest';
import {RegistryError} from '../../source/core/errors.ts';
import {parseReference} from '../../source/core/reference.ts';
import {RegistryAuth} from '../../source/registry/auth.ts';
import {HttpRegistryClient} from '../../source/registry/client.ts';
import type {Credential, CredentialStore} from '../../source/registry/credentials.ts';
import {RegistryHttp} from '../../source/registry/http.ts';
import {endlessBound, startHostileServer, type HostileHandler, type HostileServer} from '../helpers/hostile-http.ts';

/**
 * Registries that attack: endless bodies, redirects to strangers that ask for credentials, outages.
 * Real sockets on 127.0.0.1, the real HTTP stack (no MockAgent), so what is measured is what runs.
 */
const sha = (body: string): string => `sha256:${createHash('sha256').update(body).digest('hex')}`;
const mebibyte = 1024 * 1024;
const servers: HostileServer[] = [];
const stacks: RegistryHttp[] = [];

afterEach(async () => {
	await Promise.all(stacks.splice(0).map(async http => http.close()));
	await Promise.all(servers.splice(0).map(async server => server.close()));
});

async function serve(handler: HostileHandler): Promise<HostileServer> {
	const server = await startHostileServer(handler);
	servers.push(server);
	return server;
}

function client(credentials: Record<string, Credential> = {}): HttpRegistryClient {
	const store: CredentialStore = {source: '/home/ada/.docker/config.json', get: async registry => credentials[registry]};
	// A long timeout: a body cut by its cap must fail on the cap, not on the clock.
	const http = new RegistryHttp({timeoutMs: 60_000, connectionsPerHost: 2, userAgent: 'updock-test', env: {}});
	stacks.push(http);
	return new HttpRegistryClient(http, new RegistryAuth(http, store));
}

async function failure(promise: Promise<unknown>): Promise<RegistryError> {
	const error = await promise.then(() => undefined, (caught: unknown) => caught);
	expect(error).toBeInstanceOf(RegistryError);
	return error as RegistryError;
}

describe('endless bodies are cut at their cap while they stream', () => {
	it('the /v2/ ping: 1 MiB', async () => {
		const server = await serve((_request, response, {stream}) => {
			stream(response);
		});
		const error = await failure(client().headTag(parseReference(`${server.host}/acme/app:1`)));
		expect(error.code).toBe('TOO_LARGE');
		expect(error.message).toBe(`Registry ${server.host} sent more than 1 MiB for http://${server.host}/v2/; the answer to /v2/ is never that large, so updock stopped reading.`);
		await expect.poll(() => server.streamed.length).toBe(1);
		// The client went away long before the server's own bound: the body was not drained.
		expect(server.streamed[0]).toBeLessThan(16 * mebibyte);
	});

	it('a token response: 1 MiB', async () => {
		const server = await serve((request, response, {stream}) => {
			if (request.url === '/v2/') {
				response.writeHead(401, {'www-authenticate': `Bearer realm="http://${request.headers.host}/token",service="s"`}).end();
			} else {
				stream(response);
			}
		});
		const error = await failure(client().headTag(parseReference(`${server.host}/acme/app:1`)));
		expect(error.code).toBe('TOO_LARGE');
		expect(error.message).toMatch(new RegExp(`^Registry ${server.host} sent more than 1 MiB for http://${server.host}/token\\?.*; a token response is never that large`));
		await expect.poll(() => server.streamed.length).toBe(1);
		expect(server.streamed[0]).toBeLessThan(16 * mebibyte);
	});

	it('a manifest: 4 MiB, and a chunked body that would stop at 64 MiB is not read to its end', async () => {
		const server = await serve((request, response, {stream}) => {
			if (request.url === '/v2/') {
				response.writeHead(200).end('{}');
			} else if (request.method === 'HEAD') {
				// No Docker-Content-Digest: the client has to GET.
				response.writeHead(200, {'content-type': 'application/vnd.oci.image.manifest.v1+json'}).end();
			} else {
				stream(response, 200, {'content-type': 'application/vnd.oci.image.manifest.v1+json'});
			}
		});
		const error = await failure(client().headTag(parseReference(`${server.host}/acme/app:1`)));
		expect(error).toMatchObject({code: 'TOO_LARGE', status: 200, temporary: false});
		expect(error.message).toBe(`Registry ${server.host} sent more than 4 MiB for http://${server.host}/v2/acme/app/manifests/1; a manifest is never that large, so updock stopped reading.`);
		await expect.poll(() => server.streamed.length).toBe(1);
		expect(server.streamed[0]).toBeGreaterThan(4 * mebibyte);
		expect(server.streamed[0]).toBeLessThan(endlessBound / 4);
	});

	it('an error body: 1 MiB, even on a request whose success may be larger', async () => {
		const server = await serve((request, response, {stream}) => {
			if (request.url === '/v2/') {
				response.writeHead(200).end('{}');
			} else if (request.method === 'HEAD') {
				response.writeHead(404).end();
			} else {
				stream(response, 404);
			}
		});
		const error = await failure(client().headTag(parseReference(`${server.host}/acme/app:1`)));
		expect(error).toMatchObject({code: 'TOO_LARGE', status: 404});
		expect(error.message).toMatch(/sent more than 1 MiB for .*manifests\/1; an error body is never that large/);
	});

	it('a declared Content-Length over the cap fails before any of it is read', async () => {
		const server = await serve((request, response) => {
			if (request.url === '/v2/') {
				response.writeHead(200).end('{}');
			} else if (request.method === 'HEAD') {
				response.writeHead(200).end();
			} else {
				response.writeHead(200, {'content-length': String(5 * mebibyte)});
				response.write('{');
			}
		});
		const error = await failure(client().headTag(parseReference(`${server.host}/acme/app:1`)));
		expect(error.message).toMatch(/sent more than 4 MiB .*a manifest is never that large/);
	});
});

describe('peak memory under endless bodies', () => {
	it('a process that meets an endless ping, token and manifest body stays small', async () => {
		// The child makes three clients, one after another, each pinging once: the first ping gets an
		// endless body, the second a challenge whose token is endless, the third a manifest that is.
		let pings = 0;
		const server = await serve((request, response, {stream}) => {
			if (request.url === '/v2/') {
				const asked = (pings++);
				if (asked === 0) {
					stream(response);
				} else if (asked === 1) {
					response.writeHead(401, {'www-authenticate': `Bearer realm="http://${request.headers.host}/token",service="s"`}).end();
				} else {
					response.writeHead(200).end('{}');
				}
			} else if (request.url?.startsWith('/token') || request.method === 'GET') {
				stream(response);
			} else {
				response.writeHead(200).end();
			}
		});
		const child = spawn(process.execPath, [fileURLToPath(new URL('../helpers/registry-endless-child.ts', import.meta.url)), server.host], {stdio: ['ignore', 'pipe', 'inherit']});
		let output = '';
		child.stdout.on('data', (chunk: Buffer) => {
			output += chunk.toString('utf8');
		});
		const [exitCode] = await once(child, 'exit');
		expect(exitCode).toBe(0);
		const {codes, growthBytes} = JSON.parse(output) as {codes: string[]; growthBytes: number};
		expect(codes).toEqual(['TOO_LARGE', 'TOO_LARGE', 'TOO_LARGE']);
		// Over the peak of loading the modules: about 25 MB measured here with the caps; reading the 64 MiB
		// bodies whole raised it by far more than 64 MiB.
		expect(growthBytes).toBeLessThan(48 * mebibyte);
	});
});

describe('credentials go only to the registry and the realm its own /v2/ names', () => {
	const basic = `Basic ${Buffer.from('ada:secret').toString('base64')}`;

	/** A Bearer registry on 127.0.0.1 with its own token service, and an evil server on another port. */
	async function scene(manifestAnswer: (registry: HostileServer, evil: HostileServer) => {status: number; headers: Record<string, string>}) {
		const evil = await serve((request, response) => {
			if (request.url?.startsWith('/token')) {
				response.writeHead(200, {'content-type': 'application/json'}).end(JSON.stringify({token: 'evil-token'}));
			} else {
				response.writeHead(401, {'www-authenticate': `Bearer realm="http://${request.headers.host}/token",service="evil",scope="repository:acme/app:pull,push"`}).end();
			}
		});
		let registry: HostileServer | undefined;
		registry = await serve((request, response) => {
			const host = request.headers.host ?? '';
			if (request.url === '/v2/') {
				response.writeHead(401, {'www-authenticate': `Bearer realm="http://${host}/token",service="registry"`}).end();
			} else if (request.url?.startsWith('/token')) {
				response.writeHead(request.headers.authorization === basic ? 200 : 401, {'content-type': 'application/json'}).end(JSON.stringify({token: 'good-token', expires_in: 300}));
			} else {
				const {status, headers} = manifestAnswer(registry!, evil);
				response.writeHead(status, headers).end();
			}
		});
		const credentials = {[registry.host]: {kind: 'basic' as const, username: 'ada', password: 'secret'}};
		return {registry, evil, reference: parseReference(`${registry.host}/acme/app:1`), registryClient: client(credentials)};
	}

	it('a manifest request redirected to another origin that answers 401 sends that origin\'s realm nothing', async () => {
		const {evil, reference, registryClient} = await scene((_registry, evilServer) => ({status: 307, headers: {location: `http://${evilServer.host}/v2/acme/app/manifests/1`}}));
		const error = await failure(registryClient.headTag(reference));
		expect(error.code).toBe('AUTH_FOREIGN');
		expect(error.message).toContain(`redirected to http://${evil.host}, which asked for authentication`);
		// The redirect itself carried no Authorization, and the evil token endpoint got nothing at all.
		expect(evil.seen.map(request => request.headers.authorization)).toEqual([undefined]);
		expect(evil.seen.filter(request => request.url.startsWith('/token'))).toEqual([]);
	});

	it('a later challenge from the registry itself may change the scope, never the realm', async () => {
		let round = 0;
		const {registry, evil, reference, registryClient} = await scene((_registry, evilServer): {status: number; headers: Record<string, string>} => {
			round++;
			return round === 1
				? {status: 401, headers: {'www-authenticate': `Bearer realm="http://${evilServer.host}/token",service="registry",scope="repository:acme/app:pull,push",error="insufficient_scope"`}}
				: {status: 200, headers: {'docker-content-digest': sha('m')}};
		});
		expect((await registryClient.headTag(reference)).digest).toBe(sha('m'));
		expect(evil.seen).toEqual([]);
		const tokenRequests = registry.seen.filter(request => request.url.startsWith('/token'));
		expect(tokenRequests).toHaveLength(2);
		expect(tokenRequests[1]!.url).toContain(encodeURIComponent('repository:acme/app:pull,push'));
	});
});

describe('a registry that is down says so', () => {
	it('a 503 with Retry-After on /v2/ is "unavailable", not "is this a registry?"', async () => {
		const server = await serve((_request, response) => {
			response.writeHead(503, {'retry-after': '3600'}).end('<html>maintenance</html>');
		});
		const error = await failure(client().headTag(parseReference(`${server.host}/acme/app:1`)));
		expect(error).toMatchObject({status: 503, temporary: true, code: 'UNAVAILABLE'});
		expect(error.message).toBe(`Registry ${server.host} is unavailable (HTTP 503 from http://${server.host}/v2/); it asks to wait 3600 s; try again later.`);
	});

	it.each([502, 503, 504])('a %i on a manifest request after the retries is "unavailable"', async status => {
		const server = await serve((request, response) => {
			if (request.url === '/v2/') {
				response.writeHead(200).end('{}');
			} else {
				response.writeHead(status, {'retry-after': '0'}).end();
			}
		});
		const error = await failure(client().headTag(parseReference(`${server.host}/acme/app:1`)));
		expect(error.message).toMatch(new RegExp(`^Registry ${server.host} is unavailable \\(HTTP ${status} from .*manifests/1\\); it asks to wait 0 s; try again later\\.$`));
		// Three HEADs: the retries happened before the verdict.
		expect(server.seen.filter(request => request.method === 'HEAD')).toHaveLength(3);
	});
});
