import {describe, expect, it} from 'vitest';
import {ConfigError} from '../../source/core/errors.ts';
import {parseNotifyUrl} from '../../source/notify/url.ts';

describe('parseNotifyUrl', () => {
	it('takes https webhooks and plain http ones on loopback only', () => {
		expect(parseNotifyUrl('https://hooks.example/path/s3cret', '--notify')).toMatchObject({kind: 'webhook', display: 'https://hooks.example/…'});
		expect(parseNotifyUrl('http://127.0.0.1:9000/hook', '--notify')).toMatchObject({kind: 'webhook'});
		expect(parseNotifyUrl('http://[::1]:9000/hook', '--notify')).toMatchObject({kind: 'webhook'});
		expect(() => parseNotifyUrl('http://hooks.example/hook', '--notify')).toThrow(/plain HTTP to another machine/);
	});

	it('parses ntfy URLs: credentials, port, topic, scheme=http on loopback only', () => {
		const target = parseNotifyUrl('ntfy://al%40ice:p%3Ass@ntfy.example:8443/updates', 'UPDOCK_NOTIFY');
		expect(target).toMatchObject({kind: 'ntfy', credentials: {username: 'al@ice', password: 'p:ss'}, display: 'ntfy://ntfy.example:8443/updates'});
		expect(target.url.href).toBe('https://ntfy.example:8443/updates');
		expect(parseNotifyUrl('ntfy://127.0.0.1:8080/t?scheme=http', '--notify').url.href).toBe('http://127.0.0.1:8080/t');
		expect(parseNotifyUrl('ntfy://ntfy.sh/t', '--notify')).toMatchObject({credentials: null});
		expect(() => parseNotifyUrl('ntfy://ntfy.example/t?scheme=http', '--notify')).toThrow(/plain HTTP/);
		expect(() => parseNotifyUrl('ntfy://ntfy.example/', '--notify')).toThrow(/needs one topic/);
		expect(() => parseNotifyUrl('ntfy://ntfy.example/a/b', '--notify')).toThrow(/needs one topic/);
		expect(() => parseNotifyUrl('ntfy://ntfy.example/t?scheme=ftp', '--notify')).toThrow(/scheme=ftp/);
	});

	it('refuses unknown schemes and garbage with a ConfigError naming the source, never repeating a password', () => {
		for (const [text, pattern] of [['slack://token@channel', /unknown scheme "slack"/], ['not a url', /is not a URL/], ['https://user:hunter2@hooks.example/x', /credentials in the URL/]] as const) {
			let thrown: unknown;
			try {
				parseNotifyUrl(text, 'UPDOCK_NOTIFY');
			} catch (error) {
				thrown = error;
			}

			if (!(thrown instanceof ConfigError)) {
				throw new Error(`${text}: no ConfigError`);
			}

			expect(thrown.source).toBe('UPDOCK_NOTIFY');
			expect(thrown.message).toMatch(pattern);
			expect(thrown.message).not.toContain('hunter2');
		}
	});
});
