/**
 * Source and changelog links from the OCI labels of the image a container runs and of the image it
 * would move to. Label values come from whoever built the image: every one is checked, and only
 * well-formed http(s) URLs ever come out. No requests are made to the hosts named.
 */
import type {ImageLinks} from './types.ts';
import {parseVersionTag} from './versions.ts';

/** An image config's labels (`Config.Labels`). */
export type ImageLabels = Readonly<Record<string, string>>;

/** What an image's labels say about where it comes from; each field null when absent or unusable. */
export interface ImageLabelFacts {
	/** `org.opencontainers.image.source`, else `org.label-schema.vcs-url`: the repository, normalised (`https://github.com/o/r`). */
	readonly source: string | null;
	/** `org.opencontainers.image.revision`, else `org.label-schema.vcs-ref`: a commit hash or a ref name. */
	readonly revision: string | null;
	/** `org.opencontainers.image.version`, else `org.label-schema.version`. */
	readonly version: string | null;
	/** `org.opencontainers.image.url`, else `org.label-schema.url`: the project's page. */
	readonly url: string | null;
	/** `org.opencontainers.image.documentation`, else `org.label-schema.usage`. */
	readonly documentation: string | null;
}

/** Longer label values are ignored, and so are longer URLs once normalised. */
export const maxLabelLength = 2000;

type ForgeKind = 'github' | 'gitlab' | 'gitea' | 'bitbucket';

interface Source {
	/** The URL returned as `source`. */
	readonly url: string;
	/** The repository on a known forge, or null for another host. */
	readonly forge: {readonly kind: ForgeKind; readonly base: string} | null;
}

// Controls and whitespace anywhere make a value unusable; C1 controls and the invisible bidi/zero-width
// characters included, so a label cannot make a link read as something it is not.
const unsafeCharacters = /[\u0000-\u0020\u007F-\u00A0\u200B-\u200F\u2028-\u202F\u2060-\u206F\uFEFF]/;
const scpLike = /^(?:[\w.-]{1,64}@)?([A-Za-z0-9.-]{1,253}):(?!\/\/)(.+)$/;
const pathSegment = /^[\w.-]{1,255}$/;
const hexRevision = /^[0-9a-fA-F]{7,64}$/;
const refRevision = /^[A-Za-z0-9][\w.+/-]{0,199}$/;
// Hosts everyone knows; their http links are upgraded to https. Self-hosted forges keep their scheme and port.
const publicForges: Readonly<Record<string, ForgeKind>> = {
	'github.com': 'github',
	'gitlab.com': 'gitlab',
	'codeberg.org': 'gitea',
	'bitbucket.org': 'bitbucket',
};
// GitLab paths end where its own pages start: `/-/...`, and `/tree/`, `/blob/` in older links.
const gitlabPageSegments = new Set(['-', 'tree', 'blob']);

function cleanValue(value: string | undefined): string | null {
	if (value === undefined) {
		return null;
	}

	const trimmed = value.trim();
	if (trimmed === '' || trimmed.length > maxLabelLength || unsafeCharacters.test(trimmed)) {
		return null;
	}

	return trimmed;
}

function firstLabel(labels: ImageLabels | null | undefined, ...names: string[]): string | null {
	for (const name of names) {
		// Own properties only: a label named `__proto__` or `constructor` is just a missing label.
		const value = labels !== null && labels !== undefined && Object.hasOwn(labels, name) ? cleanValue(labels[name]) : null;
		if (value !== null) {
			return value;
		}
	}

	return null;
}

function forgeKind(hostname: string): ForgeKind | null {
	const host = hostname.startsWith('www.') ? hostname.slice(4) : hostname;
	const known = Object.hasOwn(publicForges, host) ? publicForges[host] : undefined;
	if (known !== undefined) {
		return known;
	}

	if (host.startsWith('gitlab.')) {
		return 'gitlab';
	}

	if (host.startsWith('gitea.') || host.startsWith('forgejo.')) {
		return 'gitea';
	}

	return null;
}

function parseUrl(text: string): URL | null {
	try {
		return new URL(text);
	} catch {
		return null;
	}
}

/** An http(s) URL as text, or null: the one gate every returned URL passes. */
function httpUrl(text: string): string | null {
	const url = parseUrl(text);
	if (url === null || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
		return null;
	}

	// Credentials in a label are a leak, never part of a link.
	url.username = '';
	url.password = '';
	return url.href.length > maxLabelLength ? null : url.href;
}

/** The repository path on a forge: `o/r` (GitLab: every group down to the project), without `.git`. */
function repositoryPath(kind: ForgeKind, pathname: string): string | null {
	const segments = pathname.split('/').filter(segment => segment !== '');
	let path: string[];
	if (kind === 'gitlab') {
		const end = segments.findIndex(segment => gitlabPageSegments.has(segment));
		path = end === -1 ? segments : segments.slice(0, end);
		const dotGit = path.findIndex(segment => segment.endsWith('.git'));
		if (dotGit !== -1) {
			path = path.slice(0, dotGit + 1);
		}
	} else {
		path = segments.slice(0, 2);
	}

	if (path.length < 2) {
		return null;
	}

	path = [...path.slice(0, -1), (path.at(-1) ?? '').replace(/\.git$/, '')];
	if (!path.every(segment => pathSegment.test(segment) && segment !== '.' && segment !== '..')) {
		return null;
	}

	return path.join('/');
}

/**
 * Read a source label: `https://github.com/o/r`, `https://github.com/o/r.git`, `git+https://...`,
 * `git@github.com:o/r.git`, `ssh://git@github.com/o/r`, trailing slashes and subpaths
 * (`https://github.com/o/r/tree/main/images/x`) all give the repository `https://github.com/o/r`.
 * Other http(s) hosts keep their path, without credentials, query, fragment, `.git` or trailing slashes.
 * ssh, scp-like and git:// addresses are understood for known forges only; anything else is null.
 */
function parseSource(value: string): Source | null {
	const text = value.startsWith('git+') ? value.slice(4) : value;
	let url: URL | null;
	let fromSsh = false;
	const scp = scpLike.exec(text);
	if (scp === null) {
		url = parseUrl(text);
		if (url !== null && (url.protocol === 'ssh:' || url.protocol === 'git:')) {
			fromSsh = true;
		} else if (url !== null && url.protocol !== 'http:' && url.protocol !== 'https:') {
			return null;
		}
	} else {
		url = parseUrl(`https://${scp[1] ?? ''}/${scp[2] ?? ''}`);
		fromSsh = true;
	}

	if (url === null) {
		return null;
	}

	const kind = forgeKind(url.hostname);
	if (kind === null) {
		if (fromSsh) {
			return null;
		}

		const generic = httpUrl(`${url.protocol}//${url.host}${url.pathname.replace(/\/+$/, '').replace(/\.git$/, '')}`);
		return generic === null ? null : {url: generic, forge: null};
	}

	const path = repositoryPath(kind, url.pathname);
	if (path === null) {
		return null;
	}

	const isPublic = Object.hasOwn(publicForges, url.hostname.replace(/^www\./, ''));
	const origin = fromSsh || isPublic ? `https://${url.hostname.replace(/^www\./, '')}` : `${url.protocol}//${url.host}`;
	const base = httpUrl(`${origin}/${path}`);
	return base === null ? null : {url: base, forge: {kind, base}};
}

function checkRevision(value: string | null): string | null {
	if (value === null) {
		return null;
	}

	if (hexRevision.test(value)) {
		return value;
	}

	// A ref name as git allows it: no `..`, no trailing `/`, `.` or `.lock`.
	if (!refRevision.test(value) || value.includes('..') || value.endsWith('/') || value.endsWith('.') || value.endsWith('.lock')) {
		return null;
	}

	return value;
}

function checkVersion(value: string | null): string | null {
	return value !== null && parseVersionTag(value) !== null ? value : null;
}

/** A revision or version as one piece of a URL path; ref names keep their slashes, which the forges expect. */
function pathPiece(value: string): string {
	return encodeURIComponent(value).replaceAll('%2F', '/');
}

interface ReadLabels {
	readonly facts: ImageLabelFacts;
	readonly source: Source | null;
}

function readLabels(labels: ImageLabels | null | undefined): ReadLabels {
	const sourceValue = firstLabel(labels, 'org.opencontainers.image.source', 'org.label-schema.vcs-url');
	const source = sourceValue === null ? null : parseSource(sourceValue);
	const url = firstLabel(labels, 'org.opencontainers.image.url', 'org.label-schema.url');
	const documentation = firstLabel(labels, 'org.opencontainers.image.documentation', 'org.label-schema.usage');
	const facts = {
		source: source?.url ?? null,
		revision: checkRevision(firstLabel(labels, 'org.opencontainers.image.revision', 'org.label-schema.vcs-ref')),
		version: firstLabel(labels, 'org.opencontainers.image.version', 'org.label-schema.version'),
		url: url === null ? null : httpUrl(url),
		documentation: documentation === null ? null : httpUrl(documentation),
	};
	return {facts, source};
}

/** What one image's labels say, every value checked. */
export function readImageLabels(labels: ImageLabels | null | undefined): ImageLabelFacts {
	return readLabels(labels).facts;
}

function compareUrl(kind: ForgeKind, base: string, from: string, to: string): string | null {
	const a = pathPiece(from);
	const b = pathPiece(to);
	switch (kind) {
		case 'github':
		case 'gitea': {
			return httpUrl(`${base}/compare/${a}...${b}`);
		}

		case 'gitlab': {
			return httpUrl(`${base}/-/compare/${a}...${b}`);
		}

		case 'bitbucket': {
			// Bitbucket Cloud names the newer side first, then the older, joined by an encoded carriage return.
			return httpUrl(`${base}/branches/compare/${b}%0D${a}`);
		}
	}
}

function releaseUrl(kind: ForgeKind, base: string, version: string): string | null {
	const v = pathPiece(version);
	switch (kind) {
		case 'github':
		case 'gitea': {
			return httpUrl(`${base}/releases/tag/${v}`);
		}

		case 'gitlab': {
			return httpUrl(`${base}/-/releases/${v}`);
		}

		case 'bitbucket': {
			return null;
		}
	}
}

/**
 * The links of a row, from the labels of the running image, of the image it would move to (null when
 * there is none or it is not known yet) and the tag it would move to. `changes` is the forge's compare
 * page when both revisions are known, differ and come from one repository on GitHub, GitLab,
 * Codeberg/Gitea or Bitbucket; `release` is the forge's release page for the target's version label,
 * else its tag, when either reads as a version (none on Bitbucket, which has no release pages).
 */
export function imageLinks(currentLabels: ImageLabels | null | undefined, targetLabels: ImageLabels | null, targetTag: string | null): ImageLinks {
	const {facts: current, source: currentSource} = readLabels(currentLabels);
	const {facts: target, source: targetSource} = readLabels(targetLabels);
	const source = currentSource ?? targetSource;

	// A compare page only makes sense inside one repository.
	const sameRepository = currentSource === null || targetSource === null
		|| currentSource.url.toLowerCase() === targetSource.url.toLowerCase();
	let changes: string | null = null;
	if (source?.forge && sameRepository && current.revision !== null && target.revision !== null
		&& current.revision.toLowerCase() !== target.revision.toLowerCase()) {
		changes = compareUrl(source.forge.kind, source.forge.base, current.revision, target.revision);
	}

	// The target's release lives in the target's repository.
	const releaseSource = targetSource ?? currentSource;
	const version = checkVersion(target.version) ?? checkVersion(targetTag);
	const release = releaseSource?.forge && version !== null
		? releaseUrl(releaseSource.forge.kind, releaseSource.forge.base, version)
		: null;

	return {
		source: source?.url ?? null,
		revision: current.revision,
		targetRevision: target.revision,
		changes,
		release,
	};
}
