import {forEachLimit} from './limit.ts';
import {imageLinks} from './links.ts';
import type {ImageReference} from './reference.ts';
import type {ScanStep, ScanStepInput} from './scanner.ts';
import type {Enrichment} from './types.ts';

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

	async run(rows: readonly ScanStepInput[], signal?: AbortSignal): Promise<ReadonlyMap<ScanStepInput, Enrichment>> {
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

		const added = new Map<ScanStepInput, Enrichment>();
		// Containers of one image have the same labels and the same target: their links are made once.
		const made = new Map<string, Enrichment>();
		for (const row of rows) {
			const {result, facts, reference} = row;
			const update = result.verdict.status === 'update-available';
			const targetDigest = update && result.targetImage !== undefined && result.targetImage !== null ? result.targetImage.configDigest : null;
			const targetLabels = targetDigest === null ? null : this.#memory.get(targetDigest) ?? null;
			// The version a user would move to: the newest newer version, else the same tag updated.
			const newest = result.newer?.at(-1)?.tag ?? null;
			const targetTag = newest ?? (update ? reference?.tag ?? null : null);
			const key = linksKey(facts.labels, targetLabels === null ? null : targetDigest, targetTag);
			let links = made.get(key);
			if (links === undefined) {
				links = {links: imageLinks(facts.labels, targetLabels, targetTag)};
				made.set(key, links);
			}

			added.set(row, links);
		}

		return added;
	}

	failed(): Enrichment {
		return {links: null};
	}
}

/** What links are made of, as one string: the labels (few: only those updock reads are listed), the target's config and tag. */
function linksKey(labels: Readonly<Record<string, string>>, targetDigest: string | null, targetTag: string | null): string {
	let key = `${targetDigest ?? ''}\u0000${targetTag ?? '\u0001'}`;
	for (const name of Object.keys(labels).sort()) {
		key += `\u0000${name}\u0000${labels[name] ?? ''}`;
	}

	return key;
}
