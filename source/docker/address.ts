import {homedir} from 'node:os';
import {join} from 'node:path';
import {currentContextName, resolveContext} from './contexts.ts';

export {resolveContext} from './contexts.ts';

/** TLS towards an engine, as `DOCKER_TLS_VERIFY`/`DOCKER_CERT_PATH` or a context's TLS material give it. */
export interface EngineTls {
	/** Check the engine's certificate (against `ca`, else the system roots); false for a context with SkipTLSVerify. */
	readonly verify: boolean;
	/** Paths of PEM files; null when not given (system roots, no client certificate). */
	readonly ca: string | null;
	readonly cert: string | null;
	readonly key: string | null;
}

interface AddressBase {
	/** As the user would write it: `unix:///var/run/docker.sock`, `tcp://host:2376`, `ssh://user@host:22`. */
	readonly display: string;
	/**
	 * What chose this engine, for advice in error messages: `DOCKER_HOST`, `docker context "prod"`.
	 * Absent for an address given with `--host` or saved with `updock host add`.
	 */
	readonly origin?: string | undefined;
}

/** Where an engine is, as the docker CLI understands DOCKER_HOST and context endpoints. */
export type EngineAddress =
	| AddressBase & {readonly kind: 'unix'; readonly socketPath: string}
	| AddressBase & {readonly kind: 'tcp'; readonly host: string; readonly port: number; readonly tls: EngineTls | null}
	/** `user` null: the local user name, as ssh does. */
	| AddressBase & {readonly kind: 'ssh'; readonly host: string; readonly port: number; readonly user: string | null};

export const defaultSocketAddress = 'unix:///var/run/docker.sock';

/** What the docker CLI reads from the environment to find its engine. */
export interface DockerEnvironment {
	readonly dockerHost: string | undefined;
	readonly dockerContext: string | undefined;
	/** DOCKER_TLS_VERIFY is set (to anything but the empty string). */
	readonly tlsVerify: boolean;
	readonly certPath: string | undefined;
	/** $DOCKER_CONFIG, default ~/.docker: config.json, contexts/, and the default DOCKER_CERT_PATH. */
	readonly dockerConfigDir: string;
}

export interface AddressOptions {
	/** TLS with verification for a `tcp://` address (`DOCKER_TLS_VERIFY=1`, `--tls-verify`). @default false */
	readonly tlsVerify?: boolean | undefined;
	/** Directory of ca.pem, cert.pem and key.pem. @default defaultCertPath */
	readonly certPath?: string | undefined;
	/** Where the certificates are when `certPath` is not given. @default ~/.docker */
	readonly defaultCertPath?: string | undefined;
	readonly origin?: string | undefined;
}

/**
 * Parse an engine address as DOCKER_HOST takes it: `unix:///path`, `tcp://host[:port]` (TLS with
 * `tlsVerify`), `ssh://[user@]host[:port]`. Reads no file: TLS material is read when connecting.
 */
export function parseEngineAddress(value: string, options: AddressOptions = {}): EngineAddress | {error: string} {
	const text = value.trim();
	const origin = options.origin;
	if (text.startsWith('unix://')) {
		const socketPath = text.slice('unix://'.length);
		if (!socketPath.startsWith('/')) {
			return {error: `${text} needs an absolute socket path, like ${defaultSocketAddress}.`};
		}

		return {kind: 'unix', socketPath, display: text, origin};
	}

	const scheme = /^([a-z][a-z\d+.-]*):\/\//i.exec(text)?.[1]?.toLowerCase();
	if (scheme === 'tcp' || scheme === 'http' || scheme === 'https' || scheme === 'ssh') {
		let url: URL;
		try {
			// A scheme of no special meaning to WHATWG URL keeps an explicit port, even 80 or 443.
			url = new URL(`${scheme === 'ssh' ? 'ssh' : 'tcp'}://${text.slice(scheme.length + 3)}`);
		} catch {
			return {error: `${text} is not a valid address: use tcp://host:port or ssh://user@host[:port].`};
		}

		if (url.port === '0') {
			return {error: `${text} has port 0; give the port the engine listens on.`};
		}

		if ((url.pathname !== '/' && url.pathname !== '') || url.search !== '' || url.hash !== '') {
			return {error: `${text} has a path or query after the host; give only ${scheme}://${scheme === 'ssh' ? 'user@' : ''}host:port.`};
		}

		const host = url.hostname.replace(/^\[|\]$/g, '');
		if (host === '') {
			return {error: `${text} has no host name.`};
		}

		if (scheme === 'ssh') {
			if (url.password !== '') {
				return {error: `${text} contains a password; ssh:// engines log in with a key (ssh-agent or ~/.ssh), never a password in the address.`};
			}

			const port = url.port === '' ? 22 : Number(url.port);
			const user = url.username === '' ? null : decodeURIComponent(url.username);
			return {kind: 'ssh', host, port, user, display: `ssh://${user === null ? '' : `${user}@`}${url.host}`, origin};
		}

		if (url.username !== '' || url.password !== '') {
			return {error: `${text} contains a user name; only ssh:// addresses have one.`};
		}

		const tlsWanted = options.tlsVerify === true || scheme === 'https';
		// The docker CLI's default port, with or without TLS.
		const port = url.port === '' ? 2375 : Number(url.port);
		const certPath = options.certPath ?? options.defaultCertPath ?? join(homedir(), '.docker');
		const tls: EngineTls | null = tlsWanted
			? {verify: true, ca: join(certPath, 'ca.pem'), cert: join(certPath, 'cert.pem'), key: join(certPath, 'key.pem')}
			: null;
		return {kind: 'tcp', host, port, tls, display: `tcp://${url.hostname}:${port}`, origin};
	}

	return {error: `${text} is not supported: use unix:///path/to/docker.sock, tcp://host:port or ssh://user@host.`};
}

/**
 * The engine the docker CLI would use with this environment: DOCKER_HOST (named `local`), else
 * DOCKER_CONTEXT, else `currentContext` of config.json (named after the context), else the default
 * socket. A context named `default` is the default engine.
 */
export function resolveDefaultEngine(env: DockerEnvironment): {name: string; address: EngineAddress} | {error: string; source: string} {
	if (env.dockerHost !== undefined && env.dockerHost.trim() !== '') {
		const address = parseEngineAddress(env.dockerHost, {tlsVerify: env.tlsVerify, certPath: env.certPath, defaultCertPath: env.dockerConfigDir, origin: 'DOCKER_HOST'});
		return 'error' in address ? {error: `DOCKER_HOST=${address.error}`, source: 'DOCKER_HOST'} : {name: 'local', address};
	}

	let context: {name: string; source: string} | undefined;
	if (env.dockerContext !== undefined && env.dockerContext.trim() !== '') {
		context = {name: env.dockerContext.trim(), source: 'DOCKER_CONTEXT'};
	} else {
		const current = currentContextName(env.dockerConfigDir);
		if (typeof current === 'object') {
			return current;
		}

		if (current !== undefined) {
			context = {name: current, source: join(env.dockerConfigDir, 'config.json')};
		}
	}

	if (context !== undefined && context.name !== 'default') {
		const address = resolveContext(context.name, env.dockerConfigDir);
		return 'error' in address ? {error: `${context.source === 'DOCKER_CONTEXT' ? 'DOCKER_CONTEXT' : `The current context in ${context.source}`}: ${address.error}`, source: context.source} : {name: context.name, address};
	}

	const address = parseEngineAddress(defaultSocketAddress, {origin: 'DOCKER_HOST'});
	return 'error' in address ? {error: address.error, source: 'DOCKER_HOST'} : {name: 'local', address};
}
