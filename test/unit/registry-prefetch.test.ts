import {MockAgent} from 'undici';
import {afterEach, beforeEach, describe, expect, it} from 'vitest';
import {RegistryAuth} from '../../source/registry/auth.ts';
import {RegistryHttp} from '../../source/registry/http.ts';

/** Token prefetch for many repositories: how many requests, and which ones are in flight together. */
let agent: MockAgent;
/** Each token request as it was sent: its scopes, and how many token requests were in flight then. */
let sent: Array<{scopes: string[]; inFlight: number}>;
let inFlight: number;
/** What happened, in order: `answered N` as token request N's answer goes out, and what the test adds. */
let events: string[];

function auth(): RegistryAuth {
	const http = new RegistryHttp({timeoutMs: 2000, connectionsPerHost: 8, userAgent: 'updock-test', retryBaseMs: 1, env: {}, dispatcherFor: origin => agent.get(origin)});
	return new RegistryAuth(http, {source: 'none', get: async () => undefined});
}

const repositories = (count: number): string[] => Array.from({length: count}, (_, index) => `acme/app-${index}`);

/** The registry's ping (a Bearer challenge) and its token service, answering `status` after `delayMs` (the first request after `firstDelayMs`). */
function registry(tokens: number, status = 200, delayMs = 40, firstDelayMs = delayMs): void {
	const ghcr = agent.get('https://ghcr.io');
	ghcr.intercept({path: '/v2/', method: 'GET'}).reply(401, '', {headers: {'www-authenticate': 'Bearer realm="https://ghcr.io/token",service="ghcr.io"'}});
	const tokenService = (delay: number, times: number): void => {
		ghcr.intercept({path: path => path.startsWith('/token?'), method: 'GET'}).reply(options => {
			inFlight++;
			sent.push({scopes: new URL(options.path, 'https://ghcr.io').searchParams.getAll('scope'), inFlight});
			const number = sent.length;
			setTimeout(() => {
				inFlight--;
				events.push(`answered ${number}`);
			}, delay);
			return {statusCode: status, data: status === 200 ? {token: 'many'} : {errors: [{code: 'DENIED'}]}};
		}).delay(delay).times(times);
	};

	tokenService(firstDelayMs, 1);
	if (tokens > 1) {
		tokenService(delayMs, tokens - 1);
	}
}

beforeEach(() => {
	agent = new MockAgent();
	agent.disableNetConnect();
	sent = [];
	inFlight = 0;
	events = [];
});

afterEach(async () => {
	await agent.close();
});

describe('token prefetch', () => {
	it('asks for 50 scopes a request: the first request alone, the others side by side', async () => {
		registry(5);
		const tokens = auth();
		await tokens.prefetch('ghcr.io', repositories(230));
		// A repository of the last batch waits for that batch's token: it asks for none of its own.
		expect(await tokens.authorization('ghcr.io', 'acme/app-229')).toMatchObject({value: 'Bearer many', reused: true});
		expect(sent.map(request => request.scopes.length)).toEqual([50, 50, 50, 50, 30]);
		expect(new Set(sent.flatMap(request => request.scopes)).size).toBe(230);
		// The first was alone; the four after it were all sent before any of them was answered.
		expect(sent.map(request => request.inFlight)).toEqual([1, 1, 2, 3, 4]);
		agent.assertNoPendingInterceptors();
	});

	it('resolves once the first batch has answered and the others are asked for, not when they answer', async () => {
		// The first answers at once, the others only long after.
		registry(3, 200, 400, 10);
		const tokens = auth();
		await tokens.prefetch('ghcr.io', repositories(120));
		events.push('prefetch resolved');
		// Its first batch's token is in hand; the last batch's is on its way and is waited for, not asked again.
		expect(await tokens.authorization('ghcr.io', 'acme/app-0')).toMatchObject({value: 'Bearer many', reused: true});
		events.push('first batch used');
		expect(await tokens.authorization('ghcr.io', 'acme/app-119')).toMatchObject({value: 'Bearer many', reused: true});
		expect(events.slice(0, 3)).toEqual(['answered 1', 'prefetch resolved', 'first batch used']);
		expect(sent.map(request => request.scopes.length)).toEqual([50, 50, 20]);
		agent.assertNoPendingInterceptors();
	});

	it('leaves a repository whose batch failed to a token of its own', async () => {
		// The first batch is granted; the second fails, and its repositories ask one by one.
		const ghcr = agent.get('https://ghcr.io');
		ghcr.intercept({path: '/v2/', method: 'GET'}).reply(401, '', {headers: {'www-authenticate': 'Bearer realm="https://ghcr.io/token",service="ghcr.io"'}});
		const scopesOf = (path: string): string[] => new URL(path, 'https://ghcr.io').searchParams.getAll('scope');
		ghcr.intercept({path: path => path.startsWith('/token?') && scopesOf(path).length === 50, method: 'GET'}).reply(200, {token: 'many'});
		ghcr.intercept({path: path => path.startsWith('/token?') && scopesOf(path).length === 10, method: 'GET'}).reply(503, {errors: [{code: 'UNAVAILABLE'}]});
		ghcr.intercept({path: path => path.startsWith('/token?') && scopesOf(path).length === 1, method: 'GET'}).reply(200, {token: 'one'});
		const tokens = auth();
		await tokens.prefetch('ghcr.io', repositories(60));
		expect(await tokens.authorization('ghcr.io', 'acme/app-59')).toMatchObject({value: 'Bearer one', reused: false});
		expect(await tokens.authorization('ghcr.io', 'acme/app-1')).toMatchObject({value: 'Bearer many', reused: true});
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
