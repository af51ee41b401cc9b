import {createHash} from 'node:crypto';
import {isDigest} from '../core/reference.ts';
import type {Platform} from '../core/types.ts';

export const indexMediaTypes = [
	'application/vnd.oci.image.index.v1+json',
	'application/vnd.docker.distribution.manifest.list.v2+json',
] as const;

export const imageMediaTypes = [
	'application/vnd.oci.image.manifest.v1+json',
	'application/vnd.docker.distribution.manifest.v2+json',
] as const;

/** Every type we accept: leaving out the list types makes registries answer with one platform's digest. */
export const manifestAccept = [...indexMediaTypes, ...imageMediaTypes].join(', ');

export interface IndexEntry {
	readonly digest: string;
	readonly mediaType: string;
	readonly platform?: Platform;
}

export type ParsedManifest =
	| {readonly kind: 'index'; readonly manifests: readonly IndexEntry[]}
	| {readonly kind: 'image'; readonly configDigest: string};

export function sha256Digest(bytes: Buffer): string {
	return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

/**
 * Read a manifest or index. The media type comes from the `mediaType` field, else the Content-Type
 * header; an OCI index may also be recognised by its `manifests` array.
 * @returns null when the document is neither; the caller says where it came from.
 */
export function parseManifest(body: Buffer, contentType: string | undefined): ParsedManifest | null {
	let document: unknown;
	try {
		document = JSON.parse(body.toString('utf8'));
	} catch {
		return null;
	}

	if (typeof document !== 'object' || document === null) {
		return null;
	}

	const record = document as Record<string, unknown>;
	const mediaType = typeof record['mediaType'] === 'string' ? record['mediaType'] : contentType?.split(';')[0]?.trim();
	const isIndex = (indexMediaTypes as readonly string[]).includes(mediaType ?? '') || (mediaType === undefined && Array.isArray(record['manifests']));
	if (isIndex && Array.isArray(record['manifests'])) {
		const manifests: IndexEntry[] = [];
		for (const entry of record['manifests'] as unknown[]) {
			const parsed = parseIndexEntry(entry);
			if (parsed !== undefined) {
				manifests.push(parsed);
			}
		}

		return {kind: 'index', manifests};
	}

	const config = record['config'];
	if (typeof config === 'object' && config !== null) {
		const digest = (config as Record<string, unknown>)['digest'];
		if (typeof digest === 'string' && isDigest(digest)) {
			return {kind: 'image', configDigest: digest};
		}
	}

	return null;
}

function parseIndexEntry(entry: unknown): IndexEntry | undefined {
	if (typeof entry !== 'object' || entry === null) {
		return undefined;
	}

	const record = entry as Record<string, unknown>;
	const {digest, mediaType, platform} = record;
	if (typeof digest !== 'string' || !isDigest(digest)) {
		return undefined;
	}

	let parsedPlatform: Platform | undefined;
	if (typeof platform === 'object' && platform !== null) {
		const {os, architecture, variant} = platform as Record<string, unknown>;
		if (typeof os === 'string' && typeof architecture === 'string') {
			parsedPlatform = {os, architecture, variant: typeof variant === 'string' && variant !== '' ? variant : undefined};
		}
	}

	return {digest, mediaType: typeof mediaType === 'string' ? mediaType : '', platform: parsedPlatform};
}
