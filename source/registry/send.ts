import type {IncomingHttpHeaders} from 'undici/types/header.js';

/** How much of a body updock reads before it gives up, and what the body was meant to be (for the message). */
export interface BodyLimit {
	readonly maxBytes: number;
	/** Why a body past the cap is wrong, as the end of the error message: `a manifest is never that large`. */
	readonly why: string;
}

export interface HttpRequest {
	readonly method: 'GET' | 'HEAD' | 'POST';
	readonly url: URL;
	readonly headers?: Readonly<Record<string, string>>;
	readonly body?: string;
	readonly signal?: AbortSignal | undefined;
	/** Which registry the request is for, for error messages. */
	readonly registry: string;
	/** The cap on a successful answer's body. @default limits.small */
	readonly limit?: BodyLimit;
}

export interface HttpResponse {
	readonly status: number;
	readonly headers: IncomingHttpHeaders;
	/** Empty for HEAD. */
	readonly body: Buffer;
	/** The URL that answered, after redirects. */
	readonly url: string;
}

/** One layer of the HTTP stack: a request in, a response (or a RegistryError) out. */
export type Send = (request: HttpRequest) => Promise<HttpResponse>;

const mebibyte = 1024 * 1024;

/** Every body cap in one place. Past one, the request fails; nothing larger is ever held in memory. */
export const limits = {
	manifest: {maxBytes: 4 * mebibyte, why: 'a manifest is never that large'},
	tagPage: {maxBytes: 4 * mebibyte, why: 'a page of tags is never that large'},
	imageConfig: {maxBytes: 4 * mebibyte, why: 'an image config is never that large'},
	token: {maxBytes: mebibyte, why: 'a token response is never that large'},
	ping: {maxBytes: mebibyte, why: 'the answer to /v2/ is never that large'},
	/** Any answer that is not a 2xx: registries put a short JSON or HTML page there. */
	errorBody: {maxBytes: mebibyte, why: 'an error body is never that large'},
	small: {maxBytes: mebibyte, why: 'this answer is never that large'},
} as const satisfies Record<string, BodyLimit>;

/** `4194304` -> `4 MiB`, `1536` -> `1536 bytes`. */
export function formatBytes(bytes: number): string {
	return bytes % mebibyte === 0 ? `${bytes / mebibyte} MiB` : `${bytes} bytes`;
}

/** One header as a single string (the first when repeated). */
export function header(headers: IncomingHttpHeaders, name: string): string | undefined {
	const value = headers[name.toLowerCase()];
	return Array.isArray(value) ? value[0] : value;
}

/** Every value of a header that may repeat, like `WWW-Authenticate`. */
export function headerValues(headers: IncomingHttpHeaders, name: string): string[] {
	const value = headers[name.toLowerCase()];
	if (value === undefined) {
		return [];
	}

	return Array.isArray(value) ? value : [value];
}

export function withoutAuthorization(headers: Readonly<Record<string, string>> | undefined): Record<string, string> {
	return Object.fromEntries(Object.entries(headers ?? {}).filter(([name]) => name.toLowerCase() !== 'authorization'));
}
