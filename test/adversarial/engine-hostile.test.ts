import {once} from 'node:events';
import {writeFile} from 'node:fs/promises';
import {createServer, type IncomingMessage, type Server, type ServerResponse} from 'node:http';
import {createServer as createNetServer, type Socket} from 'node:net';
import {join} from 'node:path';
import {afterEach, describe, expect, it} from 'vitest';
import {DockerUnavailableError} from '../../source/core/errors.ts';
import type {EngineAddress} from '../../source/docker/address.ts';
import {DockerEngine} from '../../source/docker/engine.ts';
import {engineLimits} from '../../source/docker/engine-api.ts';
import {watchEngine, type EngineEvent} from '../../source/docker/events.ts';
import {temporaryDirectory} from '../helpers/temporary.ts';

type Handler = (request: IncomingMessage, response: ServerResponse) => void;

const servers: Array<{close: () => Promise<void>}> = [];
/** Bytes the endless bodies of the current test wrote before the client went away. */
let streamed = 0;
const engines: DockerEngine[] = [];
afterEach(async () => {
	streamed = 0;
	await Promise.all(engines.splice(0).map(async engine => engine.close()));
	await Promise.all(servers.splice(0).map(async server => server.close()));
});

/** A fake Engine API on a unix socket: /_ping answers as Docker does unless `handler` takes it. */
async function fakeEngine(handler: Handler, options: {ping?: boolean} = {}): Promise<{socketPath: string; requests: string[]; streamed: () => number}> {
	const socketPath = join(await temporaryDirectory('updock-fake-engine-'), 'docker.sock');
	const requests: string[] = [];
	const sockets = new Set<Socket>();
	const server: Server = createServer((request, response) => {
		requests.push(request.url ?? '');
		if (options.ping !== false && request.url === '/_ping') {
			response.writeHead(200, {'api-version': '1.41', 'content-type': 'text/plain'});
			response.end('OK');
			return;
		}

		handler(request, response);
	});
	server.on('connection', socket => {
		sockets.add(socket);
		socket.on('close', () => sockets.delete(socket));
	});
	server.listen(socketPath);
	await once(server, 'listening');
	servers.push({
		async close() {
			for (const socket of sockets) {
				socket.destroy();
			}

			server.close();
			await once(server, 'close');
		},
	});
	return {socketPath, requests, streamed: () => streamed};
}

function engineAt(socketPath: string, timeoutMs = 5000): DockerEngine {
	const address: EngineAddress = {kind: 'unix', socketPath, display: `unix://${socketPath}`, origin: 'DOCKER_HOST'};
	const engine = new DockerEngine({name: 'local', address, timeoutMs});
	engines.push(engine);
	return engine;
}

/** Answer `/containers/json` with `body`, and `/images/json` and `/info` as an empty engine does. */
function listing(body: string | ((response: ServerResponse) => void)): Handler {
	return (request, response) => {
		if (request.url?.includes('/containers/json')) {
			if (typeof body === 'string') {
				response.writeHead(200, {'content-type': 'application/json'});
				response.end(body);
			} else {
				body(response);
			}

			return;
		}

		response.writeHead(200, {'content-type': 'application/json'});
		response.end(request.url?.includes('/info') ? '{}' : '[]');
	};
}

/** Write 64 KiB chunks until the client goes away (or 256 MiB, so a broken client cannot run away). */
function endless(response: ServerResponse): void {
	response.writeHead(200, {'content-type': 'application/json'});
	const chunk = Buffer.alloc(64 * 1024, ' ');
	response.write('[');
	let written = 0;
	const pump = (): void => {
		while (written < 256 * 1024 * 1024 && !response.destroyed) {
			written += chunk.length;
			streamed += chunk.length;
			if (!response.write(chunk)) {
				response.once('drain', pump);
				return;
			}
		}

		response.end();
	};

	response.on('close', () => {
		written = Number.POSITIVE_INFINITY;
	});
	pump();
}

async function failure(promise: Promise<unknown>): Promise<DockerUnavailableError> {
	const error = await promise.then(() => undefined, (error: unknown) => error);
	expect(error).toBeInstanceOf(DockerUnavailableError);
	if (!(error instanceof DockerUnavailableError)) {
		throw new Error('unreachable');
	}

	expect(error.message).not.toMatch(/internal error/i);
	return error;
}

describe('an engine that is not there', () => {
	it('a socket path that does not exist: says so, names DOCKER_HOST', async () => {
		const directory = await temporaryDirectory('updock-fake-engine-');
		const error = await failure(engineAt(join(directory, 'missing.sock')).listContainers());
		expect(error.message).toContain(join(directory, 'missing.sock'));
		expect(error.message).toMatch(/does not exist.*Is dockerd running\? Set DOCKER_HOST/);
	});

	it('a socket nobody listens on: connection refused', async () => {
		const directory = await temporaryDirectory('updock-fake-engine-');
		const socketPath = join(directory, 'stale.sock');
		// A socket file left by a dead daemon: bind it, then close without unlinking.
		const server = createNetServer();
		server.listen(socketPath);
		await once(server, 'listening');
		server.close();
		await once(server, 'close');
		await writeFile(join(directory, 'marker'), '');
		const error = await failure(engineAt(socketPath).listContainers());
		expect(error.message).toMatch(/connection refused|does not exist/);
	});
});

describe('an engine that misbehaves', () => {
	it('closes the connection without answering', async () => {
		const {socketPath} = await fakeEngine(request => {
			request.socket.destroy();
		});
		const error = await failure(engineAt(socketPath).listContainers());
		expect(error.message).toMatch(/closed the connection/);
		expect(error.message).toContain('DOCKER_HOST');
	});

	it('never answers: times out with the advice to raise --timeout', async () => {
		const {socketPath} = await fakeEngine(() => undefined);
		const error = await failure(engineAt(socketPath, 300).listContainers());
		expect(error.message).toMatch(/did not answer in time \(300 ms\).*Raise --timeout/);
	});

	it('stalls in the middle of a body: times out too', async () => {
		const {socketPath} = await fakeEngine(listing(response => {
			response.writeHead(200, {'content-type': 'application/json'});
			response.write('[{"Id":');
		}));
		const error = await failure(engineAt(socketPath, 300).listContainers());
		expect(error.message).toMatch(/did not answer in time/);
	});

	it('a web server: HTTP 404 from /_ping says it is not a Docker engine', async () => {
		const {socketPath} = await fakeEngine((_request, response) => {
			response.writeHead(404, {'content-type': 'text/html'});
			response.end('<html><body>Not Found</body></html>');
		}, {ping: false});
		const error = await failure(engineAt(socketPath).listContainers());
		expect(error.message).toMatch(/answered HTTP 404 for \/_ping.*not a Docker engine|answered HTTP 404 for \/_ping.*other than a Docker engine/);
		expect(error.message).toContain('DOCKER_HOST');
	});

	it('a redirect is not followed (and does not crash the process)', async () => {
		const {socketPath, requests} = await fakeEngine((_request, response) => {
			response.writeHead(302, {location: 'ftp://elsewhere.example/'});
			response.end();
		});
		const error = await failure(engineAt(socketPath).listContainers());
		expect(error.message).toMatch(/answered HTTP 302/);
		expect(requests.every(url => url.startsWith('/_ping') || url.startsWith('/v1.41/'))).toBe(true);
	});

	it('HTTP 500 with the engine message', async () => {
		const {socketPath} = await fakeEngine((_request, response) => {
			response.writeHead(500, {'content-type': 'application/json'});
			response.end('{"message":"devicemapper: out of space"}');
		});
		const error = await failure(engineAt(socketPath).listContainers());
		expect(error.message).toMatch(/HTTP 500 for \/v1\.41\/.*devicemapper: out of space/);
	});

	it.each([
		['invalid JSON', '[{"Id": "abc", ', /not JSON/],
		['an object instead of a list', '{}', /another shape.*at the top/],
		['a null entry', '[null]', /another shape.*at 0/],
		['an entry without Image', '[{"Id":"abc","Names":["/x"],"ImageID":"sha256:1","State":"running"}]', /another shape.*at 0\.Image/],
		['a number for Labels', '[{"Id":"abc","Names":["/x"],"Image":"x","ImageID":"sha256:1","State":"running","Labels":7}]', /another shape.*at 0\.Labels/],
	])('%s in /containers/json', async (_name, body, pattern) => {
		const {socketPath} = await fakeEngine(listing(body));
		const error = await failure(engineAt(socketPath).listContainers());
		expect(error.message).toMatch(pattern);
		expect(error.message).toContain('/containers/json');
		expect(error.message).toContain('DOCKER_HOST');
	});

	it('an endless /containers/json: stops at the cap and says so', async () => {
		const engine = await fakeEngine(listing(endless));
		const error = await failure(engineAt(engine.socketPath, 20_000).listContainers());
		expect(error.message).toContain(`more than ${engineLimits.containers / 1024 / 1024} MiB for /v1.41/containers/json`);
		// It stopped reading near the cap rather than reading on.
		await expect.poll(() => engine.streamed()).toBeGreaterThan(engineLimits.containers);
		expect(engine.streamed()).toBeLessThan(engineLimits.containers + 16 * 1024 * 1024);
	});

	it('an endless error body: reads only the start of it', async () => {
		const engine = await fakeEngine((_request, response) => {
			endless(response);
			response.statusCode = 500;
		});
		const error = await failure(engineAt(engine.socketPath, 20_000).listContainers());
		expect(error.message).toMatch(/HTTP 200|HTTP 500|more than/);
		expect(engine.streamed()).toBeLessThan(16 * 1024 * 1024);
	});

	it('an API version it does not understand', async () => {
		const {socketPath} = await fakeEngine((_request, response) => {
			response.writeHead(200, {'api-version': 'banana'});
			response.end('OK');
		}, {ping: false});
		const error = await failure(engineAt(socketPath).listContainers());
		expect(error.message).toMatch(/API version updock does not understand/);
	});

	it('an engine too old for updock', async () => {
		const {socketPath} = await fakeEngine((_request, response) => {
			response.writeHead(200, {'api-version': '1.12'});
			response.end('OK');
		}, {ping: false});
		const error = await failure(engineAt(socketPath).listContainers());
		expect(error.message).toMatch(/speaks API 1\.12; updock needs 1\.25/);
	});
});

describe('versions and economy', () => {
	it('speaks the engine version, at most its own; two listing calls and an /info per scan', async () => {
		const {socketPath, requests} = await fakeEngine(listing('[{"Id":"c1","Names":["/web"],"Image":"nginx:1","ImageID":"sha256:1","State":"running","Labels":{"a":"b","updock.enable":"true"}}]'));
		const engine = engineAt(socketPath);
		const rows = await engine.listContainers();
		expect(rows).toEqual([expect.objectContaining({host: 'local', kind: 'container', name: 'web', image: 'nginx:1', labels: {'updock.enable': 'true'}, service: null, imagePresent: false})]);
		await engine.listContainers();
		expect(requests.filter(url => url === '/_ping')).toHaveLength(1);
		expect(requests.filter(url => url.startsWith('/v1.41/containers/json'))).toHaveLength(2);
		expect(requests.filter(url => url.startsWith('/v1.41/images/json'))).toHaveLength(2);
		// /info is kept for a while: one for both scans.
		expect(requests.filter(url => url.startsWith('/v1.41/info'))).toHaveLength(1);
		expect(requests.filter(url => url.includes('/containers/c1/json'))).toEqual([]);
	});

	it('asks a newer engine in the newest version updock knows', async () => {
		const {socketPath, requests} = await fakeEngine((request, response) => {
			if (request.url === '/_ping') {
				response.writeHead(200, {'api-version': '1.99'});
				response.end('OK');
				return;
			}

			listing('[]')(request, response);
		}, {ping: false});
		await engineAt(socketPath).listContainers();
		expect(requests.filter(url => url.startsWith('/v1.47/containers/json'))).toHaveLength(1);
	});
});

describe('container files', () => {
	it('a path that does not exist is null; a file over the cap is refused while streaming', async () => {
		const engine = await fakeEngine((request, response) => {
			if (request.url?.includes('missing')) {
				response.writeHead(404, {'content-type': 'application/json'});
				response.end('{"message":"Could not find the file"}');
				return;
			}

			// A tar header announcing a 1 GiB file, then bytes without end.
			const header = Buffer.alloc(512, 0);
			header.write('etc/os-release', 0);
			header.write('0000644\0', 100);
			header.write('0000000\0', 108);
			header.write('0000000\0', 116);
			header.write('10000000000\0', 124);
			header.write('00000000000\0', 136);
			header.write('0', 156);
			header.write('ustar\0', 257);
			header.write('00', 263);
			header.fill(' ', 148, 156);
			let sum = 0;
			for (const byte of header) {
				sum += byte;
			}

			header.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148);
			response.writeHead(200, {'content-type': 'application/x-tar'});
			response.write(header);
			endlessAfterHeader(response);
		});
		const docker = engineAt(engine.socketPath, 20_000);
		expect(await docker.readContainerFile('c1', '/missing', 1024)).toBeNull();
		const error = await failure(docker.readContainerFile('c1', '/etc/os-release', 64 * 1024));
		expect(error.message).toMatch(/larger than 65536 bytes/);
		expect(engine.streamed()).toBeLessThan(16 * 1024 * 1024);
	});
});

function endlessAfterHeader(response: ServerResponse): void {
	const chunk = Buffer.alloc(64 * 1024, 'x');
	let written = 0;
	const pump = (): void => {
		while (written < 256 * 1024 * 1024 && !response.destroyed) {
			written += chunk.length;
			streamed += chunk.length;
			if (!response.write(chunk)) {
				response.once('drain', pump);
				return;
			}
		}

		response.end();
	};

	pump();
}

describe('the event stream', () => {
	it('skips a line over 1 MiB without growing, decodes characters split across chunks, and goes on', async () => {
		const euro = Buffer.from('{"Type":"container","Action":"rename","Actor":{"ID":"caf\u00e9\u20ac"}}\n');
		const {socketPath} = await fakeEngine((_request, response) => {
			response.writeHead(200, {'content-type': 'application/json'});
			response.write('{"Type":"container","Action":"start","Actor":{"ID":"a"}}\n');
			const filler = Buffer.alloc(256 * 1024, 'x');
			for (let index = 0; index < 6; index++) {
				response.write(filler);
			}

			response.write('\n');
			// The euro sign's three bytes arrive in separate chunks.
			const split = euro.indexOf(0xE2);
			response.write(euro.subarray(0, split + 1));
			setTimeout(() => {
				response.write(euro.subarray(split + 1, split + 2));
				setTimeout(() => {
					response.end(euro.subarray(split + 2));
				}, 20);
			}, 20);
		});
		const events: EngineEvent[] = [];
		const dropped: string[] = [];
		const controller = new AbortController();
		await watchEngine({name: 'local', address: {kind: 'unix', socketPath, display: `unix://${socketPath}`}}, {
			signal: controller.signal,
			onEvent: event => events.push(event),
			onDropped: message => dropped.push(message),
			onStatus(status) {
				if (status.status === 'unreachable') {
					controller.abort();
				}
			},
		});
		expect(events).toEqual([
			{type: 'container', action: 'start', id: 'a'},
			{type: 'container', action: 'rename', id: 'caf\u00e9\u20ac'},
		]);
		expect(dropped).toHaveLength(1);
		expect(dropped[0]).toMatch(/longer than 1 MiB/);
	});
});
