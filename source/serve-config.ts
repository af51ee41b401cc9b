import {isAbsolute} from 'node:path';
import {ConfigError} from './core/errors.ts';
import {isLoopbackRegistry} from './core/reference.ts';
import {parseNotifyUrl, type NotifyTarget} from './notify/url.ts';

/** Where `serve` listens. */
export type ListenAddress =
	| {readonly kind: 'tcp'; readonly host: string; readonly port: number; readonly loopback: boolean; readonly display: string}
	| {readonly kind: 'unix'; readonly path: string; readonly display: string};

export const logLevels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace'] as const;
export type LogLevel = typeof logLevels[number];

/** How the API token is given: in the environment, or in a file read when `serve` starts. */
export type TokenSource =
	| {readonly kind: 'none'}
	| {readonly kind: 'env'; readonly token: string}
	| {readonly kind: 'file'; readonly path: string};

/** `updock serve` and its settings. */
export interface ServeCommand {
	readonly kind: 'serve';
	/** @default 127.0.0.1:8080 */
	readonly listen: ListenAddress;
	readonly notify: readonly NotifyTarget[];
	/** @default info */
	readonly logLevel: LogLevel;
	readonly token: TokenSource;
	/** UPDOCK_WEBHOOK_SECRET: signs webhook bodies when set. */
	readonly webhookSecret: string | undefined;
}

/** The flags only `serve` takes, as meow parsed them. */
export interface ServeFlags {
	readonly listen?: string | undefined;
	readonly notify?: readonly string[] | undefined;
	readonly logLevel?: string | undefined;
	readonly apiTokenFile?: string | undefined;
}

export const defaultListen = '127.0.0.1:8080';

/**
 * `updock serve`'s flags and environment. Pure: the token file is read when `serve` starts.
 * @throws ConfigError naming the flag or variable at fault.
 */
export function parseServeCommand(flags: ServeFlags, env: Readonly<Record<string, string | undefined>>): ServeCommand {
	const listenSource = flags.listen === undefined ? 'UPDOCK_LISTEN' : '--listen';
	const listen = parseListen(flags.listen ?? nonEmpty(env['UPDOCK_LISTEN']) ?? defaultListen, listenSource);
	const notifySource = flags.notify !== undefined && flags.notify.length > 0 ? '--notify' : 'UPDOCK_NOTIFY';
	const notifyTexts = notifySource === '--notify' ? flags.notify ?? [] : (env['UPDOCK_NOTIFY'] ?? '').split(/\s+/).filter(Boolean);
	const notify = notifyTexts.map(text => parseNotifyUrl(text, notifySource));
	const logLevel = flags.logLevel === undefined ? 'info' : parseLogLevel(flags.logLevel);
	let token: TokenSource = {kind: 'none'};
	if (flags.apiTokenFile !== undefined) {
		if (flags.apiTokenFile.trim() === '') {
			throw new ConfigError('--api-token-file', '--api-token-file is empty: give the path of a file holding the API token.');
		}

		token = {kind: 'file', path: flags.apiTokenFile};
	} else if (env['UPDOCK_API_TOKEN'] !== undefined) {
		const value = env['UPDOCK_API_TOKEN'].trim();
		if (value === '') {
			throw new ConfigError('UPDOCK_API_TOKEN', 'UPDOCK_API_TOKEN is set but empty: give a token, or unset it.');
		}

		token = {kind: 'env', token: value};
	}

	if (listen.kind === 'tcp' && !listen.loopback && token.kind === 'none') {
		throw new ConfigError(listenSource, `${listenSource}=${listen.display} is reachable from other machines: set UPDOCK_API_TOKEN (or --api-token-file) so the API asks for a token, or listen on a loopback address such as ${defaultListen}.`);
	}

	const secret = env['UPDOCK_WEBHOOK_SECRET'];
	return {kind: 'serve', listen, notify, logLevel, token, webhookSecret: secret === undefined || secret === '' ? undefined : secret};
}

/** @throws ConfigError naming the first serve-only flag given to another command. */
export function rejectServeFlags(flags: ServeFlags, command: string): void {
	const given = [
		flags.listen === undefined ? undefined : '--listen',
		flags.notify === undefined || flags.notify.length === 0 ? undefined : '--notify',
		flags.logLevel === undefined ? undefined : '--log-level',
		flags.apiTokenFile === undefined ? undefined : '--api-token-file',
	].find(Boolean);
	if (given !== undefined) {
		throw new ConfigError(given, `${given} goes with "updock serve", not with "${command}".`);
	}
}

/** `host:port`, `[v6]:port` or `unix:///absolute/path`. */
export function parseListen(text: string, source: string): ListenAddress {
	const value = text.trim();
	if (value.startsWith('unix://')) {
		const path = value.slice('unix://'.length);
		if (!isAbsolute(path) || path.endsWith('/')) {
			throw new ConfigError(source, `${source}=${JSON.stringify(text)} needs an absolute socket path, like unix:///run/updock.sock.`);
		}

		return {kind: 'unix', path, display: value};
	}

	const match = /^(\[[\da-f:.]+\]|[\w.-]+):(\d{1,5})$/i.exec(value);
	const port = match === null ? Number.NaN : Number(match[2]);
	if (match === null || !Number.isInteger(port) || port < 1 || port > 65_535) {
		throw new ConfigError(source, `${source}=${JSON.stringify(text)} is not an address to listen on: give host:port (port 1-65535), like ${defaultListen} or [::1]:8080, or unix:///path/to/updock.sock.`);
	}

	const host = match[1]!;
	return {kind: 'tcp', host: host.replace(/^\[|\]$/g, ''), port, loopback: isLoopbackRegistry(host), display: `${host}:${port}`};
}

function parseLogLevel(text: string): LogLevel {
	const level = logLevels.find(candidate => candidate === text.trim().toLowerCase());
	if (level === undefined) {
		throw new ConfigError('--log-level', `--log-level=${JSON.stringify(text)} is not a log level: use one of ${logLevels.join(', ')}.`);
	}

	return level;
}

function nonEmpty(value: string | undefined): string | undefined {
	return value === undefined || value.trim() === '' ? undefined : value;
}
