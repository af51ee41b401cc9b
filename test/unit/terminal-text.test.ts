import {createRequire} from 'node:module';
import {pathToFileURL} from 'node:url';
import {describe, expect, it} from 'vitest';
import {fitToWidth, padToWidth, safeTerminalText, terminalWidth, truncateToWidth} from '../../source/core/terminal-text.ts';

/** What must never reach a terminal: controls, format characters, separators, lone surrogates. */
const invisible = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cs}]/u;

describe('safeTerminalText', () => {
	it.each([
		['OSC 0 (window title)', 'web\u001B]0;pwned\u0007', 'web␛]0;pwned␇'],
		['OSC 0 ended by ST', 'web\u001B]0;pwned\u001B\\', 'web␛]0;pwned␛\\'],
		['OSC 52 (clipboard)', '\u001B]52;c;Y3VybCBldmlsLnNoIHwgc2g=\u0007api', '␛]52;c;Y3VybCBldmlsLnNoIHwgc2g=␇api'],
		['CSI clear screen', 'a\u001B[2Jb\u001B[H', 'a␛[2Jb␛[H'],
		['DCS', '\u001BPq#0;2;0;0;0\u001B\\', '␛Pq#0;2;0;0;0␛\\'],
		['8-bit CSI and OSC (C1)', 'x\u009B2Jy\u009D0;t\u009C', 'x<U+009B>2Jy<U+009D>0;t<U+009C>'],
		['NEL (C1)', 'a\u0085b', 'a<U+0085>b'],
		['newline, carriage return and tab', 'line one\r\nline\ttwo', 'line one␍␊line␉two'],
		['NUL, BEL, backspace, DEL', 'a\u0000b\u0007c\u0008d\u007F', 'a␀b␇c␈d␡'],
		['bidi override', 'invoice\u202Efdp.exe', 'invoice<U+202E>fdp.exe'],
		['bidi embeddings and isolates', '\u202A\u202B\u202C\u202D\u2066\u2067\u2068\u2069', '<U+202A><U+202B><U+202C><U+202D><U+2066><U+2067><U+2068><U+2069>'],
		['zero-width characters and marks', 'a\u200Bb\u200Cc\u200Dd\u200Ee\u200Ff', 'a<U+200B>b<U+200C>c<U+200D>d<U+200E>e<U+200F>f'],
		['line and paragraph separators', 'a\u2028b\u2029c', 'a<U+2028>b<U+2029>c'],
		['BOM, soft hyphen, word joiner, Arabic letter mark', '\uFEFFad\u00ADmin\u2060\u061C', '<U+FEFF>ad<U+00AD>min<U+2060><U+061C>'],
		['lone surrogates', 'a\uD800b\uDC00', 'a<U+D800>b<U+DC00>'],
		['Hangul fillers that draw blank', 'a\u3164b', 'a<U+3164>b'],
	])('shows %s as visible text', (_what, input, expected) => {
		const safe = safeTerminalText(input);
		expect(safe).toBe(expected);
		expect(safe).not.toMatch(invisible);
	});

	it.each([
		['ASCII', 'registry.example/acme/api:2.4'],
		['accents', 'café-naïve-Ærø'],
		['combining accents', 'cafe\u0301'],
		['CJK', '日本語のサービス'],
		['Hangul', '한국어'],
		['emoji', '🐳 docker 🚀'],
		['an emoji ZWJ sequence', '👩‍💻 and 👨‍👩‍👧'],
		['a flag and a skin tone', '🇫🇷 👍🏽'],
		['a keycap and a text-style emoji', '1️⃣ ❤️'],
		['right-to-left letters without overrides', 'שלום עברית'],
	])('keeps %s as it is', (_what, input) => {
		expect(safeTerminalText(input)).toBe(input);
	});

	it('leaves no control, format or separator character for any code point', () => {
		const leaks: string[] = [];
		for (let code = 0; code <= 0x10_FF_FF; code++) {
			const safe = safeTerminalText(String.fromCodePoint(code));
			if (invisible.test(safe)) {
				leaks.push(code.toString(16));
			}
		}

		expect(leaks).toEqual([]);
	});

	it('is idempotent, so text made safe twice reads the same', () => {
		const hostile = 'a\u001B[2J\u202E\u0085\n日本';
		expect(safeTerminalText(safeTerminalText(hostile))).toBe(safeTerminalText(hostile));
	});
});

describe('terminalWidth', () => {
	it.each([
		['ASCII', 'nginx:1.27', 10],
		['CJK takes two columns each', '日本語', 6],
		['fullwidth forms', 'ＡＢ', 4],
		['combining marks take none', 'cafe\u0301', 4],
		['emoji take two', '🐳', 2],
		['a ZWJ sequence is one picture', '👩‍💻', 2],
		['a flag is one picture', '🇫🇷', 2],
		['a text-style emoji made emoji-style', '❤️', 2],
		['a made-safe escape is as wide as it looks', safeTerminalText('\u001B[2J'), 4],
	])('%s', (_what, text, width) => {
		expect(terminalWidth(text)).toBe(width);
	});

	it('agrees with the measure Ink lays out with, for every code point and for clusters', async () => {
		// Ink's own string-width (a dependency of ink, not of updock): the live view's columns and Ink's truncation must agree.
		const inkRequire = createRequire(import.meta.resolve('ink'));
		const {default: inkWidth} = await import(pathToFileURL(inkRequire.resolve('string-width')).href) as {default: (text: string) => number};
		const disagreements: string[] = [];
		// Every code point of the first two planes; the ideograph planes are uniform, a sample of them will do.
		for (let code = 0x20; code <= 0x3_FF_FF; code += code < 0x2_00_00 ? 1 : 0x1_01) {
			const text = safeTerminalText(String.fromCodePoint(code));
			if (terminalWidth(text) !== inkWidth(text)) {
				disagreements.push(`${code.toString(16)}: ${terminalWidth(text)} vs ${inkWidth(text)}`);
			}
		}

		for (const cluster of ['👨‍👩‍👧', '🧑🏽‍🚀', '1️⃣', '1⃣', '©️', '©', '🇫', 'ᄀ가', '가', 'ｶﾞ', 'कि', 'नमस्ते', 'a\u0300\u0301', 'e\u0301\u0302x']) {
			const text = safeTerminalText(cluster);
			if (terminalWidth(text) !== inkWidth(text)) {
				disagreements.push(`${cluster}: ${terminalWidth(text)} vs ${inkWidth(text)}`);
			}
		}

		expect(disagreements).toEqual([]);
	});
});

describe('fitting text to columns', () => {
	it('cuts by columns, never through a wide character, and pads to the exact width', () => {
		expect(truncateToWidth('日本語', 5)).toBe('日本…');
		expect(fitToWidth('日本語', 4)).toBe('日… ');
		expect(terminalWidth(fitToWidth('日本語', 4))).toBe(4);
		expect(fitToWidth('👩‍💻👩‍💻', 3)).toBe('👩‍💻…');
		expect(fitToWidth('web', 6)).toBe('web   ');
		expect(fitToWidth('abcdefgh', 5)).toBe('abcd…');
		expect(fitToWidth('anything', 0)).toBe('');
		expect(padToWidth('日本', 6)).toBe('日本  ');
	});

	it('gives every fitted cell the same width whatever it holds', () => {
		const names = ['web', '日本語のとても長いサービス名', '🐳🐳🐳🐳🐳🐳🐳🐳🐳', safeTerminalText('x\u001B[2J\u001B]0;t\u0007'), 'cafe\u0301-with-a-long-name', 'ᄀ가ᄀ가ᄀ가ᄀ가ᄀ가'];
		for (const width of [1, 2, 3, 7, 12, 40]) {
			for (const name of names) {
				expect(terminalWidth(fitToWidth(name, width))).toBe(width);
			}
		}
	});
});
