import {createHash} from 'node:crypto';
import {MockAgent} from 'undici';
import {afterEach, beforeEach, describe, expect, it} from 'vitest';
import {RegistryError} from '../../source/core/errors.ts';
import {parseReference} from '../../source/core/reference.ts';
import {RegistryAuth} from '../../source/registry/auth.ts';
import {HttpRegistryClient} from '../../source/registry/client.ts';
import type {Credential, CredentialStore} from '../../source/registry/credentials.ts';
import {parseRateLimitHeader, RegistryHttp, retryAfterMs} from '../../source/registry/http.ts';

/**
 * Protocol corner cases a real registry here cannot be made to produce. Everything else runs
 * against real registries in test/e2e.
 */
const sha = (body: string): string => `sha256:${createHash('sha256').update(body).digest('hex')}`;
const manifest = JSON.stringify({schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config: {digest: `sha256:${'c'.repeat(64)}`}, layers: []});

let agent: MockAgent;

function client(credentials: Record<string, Credential> = {}, now = Date.now): HttpRegistryClient {
	const store: CredentialStore = {source: '/home/ada/.docker/config.json', get: async registry => credentials[registry]};
	const http = new RegistryHttp({timeoutMs: 2000, connectionsPerHost: 2, userAgent: 'updock-test', retryBaseMs: 1, dispatcherFor: origin => agent.get(origin)});
	return new HttpRegistryClient(http, new RegistryAuth(http, store, now));
}

async function failure(promise: Promise<unknown>): Promise<RegistryError> {
	const error = await promise.then(() => undefined, (caught: unknown) => caught);
	expect(error).toBeInstanceOf(RegistryError);
	return error as RegistryError;
}

beforeEach(() => {
	agent = new MockAgent();
	agent.disableNetConnect();
});

afterEach(async () => {
	agent.assertNoPendingInterceptors();
	await agent.close();
});

describe('HttpRegistryClient against protocol corner cases', () => {
	const ghcr = () => agent.get('https://ghcr.io');
	const reference = parseReference('ghcr.io/acme/app:1');

	it('falls back to GET and hashes the bytes when HEAD has no Docker-Content-Digest', async () => {
		ghcr().intercept({path: '/v2/', method: 'GET'}).reply(200, '{}');
		ghcr().intercept({path: '/v2/acme/app/manifests/1', method: 'HEAD'}).reply(200, '', {headers: {'content-type': 'application/vnd.oci.image.manifest.v1+json'}});
		ghcr().intercept({path: '/v2/acme/app/manifests/1', method: 'GET'}).reply(200, manifest, {headers: {'content-type': 'application/vnd.oci.image.manifest.v1+json'}});
		expect(await client().headTag(reference)).toEqual({digest: sha(manifest), mediaType: 'application/vnd.oci.image.manifest.v1+json'});
	});

	it('falls back to GET when HEAD answers 405', async () => {
		ghcr().intercept({path: '/v2/', method: 'GET'}).reply(200, '{}');
		ghcr().intercept({path: '/v2/acme/app/manifests/1', method: 'HEAD'}).reply(405, '');
		ghcr().intercept({path: '/v2/acme/app/manifests/1', method: 'GET'}).reply(200, manifest, {headers: {'docker-content-digest': 'sha256:ignored-by-design'}});
		expect((await client().headTag(reference)).digest).toBe(sha(manifest));
	});

	it('sends the Accept header with index and OCI types', async () => {
		ghcr().intercept({path: '/v2/', method: 'GET'}).reply(200, '{}');
		ghcr().intercept({
			path: '/v2/acme/app/manifests/1',
			method: 'HEAD',
			headers: {accept: value => ['application/vnd.oci.image.index.v1+json', 'application/vnd.docker.distribution.manifest.list.v2+json', 'application/vnd.oci.image.manifest.v1+json', 'application/vnd.docker.distribution.manifest.v2+json'].every(type => value.includes(type))},
		}).reply(200, '', {headers: {'docker-content-digest': sha(manifest)}});
		expect((await client().headTag(reference)).digest).toBe(sha(manifest));
	});

	it('never falls back to GET on 429, and says it is rate-limited', async () => {
		ghcr().intercept({path: '/v2/', method: 'GET'}).reply(200, '{}');
		ghcr().intercept({path: '/v2/acme/app/manifests/1', method: 'HEAD'}).reply(429, '', {headers: {'retry-after': '30'}});
		const error = await failure(client().headTag(reference));
		expect(error).toMatchObject({status: 429, code: 'TOOMANYREQUESTS', temporary: true});
		expect(error.message).toMatch(/rate-limiting.*wait 30 s/);
	});

	it('does not GET after a Docker Hub 404, and says "does not exist or is private" on its 401', async () => {
		const hub = agent.get('https://registry-1.docker.io');
		hub.intercept({path: '/v2/', method: 'GET'}).reply(401, '', {headers: {'www-authenticate': 'Bearer realm="https://auth.docker.io/token",service="registry.docker.io"'}});
		const auth = agent.get('https://auth.docker.io');
		auth.intercept({path: '/token?service=registry.docker.io&scope=repository%3Aacme%2Fgone%3Apull', method: 'GET'}).reply(200, {token: 'anon'});
		hub.intercept({path: '/v2/acme/gone/manifests/latest', method: 'HEAD'}).reply(401, '', {headers: {'www-authenticate': 'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:acme/gone:pull",error="insufficient_scope"'}});
		const registry = client();
		const error = await failure(registry.headTag(parseReference('acme/gone')));
		expect(error.code).toBe('AUTH_MISSING');
		expect(error.message).toMatch(/Docker Hub refused access to acme\/gone: the repository does not exist or is private/);

		hub.intercept({path: '/v2/library/nginx/manifests/nope', method: 'HEAD'}).reply(404, '');
		auth.intercept({path: '/token?service=registry.docker.io&scope=repository%3Alibrary%2Fnginx%3Apull', method: 'GET'}).reply(200, {access_token: 'anon2', expires_in: 300});
		const missing = await failure(registry.headTag(parseReference('nginx:nope')));
		expect(missing.message).toMatch(/Tag "nope" not found in docker.io\/library\/nginx/);
	});

	it('refreshes a cached token once on a new challenge, then uses the new one', async () => {
		let now = 1_000_000;
		const registry = client({'ghcr.io': {kind: 'basic', username: 'ada', password: 'pw'}}, () => now);
		const tokens = agent.get('https://ghcr.io');
		tokens.intercept({path: '/v2/', method: 'GET'}).reply(401, '', {headers: {'www-authenticate': 'Bearer realm="https://ghcr.io/token",service="ghcr.io"'}});
		tokens.intercept({path: '/token?service=ghcr.io&scope=repository%3Aacme%2Fapp%3Apull', method: 'GET', headers: {authorization: `Basic ${Buffer.from('ada:pw').toString('base64')}`}}).reply(200, {token: 'first', expires_in: 300});
		tokens.intercept({path: '/v2/acme/app/manifests/1', method: 'HEAD', headers: {authorization: 'Bearer first'}}).reply(200, '', {headers: {'docker-content-digest': sha('a')}});
		expect((await registry.headTag(reference)).digest).toBe(sha('a'));

		// Still cached a minute later: no token request. Then the registry revokes it.
		now += 60_000;
		tokens.intercept({path: '/v2/acme/app/manifests/1', method: 'HEAD', headers: {authorization: 'Bearer first'}}).reply(401, '', {headers: {'www-authenticate': 'Bearer realm="https://ghcr.io/token",service="ghcr.io",scope="repository:acme/app:pull",error="invalid_token"'}});
		tokens.intercept({path: '/token?service=ghcr.io&scope=repository%3Aacme%2Fapp%3Apull', method: 'GET'}).reply(200, {token: 'second', expires_in: 300});
		tokens.intercept({path: '/v2/acme/app/manifests/1', method: 'HEAD', headers: {authorization: 'Bearer second'}}).reply(200, '', {headers: {'docker-content-digest': sha('b')}});
		expect((await registry.headTag(reference)).digest).toBe(sha('b'));
	});

	it('renews a token after it expires (60 s when the server says less)', async () => {
		let now = 1_000_000;
		const registry = client({}, () => now);
		ghcr().intercept({path: '/v2/', method: 'GET'}).reply(401, '', {headers: {'www-authenticate': 'Bearer realm="https://ghcr.io/token",service="ghcr.io"'}});
		ghcr().intercept({path: '/token?service=ghcr.io&scope=repository%3Aacme%2Fapp%3Apull', method: 'GET'}).reply(200, {token: 'short', expires_in: 10});
		ghcr().intercept({path: '/v2/acme/app/manifests/1', method: 'HEAD', headers: {authorization: 'Bearer short'}}).reply(200, '', {headers: {'docker-content-digest': sha('a')}}).times(2);
		await registry.headTag(reference);
		now += 50_000; // within 60 s - 5 s
		await registry.headTag(reference);
		now += 10_000;
		ghcr().intercept({path: '/token?service=ghcr.io&scope=repository%3Aacme%2Fapp%3Apull', method: 'GET'}).reply(200, {token: 'renewed', expires_in: 300});
		ghcr().intercept({path: '/v2/acme/app/manifests/1', method: 'HEAD', headers: {authorization: 'Bearer renewed'}}).reply(200, '', {headers: {'docker-content-digest': sha('a')}});
		await registry.headTag(reference);
	});

	it('stops when a fresh token meets the same challenge again', async () => {
		ghcr().intercept({path: '/v2/', method: 'GET'}).reply(401, '', {headers: {'www-authenticate': 'Bearer realm="https://ghcr.io/token",service="ghcr.io"'}});
		ghcr().intercept({path: '/token?service=ghcr.io&scope=repository%3Aacme%2Fapp%3Apull', method: 'GET'}).reply(200, {token: 'weak'});
		ghcr().intercept({path: '/v2/acme/app/manifests/1', method: 'HEAD'}).reply(401, '', {headers: {'www-authenticate': 'Bearer realm="https://ghcr.io/token",service="ghcr.io",scope="repository:acme/app:pull"'}});
		const error = await failure(client().headTag(reference));
		expect(error.message).toMatch(/has no credentials for ghcr.io.*docker login ghcr.io/);
	});

	it('sends Basic credentials straight to a Basic registry, and says when they are refused', async () => {
		const registry = client({'ghcr.io': {kind: 'basic', username: 'ada', password: 'secret'}});
		ghcr().intercept({path: '/v2/', method: 'GET'}).reply(401, '', {headers: {'www-authenticate': 'Basic realm="Registry"'}});
		ghcr().intercept({path: '/v2/acme/app/manifests/1', method: 'HEAD', headers: {authorization: `Basic ${Buffer.from('ada:secret').toString('base64')}`}}).reply(401, '', {headers: {'www-authenticate': 'Basic realm="Registry"'}});
		const error = await failure(registry.headTag(reference));
		expect(error.code).toBe('AUTH_REFUSED');
		expect(error.message).toContain('/home/ada/.docker/config.json');
		expect(error.message).not.toContain('secret');
	});

	it('uses the OAuth refresh-token flow for an identity token', async () => {
		const registry = client({'ghcr.io': {kind: 'identity-token', token: 'refresh-me'}});
		ghcr().intercept({path: '/v2/', method: 'GET'}).reply(401, '', {headers: {'www-authenticate': 'Bearer realm="https://ghcr.io/token",service="ghcr.io"'}});
		ghcr().intercept({
			path: '/token',
			method: 'POST',
			body: body => {
				const form = new URLSearchParams(body);
				return form.get('grant_type') === 'refresh_token' && form.get('refresh_token') === 'refresh-me' && form.get('service') === 'ghcr.io' && form.get('scope') === 'repository:acme/app:pull' && form.get('client_id') === 'updock';
			},
		}).reply(200, {access_token: 'from-refresh', expires_in: 300});
		ghcr().intercept({path: '/v2/acme/app/manifests/1', method: 'HEAD', headers: {authorization: 'Bearer from-refresh'}}).reply(200, '', {headers: {'docker-content-digest': sha('x')}});
		expect((await registry.headTag(reference)).digest).toBe(sha('x'));
	});

	it('refuses to send credentials to a plain-HTTP realm of a remote registry', async () => {
		const registry = client({'ghcr.io': {kind: 'basic', username: 'ada', password: 'secret'}});
		ghcr().intercept({path: '/v2/', method: 'GET'}).reply(401, '', {headers: {'www-authenticate': 'Bearer realm="http://evil.example/token",service="ghcr.io"'}});
		const error = await failure(registry.headTag(reference));
		expect(error.code).toBe('AUTH_INSECURE');
	});

	it('reports a malformed challenge clearly', async () => {
		ghcr().intercept({path: '/v2/', method: 'GET'}).reply(401, '', {headers: {'www-authenticate': 'Bearer realm="https://ghcr.io/token'}});
		const error = await failure(client().headTag(reference));
		expect(error.message).toMatch(/malformed authentication challenge.*unterminated/);
	});

	it('picks the platform from an index and checks the bytes of what it fetched by digest', async () => {
		const child = manifest;
		const index = JSON.stringify({schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests: [
			{digest: `sha256:${'9'.repeat(64)}`, platform: {os: 'linux', architecture: 'arm64'}},
			{digest: sha(child), platform: {os: 'linux', architecture: 'amd64'}},
		]});
		ghcr().intercept({path: '/v2/', method: 'GET'}).reply(200, '{}');
		ghcr().intercept({path: `/v2/acme/app/manifests/${sha(index)}`, method: 'GET'}).reply(200, index);
		ghcr().intercept({path: `/v2/acme/app/manifests/${sha(child)}`, method: 'GET'}).reply(200, child);
		const registry = client();
		expect(await registry.resolvePlatform(reference, sha(index), {os: 'linux', architecture: 'amd64'})).toEqual({manifestDigest: sha(child), configDigest: `sha256:${'c'.repeat(64)}`});

		ghcr().intercept({path: `/v2/acme/app/manifests/${sha('tampered')}`, method: 'GET'}).reply(200, index);
		const error = await failure(registry.resolvePlatform(reference, sha('tampered'), {os: 'linux', architecture: 'amd64'}));
		expect(error.code).toBe('DIGEST_MISMATCH');

		ghcr().intercept({path: `/v2/acme/app/manifests/${sha(index)}`, method: 'GET'}).reply(200, index);
		const missing = await failure(registry.resolvePlatform(reference, sha(index), {os: 'linux', architecture: 's390x'}));
		expect(missing.message).toMatch(/no longer has an image for linux\/s390x \(it offers linux\/arm64, linux\/amd64\)/);
	});

	it('reads the registry error JSON of a failed GET, and copes with HTML', async () => {
		ghcr().intercept({path: '/v2/', method: 'GET'}).reply(200, '{}');
		ghcr().intercept({path: '/v2/acme/app/manifests/1', method: 'HEAD'}).reply(404, '');
		ghcr().intercept({path: '/v2/acme/app/manifests/1', method: 'GET'}).reply(404, {errors: [{code: 'NAME_UNKNOWN', message: 'repository name not known to registry'}]});
		const error = await failure(client().headTag(reference));
		expect(error.code).toBe('NAME_UNKNOWN');
		expect(error.message).toMatch(/Repository ghcr.io\/acme\/app does not exist/);

		const registry = client();
		ghcr().intercept({path: '/v2/', method: 'GET'}).reply(200, '{}');
		ghcr().intercept({path: '/v2/acme/app/manifests/1', method: 'HEAD'}).reply(502, '').times(3);
		const bad = await failure(registry.headTag(reference));
		expect(bad).toMatchObject({status: 502, temporary: true});
		expect(bad.message).toMatch(/Registry ghcr.io is unavailable \(HTTP 502.*try again later/);
		expect(bad.message).not.toMatch(/is this a registry/i);
	});
});

describe('RegistryHttp behaviour a real registry here will not show', () => {
	const ghcr = () => agent.get('https://ghcr.io');
	const reference = parseReference('ghcr.io/acme/app:1');

	it('retries a 503 and a 429 with Retry-After: 0, then takes the answer', async () => {
		ghcr().intercept({path: '/v2/', method: 'GET'}).reply(503, '');
		ghcr().intercept({path: '/v2/', method: 'GET'}).reply(200, '{}');
		ghcr().intercept({path: '/v2/acme/app/manifests/1', method: 'HEAD'}).reply(429, '', {headers: {'retry-after': '0'}});
		ghcr().intercept({path: '/v2/acme/app/manifests/1', method: 'HEAD'}).reply(200, '', {headers: {'docker-content-digest': sha('ok')}});
		expect((await client().headTag(reference)).digest).toBe(sha('ok'));
	});

	it('stops asking a registry that keeps answering 429, and says so', async () => {
		const registry = client();
		ghcr().intercept({path: '/v2/', method: 'GET'}).reply(200, '{}');
		ghcr().intercept({path: '/v2/acme/app/manifests/1', method: 'HEAD'}).reply(429, '', {headers: {'retry-after': 'garbage', 'ratelimit-limit': '100;w=21600', 'ratelimit-remaining': '0;w=21600'}}).times(3);
		const first = await failure(registry.headTag(reference));
		expect(first.message).toMatch(/rate-limiting updock \(HTTP 429\); 0 of 100 pulls left/);
		// No interceptor is left: a second request would fail differently.
		const second = await failure(registry.headTag(parseReference('ghcr.io/acme/other:1')));
		expect(second).toBe(first);
		expect(registry.rateLimits()).toEqual([{registry: 'ghcr.io', limit: 100, remaining: 0, windowSeconds: 21_600}]);
	});

	it('follows a redirect to another host without the Authorization header', async () => {
		const registry = client({'ghcr.io': {kind: 'basic', username: 'ada', password: 'secret'}});
		ghcr().intercept({path: '/v2/', method: 'GET'}).reply(401, '', {headers: {'www-authenticate': 'Basic realm="r"'}});
		ghcr().intercept({path: '/v2/acme/app/manifests/1', method: 'GET', headers: {authorization: value => value.startsWith('Basic ')}}).reply(307, '', {headers: {location: 'https://cdn.example/blobs/manifest?sig=1'}});
		const seen: Array<string | undefined> = [];
		agent.get('https://cdn.example').intercept({path: '/blobs/manifest?sig=1', method: 'GET'}).reply(options => {
			const headers = options.headers as Record<string, string>;
			seen.push(Object.entries(headers).find(([name]) => name.toLowerCase() === 'authorization')?.[1]);
			return {statusCode: 200, data: manifest};
		});
		ghcr().intercept({path: '/v2/acme/app/manifests/1', method: 'HEAD', headers: {authorization: value => value.startsWith('Basic ')}}).reply(200, '');
		expect((await registry.headTag(reference)).digest).toBe(sha(manifest));
		expect(seen).toEqual([undefined]);
	});

	it('refuses a redirect from HTTPS to plain HTTP', async () => {
		ghcr().intercept({path: '/v2/', method: 'GET'}).reply(200, '{}');
		ghcr().intercept({path: '/v2/acme/app/manifests/1', method: 'HEAD'}).reply(302, '', {headers: {location: 'http://plain.example/m'}});
		const error = await failure(client().headTag(reference));
		expect(error.code).toBe('BAD_REDIRECT');
	});
});

describe('Retry-After and rate-limit headers', () => {
	const now = Date.parse('2026-11-23T12:00:00Z');
	it.each([
		['5', 5000],
		['0', 0],
		['Mon, 23 Nov 2026 12:00:30 GMT', 30_000],
		['Mon, 23 Nov 2026 11:00:00 GMT', undefined],
		['soon', undefined],
		['', undefined],
		[undefined, undefined],
	])('Retry-After %j -> %j ms', (value, expected) => {
		expect(retryAfterMs(value, now)).toBe(expected);
	});

	it.each([
		['100;w=21600', {value: 100, window: 21_600}],
		['76', {value: 76, window: undefined}],
		['nonsense', undefined],
	])('%j', (value, expected) => {
		expect(parseRateLimitHeader(value)).toEqual(expected);
	});
});

describe('REGISTRY.md lines a real registry here cannot show', () => {
	const reference = parseReference('ghcr.io/acme/app:1');

	it('says so when /v2/ answers neither 200 nor 401', async () => {
		agent.get('https://ghcr.io').intercept({path: '/v2/', method: 'GET'}).reply(404, '<html>not here</html>');
		const error = await failure(client().headTag(reference));
		expect(error).toMatchObject({code: 'PING_FAILED', status: 404});
		expect(error.message).toMatch(/answered HTTP 404 to https:\/\/ghcr.io\/v2\/.*Is ghcr.io a container registry\?/);
	});

	it('keeps the realm\'s own query parameters and sends credentials only to the realm', async () => {
		const registry = client({'ghcr.io': {kind: 'basic', username: 'ada', password: 'pw'}});
		agent.get('https://ghcr.io').intercept({path: '/v2/', method: 'GET'}).reply(401, '', {headers: {'www-authenticate': 'Bearer realm="https://auth.example/token?account=ada&x=1",service="ghcr.io"'}});
		agent.get('https://auth.example').intercept({
			path: '/token?account=ada&x=1&service=ghcr.io&scope=repository%3Aacme%2Fapp%3Apull',
			method: 'GET',
			headers: {authorization: `Basic ${Buffer.from('ada:pw').toString('base64')}`},
		}).reply(200, {token: 't'});
		agent.get('https://ghcr.io').intercept({path: '/v2/acme/app/manifests/1', method: 'HEAD', headers: {authorization: 'Bearer t'}}).reply(200, '', {headers: {'docker-content-digest': sha('x')}});
		expect((await registry.headTag(reference)).digest).toBe(sha('x'));
	});

	it('never falls back to GET on 403, and says the credentials lack pull access', async () => {
		agent.get('https://ghcr.io').intercept({path: '/v2/', method: 'GET'}).reply(200, '{}');
		agent.get('https://ghcr.io').intercept({path: '/v2/acme/app/manifests/1', method: 'HEAD'}).reply(403, '');
		const error = await failure(client().headTag(reference));
		expect(error.message).toMatch(/denied pulling acme\/app: the credentials in use lack pull access/);
	});
});
