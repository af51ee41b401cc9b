import type {FastifyInstance} from 'fastify';
import pino from 'pino';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {z} from 'zod';
import {buildApi} from '../../source/http/app.ts';
import type {UpdatesBackend} from '../../source/http/backend.ts';
import {ApiError} from '../../source/http/api-error.ts';
import {errorSchema, type ContainerAnswer, type ExclusionAnswer} from '../../source/http/schemas.ts';

const container = (name: string, status: ContainerAnswer['status'], fields: Partial<ContainerAnswer> = {}): ContainerAnswer => ({
	host: 'local', kind: 'container', id: `${name}-id`, name, image: `registry.test/${name}:1`, state: 'running', status,
	localDigest: null, remoteDigest: null, reason: null, error: null, newer: null, newerError: null, links: null,
	vulnerabilities: null, vulnerabilitiesError: null, risk: null, ...fields,
});

const counts = (high: number, ids: string[]) => ({critical: 0, high, medium: 0, low: 0, unknown: 0, ids});
const risk = (score: number, level: NonNullable<ContainerAnswer['risk']>['level']) => ({score, level});

/** The rows of the fake scan: updates, newer versions of each kind, risk scores, and a row with neither. */
const rows: ContainerAnswer[] = [
	container('api', 'update-available', {risk: risk(20, 'low'), vulnerabilities: {source: 'sbom', current: counts(1, ['CVE-1']), target: counts(0, []), fixed: ['CVE-1']}}),
	container('web', 'up-to-date'),
	container('db', 'up-to-date', {newer: [{tag: '1.25.4', type: 'patch'}, {tag: '1.27.1', type: 'minor'}], risk: risk(72, 'high')}),
	container('cache', 'update-available', {newer: [{tag: '2.0.0', type: 'major'}], links: {source: 'https://github.com/o/cache', revision: 'a1b2c3d', targetRevision: 'd4e5f6a', changes: 'https://github.com/o/cache/compare/a1b2c3d...d4e5f6a', release: null}}),
	container('queue', 'update-available', {risk: risk(72, 'high')}),
	container('old', 'pinned', {newer: null}),
];

/** A backend in memory: these tests are about the HTTP contract, the e2e test about the real service. */
function fakeBackend(): UpdatesBackend & {exclusionList: ExclusionAnswer[]} {
	const exclusionList: ExclusionAnswer[] = [];
	const containers = rows;
	const summary = {total: 6, upToDate: 2, updateAvailable: 3, pinned: 1, excluded: 0, unknown: 0, error: 0, newerVersions: 2, hosts: [], rateLimits: []};
	return {
		exclusionList,
		containers: async () => ({containers, scannedAt: '2026-03-01T00:00:00.000Z'}),
		summary: async () => ({scan: {state: 'idle', lastScanId: 's1', lastScannedAt: null, nextScanAt: null}, summary}),
		requestScan: () => ({id: 's2'}),
		scan: id => id === 's1' ? {id, state: 'finished', startedAt: null, finishedAt: null, checked: 1, checks: 1, summary, error: null} : undefined,
		async container(target) {
			const found = containers.find(candidate => candidate.name === target);
			if (found === undefined) {
				throw new ApiError(404, 'not_found', `No container ${target}.`);
			}

			return found;
		},
		dryRun: async () => ({registries: [], skipped: [], summary: {containers: 0, checks: 0, registries: 0, skipped: 0}}),
		pin: async target => ({host: 'local', name: target, containerId: 'x', pinnedAt: '2026-03-01T00:00:00.000Z'}),
		unpin: async target => ({name: target, containerId: 'x', pinnedAt: '2026-03-01T00:00:00.000Z'}),
		exclusions: async () => exclusionList,
		async addExclusion(image) {
			if (image.includes(' ')) {
				throw new ApiError(400, 'invalid_pattern', 'not a pattern');
			}

			const exclusion = {id: exclusionList.length + 1, image, createdAt: '2026-03-01T00:00:00.000Z'};
			exclusionList.push(exclusion);
			return {exclusion, added: true};
		},
		removeExclusion: async id => exclusionList.find(exclusion => exclusion.id === id),
		healthy: () => true,
		metrics: async () => ({contentType: 'text/plain; version=0.0.4', text: 'updock_up 1\n'}),
	};
}

const logger = pino({level: 'silent'});

describe('the HTTP API contract', () => {
	let app: FastifyInstance;

	beforeAll(async () => {
		app = await buildApi({backend: fakeBackend(), logger, token: undefined, version: '9.9.9'});
	});

	afterAll(async () => {
		await app?.close();
	});

	// Strict: the error body has exactly these two fields.
	const errorOf = (body: string): {code: string; message: string} => errorSchema.strict().parse(JSON.parse(body)).error;

	const namesOf = async (url: string): Promise<string[]> => {
		const answer = await app.inject({method: 'GET', url});
		expect(answer.statusCode, url).toBe(200);
		return answer.json<{updates: ContainerAnswer[]}>().updates.map(entry => entry.name);
	};

	it('lists updates and newer versions, and other statuses or all with ?status', async () => {
		const updates = await app.inject({method: 'GET', url: '/api/v1/updates'});
		expect(updates.statusCode).toBe(200);
		expect(updates.json()).toEqual({updates: rows.filter(row => ['api', 'db', 'cache', 'queue'].includes(row.name)), scannedAt: '2026-03-01T00:00:00.000Z'});
		expect(await namesOf('/api/v1/updates?status=up-to-date')).toEqual(['web', 'db']);
		expect(await namesOf('/api/v1/updates?status=update-available')).toEqual(['api', 'cache', 'queue']);
		expect(await namesOf('/api/v1/updates?status=all')).toHaveLength(6);
		const bad = await app.inject({method: 'GET', url: '/api/v1/updates?status=stale'});
		expect(bad.statusCode).toBe(400);
		expect(errorOf(bad.body).code).toBe('invalid_request');
		expect(errorOf(bad.body).message).toMatch(/status/);
	});

	it('keeps the containers with a newer version of one kind with ?type', async () => {
		expect(await namesOf('/api/v1/updates?type=patch')).toEqual(['db']);
		expect(await namesOf('/api/v1/updates?type=minor')).toEqual(['db']);
		expect(await namesOf('/api/v1/updates?type=major')).toEqual(['cache']);
		expect(await namesOf('/api/v1/updates?type=major&status=up-to-date')).toEqual([]);
		expect(await namesOf('/api/v1/updates?type=minor&status=up-to-date')).toEqual(['db']);
		const bad = await app.inject({method: 'GET', url: '/api/v1/updates?type=huge'});
		expect(bad.statusCode).toBe(400);
		expect(errorOf(bad.body).message).toMatch(/type/);
	});

	it('sorts by risk with ?sort=risk: the highest score first, rows without one last, ties in their order', async () => {
		expect(await namesOf('/api/v1/updates?sort=risk')).toEqual(['db', 'queue', 'api', 'cache']);
		expect(await namesOf('/api/v1/updates?sort=risk&status=all')).toEqual(['db', 'queue', 'api', 'web', 'cache', 'old']);
		expect((await app.inject({method: 'GET', url: '/api/v1/updates?sort=name'})).statusCode).toBe(400);
	});

	it('answers containers with the fields of --once --json, the enrichment included', async () => {
		const answer = await app.inject({method: 'GET', url: '/api/v1/updates/container/api'});
		expect(answer.json()).toEqual(rows[0]);
		const cache = (await app.inject({method: 'GET', url: '/api/v1/updates/container/cache'})).json<ContainerAnswer>();
		expect(cache.newer).toEqual([{tag: '2.0.0', type: 'major'}]);
		expect(cache.links?.changes).toBe('https://github.com/o/cache/compare/a1b2c3d...d4e5f6a');
	});

	it('answers 404 for unknown paths and 405 with Allow for a wrong method', async () => {
		const missing = await app.inject({method: 'GET', url: '/api/v1/nothing'});
		expect(missing.statusCode).toBe(404);
		expect(errorOf(missing.body).code).toBe('not_found');
		expect((await app.inject({method: 'GET', url: '/api/v1/updates/'})).statusCode).toBe(404);
		const wrong = await app.inject({method: 'PUT', url: '/api/v1/updates/pin/api'});
		expect(wrong.statusCode).toBe(405);
		expect(wrong.headers['allow']).toBe('POST, DELETE');
		expect(errorOf(wrong.body).code).toBe('method_not_allowed');
		const getScan = await app.inject({method: 'GET', url: '/api/v1/updates/scan'});
		expect(getScan.statusCode).toBe(405);
		expect(getScan.headers['allow']).toBe('POST');
		expect((await app.inject({method: 'DELETE', url: '/api/v1/updates'})).statusCode).toBe(405);
	});

	it('takes JSON bodies only: 415 for text and forms, 400 for broken JSON or fields, 413 past 64 KiB', async () => {
		const post = async (payload: string, contentType: string) => app.inject({method: 'POST', url: '/api/v1/updates/exclusions', payload, headers: {'content-type': contentType}});
		for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x']) {
			const answer = await post('image=nginx', type);
			expect(answer.statusCode, type).toBe(415);
			expect(errorOf(answer.body).code).toBe('unsupported_media_type');
		}

		const broken = await post('{"image": ', 'application/json');
		expect(broken.statusCode).toBe(400);
		expect(errorOf(broken.body).code).toBe('invalid_json');
		for (const payload of ['{}', '{"image": 5}', '{"image": "nginx", "extra": 1}', '[]', '']) {
			const answer = await post(payload, 'application/json');
			expect(answer.statusCode, payload).toBe(400);
			expect(errorOf(answer.body).code).toBe('invalid_request');
		}

		const large = await post(JSON.stringify({image: 'x'.repeat(70 * 1024)}), 'application/json');
		expect(large.statusCode).toBe(413);
		expect(errorOf(large.body).code).toBe('payload_too_large');
		const backendRefusal = await post('{"image": "not a pattern"}', 'application/json');
		expect(backendRefusal.statusCode).toBe(400);
		expect(errorOf(backendRefusal.body)).toEqual({code: 'invalid_pattern', message: 'not a pattern'});
	});

	it('creates, lists and removes exclusions with the statuses of the table', async () => {
		const created = await app.inject({method: 'POST', url: '/api/v1/updates/exclusions', payload: {image: 'nginx:1.*'}});
		expect(created.statusCode).toBe(201);
		expect(created.json()).toEqual({id: 1, image: 'nginx:1.*', createdAt: '2026-03-01T00:00:00.000Z'});
		expect((await app.inject({method: 'GET', url: '/api/v1/updates/exclusions'})).json()).toEqual({exclusions: [created.json()]});
		const removed = await app.inject({method: 'DELETE', url: '/api/v1/updates/exclusions/1'});
		expect(removed.statusCode).toBe(204);
		expect(removed.body).toBe('');
		expect((await app.inject({method: 'DELETE', url: '/api/v1/updates/exclusions/99'})).statusCode).toBe(404);
		expect((await app.inject({method: 'DELETE', url: '/api/v1/updates/exclusions/abc'})).statusCode).toBe(400);
	});

	it('starts scans with 202 and knows them by id', async () => {
		const started = await app.inject({method: 'POST', url: '/api/v1/updates/scan'});
		expect(started.statusCode).toBe(202);
		expect(started.json()).toEqual({id: 's2', state: 'running'});
		expect((await app.inject({method: 'GET', url: '/api/v1/updates/scan/s1'})).json()).toMatchObject({id: 's1', state: 'finished'});
		const unknown = await app.inject({method: 'GET', url: '/api/v1/updates/scan/nope'});
		expect(unknown.statusCode).toBe(404);
		expect(errorOf(unknown.body).code).toBe('not_found');
	});

	it('serves an OpenAPI 3.1 document of every route, built from the schemas', async () => {
		const answer = await app.inject({method: 'GET', url: '/api/v1/openapi.json'});
		expect(answer.statusCode).toBe(200);
		const document = answer.json<{openapi: string; paths: Record<string, Record<string, {parameters?: Array<{name: string; in: string}>; requestBody?: unknown; responses: Record<string, unknown>}>>; components: {schemas: Record<string, unknown>}}>();
		expect(document.openapi).toBe('3.1.0');
		const operations = Object.entries(document.paths).flatMap(([path, methods]) => Object.keys(methods).map(method => `${method.toUpperCase()} ${path}`)).sort();
		expect(operations).toEqual([
			'DELETE /api/v1/updates/exclusions/{id}', 'DELETE /api/v1/updates/pin/{container_id}', 'GET /api/v1/openapi.json', 'GET /api/v1/updates',
			'GET /api/v1/updates/container/{container_id}', 'GET /api/v1/updates/dry-run', 'GET /api/v1/updates/exclusions', 'GET /api/v1/updates/scan/{scan_id}',
			'GET /api/v1/updates/summary', 'GET /healthz', 'GET /metrics', 'POST /api/v1/updates/exclusions', 'POST /api/v1/updates/pin/{container_id}', 'POST /api/v1/updates/scan',
		]);
		expect(document.paths['/api/v1/updates']!['get']!.parameters).toEqual([
			expect.objectContaining({name: 'status', in: 'query', required: false}),
			expect.objectContaining({name: 'type', in: 'query', required: false, schema: expect.objectContaining({enum: ['patch', 'minor', 'major']})}),
			expect.objectContaining({name: 'sort', in: 'query', required: false, schema: expect.objectContaining({enum: ['risk']})}),
		]);
		expect(document.paths['/api/v1/updates/pin/{container_id}']!['post']!.parameters).toEqual([expect.objectContaining({name: 'container_id', in: 'path'})]);
		expect(document.paths['/api/v1/updates/exclusions']!['post']!.requestBody).toMatchObject({content: {'application/json': {schema: {properties: {image: {type: 'string'}}}}}});
		expect(Object.keys(document.components.schemas)).toEqual(expect.arrayContaining(['Container', 'Error', 'Summary', 'Scan', 'Exclusion', 'Pin', 'NewerVersion', 'Links', 'Vulnerabilities', 'Risk']));
		const containerProperties = z.object({properties: z.record(z.string(), z.unknown()), required: z.array(z.string())}).parse(document.components.schemas['Container']);
		const enrichment = ['newer', 'newerError', 'links', 'vulnerabilities', 'vulnerabilitiesError', 'risk'];
		expect(containerProperties.required).toEqual(expect.arrayContaining(enrichment));
		expect(Object.keys(containerProperties.properties)).toEqual(expect.arrayContaining(enrichment));
		// Every reference points at a component that exists.
		for (const [, name] of JSON.stringify(document).matchAll(/"#\/components\/schemas\/(\w+)"/g)) {
			expect(document.components.schemas, name).toHaveProperty(name!);
		}
	});

	it('serves /metrics as text and /healthz without a token', async () => {
		const metrics = await app.inject({method: 'GET', url: '/metrics'});
		expect(metrics.headers['content-type']).toMatch(/^text\/plain/);
		expect(metrics.body).toBe('updock_up 1\n');
		expect((await app.inject({method: 'GET', url: '/healthz'})).json()).toEqual({ok: true});
	});
});

describe('the HTTP API with a token', () => {
	let app: FastifyInstance;

	beforeAll(async () => {
		app = await buildApi({backend: fakeBackend(), logger, token: 's3cret-token', version: '9.9.9'});
	});

	afterAll(async () => {
		await app?.close();
	});

	it('asks every request but GET /healthz for the bearer token', async () => {
		for (const authorization of [undefined, 'Bearer wrong', 'Bearer s3cret-toke', 'Basic czNjcmV0LXRva2Vu', 's3cret-token', 'Bearer s3cret-token extra']) {
			const answer = await app.inject({method: 'GET', url: '/api/v1/updates', headers: authorization === undefined ? {} : {authorization}});
			expect(answer.statusCode, authorization).toBe(401);
			expect(answer.json()).toMatchObject({error: {code: 'unauthorized'}});
			expect(answer.headers['www-authenticate']).toBe('Bearer realm="updock"');
		}

		expect((await app.inject({method: 'GET', url: '/api/v1/nothing'})).statusCode).toBe(401);
		expect((await app.inject({method: 'GET', url: '/metrics'})).statusCode).toBe(401);
		expect((await app.inject({method: 'GET', url: '/healthz'})).statusCode).toBe(200);
		expect((await app.inject({method: 'GET', url: '/api/v1/updates', headers: {authorization: 'Bearer s3cret-token'}})).statusCode).toBe(200);
		expect((await app.inject({method: 'GET', url: '/api/v1/updates', headers: {authorization: 'bearer s3cret-token'}})).statusCode).toBe(200);
	});

	it('declares the bearer scheme in the document', async () => {
		const document = (await app.inject({method: 'GET', url: '/api/v1/openapi.json', headers: {authorization: 'Bearer s3cret-token'}})).json<{components: {securitySchemes: unknown}}>();
		expect(document.components.securitySchemes).toEqual({bearer: {type: 'http', scheme: 'bearer'}});
	});
});
