import {describeError} from '../core/errors.ts';
import type {ScanEnd, ScanStart} from '../core/scan-loop.ts';
import type {ScanEvent} from '../core/scanner.ts';
import type {ScanReport} from '../core/types.ts';
import {scanJson} from '../report/scan-json.ts';
import type {ScanAnswer, SummaryAnswer} from './schemas.ts';

/** Scans remembered for `GET /api/v1/updates/scan/{id}`. */
export const scanHistoryLimit = 100;

/**
 * The last 100 scans, fed by the scan loop's start and end hooks and the scanner's progress events
 * (scans never overlap, so progress belongs to the one running).
 */
export class ScanHistory {
	readonly #scans = new Map<string, ScanAnswer>();
	#running: string | undefined;
	#lastFinished: string | undefined;

	/** A scan asked for that waits for a partial scan to end: known by its id before it starts. */
	requested(id: string): void {
		if (!this.#scans.has(id)) {
			this.#put({id, state: 'running', startedAt: null, finishedAt: null, checked: 0, checks: 0, summary: null, error: null});
		}
	}

	readonly started = (scan: ScanStart): void => {
		this.#running = scan.id;
		this.#put({id: scan.id, state: 'running', startedAt: scan.startedAt.toISOString(), finishedAt: null, checked: 0, checks: 0, summary: null, error: null});
	};

	readonly finished = (scan: ScanEnd): void => {
		if (this.#running === scan.id) {
			this.#running = undefined;
		}

		const previous = this.#scans.get(scan.id);
		const base = {id: scan.id, startedAt: scan.startedAt.toISOString(), finishedAt: scan.finishedAt.toISOString(), checked: previous?.checked ?? 0, checks: previous?.checks ?? 0};
		if (scan.outcome === undefined) {
			this.#put({...base, state: 'failed', summary: null, error: scan.aborted ? 'updock stopped before the scan ended.' : describeError(scan.error)});
		} else {
			this.#put({...base, state: 'finished', summary: summaryOf(scan.outcome.report), error: null});
			if (!scan.partial) {
				this.#lastFinished = scan.id;
			}
		}
	};

	readonly onScanEvent = (event: ScanEvent): void => {
		const id = this.#running;
		const scan = id === undefined ? undefined : this.#scans.get(id);
		if (scan === undefined) {
			return;
		}

		if (event.type === 'started') {
			this.#scans.set(scan.id, {...scan, checks: event.checks});
		} else if (event.type === 'progress') {
			this.#scans.set(scan.id, {...scan, checked: event.checked, checks: event.checks});
		}
	};

	get(id: string): ScanAnswer | undefined {
		return this.#scans.get(id);
	}

	/** The id of the last full scan that finished. */
	get lastFinishedId(): string | undefined {
		return this.#lastFinished;
	}

	#put(scan: ScanAnswer): void {
		// Re-inserted, so the map's order is the order of the last change and the oldest go first.
		this.#scans.delete(scan.id);
		this.#scans.set(scan.id, scan);
		while (this.#scans.size > scanHistoryLimit) {
			const oldest = this.#scans.keys().next().value;
			if (oldest === undefined || oldest === this.#running) {
				break;
			}

			this.#scans.delete(oldest);
		}
	}
}

/** The summary of `--once --json` for a report. */
export function summaryOf(report: ScanReport): SummaryAnswer {
	const {summary} = scanJson(report);
	return {...summary, hosts: [...summary.hosts], rateLimits: [...summary.rateLimits]};
}
