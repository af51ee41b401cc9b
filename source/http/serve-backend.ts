import {InvalidReferenceError} from '../core/errors.ts';
import {findExclusion, validatePattern} from '../core/exclusions.ts';
import type {LiveModel} from '../core/live-model.ts';
import {pinMatches} from '../core/pins.ts';
import {planScan} from '../core/plan.ts';
import {parseReference, type ImageReference} from '../core/reference.ts';
import type {SettingsStore} from '../core/ports.ts';
import type {ScanLoop} from '../core/scan-loop.ts';
import {summarize, type ContainerFacts, type ContainerResult, type Exclusion, type HostReport, type Pin} from '../core/types.ts';
import {containerJson} from '../report/scan-json.ts';
import type {LoopState, UpdatesBackend} from './backend.ts';
import {ApiError} from './api-error.ts';
import type {ServeMetrics} from './metrics.ts';
import {summaryOf, type ScanHistory} from './scan-history.ts';
import type {ContainerAnswer, DryRunAnswer, ExclusionAnswer, PinAnswer, SummaryAnswer} from './schemas.ts';

export interface ServeBackendOptions {
	readonly model: LiveModel;
	readonly loop: Pick<ScanLoop, 'requestFullScan' | 'checkContainers' | 'current'>;
	readonly history: ScanHistory;
	readonly settings: SettingsStore;
	/** The host that pins saved without one belong to. */
	readonly defaultHost: string;
	/** Every engine as the last full scan found it. */
	readonly hosts: () => readonly HostReport[];
	/** Every container on every engine now, for a container the last scan has not seen yet. */
	readonly listContainers: () => Promise<readonly ContainerFacts[]>;
	readonly dryRun: () => Promise<DryRunAnswer>;
	readonly metrics: ServeMetrics;
	readonly healthy: () => boolean;
}

interface Target {
	readonly host: string;
	readonly name: string;
	readonly id: string;
}

/**
 * The API over the running service: results from the live model (the same state the live view
 * draws), pins and exclusions read from the JSON file at every request, so a change made with the
 * CLI shows at the next read, and written through the same settings as the CLI's.
 */
export class ServeBackend implements UpdatesBackend {
	readonly #options: ServeBackendOptions;
	/** Pins and exclusions as the last read saw them: a change made elsewhere rechecks what it freed. */
	#lastSettings: string | undefined;

	constructor(options: ServeBackendOptions) {
		this.#options = options;
	}

	async containers(): Promise<{containers: ContainerAnswer[]; scannedAt: string | null}> {
		const results = await this.#results();
		return {containers: results.map(answer), scannedAt: this.#options.model.getSnapshot().scan.lastScanAt};
	}

	async summary(): Promise<{scan: LoopState; summary: SummaryAnswer}> {
		const {scan} = this.#options.model.getSnapshot();
		return {
			scan: {
				state: this.#options.loop.current === undefined ? 'idle' : 'running',
				lastScanId: this.#options.history.lastFinishedId ?? null,
				lastScannedAt: scan.lastScanAt,
				nextScanAt: scan.nextScanAt,
			},
			summary: await this.#summary(await this.#results()),
		};
	}

	requestScan(): {id: string} {
		const request = this.#options.loop.requestFullScan();
		if (request.state === 'queued') {
			this.#options.history.requested(request.id);
		}

		return {id: request.id};
	}

	scan(id: string): ReturnType<UpdatesBackend['scan']> {
		return this.#options.history.get(id);
	}

	async container(target: string): Promise<ContainerAnswer> {
		const results = await this.#results();
		const result = results[this.#match(target, results)];
		if (result === undefined) {
			throw notFound(target);
		}

		return answer(result);
	}

	async dryRun(): Promise<DryRunAnswer> {
		return this.#options.dryRun();
	}

	async pin(target: string): Promise<PinAnswer> {
		let found: Target | undefined = this.#options.model.getSnapshot().rows[this.#match(target, this.#options.model.getSnapshot().rows)];
		if (found === undefined) {
			const listed = await this.#options.listContainers();
			found = listed[this.#match(target, listed)];
		}

		if (found === undefined) {
			throw notFound(target);
		}

		await this.#options.settings.pin(found.name, found.id, found.host);
		const {pins} = await this.#options.settings.load();
		const {host, name} = found;
		const pin = pins.find(candidate => pinMatches(candidate, host, name, this.#options.defaultHost));
		if (pin === undefined) {
			throw new ApiError(409, 'conflict', `${host}/${name} was unpinned again while it was being pinned; try again.`);
		}

		return pinAnswer(pin);
	}

	async unpin(target: string): Promise<PinAnswer> {
		const {pins} = await this.#options.settings.load();
		const rows = this.#options.model.getSnapshot().rows;
		const row = rows[this.#match(target, rows)];
		const slash = target.indexOf('/');
		const pin = row === undefined
			? pins.find(candidate => slash === -1
				? candidate.name === target || (isIdPrefix(target) && candidate.containerId.startsWith(target))
				: (candidate.host ?? this.#options.defaultHost) === target.slice(0, slash) && candidate.name === target.slice(slash + 1))
			: pins.find(candidate => pinMatches(candidate, row.host, row.name, this.#options.defaultHost));
		if (pin === undefined) {
			throw new ApiError(404, 'not_found', `"${target}" is not pinned.`);
		}

		const host = pin.host ?? this.#options.defaultHost;
		await this.#options.settings.unpin(pin.name, host);
		this.#options.loop.checkContainers(rows.filter(candidate => candidate.host === host && candidate.name === pin.name).map(candidate => candidate.id));
		return pinAnswer(pin);
	}

	async exclusions(): Promise<ExclusionAnswer[]> {
		return (await this.#options.settings.load()).exclusions.map(exclusionAnswer);
	}

	async addExclusion(pattern: string): Promise<{exclusion: ExclusionAnswer; added: boolean}> {
		let valid: string;
		try {
			valid = validatePattern(pattern);
		} catch (error) {
			if (error instanceof InvalidReferenceError) {
				throw new ApiError(400, 'invalid_pattern', error.message);
			}

			throw error;
		}

		const {exclusion, added} = await this.#options.settings.addExclusion(valid);
		return {exclusion: exclusionAnswer(exclusion), added};
	}

	async removeExclusion(id: number): Promise<ExclusionAnswer | undefined> {
		const removed = await this.#options.settings.removeExclusion(id);
		if (removed !== undefined) {
			this.#recheckFreed(await this.#options.settings.load());
		}

		return removed === undefined ? undefined : exclusionAnswer(removed);
	}

	healthy(): boolean {
		return this.#options.healthy();
	}

	async metrics(): Promise<{contentType: string; text: string}> {
		const {metrics} = this.#options;
		const results = await this.#results();
		metrics.setContainers(results, this.#options.hosts().map(host => host.name));
		metrics.setRateLimits(this.#options.model.getSnapshot().scan.rateLimits);
		return {contentType: metrics.contentType, text: await metrics.text()};
	}

	/**
	 * The rows with a result, pins and exclusions in the file laid over them: a pin or exclusion made
	 * since the last scan shows at once, with the verdict and sentence the next scan will give.
	 */
	async #results(): Promise<ContainerResult[]> {
		const settings = await this.#options.settings.load();
		const fingerprint = JSON.stringify([settings.pins, settings.exclusions]);
		if (this.#lastSettings !== undefined && this.#lastSettings !== fingerprint) {
			this.#recheckFreed(settings);
		}

		this.#lastSettings = fingerprint;
		const stored = this.#options.model.getSnapshot().rows.flatMap(row => row.result === null ? [] : [{...row.result, name: row.name, state: row.state}]);
		const plan = planScan(stored.map(factsOf), {pins: settings.pins, exclusions: settings.exclusions, imageStores: new Map(), defaultHost: this.#options.defaultHost});
		return stored.map((result, index) => {
			const planned = plan.containers[index];
			if (planned?.kind === 'settled' && (planned.verdict.status === 'pinned' || planned.verdict.status === 'excluded') && planned.verdict.status !== result.verdict.status) {
				return {...result, verdict: planned.verdict};
			}

			return result;
		});
	}

	/** Containers shown pinned or excluded that no pin or exclusion covers any more: check them now. */
	#recheckFreed(settings: {readonly pins: readonly Pin[]; readonly exclusions: readonly Exclusion[]}): void {
		const freed = this.#options.model.getSnapshot().rows.filter(row => {
			const status = row.result?.verdict.status;
			if (status === 'pinned') {
				return !settings.pins.some(pin => pinMatches(pin, row.host, row.name, this.#options.defaultHost));
			}

			return status === 'excluded' && findExclusion(settings.exclusions, row.image, referenceOf(row.image)) === undefined;
		});
		if (freed.length > 0) {
			this.#options.loop.checkContainers(freed.map(row => row.id));
		}
	}

	async #summary(results: readonly ContainerResult[]): Promise<SummaryAnswer> {
		const {scan} = this.#options.model.getSnapshot();
		return summaryOf({scannedAt: scan.lastScanAt ?? new Date(0).toISOString(), hosts: this.#options.hosts(), durationMs: 0, containers: results, summary: summarize(results), rateLimits: scan.rateLimits});
	}

	/**
	 * The index of the one container `target` names: `host/name`, a full id, a name, or an id prefix,
	 * in that order. -1 when none does.
	 * @throws ApiError 409 when a name or prefix fits several.
	 */
	#match(target: string, candidates: readonly Target[]): number {
		const slash = target.indexOf('/');
		const passes: Array<(candidate: Target) => boolean> = slash === -1
			? [candidate => candidate.id === target, candidate => candidate.name === target, candidate => isIdPrefix(target) && candidate.id.startsWith(target)]
			: [candidate => candidate.host === target.slice(0, slash) && candidate.name === target.slice(slash + 1)];
		for (const pass of passes) {
			const found = candidates.flatMap((candidate, index) => pass(candidate) ? [index] : []);
			if (found.length === 1) {
				return found[0]!;
			}

			if (found.length > 1) {
				const names = [...new Set(found.map(index => `${candidates[index]!.host}/${candidates[index]!.name}`))];
				throw new ApiError(409, 'ambiguous', `"${target}" names ${found.length} containers (${names.join(', ')}); use host/name or a longer id.`);
			}
		}

		return -1;
	}
}

function referenceOf(image: string): ImageReference | null {
	try {
		return parseReference(image);
	} catch {
		return null;
	}
}

function isIdPrefix(text: string): boolean {
	return /^[a-f\d]{4,64}$/.test(text);
}

function notFound(target: string): ApiError {
	return new ApiError(404, 'not_found', `No container has the id, name or host/name "${target}".`);
}

function answer(result: ContainerResult): ContainerAnswer {
	return {...containerJson(result)};
}

function pinAnswer(pin: Pin): PinAnswer {
	return {...(pin.host === undefined ? {} : {host: pin.host}), name: pin.name, containerId: pin.containerId, pinnedAt: pin.pinnedAt};
}

function exclusionAnswer(exclusion: Exclusion): ExclusionAnswer {
	return {id: exclusion.id, image: exclusion.pattern, createdAt: exclusion.createdAt};
}

/** The facts the planner needs to apply pins and exclusions to a result (labels were applied by its scan). */
function factsOf(result: ContainerResult): ContainerFacts {
	return {
		host: result.host, kind: result.kind, labels: {}, service: result.service, id: result.id, name: result.name, image: result.image,
		imageId: result.imageId, state: result.state, repoDigests: [], imagePresent: true, platform: result.platform,
	};
}
