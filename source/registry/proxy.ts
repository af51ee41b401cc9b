import {BlockList, isIP} from 'node:net';

/** The proxy settings of the environment, read once, as Go programs (dockerd, the docker CLI) read them. */
export interface ProxySettings {
	readonly httpProxy: URL | undefined;
	readonly httpsProxy: URL | undefined;
	readonly noProxy: string;
}

/**
 * `HTTP_PROXY`, `HTTPS_PROXY` and `NO_PROXY` the way Go's `net/http/httpproxy` reads them, which is
 * what Docker does: the upper-case name wins over the lower-case one, and a proxy written without a
 * scheme (`proxy.corp:3128`) means `http://`.
 */
export function proxySettingsFromEnv(env: Readonly<Record<string, string | undefined>>): ProxySettings {
	const pick = (name: string): string => env[name] || env[name.toLowerCase()] || '';
	return {httpProxy: parseProxyUrl(pick('HTTP_PROXY')), httpsProxy: parseProxyUrl(pick('HTTPS_PROXY')), noProxy: pick('NO_PROXY')};
}

function parseProxyUrl(value: string): URL | undefined {
	const text = value.trim();
	if (text === '') {
		return undefined;
	}

	for (const candidate of [text, `http://${text}`]) {
		try {
			const url = new URL(candidate);
			if (url.host !== '' && ['http:', 'https:', 'socks5:', 'socks:'].includes(url.protocol)) {
				return url;
			}
		} catch {
			// Try with a scheme, as Go does.
		}
	}

	return undefined;
}

/**
 * The proxy for a request to `url`, or undefined to go direct. Go's rules, deliberately: an `https:`
 * URL uses HTTPS_PROXY only (never HTTP_PROXY), `localhost` and loopback IP literals always go direct
 * (a registry on 127.0.0.1 stays reachable whatever the environment says), and NO_PROXY is a
 * comma-separated list of `*`, IPs, CIDRs, and domains (`corp.example` also covers its subdomains;
 * `.corp.example` and `*.corp.example` only them), each optionally with `:port`.
 */
export function proxyFor(url: URL, settings: ProxySettings): URL | undefined {
	const proxy = url.protocol === 'https:' ? settings.httpsProxy : url.protocol === 'http:' ? settings.httpProxy : undefined;
	if (proxy === undefined) {
		return undefined;
	}

	const host = url.hostname.replace(/^\[|\]$/g, '').toLowerCase();
	const port = url.port === '' ? (url.protocol === 'https:' ? '443' : '80') : url.port;
	return bypassed(host, port, settings.noProxy) ? undefined : proxy;
}

function bypassed(host: string, port: string, noProxy: string): boolean {
	const family = isIP(host);
	if (host === 'localhost' || (family === 4 && host.startsWith('127.')) || (family === 6 && isLoopbackV6(host))) {
		return true;
	}

	for (const raw of noProxy.split(',')) {
		const entry = raw.trim().toLowerCase();
		if (entry === '') {
			continue;
		}

		if (entry === '*') {
			return true;
		}

		const cidr = /^(.+)\/(\d{1,3})$/.exec(entry);
		if (cidr !== null) {
			const entryFamily = isIP(cidr[1]!);
			if (entryFamily !== 0 && family === entryFamily) {
				const list = new BlockList();
				const type = family === 6 ? 'ipv6' : 'ipv4';
				try {
					list.addSubnet(cidr[1]!, Number(cidr[2]), type);
				} catch {
					continue;
				}

				if (list.check(host, type)) {
					return true;
				}
			}

			continue;
		}

		const {entryHost, entryPort} = splitEntry(entry);
		if (entryHost === '' || (entryPort !== '' && entryPort !== port)) {
			continue;
		}

		if (isIP(entryHost) !== 0) {
			if (family !== 0 && sameIp(entryHost, host)) {
				return true;
			}

			continue;
		}

		const suffix = entryHost.startsWith('*.') ? entryHost.slice(1) : entryHost.startsWith('.') ? entryHost : `.${entryHost}`;
		const matchesApex = !entryHost.startsWith('.') && !entryHost.startsWith('*.');
		if (host.endsWith(suffix) || (matchesApex && host === suffix.slice(1))) {
			return true;
		}
	}

	return false;
}

function splitEntry(entry: string): {entryHost: string; entryPort: string} {
	const bracketed = /^\[(.+)\](?::(\d+))?$/.exec(entry);
	if (bracketed !== null) {
		return {entryHost: bracketed[1]!, entryPort: bracketed[2] ?? ''};
	}

	// A bare IPv6 address has several colons and no port.
	const withPort = /^([^:]+):(\d+)$/.exec(entry);
	return withPort === null ? {entryHost: entry, entryPort: ''} : {entryHost: withPort[1]!, entryPort: withPort[2]!};
}

function sameIp(a: string, b: string): boolean {
	const list = new BlockList();
	const family = isIP(a) === 6 ? 'ipv6' : 'ipv4';
	list.addAddress(a, family);
	return list.check(b, isIP(b) === 6 ? 'ipv6' : 'ipv4');
}

function isLoopbackV6(host: string): boolean {
	const list = new BlockList();
	list.addAddress('::1', 'ipv6');
	list.addSubnet('::ffff:127.0.0.0', 104, 'ipv6');
	return list.check(host, 'ipv6');
}
