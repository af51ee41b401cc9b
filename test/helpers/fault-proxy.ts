import {once} from 'node:events';
import {createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse} from 'node:http';
import type {AddressInfo} from 'node:net';

export interface SeenRequest {
	readonly method: string;
	readonly path: string;
	readonly authorization: string | undefined;
	/** What the proxy answered: `forwarded`, or the fault it injected. */
	readonly outcome: string;
}

/** What the proxy does to one request: pass it on (maybe changed) or answer itself. */
export type Fault =
	| {readonly kind: 'pass'}
	| {readonly kind: 'strip-digest'}
	| {readonly kind: 'add-headers'; readonly headers: Record<string, string>}
	| {readonly kind: 'status'; readonly status: number; readonly headers?: Record<string, string>}
	| {readonly kind: 'redirect'; readonly location: string};

export interface FaultProxy {
	/** `127.0.0.1:PORT`. */
	readonly host: string;
	readonly seen: SeenRequest[];
	/** Decides each request's fault; the default passes everything. */
	fault: (request: {method: string; path: string}) => Fault;
	close(): Promise<void>;
}

async function listen(server: Server): Promise<string> {
	server.listen(0, '127.0.0.1');
	await once(server, 'listening');
	return `127.0.0.1:${(server.address() as AddressInfo).port}`;
}

function forward(target: string, incoming: IncomingMessage, response: ServerResponse, change: (headers: IncomingMessage['headers']) => IncomingMessage['headers'] = headers => headers, path = incoming.url ?? '/', extraHeaders: Record<string, string> = {}): void {
	const [hostname, port] = target.split(':');
	const upstream = httpRequest({hostname, port: Number(port), method: incoming.method, path, headers: {...incoming.headers, ...extraHeaders}}, answer => {
		response.writeHead(answer.statusCode ?? 502, change(answer.headers));
		answer.pipe(response);
	});
	upstream.on('error', error => {
		response.writeHead(502);
		response.end(String(error));
	});
	incoming.pipe(upstream);
}

/**
 * A fault-injecting HTTP proxy in front of a real registry, on loopback: it can strip
 * Docker-Content-Digest, answer HEAD with 405, redirect manifests to another host, or answer 429 with
 * any Retry-After, and it records every request (with its Authorization header) to count and inspect.
 */
export async function startFaultProxy(target: string): Promise<FaultProxy> {
	const seen: SeenRequest[] = [];
	const proxy: {fault: FaultProxy['fault']} = {fault: () => ({kind: 'pass'})};
	const server = createServer((incoming, response) => {
		const method = incoming.method ?? 'GET';
		const path = incoming.url ?? '/';
		const fault = proxy.fault({method, path});
		seen.push({method, path, authorization: incoming.headers.authorization, outcome: fault.kind === 'status' ? String(fault.status) : fault.kind});
		switch (fault.kind) {
			case 'pass': {
				forward(target, incoming, response);
				break;
			}

			case 'strip-digest': {
				forward(target, incoming, response, headers => Object.fromEntries(Object.entries(headers).filter(([name]) => name !== 'docker-content-digest')));
				break;
			}

			case 'add-headers': {
				forward(target, incoming, response, headers => ({...headers, ...fault.headers}));
				break;
			}

			case 'status': {
				incoming.resume();
				response.writeHead(fault.status, fault.headers);
				response.end();
				break;
			}

			case 'redirect': {
				incoming.resume();
				response.writeHead(307, {location: fault.location});
				response.end();
				break;
			}
		}
	});
	const host = await listen(server);
	return {
		host,
		seen,
		get fault() {
			return proxy.fault;
		},
		set fault(value) {
			proxy.fault = value;
		},
		async close() {
			server.closeAllConnections();
			server.close();
			await once(server, 'close');
		},
	};
}

export interface Cdn {
	readonly host: string;
	readonly seen: SeenRequest[];
	close(): Promise<void>;
}

/**
 * Another host that serves what a registry redirects to (a CDN or bucket): `/cdn/<path>` is fetched
 * from the registry with the CDN's own `authorization`, and what the client sent is recorded.
 */
export async function startCdn(registry: string, authorization?: string): Promise<Cdn> {
	const seen: SeenRequest[] = [];
	const server = createServer((incoming, response) => {
		const path = incoming.url ?? '/';
		seen.push({method: incoming.method ?? 'GET', path, authorization: incoming.headers.authorization, outcome: 'served'});
		const headers = {...incoming.headers};
		delete headers.authorization;
		incoming.headers = headers;
		forward(registry, incoming, response, answer => answer, path.replace(/^\/cdn/, ''), authorization === undefined ? {} : {authorization});
	});
	const host = await listen(server);
	return {
		host,
		seen,
		async close() {
			server.closeAllConnections();
			server.close();
			await once(server, 'close');
		},
	};
}
