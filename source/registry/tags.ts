import {z} from 'zod';
import {RegistryError} from '../core/errors.ts';
import {isTag} from '../core/reference.ts';

const tagPage = z.object({tags: z.array(z.unknown()).nullish()}).loose();

/** The tags of one `tags/list` page (`{"name": ..., "tags": [...] | null}`). */
export function parseTagPage(body: Buffer, registry: string, url: string): string[] {
	let json: unknown;
	try {
		json = JSON.parse(body.toString('utf8'));
	} catch {
		throw new RegistryError({message: `Registry ${registry} answered ${url} with something that is not JSON; a tag list is {"name": ..., "tags": [...]}.`, status: 200, code: 'TAGS_INVALID', url, temporary: false});
	}

	const parsed = tagPage.safeParse(json);
	if (!parsed.success) {
		throw new RegistryError({message: `Registry ${registry} answered ${url} with JSON that is not a tag list ({"name": ..., "tags": [...]}).`, status: 200, code: 'TAGS_INVALID', url, temporary: false});
	}

	// Anything that is not a tag the distribution spec allows is dropped, never shown.
	return (parsed.data.tags ?? []).filter((tag): tag is string => typeof tag === 'string' && isTag(tag));
}

/**
 * The `rel="next"` target of a `Link` header, resolved against the URL that answered; undefined when
 * there is none. A next page on another origin is refused: the listing stays with the registry.
 */
export function nextLink(link: string | undefined, responseUrl: string, origin: string, registry: string): URL | undefined {
	if (link === undefined) {
		return undefined;
	}

	for (const match of link.matchAll(/<([^>]*)>((?:\s*;\s*[^;,]+)*)/g)) {
		const params = match[2] ?? '';
		if (!/;\s*rel\s*=\s*"?(?:[^";,]*\s)?next(?:\s[^";,]*)?"?/i.test(params)) {
			continue;
		}

		let next: URL;
		try {
			next = new URL(match[1]!, responseUrl);
		} catch {
			throw new RegistryError({message: `Registry ${registry} sent a Link header with an invalid next page ${JSON.stringify(match[1]!.slice(0, 200))}.`, status: 200, code: 'TAGS_INVALID', url: responseUrl, temporary: false});
		}

		if (next.origin !== origin) {
			throw new RegistryError({message: `Registry ${registry} sent the next page of tags to ${next.origin}, another origin; updock lists tags on the registry only.`, status: 200, code: 'TAGS_INVALID', url: responseUrl, temporary: false});
		}

		return next;
	}

	return undefined;
}
