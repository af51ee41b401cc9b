/** An answer other than success, with the code and sentence the client gets as `{"error": {code, message}}`. */
export class ApiError extends Error {
	override readonly name = 'ApiError';
	readonly statusCode: number;
	/** Stable and machine-readable: `not_found`, `ambiguous`, `invalid_request`, ... */
	readonly code: string;
	/** Extra response headers (`Allow`, `WWW-Authenticate`). */
	readonly headers: Readonly<Record<string, string>>;

	constructor(statusCode: number, code: string, message: string, headers: Readonly<Record<string, string>> = {}) {
		super(message);
		this.statusCode = statusCode;
		this.code = code;
		this.headers = headers;
	}
}

/** The one error body of the API. */
export function errorBody(code: string, message: string): {error: {code: string; message: string}} {
	return {error: {code, message}};
}
