/**
 * Text from engines, registries and credential helpers made safe for a terminal, and measured in
 * terminal columns. Every path that prints such text goes through `safeTerminalText` first; widths
 * are measured on its result, so a hostile name can neither move the cursor nor break the columns.
 */

/**
 * Everything a terminal would act on instead of showing, or would show as nothing:
 * C0 controls (newline and tab included), DEL, C1 controls (`\p{Cc}`); format characters such as bidi
 * overrides and isolates, zero-width spaces and joiners, the BOM, the soft hyphen and tag characters
 * (`\p{Cf}`); the line and paragraph separators; lone surrogates; the Hangul fillers, which draw blank.
 * The first alternative keeps the zero-width joiner inside an emoji sequence (👩‍💻), which draws one picture.
 */
const unsafe = /(\p{Extended_Pictographic}[\uFE0F\u{1F3FB}-\u{1F3FF}]?\u200D)(?=\p{Extended_Pictographic})|[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cs}\u115F\u1160\u3164\uFFA0]/gu;

/**
 * `text` with every character a terminal would act on, or hide, replaced by a visible stand-in; every
 * other character, printable Unicode included (accents, CJK, emoji), kept as it is.
 *
 * The rule: a C0 control or DEL becomes its Unicode control picture (ESC is `␛`, newline `␊`, tab `␉`,
 * DEL `␡`), anything else matched becomes `<U+XXXX>`. So `ESC[2J` prints as the harmless `␛[2J`, OSC 0
 * and OSC 52 lose their introducer and print as text, a multi-line message folds to one line with `␊`
 * where it broke, and the user sees that the text held something unusual rather than a silently
 * different name. The result holds no control or format character except a zero-width joiner between
 * two pictographs. JSON output never goes through here: JSON escaping is exact and enough.
 */
export function safeTerminalText(text: string): string {
	return text.replace(unsafe, (match: string, emojiJoin: string | undefined) => emojiJoin ?? visible(match));
}

function visible(character: string): string {
	const code = character.codePointAt(0) ?? 0;
	if (code < 0x20) {
		return String.fromCodePoint(0x24_00 + code);
	}

	if (code === 0x7F) {
		return '\u2421';
	}

	return `<U+${code.toString(16).toUpperCase().padStart(4, '0')}>`;
}

/**
 * East Asian Wide and Fullwidth code points (Unicode 17, the data Ink measures with), as inclusive
 * ranges: these take two columns. Kept identical to Ink's so the live view's columns and Ink's own
 * truncation agree (a test compares the two over every code point).
 */
const wideRanges: readonly number[] = [
	0x11_00, 0x11_5F, 0x23_1A, 0x23_1B, 0x23_29, 0x23_2A, 0x23_E9, 0x23_EC, 0x23_F0, 0x23_F0, 0x23_F3, 0x23_F3, 0x25_FD, 0x25_FE, 0x26_14, 0x26_15,
	0x26_30, 0x26_37, 0x26_48, 0x26_53, 0x26_7F, 0x26_7F, 0x26_8A, 0x26_8F, 0x26_93, 0x26_93, 0x26_A1, 0x26_A1, 0x26_AA, 0x26_AB, 0x26_BD, 0x26_BE,
	0x26_C4, 0x26_C5, 0x26_CE, 0x26_CE, 0x26_D4, 0x26_D4, 0x26_EA, 0x26_EA, 0x26_F2, 0x26_F3, 0x26_F5, 0x26_F5, 0x26_FA, 0x26_FA, 0x26_FD, 0x26_FD,
	0x27_05, 0x27_05, 0x27_0A, 0x27_0B, 0x27_28, 0x27_28, 0x27_4C, 0x27_4C, 0x27_4E, 0x27_4E, 0x27_53, 0x27_55, 0x27_57, 0x27_57, 0x27_95, 0x27_97,
	0x27_B0, 0x27_B0, 0x27_BF, 0x27_BF, 0x2B_1B, 0x2B_1C, 0x2B_50, 0x2B_50, 0x2B_55, 0x2B_55, 0x2E_80, 0x2E_99, 0x2E_9B, 0x2E_F3, 0x2F_00, 0x2F_D5,
	0x2F_F0, 0x30_3E, 0x30_41, 0x30_96, 0x30_99, 0x30_FF, 0x31_05, 0x31_2F, 0x31_31, 0x31_8E, 0x31_90, 0x31_E5, 0x31_EF, 0x32_1E, 0x32_20, 0x32_47,
	0x32_50, 0xA4_8C, 0xA4_90, 0xA4_C6, 0xA9_60, 0xA9_7C, 0xAC_00, 0xD7_A3, 0xF9_00, 0xFA_FF, 0xFE_10, 0xFE_19, 0xFE_30, 0xFE_52, 0xFE_54, 0xFE_66,
	0xFE_68, 0xFE_6B, 0xFF_01, 0xFF_60, 0xFF_E0, 0xFF_E6, 0x1_6F_E0, 0x1_6F_E4, 0x1_6F_F0, 0x1_6F_F6, 0x1_70_00, 0x1_8C_DA, 0x1_8C_FF, 0x1_8D_20, 0x1_8D_80, 0x1_8D_F2,
	0x1_8E_00, 0x1_91_91, 0x1_91_A0, 0x1_91_D2, 0x1_AF_F0, 0x1_AF_F3, 0x1_AF_F5, 0x1_AF_FB, 0x1_AF_FD, 0x1_AF_FE, 0x1_B0_00, 0x1_B1_28, 0x1_B1_32, 0x1_B1_32, 0x1_B1_50, 0x1_B1_52,
	0x1_B1_55, 0x1_B1_55, 0x1_B1_64, 0x1_B1_68, 0x1_B1_70, 0x1_B2_FB, 0x1_D3_00, 0x1_D3_56, 0x1_D3_60, 0x1_D3_76, 0x1_F0_04, 0x1_F0_04, 0x1_F0_CF, 0x1_F0_CF, 0x1_F1_8E, 0x1_F1_8E,
	0x1_F1_91, 0x1_F1_9A, 0x1_F1_AE, 0x1_F1_AE, 0x1_F2_00, 0x1_F2_02, 0x1_F2_10, 0x1_F2_3B, 0x1_F2_40, 0x1_F2_48, 0x1_F2_50, 0x1_F2_51, 0x1_F2_60, 0x1_F2_65, 0x1_F3_00, 0x1_F3_20,
	0x1_F3_2D, 0x1_F3_35, 0x1_F3_37, 0x1_F3_7C, 0x1_F3_7E, 0x1_F3_93, 0x1_F3_A0, 0x1_F3_CA, 0x1_F3_CF, 0x1_F3_D3, 0x1_F3_E0, 0x1_F3_F0, 0x1_F3_F4, 0x1_F3_F4, 0x1_F3_F8, 0x1_F4_3E,
	0x1_F4_40, 0x1_F4_40, 0x1_F4_42, 0x1_F4_FC, 0x1_F4_FF, 0x1_F5_3D, 0x1_F5_4B, 0x1_F5_4E, 0x1_F5_50, 0x1_F5_67, 0x1_F5_7A, 0x1_F5_7A, 0x1_F5_95, 0x1_F5_96, 0x1_F5_A4, 0x1_F5_A4,
	0x1_F5_FB, 0x1_F6_4F, 0x1_F6_80, 0x1_F6_C5, 0x1_F6_CC, 0x1_F6_CC, 0x1_F6_D0, 0x1_F6_D2, 0x1_F6_D5, 0x1_F6_D9, 0x1_F6_DC, 0x1_F6_DF, 0x1_F6_EB, 0x1_F6_EC, 0x1_F6_F4, 0x1_F6_FC,
	0x1_F7_DA, 0x1_F7_DA, 0x1_F7_E0, 0x1_F7_EB, 0x1_F7_F0, 0x1_F7_F0, 0x1_F9_0C, 0x1_F9_3A, 0x1_F9_3C, 0x1_F9_45, 0x1_F9_47, 0x1_F9_FF, 0x1_FA_70, 0x1_FA_7C, 0x1_FA_80, 0x1_FA_C6,
	0x1_FA_C8, 0x1_FA_C8, 0x1_FA_CC, 0x1_FA_DD, 0x1_FA_DF, 0x1_FA_EB, 0x1_FA_EF, 0x1_FA_FA, 0x2_00_00, 0x2_FF_FD, 0x3_00_00, 0x3_FF_FD,
];

function isWide(code: number): boolean {
	let low = 0;
	let high = (wideRanges.length / 2) - 1;
	while (low <= high) {
		const middle = (low + high) >> 1;
		if (code < wideRanges[2 * middle]!) {
			high = middle - 1;
		} else if (code > wideRanges[(2 * middle) + 1]!) {
			low = middle + 1;
		} else {
			return true;
		}
	}

	return false;
}

const segmenter = new Intl.Segmenter();
/** A character that draws something: a cluster without one takes no column. */
const drawing = /[^\p{Default_Ignorable_Code_Point}\p{Cc}\p{Cf}\p{Mn}\p{Me}\p{Cs}]/u;
const emojiPresentation = /\p{Emoji_Presentation}|\p{Extended_Pictographic}\uFE0F/u;
const pictographs = /\p{Extended_Pictographic}/gu;
const lone = /^\p{Regional_Indicator}$/u;
const keycap = /^[\d#*]\uFE0F?\u20E3$/;
const spacingMark = /\p{Mc}/u;

const leadingJamo = (code: number | undefined): boolean => code !== undefined && ((code >= 0x11_00 && code <= 0x11_5F) || (code >= 0xA9_60 && code <= 0xA9_7C));
const vowelJamo = (code: number | undefined): boolean => code !== undefined && ((code >= 0x11_60 && code <= 0x11_A7) || (code >= 0xD7_B0 && code <= 0xD7_C6));
const trailingJamo = (code: number | undefined): boolean => code !== undefined && ((code >= 0x11_A8 && code <= 0x11_FF) || (code >= 0xD7_CB && code <= 0xD7_FB));
const isJamo = (code: number): boolean => leadingJamo(code) || vowelJamo(code) || trailingJamo(code);

/** Columns of one grapheme cluster, as terminals and Ink draw it. */
function clusterWidth(cluster: string): number {
	const start = cluster.search(drawing);
	if (start === -1) {
		return 0;
	}

	if (lone.test(cluster)) {
		return 1;
	}

	if (keycap.test(cluster) || emojiPresentation.test(cluster) || (cluster.includes('\u200D') && (cluster.match(pictographs)?.length ?? 0) >= 2)) {
		return 2;
	}

	const codes = [...cluster.slice(start)].filter(character => drawing.test(character)).map(character => character.codePointAt(0)!);
	const first = codes[0]!;
	if (!isJamo(first)) {
		// The first character decides; spacing marks and halfwidth forms after it take their own columns.
		let width = isWide(first) ? 2 : 1;
		for (const code of codes.slice(1)) {
			if (spacingMark.test(String.fromCodePoint(code)) || (code >= 0xFF_00 && code <= 0xFF_EF)) {
				width += isWide(code) ? 2 : 1;
			}
		}

		return width;
	}

	let width = 0;
	for (let index = 0; index < codes.length; index++) {
		const code = codes[index]!;
		if (!isJamo(code)) {
			for (const rest of codes.slice(index)) {
				width += isWide(rest) ? 2 : 1;
			}

			break;
		}

		if (leadingJamo(code) && vowelJamo(codes[index + 1])) {
			// A modern Hangul syllable written as jamo draws as one block.
			width += 2;
			index += trailingJamo(codes[index + 2]) ? 2 : 1;
		} else {
			width += isWide(code) ? 2 : 1;
		}
	}

	return width;
}

/** Columns `text` takes in a terminal: wide East Asian characters and emoji take two, marks none. Measure safe text. */
export function terminalWidth(text: string): number {
	if (/^[\u0020-\u007E]*$/.test(text)) {
		return text.length;
	}

	let width = 0;
	for (const {segment} of segmenter.segment(text)) {
		width += clusterWidth(segment);
	}

	return width;
}

/** `text` cut to at most `width` columns, ending with `…` when cut; never splits a character or cluster. */
export function truncateToWidth(text: string, width: number): string {
	if (width <= 0) {
		return '';
	}

	if (terminalWidth(text) <= width) {
		return text;
	}

	let kept = '';
	let used = 0;
	for (const {segment} of segmenter.segment(text)) {
		const size = clusterWidth(segment);
		if (used + size > width - 1) {
			break;
		}

		kept += segment;
		used += size;
	}

	return `${kept}…`;
}

/** `text` padded with spaces to `width` columns (unchanged when already as wide or wider). */
export function padToWidth(text: string, width: number): string {
	return text + ' '.repeat(Math.max(0, width - terminalWidth(text)));
}

/** `text` in exactly `width` columns: cut with `…` if longer, padded if shorter. A wide character that would straddle the edge becomes a space. */
export function fitToWidth(text: string, width: number): string {
	return padToWidth(truncateToWidth(text, width), width);
}
