import {createServer} from 'node:http';
import type {AddressInfo} from 'node:net';
import {afterAll, afterEach, beforeAll, describe, expect, it} from 'vitest';
import {ConfigError} from '../../source/core/errors.ts';
import {OsvError} from '../../source/vulns/errors.ts';
import {VulnerabilityLookup, packageKey} from '../../source/vulns/lookup.ts';
import {OsvClient} from '../../source/vulns/osv.ts';
import {parseOsvUrl} from '../../source/vulns/osv-url.ts';
import {assessSeverity, cvssBaseScore, severityOfScore} from '../../source/vulns/severity.ts';
import {osvRecordSchema} from '../../source/vulns/osv-schema.ts';
import {affects, compareVersions, loadOsvFixtures, startOsvServer, type OsvRecordFixture, type OsvServer} from '../helpers/osv-server.ts';

let records: OsvRecordFixture[];
let server: OsvServer;
const clients: OsvClient[] = [];

function client(url = server.url, retries = 2): OsvClient {
	const made = new OsvClient({baseUrl: new URL(url), timeoutMs: 5000, retries, retryBaseMs: 1});
	clients.push(made);
	return made;
}

const record = (id: string): OsvRecordFixture => {
	const found = records.find(item => item.id === id);
	if (found === undefined) {
		throw new Error(`no fixture ${id}`);
	}

	return found;
};

beforeAll(async () => {
	records = await loadOsvFixtures();
	server = await startOsvServer({records});
});

afterEach(async () => {
	server.failWith(undefined);
	await Promise.all(clients.splice(0).map(async made => made.close()));
});

afterAll(async () => {
	await server.close();
});

describe('severity from real records', () => {
	it.each([
		['ALPINE-CVE-2025-26519', 'high', 7],
		['GHSA-whgm-jr23-g3j9', 'high', 7.5],
		['UBUNTU-CVE-2025-38094', 'medium', null],
		['DLA-3008-1', 'unknown', null],
	])('%s is %s', (id, severity, score) => {
		const assessment = assessSeverity(osvRecordSchema.parse(record(id)));
		expect(assessment.severity).toBe(severity);
		expect(assessment.score).toBe(score);
	});

	it.each([
		['CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H', 9.8],
		['CVSS:3.0/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:N/A:N', 5.9],
		['CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N', 9.3],
		['CVSS:3.1/AV:N', undefined],
		['CVSS:2.0/AV:N/AC:L/Au:N/C:P/I:P/A:P', undefined],
		['garbage', undefined],
	])('%s scores %s', (vector, score) => {
		expect(cvssBaseScore(vector)).toBe(score);
	});

	it.each([[9, 'critical'], [8.9, 'high'], [7, 'high'], [6.9, 'medium'], [4, 'medium'], [3.9, 'low'], [0.1, 'low'], [0, 'unknown']] as const)('%s is %s', (score, severity) => {
		expect(severityOfScore(score)).toBe(severity);
	});

	it('takes the highest CVSS, else the ecosystem word (Debian urgency, GitHub severity)', () => {
		const both = osvRecordSchema.parse({id: 'X-1', modified: '2024-01-01T00:00:00Z', severity: [{type: 'CVSS_V3', score: 'CVSS:3.1/AV:L/AC:H/PR:L/UI:N/S:U/C:H/I:H/A:H'}, {type: 'CVSS_V4', score: 'CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N'}]});
		expect(assessSeverity(both)).toEqual({severity: 'critical', score: 9.3, basis: 'CVSS:4.0'});
		const urgency = osvRecordSchema.parse({id: 'X-2', modified: '2024-01-01T00:00:00Z', affected: [{package: {ecosystem: 'Debian:12', name: 'openssl'}, ecosystem_specific: {urgency: 'low**'}}, {ecosystem_specific: {urgency: 'not yet assigned'}}]});
		expect(assessSeverity(urgency).severity).toBe('low');
		const github = osvRecordSchema.parse({id: 'X-3', modified: '2024-01-01T00:00:00Z', database_specific: {severity: 'MODERATE'}});
		expect(assessSeverity(github)).toEqual({severity: 'medium', score: null, basis: 'ecosystem'});
	});
});

describe('the test server matches versions like OSV', () => {
	it.each([
		['1.1.0l-1~deb9u5', '1.1.0l-1~deb9u6', -1],
		['1.1.0l-1~deb9u6', '1.1.0l-1', -1],
		['1:1.2.13', '2.0', 1],
		['1.2.5-r0', '1.2.5-r1', -1],
		['1.2.10', '1.2.9', 1],
	])('%s vs %s', (a, b, sign) => {
		expect(Math.sign(compareVersions(a, b))).toBe(sign);
	});

	it('by listed versions and ranges', () => {
		const musl = record('ALPINE-CVE-2025-26519').affected!.find(affected => affected.package?.ecosystem === 'Alpine:v3.20')!;
		expect(affects(musl, '1.2.5-r0')).toBe(true);
		expect(affects(musl, '1.2.5-r1')).toBe(false);
		expect(affects(musl, '0.9.12')).toBe(false);
		expect(affects(record('DLA-3022-1').affected![0]!, '1.18.25')).toBe(true);
	});
});

describe('OsvClient', () => {
	it('sends at most 1000 queries per querybatch and keeps the order of the answers', async () => {
		server.batches = 0;
		const packages = Array.from({length: 1001}, (_, index) => ({ecosystem: 'npm', name: `nothing-${index}`, version: '1.0.0'}));
		packages.splice(500, 0, {ecosystem: 'npm', name: 'ansi-html', version: '0.0.7'});
		const answers = await client().queryBatch(packages);
		expect(server.batches).toBe(2);
		expect(answers).toHaveLength(1002);
		expect(answers[500]).toEqual([{id: 'GHSA-whgm-jr23-g3j9', modified: '2023-11-08T04:05:08.868477Z'}]);
		expect(answers.filter(answer => answer.length > 0)).toHaveLength(1);
	});

	it('follows next_page_token per query', async () => {
		const copy = {...record('DLA-3022-1'), id: 'DLA-3022-1-COPY'};
		const paged = await startOsvServer({records: [...records, copy], pageSize: 1});
		try {
			const answers = await client(paged.url).queryBatch([{ecosystem: 'Debian:9', name: 'dpkg', version: '1.18.25'}, {ecosystem: 'npm', name: 'ansi-html', version: '0.0.7'}]);
			expect(answers[0]!.map(item => item.id).sort()).toEqual(['DLA-3022-1', 'DLA-3022-1-COPY']);
			expect(answers[1]!.map(item => item.id)).toEqual(['GHSA-whgm-jr23-g3j9']);
			expect(paged.queries.filter(query => query.pageToken !== undefined)).toEqual([{ecosystem: 'Debian:9', name: 'dpkg', version: '1.18.25', pageToken: '1'}]);
		} finally {
			await paged.close();
		}
	});

	it('fetches a record, and null for one OSV does not have', async () => {
		const found = await client().getVulnerability('ALPINE-CVE-2025-26519');
		expect(found?.id).toBe('ALPINE-CVE-2025-26519');
		expect(await client().getVulnerability('NOPE-1')).toBeNull();
	});

	it('retries a 503, then reports it', async () => {
		server.failWith(503);
		const before = server.queries.length;
		const error = await client().queryBatch([{ecosystem: 'npm', name: 'ansi-html', version: '0.0.7'}]).catch((caught: unknown) => caught);
		expect(error).toBeInstanceOf(OsvError);
		expect((error as OsvError).code).toBe('UNAVAILABLE');
		expect((error as OsvError).message).toBe(`OSV at ${server.url} answered HTTP 503 for /v1/querybatch; try again later.`);
		expect(server.queries.length).toBe(before);
	});

	it('says when OSV rate-limits', async () => {
		server.failWith(429);
		const error = await client().getVulnerability('DLA-3008-1').catch((caught: unknown) => caught);
		expect((error as OsvError).code).toBe('RATE_LIMITED');
		expect((error as OsvError).message).toContain('is rate-limiting updock (HTTP 429)');
	});

	it('says when OSV is down', async () => {
		const closed = await startOsvServer({records: []});
		await closed.close();
		const error = await client(closed.url).queryBatch([{ecosystem: 'npm', name: 'ansi-html', version: '0.0.7'}]).catch((caught: unknown) => caught);
		expect((error as OsvError).code).toBe('UNREACHABLE');
		expect((error as OsvError).message).toBe(`OSV at ${closed.url} is unreachable: connection refused. Check UPDOCK_OSV_URL and the network.`);
	});

	it('refuses answers that are not OSV\'s, or too big', async () => {
		const hostile = createServer((request, response) => {
			if (request.url === '/v1/vulns/BIG') {
				response.writeHead(200, {'content-type': 'application/json'});
				// Streamed without a length and never ended: only a cap held while reading stops it.
				const chunk = Buffer.alloc(1024 * 1024, 0x20);
				let sent = 0;
				const pump = (): void => {
					while (!response.destroyed && sent < 64 && response.write(chunk)) {
						sent++;
					}
				};

				response.on('drain', pump);
				pump();
				return;
			}

			response.writeHead(200, {'content-type': 'application/json'});
			response.end(request.url === '/v1/querybatch' ? '{"results": [{"vulns": [{"id": 5}]}]}' : '<html>');
		});
		await new Promise<void>(resolve => {
			hostile.listen(0, '127.0.0.1', resolve);
		});
		const url = `http://127.0.0.1:${(hostile.address() as AddressInfo).port}`;
		try {
			const shape = await client(url).queryBatch([{ecosystem: 'npm', name: 'a', version: '1'}]).catch((caught: unknown) => caught);
			expect((shape as OsvError).code).toBe('INVALID_RESPONSE');
			expect((shape as OsvError).message).toContain('a querybatch answer of the wrong shape (results.0.vulns.0.id:');
			const html = await client(url).getVulnerability('X').catch((caught: unknown) => caught);
			expect((html as OsvError).message).toBe(`OSV at ${url} sent a record X that is not JSON; is UPDOCK_OSV_URL an OSV API?`);
			const big = await client(url).getVulnerability('BIG').catch((caught: unknown) => caught);
			expect((big as OsvError).code).toBe('TOO_LARGE');
		} finally {
			hostile.closeAllConnections();
			await new Promise(resolve => {
				hostile.close(resolve);
			});
		}
	});

	it.each([
		['https://api.osv.dev', 'https://api.osv.dev/'],
		['http://127.0.0.1:8080', 'http://127.0.0.1:8080/'],
		['http://localhost:8080/osv/', 'http://localhost:8080/osv/'],
	])('accepts %s', (value, href) => {
		expect(parseOsvUrl(value).href).toBe(href);
	});

	it.each(['ftp://api.osv.dev', 'http://osv.example.com', 'https://user:pw@api.osv.dev', 'nonsense', 'https://api.osv.dev/?x=1'])('refuses %s', value => {
		expect(() => parseOsvUrl(value)).toThrow(ConfigError);
	});
});

describe('VulnerabilityLookup', () => {
	const packages = [
		{ecosystem: 'Alpine:v3.20', name: 'musl', version: '1.2.5-r0'},
		{ecosystem: 'npm', name: 'ansi-html', version: '0.0.7'},
		{ecosystem: 'Debian:9', name: 'openssl', version: '1.1.0l-1~deb9u5'},
		{ecosystem: 'Alpine:v3.20', name: 'musl', version: '1.2.5-r1'},
	];

	it('asks each package once, then nothing until the results age; records are fetched again only when newer', async () => {
		const own = await startOsvServer({records});
		let now = Date.parse('2026-01-01T00:00:00Z');
		const lookup = new VulnerabilityLookup(client(own.url), {now: () => now, queryTtlMs: 60_000});
		try {
			const first = await lookup.vulnerabilitiesOf([...packages, ...packages]);
			expect(own.queries).toHaveLength(4);
			expect(own.batches).toBe(1);
			expect(first.get(packageKey(packages[0]!))?.map(item => [item.id, item.severity])).toEqual([['ALPINE-CVE-2025-26519', 'high']]);
			expect(first.get(packageKey(packages[2]!))?.map(item => [item.id, item.severity, item.summary])).toEqual([['DLA-3008-1', 'unknown', 'openssl - security update']]);
			expect(first.get(packageKey(packages[3]!))).toEqual([]);
			expect(own.recordRequests.sort()).toEqual(['ALPINE-CVE-2025-26519', 'DLA-3008-1', 'GHSA-whgm-jr23-g3j9']);

			await lookup.vulnerabilitiesOf(packages);
			expect(own.batches).toBe(1);
			expect(own.recordRequests).toHaveLength(3);

			// After the TTL the packages are asked again; only the record whose `modified` moved is fetched.
			now += 60_000;
			own.touch('GHSA-whgm-jr23-g3j9', '2026-01-01T00:00:00Z');
			await lookup.vulnerabilitiesOf(packages);
			expect(own.batches).toBe(2);
			expect(own.recordRequests.filter(id => id === 'GHSA-whgm-jr23-g3j9')).toHaveLength(2);
			expect(own.recordRequests).toHaveLength(4);
		} finally {
			await own.close();
		}
	});
});
