import {z} from 'zod';
import {RegistryError} from '../core/errors.ts';
import {dockerHub} from '../core/reference.ts';
import {ChallengeParseError, parseChallenges, type Challenge} from './challenge.ts';
import {CredentialError, type Credential, type CredentialStore} from './credentials.ts';
import {unavailableError, unavailableStatuses} from './error-mapping.ts';
import type {RegistryHttp} from './http.ts';
import {headerValues, limits, type HttpResponse} from './send.ts';

/** The Authorization header to send (undefined: anonymous) and how it was obtained. */
export interface Authorization {
	readonly value: string | undefined;
	/** The bearer scope the token was asked for. */
	readonly scope?: string;
	/** True when the token came from the cache rather than a token request made for this call. */
	readonly reused: boolean;
}

/** How a registry wants to be spoken to, learnt from `GET /v2/`. */
type Scheme =
	| {readonly kind: 'anonymous'}
	| {readonly kind: 'basic'}
	| {readonly kind: 'bearer'; readonly challenge: Challenge};

interface CachedToken {
	readonly token: string;
	/** Epoch milliseconds after which the token is not used. */
	readonly renewAt: number;
}

/** A failed ping is remembered this long, so one scan does not knock on a dead registry per repository. */
const failureMemoryMs = 30_000;
/** Scopes asked for in one token request at most, keeping its URL a sane length. */
const scopesPerToken = 50;
/** Token requests of one prefetch in flight at once, after the first. */
const tokenRequestsAtOnce = 8;
/** The longest a token is used, whatever its `expires_in` says. */
const maxTokenLifetimeSeconds = 86_400;
/** Renew tokens this long before they expire. */
const renewEarlyMs = 5000;

/**
 * Authentication for registry requests: the ping and challenge, Basic or Bearer, tokens cached per
 * (registry, scope) until shortly before they expire, and one refresh on a new challenge.
 */
export class RegistryAuth {
	readonly #http: RegistryHttp;
	readonly #credentials: CredentialStore;
	readonly #now: () => number;
	readonly #schemes = new Map<string, {promise: Promise<Scheme>; failedAt?: number}>();
	readonly #tokens = new Map<string, Promise<CachedToken>>();
	/** The prefetch under way for each registry: the next one waits for it and asks only for what it did not. */
	readonly #prefetches = new Map<string, Promise<void>>();

	constructor(http: RegistryHttp, credentials: CredentialStore, now: () => number = Date.now) {
		this.#http = http;
		this.#credentials = credentials;
		this.#now = now;
	}

	/** The Authorization header for pulling from `repository`, or undefined for anonymous access. */
	async authorization(registry: string, repository: string, signal?: AbortSignal): Promise<Authorization> {
		const scheme = await this.#scheme(registry, signal);
		switch (scheme.kind) {
			case 'anonymous': {
				return {value: undefined, reused: false};
			}

			case 'basic': {
				const credential = await this.#credential(registry);
				return {value: credential?.kind === 'basic' ? basicHeader(credential) : undefined, reused: false};
			}

			case 'bearer': {
				const {token, scope, reused} = await this.#token(registry, repository, scheme.challenge, false, signal);
				return {value: `Bearer ${token}`, scope, reused};
			}
		}
	}

	/**
	 * After a 401: if the registry now asks for something new (another scope, an expired or revoked
	 * token), fetch a fresh token once and return the header to retry with; undefined means stop.
	 */
	async retryAuthorization(registry: string, repository: string, previous: Authorization, response: HttpResponse, signal?: AbortSignal): Promise<Authorization | undefined> {
		// A challenge from a redirect target is a stranger's: it is not answered at all.
		if (!await this.isRegistryOrigin(registry, response.url)) {
			return undefined;
		}

		const bearer = safeChallenges(response, registry).find(challenge => challenge.scheme === 'bearer');
		const scheme = await this.#scheme(registry, signal);
		if (bearer === undefined || previous.scope === undefined || scheme.kind !== 'bearer') {
			return undefined;
		}

		const scope = bearer.params['scope'] ?? previous.scope;
		// A token fetched just now for the very scope asked again will not fare better: the same challenge means stop.
		if (!previous.reused && scope === previous.scope) {
			return undefined;
		}

		// Only the scope is taken from the new challenge: tokens (and credentials) go to the realm the
		// registry's own /v2/ named, never to one a later response names.
		const {token} = await this.#token(registry, repository, {scheme: 'bearer', params: {...scheme.challenge.params, scope}}, true, signal);
		return {value: `Bearer ${token}`, scope, reused: false};
	}

	/**
	 * For a Bearer registry, one token request with a repeated `scope` for all `repositories` (Docker Hub
	 * and the distribution token servers grant what they can of it), cached under each scope. A failure
	 * is not an error: each repository then gets its own token as usual. Past 50 repositories the
	 * request is split: the first alone (a token server that refuses many scopes is asked once), then
	 * the others side by side. It resolves once the first has answered and the others are asked for:
	 * a request for a repository then waits for its own batch's token only, so the HEADs of the first
	 * batch start while the others' tokens are on their way. One after another, 300 repositories made
	 * six round trips that every HEAD waited for (300 ms at 50 ms of latency); now the first HEADs wait
	 * for two (the ping and the first batch).
	 */
	async prefetch(registry: string, repositories: readonly string[], signal?: AbortSignal): Promise<void> {
		const earlier = this.#prefetches.get(registry) ?? Promise.resolve();
		const run = earlier.then(async () => this.#prefetchNow(registry, repositories, signal));
		this.#prefetches.set(registry, run);
		try {
			await run;
		} finally {
			if (this.#prefetches.get(registry) === run) {
				this.#prefetches.delete(registry);
			}
		}
	}

	/** `prefetch` itself, once no other prefetch of `registry` is under way; it never rejects. */
	async #prefetchNow(registry: string, repositories: readonly string[], signal?: AbortSignal): Promise<void> {
		let scheme: Scheme;
		try {
			scheme = await this.#scheme(registry, signal);
		} catch {
			return;
		}

		if (scheme.kind !== 'bearer' || repositories.length < 2) {
			return;
		}

		const realm = scheme.challenge.params['realm'] ?? '';
		const wanted = repositories.map(repository => `repository:${repository}:pull`).filter(scope => !this.#tokens.has(tokenKey(registry, realm, scope)));
		const batches: string[][] = [];
		for (let start = 0; start < wanted.length; start += scopesPerToken) {
			batches.push(wanted.slice(start, start + scopesPerToken));
		}

		/** Puts the token `pending` will bring under each of `scopes`; resolves to whether it came. */
		const asked = async (scopes: readonly string[], pending: Promise<CachedToken>): Promise<boolean> => {
			for (const scope of scopes) {
				this.#tokens.set(tokenKey(registry, realm, scope), pending);
			}

			const ok = await pending.then(() => true, () => false);
			if (!ok) {
				for (const scope of scopes) {
					// Unless a request since has put another token there.
					if (this.#tokens.get(tokenKey(registry, realm, scope)) === pending) {
						this.#tokens.delete(tokenKey(registry, realm, scope));
					}
				}
			}

			return ok;
		};

		const [first, ...rest] = batches;
		if (first === undefined || !await asked(first, this.#fetchToken(registry, scheme.challenge, first, signal))) {
			return;
		}

		// The others at most `tokenRequestsAtOnce` at a time, in lanes: each batch starts when the one
		// before it in its lane has settled. All are marked as asked for now, not when they start.
		const lanes: Array<Promise<boolean>> = [];
		for (const [index, scopes] of rest.entries()) {
			const lane = index % tokenRequestsAtOnce;
			const pending = (lanes[lane] ?? Promise.resolve(true)).then(async () => this.#fetchToken(registry, scheme.challenge, scopes, signal));
			lanes[lane] = asked(scopes, pending);
		}
	}

	/** Whether `url` is on the registry's own origin (not a redirect target on another host or port). */
	async isRegistryOrigin(registry: string, url: string): Promise<boolean> {
		return new URL(url).origin === new URL(await this.#http.base(registry)).origin;
	}

	/** The error for a request still refused after authenticating as well as we can. */
	async refusal(registry: string, repository: string, url: string): Promise<RegistryError> {
		if (!await this.isRegistryOrigin(registry, url)) {
			return new RegistryError({message: `Registry ${registry} redirected to ${new URL(url).origin}, which asked for authentication; updock sends credentials only to ${registry} and the token service its /v2/ names.`, status: 401, code: 'AUTH_FOREIGN', url, temporary: false});
		}

		const credential = await this.#credential(registry).catch(() => undefined);
		const what = registry === dockerHub
			? `Docker Hub refused access to ${repository}: the repository does not exist or is private`
			: `Registry ${registry} refused access to ${repository}`;
		const message = credential === undefined
			? `${what}, and ${this.#credentials.source} has no credentials for ${registry}. Run "docker login ${registry}" if it needs them.`
			: `${what} with the credentials for ${registry} in ${this.#credentials.source}: they are wrong or lack pull access. Run "docker login ${registry}" again.`;
		return new RegistryError({message, status: 401, code: credential === undefined ? 'AUTH_MISSING' : 'AUTH_REFUSED', url, temporary: false});
	}

	async #scheme(registry: string, signal?: AbortSignal): Promise<Scheme> {
		const cached = this.#schemes.get(registry);
		if (cached !== undefined && (cached.failedAt === undefined || this.#now() - cached.failedAt < failureMemoryMs)) {
			return cached.promise;
		}

		const entry: {promise: Promise<Scheme>; failedAt?: number} = {promise: this.#ping(registry, signal)};
		entry.promise.catch(() => {
			entry.failedAt = this.#now();
		});
		this.#schemes.set(registry, entry);
		return entry.promise;
	}

	async #ping(registry: string, signal?: AbortSignal): Promise<Scheme> {
		const url = new URL('/v2/', await this.#http.base(registry));
		const response = await this.#http.send({method: 'GET', url, signal, registry, limit: limits.ping});
		if (response.status === 200) {
			return {kind: 'anonymous'};
		}

		if (unavailableStatuses.has(response.status)) {
			throw unavailableError(registry, response);
		}

		if (response.status !== 401) {
			throw new RegistryError({
				message: `Registry ${registry} answered HTTP ${response.status} to ${url.href}, where a registry answers 200 or 401. Is ${registry} a container registry?`,
				status: response.status,
				code: 'PING_FAILED',
				url: url.href,
				temporary: response.status >= 500,
			});
		}

		if (new URL(response.url).origin !== url.origin) {
			throw new RegistryError({message: `Registry ${registry} redirected ${url.href} to ${new URL(response.url).origin}, which asked for authentication; updock sends credentials only to ${registry} itself.`, status: 401, code: 'AUTH_FOREIGN', url: response.url, temporary: false});
		}

		const challenges = safeChallenges(response, registry);
		const bearer = challenges.find(challenge => challenge.scheme === 'bearer');
		if (bearer !== undefined) {
			return {kind: 'bearer', challenge: bearer};
		}

		if (challenges.some(challenge => challenge.scheme === 'basic')) {
			return {kind: 'basic'};
		}

		throw new RegistryError({
			message: `Registry ${registry} asks for authentication updock does not speak (${challenges.map(challenge => challenge.scheme).join(', ') || 'no WWW-Authenticate header'}); only Basic and Bearer are supported.`,
			status: 401,
			code: 'AUTH_UNSUPPORTED',
			url: url.href,
			temporary: false,
		});
	}

	async #token(registry: string, repository: string, challenge: Challenge, force: boolean, signal?: AbortSignal): Promise<{token: string; scope: string; reused: boolean}> {
		const scope = challenge.params['scope'] ?? `repository:${repository}:pull`;
		const key = tokenKey(registry, challenge.params['realm'] ?? '', scope);
		const cached = this.#tokens.get(key);
		if (cached !== undefined && !force) {
			const token = await cached.catch(() => undefined);
			if (token !== undefined && token.renewAt > this.#now()) {
				return {token: token.token, scope, reused: true};
			}
		}

		let pending = this.#tokens.get(key);
		if (pending === undefined || pending === cached) {
			pending = this.#fetchToken(registry, challenge, [scope], signal);
			this.#tokens.set(key, pending);
			const settled = pending;
			settled.catch(() => {
				if (this.#tokens.get(key) === settled) {
					this.#tokens.delete(key);
				}
			});
		}

		return {token: (await pending).token, scope, reused: false};
	}

	async #fetchToken(registry: string, challenge: Challenge, scopes: readonly string[], signal?: AbortSignal): Promise<CachedToken> {
		const realm = challenge.params['realm'];
		const origin = await this.#http.base(registry);
		if (realm === undefined || realm === '') {
			throw new RegistryError({message: `Registry ${registry} asked for a Bearer token but named no realm to get it from.`, status: 401, code: 'AUTH_BROKEN', url: origin, temporary: false});
		}

		let url: URL;
		try {
			url = new URL(realm);
		} catch {
			throw new RegistryError({message: `Registry ${registry} named an invalid token realm ${JSON.stringify(realm)}.`, status: 401, code: 'AUTH_BROKEN', url: origin, temporary: false});
		}

		// Credentials travel over HTTPS only; a plain-HTTP realm is accepted only for a registry spoken to over plain HTTP.
		if (url.protocol !== 'https:' && !(url.protocol === 'http:' && origin.startsWith('http:'))) {
			throw new RegistryError({message: `Registry ${registry} named a token realm over plain HTTP (${url.origin}); updock sends credentials only over HTTPS.`, status: 401, code: 'AUTH_INSECURE', url: url.href, temporary: false});
		}

		const credential = await this.#credential(registry);
		const service = challenge.params['service'];
		let response: HttpResponse;
		if (credential?.kind === 'identity-token') {
			const form = new URLSearchParams({grant_type: 'refresh_token', refresh_token: credential.token, client_id: 'updock', scope: scopes.join(' ')});
			if (service !== undefined) {
				form.set('service', service);
			}

			response = await this.#http.send({method: 'POST', url, body: form.toString(), headers: {'content-type': 'application/x-www-form-urlencoded'}, signal, registry, limit: limits.token});
		} else {
			if (service !== undefined) {
				url.searchParams.set('service', service);
			}

			for (const scope of scopes) {
				url.searchParams.append('scope', scope);
			}
			const headers: Record<string, string> = credential === undefined ? {} : {authorization: basicHeader(credential)};
			response = await this.#http.send({method: 'GET', url, headers, signal, registry, limit: limits.token});
		}

		const realmUrl = `${url.origin}${url.pathname}`;
		if (response.status === 401 || response.status === 403) {
			const message = credential === undefined
				? `The token service of ${registry} (${realmUrl}) refuses anonymous access; run "docker login ${registry}".`
				: `The token service of ${registry} (${realmUrl}) refused the credentials for ${registry} in ${this.#credentials.source}: they are wrong or expired. Run "docker login ${registry}" again.`;
			throw new RegistryError({message, status: response.status, code: credential === undefined ? 'AUTH_MISSING' : 'AUTH_REFUSED', url: realmUrl, temporary: false});
		}

		if (response.status !== 200) {
			throw new RegistryError({message: `The token service of ${registry} (${realmUrl}) answered HTTP ${response.status}.`, status: response.status, code: 'TOKEN_FAILED', url: realmUrl, temporary: response.status === 429 || response.status >= 500});
		}

		return parseTokenResponse(response.body, registry, realmUrl, this.#now());
	}

	async #credential(registry: string): Promise<Credential | undefined> {
		try {
			return await this.#credentials.get(registry);
		} catch (error) {
			if (error instanceof CredentialError) {
				throw new RegistryError({message: error.message, status: null, code: 'CREDENTIALS', url: this.#credentials.source, temporary: false, cause: error});
			}

			throw error;
		}
	}
}

/** A token response's fields; one of the wrong type counts as absent, as before any schema. */
const tokenResponse = z.object({
	token: z.string().optional().catch(undefined),
	access_token: z.string().optional().catch(undefined),
	expires_in: z.number().finite().optional().catch(undefined),
	issued_at: z.string().optional().catch(undefined),
}).loose();

/** Parse a token response: `token` else `access_token`; `expires_in` at least 60 s; `issued_at` or now. */
export function parseTokenResponse(body: Buffer, registry: string, realmUrl: string, now: number): CachedToken {
	let parsed: unknown;
	try {
		parsed = JSON.parse(body.toString('utf8'));
	} catch {
		throw new RegistryError({message: `The token service of ${registry} (${realmUrl}) sent something that is not JSON.`, status: 200, code: 'TOKEN_FAILED', url: realmUrl, temporary: false});
	}

	const record = tokenResponse.safeParse(parsed).data ?? {};
	const token = record.token === undefined || record.token === '' ? record.access_token : record.token;
	if (token === undefined || token === '') {
		throw new RegistryError({message: `The token service of ${registry} (${realmUrl}) sent no token.`, status: 200, code: 'TOKEN_FAILED', url: realmUrl, temporary: false});
	}

	// At least 60 s (the spec's default), at most a day: a token claiming years is renewed anyway.
	const expiresIn = record.expires_in !== undefined && record.expires_in >= 60 ? Math.min(record.expires_in, maxTokenLifetimeSeconds) : 60;
	const issuedAt = record.issued_at === undefined ? Number.NaN : Date.parse(record.issued_at);
	// A server clock ahead of ours must not make a token look valid longer than it is.
	const issued = Number.isNaN(issuedAt) ? now : Math.min(issuedAt, now);
	return {token, renewAt: issued + (expiresIn * 1000) - renewEarlyMs};
}

/** Tokens are cached per registry, token service and scope. */
function tokenKey(registry: string, realm: string, scope: string): string {
	return `${registry}|${realm}|${scope}`;
}

function basicHeader(credential: Extract<Credential, {kind: 'basic'}>): string {
	return `Basic ${Buffer.from(`${credential.username}:${credential.password}`).toString('base64')}`;
}

function safeChallenges(response: HttpResponse, registry: string): Challenge[] {
	try {
		return parseChallenges(headerValues(response.headers, 'www-authenticate'));
	} catch (error) {
		if (error instanceof ChallengeParseError) {
			throw new RegistryError({message: `Registry ${registry} sent a malformed authentication challenge: ${error.message}`, status: response.status, code: 'AUTH_BROKEN', url: response.url, temporary: false});
		}

		throw error;
	}
}
