import {describeError} from './errors.ts';
import {findExclusion, validatePattern} from './exclusions.ts';
import type {LiveModel, LiveRow} from './live-model.ts';
import {pinMatches} from './pins.ts';
import type {SettingsStore} from './ports.ts';
import {parseReference, type ImageReference} from './reference.ts';
import type {ScanLoop} from './scan-loop.ts';
import type {HostSource} from './scanner.ts';
import type {ContainerFacts} from './types.ts';
import {exclusionReason} from './status.ts';

/** Wait this long after an engine event for the burst to end (a `docker compose up` sends dozens). */
const eventSettleMs = 300;

/**
 * What the user and the engine change while the live view runs: pins and exclusions written at once
 * and shown at once, containers appearing and going. A failure is shown as a notice; nothing throws.
 */
export class LiveSession {
	readonly #model: LiveModel;
	readonly #loop: ScanLoop;
	readonly #hosts: readonly HostSource[];
	readonly #settings: SettingsStore;
	readonly #defaultHost: string;
	#refreshTimer: NodeJS.Timeout | undefined;

	constructor(options: {model: LiveModel; loop: ScanLoop; hosts: readonly HostSource[]; settings: SettingsStore; defaultHost: string}) {
		this.#model = options.model;
		this.#loop = options.loop;
		this.#hosts = options.hosts;
		this.#settings = options.settings;
		this.#defaultHost = options.defaultHost;
	}

	/** `s`: a scan now, or the running one. */
	scanNow(): void {
		const outcome = this.#loop.requestScan();
		this.#model.setNotice({kind: 'info', text: outcome === 'started' ? 'Scanning…' : 'A scan is already running; it covers this request.'});
	}

	/** `p`: pin the container, or unpin it and check it again. */
	async togglePin(row: LiveRow): Promise<void> {
		await this.#guard(async () => {
			const {pins} = await this.#settings.load();
			if (pins.some(pin => pinMatches(pin, row.host, row.name, this.#defaultHost))) {
				await this.#settings.unpin(row.name, row.host);
				this.#model.setNotice({kind: 'info', text: `Unpinned ${row.name}; checking it now.`});
				this.#loop.checkContainers([row.id]);
				return;
			}

			await this.#settings.pin(row.name, row.id, row.host);
			this.#model.settle(row.id, {status: 'pinned', reason: `Pinned by you on ${new Date().toISOString().slice(0, 10)}; press p again to unpin.`, localDigest: referenceOf(row)?.digest ?? null});
			this.#model.setNotice({kind: 'info', text: `Pinned ${row.name}: it will not be checked until you unpin it.`});
		});
	}

	/** `x` confirmed: exclude a pattern; every row it matches shows as excluded at once. */
	async exclude(pattern: string): Promise<void> {
		await this.#guard(async () => {
			const {exclusion} = await this.#settings.addExclusion(validatePattern(pattern));
			const {pins} = await this.#settings.load();
			for (const row of this.#model.getSnapshot().rows) {
				if (!pins.some(pin => pinMatches(pin, row.host, row.name, this.#defaultHost)) && findExclusion([exclusion], row.image, referenceOf(row)) !== undefined) {
					this.#model.settle(row.id, {status: 'excluded', reason: exclusionReason(exclusion)});
				}
			}

			this.#model.setNotice({kind: 'info', text: `Excluded "${exclusion.pattern}" (exclusion ${exclusion.id}); press u on a row to undo.`});
		});
	}

	/** `u`: remove the exclusion that matches the row's image, and check what it covered. */
	async removeExclusionFor(row: LiveRow): Promise<void> {
		await this.#guard(async () => {
			const {exclusions} = await this.#settings.load();
			const exclusion = findExclusion(exclusions, row.image, referenceOf(row));
			if (exclusion === undefined) {
				this.#model.setNotice({kind: 'info', text: `No exclusion matches ${row.image}.`});
				return;
			}

			await this.#settings.removeExclusion(exclusion.id);
			const left = exclusions.filter(candidate => candidate.id !== exclusion.id);
			const recheck = this.#model.getSnapshot().rows.filter(candidate => candidate.result?.verdict.status === 'excluded' && findExclusion(left, candidate.image, referenceOf(candidate)) === undefined);
			this.#model.setNotice({kind: 'info', text: `Removed exclusion ${exclusion.id} ("${exclusion.pattern}"); checking ${recheck.length} container${recheck.length === 1 ? '' : 's'}.`});
			this.#loop.checkContainers(recheck.map(candidate => candidate.id));
		});
	}

	/** An engine event: refresh the list soon; new or recreated containers get checked. */
	engineChanged(): void {
		if (this.#refreshTimer !== undefined) {
			return;
		}

		this.#refreshTimer = setTimeout(() => {
			this.#refreshTimer = undefined;
			void this.#refresh();
		}, eventSettleMs);
	}

	stop(): void {
		clearTimeout(this.#refreshTimer);
	}

	async #refresh(): Promise<void> {
		try {
			// Every host that answers; one that does not keeps its rows until the next full scan.
			const listed = await Promise.allSettled(this.#hosts.map(async host => host.engine.listContainers()));
			const answered = new Set(this.#hosts.filter((_host, index) => listed[index]?.status === 'fulfilled').map(host => host.name));
			const facts: ContainerFacts[] = listed.flatMap(result => result.status === 'fulfilled' ? result.value : []);
			if (answered.size === 0 && listed[0]?.status === 'rejected') {
				throw listed[0].reason;
			}

			const known = new Set(this.#model.getSnapshot().rows.map(row => row.id));
			if (answered.size === this.#hosts.length) {
				// Only a complete list may remove rows: a host that did not answer still has its containers.
				this.#model.setContainers(facts);
			}

			const added = facts.filter(fact => !known.has(fact.id)).map(fact => fact.id);
			if (added.length > 0) {
				this.#loop.checkContainers(added);
			}
		} catch (error) {
			this.#model.setNotice({kind: 'error', text: describeError(error)});
		}
	}

	async #guard(action: () => Promise<void>): Promise<void> {
		try {
			await action();
		} catch (error) {
			this.#model.setNotice({kind: 'error', text: describeError(error)});
		}
	}
}

function referenceOf(row: LiveRow): ImageReference | null {
	try {
		return parseReference(row.image);
	} catch {
		return null;
	}
}
