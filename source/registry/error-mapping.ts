import {innermostErrorCode, ownErrorCode, RegistryError} from '../core/errors.ts';
import {retryAfterMs} from './retry.ts';
import {header, type HttpResponse, type Send} from './send.ts';

/**
 * Turn every failure below into a RegistryError a user can act on (refused, unresolvable, reset,
 * TLS, timed out), naming the registry and the URL. The caller's own abort passes through untouched.
 */
export function withErrorMapping(next: Send, timeoutMs: number, proxyOf: (url: URL) => URL | undefined = () => undefined): Send {
	return async request => {
		try {
			return await next(request);
		} catch (error) {
			if (error instanceof RegistryError || request.signal?.aborted) {
				throw error;
			}

			throw networkError(error, request.registry, request.url.href, timeoutMs, proxyOf(request.url));
		}
	};
}

// undici's errors are told apart by their documented `code`, not by class: undici is loaded only once
// a registry is first asked something (see transport.ts), and this module must not load it.
const timeoutCodes: ReadonlySet<string> = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'UND_ERR_CONNECT_TIMEOUT']);
const proxyCodes: ReadonlySet<string> = new Set(['UND_ERR_PRX_CONN', 'UND_ERR_PRX_TLS']);

function isTimeout(error: unknown): boolean {
	return (error instanceof DOMException && error.name === 'TimeoutError') || timeoutCodes.has(ownErrorCode(error) ?? '');
}

/** A failure with no HTTP answer, in words; `proxy` is the proxy the request went through, if any. */
export function networkError(error: unknown, registry: string, url: string, timeoutMs: number, proxy?: URL): RegistryError {
	const base = {status: null, url, temporary: true, cause: error};
	if (isTimeout(error)) {
		return new RegistryError({...base, code: 'TIMEOUT', message: `Registry ${registry} did not answer within ${timeoutMs / 1000} s (${url}${proxy === undefined ? '' : `, through the proxy ${proxy.origin}`}); it may be overloaded or unreachable, raise --timeout if it is just slow.`});
	}

	const code = innermostErrorCode(error);
	const detail = error instanceof Error ? error.message : String(error);
	const proxyFailed = proxyCodes.has(ownErrorCode(error) ?? '') || /Proxy response|Proxy Authentication/i.test(detail)
		|| (proxy !== undefined && ['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH'].includes(code ?? ''));
	if (proxyFailed) {
		// Never the proxy's href: it may hold a user and password.
		const which = proxy === undefined ? 'the proxy' : `the proxy ${proxy.origin} (${new URL(url).protocol === 'https:' ? 'HTTPS_PROXY' : 'HTTP_PROXY'})`;
		return new RegistryError({...base, code: 'PROXY', message: `Registry ${registry} is unreachable through ${which}: ${code ?? detail}. Check the proxy, or list the registry in NO_PROXY.`});
	}

	const host = new URL(url).host;
	switch (code) {
		case 'ECONNREFUSED': {
			return new RegistryError({...base, code: 'UNREACHABLE', message: `Registry ${registry} is unreachable: connection refused at ${host}. Is it running?`});
		}

		case 'ENOTFOUND':
		case 'EAI_AGAIN': {
			return new RegistryError({...base, code: 'UNREACHABLE', message: `Registry ${registry} is unreachable: the name ${new URL(url).hostname} does not resolve (${code}). Check DNS or the image reference.`});
		}

		case 'ECONNRESET':
		case 'EPIPE':
		case 'UND_ERR_SOCKET':
		case 'EHOSTUNREACH':
		case 'ENETUNREACH': {
			return new RegistryError({...base, code: 'UNREACHABLE', message: `Registry ${registry} is unreachable: ${detail} (${url}).`});
		}

		default: {
			if (code !== undefined && (code.startsWith('ERR_TLS') || code.startsWith('ERR_SSL') || code.includes('CERT') || code === 'EPROTO' || code.startsWith('UNABLE_TO') || code.startsWith('SELF_SIGNED') || code === 'DEPTH_ZERO_SELF_SIGNED_CERT')) {
				return new RegistryError({...base, temporary: false, code: 'TLS', message: `TLS to registry ${registry} failed: ${detail}. If it uses a private CA, put it in /etc/docker/certs.d/${registry}/ca.crt (or the --certs-dir given), as for Docker.`});
			}

			return new RegistryError({...base, code: 'NETWORK', message: `Request to registry ${registry} failed: ${detail} (${url}).`});
		}
	}
}

/** Statuses that say the registry (or what fronts it) is down for now, not that we asked wrongly. */
export const unavailableStatuses: ReadonlySet<number> = new Set([502, 503, 504]);

/** A 502/503/504 still there after the retries: the registry is down for now, not "not a registry". */
export function unavailableError(registry: string, response: HttpResponse): RegistryError {
	const wait = retryAfterMs(header(response.headers, 'retry-after'), Date.now());
	return new RegistryError({
		message: `Registry ${registry} is unavailable (HTTP ${response.status} from ${response.url})${wait === undefined ? '' : `; it asks to wait ${Math.ceil(wait / 1000)} s`}; try again later.`,
		status: response.status,
		code: 'UNAVAILABLE',
		url: response.url,
		temporary: true,
	});
}
