import type {Readable} from 'node:stream';
import {StringDecoder} from 'node:string_decoder';
import type Dockerode from 'dockerode';
import {describeError} from '../core/errors.ts';
import type {EngineAddress} from './address.ts';
import {DockerEngine} from './engine.ts';
import {engineLimits} from './engine-api.ts';
import {engineWhere} from './failures.ts';
import {nodeStream} from './modem.ts';

export interface EngineEvent {
	readonly type: 'container' | 'image' | 'service';
	readonly action: string;
	readonly id: string;
}

export type WatchStatus =
	| {readonly status: 'connected'}
	| {readonly status: 'unreachable'; readonly message: string; readonly retryAt: Date};

export interface WatchOptions {
	readonly signal: AbortSignal;
	readonly onEvent: (event: EngineEvent) => void;
	readonly onStatus: (status: WatchStatus) => void;
	/** An event line past the 1 MiB cap was skipped (the stream goes on). */
	readonly onDropped?: (message: string) => void;
}

const interesting = ['create', 'start', 'restart', 'die', 'stop', 'kill', 'pause', 'unpause', 'destroy', 'rename', 'update', 'remove', 'pull', 'tag', 'untag', 'delete', 'import', 'load'];
const firstRetryMs = 1000;
const maxRetryMs = 30_000;
/** Connecting to the event stream; once connected it has no timeout (it is quiet while nothing happens). */
const connectTimeoutMs = 10_000;

/**
 * Follow an engine's event stream (containers, images, and services on a Swarm manager). When it fails
 * or ends (the engine went away), report it and reconnect with exponential backoff until `signal` aborts.
 * Given an address rather than an engine, it connects on its own and closes that connection at the end.
 */
export async function watchEngine(engine: DockerEngine | {readonly name: string; readonly address: EngineAddress}, options: WatchOptions): Promise<void> {
	const watched = engine instanceof DockerEngine ? engine : new DockerEngine({name: engine.name, address: engine.address, timeoutMs: connectTimeoutMs});
	const own = watched === engine ? undefined : watched;

	const filters: Dockerode.GetEventsOptions['filters'] = {type: ['container', 'image', 'service'], event: interesting};
	const where = engineWhere(watched.target);
	let delay = firstRetryMs;
	try {
		while (!options.signal.aborted) {
			let problem: string;
			try {
				const docker = await watched.dockerode();
				const stream = nodeStream(await docker.getEvents({filters, abortSignal: options.signal}));
				options.onStatus({status: 'connected'});
				delay = firstRetryMs;
				problem = await follow(stream, where, options);
			} catch (error) {
				problem = describeError(error).replace(/\.$/, '');
			}

			if (options.signal.aborted) {
				return;
			}

			options.onStatus({status: 'unreachable', message: `Lost the Docker engine at ${where}: ${problem}.`, retryAt: new Date(Date.now() + delay)});
			await sleep(delay, options.signal);
			delay = Math.min(delay * 2, maxRetryMs);
		}
	} finally {
		await own?.close().catch(() => undefined);
	}
}

/** Read newline-delimited JSON events until the stream ends; returns why it ended. */
async function follow(stream: Readable, where: string, options: WatchOptions): Promise<string> {
	return new Promise(resolve => {
		// Multi-byte characters split across chunks stay whole.
		const decoder = new StringDecoder('utf8');
		let line = '';
		let lineBytes = 0;
		let dropping = false;
		const finish = (why: string): void => {
			options.signal.removeEventListener('abort', stop);
			resolve(why);
		};

		const stop = (): void => {
			stream.destroy();
			finish('stopped');
		};

		options.signal.addEventListener('abort', stop, {once: true});
		stream.on('data', (chunk: Buffer | string) => {
			const text = typeof chunk === 'string' ? chunk : decoder.write(chunk);
			let start = 0;
			for (;;) {
				const newline = text.indexOf('\n', start);
				const piece = newline === -1 ? text.slice(start) : text.slice(start, newline);
				if (!dropping) {
					lineBytes += Buffer.byteLength(piece);
					if (lineBytes > engineLimits.eventLine) {
						// The line is not kept growing: what came is dropped, the rest skipped up to its end.
						dropping = true;
						line = '';
						options.onDropped?.(`An event from the Docker engine at ${where} was longer than ${engineLimits.eventLine / 1024 / 1024} MiB and was skipped.`);
					} else {
						line += piece;
					}
				}

				if (newline === -1) {
					break;
				}

				if (!dropping) {
					const event = parseEvent(line.trim());
					if (event !== undefined) {
						options.onEvent(event);
					}
				}

				line = '';
				lineBytes = 0;
				dropping = false;
				start = newline + 1;
			}
		});
		stream.on('error', (error: Error) => {
			finish(error.message);
		});
		stream.on('end', () => {
			finish('the event stream ended');
		});
	});
}

export function parseEvent(line: string): EngineEvent | undefined {
	if (line === '') {
		return undefined;
	}

	let raw: unknown;
	try {
		raw = JSON.parse(line);
	} catch {
		// A line that is not an event (a proxy's keep-alive, say) is not worth stopping for.
		return undefined;
	}

	if (typeof raw !== 'object' || raw === null) {
		return undefined;
	}

	const type = 'Type' in raw ? raw.Type : undefined;
	const action = 'Action' in raw && typeof raw.Action === 'string' ? raw.Action.split(':')[0]! : undefined;
	const actor = 'Actor' in raw && typeof raw.Actor === 'object' && raw.Actor !== null && 'ID' in raw.Actor ? raw.Actor.ID : undefined;
	const legacyId = 'id' in raw ? raw.id : undefined;
	const id = typeof actor === 'string' ? actor : typeof legacyId === 'string' ? legacyId : '';
	if ((type === 'container' || type === 'image' || type === 'service') && action !== undefined) {
		return {type, action, id};
	}

	return undefined;
}

async function sleep(ms: number, signal: AbortSignal): Promise<void> {
	await new Promise<void>(resolve => {
		const timer = setTimeout(done, ms);
		function done(): void {
			clearTimeout(timer);
			signal.removeEventListener('abort', done);
			resolve();
		}

		signal.addEventListener('abort', done, {once: true});
	});
}
