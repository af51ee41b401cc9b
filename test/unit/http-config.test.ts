import {describe, expect, it} from 'vitest';
import {parseConfig, type ParsedArguments} from '../../source/config.ts';
import {ConfigError} from '../../source/core/errors.ts';
import {parseListen, parseServeCommand} from '../../source/serve-config.ts';

function config(input: string[], flags: Partial<ParsedArguments['flags']> = {}, env: Record<string, string> = {}) {
	return parseConfig({input, flags: {once: false, json: false, exitCode: false, ...flags}, unknownFlags: []}, {HOME: '/home/u', ...env}, false);
}

function configError(run: () => unknown): ConfigError {
	try {
		run();
	} catch (error) {
		if (error instanceof ConfigError) {
			return error;
		}

		throw error;
	}

	throw new Error('no ConfigError');
}

describe('updock serve settings', () => {
	it('defaults to 127.0.0.1:8080, info logs, no token, no notifiers', () => {
		expect(config(['serve']).command).toEqual({kind: 'serve', listen: {kind: 'tcp', host: '127.0.0.1', port: 8080, loopback: true, display: '127.0.0.1:8080'}, notify: [], logLevel: 'info', token: {kind: 'none'}, webhookSecret: undefined});
	});

	it('reads --listen before UPDOCK_LISTEN, and unix sockets', () => {
		expect(config(['serve'], {listen: 'unix:///run/updock.sock'}, {UPDOCK_LISTEN: '127.0.0.1:1'}).command).toMatchObject({listen: {kind: 'unix', path: '/run/updock.sock'}});
		expect(config(['serve'], {}, {UPDOCK_LISTEN: '[::1]:9000'}).command).toMatchObject({listen: {kind: 'tcp', host: '::1', port: 9000, loopback: true}});
		expect(configError(() => parseListen('unix://relative.sock', '--listen')).source).toBe('--listen');
		for (const bad of ['8080', 'localhost:0', 'localhost:65536', 'a b:80', '']) {
			expect(configError(() => parseListen(bad, 'UPDOCK_LISTEN')).message).toMatch(/UPDOCK_LISTEN=.* is not an address/);
		}
	});

	it('refuses a non-loopback address without a token, naming the variable to set', () => {
		const error = configError(() => config(['serve'], {listen: '0.0.0.0:8080'}));
		expect(error.source).toBe('--listen');
		expect(error.message).toMatch(/UPDOCK_API_TOKEN/);
		expect(config(['serve'], {listen: '0.0.0.0:8080'}, {UPDOCK_API_TOKEN: ' t0ken '}).command).toMatchObject({token: {kind: 'env', token: 't0ken'}});
		expect(config(['serve'], {listen: '0.0.0.0:8080', apiTokenFile: '/etc/updock/token'}).command).toMatchObject({token: {kind: 'file', path: '/etc/updock/token'}});
		expect(configError(() => config(['serve'], {}, {UPDOCK_API_TOKEN: '  '})).source).toBe('UPDOCK_API_TOKEN');
	});

	it('range-checks --log-level and validates every notify URL at start', () => {
		expect(config(['serve'], {logLevel: 'DEBUG'}).command).toMatchObject({logLevel: 'debug'});
		expect(configError(() => config(['serve'], {logLevel: 'verbose'})).message).toMatch(/fatal, error, warn, info, debug, trace/);
		expect(parseServeCommand({}, {UPDOCK_NOTIFY: ' https://a.example/x  ntfy://ntfy.sh/t '}).notify.map(target => target.kind)).toEqual(['webhook', 'ntfy']);
		expect(configError(() => parseServeCommand({notify: ['https://a.example/x', 'http://b.example/x']}, {})).source).toBe('--notify');
		expect(configError(() => parseServeCommand({}, {UPDOCK_NOTIFY: 'gotify://x/y'})).source).toBe('UPDOCK_NOTIFY');
	});

	it('keeps serve flags to serve, and scan flags away from it', () => {
		expect(configError(() => config([], {listen: '127.0.0.1:1'})).source).toBe('--listen');
		expect(configError(() => config(['pins'], {notify: ['https://a.example/']})).source).toBe('--notify');
		expect(configError(() => config(['serve'], {json: true})).source).toBe('--json');
		expect(configError(() => config(['serve', 'extra'])).message).toMatch(/takes no argument/);
	});
});
