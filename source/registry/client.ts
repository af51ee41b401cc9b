import {z} from 'zod';
import {RegistryError} from '../core/errors.ts';
import type {RegistryClient} from '../core/ports.ts';
import {dockerHub, isDigest, type ImageReference} from '../core/reference.ts';
import {selectPlatform} from '../core/platform.ts';
import {formatPlatform, type Platform, type PlatformImage, type RemoteTag} from '../core/types.ts';
import type {Authorization, RegistryAuth} from './auth.ts';
import {unavailableError, unavailableStatuses} from './error-mapping.ts';
import type {RateLimit, RegistryHttp} from './http.ts';
import {manifestAccept, parseManifest, sha256Digest, type ParsedManifest} from './manifest.ts';
import {retryAfterMs} from './retry.ts';
import {header, limits, type BodyLimit, type HttpResponse} from './send.ts';
import {nextLink, parseTagPage} from './tags.ts';

/** What a request was for, so a failure can say so. */
type Subject =
	| {readonly kind: 'manifest'; readonly tagOrDigest: string}
	| {readonly kind: 'tags'}
	| {readonly kind: 'blob'; readonly digest: string};

/** A manifest fetched by digest: its bytes as received (their sha256 is the digest), its type, its JSON. */
export interface FetchedManifest {
	readonly mediaType: string;
	readonly bytes: Buffer;
	readonly json: unknown;
}

/** Pages of `tags/list` followed at most: 20,000 tags when the registry honours `n=1000`. */
const maxTagPages = 20;
/**
 * Tags kept of one repository at most. A registry that ignores `n` may send a million one-letter tags
 * in one 4 MiB page, and twenty such pages; past this the listing fails rather than fill memory.
 */
export const maxTags = 100_000;
const defaultConfigPlatform: Platform = {os: 'linux', architecture: 'amd64'};
const imageConfigLabels = z.object({config: z.object({Labels: z.record(z.string(), z.unknown()).nullish()}).nullish()});

/**
 * Manifest requests (go-containerregistry `remote` layering): HEAD for the tag's digest, GET only for
 * what HEAD cannot tell, the digest always from the header or the bytes as received. Tags, manifests
 * by digest and blobs for the features that need them, every one authenticated the same way and
 * checked against its digest.
 */
export class HttpRegistryClient implements RegistryClient {
	readonly #http: RegistryHttp;
	readonly #auth: RegistryAuth;
	/** Registries that kept answering 429: no more requests to them until then. */
	readonly #limited = new Map<string, {until: number; error: RegistryError}>();
	readonly #tagPageSize: number;

	/** @param options.tagPageSize the `n` asked of `tags/list` (tests make it small to see pages). @default 1000 */
	constructor(http: RegistryHttp, auth: RegistryAuth, options: {tagPageSize?: number} = {}) {
		this.#http = http;
		this.#auth = auth;
		this.#tagPageSize = options.tagPageSize ?? 1000;
	}

	async headTag(reference: ImageReference, signal?: AbortSignal): Promise<RemoteTag> {
		const tag = reference.tag ?? 'latest';
		const subject: Subject = {kind: 'manifest', tagOrDigest: tag};
		const head = await this.#manifestRequest('HEAD', reference, tag, signal);
		const digest = header(head.headers, 'docker-content-digest');
		const contentType = header(head.headers, 'content-type') ?? '';
		if (head.status === 200 && digest !== undefined && /^sha256:[a-f\d]{64}$/.test(digest)) {
			return {digest, mediaType: contentType};
		}

		// No usable digest header, a HEAD the registry does not allow, or (off Docker Hub) a 404 that a GET
		// may contradict or explain: GET and hash the bytes exactly as received.
		const getWorthIt = head.status === 200 || head.status === 405 || (head.status === 404 && reference.registry !== dockerHub);
		if (!getWorthIt) {
			throw await this.#failure(head, reference, subject);
		}

		const get = await this.#manifestRequest('GET', reference, tag, signal);
		if (get.status !== 200) {
			throw await this.#failure(get, reference, subject);
		}

		return {digest: sha256Digest(get.body), mediaType: header(get.headers, 'content-type') ?? ''};
	}

	async resolvePlatform(reference: ImageReference, digest: string, platform: Platform, signal?: AbortSignal): Promise<PlatformImage> {
		const top = await this.#parsedByDigest(reference, digest, signal);
		if (top.kind === 'image') {
			return {manifestDigest: digest, configDigest: top.configDigest};
		}

		const entry = selectPlatform(top.manifests, platform);
		if (entry === undefined) {
			const offered = top.manifests.flatMap(child => child.platform === undefined || child.platform.os === 'unknown' ? [] : [formatPlatform(child.platform)]);
			throw new RegistryError({
				message: `${reference.registry}/${reference.repository}:${reference.tag ?? ''} no longer has an image for ${formatPlatform(platform)} (it offers ${offered.join(', ') || 'no platforms'}).`,
				status: 200,
				code: 'PLATFORM_MISSING',
				url: (await this.#url(reference, `manifests/${digest}`)).href,
				temporary: false,
			});
		}

		const child = await this.#parsedByDigest(reference, entry.digest, signal);
		if (child.kind !== 'image') {
			throw new RegistryError({message: `The index ${digest} in ${reference.registry}/${reference.repository} nests another index for ${formatPlatform(platform)}, which images do not do.`, status: 200, code: 'MANIFEST_INVALID', url: (await this.#url(reference, `manifests/${entry.digest}`)).href, temporary: false});
		}

		return {manifestDigest: entry.digest, configDigest: child.configDigest};
	}

	/**
	 * Every tag of the repository: `tags/list?n=1000`, following `Link: <...>; rel="next"` on the same
	 * origin, at most 20 pages of at most 4 MiB each. Entries that are not valid tags are dropped.
	 */
	async listTags(reference: ImageReference, signal?: AbortSignal): Promise<string[]> {
		const first = await this.#url(reference, `tags/list?n=${this.#tagPageSize}`);
		const tags: string[] = [];
		let url: URL | undefined = first;
		for (let page = 0; url !== undefined; page++) {
			if (page >= maxTagPages) {
				throw new RegistryError({message: `Registry ${reference.registry} lists the tags of ${reference.repository} over more than ${maxTagPages} pages; updock stops there to spare the registry.`, status: 200, code: 'TOO_MANY_PAGES', url: url.href, temporary: false});
			}

			// eslint-disable-next-line no-await-in-loop -- each page names the next
			const response = await this.#request('GET', reference, url, {accept: 'application/json', limit: limits.tagPage}, signal);
			if (response.status !== 200) {
				throw await this.#failure(response, reference, {kind: 'tags'});
			}

			for (const tag of parseTagPage(response.body, reference.registry, response.url)) {
				if (tags.length >= maxTags) {
					throw new RegistryError({message: `Registry ${reference.registry} lists more than ${maxTags.toLocaleString('en-US')} tags for ${reference.repository}; updock keeps no more than that of one repository.`, status: 200, code: 'TOO_MANY_TAGS', url: response.url, temporary: false});
				}

				tags.push(tag);
			}

			url = nextLink(header(response.headers, 'link'), response.url, first.origin, reference.registry);
		}

		return tags;
	}

	/** The manifest `digest`, verified against its bytes, at most 4 MiB. */
	async getManifest(reference: ImageReference, digest: string, signal?: AbortSignal): Promise<FetchedManifest> {
		assertDigest(digest, reference);
		const response = await this.#manifestRequest('GET', reference, digest, signal);
		if (response.status !== 200) {
			throw await this.#failure(response, reference, {kind: 'manifest', tagOrDigest: digest});
		}

		verifyDigest(response, digest, reference, 'a manifest');
		let json: unknown;
		try {
			json = JSON.parse(response.body.toString('utf8'));
		} catch {
			throw new RegistryError({message: `${reference.registry} sent a manifest for ${reference.repository}@${digest} that is not JSON.`, status: 200, code: 'MANIFEST_INVALID', url: response.url, temporary: false});
		}

		const declared = typeof json === 'object' && json !== null && 'mediaType' in json && typeof json.mediaType === 'string' ? json.mediaType : undefined;
		return {mediaType: declared ?? header(response.headers, 'content-type')?.split(';')[0]?.trim() ?? '', bytes: response.body, json};
	}

	/** The blob `digest`, at most `maxBytes`, verified against its bytes; redirects to storage carry no credentials. */
	async getBlob(reference: ImageReference, digest: string, maxBytes: number, signal?: AbortSignal): Promise<Buffer> {
		return this.#blob(reference, digest, {maxBytes, why: `updock reads at most that much of ${digest}`}, signal);
	}

	/**
	 * The labels of the image `manifestDigest` (for an index, of its child for `platform`), from its
	 * config blob; empty when it has none.
	 */
	async getConfigLabels(reference: ImageReference, manifestDigest: string, signal?: AbortSignal, platform: Platform = defaultConfigPlatform): Promise<Record<string, string>> {
		const {configDigest} = await this.resolvePlatform(reference, manifestDigest, platform, signal);
		return this.configLabels(reference, configDigest, signal);
	}

	/** The labels of the image config blob `configDigest` (one GET, verified); empty when it has none. */
	async configLabels(reference: ImageReference, configDigest: string, signal?: AbortSignal): Promise<Record<string, string>> {
		const bytes = await this.#blob(reference, configDigest, limits.imageConfig, signal);
		let parsed: z.infer<typeof imageConfigLabels>;
		try {
			parsed = imageConfigLabels.parse(JSON.parse(bytes.toString('utf8')));
		} catch {
			throw new RegistryError({message: `${reference.registry} sent an image config ${configDigest} for ${reference.repository} that is not a JSON image config.`, status: 200, code: 'CONFIG_INVALID', url: (await this.#url(reference, `blobs/${configDigest}`)).href, temporary: false});
		}

		const labels: Record<string, string> = {};
		for (const [name, value] of Object.entries(parsed.config?.Labels ?? {})) {
			if (typeof value === 'string') {
				labels[name] = value;
			}
		}

		return labels;
	}

	async prepare(registry: string, repositories: readonly string[], signal?: AbortSignal): Promise<void> {
		// Before the first await: the scanner calls this before it lists the engines (see Transport.warmUp).
		this.#http.warmUp();
		await this.#auth.prefetch(registry, repositories, signal);
	}

	/** The pull budgets registries reported (Docker Hub's `ratelimit-*` headers). */
	rateLimits(): RateLimit[] {
		return this.#http.rateLimits();
	}

	async #blob(reference: ImageReference, digest: string, limit: BodyLimit, signal?: AbortSignal): Promise<Buffer> {
		assertDigest(digest, reference);
		const response = await this.#request('GET', reference, await this.#url(reference, `blobs/${digest}`), {limit}, signal);
		if (response.status !== 200) {
			throw await this.#failure(response, reference, {kind: 'blob', digest});
		}

		verifyDigest(response, digest, reference, 'a blob');
		return response.body;
	}

	async #parsedByDigest(reference: ImageReference, digest: string, signal?: AbortSignal): Promise<ParsedManifest> {
		const response = await this.#manifestRequest('GET', reference, digest, signal);
		if (response.status !== 200) {
			throw await this.#failure(response, reference, {kind: 'manifest', tagOrDigest: digest});
		}

		verifyDigest(response, digest, reference, 'a manifest');
		const parsed = parseManifest(response.body, header(response.headers, 'content-type'));
		if (parsed === null) {
			throw new RegistryError({message: `${reference.registry} sent a manifest for ${reference.repository}@${digest} that is neither an image manifest nor an index.`, status: 200, code: 'MANIFEST_INVALID', url: response.url, temporary: false});
		}

		return parsed;
	}

	async #url(reference: ImageReference, rest: string): Promise<URL> {
		return new URL(`/v2/${reference.repository}/${rest}`, await this.#http.base(reference.registry));
	}

	async #manifestRequest(method: 'GET' | 'HEAD', reference: ImageReference, tagOrDigest: string, signal?: AbortSignal): Promise<HttpResponse> {
		return this.#request(method, reference, await this.#url(reference, `manifests/${tagOrDigest}`), {accept: manifestAccept, limit: limits.manifest}, signal);
	}

	/** One request for `reference`'s repository, authenticated, with one retry on a fresh challenge. */
	async #request(method: 'GET' | 'HEAD', reference: ImageReference, url: URL, options: {accept?: string; limit: BodyLimit}, signal?: AbortSignal): Promise<HttpResponse> {
		const limited = this.#limited.get(reference.registry);
		if (limited !== undefined && limited.until > Date.now()) {
			// A registry that is rate-limiting us gets no more requests this scan: each one would cost budget.
			throw limited.error;
		}

		const send = async (authorization: Authorization): Promise<HttpResponse> => this.#http.send({
			method,
			url,
			headers: {...(options.accept === undefined ? {} : {accept: options.accept}), ...(authorization.value === undefined ? {} : {authorization: authorization.value})},
			signal,
			registry: reference.registry,
			limit: options.limit,
		});
		const authorization = await this.#auth.authorization(reference.registry, reference.repository, signal);
		const response = await send(authorization);
		if (response.status !== 401) {
			return response;
		}

		const retry = await this.#auth.retryAuthorization(reference.registry, reference.repository, authorization, response, signal);
		return retry === undefined ? response : send(retry);
	}

	async #failure(response: HttpResponse, reference: ImageReference, subject: Subject): Promise<RegistryError> {
		const where = `${reference.registry}/${reference.repository}`;
		const detail = registryErrorDetail(response.body);
		const base = {status: response.status, url: response.url};
		const what = subject.kind === 'tags' ? `the tags of ${reference.repository}` : subject.kind === 'blob' ? `${reference.repository}@${subject.digest}` : `${reference.repository}:${subject.tagOrDigest}`;
		if (unavailableStatuses.has(response.status)) {
			return unavailableError(reference.registry, response);
		}

		switch (response.status) {
			case 401: {
				return this.#auth.refusal(reference.registry, reference.repository, response.url);
			}

			case 403: {
				return new RegistryError({...base, code: detail?.code ?? 'DENIED', temporary: false, message: `Registry ${reference.registry} denied pulling ${reference.repository}: the credentials in use lack pull access${detail ? ` (${detail.message})` : ''}.`});
			}

			case 404: {
				const code = detail?.code ?? (subject.kind === 'manifest' ? 'MANIFEST_UNKNOWN' : subject.kind === 'blob' ? 'BLOB_UNKNOWN' : 'NAME_UNKNOWN');
				if (code === 'NAME_UNKNOWN') {
					return new RegistryError({...base, code, temporary: false, message: `Repository ${where} does not exist (or is not visible to you) on ${reference.registry}.`});
				}

				const message = subject.kind === 'manifest'
					? `${subject.tagOrDigest.startsWith('sha256:') ? `Manifest ${subject.tagOrDigest}` : `Tag "${subject.tagOrDigest}"`} not found in ${where}: it was deleted or renamed on the registry.`
					: `Registry ${reference.registry} has no ${what} (HTTP 404${detail ? `, ${detail.code}` : ''}).`;
				return new RegistryError({...base, code, temporary: false, message});
			}

			case 429: {
				const wait = retryAfterMs(header(response.headers, 'retry-after'), Date.now());
				const budget = this.#http.rateLimits().find(limit => limit.registry === reference.registry);
				const error = new RegistryError({...base, code: 'TOOMANYREQUESTS', temporary: true, message: `Registry ${reference.registry} is rate-limiting updock (HTTP 429)${budget === undefined ? '' : `; ${budget.remaining} of ${budget.limit} pulls left`}${wait === undefined ? '' : `; it asks to wait ${Math.ceil(wait / 1000)} s`}. The other registries are still checked; try again later.`});
				// At least a minute: a registry still limiting after the retries is not asked again this scan.
				this.#limited.set(reference.registry, {until: Date.now() + Math.max(wait ?? 0, 60_000), error});
				return error;
			}

			default: {
				const temporary = response.status >= 500;
				return new RegistryError({...base, code: detail?.code ?? `HTTP_${response.status}`, temporary, message: `Registry ${reference.registry} answered HTTP ${response.status} for ${what}${detail ? ` (${detail.message})` : ''}${temporary ? '; try again later' : ''}.`});
			}
		}
	}
}

function assertDigest(digest: string, reference: ImageReference): void {
	if (!isDigest(digest)) {
		throw new RegistryError({message: `"${digest}" is not a sha256 digest; updock fetches from ${reference.registry}/${reference.repository} by sha256 digest only.`, status: null, code: 'DIGEST_INVALID', url: '', temporary: false});
	}
}

function verifyDigest(response: HttpResponse, digest: string, reference: ImageReference, what: string): void {
	const actual = sha256Digest(response.body);
	if (actual !== digest) {
		throw new RegistryError({message: `${reference.registry} sent ${what} for ${reference.repository}@${digest} whose bytes hash to ${actual}; refusing to trust it.`, status: 200, code: 'DIGEST_MISMATCH', url: response.url, temporary: false});
	}
}

const errorBody = z.object({errors: z.array(z.object({code: z.string(), message: z.unknown().optional()}).loose()).min(1)}).loose();

/** The first entry of a registry's `{"errors":[{code,message}]}` body, which may be missing or not JSON. */
export function registryErrorDetail(body: Buffer): {code: string; message: string} | undefined {
	if (body.length === 0) {
		return undefined;
	}

	let json: unknown;
	try {
		json = JSON.parse(body.toString('utf8'));
	} catch {
		// Not JSON: proxies answer with HTML. The status says enough.
		return undefined;
	}

	const parsed = errorBody.safeParse(json);
	if (!parsed.success) {
		return undefined;
	}

	const first = parsed.data.errors[0]!;
	return {code: first.code, message: typeof first.message === 'string' ? first.message : first.code};
}
