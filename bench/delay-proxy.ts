import {once} from 'node:events';
import {Agent, createServer, request} from 'node:http';
import type {AddressInfo} from 'node:net';

export interface DelayProxy {
	readonly host: string;
	/** Milliseconds added before each request is forwarded: a registry across the internet. */
	delayMs: number;
	close(): Promise<void>;
}

/** An HTTP proxy on loopback that forwards to `target` after a fixed delay per request. */
export async function startDelayProxy(target: string): Promise<DelayProxy> {
	const [hostname, port] = target.split(':');
	const agent = new Agent({keepAlive: true, maxSockets: 64});
	const state = {delayMs: 0};
	const server = createServer((incoming, response) => {
		const forward = (): void => {
			const upstream = request({hostname, port: Number(port), method: incoming.method, path: incoming.url, headers: incoming.headers, agent}, answer => {
				response.writeHead(answer.statusCode ?? 502, answer.headers);
				answer.pipe(response);
			});
			upstream.on('error', error => {
				response.writeHead(502);
				response.end(String(error));
			});
			incoming.pipe(upstream);
		};

		if (state.delayMs > 0) {
			setTimeout(forward, state.delayMs);
		} else {
			forward();
		}
	});
	server.keepAliveTimeout = 60_000;
	server.listen(0, '127.0.0.1');
	await once(server, 'listening');
	return {
		host: `127.0.0.1:${(server.address() as AddressInfo).port}`,
		get delayMs() {
			return state.delayMs;
		},
		set delayMs(value: number) {
			state.delayMs = value;
		},
		async close() {
			server.closeAllConnections();
			server.close();
			agent.destroy();
			await once(server, 'close');
		},
	};
}
