import {describe, expect, it} from 'vitest';
import {parseConfig, type ParsedArguments} from '../../source/config.ts';
import {ConfigError} from '../../source/core/errors.ts';

const parsed = (input: string[] = [], flags: Partial<ParsedArguments['flags']> = {}, unknownFlags: string[] = []): ParsedArguments => ({
	input,
	flags: {once: false, json: false, exitCode: false, ...flags},
	unknownFlags,
});

const env = {HOME: '/home/ada'};

describe('parseConfig', () => {
	it('has sensible defaults', () => {
		const config = parseConfig(parsed([], {once: true}), env, false);
		expect(config).toMatchObject({
			command: {kind: 'scan', json: false, exitCode: false, live: false},
			hosts: [],
			engineEnv: {dockerHost: undefined, dockerContext: undefined, tlsVerify: false, dockerConfigDir: '/home/ada/.docker'},
			dbPath: '/home/ada/.config/updock/updock.json',
			dockerConfigPath: '/home/ada/.docker/config.json',
			intervalMs: 6 * 3_600_000,
			concurrency: 8,
			timeoutMs: 15_000,
			color: false,
		});
	});

	it('reads the environment', () => {
		const config = parseConfig(parsed([], {once: true}), {
			...env,
			DOCKER_HOST: 'tcp://10.1.2.3:2376',
			DOCKER_CONFIG: '/etc/dockercfg',
			XDG_CONFIG_HOME: '/xdg',
			UPDOCK_UPDATE_INTERVAL: '1h30m',
		}, true);
		expect(config.engineEnv).toMatchObject({dockerHost: 'tcp://10.1.2.3:2376', dockerConfigDir: '/etc/dockercfg'});
		expect(config.dockerConfigPath).toBe('/etc/dockercfg/config.json');
		expect(config.dbPath).toBe('/xdg/updock/updock.json');
		expect(config.intervalMs).toBe(5_400_000);
		expect(config.color).toBe(true);
	});

	it('lets flags win over variables, and NO_COLOR turn colour off', () => {
		const config = parseConfig(parsed([], {once: true, db: '/tmp/x.json', interval: '5m'}), {...env, UPDOCK_DB: '/tmp/y.json', UPDOCK_UPDATE_INTERVAL: '1h', NO_COLOR: '1'}, true);
		expect(config.dbPath).toBe('/tmp/x.json');
		expect(config.intervalMs).toBe(300_000);
		expect(config.color).toBe(false);
	});

	it('asks for the live view only with no command and no scan flags', () => {
		expect(parseConfig(parsed([]), env, true).command).toEqual({kind: 'scan', json: false, exitCode: false, live: true});
		expect(parseConfig(parsed([], {json: true}), env, true).command).toMatchObject({live: false});
		expect(parseConfig(parsed(['scan']), env, true).command).toMatchObject({live: false});
	});

	it('parses commands', () => {
		expect(parseConfig(parsed(['pin', 'web']), env, false).command).toEqual({kind: 'pin', container: 'web'});
		expect(parseConfig(parsed(['exclude', 'add', 'ghcr.io/*']), env, false).command).toEqual({kind: 'exclude-add', pattern: 'ghcr.io/*'});
		expect(parseConfig(parsed(['exclude', 'ls'], {json: true}), env, false).command).toEqual({kind: 'exclude-list', json: true});
		expect(parseConfig(parsed(['dry-run'], {json: true}), env, false).command).toEqual({kind: 'dry-run', json: true});
	});

	it('takes durations from 1s to 8760h and from 100ms to 10m, as written', () => {
		expect(parseConfig(parsed([], {interval: '8760h'}), env, false).intervalMs).toBe(8760 * 3_600_000);
		expect(parseConfig(parsed([], {interval: '720h'}), env, false).intervalMs).toBe(720 * 3_600_000);
		expect(parseConfig(parsed([], {interval: '1s'}), env, false).intervalMs).toBe(1000);
		expect(parseConfig(parsed([], {timeout: '100ms'}), env, false).timeoutMs).toBe(100);
		expect(parseConfig(parsed([], {timeout: '10m'}), env, false).timeoutMs).toBe(600_000);
	});

	it('parses hosts and host commands', () => {
		const config = parseConfig(parsed([], {once: true, host: ['prod=ssh://admin@prod.example', 'lab=tcp://10.0.0.5:2376'], context: ['staging']}), env, false);
		expect(config.hosts).toEqual([
			{kind: 'address', name: 'prod', address: 'ssh://admin@prod.example'},
			{kind: 'address', name: 'lab', address: 'tcp://10.0.0.5:2376'},
			{kind: 'context', name: 'staging'},
		]);
		expect(parseConfig(parsed(['host', 'add', 'lab', 'tcp://10.0.0.5:2376'], {tlsVerify: true, certPath: '/certs'}), env, false).command)
			.toEqual({kind: 'host-add', name: 'lab', address: 'tcp://10.0.0.5:2376', tlsVerify: true, certPath: '/certs'});
		expect(parseConfig(parsed(['host', 'ls'], {json: true}), env, false).command).toEqual({kind: 'host-list', json: true});
		expect(parseConfig(parsed(['host', 'rm', 'lab']), env, false).command).toEqual({kind: 'host-rm', name: 'lab'});
	});

	it.each<[ParsedArguments, Record<string, string>, string]>([
		[parsed([], {once: true}, ['--frob']), {}, '--frob'],
		[parsed([], {concurrency: '65'}), {}, '--concurrency'],
		[parsed([], {timeout: '0s'}), {}, '--timeout'],
		[parsed([]), {UPDOCK_UPDATE_INTERVAL: '6 hours'}, 'UPDOCK_UPDATE_INTERVAL'],
		[parsed([], {db: ''}), {}, '--db'],
		[parsed([]), {UPDOCK_DB: ' '}, 'UPDOCK_DB'],
		[parsed([]), {DOCKER_HOST: 'npipe:////./pipe/docker_engine'}, 'DOCKER_HOST'],
		[parsed([]), {DOCKER_HOST: 'unix://relative.sock'}, 'DOCKER_HOST'],
		[parsed(['pin', 'a', 'b']), {}, 'pin'],
		[parsed(['pins'], {once: true}), {}, '--once'],
		[parsed(['exclude', 'nuke']), {}, 'exclude'],
		[parsed([], {interval: '720h1ns'}), {}, '--interval'],
		[parsed([]), {UPDOCK_UPDATE_INTERVAL: '9999999h'}, 'UPDOCK_UPDATE_INTERVAL'],
		[parsed([]), {UPDOCK_UPDATE_INTERVAL: '1ns'}, 'UPDOCK_UPDATE_INTERVAL'],
		[parsed([], {interval: '999ms'}), {}, '--interval'],
		[parsed([], {interval: '8761h'}), {}, '--interval'],
		[parsed([], {timeout: '700h'}), {}, '--timeout'],
		[parsed([], {timeout: '1ns'}), {}, '--timeout'],
		[parsed([], {timeout: '99ms'}), {}, '--timeout'],
		[parsed([], {timeout: '10m1ms'}), {}, '--timeout'],
		[parsed([], {timeout: '1500us'}), {}, '--timeout'],
		[parsed([], {host: ['prod']}), {}, '--host'],
		[parsed([], {host: ['=tcp://10.0.0.1:2375']}), {}, '--host'],
		[parsed([], {host: ['a=unix:///a.sock', 'a=unix:///b.sock']}), {}, '--host'],
		[parsed([], {context: [' ']}), {}, '--context'],
		[parsed(['host', 'add', 'prod']), {}, 'host add'],
		[parsed(['host', 'add', 'bad/name', 'tcp://10.0.0.1:2375']), {}, 'host add'],
		[parsed(['host', 'zap']), {}, 'host'],
		[parsed([], {tlsVerify: true}), {}, '--tls-verify'],
	])('names the source of a bad value (%#)', (input, extraEnv, source) => {
		let error: unknown;
		try {
			parseConfig(input, {...env, ...extraEnv}, false);
		} catch (caught) {
			error = caught;
		}

		expect(error).toBeInstanceOf(ConfigError);
		expect((error as ConfigError).source).toBe(source);
		expect((error as ConfigError).message).toContain(source);
	});
});
