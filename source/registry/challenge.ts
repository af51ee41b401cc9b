/** One authentication challenge from a `WWW-Authenticate` header. */
export interface Challenge {
	/** Lowercased: `bearer`, `basic`, ... */
	readonly scheme: string;
	/** Parameter names lowercased; values unquoted. */
	readonly params: Readonly<Record<string, string>>;
}

export class ChallengeParseError extends Error {
	override readonly name = 'ChallengeParseError';
}

const token = /[!#$%&'*+.^`|~\w-]+/y;
const unquoted = /[^,\s"]+/y;

/**
 * Parse every challenge of one or more `WWW-Authenticate` header values (RFC 7235): case-insensitive
 * schemes and parameter names, quoted values that may hold commas and escapes, and several challenges
 * on one line (`Bearer realm="a",service="b", Basic realm="c"`).
 * @throws ChallengeParseError naming the position of the problem.
 */
export function parseChallenges(headers: string | readonly string[]): Challenge[] {
	const values = typeof headers === 'string' ? [headers] : headers;
	const challenges: Challenge[] = [];
	for (const value of values) {
		challenges.push(...parseHeader(value));
	}

	return challenges;
}

function parseHeader(header: string): Challenge[] {
	const challenges: Challenge[] = [];
	let position = 0;
	const skipSpace = (): void => {
		while (position < header.length && (header[position] === ' ' || header[position] === '\t')) {
			position++;
		}
	};

	const readToken = (): string | undefined => {
		token.lastIndex = position;
		const match = token.exec(header);
		if (match === null) {
			return undefined;
		}

		position = token.lastIndex;
		return match[0];
	};

	const fail = (what: string): never => {
		throw new ChallengeParseError(`Malformed WWW-Authenticate header at character ${position + 1}: ${what} in ${JSON.stringify(header)}.`);
	};

	let current: {scheme: string; params: Record<string, string>} | undefined;
	while (position < header.length) {
		skipSpace();
		if (header[position] === ',') {
			position++;
			continue;
		}

		if (position >= header.length) {
			break;
		}

		const start = position;
		const name = readToken() ?? fail('expected a scheme or parameter name');
		skipSpace();
		if (header[position] === '=' && current !== undefined) {
			position++;
			skipSpace();
			current.params[name.toLowerCase()] = readValue();
			continue;
		}

		// A token followed by something other than "=" starts a new challenge.
		position = start + name.length;
		current = {scheme: name.toLowerCase(), params: {}};
		challenges.push(current);
	}

	return challenges;

	function readValue(): string {
		if (header[position] !== '"') {
			// Lenient: some registries send unquoted URLs, which are not RFC tokens.
			unquoted.lastIndex = position;
			const match = unquoted.exec(header) ?? fail('expected a parameter value');
			position = unquoted.lastIndex;
			return match[0];
		}

		let value = '';
		position++;
		while (position < header.length) {
			const character = header[position]!;
			if (character === '\\') {
				value += header[position + 1] ?? '';
				position += 2;
			} else if (character === '"') {
				position++;
				return value;
			} else {
				value += character;
				position++;
			}
		}

		return fail('unterminated quoted value');
	}
}
