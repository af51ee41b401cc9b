import {once} from 'node:events';
import {createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse} from 'node:http';
import type {Socket} from 'node:net';

export interface SeenRequest {
	readonly method: string;
	readonly url: string;
	readonly headers: IncomingHttpHeaders;
}

export interface HostileServer {
	/** `127.0.0.1:<port>`, which updock speaks plain HTTP to as a loopback registry. */
	readonly host: string;
	readonly port: number;
	readonly seen: SeenRequest[];
	/** Bytes each endless body had written when it stopped (the client went away, or the bound). */
	readonly streamed: number[];
	close(): Promise<void>;
}

export type HostileHandler = (request: IncomingMessage, response: ServerResponse, server: {stream: (response: ServerResponse, status?: number, headers?: Record<string, string>) => void}) => void;

/** The most an endless body sends before giving up by itself, so a client that never stops cannot make a test run away. */
export const endlessBound = 64 * 1024 * 1024;

/**
 * An HTTP server on 127.0.0.1 whose answers the test writes, with an endless chunked body at hand:
 * `stream()` writes 64 KiB chunks (waiting for drain) until the client closes or `endlessBound`.
 */
export async function startHostileServer(handler: HostileHandler): Promise<HostileServer> {
	const seen: SeenRequest[] = [];
	const streamed: number[] = [];
	const sockets = new Set<Socket>();
	const chunk = Buffer.alloc(64 * 1024, 'x');
	const stream = (response: ServerResponse, status = 200, headers: Record<string, string> = {}): void => {
		response.writeHead(status, {'content-type': 'application/json', ...headers});
		let written = 0;
		let done = false;
		const finish = (): void => {
			if (!done) {
				done = true;
				streamed.push(written);
			}
		};

		response.on('close', finish);
		const pump = (): void => {
			while (!done && !response.destroyed) {
				if (written >= endlessBound) {
					finish();
					response.end();
					return;
				}

				written += chunk.length;
				if (!response.write(chunk)) {
					response.once('drain', pump);
					return;
				}
			}
		};

		pump();
	};

	const server = createServer((request, response) => {
		seen.push({method: request.method ?? '', url: request.url ?? '', headers: request.headers});
		handler(request, response, {stream});
	});
	server.on('connection', socket => {
		sockets.add(socket);
		socket.on('close', () => sockets.delete(socket));
	});
	server.listen(0, '127.0.0.1');
	await once(server, 'listening');
	const address = server.address();
	if (address === null || typeof address === 'string') {
		throw new Error('hostile server: no address');
	}

	return {
		host: `127.0.0.1:${address.port}`,
		port: address.port,
		seen,
		streamed,
		async close() {
			for (const socket of sockets) {
				socket.destroy();
			}

			server.close();
			await once(server, 'close');
		},
	};
}
