import {createHmac} from 'node:crypto';
import {afterAll, afterEach, beforeAll, describe, expect, it} from 'vitest';
import type {AvailableEvent} from '../../source/core/alerts.ts';
import {Deliveries, type Attempt} from '../../source/notify/deliveries.ts';
import {makeNotifiers} from '../../source/notify/notifiers.ts';
import {ntfyMessage} from '../../source/notify/ntfy.ts';
import {NotifyHttp} from '../../source/notify/post.ts';
import {parseNotifyUrl} from '../../source/notify/url.ts';
import {startReceiver, type Receiver} from '../helpers/receivers.ts';

const digest = (character: string): string => `sha256:${character.repeat(64)}`;
const event = (name: string, fields: Partial<AvailableEvent> = {}): AvailableEvent => ({
	event: 'available', severity: 'info', host: 'local', container: {id: `${name}-id`, name, image: `registry.test/${name}:1`}, status: 'update-available',
	localDigest: digest('a'), remoteDigest: digest('b'), newer: null, links: null, vulnerabilities: null, risk: null, detectedAt: '2026-03-01T14:02:00.000Z', ...fields,
});

describe('notifiers against real receivers on loopback', () => {
	let webhook: Receiver;
	let ntfy: Receiver;
	let http: NotifyHttp;
	const running: Deliveries[] = [];

	beforeAll(async () => {
		webhook = await startReceiver('webhook');
		ntfy = await startReceiver('ntfy');
		http = new NotifyHttp({timeoutMs: 2000});
	});

	afterEach(async () => {
		await Promise.all(running.splice(0).map(async deliveries => deliveries.close()));
		webhook.received.length = 0;
		ntfy.received.length = 0;
		webhook.failNext(0);
		ntfy.failNext(0);
		webhook.delayAnswers(0);
	});

	afterAll(async () => {
		await http.close();
		await webhook.close();
		await ntfy.close();
	});

	function deliveries(urls: string[], options: {secret?: string; delays?: number[]} = {}) {
		const attempts: Attempt[] = [];
		const delivered: Array<readonly AvailableEvent[]> = [];
		const notifiers = makeNotifiers(urls.map(url => parseNotifyUrl(url, '--notify')), {http, webhookSecret: options.secret, userAgent: 'updock/test'});
		const result = new Deliveries({
			notifiers, version: '9.9.9', retryDelaysMs: options.delays ?? [1, 1, 1],
			onAttempt: attempt => attempts.push(attempt),
			onDelivered: async events => {
				delivered.push(events);
			},
		});
		running.push(result);
		return {deliveries: result, attempts, delivered};
	}

	it('POSTs the exact webhook body, signed with HMAC-SHA256 of the bytes received', async () => {
		const {deliveries: sender, delivered} = deliveries([`${webhook.origin}/hook/secret-path`], {secret: 's3cret'});
		sender.deliver([event('api'), event('web')]);
		await sender.settled();
		const [request] = webhook.received;
		expect(request!.method).toBe('POST');
		expect(request!.path).toBe('/hook/secret-path');
		expect(request!.headers['content-type']).toBe('application/json');
		expect(JSON.parse(request!.body.toString('utf8'))).toEqual({events: [event('api'), event('web')], updock: '9.9.9'});
		expect(request!.headers['x-updock-signature']).toBe(`sha256=${createHmac('sha256', 's3cret').update(request!.body).digest('hex')}`);
		expect(delivered).toEqual([[event('api'), event('web')]]);
	});

	it('sends no signature without a secret', async () => {
		const {deliveries: sender} = deliveries([`${webhook.origin}/hook`]);
		sender.deliver([event('api')]);
		await sender.settled();
		expect(webhook.received[0]!.headers['x-updock-signature']).toBeUndefined();
	});

	it('sends one ntfy message per batch, with title, default priority, the containers, and Basic auth to that host', async () => {
		const {deliveries: sender} = deliveries([`ntfy://bob:pa%3Ass@127.0.0.1:${ntfy.port}/updates?scheme=http`]);
		sender.deliver([event('api'), event('web')]);
		await sender.settled();
		expect(ntfy.received).toHaveLength(1);
		const [request] = ntfy.received;
		expect(request!.path).toBe('/updates');
		expect(request!.headers['title']).toBe('updock: 2 updates available');
		expect(request!.headers['priority']).toBe('default');
		expect(request!.headers['authorization']).toBe(`Basic ${Buffer.from('bob:pa:ss').toString('base64')}`);
		expect(request!.body.toString('utf8')).toBe(ntfyMessage([event('api'), event('web')]).body);
		expect(request!.body.toString('utf8')).toContain('local/api: registry.test/api:1 has a new image (aaaaaaaaaaaa -> bbbbbbbbbbbb)');
	});

	it('tells newer versions, risk, known vulnerabilities and the changes link in the ntfy text, one line per container', () => {
		const counts = (critical: number, ids: string[]) => ({critical, high: 0, medium: 0, low: 0, unknown: 0, ids});
		const {body} = ntfyMessage([
			event('api', {newer: [{tag: '1.2', type: 'minor'}, {tag: '2.0', type: 'major'}], risk: {score: 72, level: 'high'}, vulnerabilities: {source: 'sbom', current: counts(3, ['A', 'B', 'C']), target: counts(1, ['C']), fixed: ['A', 'B']}, links: {source: 'https://github.com/o/api', revision: 'a1', targetRevision: 'b2', changes: 'https://github.com/o/api/compare/a1...b2', release: 'https://github.com/o/api/releases/tag/2.0'}}),
			event('db', {status: 'up-to-date', remoteDigest: digest('a'), newer: [{tag: '16.4', type: 'minor'}], links: {source: 'https://github.com/o/db', revision: null, targetRevision: null, changes: null, release: 'https://github.com/o/db/releases/tag/16.4'}}),
			event('web', {container: {id: 'web-id', name: 'web\nlocal/forged', image: 'registry.test/web:1'}}),
		]);
		expect(body.split('\n')).toEqual([
			'local/api: registry.test/api:1 has a new image (aaaaaaaaaaaa -> bbbbbbbbbbbb); newer version 2.0 major; risk high 72 (3 known vulnerabilities, 2 fixed by the update); changes: https://github.com/o/api/compare/a1...b2',
			'local/db: registry.test/db:1 has a newer version: 16.4 minor; release: https://github.com/o/db/releases/tag/16.4',
			'local/web␊local/forged: registry.test/web:1 has a new image (aaaaaaaaaaaa -> bbbbbbbbbbbb)',
		]);
	});

	it('retries a receiver that fails twice, logs every attempt, and announces once it takes the batch', async () => {
		webhook.failNext(2, 503);
		const {deliveries: sender, attempts, delivered} = deliveries([`${webhook.origin}/hook`]);
		sender.deliver([event('api')]);
		await sender.settled();
		expect(attempts.map(attempt => [attempt.attempt, attempt.result])).toEqual([[1, 'failure'], [2, 'failure'], [3, 'success']]);
		expect(attempts[0]!.error).toMatch(/answered HTTP 503/);
		expect(webhook.received.map(entry => entry.status)).toEqual([503, 503, 200]);
		expect(delivered).toHaveLength(1);
	});

	it('gives up after three retries, leaving the events unannounced for the next scan', async () => {
		webhook.failNext(10);
		const {deliveries: sender, attempts, delivered} = deliveries([`${webhook.origin}/hook`]);
		sender.deliver([event('api')]);
		await sender.settled();
		expect(attempts.map(attempt => attempt.result)).toEqual(['failure', 'failure', 'failure', 'failure']);
		expect(attempts.at(-1)!.retryAt).toBeNull();
		expect(delivered).toEqual([]);
		expect(sender.inFlight(`local/api@${digest('b')}`)).toBe(false);
	});

	it('announces when one channel of two took the batch', async () => {
		ntfy.failNext(10);
		const {deliveries: sender, delivered} = deliveries([`${webhook.origin}/hook`, `ntfy://127.0.0.1:${ntfy.port}/t?scheme=http`]);
		sender.deliver([event('api')]);
		await sender.settled();
		expect(delivered).toHaveLength(1);
		expect(ntfy.received).toHaveLength(4);
	});

	it('does not send an event twice while its delivery is under way, and returns at once', async () => {
		webhook.delayAnswers(200);
		const {deliveries: sender} = deliveries([`${webhook.origin}/hook`]);
		sender.deliver([event('api')]);
		expect(sender.inFlight(`local/api@${digest('b')}`)).toBe(true);
		sender.deliver([event('api')]);
		await sender.settled();
		expect(webhook.received).toHaveLength(1);
	});

	it('names the target, never the path or credentials, in failures', async () => {
		const {deliveries: sender, attempts} = deliveries([`http://127.0.0.1:1/hook/secret-path`, `ntfy://bob:hunter2@127.0.0.1:1/t?scheme=http`], {delays: []});
		sender.deliver([event('api')]);
		await sender.settled();
		expect(attempts).toHaveLength(2);
		for (const attempt of attempts) {
			expect(attempt.result).toBe('failure');
			expect(`${attempt.target} ${attempt.error}`).not.toMatch(/secret-path|hunter2|bob/);
			expect(attempt.error).toContain('127.0.0.1:1');
		}
	});
});
