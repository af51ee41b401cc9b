import {once} from 'node:events';
import {createServer, type Server} from 'node:http';
import {join} from 'node:path';
import Docker from 'dockerode';
import {afterEach, describe, expect, it} from 'vitest';
import {DockerUnavailableError} from '../../source/core/errors.ts';
import type {EngineAddress} from '../../source/docker/address.ts';
import {DockerEngine} from '../../source/docker/engine.ts';
import {EngineApi, engineLimits} from '../../source/docker/engine-api.ts';
import {EngineModem, engineRequest, EngineNotFoundError, type DialCallback, type DialOptions, type DockerodeModem, type EngineRequest} from '../../source/docker/modem.ts';
import {temporaryDirectory} from '../helpers/temporary.ts';

/** A modem that records the GET each dockerode call becomes, and answers an empty list. */
class Recorder implements DockerodeModem {
	Promise: PromiseConstructor = Promise;
	readonly requests: EngineRequest[] = [];

	dial(options: DialOptions, callback: DialCallback): void {
		try {
			this.requests.push(engineRequest(options));
			callback(null, []);
		} catch (error) {
			callback(error);
		}
	}
}

async function sent(call: (docker: Docker) => Promise<unknown>): Promise<EngineRequest> {
	const recorder = new Recorder();
	await call(new Docker({modem: recorder}));
	expect(recorder.requests).toHaveLength(1);
	return recorder.requests[0]!;
}

describe('the GETs dockerode calls become', () => {
	const signal = new AbortController().signal;

	it('lists with their caps, the signal kept out of the query', async () => {
		expect(await sent(async docker => docker.listContainers({all: true, abortSignal: signal}))).toEqual({
			path: '/containers/json?all=true', limit: engineLimits.containers, notFound: undefined, stream: false, signal,
		});
		expect(await sent(async docker => docker.listImages({abortSignal: signal}))).toEqual({
			path: '/images/json', limit: engineLimits.images, notFound: undefined, stream: false, signal,
		});
		expect(await sent(async docker => docker.listImages())).toMatchObject({path: '/images/json', signal: undefined});
		expect(await sent(async docker => docker.listServices({status: true}))).toMatchObject({path: '/services?status=true', limit: engineLimits.services});
		expect(await sent(async docker => docker.info())).toMatchObject({path: '/info', limit: engineLimits.document});
	});

	it('inspects: a 404 there means "no such …", and an image inspect takes its signal from its options', async () => {
		expect(await sent(async docker => docker.getContainer('c1').inspect({abortSignal: signal}))).toEqual({
			path: '/containers/c1/json', limit: engineLimits.document, notFound: 'no such container', stream: false, signal,
		});
		const image = `sha256:${'a'.repeat(64)}`;
		expect(await sent(async docker => docker.getImage(image).inspect({abortSignal: signal}))).toEqual({
			path: `/images/${image}/json`, limit: engineLimits.document, notFound: 'no such image', stream: false, signal,
		});
	});

	it('streams: filters as JSON, archive paths escaped', async () => {
		const filters = {type: ['container' as const, 'image' as const], event: ['start', 'die']};
		const events = await sent(async docker => docker.getEvents({filters, abortSignal: signal}));
		expect(events).toMatchObject({stream: true, notFound: undefined, signal});
		expect(events.path).toBe(`/events?filters=${encodeURIComponent(JSON.stringify(filters))}`);
		expect(await sent(async docker => docker.getContainer('c1').getArchive({path: '/etc/os release'}))).toMatchObject({
			path: '/containers/c1/archive?path=%2Fetc%2Fos%20release', stream: true, notFound: 'no such container',
		});
	});

	it('builds the query as docker-modem does: arrays repeat their key, undefined and null are left out', () => {
		expect(engineRequest({path: '/x?', options: {a: ['1', 2], b: undefined, c: null, d: false, _query: undefined}}).path).toBe('/x?a=1&a=2&d=false');
		expect(engineRequest({path: '/x?', options: {all: true, _query: {only: 'this'}}}).path).toBe('/x?only=this');
		expect(engineRequest({path: '/x?', options: {abortSignal: signal, authconfig: {password: 'p'}}}).path).toBe('/x');
		expect(engineRequest({path: '/x', options: {ignored: 1}}).path).toBe('/x');
	});

	it('refuses what updock never sends: writes, and paths that are not plain segments', async () => {
		await expect(sent(async docker => docker.getContainer('c1').remove())).rejects.toThrow(/only reads from Docker engines, yet a DELETE/);
		await expect(sent(async docker => docker.getContainer('c1').start())).rejects.toThrow(/yet a POST/);
		for (const id of ['../images', 'a b', 'a?b', 'a#b', '%2e%2e', '']) {
			await expect(sent(async docker => docker.getContainer(id).inspect())).rejects.toThrow(/characters updock does not send|carries its own query/);
		}

		expect(() => engineRequest({path: '/x?a=1&', options: {b: 2}})).toThrow(/carries its own query/);
		expect(() => engineRequest({path: '/x?', options: {f: () => 1}})).toThrow(/query parameter f is a function/);
	});
});

describe('EngineModem on a fake engine', () => {
	let server: Server | undefined;
	afterEach(async () => {
		if (server?.listening) {
			server.closeAllConnections();
			server.close();
			await once(server, 'close');
		}
	});

	async function fakeEngine(): Promise<{address: EngineAddress; requests: string[]}> {
		const socketPath = join(await temporaryDirectory('updock-modem-'), 'docker.sock');
		const requests: string[] = [];
		server = createServer((request, response) => {
			requests.push(request.url ?? '');
			if (request.url === '/_ping') {
				response.writeHead(200, {'api-version': '1.43'});
				response.end('OK');
			} else if (request.url === '/v1.43/containers/json?all=true') {
				// An id that would walk out of /containers/…/json if it went into a path as it is.
				response.writeHead(200, {'content-type': 'application/json'});
				response.end(JSON.stringify([{Id: '../../info', Names: ['/x'], Image: 'sha256:1', ImageID: 'sha256:1', State: 'running'}]));
			} else if (request.url === '/v1.43/images/json' || request.url === '/v1.43/info') {
				response.writeHead(200, {'content-type': 'application/json'});
				response.end(request.url.endsWith('info') ? '{}' : '[]');
			} else if (request.url === '/v1.43/containers/web/json') {
				response.writeHead(200, {'content-type': 'application/json'});
				response.end(JSON.stringify({Id: 'f'.repeat(64), Name: '/web', Image: 'sha256:1', Config: {Image: 'nginx:1'}, State: {Status: 'running'}}));
			} else {
				response.writeHead(404, {'content-type': 'application/json'});
				response.end('{"message":"No such thing"}');
			}
		});
		server.listen(socketPath);
		await once(server, 'listening');
		return {address: {kind: 'unix', socketPath, display: `unix://${socketPath}`, origin: 'DOCKER_HOST'}, requests};
	}

	it('a 404 the call documents is EngineNotFoundError; one it does not is "not a Docker engine"', async () => {
		const {address} = await fakeEngine();
		const api = new EngineApi({name: 'local', address}, 5000);
		try {
			const docker = new Docker({modem: new EngineModem(api)});
			await expect(docker.getContainer('gone').inspect()).rejects.toBeInstanceOf(EngineNotFoundError);
			const error: unknown = await docker.listServices({status: true}).catch((error: unknown) => error);
			expect(error).toBeInstanceOf(DockerUnavailableError);
			expect(String(error)).toMatch(/HTTP 404 for \/v1\.43\/services\?status=true.*other than a Docker engine/);
		} finally {
			await api.close();
		}
	});

	it('findContainerName: a name or id goes into the path as it is; anything else is no such container, unasked', async () => {
		const {address, requests} = await fakeEngine();
		const engine = new DockerEngine({name: 'local', address, timeoutMs: 5000});
		try {
			expect(await engine.findContainerName('/web')).toEqual({name: 'web', id: 'f'.repeat(64)});
			expect(await engine.findContainerName('missing')).toBeUndefined();
			for (const input of ['../../info', 'web/../x', 'a b', '-web', 'web?all=1', '']) {
				expect(await engine.findContainerName(input)).toBeUndefined();
			}

			expect(requests.filter(url => url !== '/_ping')).toEqual(['/v1.43/containers/web/json', '/v1.43/containers/missing/json']);
		} finally {
			await engine.close();
		}
	});

	it('an id in a listing that is not a Docker id is a wrong answer, never a path', async () => {
		const {address, requests} = await fakeEngine();
		const engine = new DockerEngine({name: 'local', address, timeoutMs: 5000});
		try {
			const error: unknown = await engine.listContainers().catch((error: unknown) => error);
			expect(error).toBeInstanceOf(DockerUnavailableError);
			expect(String(error)).toMatch(/answered \/containers\/json with JSON of another shape than the Engine API's \(at 0\.Id: .*Is this a Docker engine\? Set DOCKER_HOST/);
			expect(requests.filter(url => url.includes('info') && url !== '/v1.43/info')).toEqual([]);
		} finally {
			await engine.close();
		}
	});
});
