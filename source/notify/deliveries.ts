import {setTimeout as sleep} from 'node:timers/promises';
import {eventKey, type AvailableEvent} from '../core/alerts.ts';
import {describeError} from '../core/errors.ts';
import type {Notifier} from './port.ts';

/** One try of one notifier. */
export interface Attempt {
	readonly channel: Notifier['channel'];
	readonly target: string;
	/** 1 for the first try. */
	readonly attempt: number;
	readonly events: number;
	readonly result: 'success' | 'failure';
	/** Why it failed; null on success. */
	readonly error: string | null;
	/** When the next try is due (ISO); null when none follows. */
	readonly retryAt: string | null;
}

export interface DeliveryOptions {
	readonly notifiers: readonly Notifier[];
	readonly version: string;
	/**
	 * Waits before the retries of a failed notification: three retries within a minute.
	 * @default [2000, 8000, 30000]
	 */
	readonly retryDelaysMs?: readonly number[];
	/** Every try, for the log and the metrics. Should not throw. */
	readonly onAttempt: (attempt: Attempt) => void;
	/** The first notifier that took a batch: its events count as announced. Should not throw. */
	readonly onDelivered: (events: readonly AvailableEvent[]) => Promise<void>;
}

export const defaultRetryDelaysMs: readonly number[] = [2000, 8000, 30_000];

/**
 * Sends each scan's events to every notifier in the background, so a slow or failing receiver never
 * holds up a scan. A failed try is retried with backoff; events whose every delivery failed stay
 * unannounced and are raised again by the next scan. Events still being delivered are not raised twice.
 */
export class Deliveries {
	readonly #options: DeliveryOptions;
	readonly #inFlight = new Set<string>();
	readonly #running = new Set<Promise<void>>();
	readonly #stop = new AbortController();

	constructor(options: DeliveryOptions) {
		this.#options = options;
	}

	/** Whether an event (by `eventKey`) is being delivered right now. */
	inFlight(key: string): boolean {
		return this.#inFlight.has(key);
	}

	/** Start delivering a scan's events; returns at once. */
	deliver(events: readonly AvailableEvent[]): void {
		const fresh = events.filter(event => !this.#inFlight.has(eventKey(event)));
		if (fresh.length === 0 || this.#options.notifiers.length === 0 || this.#stop.signal.aborted) {
			return;
		}

		for (const event of fresh) {
			this.#inFlight.add(eventKey(event));
		}

		const run = this.#deliver(fresh).finally(() => {
			for (const event of fresh) {
				this.#inFlight.delete(eventKey(event));
			}

			this.#running.delete(run);
		});
		this.#running.add(run);
	}

	/** Resolves when every delivery under way has ended. */
	async settled(): Promise<void> {
		while (this.#running.size > 0) {
			await Promise.all(this.#running);
		}
	}

	/** Stop: no more retries; tries in flight are aborted. Undelivered events stay unannounced. */
	async close(): Promise<void> {
		this.#stop.abort();
		await this.settled();
	}

	async #deliver(events: readonly AvailableEvent[]): Promise<void> {
		let announced: Promise<void> | undefined;
		await Promise.all(this.#options.notifiers.map(async notifier => {
			if (await this.#sendWithRetries(notifier, events)) {
				announced ??= this.#options.onDelivered(events);
			}
		}));
		await announced;
	}

	async #sendWithRetries(notifier: Notifier, events: readonly AvailableEvent[]): Promise<boolean> {
		const delays = this.#options.retryDelaysMs ?? defaultRetryDelaysMs;
		const signal = this.#stop.signal;
		const batch = {events, version: this.#options.version};
		for (let attempt = 1; ; attempt++) {
			const base = {channel: notifier.channel, target: notifier.display, attempt, events: events.length};
			try {
				await notifier.send(batch, signal);
				this.#options.onAttempt({...base, result: 'success', error: null, retryAt: null});
				return true;
			} catch (error) {
				const delay = signal.aborted ? undefined : delays[attempt - 1];
				this.#options.onAttempt({...base, result: 'failure', error: describeError(error), retryAt: delay === undefined ? null : new Date(Date.now() + delay).toISOString()});
				if (delay === undefined) {
					return false;
				}

				try {
					await sleep(delay, undefined, {signal});
				} catch {
					return false;
				}
			}
		}
	}
}
