import {MockAgent} from 'undici';
import {afterEach, beforeEach, describe, expect, it} from 'vitest';
import {RegistryHttp} from '../../source/registry/http.ts';

/** The request hook `serve` counts registry requests with: once per request, with its final answer. */
let agent: MockAgent;
let seen: Array<[string, string, number | null]>;

function http(): RegistryHttp {
	return new RegistryHttp({
		timeoutMs: 2000, connectionsPerHost: 2, userAgent: 'updock-test', retryBaseMs: 1, env: {}, dispatcherFor: origin => agent.get(origin),
		onRequest: (registry, method, status) => seen.push([registry, method, status]),
	});
}

const ghcr = () => agent.get('https://ghcr.io');
const get = async (path: string, method: 'GET' | 'HEAD' = 'GET') => http().send({method, url: new URL(path, 'https://ghcr.io'), registry: 'ghcr.io'});

beforeEach(() => {
	agent = new MockAgent();
	agent.disableNetConnect();
	seen = [];
});

afterEach(async () => {
	agent.assertNoPendingInterceptors();
	await agent.close();
});

describe('the onRequest hook', () => {
	it('is told once for a request that was retried and redirected, with the answer that came back', async () => {
		ghcr().intercept({path: '/v2/a/manifests/1', method: 'HEAD'}).reply(503, '');
		ghcr().intercept({path: '/v2/a/manifests/1', method: 'HEAD'}).reply(307, '', {headers: {location: '/v2/b/manifests/1'}});
		ghcr().intercept({path: '/v2/b/manifests/1', method: 'HEAD'}).reply(200, '');
		expect((await get('/v2/a/manifests/1', 'HEAD')).status).toBe(200);
		expect(seen).toEqual([['ghcr.io', 'HEAD', 200]]);
	});

	it('is told the status of an error answer, and null when none arrived', async () => {
		ghcr().intercept({path: '/v2/missing/tags/list', method: 'GET'}).reply(404, '{"errors":[]}');
		expect((await get('/v2/missing/tags/list')).status).toBe(404);
		ghcr().intercept({path: '/v2/gone/tags/list', method: 'GET'}).replyWithError(Object.assign(new Error('refused'), {code: 'ECONNREFUSED'}));
		await expect(get('/v2/gone/tags/list')).rejects.toThrow(/connection refused/);
		expect(seen).toEqual([['ghcr.io', 'GET', 404], ['ghcr.io', 'GET', null]]);
	});
});
