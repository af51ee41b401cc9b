import type {Risk, RiskLevel, Vulnerabilities, VulnerabilityCounts, VulnerabilityNote} from './types.ts';

/** One vulnerability as scoring needs it. */
export interface ScoredVulnerability {
	readonly id: string;
	readonly severity: VulnerabilityNote['severity'];
}

/**
 * How much one vulnerability of each severity adds to the risk: the chance, loosely, that it is the one
 * that matters. An unknown severity weighs a little more than a low one, since nothing says it is low.
 */
export const riskWeights: Readonly<Record<VulnerabilityNote['severity'], number>> = {
	critical: 0.4,
	high: 0.2,
	medium: 0.05,
	low: 0.01,
	unknown: 0.02,
};

const severityOrder: ReadonlyArray<VulnerabilityNote['severity']> = ['critical', 'high', 'medium', 'low', 'unknown'];

/** Each id once (the most severe reading wins when two packages disagree), sorted by id. */
function unique(vulnerabilities: readonly ScoredVulnerability[]): ScoredVulnerability[] {
	const byId = new Map<string, ScoredVulnerability>();
	for (const vulnerability of vulnerabilities) {
		const kept = byId.get(vulnerability.id);
		if (kept === undefined || severityOrder.indexOf(vulnerability.severity) < severityOrder.indexOf(kept.severity)) {
			byId.set(vulnerability.id, vulnerability);
		}
	}

	return [...byId.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

/** Counts by severity of one package set's vulnerabilities, each id counted once. */
export function countVulnerabilities(vulnerabilities: readonly ScoredVulnerability[]): VulnerabilityCounts {
	const all = unique(vulnerabilities);
	const count = (severity: VulnerabilityNote['severity']): number => all.filter(item => item.severity === severity).length;
	return {critical: count('critical'), high: count('high'), medium: count('medium'), low: count('low'), unknown: count('unknown'), ids: all.map(item => item.id)};
}

/**
 * The risk score of a set of vulnerabilities, 0-100:
 *
 *     score = round(100 × (1 − Π (1 − w(severity_i))))
 *
 * over each distinct vulnerability i, with w = 0.4 critical, 0.2 high, 0.05 medium, 0.01 low, 0.02 unknown.
 * It grows with every vulnerability and never passes 100: one critical is 40, two highs 36, a critical
 * and a high 52, ten mediums 40. The level is the most severe severity among them (an unknown alone is
 * `low`); `none` when there are none.
 */
export function riskOf(vulnerabilities: readonly ScoredVulnerability[]): Risk {
	const all = unique(vulnerabilities);
	if (all.length === 0) {
		return {score: 0, level: 'none'};
	}

	const untouched = all.reduce((product, item) => product * (1 - riskWeights[item.severity]), 1);
	const worst = severityOrder.find(severity => all.some(item => item.severity === severity)) ?? 'unknown';
	const level: RiskLevel = worst === 'unknown' ? 'low' : worst;
	return {score: Math.min(100, Math.max(0, Math.round(100 * (1 - untouched)))), level};
}

/**
 * What the update changes: the counts of the current and (when known) target package sets, the ids the
 * update removes, and the risk of what it fixes, or of what the container carries when the target is
 * unknown.
 */
export function assessUpdate(source: Vulnerabilities['source'], current: readonly ScoredVulnerability[], target: readonly ScoredVulnerability[] | null): {vulnerabilities: Vulnerabilities; risk: Risk} {
	const currentCounts = countVulnerabilities(current);
	if (target === null) {
		return {vulnerabilities: {source, current: currentCounts, target: null, fixed: null}, risk: riskOf(current)};
	}

	const targetCounts = countVulnerabilities(target);
	const remaining = new Set(targetCounts.ids);
	const fixedIds = new Set(currentCounts.ids.filter(id => !remaining.has(id)));
	return {
		vulnerabilities: {source, current: currentCounts, target: targetCounts, fixed: [...fixedIds]},
		risk: riskOf(current.filter(item => fixedIds.has(item.id))),
	};
}

/** The most severe first (then the higher CVSS score, then the id), at most `limit`. */
export function topVulnerabilities<T extends ScoredVulnerability & {readonly score?: number | null}>(vulnerabilities: readonly T[], limit = 5): T[] {
	const byId = new Map<string, T>();
	for (const item of vulnerabilities) {
		if (!byId.has(item.id)) {
			byId.set(item.id, item);
		}
	}

	return [...byId.values()].sort((a, b) => severityOrder.indexOf(a.severity) - severityOrder.indexOf(b.severity)
		|| (b.score ?? -1) - (a.score ?? -1)
		|| (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)).slice(0, Math.max(0, limit));
}
