import {ConfigError} from '../core/errors.ts';

/** OSV's public API. */
export const defaultOsvUrl = 'https://api.osv.dev';

/**
 * The OSV base URL from `UPDOCK_OSV_URL`: http(s), no credentials, no query; plain http only to loopback,
 * since package names and versions are what updock sends.
 * @throws ConfigError naming `source`
 */
export function parseOsvUrl(value: string, source = 'UPDOCK_OSV_URL'): URL {
	let url: URL;
	try {
		url = new URL(value);
	} catch {
		throw new ConfigError(source, `${source} must be an http(s) URL such as ${defaultOsvUrl}; got "${value}".`);
	}

	if (url.protocol !== 'https:' && url.protocol !== 'http:') {
		throw new ConfigError(source, `${source} must be an http(s) URL such as ${defaultOsvUrl}; got the scheme ${url.protocol}`);
	}

	if (url.username !== '' || url.password !== '' || url.search !== '' || url.hash !== '') {
		throw new ConfigError(source, `${source} must be a plain base URL without credentials, query or fragment, such as ${defaultOsvUrl}.`);
	}

	const host = url.hostname.replace(/^\[|\]$/g, '');
	const loopback = host === 'localhost' || /^127(?:\.\d{1,3}){3}$/.test(host) || host === '::1';
	if (url.protocol === 'http:' && !loopback) {
		throw new ConfigError(source, `${source} uses plain http to ${url.host}; package names and versions would cross the network unencrypted. Use https (plain http is allowed for loopback only).`);
	}

	return url;
}
