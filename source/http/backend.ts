import type {DryRunAnswer, ContainerAnswer, ExclusionAnswer, PinAnswer, ScanAnswer, SummaryAnswer} from './schemas.ts';

/** What `/api/v1/updates/summary` says about the scan loop. */
export interface LoopState {
	readonly state: 'idle' | 'running';
	readonly lastScanId: string | null;
	readonly lastScannedAt: string | null;
	readonly nextScanAt: string | null;
}

/**
 * What the routes need from the running service. Failures the client caused are thrown as ApiError
 * (404, 409, 400); anything else is a 500.
 */
export interface UpdatesBackend {
	/** Every container with a result, pins and exclusions in the file applied. */
	containers(): Promise<{readonly containers: ContainerAnswer[]; readonly scannedAt: string | null}>;
	summary(): Promise<{readonly scan: LoopState; readonly summary: SummaryAnswer}>;
	/** A full scan now, or the running one that covers the request. */
	requestScan(): {readonly id: string};
	scan(id: string): ScanAnswer | undefined;
	/** By id, id prefix, name or host/name. @throws ApiError 404, or 409 when a name is on several hosts. */
	container(target: string): Promise<ContainerAnswer>;
	dryRun(): Promise<DryRunAnswer>;
	/** @throws ApiError 404 when there is no such container. */
	pin(target: string): Promise<PinAnswer>;
	/** @throws ApiError 404 when it is not pinned. */
	unpin(target: string): Promise<PinAnswer>;
	exclusions(): Promise<ExclusionAnswer[]>;
	/** @throws ApiError 400 for a pattern that is not one. */
	addExclusion(pattern: string): Promise<{readonly exclusion: ExclusionAnswer; readonly added: boolean}>;
	removeExclusion(id: number): Promise<ExclusionAnswer | undefined>;
	/** The scan loop runs (false once shutting down). */
	healthy(): boolean;
	metrics(): Promise<{readonly contentType: string; readonly text: string}>;
}
