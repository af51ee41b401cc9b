import {InvalidReferenceError} from './errors.ts';
import {familiarName, formatReference, parseReference, repositoryKey, type ImageReference} from './reference.ts';
import type {Exclusion} from './types.ts';

const patternCharacters = /^[\w.:/@*?[\]-]+$/;

/**
 * Check an exclusion pattern before it is saved.
 * @returns the pattern, trimmed.
 * @throws InvalidReferenceError saying what is wrong with it.
 */
export function validatePattern(input: string): string {
	const pattern = input.trim();
	if (pattern === '') {
		throw new InvalidReferenceError('The exclusion pattern is empty: give an image reference or a glob such as "ghcr.io/acme/*".');
	}

	if (!patternCharacters.test(pattern)) {
		throw new InvalidReferenceError(`"${pattern}" is not an image pattern: use the characters of an image reference plus * (any run of characters) and ? (one character).`);
	}

	if (!hasWildcard(pattern)) {
		parseReference(pattern);
	}

	return pattern;
}

function hasWildcard(pattern: string): boolean {
	return pattern.includes('*') || pattern.includes('?');
}

function globToRegExp(pattern: string): RegExp {
	let source = '';
	for (const character of pattern) {
		if (character === '*') {
			source += '.*';
		} else if (character === '?') {
			source += '.';
		} else {
			source += character.replaceAll(/[\\^$.+()[\]{}|/-]/g, '\\$&');
		}
	}

	return new RegExp(`^${source}$`);
}

/** Whether one pattern matches an image, given as written (`Config.Image`) and parsed (null for an id). */
export function patternMatches(pattern: string, image: string, reference: ImageReference | null): boolean {
	if (!hasWildcard(pattern)) {
		// A plain reference: compare normalised, so `nginx`, `docker.io/nginx` and `docker.io/library/nginx` agree.
		// Without a tag it covers every tag of the repository.
		if (reference === null) {
			return pattern === image;
		}

		let wanted: ImageReference;
		try {
			wanted = parseReference(pattern);
		} catch (error) {
			if (error instanceof InvalidReferenceError) {
				return false;
			}

			throw error;
		}

		if (repositoryKey(wanted) !== repositoryKey(reference)) {
			return false;
		}

		// Same rule as the parser: a tag follows the last colon that has no slash after it.
		const name = pattern.split('@')[0] ?? pattern;
		const colon = name.lastIndexOf(':');
		const tagWritten = colon !== -1 && !name.slice(colon + 1).includes('/');
		return !tagWritten || wanted.tag === reference.tag;
	}

	const expression = globToRegExp(pattern);
	const candidates = [image];
	if (reference !== null) {
		const tag = reference.tag === null ? '' : `:${reference.tag}`;
		candidates.push(formatReference(reference), `${familiarName(reference)}${tag}`, repositoryKey(reference), familiarName(reference));
	}

	return candidates.some(candidate => expression.test(candidate));
}

/** The first exclusion matching the image, if any. */
export function findExclusion(exclusions: readonly Exclusion[], image: string, reference: ImageReference | null): Exclusion | undefined {
	return exclusions.find(exclusion => patternMatches(exclusion.pattern, image, reference));
}
