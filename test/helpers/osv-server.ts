import {readdir, readFile} from 'node:fs/promises';
import {createServer, type IncomingMessage, type Server, type ServerResponse} from 'node:http';
import type {AddressInfo} from 'node:net';
import {join} from 'node:path';

/** The directory of real OSV records the server serves by default. */
export const osvFixtureDirectory = join(import.meta.dirname, 'fixtures', 'vulns', 'osv');

interface Event {
	readonly introduced?: string;
	readonly fixed?: string;
	readonly last_affected?: string;
}

interface Affected {
	readonly package?: {readonly ecosystem?: string; readonly name?: string};
	readonly ranges?: ReadonlyArray<{readonly type?: string; readonly events?: readonly Event[]}>;
	readonly versions?: readonly string[];
}

export interface OsvRecordFixture {
	readonly id: string;
	modified: string;
	readonly affected?: readonly Affected[];
	readonly [field: string]: unknown;
}

/** One query as the server received it. */
export interface ReceivedQuery {
	readonly ecosystem: string;
	readonly name: string;
	readonly version: string;
	readonly pageToken: string | undefined;
}

export interface OsvServer {
	readonly url: string;
	/** Every querybatch query received, in order. */
	readonly queries: ReceivedQuery[];
	/** How many querybatch requests arrived. */
	batches: number;
	/** Every id asked of `/v1/vulns/{id}`. */
	readonly recordRequests: string[];
	/** Answer everything with this status (429 with `Retry-After: 0`), or normally when undefined. */
	failWith(status: number | undefined): void;
	/** Change a record's `modified` time, as OSV does when it edits a record. */
	touch(id: string, modified: string): void;
	close(): Promise<void>;
}

export interface OsvServerOptions {
	readonly records?: readonly OsvRecordFixture[];
	/** Split a query's results into pages of this size, with `next_page_token`. @default no paging */
	readonly pageSize?: number;
}

/** The records in `osvFixtureDirectory`. */
export async function loadOsvFixtures(directory = osvFixtureDirectory): Promise<OsvRecordFixture[]> {
	const names = (await readdir(directory)).filter(name => name.endsWith('.json')).sort();
	return Promise.all(names.map(async name => JSON.parse(await readFile(join(directory, name), 'utf8')) as OsvRecordFixture));
}

/**
 * A version comparator good enough for these fixtures, NOT dpkg's or apk's exact rules: an optional
 * `epoch:`, then runs of digits compared as numbers and runs of other characters compared as text,
 * with `~` sorting before anything (so `1.1.0l-1~deb9u5` < `1.1.0l-1`).
 */
export function compareVersions(a: string, b: string): number {
	const split = (version: string): [number, string] => {
		const match = /^(\d+):(.*)$/.exec(version);
		return match === null ? [0, version] : [Number(match[1]), match[2] ?? ''];
	};

	const [epochA, restA] = split(a);
	const [epochB, restB] = split(b);
	if (epochA !== epochB) {
		return epochA - epochB;
	}

	const partsA = restA.match(/\d+|[^\d]+/g) ?? [];
	const partsB = restB.match(/\d+|[^\d]+/g) ?? [];
	for (let index = 0; index < Math.max(partsA.length, partsB.length); index++) {
		const x = partsA[index];
		const y = partsB[index];
		if (x === y) {
			continue;
		}

		if (x === undefined) {
			return y?.startsWith('~') ? 1 : -1;
		}

		if (y === undefined) {
			return x.startsWith('~') ? -1 : 1;
		}

		if (/^\d/.test(x) && /^\d/.test(y)) {
			return Number(x) - Number(y);
		}

		if (x.startsWith('~') !== y.startsWith('~')) {
			return x.startsWith('~') ? -1 : 1;
		}

		return x < y ? -1 : 1;
	}

	return 0;
}

/**
 * Whether `affected` covers `version`: listed in `versions`, or inside an ECOSYSTEM/SEMVER range
 * (introduced <= version < fixed, or <= last_affected), compared with `compareVersions`. GIT ranges
 * are ignored.
 */
export function affects(affected: Affected, version: string): boolean {
	if (affected.versions?.includes(version)) {
		return true;
	}

	return (affected.ranges ?? []).some(range => {
		if (range.type !== 'ECOSYSTEM' && range.type !== 'SEMVER') {
			return false;
		}

		let inside = false;
		for (const event of range.events ?? []) {
			if (event.introduced !== undefined && (event.introduced === '0' || compareVersions(version, event.introduced) >= 0)) {
				inside = true;
			}

			if (event.fixed !== undefined && compareVersions(version, event.fixed) >= 0) {
				inside = false;
			}

			if (event.last_affected !== undefined && compareVersions(version, event.last_affected) > 0) {
				inside = false;
			}
		}

		return inside;
	});
}

async function readBody(request: IncomingMessage, limit: number): Promise<string> {
	let size = 0;
	const chunks: Buffer[] = [];
	for await (const chunk of request) {
		const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
		size += buffer.length;
		if (size > limit) {
			throw new Error('body too large');
		}

		chunks.push(buffer);
	}

	return Buffer.concat(chunks).toString('utf8');
}

/**
 * An OSV-compatible API on 127.0.0.1: `POST /v1/querybatch` (matching by ecosystem, name and version as
 * `affects` does) and `GET /v1/vulns/{id}`, counting what it is asked.
 */
export async function startOsvServer(options: OsvServerOptions = {}): Promise<OsvServer> {
	const records = new Map<string, OsvRecordFixture>();
	for (const record of options.records ?? await loadOsvFixtures()) {
		records.set(record.id, structuredClone(record));
	}

	let failure: number | undefined;
	const queries: ReceivedQuery[] = [];
	const recordRequests: string[] = [];
	const state = {batches: 0};
	const send = (response: ServerResponse, status: number, body: unknown): void => {
		response.writeHead(status, {'content-type': 'application/json'});
		response.end(JSON.stringify(body));
	};

	const handle = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
		const url = new URL(request.url ?? '/', 'http://127.0.0.1');
		if (failure !== undefined) {
			response.writeHead(failure, failure === 429 ? {'retry-after': '0'} : {});
			response.end();
			return;
		}

		if (request.method === 'POST' && url.pathname === '/v1/querybatch') {
			state.batches++;
			const body = JSON.parse(await readBody(request, 8 * 1024 * 1024)) as {queries: Array<{package: {ecosystem: string; name: string}; version: string; page_token?: string}>};
			const results = body.queries.map(query => {
				queries.push({ecosystem: query.package.ecosystem, name: query.package.name, version: query.version, pageToken: query.page_token});
				const matching = [...records.values()]
					.filter(record => (record.affected ?? []).some(affected => affected.package?.ecosystem === query.package.ecosystem && affected.package.name === query.package.name && affects(affected, query.version)))
					.map(record => ({id: record.id, modified: record.modified}));
				const start = query.page_token === undefined ? 0 : Number(query.page_token);
				const end = options.pageSize === undefined ? matching.length : start + options.pageSize;
				const page = matching.slice(start, end);
				return {...(page.length === 0 ? {} : {vulns: page}), ...(end < matching.length ? {next_page_token: String(end)} : {})};
			});
			send(response, 200, {results});
			return;
		}

		const vuln = /^\/v1\/vulns\/([^/]+)$/.exec(url.pathname);
		if (request.method === 'GET' && vuln !== null) {
			const id = decodeURIComponent(vuln[1] ?? '');
			recordRequests.push(id);
			const record = records.get(id);
			send(response, record === undefined ? 404 : 200, record ?? {code: 5, message: 'Bug not found.'});
			return;
		}

		send(response, 404, {code: 5, message: 'Not found.'});
	};

	const server: Server = createServer((request, response) => {
		handle(request, response).catch((error: unknown) => {
			send(response, 400, {code: 3, message: String(error)});
		});
	});
	await new Promise<void>(resolve => {
		server.listen(0, '127.0.0.1', resolve);
	});
	const {port} = server.address() as AddressInfo;
	return {
		url: `http://127.0.0.1:${port}`,
		queries,
		recordRequests,
		get batches() {
			return state.batches;
		},
		set batches(value: number) {
			state.batches = value;
		},
		failWith(status) {
			failure = status;
		},
		touch(id, modified) {
			const record = records.get(id);
			if (record !== undefined) {
				record.modified = modified;
			}
		},
		async close() {
			server.closeAllConnections();
			await new Promise<void>(resolve => {
				server.close(() => {
					resolve();
				});
			});
		},
	};
}
