import {InvalidReferenceError, describeError} from './errors.ts';
import {findExclusion} from './exclusions.ts';
import {formatReference, isImageIdReference, matchingRepoDigests, parseReference, type ImageReference} from './reference.ts';
import {pinMatches} from './pins.ts';
import {exclusionReason} from './status.ts';
import type {ContainerFacts, Exclusion, ImageStore, Pin, Verdict} from './types.ts';

/** A container the scan settles without asking any registry. */
export interface SettledContainer {
	readonly kind: 'settled';
	readonly facts: ContainerFacts;
	readonly reference: ImageReference | null;
	/** `formatReference(reference)`, one string shared by the rows of an image; null without a reference. */
	readonly key: string | null;
	readonly verdict: Verdict;
}

/** A container whose tag must be checked against its registry. */
export interface ContainerToCheck {
	readonly kind: 'check';
	readonly facts: ContainerFacts;
	readonly reference: ImageReference;
	/** `registry/repository:tag`: containers with the same key share one HEAD. */
	readonly key: string;
	/** Digests that identify what this container runs: its RepoDigests for this repository (and, with the containerd store, its image id). */
	readonly localDigests: readonly string[];
}

export type PlannedContainer = SettledContainer | ContainerToCheck;

export interface ScanPlan {
	readonly containers: readonly PlannedContainer[];
	/** One entry per unique (registry, repository, tag), in first-seen order. */
	readonly checks: ReadonlyMap<string, ImageReference>;
}

/** What the plan needs beside the containers. */
export interface PlanSettings {
	readonly pins: readonly Pin[];
	readonly exclusions: readonly Exclusion[];
	/** Each host's image store, which decides what an image id is. @default classic */
	readonly imageStores: ReadonlyMap<string, ImageStore>;
	/** The host that pins made before updock knew several hosts belong to. */
	readonly defaultHost: string;
}

/** The label that opts a container or service out of every check. */
export const enableLabel = 'updock.enable';

/**
 * Decide, without any I/O, what each container needs: a verdict now (pinned, excluded, unknown,
 * unreadable reference) or a registry check, and which checks are shared, across every host.
 */
export function planScan(containers: readonly ContainerFacts[], settings: PlanSettings): ScanPlan {
	const planned: PlannedContainer[] = [];
	const checks = new Map<string, ImageReference>();
	const read = new ReadOnce();
	for (const facts of containers) {
		const entry = planContainer(facts, settings, read);
		planned.push(entry);
		if (entry.kind === 'check' && !checks.has(entry.key)) {
			checks.set(entry.key, entry.reference);
		}
	}

	return {containers: planned, checks};
}

/** A reference as read, with its check key, or why it cannot be read. */
type ReadReference =
	| {readonly reference: ImageReference; readonly key: string}
	| {readonly reference: null; readonly problem: string};

/**
 * References and repository digests read once per plan: the containers of one image share what was
 * read for it, objects and strings, instead of each holding copies (50,000 containers run a few
 * hundred images).
 */
class ReadOnce {
	readonly #references = new Map<string, ReadReference>();
	/** By the engine's RepoDigests list (one list per image in a listing), then by check key. */
	readonly #digests = new WeakMap<readonly string[], Map<string, readonly string[]>>();

	reference(image: string): ReadReference {
		let read = this.#references.get(image);
		if (read === undefined) {
			try {
				const reference = parseReference(image);
				read = {reference, key: formatReference(reference)};
			} catch (error) {
				if (!(error instanceof InvalidReferenceError)) {
					throw error;
				}

				read = {reference: null, problem: describeError(error)};
			}

			this.#references.set(image, read);
		}

		return read;
	}

	repoDigests(reference: ImageReference, key: string, repoDigests: readonly string[]): readonly string[] {
		let byKey = this.#digests.get(repoDigests);
		if (byKey === undefined) {
			byKey = new Map();
			this.#digests.set(repoDigests, byKey);
		}

		let digests = byKey.get(key);
		if (digests === undefined) {
			digests = matchingRepoDigests(reference, repoDigests);
			byKey.set(key, digests);
		}

		return digests;
	}
}

function planContainer(facts: ContainerFacts, {pins, exclusions, imageStores, defaultHost}: PlanSettings, read: ReadOnce): PlannedContainer {
	const imageStore = imageStores.get(facts.host) ?? 'classic';
	const byId = isImageIdReference(facts.image, facts.imageId);
	const readReference = byId ? undefined : read.reference(facts.image);
	// What the early verdicts (a pin, an exclusion) carry: null when there is no reference to read.
	const known = readReference?.reference ?? null;
	const knownKey = readReference !== undefined && readReference.reference !== null ? readReference.key : null;
	// Every reference settled with is `known` or null.
	const settle = (reference: ImageReference | null, verdict: Verdict): SettledContainer => ({kind: 'settled', facts, reference, key: reference === null ? null : knownKey, verdict});

	const pin = pins.find(candidate => pinMatches(candidate, facts.host, facts.name, defaultHost));
	if (pin !== undefined) {
		return settle(known, {status: 'pinned', reason: `Pinned by you on ${pin.pinnedAt.slice(0, 10)}; run "updock unpin ${facts.host}/${facts.name}" to check it again.`, localDigest: known?.digest ?? null});
	}

	const enable = facts.labels[enableLabel];
	if (enable !== undefined && /^(?:false|0|no|off)$/i.test(enable.trim())) {
		return settle(known, {status: 'excluded', reason: `The ${facts.kind} is labelled ${enableLabel}=${enable.trim()}; nothing is sent to its registry.`});
	}

	const exclusion = findExclusion(exclusions, facts.image, known);
	if (exclusion !== undefined) {
		return settle(known, {status: 'excluded', reason: exclusionReason(exclusion)});
	}

	if (byId) {
		return settle(null, {status: 'pinned', reason: 'Created from an image ID, which never changes; recreate it from a tag to follow updates.', localDigest: null});
	}

	if (readReference === undefined || readReference.reference === null) {
		return settle(null, {status: 'error', error: `Cannot read the image reference: ${readReference?.problem ?? 'unknown problem'}`, localDigest: null});
	}

	const {reference, key} = readReference;
	if (reference.digest !== null) {
		return settle(reference, {status: 'pinned', reason: facts.kind === 'service'
			? 'The service names its image by digest only, which never changes; update it with a tag to follow updates.'
			: 'Created from a digest reference, which never changes; recreate it from a tag to follow updates.', localDigest: reference.digest});
	}

	if (!facts.imagePresent) {
		return settle(reference, {status: 'unknown', reason: 'The image this container was created from is no longer in the engine, so there is nothing to compare with.'});
	}

	const matching = read.repoDigests(reference, key, facts.repoDigests);
	// In the containerd image store the image id is the manifest or index digest itself.
	const localDigests = imageStore === 'containerd' && facts.imageId.startsWith('sha256:') ? [...matching, facts.imageId] : matching;

	if (localDigests.length === 0) {
		const reason = facts.kind === 'service'
			? 'The service spec names a tag without the digest the manager resolved, so there is nothing to compare with; "docker service update --image" records one.'
			: facts.repoDigests.length === 0
			? 'Built or imported locally: the image has no registry digest to compare with.'
			: `The image was not pulled from ${reference.registry}/${reference.repository} (its registry digests are for other repositories), so there is nothing to compare with.`;
		return settle(reference, {status: 'unknown', reason});
	}

	return {kind: 'check', facts, reference, key, localDigests};
}
