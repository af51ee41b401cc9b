import cvss from 'ae-cvss-calculator';
import type {VulnerabilityNote} from '../core/types.ts';
import type {OsvRecord} from './osv-schema.ts';

/** A severity bucket: critical >= 9.0, high >= 7.0, medium >= 4.0, low > 0; else unknown. */
export type Severity = VulnerabilityNote['severity'];

/** How severe one vulnerability is, and what said so. */
export interface SeverityAssessment {
	readonly severity: Severity;
	/** The CVSS base score when a vector gave it, else null. */
	readonly score: number | null;
	/** `CVSS:3.1`, `CVSS:4.0`, `ecosystem`, or `none`. */
	readonly basis: string;
}

const rank: Readonly<Record<Severity, number>> = {unknown: 0, low: 1, medium: 2, high: 3, critical: 4};

/** Orders severities from the least to the most severe (unknown first). */
export function severityRank(severity: Severity): number {
	return rank[severity];
}

/** The bucket of a CVSS base score; unknown for 0 (CVSS "None") or anything out of range. */
export function severityOfScore(score: number): Severity {
	if (!Number.isFinite(score) || score <= 0 || score > 10) {
		return 'unknown';
	}

	if (score >= 9) {
		return 'critical';
	}

	if (score >= 7) {
		return 'high';
	}

	return score >= 4 ? 'medium' : 'low';
}

const vectorPattern = /^CVSS:(3\.0|3\.1|4\.0)(?:\/[A-Za-z]{1,3}:[A-Za-z]{1,2}){4,40}$/;

/** The CVSS base score of a v3.0, v3.1 or v4.0 vector; undefined for anything else or an incomplete vector. */
export function cvssBaseScore(vector: string): number | undefined {
	const match = vectorPattern.exec(vector.trim());
	if (match === null) {
		return undefined;
	}

	try {
		const calculator = match[1] === '4.0' ? new cvss.Cvss4P0(vector.trim()) : match[1] === '3.0' ? new cvss.Cvss3P0(vector.trim()) : new cvss.Cvss3P1(vector.trim());
		const {base} = calculator.calculateScores();
		// An incomplete vector scores as undefined (or 0 with X metrics): not a score to trust.
		return typeof base === 'number' && Number.isFinite(base) && base > 0 && base <= 10 ? base : undefined;
	} catch {
		return undefined;
	}
}

/** Ecosystem words: GitHub's LOW/MODERATE/HIGH/CRITICAL, Ubuntu's priorities, Debian's urgencies. */
function severityOfWord(value: unknown): Severity {
	if (typeof value !== 'string') {
		return 'unknown';
	}

	switch (value.toLowerCase().replaceAll(/[^a-z]/g, '')) {
		case 'critical': {
			return 'critical';
		}

		case 'high':
		case 'important': {
			return 'high';
		}

		case 'medium':
		case 'moderate': {
			return 'medium';
		}

		case 'low':
		case 'negligible':
		case 'unimportant': {
			return 'low';
		}

		default: {
			return 'unknown';
		}
	}
}

/**
 * The severity of a record, in this order:
 * 1. CVSS: the highest base score of the `CVSS_V3` and `CVSS_V4` vectors in `severity[]` (the record's and
 *    its affected entries'), computed with ae-cvss-calculator;
 * 2. the ecosystem's own word, the most severe of: `severity[]` entries of type `Ubuntu`,
 *    `database_specific.severity` (GitHub, Alpine), `affected[].ecosystem_specific.severity`, and
 *    `affected[].ecosystem_specific.urgency` (Debian's security tracker urgency: unimportant/low count
 *    as low; "not yet assigned" and end-of-life notes as unknown);
 * 3. unknown.
 */
export function assessSeverity(record: OsvRecord): SeverityAssessment {
	const entries = [...record.severity ?? [], ...(record.affected ?? []).flatMap(affected => affected.severity ?? [])];
	let best: {score: number; basis: string} | undefined;
	for (const entry of entries) {
		if (entry.type !== 'CVSS_V3' && entry.type !== 'CVSS_V4') {
			continue;
		}

		const score = cvssBaseScore(entry.score);
		if (score !== undefined && (best === undefined || score > best.score)) {
			best = {score, basis: entry.score.slice(0, 8)};
		}
	}

	if (best !== undefined) {
		return {severity: severityOfScore(best.score), score: best.score, basis: best.basis};
	}

	const words: unknown[] = [
		...entries.filter(entry => entry.type === 'Ubuntu').map(entry => entry.score),
		record.database_specific?.['severity'],
		...(record.affected ?? []).flatMap(affected => [affected.ecosystem_specific?.['severity'], affected.ecosystem_specific?.['urgency'], affected.database_specific?.['severity']]),
	];
	let word: Severity = 'unknown';
	for (const candidate of words) {
		const severity = severityOfWord(candidate);
		if (rank[severity] > rank[word]) {
			word = severity;
		}
	}

	return {severity: word, score: null, basis: word === 'unknown' ? 'none' : 'ecosystem'};
}
