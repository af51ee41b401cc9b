import {RegistryError} from '../core/errors.ts';
import {header, withoutAuthorization, type Send} from './send.ts';

const maxRedirects = 5;
const redirectStatuses = new Set([301, 302, 303, 307, 308]);

/**
 * Follow redirects (not for POST), at most five, never from HTTPS to HTTP, and never carrying
 * `Authorization` to another origin: credentials are for the registry, not for its CDN or bucket.
 * The response says which URL answered, so the layers above can tell a stranger's answer from the
 * registry's own.
 */
export function withRedirects(next: Send): Send {
	return async request => {
		let current = request;
		for (let hop = 0; ; hop++) {
			// eslint-disable-next-line no-await-in-loop -- each hop depends on the last
			const response = await next(current);
			const location = header(response.headers, 'location');
			if (!redirectStatuses.has(response.status) || location === undefined || request.method === 'POST') {
				return response;
			}

			if (hop >= maxRedirects) {
				throw new RegistryError({message: `Registry ${request.registry} redirected more than ${maxRedirects} times from ${request.url.href}.`, status: response.status, code: 'TOO_MANY_REDIRECTS', url: response.url, temporary: false});
			}

			let target: URL;
			try {
				target = new URL(location, current.url);
			} catch {
				throw new RegistryError({message: `Registry ${request.registry} redirected to an invalid URL ${JSON.stringify(location.slice(0, 200))}.`, status: response.status, code: 'BAD_REDIRECT', url: response.url, temporary: false});
			}

			if (target.protocol !== 'https:' && target.protocol !== 'http:') {
				throw new RegistryError({message: `Registry ${request.registry} redirected to an unsupported URL ${target.protocol}.`, status: response.status, code: 'BAD_REDIRECT', url: response.url, temporary: false});
			}

			if (target.protocol === 'http:' && current.url.protocol === 'https:') {
				throw new RegistryError({message: `Registry ${request.registry} redirected from HTTPS to plain HTTP (${target.origin}); updock does not downgrade.`, status: response.status, code: 'BAD_REDIRECT', url: response.url, temporary: false});
			}

			const headers = target.origin === current.url.origin ? current.headers : withoutAuthorization(current.headers);
			current = {...current, url: target, headers};
		}
	};
}
