import type {EngineAddress} from './address.ts';
import {EngineApi} from './engine-api.ts';

export interface EngineEvent {
	readonly type: 'container' | 'image';
	readonly action: string;
	readonly id: string;
}

export type WatchStatus =
	| {readonly status: 'connected'}
	| {readonly status: 'unreachable'; readonly message: string; readonly retryAt: Date};

const interesting = ['create', 'start', 'restart', 'die', 'stop', 'kill', 'pause', 'unpause', 'destroy', 'rename', 'update', 'pull', 'tag', 'untag', 'delete', 'import', 'load'];
const firstRetryMs = 1000;
const maxRetryMs = 30_000;

/**
 * Follow the engine's event stream. When it fails or ends (the engine went away), report it and
 * reconnect with exponential backoff until `signal` aborts.
 */
export async function watchEngine(address: EngineAddress, options: {
	readonly signal: AbortSignal;
	readonly onEvent: (event: EngineEvent) => void;
	readonly onStatus: (status: WatchStatus) => void;
}): Promise<void> {
	const api = new EngineApi(address, 10_000);
	const path = `/events?filters=${encodeURIComponent(JSON.stringify({type: ['container', 'image'], event: interesting}))}`;
	let delay = firstRetryMs;
	while (!options.signal.aborted) {
		let problem: string;
		try {
			// The event stream is quiet for as long as nothing happens: it has no body timeout.
			const stream = await api.stream(path, options.signal);
			options.onStatus({status: 'connected'});
			delay = firstRetryMs;
			problem = await follow(stream, options);
		} catch (error) {
			problem = (error as Error).message ?? String(error);
		}

		if (options.signal.aborted) {
			await api.close().catch(() => undefined);
			return;
		}

		options.onStatus({status: 'unreachable', message: `Lost the Docker engine at ${address.display}: ${problem}.`, retryAt: new Date(Date.now() + delay)});
		await sleep(delay, options.signal);
		delay = Math.min(delay * 2, maxRetryMs);
	}

	await api.close().catch(() => undefined);
}

/** Read newline-delimited JSON events until the stream ends; returns why it ended. */
async function follow(stream: NodeJS.ReadableStream, options: {signal: AbortSignal; onEvent: (event: EngineEvent) => void}): Promise<string> {
	return new Promise(resolve => {
		let buffer = '';
		const stop = (): void => {
			(stream as NodeJS.ReadableStream & {destroy?: () => void}).destroy?.();
			resolve('stopped');
		};

		options.signal.addEventListener('abort', stop, {once: true});
		stream.on('data', (chunk: Buffer | string) => {
			buffer += chunk.toString();
			let newline = buffer.indexOf('\n');
			while (newline !== -1) {
				const line = buffer.slice(0, newline).trim();
				buffer = buffer.slice(newline + 1);
				newline = buffer.indexOf('\n');
				const event = parseEvent(line);
				if (event !== undefined) {
					options.onEvent(event);
				}
			}
		});
		stream.on('error', (error: Error) => {
			options.signal.removeEventListener('abort', stop);
			resolve(error.message);
		});
		stream.on('end', () => {
			options.signal.removeEventListener('abort', stop);
			resolve('the event stream ended');
		});
	});
}

export function parseEvent(line: string): EngineEvent | undefined {
	if (line === '') {
		return undefined;
	}

	try {
		const raw = JSON.parse(line) as {Type?: unknown; Action?: unknown; Actor?: {ID?: unknown}; id?: unknown};
		const type = raw.Type;
		const action = typeof raw.Action === 'string' ? raw.Action.split(':')[0]! : undefined;
		const id = typeof raw.Actor?.ID === 'string' ? raw.Actor.ID : typeof raw.id === 'string' ? raw.id : '';
		if ((type === 'container' || type === 'image') && action !== undefined) {
			return {type, action, id};
		}
	} catch {
		// A line that is not an event (a proxy's keep-alive, say) is not worth stopping for.
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
