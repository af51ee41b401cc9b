import type {LiveModel} from './live-model.ts';
import type {Scanner, ScanOutcome} from './scanner.ts';

export interface ScanLoopOptions {
	readonly scanner: Scanner;
	readonly model: LiveModel;
	/** Time from the end of one full scan to the start of the next. */
	readonly intervalMs: number;
	/** Save what a scan found; `partial` for a scan of a few containers. Should not throw. */
	readonly persist: (outcome: ScanOutcome, partial: boolean) => Promise<void>;
	/** A scan that could not run (the engine went away). */
	readonly onScanError: (error: unknown) => void;
}

/**
 * Scans once at start, then every interval (lazydocker's goEvery). Two scans never overlap: a scan
 * requested while one runs is absorbed by it, and containers to check are queued until it ends.
 * Everything stops with the one AbortSignal given to `start`.
 */
export class ScanLoop {
	readonly #options: ScanLoopOptions;
	#signal: AbortSignal | undefined;
	#running = false;
	#timer: NodeJS.Timeout | undefined;
	readonly #pending = new Set<string>();
	#fullPending = false;

	constructor(options: ScanLoopOptions) {
		this.#options = options;
	}

	start(signal: AbortSignal): void {
		this.#signal = signal;
		signal.addEventListener('abort', () => {
			this.#disarm();
		}, {once: true});
		void this.#run(undefined);
	}

	/** A full scan now; `absorbed` when one is already running (it is the scan asked for). */
	requestScan(): 'started' | 'absorbed' {
		if (this.#running) {
			return 'absorbed';
		}

		void this.#run(undefined);
		return 'started';
	}

	/**
	 * A full scan as soon as the running one ends (the engine came back, so the running one may have
	 * missed everything).
	 */
	scanSoon(): void {
		if (this.#running) {
			this.#fullPending = true;
		} else {
			void this.#run(undefined);
		}
	}

	/** Check these containers (new or recreated, or just unpinned) without waiting for the interval. */
	checkContainers(ids: Iterable<string>): void {
		for (const id of ids) {
			this.#pending.add(id);
		}

		if (!this.#running && this.#pending.size > 0) {
			void this.#run(this.#takePending());
		}
	}

	get running(): boolean {
		return this.#running;
	}

	async #run(only: ReadonlySet<string> | undefined): Promise<void> {
		const signal = this.#signal;
		if (signal === undefined || signal.aborted) {
			return;
		}

		this.#running = true;
		if (only === undefined) {
			this.#disarm();
		}

		try {
			const outcome = await this.#options.scanner.scan(signal, only);
			await this.#options.persist(outcome, only !== undefined);
		} catch (error) {
			if (signal.aborted) {
				return;
			}

			this.#options.model.scanFailed();
			this.#options.onScanError(error);
		} finally {
			this.#running = false;
		}

		if (signal.aborted) {
			return;
		}

		if (this.#fullPending) {
			this.#fullPending = false;
			this.#pending.clear();
			void this.#run(undefined);
			return;
		}

		if (this.#pending.size > 0) {
			void this.#run(this.#takePending());
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
		this.#timer = setTimeout(() => {
			this.#timer = undefined;
			this.#options.model.setNextScan(null);
			if (this.requestScan() === 'absorbed') {
				this.#fullPending = true;
			}
		}, this.#options.intervalMs);
		this.#timer.unref?.();
		this.#options.model.setNextScan(at);
	}

	#disarm(): void {
		if (this.#timer !== undefined) {
			clearTimeout(this.#timer);
			this.#timer = undefined;
		}

		this.#options.model.setNextScan(null);
	}
}
