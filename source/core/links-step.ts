import {forEachLimit} from './limit.ts';
import {imageLinks} from './links.ts';
import type {ImageReference} from './reference.ts';
import type {ScanStep, ScanStepInput} from './scanner.ts';
import {rowKey, type Enrichment} from './types.ts';

/** Reads an image config blob's labels by its digest (`GET /v2/<name>/blobs/<digest>`). Throws RegistryError. */
export interface ConfigLabelSource {
	configLabels(reference: ImageReference, configDigest: string, signal?: AbortSignal): Promise<Record<string, string>>;
}

/** Labels remembered by config digest: a digest's labels never change, so each is fetched once ever. */
export interface LabelMemory {
	get(configDigest: string): Readonly<Record<string, string>> | undefined;
	set(configDigest: string, labels: Readonly<Record<string, string>>): void;
}

/**
 * The scan step that says where to read what changed: source, revisions, a compare URL and the
 * release page, from the OCI labels of the running image (the engine has them: no request) and of
 * the image an update would bring (its config blob, one GET per new digest, remembered).
 */
export class LinksStep implements ScanStep {
	readonly name = 'links';
	readonly #configs: ConfigLabelSource;
	readonly #memory: LabelMemory;

	constructor(configs: ConfigLabelSource, memory: LabelMemory) {
		this.#configs = configs;
		this.#memory = memory;
	}

	async run(rows: readonly ScanStepInput[], signal?: AbortSignal): Promise<ReadonlyMap<string, Enrichment>> {
		// Target labels for updates, one fetch per config digest not already known.
		const fetches = new Map<string, ImageReference>();
		for (const {result, reference} of rows) {
			const digest = result.targetImage?.configDigest;
			if (result.verdict.status === 'update-available' && digest !== undefined && reference !== null && this.#memory.get(digest) === undefined) {
				fetches.set(digest, reference);
			}
		}

		await forEachLimit(fetches, 4, async ([digest, reference]) => {
			try {
				this.#memory.set(digest, await this.#configs.configLabels(reference, digest, signal));
			} catch {
				// Links are a convenience: without the target's labels, the row simply has fewer of them.
			}
		});

		const added = new Map<string, Enrichment>();
		for (const {result, facts, reference} of rows) {
			const update = result.verdict.status === 'update-available';
			const targetLabels = update && result.targetImage !== undefined && result.targetImage !== null ? this.#memory.get(result.targetImage.configDigest) ?? null : null;
			// The version a user would move to: the newest newer version, else the same tag updated.
			const newest = result.newer?.at(-1)?.tag ?? null;
			const targetTag = newest ?? (update ? reference?.tag ?? null : null);
			added.set(rowKey(result), {links: imageLinks(facts.labels, targetLabels, targetTag)});
		}

		return added;
	}

	failed(): Enrichment {
		return {links: null};
	}
}
