import type {ScanPlan} from '../core/plan.ts';
import {safeTerminalText} from '../core/terminal-text.ts';
import type {ScanStatus} from '../core/types.ts';
import {renderTable, styler} from './text.ts';

export interface DryRunJson {
	readonly registries: ReadonlyArray<{
		readonly registry: string;
		readonly scheme: 'http' | 'https';
		readonly checks: ReadonlyArray<{readonly reference: string; readonly containers: readonly string[]}>;
	}>;
	readonly skipped: ReadonlyArray<{readonly name: string; readonly image: string; readonly status: ScanStatus; readonly reason: string}>;
	readonly summary: {readonly containers: number; readonly checks: number; readonly registries: number; readonly skipped: number};
}

/** What a scan would ask which registry, and what it would settle without asking. */
export function dryRunJson(plan: ScanPlan, schemes: ReadonlyMap<string, 'http' | 'https'>): DryRunJson {
	const registries = new Map<string, Map<string, string[]>>();
	const skipped: Array<DryRunJson['skipped'][number]> = [];
	for (const planned of plan.containers) {
		if (planned.kind === 'check') {
			const checks = registries.get(planned.reference.registry) ?? new Map<string, string[]>();
			registries.set(planned.reference.registry, checks);
			checks.set(planned.key, [...(checks.get(planned.key) ?? []), planned.facts.name]);
		} else {
			const {verdict} = planned;
			const reason = verdict.status === 'error' ? verdict.error : 'reason' in verdict ? verdict.reason : '';
			skipped.push({name: planned.facts.name, image: planned.facts.image, status: verdict.status, reason});
		}
	}

	return {
		registries: [...registries].map(([registry, checks]) => ({
			registry,
			scheme: schemes.get(registry) ?? 'https',
			checks: [...checks].map(([reference, containers]) => ({reference, containers})),
		})),
		skipped,
		summary: {containers: plan.containers.length, checks: plan.checks.size, registries: registries.size, skipped: skipped.length},
	};
}

export function renderDryRun(plan: ScanPlan, color: boolean, schemes: ReadonlyMap<string, 'http' | 'https'>): string {
	const style = styler(color);
	const json = dryRunJson(plan, schemes);
	const lines: string[] = [];
	const {summary} = json;
	lines.push(`A scan would send one manifest HEAD for each of ${summary.checks} tag${summary.checks === 1 ? '' : 's'} on ${summary.registries} registr${summary.registries === 1 ? 'y' : 'ies'} (${summary.containers} container${summary.containers === 1 ? '' : 's'}); nothing was sent now.`);
	for (const registry of json.registries) {
		lines.push('', style.bold(`${safeTerminalText(registry.registry)} (${registry.scheme})`));
		for (const check of registry.checks) {
			lines.push(`  ${safeTerminalText(check.reference)}  ${style.dim(safeTerminalText(check.containers.join(', ')))}`);
		}
	}

	if (json.skipped.length > 0) {
		lines.push('', style.bold('Settled without a request:'));
		lines.push(renderTable([{header: 'NAME'}, {header: 'IMAGE'}, {header: 'STATUS'}, {header: 'REASON'}], json.skipped.map(entry => [{text: entry.name}, {text: entry.image}, {text: entry.status}, {text: entry.reason}]), style.dim));
	}

	return lines.join('\n');
}
