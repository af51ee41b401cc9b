import type {Readable} from 'node:stream';
import {Client} from 'undici';
import {DockerUnavailableError, innermostErrorCode} from '../core/errors.ts';
import type {EngineAddress} from './address.ts';

/** An answer of the engine other than 2xx: `statusCode` and its message. */
export class EngineHttpError extends Error {
	override readonly name = 'EngineHttpError';
	readonly statusCode: number;

	constructor(statusCode: number, message: string) {
		super(message);
		this.statusCode = statusCode;
	}
}

/**
 * The few Docker Engine API calls updock makes (list, inspect, info, events), as JSON over the unix
 * socket or TCP with undici, which the registry client loads anyway. dockerode did this too, but its
 * import alone (docker-modem, ssh2, tar-fs, grpc) took 170 ms of a 200 ms start-up budget.
 */
export class EngineApi {
	readonly address: EngineAddress;
	readonly #client: Client;
	readonly #timeoutMs: number;

	constructor(address: EngineAddress, timeoutMs: number) {
		this.address = address;
		this.#timeoutMs = timeoutMs;
		this.#client = address.kind === 'unix'
			? new Client('http://docker', {socketPath: address.socketPath, headersTimeout: timeoutMs, bodyTimeout: timeoutMs, connections: 8} as Client.Options)
			: new Client(`http://${address.host.includes(':') ? `[${address.host}]` : address.host}:${address.port}`, {headersTimeout: timeoutMs, bodyTimeout: timeoutMs});
	}

	/** GET a JSON document. @throws DockerUnavailableError, EngineHttpError */
	async get<T>(path: string): Promise<T> {
		let response;
		try {
			response = await this.#client.request({method: 'GET', path, signal: AbortSignal.timeout(this.#timeoutMs)});
		} catch (error) {
			throw engineError(this.address, error);
		}

		const text = await response.body.text();
		if (response.statusCode < 200 || response.statusCode >= 300) {
			let message = text.trim();
			try {
				message = (JSON.parse(text) as {message?: string}).message ?? message;
			} catch {
				// Not JSON: the text is the message.
			}

			throw new EngineHttpError(response.statusCode, message);
		}

		return JSON.parse(text) as T;
	}

	/** A streaming GET (the event stream): no body timeout, ended by `signal`. */
	async stream(path: string, signal: AbortSignal): Promise<Readable> {
		let response;
		try {
			response = await this.#client.request({method: 'GET', path, signal, bodyTimeout: 0});
		} catch (error) {
			throw engineError(this.address, error);
		}

		if (response.statusCode !== 200) {
			const text = await response.body.text();
			throw new EngineHttpError(response.statusCode, text.trim());
		}

		return response.body;
	}

	async close(): Promise<void> {
		await this.#client.close();
	}
}

/** A failure to talk to the engine, in words that name its address and what to do. */
export function engineError(address: EngineAddress, error: unknown): DockerUnavailableError {
	const where = address.display;
	const code = innermostErrorCode(error);
	const message = error instanceof Error ? error.message : String(error);
	switch (code) {
		case 'ENOENT': {
			return new DockerUnavailableError(where, `Cannot reach the Docker engine at ${where}: the socket does not exist. Is dockerd running? Set DOCKER_HOST to its address.`, {cause: error});
		}

		case 'ECONNREFUSED': {
			return new DockerUnavailableError(where, `Cannot reach the Docker engine at ${where}: connection refused. Is dockerd running? Set DOCKER_HOST to its address.`, {cause: error});
		}

		case 'EACCES': {
			return new DockerUnavailableError(where, `Cannot reach the Docker engine at ${where}: permission denied. Run as a member of the docker group, or as root.`, {cause: error});
		}

		case 'UND_ERR_HEADERS_TIMEOUT':
		case 'UND_ERR_BODY_TIMEOUT':
		case 'UND_ERR_CONNECT_TIMEOUT':
		case 'ABORT_ERR': {
			return new DockerUnavailableError(where, `The Docker engine at ${where} did not answer in time. Is it overloaded? Raise --timeout if it is just slow.`, {cause: error});
		}

		default: {
			return new DockerUnavailableError(where, `Cannot reach the Docker engine at ${where}: ${message}.`, {cause: error});
		}
	}
}
