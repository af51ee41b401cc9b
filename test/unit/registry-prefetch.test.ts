import {MockAgent} from 'undici';
import {afterEach, beforeEach, describe, expect, it} from 'vitest';
import {RegistryAuth} from '../../source/registry/auth.ts';
import {RegistryHttp} from '../../source/registry/http.ts';

/** Token prefetch for many repositories: how many requests, and which ones are in flight together. */
let agent: MockAgent;
/** Each token request as it was sent: its scopes, and how many token requests were in flight then. */
let sent: Array<{scopes: string[]; inFlight: number}>;
let inFlight: number;

function auth(): RegistryAuth {
	const http = new RegistryHttp({timeoutMs: 2000, connectionsPerHost: 8, userAgent: 'updock-test', retryBaseMs: 1, env: {}, dispatcherFor: origin => agent.get(origin)});
	return new RegistryAuth(http, {source: 'none', get: async () => undefined});
}

const repositories = (count: number): string[] => Array.from({length: count}, (_, index) => `acme/app-${index}`);

/** The registry's ping (a Bearer challenge) and its token service, answering `status` after `delayMs`. */
function registry(tokens: number, status = 200, delayMs = 40): void {
	const ghcr = agent.get('https://ghcr.io');
	ghcr.intercept({path: '/v2/', method: 'GET'}).reply(401, '', {headers: {'www-authenticate': 'Bearer realm="https://ghcr.io/token",service="ghcr.io"'}});
	ghcr.intercept({path: path => path.startsWith('/token?'), method: 'GET'}).reply(options => {
		inFlight++;
		sent.push({scopes: new URL(options.path, 'https://ghcr.io').searchParams.getAll('scope'), inFlight});
		setTimeout(() => {
			inFlight--;
		}, delayMs);
		return {statusCode: status, data: status === 200 ? {token: 'many'} : {errors: [{code: 'DENIED'}]}};
	}).delay(delayMs).times(tokens);
}

beforeEach(() => {
	agent = new MockAgent();
	agent.disableNetConnect();
	sent = [];
	inFlight = 0;
});

afterEach(async () => {
	await agent.close();
});

describe('token prefetch', () => {
	it('asks for 50 scopes a request: the first request alone, the others side by side', async () => {
		registry(5);
		await auth().prefetch('ghcr.io', repositories(230));
		expect(sent.map(request => request.scopes.length)).toEqual([50, 50, 50, 50, 30]);
		expect(new Set(sent.flatMap(request => request.scopes)).size).toBe(230);
		// The first was alone; the four after it were all sent before any of them was answered.
		expect(sent.map(request => request.inFlight)).toEqual([1, 1, 2, 3, 4]);
		agent.assertNoPendingInterceptors();
	});

	it('asks once when the token service refuses many scopes, and leaves each repository to its own token', async () => {
		registry(1, 403);
		await auth().prefetch('ghcr.io', repositories(230));
		expect(sent).toHaveLength(1);
		agent.assertNoPendingInterceptors();
	});
});

describe('prefetches of one registry at once', () => {
	it('run one after the other, the later asking only for what the earlier did not', async () => {
		registry(4);
		const tokens = auth();
		const many = repositories(130);
		await Promise.all([tokens.prefetch('ghcr.io', many.slice(0, 120)), tokens.prefetch('ghcr.io', many)]);
		// 120 repositories in three requests, then the 10 the first did not name in one.
		expect(sent.map(request => request.scopes.length)).toEqual([50, 50, 20, 10]);
		expect(new Set(sent.flatMap(request => request.scopes)).size).toBe(130);
		agent.assertNoPendingInterceptors();
	});
});
