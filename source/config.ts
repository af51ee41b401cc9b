import {homedir} from 'node:os';
import {isAbsolute, join, resolve} from 'node:path';
import {ConfigError} from './core/errors.ts';
import {parseGoDuration} from './core/duration.ts';
import {parseEngineAddress} from './docker/address.ts';
import {defaultOsvUrl, parseOsvUrl} from './vulns/osv-url.ts';
import {dockerConfigPath} from './registry/credentials.ts';
import {parseServeCommand, rejectServeFlags, type ServeCommand, type ServeFlags} from './serve-config.ts';

export type Command =
	/** `live`: no command and no scan flags, so the live view when stdin and stdout are terminals. */
	/** `exitCode`: `--exit-code` (2 for updates) or `--exit-code=newer` (2 for updates and newer versions). */
	| {readonly kind: 'scan'; readonly json: boolean; readonly exitCode: false | 'updates' | 'newer'; readonly live: boolean}
	| {readonly kind: 'dry-run'; readonly json: boolean}
	| {readonly kind: 'pin'; readonly container: string}
	| {readonly kind: 'unpin'; readonly container: string}
	| {readonly kind: 'pins'; readonly json: boolean}
	| {readonly kind: 'exclude-add'; readonly pattern: string}
	| {readonly kind: 'exclude-list'; readonly json: boolean}
	| {readonly kind: 'exclude-rm'; readonly target: string}
	| {readonly kind: 'host-add'; readonly name: string; readonly address: string; readonly tlsVerify: boolean; readonly certPath: string | undefined}
	| {readonly kind: 'host-list'; readonly json: boolean}
	| {readonly kind: 'host-rm'; readonly name: string}
	| ServeCommand;

/** An engine named on the command line: `--host NAME=ADDRESS` or `--context NAME`. */
export type HostChoice =
	| {readonly kind: 'address'; readonly name: string; readonly address: string}
	| {readonly kind: 'context'; readonly name: string};

/** What the docker CLI reads from the environment to find its engine. */
export interface EngineEnvironment {
	readonly dockerHost: string | undefined;
	readonly dockerContext: string | undefined;
	readonly tlsVerify: boolean;
	readonly certPath: string | undefined;
	/** $DOCKER_CONFIG, default ~/.docker: config.json and contexts/. */
	readonly dockerConfigDir: string;
	readonly home: string;
}

export interface Config {
	readonly command: Command;
	/** Engines given with --host and --context, in order; empty means the saved hosts, else the default engine. */
	readonly hosts: readonly HostChoice[];
	/** How to find the default engine (DOCKER_HOST, DOCKER_CONTEXT, the current context). */
	readonly engineEnv: EngineEnvironment;
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
	/** Newer versions of version tags (`--tags`, `UPDOCK_TAGS`). @default true */
	readonly tags: boolean;
	/** How long the live view and `serve` reuse a repository's tag listing. @default 6h */
	readonly tagsIntervalMs: number;
	/** Known vulnerabilities from OSV (`--vulns`, `UPDOCK_VULNS`); off because it sends package names out. @default false */
	readonly vulns: boolean;
	/** The OSV API (`UPDOCK_OSV_URL`). @default https://api.osv.dev */
	readonly osvUrl: string;
	/** DOCKER_AUTH_CONFIG: a Docker config as JSON, looked at before the file. */
	readonly dockerAuthConfig: string | undefined;
}

/** What meow parsed, before any meaning is given to it. */
export interface ParsedArguments {
	readonly input: readonly string[];
	readonly flags: {
		readonly once: boolean;
		readonly json: boolean;
		/** `--exit-code` alone is true or ''; `--exit-code=newer` is 'newer'. */
		readonly exitCode: boolean | string;
		readonly db?: string | undefined;
		readonly concurrency?: string | undefined;
		readonly timeout?: string | undefined;
		readonly interval?: string | undefined;
		readonly certsDir?: string | undefined;
		readonly host?: readonly string[] | undefined;
		readonly context?: readonly string[] | undefined;
		readonly tlsVerify?: boolean | undefined;
		readonly certPath?: string | undefined;
		readonly tags?: string | undefined;
		readonly tagsInterval?: string | undefined;
		readonly vulns?: string | undefined;
	} & ServeFlags;
	/** Flags given that updock does not know, as typed (`--frobnicate`). */
	readonly unknownFlags: readonly string[];
}

export const defaultIntervalMs = 6 * 3_600_000;
export const defaultConcurrency = 8;
export const defaultTimeoutMs = 15_000;
export const defaultTagsIntervalMs = 6 * 3_600_000;

/**
 * Flags and environment to a Config. Pure: no I/O.
 * @throws ConfigError naming the flag or variable at fault.
 */
export function parseConfig(parsed: ParsedArguments, env: Readonly<Record<string, string | undefined>>, stdoutIsTty: boolean): Config {
	const [unknown] = parsed.unknownFlags;
	if (unknown !== undefined) {
		throw new ConfigError(unknown, `Unknown flag ${unknown}. Run "updock --help" for the flags there are.`);
	}

	const command = parseCommand(parsed, env);
	const home = env['HOME'] ?? homedir();
	const configHome = env['XDG_CONFIG_HOME'] !== undefined && isAbsolute(env['XDG_CONFIG_HOME']) ? env['XDG_CONFIG_HOME'] : join(home, '.config');
	const dbSource = parsed.flags.db === undefined ? 'UPDOCK_DB' : '--db';
	const db = parsed.flags.db ?? env['UPDOCK_DB'];
	if (db !== undefined && db.trim() === '') {
		throw new ConfigError(dbSource, `${dbSource} is empty: give the path of updock's JSON file.`);
	}

	const intervalSource = parsed.flags.interval === undefined ? 'UPDOCK_UPDATE_INTERVAL' : '--interval';
	const intervalText = parsed.flags.interval ?? env['UPDOCK_UPDATE_INTERVAL'];
	const dockerConfigDir = env['DOCKER_CONFIG'] || join(home, '.docker');
	const dockerHost = nonEmpty(env['DOCKER_HOST']);
	if (dockerHost !== undefined) {
		// Checked here so a typo is a usage error at once; contexts are read only when an engine is needed.
		const address = parseEngineAddress(dockerHost, {});
		if ('error' in address) {
			throw new ConfigError('DOCKER_HOST', `DOCKER_HOST=${address.error}`);
		}
	}

	return {
		command,
		hosts: parseHostChoices(parsed.flags.host ?? [], parsed.flags.context ?? []),
		engineEnv: {
			dockerHost,
			dockerContext: nonEmpty(env['DOCKER_CONTEXT']),
			tlsVerify: (env['DOCKER_TLS_VERIFY'] ?? '') !== '',
			certPath: nonEmpty(env['DOCKER_CERT_PATH']),
			dockerConfigDir: resolve(dockerConfigDir),
			home,
		},
		dbPath: db === undefined ? join(configHome, 'updock', 'updock.json') : resolve(db),
		dockerConfigPath: dockerConfigPath(env['DOCKER_CONFIG'] || undefined, home),
		intervalMs: intervalText === undefined ? defaultIntervalMs : boundedDuration(intervalSource, intervalText, intervalRange),
		concurrency: parsed.flags.concurrency === undefined ? defaultConcurrency : parseConcurrency(parsed.flags.concurrency),
		timeoutMs: parsed.flags.timeout === undefined ? defaultTimeoutMs : boundedDuration('--timeout', parsed.flags.timeout, timeoutRange),
		color: stdoutIsTty && (env['NO_COLOR'] ?? '') === '' && env['TERM'] !== 'dumb',
		certsDir: certsDirectory(parsed.flags.certsDir, env['UPDOCK_CERTS_DIR']),
		tags: onOff(parsed.flags.tags === undefined ? 'UPDOCK_TAGS' : '--tags', parsed.flags.tags ?? env['UPDOCK_TAGS'], true),
		tagsIntervalMs: parsed.flags.tagsInterval === undefined ? defaultTagsIntervalMs : boundedDuration('--tags-interval', parsed.flags.tagsInterval, tagsIntervalRange),
		vulns: onOff(parsed.flags.vulns === undefined ? 'UPDOCK_VULNS' : '--vulns', parsed.flags.vulns ?? env['UPDOCK_VULNS'], false),
		osvUrl: parseOsvUrl(nonEmpty(env['UPDOCK_OSV_URL']) ?? defaultOsvUrl).href.replace(/\/$/, ''),
		dockerAuthConfig: env['DOCKER_AUTH_CONFIG'] === undefined || env['DOCKER_AUTH_CONFIG'].trim() === '' ? undefined : env['DOCKER_AUTH_CONFIG'],
	};
}

function parseCommand(parsed: ParsedArguments, env: Readonly<Record<string, string | undefined>>): Command {
	const [name, ...rest] = parsed.input;
	const {json, once} = parsed.flags;
	const exitCode = parseExitCode(parsed.flags.exitCode);
	const hasSubcommand = name === 'exclude' || name === 'host';
	if (name !== 'serve') {
		rejectServeFlags(parsed.flags, name ?? 'updock');
	}

	if ((parsed.flags.tlsVerify === true || parsed.flags.certPath !== undefined) && !(name === 'host' && rest[0] === 'add')) {
		throw new ConfigError(parsed.flags.tlsVerify === true ? '--tls-verify' : '--cert-path', '--tls-verify and --cert-path go with "updock host add NAME ADDRESS"; for the default engine set DOCKER_TLS_VERIFY and DOCKER_CERT_PATH.');
	}

	const only = (allowed: {json?: boolean; exitCode?: boolean}, label: string): void => {
		if (json && !allowed.json) {
			throw new ConfigError('--json', `--json does not apply to "${label}".`);
		}

		if (exitCode !== false && !allowed.exitCode) {
			throw new ConfigError('--exit-code', `--exit-code applies to "updock --once" only, not to "${label}".`);
		}

		if (once && name !== undefined) {
			throw new ConfigError('--once', `--once is the scan itself; it does not go with "${label}".`);
		}
	};

	const argument = (what: string, usage: string): string => {
		const [value, extra] = rest.slice(hasSubcommand ? 1 : 0);
		if (value === undefined || value.trim() === '') {
			throw new ConfigError(label(), `"updock ${usage}" needs ${what}.`);
		}

		if (extra !== undefined) {
			throw new ConfigError(label(), `"updock ${usage}" takes one ${what}, not also "${extra}".`);
		}

		return value;
	};

	const label = (): string => [name, hasSubcommand ? rest[0] : undefined].filter(Boolean).join(' ');
	const noArguments = (): void => {
		const extra = rest.slice(hasSubcommand ? 1 : 0)[0];
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

			return {kind: 'scan', json, exitCode, live: name === undefined && !once && !json && exitCode === false};
		}

		case 'serve': {
			only({}, 'serve');
			noArguments();
			return parseServeCommand(parsed.flags, env);
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

		case 'host': {
			const sub = rest[0];
			switch (sub) {
				case 'add': {
					only({}, 'host add');
					const [hostName, address, extra] = rest.slice(1);
					if (hostName === undefined || address === undefined || address.trim() === '') {
						throw new ConfigError('host add', '"updock host add NAME ADDRESS" needs a name and an address, e.g. updock host add prod ssh://admin@prod.example');
					}

					if (extra !== undefined) {
						throw new ConfigError('host add', `"updock host add NAME ADDRESS" takes two arguments, not also "${extra}".`);
					}

					if (!hostNamePattern.test(hostName)) {
						throw new ConfigError('host add', `updock host add: "${hostName}" is not a usable host name: letters, digits, ".", "_" and "-", starting with a letter or digit.`);
					}

					const certPath = parsed.flags.certPath === undefined ? undefined : parsed.flags.certPath.trim();
					if (certPath === '') {
						throw new ConfigError('--cert-path', '--cert-path is empty: give the directory with ca.pem, cert.pem and key.pem.');
					}

					return {kind: 'host-add', name: hostName, address: address.trim(), tlsVerify: parsed.flags.tlsVerify === true, certPath: certPath === undefined ? undefined : resolve(certPath)};
				}

				case 'list':
				case 'ls': {
					only({json: true}, 'host list');
					noArguments();
					return {kind: 'host-list', json};
				}

				case 'rm':
				case 'remove': {
					only({}, 'host rm');
					return {kind: 'host-rm', name: argument('a host name', 'host rm NAME')};
				}

				default: {
					throw new ConfigError('host', sub === undefined
						? '"updock host" needs a subcommand: add NAME ADDRESS, list, or rm NAME.'
						: `Unknown subcommand "host ${sub}": use add NAME ADDRESS, list, or rm NAME.`);
				}
			}
		}

		default: {
			throw new ConfigError(name, `Unknown command "${name}". Commands: pin, unpin, pins, exclude, host, dry-run, serve; run "updock --help".`);
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

/** What a duration flag accepts: Go durations within [minMs, maxMs], in whole milliseconds. */
export interface DurationRange {
	readonly minMs: number;
	readonly maxMs: number;
	/** The range as the user reads it, e.g. "from 1s to 8760h". */
	readonly words: string;
	/** Examples for the message. */
	readonly example: string;
}

/** One scan a second at most, one a year at least: the scan loop chains timers past Node's 24.8-day limit. */
export const intervalRange: DurationRange = {minMs: 1000, maxMs: 8760 * 3_600_000, words: 'from 1s to 8760h', example: 'a scan interval such as 6h, 30m or 1h30m'};
/** Tag listings are the most expensive request updock makes: no more often than every minute. */
export const tagsIntervalRange: DurationRange = {minMs: 60_000, maxMs: 8760 * 3_600_000, words: 'from 1m to 8760h', example: 'a listing lifetime such as 6h or 30m'};
/** Below 100 ms no registry answers; above 10 minutes a hung request holds a scan for too long. */
export const timeoutRange: DurationRange = {minMs: 100, maxMs: 600_000, words: 'from 100ms to 10m', example: 'a request timeout such as 15s or 1m'};

/**
 * A Go duration within its range, in whole milliseconds.
 * @throws ConfigError naming `source` for garbage, a value out of range or a fraction of a millisecond.
 */
export function boundedDuration(source: string, text: string, range: DurationRange): number {
	const ms = parseGoDuration(text);
	if (ms === undefined) {
		throw new ConfigError(source, `${source}=${JSON.stringify(text)} is not a Go duration: expected ${range.example}.`);
	}

	if (!Number.isFinite(ms) || ms < range.minMs || ms > range.maxMs) {
		throw new ConfigError(source, `${source}=${JSON.stringify(text)} is out of range: give ${range.words} (${range.example}).`);
	}

	if (!Number.isInteger(ms)) {
		throw new ConfigError(source, `${source}=${JSON.stringify(text)} is not a whole number of milliseconds: give ${range.words}.`);
	}

	return ms;
}

function parseExitCode(value: boolean | string): false | 'updates' | 'newer' {
	if (value === false) {
		return false;
	}

	if (value === true || value === '') {
		return 'updates';
	}

	if (value === 'newer') {
		return 'newer';
	}

	throw new ConfigError('--exit-code', `--exit-code=${JSON.stringify(value)} is not a choice: use --exit-code (exit 2 for updates) or --exit-code=newer (also for newer versions).`);
}

function onOff(source: string, value: string | undefined, fallback: boolean): boolean {
	if (value === undefined) {
		return fallback;
	}

	const text = value.trim().toLowerCase();
	if (text === 'on' || text === 'true' || text === '1') {
		return true;
	}

	if (text === 'off' || text === 'false' || text === '0') {
		return false;
	}

	throw new ConfigError(source, `${source}=${JSON.stringify(value)} must be "on" or "off".`);
}

function nonEmpty(value: string | undefined): string | undefined {
	return value === undefined || value.trim() === '' ? undefined : value.trim();
}

/** Host names: what `--host NAME=...`, `host add NAME` and the JSON `host` field may be. */
export const hostNamePattern = /^[A-Za-z\d][\w.-]{0,62}$/;

function parseHostChoices(hosts: readonly string[], contexts: readonly string[]): HostChoice[] {
	const choices: HostChoice[] = [];
	for (const text of hosts) {
		const equals = text.indexOf('=');
		const name = equals === -1 ? '' : text.slice(0, equals).trim();
		const address = equals === -1 ? '' : text.slice(equals + 1).trim();
		if (!hostNamePattern.test(name) || address === '') {
			throw new ConfigError('--host', `--host ${JSON.stringify(text)} must be NAME=ADDRESS, e.g. --host prod=ssh://admin@prod.example or --host lab=tcp://10.0.0.5:2376 (NAME: letters, digits, ".", "_", "-").`);
		}

		choices.push({kind: 'address', name, address});
	}

	for (const text of contexts) {
		const name = text.trim();
		if (name === '') {
			throw new ConfigError('--context', '--context needs the name of a docker context ("docker context ls" lists them).');
		}

		choices.push({kind: 'context', name});
	}

	const seen = new Set<string>();
	for (const {name} of choices) {
		if (seen.has(name)) {
			throw new ConfigError('--host', `--host/--context: the host name "${name}" is given twice; every host needs its own name.`);
		}

		seen.add(name);
	}

	return choices;
}

function parseConcurrency(text: string): number {
	const value = Number(text);
	if (!/^\d+$/.test(text.trim()) || value < 1 || value > 64) {
		throw new ConfigError('--concurrency', `--concurrency=${JSON.stringify(text)} must be a whole number from 1 to 64 (registry requests in flight per registry).`);
	}

	return value;
}
