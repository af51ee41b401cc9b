import {randomUUID} from 'node:crypto';
import type {LiveModel} from './live-model.ts';
import type {Scanner, ScanOutcome} from './scanner.ts';

/** A scan the loop runs or has queued: its id, and whether it checks only a few containers. */
export interface ScanTicket {
	readonly id: string;
	readonly partial: boolean;
}

/** A scan that has begun. */
export interface ScanStart extends ScanTicket {
	readonly startedAt: Date;
}

/** How a scan ended: with an outcome (saved), or with the error that stopped it (`aborted` on shutdown). */
export type ScanEnd = ScanStart & {readonly finishedAt: Date} & (
	| {readonly outcome: ScanOutcome; readonly error?: undefined}
	| {readonly outcome?: undefined; readonly error: unknown; readonly aborted: boolean}
);

export interface ScanLoopOptions {
	readonly scanner: Pick<Scanner, 'scan'>;
	readonly model: LiveModel;
	/** Time from the end of one full scan to the start of the next; any length up to a year. */
	readonly intervalMs: number;
	/** Save what a scan found; `partial` for a scan of a few containers. Should not throw. */
	readonly persist: (outcome: ScanOutcome, partial: boolean) => Promise<void>;
	/** A scan that could not run (the engine went away). */
	readonly onScanError: (error: unknown) => void;
	/** A scan begins (after the previous one ended: they never overlap). Should not throw. */
	readonly onStarted?: (scan: ScanStart) => void;
	/** A scan ended, after `persist`. Should not throw. */
	readonly onFinished?: (scan: ScanEnd) => void;
	/** @default crypto.randomUUID */
	readonly newScanId?: () => string;
}

/** What asking for a full scan did: started one, found one running that covers it, or queued one after a partial scan. */
export type ScanRequest = {readonly id: string; readonly state: 'started' | 'absorbed' | 'queued'};

/**
 * Scans once at start, then every interval (lazydocker's goEvery). Two scans never overlap: a scan
 * requested while one runs is absorbed by it, and containers to check are queued until it ends.
 * Everything stops with the one AbortSignal given to `start`.
 */
export class ScanLoop {
	readonly #options: ScanLoopOptions;
	#signal: AbortSignal | undefined;
	#current: ScanTicket | undefined;
	/** The running scan has its results and is saving them. */
	#saving = false;
	#runPromise: Promise<void> = Promise.resolve();
	#timer: LongTimer | undefined;
	readonly #pending = new Set<string>();
	/** The id a full scan asked for during a partial scan will have. */
	#queuedFullId: string | undefined;

	constructor(options: ScanLoopOptions) {
		this.#options = options;
	}

	start(signal: AbortSignal): void {
		this.#signal = signal;
		signal.addEventListener('abort', () => {
			this.#disarm();
		}, {once: true});
		this.#launch(undefined);
	}

	/** A full scan now; `absorbed` when one is already running (it is the scan asked for). */
	requestScan(): 'started' | 'absorbed' {
		return this.requestFullScan().state === 'started' ? 'started' : 'absorbed';
	}

	/**
	 * A full scan now, with the id to follow it by. A full scan already running covers the request;
	 * during a partial scan, one full scan is queued to run right after it (asking again gives the same id).
	 */
	requestFullScan(): ScanRequest {
		const current = this.#current;
		if (current === undefined) {
			const id = this.#newId();
			this.#launch(undefined, id);
			return {id, state: 'started'};
		}

		// A full scan that is still asking covers the request; one that is only saving its results has
		// already read the engines and registries, so the request gets a scan of its own right after.
		if (!current.partial && !this.#saving) {
			return {id: current.id, state: 'absorbed'};
		}

		this.#queuedFullId ??= this.#newId();
		return {id: this.#queuedFullId, state: 'queued'};
	}

	/**
	 * A full scan as soon as the running one ends (the engine came back, so the running one may have
	 * missed everything).
	 */
	scanSoon(): void {
		if (this.#current === undefined) {
			this.#launch(undefined);
		} else {
			this.#queuedFullId ??= this.#newId();
		}
	}

	/** Check these containers (new or recreated, or just unpinned) without waiting for the interval. */
	checkContainers(ids: Iterable<string>): void {
		for (const id of ids) {
			this.#pending.add(id);
		}

		if (this.#current === undefined && this.#pending.size > 0) {
			this.#launch(this.#takePending());
		}
	}

	get running(): boolean {
		return this.#current !== undefined;
	}

	/** The scan running now, if any. */
	get current(): ScanTicket | undefined {
		return this.#current;
	}

	/** Resolves when the running scan (if any) has ended and been saved; after an abort, when the loop is still. */
	async idle(): Promise<void> {
		for (let promise = this.#runPromise; ; promise = this.#runPromise) {
			await promise;
			if (promise === this.#runPromise) {
				return;
			}
		}
	}

	#newId(): string {
		return (this.#options.newScanId ?? randomUUID)();
	}

	#launch(only: ReadonlySet<string> | undefined, id = this.#newId()): void {
		this.#runPromise = this.#run(only, id);
	}

	async #run(only: ReadonlySet<string> | undefined, id: string): Promise<void> {
		const signal = this.#signal;
		if (signal === undefined || signal.aborted) {
			return;
		}

		const ticket: ScanStart = {id, partial: only !== undefined, startedAt: new Date()};
		this.#current = ticket;
		if (only === undefined) {
			this.#disarm();
		}

		this.#options.onStarted?.(ticket);
		try {
			const outcome = await this.#options.scanner.scan(signal, only);
			this.#saving = true;
			await this.#options.persist(outcome, only !== undefined);
			this.#saving = false;
			this.#current = undefined;
			this.#options.onFinished?.({...ticket, finishedAt: new Date(), outcome});
		} catch (error) {
			this.#saving = false;
			this.#current = undefined;
			this.#options.onFinished?.({...ticket, finishedAt: new Date(), error, aborted: signal.aborted});
			if (signal.aborted) {
				return;
			}

			this.#options.model.scanFailed();
			this.#options.onScanError(error);
		}

		if (signal.aborted) {
			return;
		}

		const queued = this.#queuedFullId;
		if (queued !== undefined) {
			this.#queuedFullId = undefined;
			this.#pending.clear();
			this.#launch(undefined, queued);
			return;
		}

		if (this.#pending.size > 0) {
			this.#launch(this.#takePending());
			return;
		}

		if (this.#timer === undefined) {
			this.#arm();
		}
	}

	#takePending(): Set<string> {
		const ids = new Set(this.#pending);
		this.#pending.clear();
		return ids;
	}

	#arm(): void {
		const at = new Date(Date.now() + this.#options.intervalMs);
		this.#timer = setLongTimeout(() => {
			this.#timer = undefined;
			this.#options.model.setNextScan(null);
			this.requestFullScan();
		}, this.#options.intervalMs);
		this.#options.model.setNextScan(at);
	}

	#disarm(): void {
		this.#timer?.clear();
		this.#timer = undefined;
		this.#options.model.setNextScan(null);
	}
}

/** A timer that can be cleared. */
export interface LongTimer {
	clear(): void;
}

/** Node's timers fire at once for anything over 2^31-1 ms (24.8 days), so longer waits are chained. */
export const maxTimerMs = 2 ** 31 - 1;

/**
 * `setTimeout` for any delay: waits past Node's 24.8-day limit in steps. The timer does not keep
 * the process alive on its own.
 */
export function setLongTimeout(callback: () => void, ms: number): LongTimer {
	let remaining = Math.max(0, ms);
	let timer: NodeJS.Timeout;
	const step = (): void => {
		const wait = Math.min(remaining, maxTimerMs);
		remaining -= wait;
		timer = setTimeout(remaining > 0 ? step : callback, wait);
		timer.unref?.();
	};

	step();
	return {
		clear() {
			clearTimeout(timer);
		},
	};
}
