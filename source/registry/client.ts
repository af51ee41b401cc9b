import {RegistryError} from '../core/errors.ts';
import type {RegistryClient} from '../core/ports.ts';
import {dockerHub, type ImageReference} from '../core/reference.ts';
import {selectPlatform} from '../core/platform.ts';
import {formatPlatform, type Platform, type PlatformImage, type RemoteTag} from '../core/types.ts';
import type {Authorization, RegistryAuth} from './auth.ts';
import {header, retryAfterMs, type HttpResponse, type RateLimit, type RegistryHttp} from './http.ts';
import {manifestAccept, parseManifest, sha256Digest} from './manifest.ts';

/**
 * Manifest requests (go-containerregistry `remote` layering): HEAD for the tag's digest, GET only for
 * what HEAD cannot tell, the digest always from the header or the bytes as received.
 */
export class HttpRegistryClient implements RegistryClient {
	readonly #http: RegistryHttp;
	readonly #auth: RegistryAuth;
	/** Registries that kept answering 429: no more requests to them until then. */
	readonly #limited = new Map<string, {until: number; error: RegistryError}>();

	constructor(http: RegistryHttp, auth: RegistryAuth) {
		this.#http = http;
		this.#auth = auth;
	}

	async headTag(reference: ImageReference, signal?: AbortSignal): Promise<RemoteTag> {
		const tag = reference.tag ?? 'latest';
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
			throw await this.#failure(head, reference, tag);
		}

		const get = await this.#manifestRequest('GET', reference, tag, signal);
		if (get.status !== 200) {
			throw await this.#failure(get, reference, tag);
		}

		return {digest: sha256Digest(get.body), mediaType: header(get.headers, 'content-type') ?? ''};
	}

	async resolvePlatform(reference: ImageReference, digest: string, platform: Platform, signal?: AbortSignal): Promise<PlatformImage> {
		const top = await this.#getByDigest(reference, digest, signal);
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
				url: (await this.#manifestUrl(reference, digest)).href,
				temporary: false,
			});
		}

		const child = await this.#getByDigest(reference, entry.digest, signal);
		if (child.kind !== 'image') {
			throw new RegistryError({message: `The index ${digest} in ${reference.registry}/${reference.repository} nests another index for ${formatPlatform(platform)}, which images do not do.`, status: 200, code: 'MANIFEST_INVALID', url: (await this.#manifestUrl(reference, entry.digest)).href, temporary: false});
		}

		return {manifestDigest: entry.digest, configDigest: child.configDigest};
	}

	async #getByDigest(reference: ImageReference, digest: string, signal?: AbortSignal) {
		const response = await this.#manifestRequest('GET', reference, digest, signal);
		if (response.status !== 200) {
			throw await this.#failure(response, reference, digest);
		}

		const actual = sha256Digest(response.body);
		if (actual !== digest) {
			throw new RegistryError({message: `${reference.registry} sent a manifest for ${digest} whose bytes hash to ${actual}; refusing to trust it.`, status: 200, code: 'DIGEST_MISMATCH', url: response.url, temporary: false});
		}

		const parsed = parseManifest(response.body, header(response.headers, 'content-type'));
		if (parsed === null) {
			throw new RegistryError({message: `${reference.registry} sent a manifest for ${reference.repository}@${digest} that is neither an image manifest nor an index.`, status: 200, code: 'MANIFEST_INVALID', url: response.url, temporary: false});
		}

		return parsed;
	}

	async #manifestUrl(reference: ImageReference, tagOrDigest: string): Promise<URL> {
		return new URL(`/v2/${reference.repository}/manifests/${tagOrDigest}`, await this.#http.base(reference.registry));
	}

	async prepare(registry: string, repositories: readonly string[], signal?: AbortSignal): Promise<void> {
		await this.#auth.prefetch(registry, repositories, signal);
	}

	/** The pull budgets registries reported (Docker Hub's `ratelimit-*` headers). */
	rateLimits(): RateLimit[] {
		return this.#http.rateLimits();
	}

	/** One manifest request, authenticated, with one retry on a fresh challenge. */
	async #manifestRequest(method: 'GET' | 'HEAD', reference: ImageReference, tagOrDigest: string, signal?: AbortSignal): Promise<HttpResponse> {
		const limited = this.#limited.get(reference.registry);
		if (limited !== undefined && limited.until > Date.now()) {
			// A registry that is rate-limiting us gets no more requests this scan: each one would cost budget.
			throw limited.error;
		}

		const url = await this.#manifestUrl(reference, tagOrDigest);
		const send = async (authorization: Authorization): Promise<HttpResponse> => this.#http.send({
			method,
			url,
			headers: {accept: manifestAccept, ...(authorization.value === undefined ? {} : {authorization: authorization.value})},
			signal,
			registry: reference.registry,
		});
		const authorization = await this.#auth.authorization(reference.registry, reference.repository, signal);
		const response = await send(authorization);
		if (response.status !== 401) {
			return response;
		}

		const retry = await this.#auth.retryAuthorization(reference.registry, reference.repository, authorization, response, signal);
		return retry === undefined ? response : send(retry);
	}

	async #failure(response: HttpResponse, reference: ImageReference, tagOrDigest: string): Promise<RegistryError> {
		const where = `${reference.registry}/${reference.repository}`;
		const detail = registryErrorDetail(response.body);
		const base = {status: response.status, url: response.url};
		switch (response.status) {
			case 401: {
				return this.#auth.refusal(reference.registry, reference.repository, response.url);
			}

			case 403: {
				return new RegistryError({...base, code: detail?.code ?? 'DENIED', temporary: false, message: `Registry ${reference.registry} denied pulling ${reference.repository}: the credentials in use lack pull access${detail ? ` (${detail.message})` : ''}.`});
			}

			case 404: {
				const what = tagOrDigest.startsWith('sha256:') ? `Manifest ${tagOrDigest}` : `Tag "${tagOrDigest}"`;
				const code = detail?.code ?? 'MANIFEST_UNKNOWN';
				const repositoryGone = code === 'NAME_UNKNOWN';
				return new RegistryError({...base, code, temporary: false, message: repositoryGone
					? `Repository ${where} does not exist (or is not visible to you) on ${reference.registry}.`
					: `${what} not found in ${where}: it was deleted or renamed on the registry.`});
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
				return new RegistryError({...base, code: detail?.code ?? `HTTP_${response.status}`, temporary, message: `Registry ${reference.registry} answered HTTP ${response.status} for ${where}:${tagOrDigest}${detail ? ` (${detail.message})` : ''}${temporary ? '; try again later' : ''}.`});
			}
		}
	}
}

/** The first entry of a registry's `{"errors":[{code,message}]}` body, which may be missing or not JSON. */
export function registryErrorDetail(body: Buffer): {code: string; message: string} | undefined {
	if (body.length === 0) {
		return undefined;
	}

	try {
		const parsed = JSON.parse(body.toString('utf8')) as {errors?: Array<{code?: unknown; message?: unknown}>};
		const first = parsed.errors?.[0];
		if (first !== undefined && typeof first.code === 'string') {
			return {code: first.code, message: typeof first.message === 'string' ? first.message : first.code};
		}
	} catch {
		// Not JSON: proxies answer with HTML. The status says enough.
	}

	return undefined;
}
