/**
 * What a hostile engine's listings cost in memory: a child process lists through DockerEngine (as a
 * scan does) and reports its peak RSS. RSS is a bound on memory, not a timing.
 */
import {spawn} from 'node:child_process';
import {once} from 'node:events';
import {createServer, type ServerResponse} from 'node:http';
import type {Socket} from 'node:net';
import {join} from 'node:path';
import {fileURLToPath} from 'node:url';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {temporaryDirectory} from '../helpers/temporary.ts';

const mebibyte = 1024 * 1024;
/** What issue 8 promises for `--once`, whatever the engine sends. */
/** What a hostile listing may add to the peak RSS of loading the modules. */
const growthLimit = 128 * 1024 * 1024;

/** A container as an engine lists it: about 1.2 KiB with its labels, of which updock keeps about 300 bytes. */
function container(index: number): string {
	return JSON.stringify({
		Id: index.toString(16).padStart(64, 'a'), Names: [`/web-${index}`], Image: 'nginx:1.27', ImageID: `sha256:${'b'.repeat(64)}`,
		Command: 'nginx -g "daemon off;"', Created: 1_700_000_000, State: 'running', Status: 'Up 2 hours', Ports: [{PrivatePort: 80, Type: 'tcp'}],
		Labels: {'org.opencontainers.image.source': 'https://github.com/acme/web', 'com.docker.compose.project': 'shop', 'com.example.note': 'x'.repeat(600)},
		HostConfig: {NetworkMode: 'bridge'}, NetworkSettings: {Networks: {bridge: {IPAddress: '172.17.0.2', Gateway: '172.17.0.1'}}}, Mounts: [],
	});
}

function image(index: number): string {
	return JSON.stringify({Id: `sha256:${index.toString(16).padStart(64, 'c')}`, RepoDigests: [`nginx@sha256:${'d'.repeat(64)}`], RepoTags: ['nginx:1.27'], Size: 1, Labels: {'com.example.note': 'x'.repeat(600)}});
}

/** A body: its start, then chunks from `next` until `bytes` were written or the client went away, then its end. */
interface Body {
	readonly head: string;
	readonly next: () => string;
	readonly tail: string;
	readonly bytes: number;
}

const bodies = {
	entries: (make: (index: number) => string, bytes: number): Body => {
		let index = 0;
		return {head: '[', next: () => `${make(index++)},`, tail: `${make(index)}]\n`, bytes};
	},
	string: (): Body => ({head: '["', next: () => 'x'.repeat(64 * 1024), tail: '"]', bytes: 256 * mebibyte}),
	number: (): Body => ({head: '[1', next: () => '7'.repeat(64 * 1024), tail: ']', bytes: 10 * mebibyte}),
	deep: (): Body => ({head: '', next: () => '['.repeat(64 * 1024), tail: '', bytes: 256 * mebibyte}),
};

let socketPath = '';
/** What `/containers/json` and `/images/json` send in the current test. */
let listings: {containers: () => Body; images: () => Body} = {containers: () => bodies.string(), images: () => bodies.string()};
const sockets = new Set<Socket>();
const server = createServer((request, response) => {
	const url = request.url ?? '';
	if (url === '/_ping') {
		response.writeHead(200, {'api-version': '1.43', 'content-type': 'text/plain'}).end('OK');
	} else if (url.includes('/containers/json')) {
		stream(response, listings.containers());
	} else if (url.includes('/images/json')) {
		stream(response, listings.images());
	} else if (url.includes('/info')) {
		response.writeHead(200, {'content-type': 'application/json'}).end('{"Swarm":{"ControlAvailable":false}}');
	} else {
		response.writeHead(404, {'content-type': 'application/json'}).end('{"message":"page not found"}');
	}
});
server.on('connection', socket => {
	sockets.add(socket);
	socket.on('close', () => sockets.delete(socket));
});

function stream(response: ServerResponse, body: Body): void {
	response.writeHead(200, {'content-type': 'application/json'});
	response.write(body.head);
	let written = 0;
	const pump = (): void => {
		while (written < body.bytes && !response.destroyed) {
			const chunk = body.next();
			written += chunk.length;
			if (!response.write(chunk)) {
				response.once('drain', pump);
				return;
			}
		}

		if (!response.destroyed) {
			response.end(body.tail);
		}
	};

	pump();
}

beforeAll(async () => {
	socketPath = join(await temporaryDirectory('updock-engine-memory-'), 'docker.sock');
	server.listen(socketPath);
	await once(server, 'listening');
});

afterAll(async () => {
	for (const socket of sockets) {
		socket.destroy();
	}

	server.close();
	await once(server, 'close');
});

interface Outcome {
	readonly rows: number;
	readonly error: string | null;
	readonly peakBytes: number;
	readonly growthBytes: number;
}

async function listInChild(): Promise<Outcome> {
	// With the V8 flag dist/updock.js starts node with (scripts/build.ts), as a user runs it.
	const child = spawn(process.execPath, ['--max-semi-space-size=1', fileURLToPath(new URL('../helpers/engine-listing-child.ts', import.meta.url)), socketPath], {stdio: ['ignore', 'pipe', 'inherit']});
	let output = '';
	child.stdout.on('data', (chunk: Buffer) => {
		output += chunk.toString('utf8');
	});
	const [exitCode] = await once(child, 'exit');
	expect(exitCode).toBe(0);
	const outcome: unknown = JSON.parse(output);
	if (typeof outcome !== 'object' || outcome === null || !('peakBytes' in outcome) || !('growthBytes' in outcome) || !('rows' in outcome) || !('error' in outcome)) {
		throw new Error(`The child printed ${output}`);
	}

	const {rows, error, peakBytes, growthBytes} = outcome;
	if (typeof rows !== 'number' || typeof peakBytes !== 'number' || typeof growthBytes !== 'number' || (error !== null && typeof error !== 'string')) {
		throw new Error(`The child printed ${output}`);
	}

	return {rows, error, peakBytes, growthBytes};
}

const empty = (): Body => ({head: '[]', next: () => '', tail: '', bytes: 0});

describe('peak RSS while an engine sends hostile listings', () => {
	// Measured (growth over loading): 30-90 MB; before, an endless listing was read whole up to its 64 MiB
	// cap, and 60 MB of entries took 500 MB.
	it.each([
		['endless entries', {containers: () => bodies.entries(container, 512 * mebibyte), images: empty}, /sent more than 64 MiB for \/v1\.43\/containers\/json/],
		['endless entries in both listings', {containers: () => bodies.entries(container, 512 * mebibyte), images: () => bodies.entries(image, 512 * mebibyte)}, /sent more than (64|32) MiB for \/v1\.43\/(containers|images)\/json/],
		['an endless string', {containers: bodies.string, images: empty}, /an entry larger than 1 MiB \(at 0\)/],
		['a number of 10 MB of digits', {containers: bodies.number, images: empty}, /an entry larger than 1 MiB \(at 0\)/],
		['endless nesting', {containers: bodies.deep, images: empty}, /nested more than 64 deep/],
	])('%s: refused with a sentence, within 128 MiB of the peak of loading', async (_name, sent, pattern) => {
		listings = sent;
		const {error, growthBytes} = await listInChild();
		expect(error).toMatch(pattern);
		expect(error).toContain('DOCKER_HOST');
		// What the listing adds over loading the modules. Measured 1-90 MiB here; the built binary starts at 75-90 MB and peaks at
		// 98-168 MB for these bodies (dist/updock.js --once); from the TypeScript source the
		// loading alone is about 120 MB, so the child's absolute peak says little.
		expect(growthBytes).toBeLessThan(growthLimit);
	}, 120_000);

	it('a real listing of 60 MB (50,000 containers) is read whole, at a bounded cost', async () => {
		const bytes = 60 * 1000 * 1000;
		listings = {containers: () => bodies.entries(container, bytes), images: empty};
		const {rows, error, growthBytes} = await listInChild();
		expect(error).toBeNull();
		expect(rows).toBeGreaterThan(45_000);
		// Over the peak of loading: about 130-160 MB measured, two thirds of it V8's young generation, which
		// grows to its largest (2 x 64 MB on 64-bit Node) once tens of MB survive; read whole and parsed at
		// once, the same listing raised it by over 400 MB.
		expect(growthBytes).toBeLessThan(192 * mebibyte);
	}, 120_000);
});
