import {createHash, timingSafeEqual} from 'node:crypto';

/**
 * Checks `Authorization: Bearer <token>` in constant time: both sides are hashed first, so neither
 * the comparison nor the lengths tell anything about the token.
 */
export class BearerAuth {
	readonly #digest: Buffer;

	constructor(token: string) {
		this.#digest = digest(token);
	}

	allows(authorization: string | undefined): boolean {
		const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(authorization ?? '');
		// Compared even without a token, so a missing header costs the same as a wrong one.
		const given = digest(match?.[1] ?? '');
		return timingSafeEqual(given, this.#digest) && match !== null;
	}
}

function digest(text: string): Buffer {
	return createHash('sha256').update(text, 'utf8').digest();
}
