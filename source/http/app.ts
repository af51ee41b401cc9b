import Fastify, {LogController, type FastifyBaseLogger, type FastifyError, type FastifyInstance} from 'fastify';
import {z} from 'zod';
import {hasZodFastifySchemaValidationErrors, serializerCompiler, validatorCompiler, type ZodTypeProvider} from 'fastify-type-provider-zod';
import {BearerAuth} from './auth.ts';
import type {UpdatesBackend} from './backend.ts';
import {ApiError, errorBody} from './api-error.ts';
import {openApiDocument, type DocumentedRoute} from './openapi.ts';
import * as schemas from './schemas.ts';
import {selectUpdates} from './select-updates.ts';

/** Request bodies larger than this are refused with 413. */
export const maxBodyBytes = 64 * 1024;

export interface ApiOptions {
	readonly backend: UpdatesBackend;
	readonly logger: FastifyBaseLogger;
	/** Every request but `GET /healthz` must carry it as a bearer token; none means no check. */
	readonly token: string | undefined;
	readonly version: string;
}

const summaries: Readonly<Record<string, string>> = {
	'GET /api/v1/updates': 'Containers with an update available or a newer version (or with the status or kind of version asked for)',
	'GET /api/v1/updates/summary': 'The scan loop\'s state and the counts by status',
	'POST /api/v1/updates/scan': 'Scan now (a scan already running covers the request)',
	'GET /api/v1/updates/scan/:scan_id': 'One of the last 100 scans',
	'GET /api/v1/updates/container/:container_id': 'One container, by id, id prefix, name or host/name',
	'GET /api/v1/updates/dry-run': 'What a scan would check, without contacting any registry',
	'POST /api/v1/updates/pin/:container_id': 'Pin a container: never check it',
	'DELETE /api/v1/updates/pin/:container_id': 'Unpin a container',
	'GET /api/v1/updates/exclusions': 'Image patterns never checked',
	'POST /api/v1/updates/exclusions': 'Exclude an image pattern',
	'DELETE /api/v1/updates/exclusions/:id': 'Remove an exclusion',
	'GET /metrics': 'Prometheus metrics',
	'GET /healthz': 'Whether the scan loop runs (no token needed)',
	'GET /api/v1/openapi.json': 'This document',
};

const error = schemas.errorSchema;

/**
 * The HTTP API on Fastify: zod schemas for every request and answer, JSON only (other content types
 * 415, bodies over 64 KiB 413), 404 and 405 told apart, every error as `{"error": {code, message}}`.
 */
export async function buildApi(options: ApiOptions): Promise<FastifyInstance> {
	const {backend} = options;
	const app = Fastify({
		loggerInstance: options.logger,
		// One log line per API error comes from the error handler; requests that went well are not logged.
		logController: new LogController({disableRequestLogging: true}),
		bodyLimit: maxBodyBytes,
		// Paths are matched exactly as written in the API: no trailing-slash or case variants.
		routerOptions: {ignoreTrailingSlash: false, caseSensitive: true, maxParamLength: 300},
		// Fastify's own 503 body is not the API's error shape; the listener closes before the loop stops anyway.
		return503OnClosing: false,
	}).withTypeProvider<ZodTypeProvider>();
	app.setValidatorCompiler(validatorCompiler);
	app.setSerializerCompiler(serializerCompiler);

	// Fastify parses text/plain by default; the API takes JSON and nothing else.
	app.removeAllContentTypeParsers();
	app.addContentTypeParser('application/json', {parseAs: 'string', bodyLimit: maxBodyBytes}, (_request, body, done) => {
		const text = typeof body === 'string' ? body : body.toString('utf8');
		if (text.trim() === '') {
			done(null, undefined);
			return;
		}

		try {
			done(null, JSON.parse(text));
		} catch (cause) {
			done(new ApiError(400, 'invalid_json', `The body is not valid JSON: ${cause instanceof Error ? cause.message : String(cause)}.`), undefined);
		}
	});

	const routes: DocumentedRoute[] = [];
	app.addHook('onRoute', route => {
		const methods = Array.isArray(route.method) ? route.method : [route.method];
		for (const method of methods) {
			if (method === 'HEAD') {
				continue;
			}

			const schema = route.schema ?? {};
			routes.push({
				method,
				url: route.url,
				summary: summaries[`${method} ${route.url}`] ?? '',
				params: schema.params,
				querystring: schema.querystring,
				body: schema.body,
				response: isRecord(schema.response) ? schema.response : undefined,
				text: route.url === '/metrics',
			});
		}
	});

	const auth = options.token === undefined ? undefined : new BearerAuth(options.token);
	app.addHook('onRequest', async request => {
		if (auth === undefined || ((request.method === 'GET' || request.method === 'HEAD') && pathOf(request.url) === '/healthz')) {
			return;
		}

		if (!auth.allows(request.headers.authorization)) {
			throw new ApiError(401, 'unauthorized', 'This API needs "Authorization: Bearer <token>" with the token updock was started with.', {'www-authenticate': 'Bearer realm="updock"'});
		}
	});

	app.setNotFoundHandler(async request => {
		const path = pathOf(request.url);
		const allowed = routes.filter(route => routePattern(route.url).test(path)).map(route => route.method);
		if (allowed.length > 0) {
			const allow = [...new Set([...allowed, ...(allowed.includes('GET') ? ['HEAD'] : [])])].join(', ');
			throw new ApiError(405, 'method_not_allowed', `${request.method} is not allowed on ${path}; use ${allow}.`, {allow});
		}

		throw new ApiError(404, 'not_found', `There is nothing at ${path}; GET /api/v1/openapi.json lists the API.`);
	});

	app.setErrorHandler(async (failure: FastifyError | ApiError, request, reply) => {
		const {status, code, message, headers} = describeFailure(failure);
		const line = {method: request.method, path: pathOf(request.url), status, code};
		if (status >= 500) {
			request.log.error({...line, err: failure}, `API error: ${message}`);
		} else {
			request.log.warn(line, `API error: ${message}`);
		}

		return reply.code(status).headers(headers).type('application/json').send(errorBody(code, message));
	});

	const errors = (...codes: number[]): Record<number, typeof error> => Object.fromEntries(codes.map(code => [code, error]));

	app.get('/api/v1/updates', {schema: {querystring: schemas.updatesQuerySchema, response: {200: schemas.updatesSchema, ...errors(400, 401)}}}, async request => {
		const {containers, scannedAt} = await backend.containers();
		return {updates: selectUpdates(containers, request.query), scannedAt};
	});

	app.get('/api/v1/updates/summary', {schema: {response: {200: schemas.summaryAnswerSchema, ...errors(401)}}}, async () => backend.summary());

	app.post('/api/v1/updates/scan', {schema: {response: {202: schemas.scanStartedSchema, ...errors(401)}}}, async (_request, reply) => {
		const {id} = backend.requestScan();
		return reply.code(202).send({id, state: 'running' as const});
	});

	app.get('/api/v1/updates/scan/:scan_id', {schema: {params: schemas.scanParamsSchema, response: {200: schemas.scanSchema, ...errors(401, 404)}}}, async request => {
		const scan = backend.scan(request.params.scan_id);
		if (scan === undefined) {
			throw new ApiError(404, 'not_found', `No scan has the id "${request.params.scan_id}"; the last 100 are kept.`);
		}

		return scan;
	});

	app.get('/api/v1/updates/container/:container_id', {schema: {params: schemas.containerParamsSchema, response: {200: schemas.containerSchema, ...errors(401, 404, 409)}}}, async request => backend.container(request.params.container_id));

	app.get('/api/v1/updates/dry-run', {schema: {response: {200: schemas.dryRunSchema, ...errors(401)}}}, async () => backend.dryRun());

	app.post('/api/v1/updates/pin/:container_id', {schema: {params: schemas.containerParamsSchema, response: {200: schemas.pinAnswerSchema, ...errors(401, 404, 409)}}}, async request => ({pin: await backend.pin(request.params.container_id)}));

	app.delete('/api/v1/updates/pin/:container_id', {schema: {params: schemas.containerParamsSchema, response: {200: schemas.pinAnswerSchema, ...errors(401, 404, 409)}}}, async request => ({pin: await backend.unpin(request.params.container_id)}));

	app.get('/api/v1/updates/exclusions', {schema: {response: {200: schemas.exclusionsSchema, ...errors(401)}}}, async () => ({exclusions: await backend.exclusions()}));

	app.post('/api/v1/updates/exclusions', {schema: {body: schemas.exclusionBodySchema, response: {200: schemas.exclusionSchema, 201: schemas.exclusionSchema, ...errors(400, 401, 413, 415)}}}, async (request, reply) => {
		const {exclusion, added} = await backend.addExclusion(request.body.image);
		return reply.code(added ? 201 : 200).send(exclusion);
	});

	app.delete('/api/v1/updates/exclusions/:id', {schema: {params: schemas.exclusionParamsSchema, response: {204: z.null(), ...errors(400, 401, 404)}}}, async (request, reply) => {
		const removed = await backend.removeExclusion(Number(request.params.id));
		if (removed === undefined) {
			throw new ApiError(404, 'not_found', `No exclusion has the id ${request.params.id}.`);
		}

		return reply.code(204).send(null);
	});

	app.get('/metrics', async (_request, reply) => {
		const {contentType, text} = await backend.metrics();
		return reply.type(contentType).send(text);
	});

	app.get('/healthz', {schema: {response: {200: schemas.healthSchema, 503: schemas.healthSchema}}}, async (_request, reply) => {
		const ok = backend.healthy();
		return reply.code(ok ? 200 : 503).send({ok});
	});

	let document: Record<string, unknown> | undefined;
	app.get('/api/v1/openapi.json', {schema: {response: {200: z.record(z.string(), z.unknown()), ...errors(401)}}}, async () => {
		document ??= openApiDocument(routes, {title: 'updock', version: options.version}, auth !== undefined);
		return document;
	});

	await app.ready();
	return app;
}

function describeFailure(failure: FastifyError | ApiError): {status: number; code: string; message: string; headers: Readonly<Record<string, string>>} {
	if (failure instanceof ApiError) {
		return {status: failure.statusCode, code: failure.code, message: failure.message, headers: failure.headers};
	}

	if (hasZodFastifySchemaValidationErrors(failure)) {
		const problems = failure.validation.map(issue => `${issue.instancePath === '' ? failure.validationContext ?? 'request' : `${failure.validationContext ?? ''}${issue.instancePath}`}: ${issue.message}`);
		return {status: 400, code: 'invalid_request', message: `The request is not valid: ${problems.join('; ')}.`, headers: {}};
	}

	switch (failure.code) {
		case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
		case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH': {
			return failure.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE'
				? {status: 415, code: 'unsupported_media_type', message: 'The API takes JSON bodies only: send Content-Type: application/json.', headers: {}}
				: {status: 400, code: 'invalid_request', message: 'The Content-Length does not match the body.', headers: {}};
		}

		case 'FST_ERR_CTP_BODY_TOO_LARGE': {
			return {status: 413, code: 'payload_too_large', message: `The body is larger than ${maxBodyBytes / 1024} KiB.`, headers: {}};
		}

		default: {
			const status = failure.statusCode ?? 500;
			if (status >= 400 && status < 500) {
				return {status, code: 'invalid_request', message: failure.message, headers: {}};
			}

			return {status: 500, code: 'internal', message: 'Something went wrong inside updock; the log has the details.', headers: {}};
		}
	}
}

function pathOf(url: string): string {
	const query = url.indexOf('?');
	return query === -1 ? url : url.slice(0, query);
}

const patterns = new Map<string, RegExp>();

/** A route's path as a regular expression: `:name` is one segment. */
function routePattern(url: string): RegExp {
	let pattern = patterns.get(url);
	if (pattern === undefined) {
		pattern = new RegExp(`^${url.split('/').map(segment => segment.startsWith(':') ? '[^/]+' : segment.replaceAll(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('/')}$`);
		patterns.set(url, pattern);
	}

	return pattern;
}

function isRecord(value: unknown): value is Record<number, unknown> {
	return typeof value === 'object' && value !== null && !Array.isArray(value);
}
