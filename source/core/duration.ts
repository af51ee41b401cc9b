const unitMs: Record<string, number> = {
	ns: 1e-6,
	us: 1e-3,
	// Micro and mu, written as escapes: one character past ASCII makes V8 keep the whole bundle chunk's source at two bytes a character.
	'\u00B5s': 1e-3,
	'\u03BCs': 1e-3,
	ms: 1,
	s: 1000,
	m: 60_000,
	h: 3_600_000,
};

/**
 * Parse a Go duration (`time.ParseDuration`): `300ms`, `1.5h`, `1h30m`, `2h45m10s`, `-5m`; `0` alone is zero.
 * @returns milliseconds, or undefined when the text is not a Go duration.
 */
export function parseGoDuration(text: string): number | undefined {
	const trimmed = text.trim();
	const sign = trimmed.startsWith('-') ? -1 : 1;
	const input = trimmed.replace(/^[-+]/, '');
	if (input === '0') {
		return 0;
	}

	const whole = /^(?:(?:\d+(?:\.\d*)?|\.\d+)(?:ns|us|\u00B5s|\u03BCs|ms|s|m|h))+$/;
	if (!whole.test(input)) {
		return undefined;
	}

	let total = 0;
	for (const match of input.matchAll(/(\d+(?:\.\d*)?|\.\d+)(ns|us|\u00B5s|\u03BCs|ms|s|m|h)/g)) {
		total += Number(match[1]) * unitMs[match[2]!]!;
	}

	return sign * total;
}

/** Milliseconds as a short Go-style duration: `6h`, `1h30m`, `45s`, `250ms`. */
export function formatDuration(ms: number): string {
	if (ms < 1000) {
		return `${Math.round(ms)}ms`;
	}

	let rest = Math.round(ms / 1000);
	const hours = Math.floor(rest / 3600);
	rest -= hours * 3600;
	const minutes = Math.floor(rest / 60);
	const seconds = rest - (minutes * 60);
	return `${hours ? `${hours}h` : ''}${minutes ? `${minutes}m` : ''}${seconds || (!hours && !minutes) ? `${seconds}s` : ''}`;
}
