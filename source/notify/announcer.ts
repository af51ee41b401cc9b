import {eventKey, raisedEvents, type AnnouncedLookup, type AvailableEvent} from '../core/alerts.ts';
import {describeError} from '../core/errors.ts';
import type {ContainerResult} from '../core/types.ts';
import type {Deliveries} from './deliveries.ts';

/** The log lines the announcer writes (a pino logger fits). */
export interface AnnouncerLog {
	info(fields: object, message: string): void;
	debug(fields: object, message: string): void;
	error(fields: object, message: string): void;
}

export interface AnnouncerOptions {
	/** What the JSON file says was announced, read afresh for every scan. */
	readonly announced: () => Promise<AnnouncedLookup>;
	/** Record events a channel took. May throw StoreError. */
	readonly markAnnounced: (events: readonly AvailableEvent[]) => Promise<void>;
	readonly deliveries: Deliveries;
	/** Some notifier is configured; without one nothing is raised, so the first scan with one announces what is pending. */
	readonly enabled: boolean;
	readonly log: AnnouncerLog;
}

/**
 * After each scan: raises the `available` events its results bring and hands them to the notifiers;
 * marks them announced once a channel took them. Events still being delivered are not raised twice.
 */
export class Announcer {
	readonly #options: AnnouncerOptions;
	/** When each undelivered event was first raised, so raising it again after the next scan keeps that time. */
	readonly #firstSeen = new Map<string, string>();
	#checking: Promise<void> = Promise.resolve();

	constructor(options: AnnouncerOptions) {
		this.#options = options;
	}

	/** Work out what scan `scanId` raised and start delivering it; one scan at a time, in order. */
	async afterScan(scanId: string, results: readonly ContainerResult[]): Promise<void> {
		if (!this.#options.enabled) {
			return;
		}

		this.#checking = this.#checking.then(async () => {
			const {log, deliveries} = this.#options;
			try {
				const announced = await this.#options.announced();
				const events = raisedEvents(results, announced, new Date(), key => this.#firstSeen.get(key)).filter(event => !deliveries.inFlight(eventKey(event)));
				if (events.length === 0) {
					log.debug({scanId, events: 0}, `Scan ${scanId} raised nothing new to announce`);
					return;
				}

				for (const event of events) {
					if (!this.#firstSeen.has(eventKey(event))) {
						this.#firstSeen.set(eventKey(event), event.detectedAt);
					}
				}

				log.info({scanId, events: events.map(event => ({host: event.host, container: event.container.name, image: event.container.image, remoteDigest: event.remoteDigest, newer: event.newer?.at(-1)?.tag ?? null}))}, `${events.length} new update${events.length === 1 ? '' : 's'} available`);
				deliveries.deliver(events);
			} catch (error) {
				log.error({scanId, error: describeError(error)}, `Could not work out what to announce: ${describeError(error)}`);
			}
		});
		await this.#checking;
	}

	/** A channel took these events: remember them as announced. */
	async delivered(events: readonly AvailableEvent[]): Promise<void> {
		try {
			await this.#options.markAnnounced(events);
			for (const event of events) {
				this.#firstSeen.delete(eventKey(event));
			}
		} catch (error) {
			this.#options.log.error({error: describeError(error)}, `Delivered, but could not record it in the JSON file; the next scan may announce it again: ${describeError(error)}`);
		}
	}

	/** Wait for the last scan's check, then stop delivering (undelivered events stay unannounced). */
	async close(): Promise<void> {
		await this.#checking;
		await this.#options.deliveries.close();
	}
}
