import {createHmac} from 'node:crypto';

/** What OpenSSH's known_hosts files say about a host key. */
export type HostKeyVerdict = 'known' | 'unknown' | 'mismatch' | 'revoked';

/** `host` on port 22, `[host]:port` otherwise: how known_hosts names a host. */
export function knownHostsName(host: string, port: number): string {
	return port === 22 ? host : `[${host}]:${port}`;
}

/**
 * Check a server's host key (the raw key blob ssh sends) against the text of known_hosts files, as
 * OpenSSH does: plain and hashed (`|1|salt|hash`) host patterns with `*`, `?` and `!`, and the
 * `@revoked` marker. `@cert-authority` lines are not used (no host certificates).
 */
export function checkHostKey(files: readonly string[], host: string, port: number, key: Buffer): HostKeyVerdict {
	const names = [knownHostsName(host, port)];
	let named = false;
	for (const text of files) {
		for (const line of text.split('\n')) {
			const fields = line.trim().split(/\s+/);
			if (fields[0] === undefined || fields[0] === '' || fields[0].startsWith('#')) {
				continue;
			}

			const marker = fields[0].startsWith('@') ? fields.shift() : undefined;
			const [patterns, , base64] = fields;
			if (patterns === undefined || base64 === undefined || marker === '@cert-authority') {
				continue;
			}

			if (!names.some(name => matchesPatterns(patterns, name))) {
				continue;
			}

			const same = Buffer.from(base64, 'base64').equals(key);
			if (marker === '@revoked') {
				if (same) {
					return 'revoked';
				}

				continue;
			}

			named = true;
			if (same) {
				return 'known';
			}
		}
	}

	return named ? 'mismatch' : 'unknown';
}

function matchesPatterns(patterns: string, name: string): boolean {
	if (patterns.startsWith('|1|')) {
		const [, , salt, hash] = patterns.split('|');
		if (salt === undefined || hash === undefined) {
			return false;
		}

		return createHmac('sha1', Buffer.from(salt, 'base64')).update(name).digest('base64') === hash;
	}

	let matched = false;
	for (const pattern of patterns.split(',')) {
		const negated = pattern.startsWith('!');
		if (glob(negated ? pattern.slice(1) : pattern, name)) {
			if (negated) {
				return false;
			}

			matched = true;
		}
	}

	return matched;
}

function glob(pattern: string, name: string): boolean {
	const expression = pattern.toLowerCase().replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
	return new RegExp(`^${expression}$`).test(name.toLowerCase());
}
