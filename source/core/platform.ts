import type {Platform} from './types.ts';

/** Variants that an engine leaves out because they are the default for the architecture (containerd `platforms`). */
function normalizedVariant(platform: Platform): string | undefined {
	const variant = platform.variant === '' ? undefined : platform.variant;
	if (platform.architecture === 'arm64') {
		return variant ?? 'v8';
	}

	if (platform.architecture === 'arm') {
		return variant ?? 'v7';
	}

	return variant;
}

/** Whether an index entry's platform can run the image of `want` (os and architecture equal, variants compatible). */
export function platformMatches(want: Platform, have: Platform): boolean {
	if (want.os !== have.os || want.architecture !== have.architecture) {
		return false;
	}

	const wantVariant = normalizedVariant(want);
	const haveVariant = normalizedVariant(have);
	return wantVariant === undefined || haveVariant === undefined || wantVariant === haveVariant;
}

/**
 * The index entry for `want`: an exact variant match first, then one that leaves the variant open.
 * Attestation entries (`unknown/unknown`) never match.
 */
export function selectPlatform<T extends {readonly platform?: Platform | undefined}>(entries: readonly T[], want: Platform): T | undefined {
	const candidates = entries.filter(entry => entry.platform !== undefined && platformMatches(want, entry.platform));
	const wantVariant = normalizedVariant(want);
	return candidates.find(entry => entry.platform !== undefined && normalizedVariant(entry.platform) === wantVariant) ?? candidates[0];
}
