import type {Database} from './schema.ts';

/** Images whose labels are kept at most; the least recently seen go first. */
export const imageLabelsLimit = 2000;
/**
 * Bytes of label keys and values kept per image. Labels come from image configs anyone can push, and
 * 2,000 images at this size stay far under the file's 64 MB; the labels updock reads are short.
 */
export const imageLabelsBytesLimit = 8 * 1024;
// The OCI digest grammar: algorithm ":" encoded.
const digestPattern = /^[a-z\d]+(?:[.+_-][a-z\d]+)*:[a-zA-Z\d=_-]+$/;

/** The labels remembered for an image config digest, if any. */
export function imageLabelsFor(data: Database, digest: string): Readonly<Record<string, string>> | undefined {
	return Object.hasOwn(data.imageLabels, digest) ? data.imageLabels[digest]?.labels : undefined;
}

/**
 * Remember image config labels by digest (a digest's labels never change, so each is fetched once).
 * Labels that do not fit the per-image budget, in the order given, are left out; the cache stays bounded.
 * Keys that are not digests are ignored.
 */
export function rememberImageLabels(data: Database, learned: ReadonlyMap<string, Readonly<Record<string, string>>>, now: Date): void {
	const seenAt = now.toISOString();
	const entries = new Map(Object.entries(data.imageLabels));
	for (const [digest, labels] of learned) {
		if (digestPattern.test(digest)) {
			entries.delete(digest);
			entries.set(digest, {labels: withinBudget(labels), seenAt});
		}
	}

	const sorted = [...entries].sort(([, a], [, b]) => b.seenAt.localeCompare(a.seenAt));
	data.imageLabels = Object.fromEntries(sorted.slice(0, imageLabelsLimit));
}

function withinBudget(labels: Readonly<Record<string, string>>): Record<string, string> {
	const kept: Array<[string, string]> = [];
	let bytes = 0;
	for (const [key, value] of Object.entries(labels)) {
		const size = Buffer.byteLength(key) + Buffer.byteLength(value);
		if (bytes + size <= imageLabelsBytesLimit) {
			bytes += size;
			kept.push([key, value]);
		}
	}

	return Object.fromEntries(kept);
}
