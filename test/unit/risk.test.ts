import {describe, expect, it} from 'vitest';
import {assessUpdate, countVulnerabilities, riskOf, topVulnerabilities, type ScoredVulnerability} from '../../source/core/risk.ts';

const v = (id: string, severity: ScoredVulnerability['severity']): ScoredVulnerability => ({id, severity});

describe('riskOf', () => {
	it.each([
		[[], 0, 'none'],
		[[v('A', 'critical')], 40, 'critical'],
		[[v('A', 'high'), v('B', 'high')], 36, 'high'],
		[[v('A', 'critical'), v('B', 'high')], 52, 'critical'],
		[Array.from({length: 10}, (_, index) => v(`M${index}`, 'medium')), 40, 'medium'],
		[[v('A', 'low')], 1, 'low'],
		[[v('A', 'unknown')], 2, 'low'],
		[[v('A', 'unknown'), v('B', 'medium')], 7, 'medium'],
		[Array.from({length: 40}, (_, index) => v(`C${index}`, 'critical')), 100, 'critical'],
	] as const)('%j scores %i, level %s', (vulnerabilities, score, level) => {
		expect(riskOf(vulnerabilities)).toEqual({score, level});
	});

	it('counts an id once, at its most severe reading', () => {
		expect(riskOf([v('A', 'high'), v('A', 'high')])).toEqual({score: 20, level: 'high'});
		expect(riskOf([v('A', 'low'), v('A', 'critical')])).toEqual({score: 40, level: 'critical'});
	});
});

describe('countVulnerabilities', () => {
	it('counts by severity with the ids sorted, each once', () => {
		expect(countVulnerabilities([v('B', 'high'), v('A', 'critical'), v('B', 'high'), v('C', 'unknown'), v('D', 'low'), v('E', 'medium')])).toEqual({critical: 1, high: 1, medium: 1, low: 1, unknown: 1, ids: ['A', 'B', 'C', 'D', 'E']});
	});
});

describe('assessUpdate', () => {
	const current = [v('CVE-1', 'high'), v('CVE-2', 'high'), v('CVE-3', 'medium')];

	it('scores what the update fixes', () => {
		const {vulnerabilities, risk} = assessUpdate('sbom', current, [v('CVE-3', 'medium'), v('CVE-9', 'low')]);
		expect(vulnerabilities).toEqual({
			source: 'sbom',
			current: {critical: 0, high: 2, medium: 1, low: 0, unknown: 0, ids: ['CVE-1', 'CVE-2', 'CVE-3']},
			target: {critical: 0, high: 0, medium: 1, low: 1, unknown: 0, ids: ['CVE-3', 'CVE-9']},
			fixed: ['CVE-1', 'CVE-2'],
		});
		expect(risk).toEqual({score: 36, level: 'high'});
	});

	it('scores what the container carries when the target is unknown', () => {
		const {vulnerabilities, risk} = assessUpdate('container', current, null);
		expect(vulnerabilities.target).toBeNull();
		expect(vulnerabilities.fixed).toBeNull();
		expect(risk).toEqual({score: 39, level: 'high'});
	});

	it('is none when the update fixes nothing', () => {
		expect(assessUpdate('sbom', current, current).risk).toEqual({score: 0, level: 'none'});
		expect(assessUpdate('sbom', current, current).vulnerabilities.fixed).toEqual([]);
	});
});

describe('topVulnerabilities', () => {
	it('puts the most severe and highest-scored first', () => {
		const items = [{id: 'L', severity: 'low' as const, score: 3}, {id: 'H2', severity: 'high' as const, score: 7.5}, {id: 'H1', severity: 'high' as const, score: 8.1}, {id: 'U', severity: 'unknown' as const, score: null}, {id: 'C', severity: 'critical' as const, score: 9.8}];
		expect(topVulnerabilities(items, 4).map(item => item.id)).toEqual(['C', 'H1', 'H2', 'L']);
	});
});
