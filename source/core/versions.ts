/**
 * Version tags: which tags read as versions, which other tags of the same repository a container
 * could move to without changing anything else about its image, and how big each jump is.
 */
import type {NewerVersion, VersionKind} from './types.ts';

/** Regular expressions on the tag (`updock.tags.include` / `updock.tags.exclude`) that narrow the candidates. */
export interface TagFilter {
	/** Only tags it matches are candidates. */
	readonly include?: RegExp | undefined;
	/** Tags it matches are never candidates. */
	readonly exclude?: RegExp | undefined;
}

/**
 * A pre-release marker: letters glued to the numbers (`1.2.3rc1`, `16beta1`, any letters), or a
 * suffix segment that is one of the pre-release words (`-rc.1`, `-rc1`, `-rc-1`, `-beta`, `-alpha2`,
 * `-preview`, `-dev`, `-nightly`, `-pre`, `-snapshot`, `-canary`, `-ea`, `-edge`, `-next`, `-insiders`,
 * `-experimental`, `-unstable`, in any letter case), wherever it stands in the suffix.
 */
export interface PreRelease {
	/** Lowercase: `rc`, `beta`, ... */
	readonly word: string;
	/** `[1]` for `rc.1`, `rc1` and `rc-1`; `[]` for a bare `beta`. */
	readonly numbers: readonly number[];
	/** Written against the numbers (`3.13.0rc3`) rather than as a segment of the suffix (`3.13.0-rc3`). */
	readonly glued: boolean;
}

/**
 * A tag that reads as a version: `[prefix letters][1 to 4 dot-separated numbers][glued pre-release][suffix]`.
 *
 * The suffix, once a pre-release segment is taken out, is the image's variant. Its build number is the
 * last run of digits in it, with the dots between them (`-alpine3.20` -> `[3, 20]`, `-ls209` -> `[209]`,
 * `-debian-12-r3` -> `[3]`, `-alpine3.20-slim` -> `[3, 20]`). Setting it aside leaves the shape, each
 * number replaced by `#` (`-alpine#.#`, `-ls#`, `-debian-12-r#`, `-alpine#.#-slim`): a tag only moves to
 * tags of the same shape, so `-alpine` stays `-alpine`, `-alpine3.19` may become `-alpine3.20`, and
 * `-debian-12-r3` may become `-debian-12-r5` but not `-debian-13-r1`. Windows variants
 * (`-windowsservercore-ltsc2022`, `-nanoserver-1809`) have no build number: their number is the Windows
 * release the host must run, so they only move to the same one.
 */
export interface VersionTag {
	readonly tag: string;
	/** Letters glued before the first number: `v` in `v2.11.3`; empty for `1.25`. */
	readonly prefix: string;
	/** 1 to 4 numbers: `[1, 25, 3]`. Leading zeros are dropped (`2024.06.01` -> `[2024, 6, 1]`). */
	readonly numbers: readonly number[];
	/** The digits of each number as written (`['2024', '06', '01']`), to choose between equal versions written differently. */
	readonly written: readonly string[];
	readonly prerelease: PreRelease | null;
	/** The variant: the suffix without its pre-release segment, as written (`-alpine3.20`), or empty. */
	readonly suffix: string;
	/** The variant with its build number's parts replaced by `#`: `-alpine#.#`. */
	readonly suffixShape: string;
	/** The variant's build number: `[3, 20]` for `-alpine3.20`; `[]` when it has none. */
	readonly suffixBuild: readonly number[];
}

// Docker's own tag grammar; it also bounds every tag at 128 characters before any other work.
const tagGrammar = /^\w[\w.-]{0,127}$/;
// Commit hashes (`3f2a1b4`, full SHAs) are names, not versions; all-digit runs stay versions (dates).
const hexHash = /^(?=[0-9]*[a-f])[0-9a-f]{7,64}$/;
const head = /^([A-Za-z]*)(\d+(?:\.\d+){0,3})(?:([A-Za-z]+)(\.?\d+)?)?(.*)$/;
const preReleaseSegment = /^(alpha|beta|rc|pre|preview|dev|nightly|snapshot|canary|ea|edge|next|insiders|experimental|unstable)(?:\.?(\d+(?:\.\d+)*))?$/i;
const digitsOnly = /^\d+$/;
const archLike = /^[-_]\d/;
// A Windows image must match the host's Windows release, so `ltsc2022` or `1809` there is no build number.
const windowsVariant = /windowsservercore|nanoserver/i;
// Past 15 digits a number loses precision as a double; no real version needs more.
const maxDigits = 15;

interface Segment {
	readonly separator: string;
	readonly text: string;
}

function toNumbers(written: readonly string[]): number[] | null {
	if (written.some(part => part.length > maxDigits)) {
		return null;
	}

	return written.map(Number);
}

function isDigit(character: string | undefined): boolean {
	return character !== undefined && character >= '0' && character <= '9';
}

function splitSegments(suffix: string): Segment[] {
	const segments: Segment[] = [];
	let start = 0;
	while (start < suffix.length) {
		let end = start + 1;
		while (end < suffix.length && suffix[end] !== '-' && suffix[end] !== '_') {
			end++;
		}

		segments.push({separator: suffix.slice(start, start + 1), text: suffix.slice(start + 1, end)});
		start = end;
	}

	return segments;
}

/** Take the first pre-release segment out of the suffix; a bare word takes a number segment right after it (`-rc-1`). */
function takePreRelease(segments: Segment[]): {prerelease: PreRelease | null; rest: Segment[]} | null {
	const index = segments.findIndex(segment => preReleaseSegment.test(segment.text));
	const segment = segments[index];
	if (segment === undefined) {
		return {prerelease: null, rest: segments};
	}

	const match = preReleaseSegment.exec(segment.text);
	const word = (match?.[1] ?? '').toLowerCase();
	let written = match?.[2]?.split('.') ?? [];
	let taken = 1;
	const next = segments[index + 1];
	if (written.length === 0 && next !== undefined && digitsOnly.test(next.text)) {
		written = [next.text];
		taken = 2;
	}

	const numbers = toNumbers(written);
	if (numbers === null) {
		return null;
	}

	const rest = [...segments.slice(0, index), ...segments.slice(index + taken)];
	return {prerelease: {word, numbers, glued: false}, rest};
}

/** The last run of digits (with the dots between them) in the variant is its build number. */
function splitBuild(variant: string): {shape: string; build: number[]} | null {
	if (windowsVariant.test(variant)) {
		return {shape: variant, build: []};
	}

	let end = variant.length;
	while (end > 0 && !isDigit(variant[end - 1])) {
		end--;
	}

	if (end === 0) {
		return {shape: variant, build: []};
	}

	let start = end;
	while (start > 0) {
		const before = variant[start - 1];
		if (isDigit(before) || (before === '.' && isDigit(variant[start - 2]))) {
			start--;
		} else {
			break;
		}
	}

	const written = variant.slice(start, end).split('.');
	const build = toNumbers(written);
	if (build === null) {
		return null;
	}

	return {shape: `${variant.slice(0, start)}${written.map(() => '#').join('.')}${variant.slice(end)}`, build};
}

/**
 * Read a tag as a version.
 * @returns null for tags that are not versions: `latest`, `stable`, `mainline`, `edge`, `lts-slim`,
 * commit hashes (`3f2a1b4`, `sha-3f2a1b`), names before a dash (`noble-20240605`, `version-10.2-ls209`,
 * `windowsservercore-ltsc2022`), a lettered name with one number before a dash and a digit
 * (`amd64-4.0.12.2823-ls232`, `arm64v8-...`), more than 4 numbers, a number of more than 15 digits, text after the
 * numbers that starts with neither a letter, `-` nor `_`, and anything outside Docker's tag grammar.
 */
export function parseVersionTag(tag: string): VersionTag | null {
	const known = parsedTags.get(tag);
	if (known !== undefined) {
		return known;
	}

	const parsed = readVersionTag(tag);
	if (parsedTags.size >= parsedTagLimit) {
		parsedTags.clear();
	}

	parsedTags.set(tag, parsed);
	return parsed;
}

/**
 * Tags read before, and what they read as. Every scan reads the tags of every listed repository again
 * for each row on it, and a repository keeps its tags: read once, each is looked up after. Cleared when
 * full, as a scan's tags fit many times over.
 */
const parsedTags = new Map<string, VersionTag | null>();
const parsedTagLimit = 50_000;

function readVersionTag(tag: string): VersionTag | null {
	if (!tagGrammar.test(tag) || hexHash.test(tag)) {
		return null;
	}

	const match = head.exec(tag);
	if (match === null) {
		return null;
	}

	const [, prefix = '', digits = '', gluedWord, gluedNumber, rest = ''] = match;
	if (rest !== '' && !rest.startsWith('-') && !rest.startsWith('_')) {
		return null;
	}

	const written = digits.split('.');
	// `amd64-4.0.12.2823-ls232`, `arm64v8-...`, `i386-...`: a name with one number, then the version.
	if (prefix !== '' && written.length === 1 && archLike.test(rest)) {
		return null;
	}

	const numbers = toNumbers(written);
	if (numbers === null) {
		return null;
	}

	let prerelease: PreRelease | null = null;
	let variantSegments = splitSegments(rest);
	if (gluedWord === undefined) {
		const taken = takePreRelease(variantSegments);
		if (taken === null) {
			return null;
		}

		prerelease = taken.prerelease;
		variantSegments = taken.rest;
	} else {
		const gluedNumbers = toNumbers(gluedNumber === undefined ? [] : [gluedNumber.replace('.', '')]);
		if (gluedNumbers === null) {
			return null;
		}

		prerelease = {word: gluedWord.toLowerCase(), numbers: gluedNumbers, glued: true};
	}

	const suffix = variantSegments.map(segment => `${segment.separator}${segment.text}`).join('');
	const split = splitBuild(suffix);
	if (split === null) {
		return null;
	}

	return {tag, prefix, numbers, written, prerelease, suffix, suffixShape: split.shape, suffixBuild: split.build};
}

function compareNumberLists(a: readonly number[], b: readonly number[]): number {
	const length = Math.min(a.length, b.length);
	for (let index = 0; index < length; index++) {
		const difference = (a[index] ?? 0) - (b[index] ?? 0);
		if (difference !== 0) {
			return Math.sign(difference);
		}
	}

	return Math.sign(a.length - b.length);
}

/**
 * Order two versions: numbers part by part, then a release above its pre-releases (pre-releases by
 * their numbers), then the suffix's build number. 0 for versions that differ only in how they are written.
 */
export function compareVersions(a: VersionTag, b: VersionTag): number {
	const byNumbers = compareNumberLists(a.numbers, b.numbers);
	if (byNumbers !== 0) {
		return byNumbers;
	}

	if (a.prerelease === null || b.prerelease === null) {
		const byRelease = (a.prerelease === null ? 1 : 0) - (b.prerelease === null ? 1 : 0);
		if (byRelease !== 0) {
			return byRelease;
		}
	} else {
		const byPreRelease = compareNumberLists(a.prerelease.numbers, b.prerelease.numbers);
		if (byPreRelease !== 0) {
			return byPreRelease;
		}
	}

	return compareNumberLists(a.suffixBuild, b.suffixBuild);
}

/**
 * Whether the current tag could move to the candidate without changing anything else about the image:
 * the same prefix, the same number of numbers and the same suffix shape. A pre-release candidate also
 * needs a current pre-release of the same word written the same way (`-rc.1` -> `-rc.2`, `rc1` -> `rc2`).
 * Says nothing about which is newer.
 */
export function compatible(current: VersionTag, candidate: VersionTag): boolean {
	if (current.prefix !== candidate.prefix
		|| current.numbers.length !== candidate.numbers.length
		|| current.suffixShape !== candidate.suffixShape) {
		return false;
	}

	if (candidate.prerelease === null) {
		return true;
	}

	return current.prerelease !== null
		&& current.prerelease.word === candidate.prerelease.word
		&& current.prerelease.glued === candidate.prerelease.glued;
}

/**
 * The kind of jump to a newer compatible candidate: `patch` keeps major and minor (for a one- or
 * two-part version, all its numbers: only a build number or a pre-release moved), `minor` keeps the
 * major, `major` is anything else.
 */
function kindOf(current: VersionTag, candidate: VersionTag): VersionKind {
	const kept = Math.min(current.numbers.length, 2);
	let same = 0;
	while (same < kept && current.numbers[same] === candidate.numbers[same]) {
		same++;
	}

	if (same === kept) {
		return 'patch';
	}

	return same >= 1 ? 'minor' : 'major';
}

/** How many numbers are written with another width than the current tag's (`1.25.04` vs `1.25.4`). */
function styleDistance(current: VersionTag, candidate: VersionTag): number {
	let distance = 0;
	for (const [index, part] of candidate.written.entries()) {
		if (part.length !== current.written[index]?.length) {
			distance++;
		}
	}

	return distance;
}

/** Between two candidates of the same kind: the newer; between equal versions, the one written like the current tag, then the shorter, then the first in code-unit order. */
function better(current: VersionTag, candidate: VersionTag, best: VersionTag): boolean {
	const order = compareVersions(candidate, best);
	if (order !== 0) {
		return order > 0;
	}

	const style = styleDistance(current, candidate) - styleDistance(current, best);
	if (style !== 0) {
		return style < 0;
	}

	if (candidate.tag.length !== best.tag.length) {
		return candidate.tag.length < best.tag.length;
	}

	return candidate.tag < best.tag;
}

function allowed(tag: string, filter: TagFilter): boolean {
	// `search` ignores and restores `lastIndex`, so a regular expression with the `g` flag gives the same answer every time.
	if (filter.include !== undefined && tag.search(filter.include) === -1) {
		return false;
	}

	return filter.exclude === undefined || tag.search(filter.exclude) === -1;
}

const kinds: readonly VersionKind[] = ['patch', 'minor', 'major'];

/**
 * The newer versions a container on `currentTag` could move to: among the compatible tags of
 * `allTags` (after the filter) that are newer than it, the newest of each kind, ascending.
 * One pass over the tags, each parsed once.
 * @returns null when `currentTag` is not a version; `[]` when nothing compatible is newer.
 */
export function newerVersions(currentTag: string, allTags: Iterable<string>, filter: TagFilter = {}): NewerVersion[] | null {
	const current = parseVersionTag(currentTag);
	if (current === null) {
		return null;
	}

	const best = new Map<VersionKind, VersionTag>();
	for (const tag of allTags) {
		if (!allowed(tag, filter)) {
			continue;
		}

		const candidate = parseVersionTag(tag);
		if (candidate === null || !compatible(current, candidate) || compareVersions(candidate, current) <= 0) {
			continue;
		}

		const kind = kindOf(current, candidate);
		const previous = best.get(kind);
		if (previous === undefined || better(current, candidate, previous)) {
			best.set(kind, candidate);
		}
	}

	const newer: NewerVersion[] = [];
	for (const kind of kinds) {
		const found = best.get(kind);
		if (found !== undefined) {
			newer.push({tag: found.tag, type: kind});
		}
	}

	return newer;
}
