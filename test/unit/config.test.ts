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
			engine: {kind: 'unix', socketPath: '/var/run/docker.sock'},
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
		expect(config.engine).toMatchObject({kind: 'tcp', host: '10.1.2.3', port: 2376, display: 'tcp://10.1.2.3:2376'});
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
