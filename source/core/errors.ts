/**
 * Typed errors. Every message says what failed, where, and what to do about it.
 * Anything thrown that is not one of these is a bug.
 */

/** A flag, environment variable or argument the user gave is not valid. Exit status 64. */
export class ConfigError extends Error {
	override readonly name = 'ConfigError';
	/** The flag, variable or argument at fault, e.g. `--timeout` or `UPDOCK_UPDATE_INTERVAL`. */
	readonly source: string;

	constructor(source: string, message: string) {
		super(message);
		this.source = source;
	}
}

/** The Docker engine could not be reached or answered something unusable. */
export class DockerUnavailableError extends Error {
	override readonly name = 'DockerUnavailableError';
	/** The address tried, e.g. `unix:///var/run/docker.sock`. */
	readonly address: string;

	constructor(address: string, message: string, options?: ErrorOptions) {
		super(message, options);
		this.address = address;
	}
}

/** The updock JSON file could not be read, parsed or written. The file is never changed when this is thrown on read. */
export class StoreError extends Error {
	override readonly name = 'StoreError';
	readonly path: string;

	constructor(path: string, message: string, options?: ErrorOptions) {
		super(message, options);
		this.path = path;
	}
}

/** A registry request failed. `temporary` says whether trying again later may help. */
export class RegistryError extends Error {
	override readonly name = 'RegistryError';
	/** HTTP status, or null when no response arrived (connection refused, timeout). */
	readonly status: number | null;
	/** The registry's error code (e.g. `MANIFEST_UNKNOWN`), or a local one (`UNREACHABLE`, `TIMEOUT`, `AUTH_MISSING`). */
	readonly code: string;
	readonly url: string;
	readonly temporary: boolean;

	constructor(init: {
		message: string;
		status: number | null;
		code: string;
		url: string;
		temporary: boolean;
		cause?: unknown;
	}) {
		super(init.message, init.cause === undefined ? undefined : {cause: init.cause});
		this.status = init.status;
		this.code = init.code;
		this.url = init.url;
		this.temporary = init.temporary;
	}
}

/** A string that is not a valid image reference. */
export class InvalidReferenceError extends Error {
	override readonly name = 'InvalidReferenceError';
}

/** The `code` an error carries itself (`ENOENT`, undici's `UND_ERR_...`), not one of its causes'. */
export function ownErrorCode(error: unknown): string | undefined {
	return error instanceof Error && 'code' in error && typeof error.code === 'string' ? error.code : undefined;
}

/**
 * The innermost `code` in an error's cause chain: Node's own (`ECONNREFUSED`, `ENOENT`) rather than
 * the wrapper's (undici's `UND_ERR_SOCKET`), as it says most about what happened.
 */
export function innermostErrorCode(error: unknown): string | undefined {
	let found: string | undefined;
	for (let current: unknown = error; typeof current === 'object' && current !== null; current = (current as {cause?: unknown}).cause) {
		const {code} = current as {code?: unknown};
		if (typeof code === 'string') {
			found = code;
		}
	}

	return found;
}

/** The text of any thrown value, for rows and logs. */
export function describeError(error: unknown): string {
	if (error instanceof Error) {
		return error.message;
	}

	return String(error);
}
