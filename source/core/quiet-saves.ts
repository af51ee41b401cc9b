import type {ScanOutcome} from './scanner.ts';
import type {ContainerResult, Verdict} from './types.ts';

/** How often the live view saves scans that found nothing new. */
export const quietSaveEveryMs = 60_000;

/**
 * Which of the live view's scans go to the JSON file. A scan that tells something new is saved at
 * once: another verdict, digest, name, state or newest version, a row come or gone, a partial scan
 * (after an engine event), or platform images it resolved (the next scan reads those from the file,
 * so they must be there). A scan that found what the last saved one did is saved at most once a
 * minute, and the last of them when the live view quits. With 2,000 rows every 2 s, writing every
 * scan was 3 MB of JSON each time: a tenth of the CPU and the highest points of its memory.
 */
export class QuietSaves {
	readonly #everyMs: number;
	#saved: {readonly at: number; readonly rows: readonly ContainerResult[]} | undefined;
	/** A full scan held back (a partial one is always saved at once). */
	#held: ScanOutcome | undefined;

	constructor(everyMs = quietSaveEveryMs) {
		this.#everyMs = everyMs;
	}

	/** True when `outcome` should be saved now; otherwise it is held for `held()`, replacing any held before. */
	shouldSave(outcome: ScanOutcome, partial: boolean, now: number): boolean {
		const saved = this.#saved;
		if (partial || outcome.learned.size > 0 || saved === undefined || now - saved.at >= this.#everyMs || !sameResults(saved.rows, outcome.report.containers)) {
			this.#held = undefined;
			return true;
		}

		this.#held = outcome;
		return false;
	}

	/** Call once `outcome` is in the file. */
	saved(outcome: ScanOutcome, now: number): void {
		this.#saved = {at: now, rows: outcome.report.containers};
	}

	/** The full scan held back since the last save, to save on the way out; undefined when there is none. */
	held(): ScanOutcome | undefined {
		return this.#held;
	}
}

/** The same rows in the same order, each showing the same: what a user sees of it, and what the next start shows. */
export function sameResults(before: readonly ContainerResult[], after: readonly ContainerResult[]): boolean {
	if (before.length !== after.length) {
		return false;
	}

	for (let index = 0; index < before.length; index++) {
		const a = before[index]!;
		const b = after[index]!;
		if (a.host !== b.host || a.id !== b.id || a.name !== b.name || a.image !== b.image || a.state !== b.state || !sameVerdict(a.verdict, b.verdict)) {
			return false;
		}

		if ((a.newer?.at(-1)?.tag) !== (b.newer?.at(-1)?.tag) || a.newerError !== b.newerError || a.risk?.score !== b.risk?.score || a.vulnerabilitiesError !== b.vulnerabilitiesError) {
			return false;
		}
	}

	return true;
}

function sameVerdict(a: Verdict, b: Verdict): boolean {
	switch (a.status) {
		case 'up-to-date':
		case 'update-available': {
			return b.status === a.status && a.localDigest === b.localDigest && a.remoteDigest === b.remoteDigest;
		}

		case 'pinned': {
			return b.status === 'pinned' && a.reason === b.reason && a.localDigest === b.localDigest;
		}

		case 'excluded':
		case 'unknown': {
			return b.status === a.status && a.reason === b.reason;
		}

		case 'error': {
			return b.status === 'error' && a.error === b.error && a.localDigest === b.localDigest;
		}
	}
}
