import type {ScanEvent} from './scanner.ts';
import type {ContainerFacts, ContainerResult, RateLimit, ScanReport, ServiceInfo, Verdict, WorkloadKind} from './types.ts';

/** One container (or Swarm service) in the live view. */
export interface LiveRow {
	readonly id: string;
	/** The engine it runs on. */
	readonly host: string;
	readonly kind: WorkloadKind;
	/** A service's mode, replicas and task containers; null for a container. */
	readonly service: ServiceInfo | null;
	readonly name: string;
	readonly image: string;
	readonly state: string;
	/** The latest verdict with the facts it was made on; null before the first check. */
	readonly result: ContainerResult | null;
	/** When the verdict was made (ISO); null before the first check. */
	readonly checkedAt: string | null;
	/** The verdict comes from the JSON file (the last run), not from this session. */
	readonly fromLastRun: boolean;
	/** A scan is deciding this row right now. */
	readonly checking: boolean;
}

export interface ScanState {
	readonly running: boolean;
	/** Unique tags checked so far in the running scan, and how many it has. */
	readonly checked: number;
	readonly checks: number;
	readonly lastScanAt: string | null;
	readonly nextScanAt: string | null;
	/** Pull budgets from the last scan. */
	readonly rateLimits: readonly RateLimit[];
}

export interface EngineState {
	readonly address: string;
	readonly status: 'connecting' | 'connected' | 'unreachable';
	readonly message: string | null;
	/** When the next reconnection attempt is due (ISO), while unreachable. */
	readonly retryAt: string | null;
}

export interface Notice {
	readonly kind: 'error' | 'info';
	readonly text: string;
}

export interface LiveSnapshot {
	/** In the engine's order; sorting and filtering are the view's business. */
	readonly rows: readonly LiveRow[];
	readonly scan: ScanState;
	readonly engine: EngineState;
	readonly notice: Notice | null;
	/** `available` events of this session, e.g. "2 new since 14:02"; null while there are none. */
	readonly alerts: string | null;
}

/**
 * Listeners are told of changes at most this often (the first change after a quiet spell at once, the
 * rest together at the end of the spell). Each notice re-renders the whole view: a scan of 2,000
 * containers on three hosts made several hundred changes a scan, and rendering them was most of the
 * live view's CPU time and of its garbage. Ink itself draws at most 30 frames a second, and each of its
 * frames allocates about 1.4 MB for a 120 × 40 terminal: four a second show a scan's progress well
 * enough, at 40 % of the garbage of ten.
 */
export const defaultNotifyEveryMs = 250;

/**
 * The state of the live view, without React: what the scan loop, the engine watcher and user actions
 * know, as immutable snapshots for `useSyncExternalStore`.
 */
export class LiveModel {
	#snapshot: LiveSnapshot;
	readonly #listeners = new Set<() => void>();
	readonly #now: () => Date;
	readonly #notifyEveryMs: number;
	/** performance.now() of the last notice. */
	#notifiedAt = Number.NEGATIVE_INFINITY;
	/** The notice at the end of the current spell, when one is due. */
	#notifyTimer: ReturnType<typeof setTimeout> | undefined;
	/**
	 * Results not yet in the snapshot. A scan reports hundreds at once; copying the row list for each
	 * made a scan of 2,000 containers O(n²) in garbage, so they are applied together, once per tick.
	 */
	readonly #pending = new Map<string, LiveRow>();
	#flushScheduled = false;
	/** The snapshot changed and the listeners have not been told yet. */
	#unnotified = false;
	/**
	 * Rows the user settled (a pin, an exclusion) since the latest scan started. Scans never overlap, so
	 * every result comes from that scan, which read pins and exclusions before the user acted: its
	 * result for such a row is stale. The next scan reads them afresh, so starting one forgets these.
	 */
	readonly #settledSinceStart = new Set<string>();

	/** @param notifyEveryMs the shortest time between two notices to listeners (see `defaultNotifyEveryMs`). */
	constructor(address: string, now: () => Date = () => new Date(), notifyEveryMs = defaultNotifyEveryMs) {
		this.#now = now;
		this.#notifyEveryMs = notifyEveryMs;
		this.#snapshot = {
			rows: [],
			scan: {running: false, checked: 0, checks: 0, lastScanAt: null, nextScanAt: null, rateLimits: []},
			engine: {address, status: 'connecting', message: null, retryAt: null},
			notice: null,
			alerts: null,
		};
	}

	readonly subscribe = (listener: () => void): (() => void) => {
		this.#listeners.add(listener);
		return () => this.#listeners.delete(listener);
	};

	readonly getSnapshot = (): LiveSnapshot => {
		this.#flush();
		return this.#snapshot;
	};

	/** Show the results saved by the last run, marked as such, until this session checks again. */
	loadLastRun(report: ScanReport | null): void {
		this.#flush();
		if (report === null || this.#snapshot.rows.length > 0) {
			return;
		}

		this.#update({
			rows: report.containers.map(result => ({...rowFields(result), result, checkedAt: report.scannedAt, fromLastRun: true, checking: false})),
			scan: {...this.#snapshot.scan, lastScanAt: report.scannedAt},
		});
	}

	/** Feed a scanner event into the state. */
	readonly onScanEvent = (event: ScanEvent): void => {
		switch (event.type) {
			case 'started': {
				this.#flush();
				this.#settledSinceStart.clear();
				const listed = new Map(event.containers.map(fact => [fact.id, fact]));
				const known = new Set(this.#snapshot.rows.map(row => row.id));
				// A full scan knows every container of the hosts it listed: rows of removed ones go, new ones
				// appear as "checking"; a host that could not be listed keeps its rows as they were.
				const unlisted = new Set(event.unlistedHosts);
				const kept = this.#snapshot.rows
					.filter(row => event.partial || listed.has(row.id) || unlisted.has(row.host))
					.map(row => {
						const fact = listed.get(row.id);
						return fact === undefined ? row : {...row, ...factFields(fact), checking: true};
					});
				const added = event.containers.filter(fact => !known.has(fact.id)).map(fact => ({...factFields(fact), result: null, checkedAt: null, fromLastRun: false, checking: true}));
				this.#update({rows: [...kept, ...added], scan: {...this.#snapshot.scan, running: true, checked: 0, checks: event.checks}});
				break;
			}

			case 'result': {
				if (!this.#settledSinceStart.has(event.result.id)) {
					this.#setResult(event.result);
				}

				break;
			}

			case 'progress': {
				this.#update({scan: {...this.#snapshot.scan, checked: event.checked, checks: event.checks}});
				break;
			}

			case 'finished': {
				this.#flush();
				this.#update({
					rows: this.#snapshot.rows.map(row => row.checking ? {...row, checking: false} : row),
					scan: {...this.#snapshot.scan, running: false, lastScanAt: this.#now().toISOString(), rateLimits: event.report.rateLimits?.length ? event.report.rateLimits : this.#snapshot.scan.rateLimits},
				});
				break;
			}
		}
	};

	/** A scan that ended without finishing (engine gone, stopped): nothing is being checked any more. */
	scanFailed(): void {
		this.#flush();
		this.#update({
			rows: this.#snapshot.rows.map(row => row.checking ? {...row, checking: false} : row),
			scan: {...this.#snapshot.scan, running: false},
		});
	}

	/** The engine's current list: states and names change, removed containers go. New ones wait for their check. */
	setContainers(facts: readonly ContainerFacts[]): void {
		this.#flush();
		const listed = new Map(facts.map(fact => [fact.id, fact]));
		const rows = this.#snapshot.rows.filter(row => listed.has(row.id)).map(row => {
			const fact = listed.get(row.id)!;
			return fact.state === row.state && fact.name === row.name && sameService(fact.service, row.service) ? row : {...row, state: fact.state, name: fact.name, service: fact.service};
		});
		if (rows.length !== this.#snapshot.rows.length || rows.some((row, index) => row !== this.#snapshot.rows[index])) {
			this.#update({rows});
		}
	}

	/**
	 * A verdict decided without the registry (a pin or exclusion just made). It wins over the result
	 * of a scan already running, which was decided without it; the next scan's result is taken.
	 */
	settle(id: string, verdict: Verdict): void {
		this.#flush();
		const row = this.#snapshot.rows.find(candidate => candidate.id === id);
		if (row?.result !== undefined && row.result !== null) {
			this.#settledSinceStart.add(id);
			this.#setResult({...row.result, verdict});
		}
	}

	setNextScan(at: Date | null): void {
		this.#update({scan: {...this.#snapshot.scan, nextScanAt: at?.toISOString() ?? null}});
	}

	setEngine(engine: Partial<Omit<EngineState, 'address'>>): void {
		this.#update({engine: {...this.#snapshot.engine, ...engine}});
	}

	setAlerts(alerts: string | null): void {
		if (alerts !== this.#snapshot.alerts) {
			this.#update({alerts});
		}
	}

	setNotice(notice: Notice | null): void {
		this.#update({notice});
	}

	#setResult(result: ContainerResult): void {
		const checkedAt = this.#now().toISOString();
		this.#pending.set(result.id, {...rowFields(result), result, checkedAt, fromLastRun: false, checking: false});
		if (!this.#flushScheduled) {
			this.#flushScheduled = true;
			queueMicrotask(() => {
				this.#flushScheduled = false;
				this.#flush();
				if (this.#unnotified) {
					this.#changed();
				}
			});
		}
	}

	/** Apply pending results in one new row list. */
	#flush(): void {
		if (this.#pending.size === 0) {
			return;
		}

		const rows = this.#snapshot.rows.map(row => {
			const fresh = this.#pending.get(row.id);
			if (fresh !== undefined) {
				this.#pending.delete(row.id);
			}

			return fresh ?? row;
		});
		for (const row of this.#pending.values()) {
			rows.push(row);
		}

		this.#pending.clear();
		this.#snapshot = {...this.#snapshot, rows};
		this.#unnotified = true;
	}

	#update(change: Partial<LiveSnapshot>): void {
		// Results still pending are newer than any change made here: the next flush lays them on top.
		this.#snapshot = {...this.#snapshot, ...change};
		this.#unnotified = true;
		this.#changed();
	}

	/** Tell the listeners now, or at the end of the current spell when they were told less than `notifyEveryMs` ago. */
	#changed(): void {
		if (this.#notifyTimer !== undefined) {
			return;
		}

		const wait = this.#notifiedAt + this.#notifyEveryMs - performance.now();
		if (wait <= 0) {
			this.#notify();
			return;
		}

		this.#notifyTimer = setTimeout(() => {
			this.#notifyTimer = undefined;
			this.#flush();
			if (this.#unnotified) {
				this.#notify();
			}
		}, wait);
		// A notice still due must not keep a process that is done from exiting.
		this.#notifyTimer.unref?.();
	}

	#notify(): void {
		this.#unnotified = false;
		this.#notifiedAt = performance.now();
		for (const listener of this.#listeners) {
			listener();
		}
	}
}

type Identity = Pick<LiveRow, 'id' | 'host' | 'kind' | 'service' | 'name' | 'image' | 'state'>;

function rowFields(result: ContainerResult): Identity {
	return {id: result.id, host: result.host, kind: result.kind, service: result.service, name: result.name, image: result.image, state: result.state};
}

function factFields(fact: ContainerFacts): Identity {
	return {id: fact.id, host: fact.host, kind: fact.kind, service: fact.service, name: fact.name, image: fact.image, state: fact.state};
}

function sameService(a: ServiceInfo | null, b: ServiceInfo | null): boolean {
	return a === b || (a !== null && b !== null && a.mode === b.mode && a.replicas === b.replicas && a.tasks.join() === b.tasks.join());
}
