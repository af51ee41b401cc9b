import {familiarName, parseReference} from './reference.ts';
import {formatPlatform, type ContainerResult, type Enrichment, type Exclusion, type NewerVersion, type Risk, type RiskLevel, type ScanStatus, type ScanSummary, type ServiceInfo} from './types.ts';

/** A status as shown: a scan's verdict, or `checking` while a row waits for its first one. */
export type DisplayStatus = ScanStatus | 'checking';

/** How a status is shown: the words carry the meaning without colour. */
export interface StatusLook {
	readonly symbol: string;
	/** Short words, for the live view's narrow column and header. */
	readonly label: string;
	/** Full words, for the headless table and its summary line. */
	readonly words: string;
	/** `words` for a count other than one. */
	readonly plural: string;
	/** An Ink colour name, used only when colour is on; the headless table maps it to its own styles. */
	readonly color: 'yellow' | 'red' | 'cyan' | 'green' | 'gray' | 'blue';
}

/** What needs a look first: updates, then errors, then the rest. Every list and count follows it. */
export const statusOrder: readonly DisplayStatus[] = ['update-available', 'error', 'checking', 'up-to-date', 'unknown', 'pinned', 'excluded'];

export const statusLooks: Readonly<Record<DisplayStatus, StatusLook>> = {
	'update-available': {symbol: '↑', label: 'update', words: 'update available', plural: 'update available', color: 'yellow'},
	error: {symbol: '✗', label: 'error', words: 'error', plural: 'errors', color: 'red'},
	checking: {symbol: '…', label: 'checking', words: 'checking', plural: 'checking', color: 'cyan'},
	'up-to-date': {symbol: '✓', label: 'up to date', words: 'up to date', plural: 'up to date', color: 'green'},
	unknown: {symbol: '?', label: 'unknown', words: 'unknown', plural: 'unknown', color: 'gray'},
	pinned: {symbol: '=', label: 'pinned', words: 'pinned', plural: 'pinned', color: 'blue'},
	excluded: {symbol: '-', label: 'excluded', words: 'excluded', plural: 'excluded', color: 'gray'},
};

/** Position in `statusOrder`, for sorting. */
export function statusRank(status: DisplayStatus): number {
	return statusOrder.indexOf(status);
}

/** How many rows of a scan have `status` (none are `checking` once a scan is done). */
export function summaryCount(summary: ScanSummary, status: DisplayStatus): number {
	switch (status) {
		case 'update-available': {
			return summary.updateAvailable;
		}

		case 'up-to-date': {
			return summary.upToDate;
		}

		case 'checking': {
			return 0;
		}

		default: {
			return summary[status];
		}
	}
}

/** The first 12 hex digits of a digest or image id; `-` when there is none. */
export function shortDigest(digest: string | null | undefined, length = 12): string {
	return digest === null || digest === undefined ? '-' : digest.replace(/^sha256:/, '').slice(0, length);
}

/** An image reference with its digest cut to 12 digits (`nginx@sha256:0123456789ab…`): the tag and the start are what people read. */
export function shortImage(image: string): string {
	return image.replace(/@sha256:([a-f\d]{12})[a-f\d]{52}$/, '@sha256:$1…');
}

/**
 * A few words for a failed check, for a table row: `connection refused`, `tag not found`. The full
 * sentence stays in the detail pane and the JSON. Read from the sentences the registry client and the
 * planner write; an unrecognised one gives its first clause.
 */
export function shortError(error: string): string {
	for (const [pattern, words] of shortErrors) {
		const match = pattern.exec(error);
		if (match !== null) {
			return words.replace('$1', match[1] ?? '');
		}
	}

	const clause = /^(.*?)(?:[:;(]| - |\.\s|\.$)/.exec(error)?.[1]?.trim();
	return clause === undefined || clause === '' ? error : clause;
}

const shortErrors: ReadonlyArray<readonly [RegExp, string]> = [
	[/docker-credential-|credential helper/i, 'credential helper failed'],
	[/connection refused/i, 'connection refused'],
	[/does not resolve/i, 'name does not resolve'],
	[/did not answer within|timed out/i, 'timed out'],
	[/rate-limiting|HTTP 429/i, 'rate-limited'],
	[/^Tag "[^"]*" not found/, 'tag not found'],
	[/^Manifest \S+ not found/, 'manifest not found'],
	[/^Repository \S+ does not exist/, 'repository not found'],
	[/does not exist or is private/, 'not found or private'],
	[/has no credentials for/, 'login required'],
	[/lack pull access|denied/i, 'access denied'],
	[/^TLS to registry|certificate/i, 'TLS failed'],
	[/no longer has an image for/, 'platform missing'],
	[/hash to .*refusing to trust/, 'digest mismatch'],
	[/token service/i, 'token failed'],
	[/authentication challenge|authentication updock does not speak|token realm/i, 'auth not supported'],
	[/redirect/i, 'bad redirect'],
	[/more than .*(?:bytes|MiB|limit)|too large/i, 'answer too large'],
	[/is unreachable/, 'unreachable'],
	[/answered HTTP (\d{3})/, 'HTTP $1'],
	[/Cannot read the image reference/, 'bad image reference'],
];

/** Why a container is excluded: the same sentence wherever the exclusion is applied. */
export function exclusionReason(exclusion: Pick<Exclusion, 'id' | 'pattern'>): string {
	return `The image matches exclusion ${exclusion.id} ("${exclusion.pattern}"); nothing is sent to its registry.`;
}

/** What the registry has, for an up-to-date row. */
export const upToDateReason = 'The registry has the image this container runs.';

/** What to do about an update: pull and recreate a container; `docker service update` a service. */
export function updateReason(result: Pick<ContainerResult, 'kind' | 'image' | 'name' | 'platform'>): string {
	const platform = result.platform === null ? '' : ` for ${formatPlatform(result.platform)}`;
	const action = result.kind === 'service' ? `run "${serviceUpdateCommand(result.image, result.name)}"` : 'pull it and recreate the container';
	return `The registry has a newer image${platform} for this tag; ${action}.`;
}

/** `docker service update --image repo:tag name`: the tag without the digest the manager pinned, so it resolves again. */
export function serviceUpdateCommand(image: string, name: string): string {
	let tagged = image.replace(/@sha256:[a-f\d]{64}$/, '');
	try {
		const reference = parseReference(image);
		tagged = `${familiarName(reference)}:${reference.tag ?? 'latest'}`;
	} catch {
		// Not a reference updock can read: the image as written, without its digest.
	}

	return `docker service update --image ${tagged} ${name}`;
}

/** The STATE cell: a container's state as the engine says it; a service's mode and replicas (`replicated 3`, `global`). */
export function workloadState(row: {readonly state: string; readonly service: ServiceInfo | null}): string {
	const {service} = row;
	if (service === null) {
		return row.state;
	}

	return service.replicas === null ? service.mode : `${service.mode} ${service.replicas}`;
}

/** The newer-versions count beside the status counts: not a status, a hint of what a row could move to. */
export const newerLook = {symbol: '↗', label: 'newer', words: 'newer version', plural: 'newer versions'} as const;

export {hasNewerVersion} from './types.ts';

/** The NEWER cell: the newest newer version with its kind (`1.27.1 minor`), or its tag alone when `short`; empty when none or not known. Raw registry text: make it safe before printing. */
export function newestVersion(newer: readonly NewerVersion[] | null | undefined, short = false): string {
	const newest = newer?.at(-1);
	if (newest === undefined) {
		return '';
	}

	return short ? newest.tag : `${newest.tag} ${newest.type}`;
}

/** The RISK cell: `high 72`, or the score alone when `short`; empty when not assessed. */
export function riskText(risk: Risk | null | undefined, short = false): string {
	if (risk === null || risk === undefined) {
		return '';
	}

	return short ? String(risk.score) : `${risk.level} ${risk.score}`;
}

/** How a risk level is coloured (the words carry it without colour); `bold` marks the worst. */
export const riskLooks: Readonly<Record<RiskLevel, {readonly color: StatusLook['color']; readonly bold: boolean}>> = {
	critical: {color: 'red', bold: true},
	high: {color: 'red', bold: false},
	medium: {color: 'yellow', bold: false},
	low: {color: 'green', bold: false},
	none: {color: 'gray', bold: false},
};

/**
 * The optional columns a table of these rows shows: NEWER when the newer-versions step ran for at
 * least one row (its `newer` is defined, even null), RISK when the vulnerabilities step did. A scan
 * without the step has no empty column; one with it shows the column even when every cell is empty.
 */
export function optionalColumns(results: Iterable<Enrichment | null>): {readonly newer: boolean; readonly risk: boolean} {
	let newer = false;
	let risk = false;
	for (const result of results) {
		newer ||= result?.newer !== undefined;
		risk ||= result?.risk !== undefined;
		if (newer && risk) {
			break;
		}
	}

	return {newer, risk};
}
