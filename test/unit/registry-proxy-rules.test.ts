import {describe, expect, it} from 'vitest';
import {proxyFor, proxySettingsFromEnv} from '../../source/registry/proxy.ts';

describe('proxy settings, as Go (and so Docker) reads them', () => {
	it('prefers the upper-case name, accepts a proxy without a scheme, ignores garbage', () => {
		const settings = proxySettingsFromEnv({HTTPS_PROXY: 'https://upper:3128', https_proxy: 'http://lower:3128', http_proxy: 'proxy.corp:8080', no_proxy: 'a'});
		expect(settings.httpsProxy?.href).toBe('https://upper:3128/');
		expect(settings.httpProxy?.href).toBe('http://proxy.corp:8080/');
		expect(settings.noProxy).toBe('a');
		expect(proxySettingsFromEnv({HTTP_PROXY: '', http_proxy: 'http://lower:1'}).httpProxy?.host).toBe('lower:1');
		expect(proxySettingsFromEnv({HTTPS_PROXY: '::not a url::'}).httpsProxy).toBeUndefined();
		expect(proxySettingsFromEnv({}).httpProxy).toBeUndefined();
	});

	const settings = (noProxy: string) => proxySettingsFromEnv({HTTP_PROXY: 'http://proxy:3128', HTTPS_PROXY: 'http://secure-proxy:3128', NO_PROXY: noProxy});

	it.each([
		// url, NO_PROXY, expected proxy host (undefined: direct)
		['https://ghcr.io/v2/', '', 'secure-proxy:3128'],
		['http://registry.corp:5000/v2/', '', 'proxy:3128'],
		['https://127.0.0.1:5000/v2/', '', undefined],
		['https://127.8.9.10/v2/', '', undefined],
		['https://localhost:5000/v2/', '', undefined],
		['https://[::1]:5000/v2/', '', undefined],
		['https://ghcr.io/v2/', '*', undefined],
		['https://ghcr.io/v2/', ' ghcr.io ', undefined],
		['https://pkg.ghcr.io/v2/', 'ghcr.io', undefined],
		['https://ghcr.io/v2/', '.ghcr.io', 'secure-proxy:3128'],
		['https://pkg.ghcr.io/v2/', '.ghcr.io', undefined],
		['https://ghcr.io/v2/', '*.ghcr.io', 'secure-proxy:3128'],
		['https://pkg.ghcr.io/v2/', '*.ghcr.io', undefined],
		['https://notghcr.io/v2/', 'ghcr.io', 'secure-proxy:3128'],
		['https://ghcr.io/v2/', 'ghcr.io:443', undefined],
		['https://ghcr.io/v2/', 'ghcr.io:8443', 'secure-proxy:3128'],
		['https://10.1.2.3:5000/v2/', '10.0.0.0/8', undefined],
		['https://11.1.2.3:5000/v2/', '10.0.0.0/8', 'secure-proxy:3128'],
		['https://10.1.2.3:5000/v2/', '10.1.2.3', undefined],
		['https://10.1.2.3:5000/v2/', '10.1.2.3:5000', undefined],
		['https://10.1.2.3:5000/v2/', '10.1.2.3:6000', 'secure-proxy:3128'],
		['https://[2001:db8::1]:5000/v2/', '2001:db8::/32', undefined],
		['https://[2001:db8::1]:5000/v2/', '[2001:db8::1]:5000', undefined],
		['https://GHCR.IO/v2/', 'Ghcr.Io', undefined],
	])('%s with NO_PROXY=%j -> %s', (url, noProxy, expected) => {
		expect(proxyFor(new URL(url), settings(noProxy))?.host).toBe(expected);
	});

	it('uses HTTPS_PROXY only for https, HTTP_PROXY only for http', () => {
		const onlyHttp = proxySettingsFromEnv({HTTP_PROXY: 'http://proxy:3128'});
		expect(proxyFor(new URL('https://ghcr.io/v2/'), onlyHttp)).toBeUndefined();
		expect(proxyFor(new URL('http://registry.corp/v2/'), onlyHttp)?.host).toBe('proxy:3128');
		const onlyHttps = proxySettingsFromEnv({HTTPS_PROXY: 'http://proxy:3128'});
		expect(proxyFor(new URL('http://registry.corp/v2/'), onlyHttps)).toBeUndefined();
	});
});
