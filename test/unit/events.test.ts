import {once} from 'node:events';
import {createServer, type Server} from 'node:http';
import {join} from 'node:path';
import {afterEach, describe, expect, it} from 'vitest';
import {parseEvent, watchEngine, type EngineEvent, type WatchStatus} from '../../source/docker/events.ts';
import {temporaryDirectory} from '../helpers/temporary.ts';

let server: Server | undefined;
afterEach(async () => {
	if (server?.listening) {
		server.closeAllConnections();
		server.close();
		await once(server, 'close');
	}
});

const requested: string[] = [];

/** An engine on a unix socket whose event stream sends one event, then ends (the engine went away). */
async function engine(socketPath: string, event: object): Promise<Server> {
	const started = createServer((request, response) => {
		if (request.url === '/_ping') {
			response.writeHead(200, {'api-version': '1.41'});
			response.end('OK');
			return;
		}

		requested.push(request.url ?? '');
		response.writeHead(200, {'content-type': 'application/json'});
		response.write(`${JSON.stringify(event)}\n`);
		setTimeout(() => response.end(), 20);
	});
	started.listen(socketPath);
	await once(started, 'listening');
	return started;
}

describe('watchEngine', () => {
	it('reports events, notices the engine going away, and reconnects with backoff', async () => {
		const socketPath = join(await temporaryDirectory('updock-events-'), 'docker.sock');
		server = await engine(socketPath, {Type: 'container', Action: 'start', Actor: {ID: 'abc'}});
		const events: EngineEvent[] = [];
		const statuses: WatchStatus[] = [];
		const controller = new AbortController();
		let restarted = false;
		const watching = watchEngine({name: 'local', address: {kind: 'unix', socketPath, display: `unix://${socketPath}`}}, {
			signal: controller.signal,
			onEvent: event => events.push(event),
			onStatus(status) {
				statuses.push(status);
				if (status.status === 'unreachable' && !restarted) {
					restarted = true;
					// The engine restarts: the watcher's retry finds it back.
					void (async () => {
						server!.closeAllConnections();
						server!.close();
						await once(server!, 'close');
						server = await engine(socketPath, {Type: 'image', Action: 'pull', Actor: {ID: 'nginx:1'}});
					})();
				}

				if (statuses.filter(entry => entry.status === 'connected').length === 2) {
					controller.abort();
				}
			},
		});
		await watching;
		expect(statuses.map(status => status.status)).toEqual(['connected', 'unreachable', 'connected']);
		const lost = statuses[1] as Extract<WatchStatus, {status: 'unreachable'}>;
		expect(lost.message).toContain(`unix://${socketPath}`);
		expect(lost.retryAt.getTime()).toBeGreaterThan(Date.now() - 5000);
		expect(events[0]).toEqual({type: 'container', action: 'start', id: 'abc'});
		expect(requested.length).toBeGreaterThan(0);
		expect(requested.every(url => url.startsWith('/v1.41/events?filters='))).toBe(true);
	});

	it('parses event lines and skips what is not one', () => {
		expect(parseEvent('{"Type":"container","Action":"exec_start: sh","Actor":{"ID":"x"}}')).toEqual({type: 'container', action: 'exec_start', id: 'x'});
		expect(parseEvent('{"Type":"network","Action":"connect"}')).toBeUndefined();
		expect(parseEvent('not json')).toBeUndefined();
		expect(parseEvent('')).toBeUndefined();
	});
});
