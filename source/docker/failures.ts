import {DockerUnavailableError, innermostErrorCode} from '../core/errors.ts';
import type {EngineAddress} from './address.ts';

/** An engine as messages name it. */
export interface EngineTarget {
	/** The host name rows carry: `local`, a context name, a `--host` or saved name. */
	readonly name: string;
	readonly address: EngineAddress;
}

/** Why an ssh:// connection failed before any HTTP was spoken. Thrown by the ssh transport. */
export class SshFailure extends Error {
	override readonly name = 'SshFailure';
	readonly kind: 'host-unknown' | 'host-mismatch' | 'host-revoked' | 'auth' | 'no-key' | 'remote';

	constructor(kind: SshFailure['kind'], message: string, options?: ErrorOptions) {
		super(message, options);
		this.kind = kind;
	}
}

/** `unix:///var/run/docker.sock`, or `ssh://admin@prod (host "prod")` when the engine has a name of its own. */
export function engineWhere(target: EngineTarget): string {
	return target.name === 'local' ? target.address.display : `${target.address.display} (host "${target.name}")`;
}

/** What to check, by what chose the engine. */
export function engineAdvice(target: EngineTarget): string {
	const {origin} = target.address;
	if (origin === 'DOCKER_HOST' || (origin === undefined && target.name === 'local')) {
		return 'Set DOCKER_HOST to its address.';
	}

	if (origin !== undefined) {
		return `Check the ${origin} ("docker context inspect").`;
	}

	return `Check the address given for host "${target.name}".`;
}

/** A byte count as messages give it: `64 MiB`, `512 KiB`. */
export function mib(bytes: number): string {
	return bytes >= 1024 * 1024 ? `${bytes / 1024 / 1024} MiB` : `${bytes / 1024} KiB`;
}

/** A body past its cap. */
export function oversizeFailure(target: EngineTarget, path: string, limit: number): DockerUnavailableError {
	const where = engineWhere(target);
	return new DockerUnavailableError(where, `The Docker engine at ${where} sent more than ${mib(limit)} for ${path}, the most updock reads for it; it stopped reading there. Is this a Docker engine? ${engineAdvice(target)}`);
}

/** An answer that is not JSON, or JSON of another shape than the Engine API's. */
export function malformedFailure(target: EngineTarget, path: string, problem: string): DockerUnavailableError {
	const where = engineWhere(target);
	return new DockerUnavailableError(where, `The Docker engine at ${where} answered ${path} with ${problem}. Is this a Docker engine? ${engineAdvice(target)}`);
}

/** An HTTP status the call does not expect. */
export function statusFailure(target: EngineTarget, path: string, status: number, message: string): DockerUnavailableError {
	const where = engineWhere(target);
	const detail = message === '' ? 'no message' : message.length > 300 ? `${message.slice(0, 300)}…` : message;
	const hint = status === 404 || status < 200 || (status >= 300 && status < 400)
		? ` Something other than a Docker engine answers there. ${engineAdvice(target)}`
		: '';
	return new DockerUnavailableError(where, `The Docker engine at ${where} answered HTTP ${status} for ${path}: ${detail}.${hint}`);
}

/** A failure to talk to the engine (connect, TLS, ssh, a connection that closed, a timeout), in words. */
export function connectionFailure(target: EngineTarget, error: unknown, timedOutAfterMs: number | null): DockerUnavailableError {
	const where = engineWhere(target);
	const advice = engineAdvice(target);
	const fail = (message: string): DockerUnavailableError => new DockerUnavailableError(where, message, {cause: error});
	if (timedOutAfterMs !== null) {
		return fail(`The Docker engine at ${where} did not answer in time (${formatMs(timedOutAfterMs)}). Is it overloaded? Raise --timeout if it is just slow.`);
	}

	if (error instanceof SshFailure) {
		return fail(`Cannot reach the Docker engine at ${where} over ssh: ${error.message}`);
	}

	const code = innermostErrorCode(error);
	const message = error instanceof Error ? error.message : String(error);
	switch (code) {
		case 'ENOENT': {
			return fail(`Cannot reach the Docker engine at ${where}: the socket does not exist. Is dockerd running? ${advice}`);
		}

		case 'ECONNREFUSED': {
			return fail(`Cannot reach the Docker engine at ${where}: connection refused. Is dockerd running? ${advice}`);
		}

		case 'EACCES':
		case 'EPERM': {
			return fail(`Cannot reach the Docker engine at ${where}: permission denied. Run as a member of the docker group, or as root.`);
		}

		case 'ENOTFOUND':
		case 'EAI_AGAIN': {
			return fail(`Cannot reach the Docker engine at ${where}: the host name does not resolve. ${advice}`);
		}

		case 'EHOSTUNREACH':
		case 'ENETUNREACH':
		case 'ETIMEDOUT': {
			return fail(`Cannot reach the Docker engine at ${where}: the host is unreachable (${code}). Is it up, and is the port open? ${advice}`);
		}

		case 'ECONNRESET':
		case 'EPIPE':
		case 'ERR_STREAM_PREMATURE_CLOSE':
		case 'HPE_INVALID_CONSTANT':
		case 'HPE_INVALID_VERSION':
		case 'HPE_INVALID_HEADER_TOKEN': {
			return fail(`The Docker engine at ${where} closed the connection or answered something that is not HTTP (${code}). Is this a Docker engine, and does it expect TLS? ${advice}`);
		}

		default: {
			break;
		}
	}

	if (code !== undefined && isTlsCode(code)) {
		const certs = target.address.kind === 'tcp' && target.address.tls?.ca ? ` (certificates: ${target.address.tls.ca.replace(/\/ca\.pem$/, '')})` : '';
		return fail(`TLS to the Docker engine at ${where} failed: ${message}. Check DOCKER_CERT_PATH or the context's ca.pem, cert.pem and key.pem${certs}, and DOCKER_TLS_VERIFY.`);
	}

	if (message === 'socket hang up') {
		return fail(`The Docker engine at ${where} closed the connection before answering. Is this a Docker engine, and does it expect TLS? ${advice}`);
	}

	return fail(`Cannot reach the Docker engine at ${where}: ${message}. ${advice}`);
}

function isTlsCode(code: string): boolean {
	return code.startsWith('ERR_SSL_') || code.startsWith('ERR_TLS_') || code.includes('CERT') || code.includes('SELF_SIGNED') || code === 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' || code === 'EPROTO';
}

function formatMs(ms: number): string {
	return ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`;
}
