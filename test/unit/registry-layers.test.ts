import {Readable} from 'node:stream';
import {describe, expect, it} from 'vitest';
import {RegistryError} from '../../source/core/errors.ts';
import {withErrorMapping} from '../../source/registry/error-mapping.ts';
import {withRedirects} from '../../source/registry/redirect.ts';
import {withRetries} from '../../source/registry/retry.ts';
import {limits, type HttpRequest, type HttpResponse, type Send} from '../../source/registry/send.ts';
import {readCapped} from '../../source/registry/transport.ts';

/** Each layer of the registry HTTP stack alone, over a scripted layer below it. */
const request = (url: string, headers: Record<string, string> = {}): HttpRequest => ({method: 'GET', url: new URL(url), headers, registry: 'ghcr.io'});
const answer = (status: number, headers: Record<string, string> = {}, url = 'https://ghcr.io/'): HttpResponse => ({status, headers, body: Buffer.alloc(0), url});

function scripted(answers: Array<(request: HttpRequest) => HttpResponse>): {send: Send; seen: HttpRequest[]} {
	const seen: HttpRequest[] = [];
	return {
		seen,
		send: async request => {
			seen.push(request);
			const next = answers.shift();
			if (next === undefined) {
				throw new Error('no more answers scripted');
			}

			return {...next(request), url: request.url.href};
		},
	};
}

describe('withRetries', () => {
	it('retries 429/502/503/504 as asked, then returns the answer', async () => {
		const {send, seen} = scripted([() => answer(503, {'retry-after': '0'}), () => answer(429, {'retry-after': '0'}), () => answer(200)]);
		expect((await withRetries(send, {retries: 2})(request('https://ghcr.io/v2/'))).status).toBe(200);
		expect(seen).toHaveLength(3);
	});

	it('returns the last failure after the retries, and does not wait longer than allowed', async () => {
		const exhausted = scripted([() => answer(503, {'retry-after': '0'}), () => answer(503, {'retry-after': '0'})]);
		expect((await withRetries(exhausted.send, {retries: 1})(request('https://ghcr.io/v2/'))).status).toBe(503);
		expect(exhausted.seen).toHaveLength(2);
		const tooLong = scripted([() => answer(503, {'retry-after': '3600'})]);
		expect((await withRetries(tooLong.send, {retries: 2, maxRetryWaitMs: 10_000})(request('https://ghcr.io/v2/'))).status).toBe(503);
		expect(tooLong.seen).toHaveLength(1);
	});

	it('does not retry other statuses', async () => {
		const {send, seen} = scripted([() => answer(500)]);
		expect((await withRetries(send)(request('https://ghcr.io/v2/'))).status).toBe(500);
		expect(seen).toHaveLength(1);
	});
});

describe('withRedirects', () => {
	it('keeps Authorization on the same origin, drops it for another (and after it)', async () => {
		const {send, seen} = scripted([
			() => answer(307, {location: '/v2/moved'}),
			() => answer(302, {location: 'https://cdn.example/blob?sig=1'}),
			() => answer(302, {location: 'https://ghcr.io/v2/back'}),
			() => answer(200),
		]);
		const response = await withRedirects(send)(request('https://ghcr.io/v2/a', {authorization: 'Bearer t', accept: 'x'}));
		expect(response.url).toBe('https://ghcr.io/v2/back');
		expect(seen.map(hop => [hop.url.href, hop.headers?.['authorization']])).toEqual([
			['https://ghcr.io/v2/a', 'Bearer t'],
			['https://ghcr.io/v2/moved', 'Bearer t'],
			['https://cdn.example/blob?sig=1', undefined],
			['https://ghcr.io/v2/back', undefined],
		]);
		expect(seen[2]!.headers?.['accept']).toBe('x');
	});

	it('refuses a downgrade to HTTP, other schemes and endless redirects', async () => {
		const downgrade = scripted([() => answer(301, {location: 'http://ghcr.io/v2/'})]);
		await expect(withRedirects(downgrade.send)(request('https://ghcr.io/v2/'))).rejects.toMatchObject({code: 'BAD_REDIRECT'});
		const file = scripted([() => answer(301, {location: 'file:///etc/passwd'})]);
		await expect(withRedirects(file.send)(request('https://ghcr.io/v2/'))).rejects.toMatchObject({code: 'BAD_REDIRECT'});
		const loop = scripted(Array.from({length: 10}, () => () => answer(302, {location: '/v2/again'})));
		await expect(withRedirects(loop.send)(request('https://ghcr.io/v2/'))).rejects.toMatchObject({code: 'TOO_MANY_REDIRECTS'});
		expect(loop.seen).toHaveLength(6);
	});

	it('does not follow a redirect of a POST', async () => {
		const {send} = scripted([() => answer(302, {location: '/elsewhere'})]);
		expect((await withRedirects(send)({...request('https://ghcr.io/token'), method: 'POST'})).status).toBe(302);
	});
});

describe('withErrorMapping', () => {
	const failing = (error: unknown): Send => async () => {
		throw error;
	};

	it('names what happened', async () => {
		const refused = Object.assign(new Error('connect ECONNREFUSED 10.0.0.1:443'), {code: 'ECONNREFUSED'});
		await expect(withErrorMapping(failing(refused), 1000)(request('https://ghcr.io/v2/'))).rejects.toMatchObject({code: 'UNREACHABLE', message: 'Registry ghcr.io is unreachable: connection refused at ghcr.io. Is it running?'});
		const timedOut = new DOMException('The operation was aborted due to timeout', 'TimeoutError');
		await expect(withErrorMapping(failing(timedOut), 1500)(request('https://ghcr.io/v2/'))).rejects.toMatchObject({code: 'TIMEOUT', message: expect.stringMatching(/did not answer within 1.5 s/)});
		const tls = Object.assign(new Error('self-signed certificate'), {code: 'DEPTH_ZERO_SELF_SIGNED_CERT'});
		await expect(withErrorMapping(failing(tls), 1000)(request('https://ghcr.io/v2/'))).rejects.toMatchObject({code: 'TLS'});
		const viaProxy = withErrorMapping(failing(refused), 1000, () => new URL('http://user:secret@proxy.corp:3128'));
		const error = await viaProxy(request('https://ghcr.io/v2/')).catch((caught: unknown) => caught);
		expect(error).toMatchObject({code: 'PROXY'});
		expect((error as Error).message).toContain('through the proxy http://proxy.corp:3128 (HTTPS_PROXY)');
		expect((error as Error).message).not.toContain('secret');
	});

	it('passes RegistryErrors and the caller\'s own abort through untouched', async () => {
		const typed = new RegistryError({message: 'm', status: 200, code: 'TOO_LARGE', url: 'u', temporary: false});
		await expect(withErrorMapping(failing(typed), 1000)(request('https://ghcr.io/v2/'))).rejects.toBe(typed);
		const controller = new AbortController();
		const reason = new Error('scan stopped');
		controller.abort(reason);
		await expect(withErrorMapping(failing(reason), 1000)({...request('https://ghcr.io/v2/'), signal: controller.signal})).rejects.toBe(reason);
	});
});

describe('readCapped', () => {
	it('stops pulling a 16 MiB body at its 1 MiB cap and destroys it', async () => {
		let pulled = 0;
		const endless = Readable.from((function * () {
			// Bounded, so a broken cap fails the test instead of eating the machine.
			for (let chunk = 0; chunk < 64; chunk++) {
				pulled++;
				yield Buffer.alloc(256 * 1024);
			}
		})());
		const error = await readCapped(endless, undefined, limits.token, 'ghcr.io', 'https://ghcr.io/token', 200).catch((caught: unknown) => caught);
		// A boolean first: a failure must not print 16 MiB of body.
		expect(error instanceof RegistryError).toBe(true);
		expect(error).toMatchObject({code: 'TOO_LARGE', message: 'Registry ghcr.io sent more than 1 MiB for https://ghcr.io/token; a token response is never that large, so updock stopped reading.'});
		expect(endless.destroyed).toBe(true);
		expect(pulled).toBeLessThan(12);
	});

	it('refuses a declared length over the cap without reading, and reads a body at the cap', async () => {
		let read = false;
		const body = new Readable({
			read() {
				read = true;
				this.push(null);
			},
		});
		await expect(readCapped(body, String(limits.token.maxBytes + 1), limits.token, 'r', 'u', 200)).rejects.toMatchObject({code: 'TOO_LARGE'});
		expect(read).toBe(false);
		const exact = await readCapped(Readable.from([Buffer.alloc(limits.token.maxBytes)]), undefined, limits.token, 'r', 'u', 200);
		expect(exact.length).toBe(limits.token.maxBytes);
	});
});
