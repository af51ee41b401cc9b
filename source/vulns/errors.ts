/** A request to the OSV API failed. `temporary` says whether trying again later may help. */
export class OsvError extends Error {
	override readonly name = 'OsvError';
	/** HTTP status, or null when no usable response arrived (refused, timeout, too large, not JSON). */
	readonly status: number | null;
	/** `UNREACHABLE`, `TIMEOUT`, `RATE_LIMITED`, `UNAVAILABLE`, `TOO_LARGE`, `INVALID_RESPONSE`, `HTTP_<status>`. */
	readonly code: string;
	readonly url: string;
	readonly temporary: boolean;

	constructor(init: {message: string; status: number | null; code: string; url: string; temporary: boolean; cause?: unknown}) {
		super(init.message, init.cause === undefined ? undefined : {cause: init.cause});
		this.status = init.status;
		this.code = init.code;
		this.url = init.url;
		this.temporary = init.temporary;
	}
}
