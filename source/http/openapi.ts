import {z} from 'zod';

/** A route as the document needs it: registered schemas (zod) and a summary. */
export interface DocumentedRoute {
	readonly method: string;
	/** Fastify style: `/api/v1/updates/pin/:container_id`. */
	readonly url: string;
	readonly summary: string;
	readonly params?: unknown;
	readonly querystring?: unknown;
	readonly body?: unknown;
	/** Status code to schema; a status without a body maps to null. */
	readonly response?: Readonly<Record<number, unknown>>;
	/** The 200 answer is text (Prometheus' format), not JSON. */
	readonly text?: boolean;
}

type JsonObject = Record<string, unknown>;

/**
 * The OpenAPI 3.1 document of the routes, from the very zod schemas that validate requests and
 * serialize answers. Named schemas (`.meta({id})`) become `components.schemas` entries.
 */
export function openApiDocument(routes: readonly DocumentedRoute[], info: {title: string; version: string}, bearer: boolean): JsonObject {
	const components: JsonObject = {};
	const convert = (schema: unknown, io: 'input' | 'output'): JsonObject | undefined => {
		if (!(schema instanceof z.ZodType)) {
			return undefined;
		}

		const {$schema: _dialect, $defs, ...json} = z.toJSONSchema(schema, {target: 'draft-2020-12', io, unrepresentable: 'any'});
		for (const [id, definition] of Object.entries($defs ?? {})) {
			components[id] = rewriteRefs(definition);
		}

		return rewriteRefs(json);
	};

	const paths: Record<string, JsonObject> = {};
	for (const route of routes) {
		const path = route.url.replaceAll(/:(\w+)/g, '{$1}');
		const parameters = [...parametersOf(convert(route.params, 'input'), 'path'), ...parametersOf(convert(route.querystring, 'input'), 'query')];
		const body = convert(route.body, 'input');
		const responses: JsonObject = {};
		for (const [status, schema] of Object.entries(route.response ?? {})) {
			const json = status === '204' ? undefined : convert(schema, 'output');
			responses[status] = json === undefined ? {description: describeStatus(Number(status))} : {description: describeStatus(Number(status)), content: {'application/json': {schema: json}}};
		}

		if (route.text === true) {
			responses['200'] = {description: describeStatus(200), content: {'text/plain': {schema: {type: 'string'}}}};
		}

		paths[path] = {
			...paths[path],
			[route.method.toLowerCase()]: {
				summary: route.summary,
				...(parameters.length === 0 ? {} : {parameters}),
				...(body === undefined ? {} : {requestBody: {required: true, content: {'application/json': {schema: body}}}}),
				responses,
				...(bearer && route.url !== '/healthz' ? {security: [{bearer: []}]} : {}),
			},
		};
	}

	return {
		openapi: '3.1.0',
		info,
		paths,
		components: {
			schemas: components,
			...(bearer ? {securitySchemes: {bearer: {type: 'http', scheme: 'bearer'}}} : {}),
		},
	};
}

function parametersOf(schema: JsonObject | undefined, where: 'path' | 'query'): JsonObject[] {
	const properties = schema?.['properties'];
	if (typeof properties !== 'object' || properties === null) {
		return [];
	}

	const required = new Set(Array.isArray(schema?.['required']) ? schema['required'] : []);
	return Object.entries(properties).map(([name, property]) => ({
		name,
		in: where,
		required: where === 'path' || required.has(name),
		schema: property,
	}));
}

function rewriteRefs(value: unknown): JsonObject {
	const text = JSON.stringify(value).replaceAll('"#/$defs/', '"#/components/schemas/');
	const parsed: unknown = JSON.parse(text);
	return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? Object.fromEntries(Object.entries(parsed)) : {};
}

const statusWords: Readonly<Record<number, string>> = {
	200: 'OK', 201: 'Created', 202: 'Accepted', 204: 'No content', 400: 'Invalid request', 401: 'Missing or wrong bearer token',
	404: 'Not found', 405: 'Method not allowed', 409: 'Ambiguous', 413: 'Body over 64 KiB', 415: 'Not JSON', 500: 'Internal error', 503: 'Shutting down',
};

function describeStatus(status: number): string {
	return statusWords[status] ?? `HTTP ${status}`;
}
