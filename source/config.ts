import {homedir} from 'node:os';
import {isAbsolute, join, resolve} from 'node:path';
import {ConfigError} from './core/errors.ts';
import {parseGoDuration} from './core/duration.ts';
import {dockerConfigPath} from './registry/credentials.ts';
import {parseDockerHost, type EngineAddress} from './docker/address.ts';

export type Command =
	/** `live`: no command and no scan flags, so the live view when stdin and stdout are terminals. */
	| {readonly kind: 'scan'; readonly json: boolean; readonly exitCode: boolean; readonly live: boolean}
	| {readonly kind: 'dry-run'; readonly json: boolean}
	| {readonly kind: 'pin'; readonly container: string}
	| {readonly kind: 'unpin'; readonly container: string}
	| {readonly kind: 'pins'; readonly json: boolean}
	| {readonly kind: 'exclude-add'; readonly pattern: string}
	| {readonly kind: 'exclude-list'; readonly json: boolean}
	| {readonly kind: 'exclude-rm'; readonly target: string};

export interface Config {
	readonly command: Command;
	readonly engine: EngineAddress;
	/** The lowdb JSON file. @default $XDG_CONFIG_HOME/updock/updock.json */
	readonly dbPath: string;
	/** The Docker config file with registry credentials. @default ~/.docker/config.json */
	readonly dockerConfigPath: string;
	/** Time between scans of the live view. @default 6h */
	readonly intervalMs: number;
	/** Registry requests in flight at once per registry. @default 8 */
	readonly concurrency: number;
	/** Timeout of one registry or engine request. @default 15s */
	readonly timeoutMs: number;
	/** Colour in the human table: only on a TTY and not under NO_COLOR. */
	readonly color: boolean;
	/** Docker-style `<host[:port]>/ca.crt`, `client.cert`, `client.key` per registry. @default /etc/docker/certs.d */
	readonly certsDir: string;
	/** DOCKER_AUTH_CONFIG: a Docker config as JSON, looked at before the file. */
	readonly dockerAuthConfig: string | undefined;
}

/** What meow parsed, before any meaning is given to it. */
export interface ParsedArguments {
	readonly input: readonly string[];
	readonly flags: {
		readonly once: boolean;
		readonly json: boolean;
		readonly exitCode: boolean;
		readonly db?: string | undefined;
		readonly concurrency?: string | undefined;
		readonly timeout?: string | undefined;
		readonly interval?: string | undefined;
		readonly certsDir?: string | undefined;
	};
	/** Flags given that updock does not know, as typed (`--frobnicate`). */
	readonly unknownFlags: readonly string[];
}

export const defaultIntervalMs = 6 * 3_600_000;
export const defaultConcurrency = 8;
export const defaultTimeoutMs = 15_000;

/**
 * Flags and environment to a Config. Pure: no I/O.
 * @throws ConfigError naming the flag or variable at fault.
 */
export function parseConfig(parsed: ParsedArguments, env: Readonly<Record<string, string | undefined>>, stdoutIsTty: boolean): Config {
	const [unknown] = parsed.unknownFlags;
	if (unknown !== undefined) {
		throw new ConfigError(unknown, `Unknown flag ${unknown}. Run "updock --help" for the flags there are.`);
	}

	const command = parseCommand(parsed);
	const engine = parseDockerHost(env['DOCKER_HOST']);
	if ('error' in engine) {
		throw new ConfigError('DOCKER_HOST', engine.error);
	}

	const home = env['HOME'] ?? homedir();
	const configHome = env['XDG_CONFIG_HOME'] !== undefined && isAbsolute(env['XDG_CONFIG_HOME']) ? env['XDG_CONFIG_HOME'] : join(home, '.config');
	const dbSource = parsed.flags.db === undefined ? 'UPDOCK_DB' : '--db';
	const db = parsed.flags.db ?? env['UPDOCK_DB'];
	if (db !== undefined && db.trim() === '') {
		throw new ConfigError(dbSource, `${dbSource} is empty: give the path of updock's JSON file.`);
	}

	const intervalSource = parsed.flags.interval === undefined ? 'UPDOCK_UPDATE_INTERVAL' : '--interval';
	const intervalText = parsed.flags.interval ?? env['UPDOCK_UPDATE_INTERVAL'];
	return {
		command,
		engine,
		dbPath: db === undefined ? join(configHome, 'updock', 'updock.json') : resolve(db),
		dockerConfigPath: dockerConfigPath(env['DOCKER_CONFIG'] || undefined, home),
		intervalMs: intervalText === undefined ? defaultIntervalMs : positiveDuration(intervalSource, intervalText, 'a scan interval such as 6h, 30m or 1h30m'),
		concurrency: parsed.flags.concurrency === undefined ? defaultConcurrency : parseConcurrency(parsed.flags.concurrency),
		timeoutMs: parsed.flags.timeout === undefined ? defaultTimeoutMs : positiveDuration('--timeout', parsed.flags.timeout, 'a request timeout such as 15s or 1m'),
		color: stdoutIsTty && (env['NO_COLOR'] ?? '') === '' && env['TERM'] !== 'dumb',
		certsDir: certsDirectory(parsed.flags.certsDir, env['UPDOCK_CERTS_DIR']),
		dockerAuthConfig: env['DOCKER_AUTH_CONFIG'] === undefined || env['DOCKER_AUTH_CONFIG'].trim() === '' ? undefined : env['DOCKER_AUTH_CONFIG'],
	};
}

function parseCommand(parsed: ParsedArguments): Command {
	const [name, ...rest] = parsed.input;
	const {json, exitCode, once} = parsed.flags;
	const only = (allowed: {json?: boolean; exitCode?: boolean}, label: string): void => {
		if (json && !allowed.json) {
			throw new ConfigError('--json', `--json does not apply to "${label}".`);
		}

		if (exitCode && !allowed.exitCode) {
			throw new ConfigError('--exit-code', `--exit-code applies to "updock --once" only, not to "${label}".`);
		}

		if (once && name !== undefined) {
			throw new ConfigError('--once', `--once is the scan itself; it does not go with "${label}".`);
		}
	};

	const argument = (what: string, usage: string): string => {
		const [value, extra] = rest.slice(name === 'exclude' ? 1 : 0);
		if (value === undefined || value.trim() === '') {
			throw new ConfigError(label(), `"updock ${usage}" needs ${what}.`);
		}

		if (extra !== undefined) {
			throw new ConfigError(label(), `"updock ${usage}" takes one ${what}, not also "${extra}".`);
		}

		return value;
	};

	const label = (): string => [name, name === 'exclude' ? rest[0] : undefined].filter(Boolean).join(' ');
	const noArguments = (): void => {
		const extra = rest.slice(name === 'exclude' ? 1 : 0)[0];
		if (extra !== undefined) {
			throw new ConfigError(label(), `"updock ${label()}" takes no argument, not "${extra}".`);
		}
	};

	switch (name) {
		case undefined:
		case 'scan': {
			only({json: true, exitCode: true}, 'scan');
			if (name === 'scan') {
				noArguments();
			}

			return {kind: 'scan', json, exitCode, live: name === undefined && !once && !json && !exitCode};
		}

		case 'dry-run': {
			only({json: true}, 'dry-run');
			noArguments();
			return {kind: 'dry-run', json};
		}

		case 'pin':
		case 'unpin': {
			only({}, name);
			return {kind: name, container: argument('a container name or id', `${name} <container>`)};
		}

		case 'pins': {
			only({json: true}, 'pins');
			noArguments();
			return {kind: 'pins', json};
		}

		case 'exclude': {
			const sub = rest[0];
			switch (sub) {
				case 'add': {
					only({}, 'exclude add');
					return {kind: 'exclude-add', pattern: argument('an image pattern', 'exclude add <pattern>')};
				}

				case 'list':
				case 'ls': {
					only({json: true}, 'exclude list');
					noArguments();
					return {kind: 'exclude-list', json};
				}

				case 'rm':
				case 'remove': {
					only({}, 'exclude rm');
					return {kind: 'exclude-rm', target: argument('an exclusion id or pattern', 'exclude rm <id|pattern>')};
				}

				default: {
					throw new ConfigError('exclude', sub === undefined
						? '"updock exclude" needs a subcommand: add <pattern>, list, or rm <id|pattern>.'
						: `Unknown subcommand "exclude ${sub}": use add <pattern>, list, or rm <id|pattern>.`);
				}
			}
		}

		default: {
			throw new ConfigError(name, `Unknown command "${name}". Commands: pin, unpin, pins, exclude, dry-run; run "updock --help".`);
		}
	}
}

function certsDirectory(flag: string | undefined, variable: string | undefined): string {
	const source = flag === undefined ? 'UPDOCK_CERTS_DIR' : '--certs-dir';
	const value = flag ?? variable;
	if (value === undefined) {
		return '/etc/docker/certs.d';
	}

	if (value.trim() === '') {
		throw new ConfigError(source, `${source} is empty: give a directory laid out like /etc/docker/certs.d.`);
	}

	return resolve(value);
}

function positiveDuration(source: string, text: string, what: string): number {
	const ms = parseGoDuration(text);
	if (ms === undefined) {
		throw new ConfigError(source, `${source}=${JSON.stringify(text)} is not a Go duration: expected ${what}.`);
	}

	if (ms <= 0) {
		throw new ConfigError(source, `${source}=${JSON.stringify(text)} must be longer than zero: expected ${what}.`);
	}

	return ms;
}

function parseConcurrency(text: string): number {
	const value = Number(text);
	if (!/^\d+$/.test(text.trim()) || value < 1 || value > 64) {
		throw new ConfigError('--concurrency', `--concurrency=${JSON.stringify(text)} must be a whole number from 1 to 64 (registry requests in flight per registry).`);
	}

	return value;
}
