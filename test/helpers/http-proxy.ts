import {once} from 'node:events';
import {createServer, request as httpRequest} from 'node:http';
import {connect, type Socket} from 'node:net';

export interface SeenProxyRequest {
	/** `CONNECT` for a tunnel, else the forwarded method. */
	readonly method: string;
	/** `host:port` for CONNECT, the absolute URL otherwise. */
	readonly target: string;
	/** Whether the request carried an Authorization header (forwarded requests only). */
	readonly authorization: boolean;
}

export interface HttpProxy {
	/** `http://127.0.0.1:<port>` */
	readonly url: string;
	readonly seen: SeenProxyRequest[];
	close(): Promise<void>;
}

/**
 * A forward (absolute-URI) and CONNECT proxy on 127.0.0.1 that records what it carried. Host names
 * in `names` are dialled at the address they map to, so a test can use a name that resolves nowhere
 * (`registry.invalid`): a request that reaches the server went through this proxy.
 */
export async function startHttpProxy(names: Readonly<Record<string, string>> = {}): Promise<HttpProxy> {
	const seen: SeenProxyRequest[] = [];
	const sockets = new Set<Socket>();
	const dial = (hostname: string): string => names[hostname.toLowerCase()] ?? hostname;
	const server = createServer((request, response) => {
		const target = request.url ?? '';
		seen.push({method: request.method ?? '', target, authorization: request.headers.authorization !== undefined});
		let url: URL;
		try {
			url = new URL(target);
		} catch {
			response.writeHead(400).end('absolute URL expected');
			return;
		}

		const upstream = httpRequest({host: dial(url.hostname), port: url.port || 80, method: request.method, path: `${url.pathname}${url.search}`, headers: request.headers}, answer => {
			response.writeHead(answer.statusCode ?? 502, answer.headers);
			answer.pipe(response);
		});
		upstream.on('error', () => response.destroy());
		request.pipe(upstream);
	});
	server.on('connection', socket => {
		sockets.add(socket);
		socket.on('close', () => sockets.delete(socket));
	});
	server.on('connect', (request, client, head) => {
		const target = request.url ?? '';
		seen.push({method: 'CONNECT', target, authorization: false});
		const [hostname = '', port = '443'] = target.split(/:(?=\d+$)/);
		const upstream = connect(Number(port), dial(hostname), () => {
			client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
			upstream.write(head);
			upstream.pipe(client);
			client.pipe(upstream);
		});
		sockets.add(upstream);
		upstream.on('close', () => sockets.delete(upstream));
		upstream.on('error', () => client.destroy());
		client.on('error', () => upstream.destroy());
	});
	server.listen(0, '127.0.0.1');
	await once(server, 'listening');
	const address = server.address();
	if (address === null || typeof address === 'string') {
		throw new Error('proxy: no address');
	}

	return {
		url: `http://127.0.0.1:${address.port}`,
		seen,
		async close() {
			for (const socket of sockets) {
				socket.destroy();
			}

			server.close();
			await once(server, 'close');
		},
	};
}
