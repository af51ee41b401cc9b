import {once} from 'node:events';
import {createServer, request as httpRequest, type IncomingMessage, type ServerResponse} from 'node:http';
import {z} from 'zod';

/** A request the proxy received. */
export interface ProxiedRequest {
	readonly method: string;
	readonly path: string;
	readonly userAgent: string;
}

/** How the proxy answers `tags/list` for one repository. */
export type Listing =
	/** The real registry's full list, in pages of `pageSize` with a `Link` to the next, whatever `n` asked. */
	| {readonly kind: 'pages'}
	/** The first page, with a `Link` to the next one on `origin` (another server). */
	| {readonly kind: 'foreign'; readonly origin: string}
	/** An error answer, as a registry sends it. */
	| {readonly kind: 'status'; readonly status: number; readonly code: string}
	/** The connection closed without an answer. */
	| {readonly kind: 'drop'};

export interface PagingProxy {
	/** `127.0.0.1:PORT`, to use as the registry part of image references. */
	readonly host: string;
	readonly seen: ProxiedRequest[];
	close(): Promise<void>;
}

const tagsPath = /^\/v2\/(.+)\/tags\/list$/;
const tagList = z.object({tags: z.array(z.string()).nullish()});
// The real registry's pages followed at most, and bytes read from each: a bound, not an expectation.
const maxUpstreamPages = 50;
const maxUpstreamBytes = 4 * 1024 * 1024;

/** Every tag of `repository` on the real registry, following its own pages. */
async function fullList(upstream: string, repository: string): Promise<string[]> {
	const tags: string[] = [];
	let url: string | undefined = `http://${upstream}/v2/${repository}/tags/list?n=1000`;
	for (let page = 0; url !== undefined && page < maxUpstreamPages; page++) {
		// eslint-disable-next-line no-await-in-loop -- each page names the next
		const response: Response = await fetch(url, {headers: {'user-agent': 'paging-proxy'}});
		const bytes = Buffer.from(await response.arrayBuffer());
		if (response.status !== 200 || bytes.length > maxUpstreamBytes) {
			throw new Error(`${url} answered ${response.status} with ${bytes.length} bytes`);
		}

		tags.push(...tagList.parse(JSON.parse(bytes.toString('utf8'))).tags ?? []);
		const next = /<([^>]+)>;\s*rel="next"/.exec(response.headers.get('link') ?? '')?.[1];
		url = next === undefined ? undefined : new URL(next, url).href;
	}

	// Distribution 2.8 lists tags in storage order; `last` needs them in lexical order, as the spec says.
	return tags.sort();
}

function forward(upstream: string, incoming: IncomingMessage, response: ServerResponse): void {
	const [hostname, port] = upstream.split(':');
	const outgoing = httpRequest({hostname, port: Number(port), method: incoming.method, path: incoming.url, headers: {...incoming.headers, host: upstream}}, answer => {
		response.writeHead(answer.statusCode ?? 502, answer.headers);
		answer.pipe(response);
	});
	outgoing.on('error', error => {
		response.writeHead(502);
		response.end(String(error));
	});
	incoming.pipe(outgoing);
}

/**
 * A registry that pages its tag lists: an HTTP proxy on loopback in front of a real registry (which,
 * as distribution 2.8 does, sends every tag in one answer whatever `n` says) that passes every request
 * through except `GET /v2/<name>/tags/list`, which it answers from the real full list in lexical
 * order, in pages of `pageSize` (fewer than the `n` asked for), with `Link: <...?last=...&n=...>;
 * rel="next"` as distribution 3 writes it, or with what `listing` says for that repository.
 */
export async function startPagingProxy(upstream: string, options: {pageSize: number; listing?: (repository: string) => Listing}): Promise<PagingProxy> {
	const seen: ProxiedRequest[] = [];
	const server = createServer((incoming, response) => {
		const method = incoming.method ?? 'GET';
		const path = incoming.url ?? '/';
		seen.push({method, path, userAgent: incoming.headers['user-agent'] ?? ''});
		const url = new URL(path, 'http://proxy.invalid');
		const repository = tagsPath.exec(url.pathname)?.[1];
		if (repository === undefined || method !== 'GET') {
			forward(upstream, incoming, response);
			return;
		}

		incoming.resume();
		const listing = options.listing?.(repository) ?? {kind: 'pages'};
		if (listing.kind === 'drop') {
			response.socket?.destroy();
			return;
		}

		if (listing.kind === 'status') {
			response.writeHead(listing.status, {'content-type': 'application/json'});
			response.end(JSON.stringify({errors: [{code: listing.code, message: `tag listing refused by the test proxy (${listing.code})`, detail: null}]}));
			return;
		}

		fullList(upstream, repository).then(tags => {
			const last = url.searchParams.get('last');
			const start = last === null ? 0 : tags.findIndex(tag => tag > last);
			const page = start === -1 ? [] : tags.slice(start, start + options.pageSize);
			const more = start !== -1 && start + options.pageSize < tags.length;
			const nextPath = `/v2/${repository}/tags/list?last=${encodeURIComponent(page.at(-1) ?? '')}&n=${options.pageSize}`;
			const headers: Record<string, string> = {'content-type': 'application/json'};
			if (listing.kind === 'foreign') {
				headers['link'] = `<${listing.origin}${nextPath}>; rel="next"`;
			} else if (more) {
				headers['link'] = `<${nextPath}>; rel="next"`;
			}

			response.writeHead(200, headers);
			response.end(JSON.stringify({name: repository, tags: page}));
		}, (error: unknown) => {
			response.writeHead(502, {'content-type': 'text/plain'});
			response.end(String(error));
		});
	});
	server.listen(0, '127.0.0.1');
	await once(server, 'listening');
	const address = server.address();
	if (address === null || typeof address === 'string') {
		throw new Error('the paging proxy has no TCP address');
	}

	return {
		host: `127.0.0.1:${address.port}`,
		seen,
		async close() {
			server.closeAllConnections();
			server.close();
			await once(server, 'close');
		},
	};
}
