import {once} from 'node:events';
import {createConnection, createServer, type Socket} from 'node:net';
import type {AddressInfo} from 'node:net';

export interface CountingProxy {
	/** `127.0.0.1:PORT`. */
	readonly host: string;
	/** Connections accepted so far. */
	connections(): number;
	/** From now on, accept connections and never answer (a registry that hangs). */
	hang(): void;
	close(): Promise<void>;
}

/** A TCP proxy on loopback that forwards to `target` and counts the connections it accepts. */
export async function startCountingProxy(target: string): Promise<CountingProxy> {
	const [targetHost, targetPort] = target.split(':');
	let count = 0;
	let hanging = false;
	const sockets = new Set<Socket>();
	const server = createServer(client => {
		count++;
		if (hanging) {
			sockets.add(client);
			client.on('error', () => client.destroy());
			return;
		}

		const upstream = createConnection({host: targetHost, port: Number(targetPort)});
		sockets.add(client);
		sockets.add(upstream);
		client.pipe(upstream).pipe(client);
		const drop = (): void => {
			client.destroy();
			upstream.destroy();
			sockets.delete(client);
			sockets.delete(upstream);
		};

		client.on('error', drop).on('close', drop);
		upstream.on('error', drop).on('close', drop);
	});
	server.listen(0, '127.0.0.1');
	await once(server, 'listening');
	const {port} = server.address() as AddressInfo;
	return {
		host: `127.0.0.1:${port}`,
		connections: () => count,
		hang() {
			hanging = true;
			for (const socket of sockets) {
				socket.destroy();
			}
		},
		async close() {
			for (const socket of sockets) {
				socket.destroy();
			}

			server.close();
			await once(server, 'close');
		},
	};
}
