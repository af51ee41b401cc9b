import {once} from 'node:events';
import {createServer, type IncomingHttpHeaders, type Server} from 'node:http';

/** One request a receiver got. */
export interface Received {
	readonly method: string;
	readonly path: string;
	readonly headers: IncomingHttpHeaders;
	/** The exact body bytes. */
	readonly body: Buffer;
	/** The status the receiver answered. */
	readonly status: number;
}

/** A notification receiver on 127.0.0.1 that records every request and can be told to fail. */
export interface Receiver {
	/** `http://127.0.0.1:PORT`. */
	readonly origin: string;
	readonly port: number;
	/** Every request, including the ones answered with a failure. */
	readonly received: Received[];
	/** Requests answered 2xx. */
	taken(): Received[];
	/** Answer the next `count` requests with `status` (default 500), then succeed again. */
	failNext(count: number, status?: number): void;
	/** Answer every request only after `ms` (to hold a sender up). */
	delayAnswers(ms: number): void;
	close(): Promise<void>;
}

const maxBodyBytes = 1024 * 1024;

/**
 * A webhook receiver, or an ntfy-compatible one (ntfy takes `POST /<topic>` with the message as the
 * body and `Title`/`Priority` headers, and answers 200 with JSON): both only record and answer.
 */
export async function startReceiver(kind: 'webhook' | 'ntfy' = 'webhook'): Promise<Receiver> {
	const received: Received[] = [];
	let failures = 0;
	let failStatus = 500;
	let delayMs = 0;
	const server: Server = createServer((request, response) => {
		const chunks: Buffer[] = [];
		let size = 0;
		request.on('data', (chunk: Buffer) => {
			size += chunk.length;
			if (size > maxBodyBytes) {
				response.writeHead(413).end();
				request.destroy();
				return;
			}

			chunks.push(chunk);
		});
		request.on('end', () => {
			const status = failures > 0 ? failStatus : 200;
			if (failures > 0) {
				failures--;
			}

			received.push({method: request.method ?? '', path: request.url ?? '', headers: request.headers, body: Buffer.concat(chunks), status});
			const answer = (): void => {
				if (status !== 200) {
					response.writeHead(status, {'content-type': 'text/plain'}).end('failing on purpose\n');
				} else if (kind === 'ntfy') {
					response.writeHead(200, {'content-type': 'application/json'}).end(JSON.stringify({id: `m${received.length}`, event: 'message', topic: (request.url ?? '/').slice(1)}));
				} else {
					response.writeHead(200, {'content-type': 'application/json'}).end('{"ok":true}');
				}
			};

			if (delayMs > 0) {
				setTimeout(answer, delayMs);
			} else {
				answer();
			}
		});
	});
	server.listen(0, '127.0.0.1');
	await once(server, 'listening');
	const address = server.address();
	if (address === null || typeof address === 'string') {
		throw new Error('the receiver has no TCP address');
	}

	const {port} = address;
	return {
		origin: `http://127.0.0.1:${port}`,
		port,
		received,
		taken: () => received.filter(entry => entry.status === 200),
		failNext(count: number, status = 500) {
			failures = count;
			failStatus = status;
		},
		delayAnswers(ms: number) {
			delayMs = ms;
		},
		async close() {
			server.closeAllConnections();
			server.close();
			await once(server, 'close').catch(() => undefined);
		},
	};
}
