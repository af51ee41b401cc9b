import {riskLooks, riskText, type StatusLook} from '../../core/status.ts';
import type {ContainerResult, VulnerabilityCounts} from '../../core/types.ts';

/** One labelled line of the detail pane. The value is raw text from outside: the pane makes it safe. */
export interface DetailLine {
	readonly label: string;
	readonly value: string;
	/** Colour of the value, when colour is on. */
	readonly color?: StatusLook['color'] | undefined;
	readonly bold?: boolean | undefined;
	/** Plain words after the value, never coloured. */
	readonly note?: string | undefined;
}

/** The most vulnerability lines the pane gives one row, so a long list cannot push the table off the screen. */
export const maxVulnerabilityLines = 5;

/** `1 critical, 2 high`: the severities present, worst first; `none` when there are none. */
function describeCounts(counts: VulnerabilityCounts): string {
	const parts = (['critical', 'high', 'medium', 'low', 'unknown'] as const).filter(severity => counts[severity] > 0).map(severity => `${counts[severity]} ${severity}`);
	return parts.length === 0 ? 'none' : parts.join(', ');
}

/**
 * What the steps after the verdict found, as the detail pane lists it: newer versions, where to read
 * what changed, known vulnerabilities and the risk, the worst vulnerabilities. A step that did not run
 * (its field absent) has no line; one that ran and found nothing says so, or why it could not.
 * Ordered so that cutting lines from the end, on a short terminal, loses the least.
 */
export function enrichmentLines(result: ContainerResult | null | undefined): DetailLine[] {
	if (result === null || result === undefined) {
		return [];
	}

	const lines: DetailLine[] = [];
	const {newer, links, vulnerabilities, risk} = result;
	if (newer !== undefined) {
		if (newer === null) {
			lines.push({label: 'newer', value: result.newerError ?? 'not checked for this container (not a version tag, or the check is off)', color: result.newerError ? 'red' : undefined});
		} else {
			lines.push({label: 'newer', value: newer.length === 0 ? 'none: this tag is the newest' : newer.map(version => `${version.tag} ${version.type}`).join('  ')});
		}
	}

	if (vulnerabilities !== undefined) {
		if (vulnerabilities === null) {
			lines.push({label: 'vulns', value: result.vulnerabilitiesError ?? 'not checked for this container', color: result.vulnerabilitiesError ? 'red' : undefined});
		} else {
			const target = vulnerabilities.target === null ? 'unknown (no package list for the target)' : describeCounts(vulnerabilities.target);
			const fixed = vulnerabilities.fixed === null ? '' : `; the update fixes ${vulnerabilities.fixed.length}`;
			const source = vulnerabilities.source === 'sbom' ? 'the image\'s SBOM' : 'the container\'s files';
			lines.push({label: 'vulns', value: `${describeCounts(vulnerabilities.current)} → ${target}${fixed}`, note: `  (packages from ${source})`});
		}
	}

	if (risk !== null && risk !== undefined) {
		const look = riskLooks[risk.level];
		const of = vulnerabilities === null || vulnerabilities === undefined ? undefined : vulnerabilities.target === null ? '  (of what the container carries: the target is unknown)' : '  (of what the update fixes)';
		lines.push({label: 'risk', value: riskText(risk), color: look.color, bold: look.bold, note: of});
	}

	if (links !== null && links !== undefined) {
		if (links.changes !== null) {
			lines.push({label: 'changes', value: links.changes});
		}

		if (links.release !== null) {
			lines.push({label: 'release', value: links.release});
		}

		if (links.source !== null) {
			lines.push({label: 'source', value: links.source});
		}

		if (links.revision !== null || links.targetRevision !== null) {
			lines.push({label: 'revision', value: links.targetRevision === null ? links.revision ?? '' : `${links.revision ?? 'unknown'} → ${links.targetRevision}`});
		}
	}

	for (const note of (result.topVulnerabilities ?? []).slice(0, maxVulnerabilityLines)) {
		const look = riskLooks[note.severity === 'unknown' ? 'low' : note.severity];
		lines.push({label: '', value: `${note.id} ${note.severity}`, color: look.color, bold: look.bold, note: note.summary === null ? undefined : `  ${note.summary}`});
	}

	return lines;
}
