import {describe, expect, it} from 'vitest';
import {terminalWidth} from '../../source/core/terminal-text.ts';
import {summarize, type ContainerResult, type Enrichment, type ScanReport, type Verdict} from '../../source/core/types.ts';
import {renderScanTable} from '../../source/report/scan-table.ts';

const d = (character: string): string => `sha256:${character.repeat(64)}`;
const upToDate: Verdict = {status: 'up-to-date', localDigest: d('a'), remoteDigest: d('a')};
const update: Verdict = {status: 'update-available', localDigest: d('a'), remoteDigest: d('b')};

function row(name: string, verdict: Verdict, enrichment: Enrichment = {}): ContainerResult {
	const image = `registry.example/team/${name}:1.25.3`;
	return {host: 'local', kind: 'container', service: null, id: name.padEnd(64, '0'), name, image, state: 'running', imageId: d('1'), platform: {os: 'linux', architecture: 'amd64'}, reference: image, verdict, ...enrichment};
}

function report(containers: ContainerResult[]): ScanReport {
	return {scannedAt: '2026-11-23T04:20:06.784Z', hosts: [], durationMs: 412, containers, summary: summarize(containers)};
}

const enriched = (): ContainerResult[] => [
	row('web', upToDate, {newer: [{tag: '1.25.4', type: 'patch'}, {tag: '1.27.1', type: 'minor'}], risk: {score: 72, level: 'high'}}),
	row('api', update, {newer: [{tag: '2.0.0', type: 'major'}], risk: {score: 40, level: 'critical'}}),
	row('db', upToDate, {newer: null, newerError: 'Could not list the tags.', risk: null}),
	row('cache', upToDate, {newer: [], risk: {score: 0, level: 'none'}}),
];

// eslint-disable-next-line no-control-regex
const withoutColour = (text: string): string => text.replaceAll(/\u001B\[\d+m/g, '');
const lineOf = (output: string, start: string): string => output.split('\n').find(line => line.startsWith(start)) ?? '';
const columnOf = (line: string, text: string): number => terminalWidth(line.slice(0, line.indexOf(text)));

describe('NEWER and RISK in the --once table', () => {
	it('shows the newest newer version with its kind and the risk, and counts the newer versions', () => {
		const output = renderScanTable(report(enriched()), {color: false});
		const header = lineOf(output, 'NAME');
		expect(header).toMatch(/^NAME\s+IMAGE\s+STATE\s+STATUS\s+NEWER\s+RISK\s+DETAIL$/);
		const web = lineOf(output, 'web');
		expect(columnOf(web, '1.27.1 minor')).toBe(columnOf(header, 'NEWER'));
		expect(columnOf(web, 'high 72')).toBe(columnOf(header, 'RISK'));
		expect(columnOf(lineOf(output, 'api'), '2.0.0 major')).toBe(columnOf(header, 'NEWER'));
		expect(columnOf(lineOf(output, 'api'), 'critical 40')).toBe(columnOf(header, 'RISK'));
		// Nothing newer, or not known: empty cells, and DETAIL stays in its column.
		expect(columnOf(lineOf(output, 'db'), 'aaaaaaaaaaaa')).toBe(columnOf(header, 'DETAIL'));
		expect(columnOf(lineOf(output, 'cache'), 'none 0')).toBe(columnOf(header, 'RISK'));
		expect(output).toMatch(/\n4 containers: 1 update available, 3 up to date; 2 newer versions \(checked in 412ms\)$/);
	});

	it('has no NEWER or RISK column and no newer count for a scan without those steps', () => {
		const output = renderScanTable(report([row('web', upToDate), row('api', update)]), {color: false});
		expect(lineOf(output, 'NAME')).toMatch(/^NAME\s+IMAGE\s+STATE\s+STATUS\s+DETAIL$/);
		expect(output).toMatch(/\n2 containers: 1 update available, 1 up to date \(checked in 412ms\)$/);
	});

	it('shows NEWER when the step ran even with nothing newer, without a count; one newer version in the singular', () => {
		for (const newer of [[], null]) {
			const none = renderScanTable(report([row('web', upToDate, {newer}), row('db', upToDate, {newer: null})]), {color: false});
			expect(lineOf(none, 'NAME')).toMatch(/^NAME\s+IMAGE\s+STATE\s+STATUS\s+NEWER\s+DETAIL$/);
			expect(none).not.toContain('newer version');
		}

		const one = renderScanTable(report([row('web', upToDate, {newer: [{tag: '1.26.0', type: 'minor'}]})]), {color: false});
		expect(one).toContain('1 up to date; 1 newer version (checked');
	});

	it('colours RISK by level, on a terminal only', () => {
		const output = renderScanTable(report(enriched()), {color: true});
		const web = lineOf(withoutColour(output), 'web');
		expect(web).toContain('high 72');
		expect(output).toMatch(/\u001B\[31mhigh 72 *\u001B\[39m/);
		expect(output).toMatch(/\u001B\[1m\u001B\[31mcritical 40 *\u001B\[39m\u001B\[22m/);
		expect(output).toMatch(/\u001B\[2mnone 0 *\u001B\[22m/);
		expect(renderScanTable(report(enriched()), {color: false})).not.toContain('\u001B');
	});

	it('on a narrow terminal cuts NEWER to the tag and RISK to the score, then drops NEWER, then RISK, before NAME or IMAGE wrap or DETAIL loses its words', () => {
		const rows = enriched();
		const full = renderScanTable(report(rows), {color: false});
		const widest = (output: string): number => Math.max(...output.split('\n').slice(0, rows.length + 1).map(line => terminalWidth(line)));
		// The narrowest a table fits in: DETAIL cut to its header.
		const fitting = (output: string): number => columnOf(lineOf(output, 'NAME'), 'DETAIL') + 'DETAIL'.length;
		expect(fitting(full)).toBeLessThan(widest(full));

		const layouts: Array<[string, RegExp, RegExp]> = [
			['full', /STATUS\s+NEWER\s+RISK\s+DETAIL$/, /up to date\s+1\.27\.1 minor\s+high 72\s/],
			['tag', /STATUS\s+NEWER\s+RISK\s+DETAIL$/, /up to date\s+1\.27\.1\s+high 72\s/],
			['score', /STATUS\s+NEWER\s+RISK\s+DETAIL$/, /up to date\s+1\.27\.1\s+72\s/],
			['risk only', /STATUS\s+RISK\s+DETAIL$/, /up to date\s+high 72\s/],
			['risk score only', /STATUS\s+RISK\s+DETAIL$/, /up to date\s+72\s/],
			['neither', /STATUS\s+DETAIL$/, /up to date\s+aaaa/],
		];
		const reached: string[] = [];
		for (let width = widest(full); width > 20; width--) {
			const output = renderScanTable(report(rows), {color: false, width});
			const web = lineOf(output, 'web');
			const name = layouts.find(([, header, line]) => header.test(lineOf(output, 'NAME')) && line.test(web))?.[0] ?? `unexpected at ${width}`;
			if (reached.at(-1) !== name) {
				reached.push(name);
			}

			if (fitting(output) <= width) {
				// It fits: every line does, and NAME and IMAGE are whole.
				expect(widest(output), `at ${width}`).toBeLessThanOrEqual(width);
				expect(web, `at ${width}`).toMatch(/^web +registry\.example\/team\/web:1\.25\.3 /);
			}

			if (name !== 'neither') {
				// NEWER and RISK never take DETAIL below an error's few words.
				const api = lineOf(output, 'api');
				expect(terminalWidth(api) - columnOf(api, 'aaaa'), `at ${width}`).toBeGreaterThanOrEqual(24);
			}
		}

		expect(reached).toEqual(layouts.map(([name]) => name));
	});

	it('makes hostile tags safe and keeps the columns aligned', () => {
		const evil = '\u001B]0;pwned\u0007\u001B[2J';
		const output = renderScanTable(report([
			row('web', upToDate, {newer: [{tag: `2.0.0${evil}`, type: 'major'}]}),
			row('jp', upToDate, {newer: [{tag: '日本語のタグ', type: 'minor'}]}),
			row('db', upToDate, {newer: []}),
		]), {color: true});
		const plain = withoutColour(output);
		expect(plain).not.toContain('\u001B');
		expect(plain).toContain('2.0.0␛]0;pwned␇␛[2J major');
		const header = lineOf(plain, 'NAME');
		for (const name of ['web', 'jp', 'db']) {
			expect(columnOf(lineOf(plain, name), 'aaaa'), name).toBe(columnOf(header, 'DETAIL'));
		}
	});
});

describe('a table of many rows', () => {
	it('measures its columns over 250,000 rows, more than a spread of arguments takes', () => {
		// Three hosts may list 100,000 containers each; Math.max(...widths) threw past about 120,000.
		const rows = Array.from({length: 250_000}, (_, index) => row(`c${index}`, index % 2 === 0 ? upToDate : update));
		rows.push(row(`widest-${'n'.repeat(40)}`, upToDate));
		const lines = renderScanTable(report(rows), {color: false}).split('\n');
		expect(lines).toHaveLength(1 + rows.length + 2);
		// Every row is laid out to the widest name, which comes last in the input.
		const statusAt = lines[0]!.indexOf('STATUS');
		expect(lines.slice(1, -2).every(line => line.indexOf(line.includes('update available') ? 'update available' : 'up to date') === statusAt)).toBe(true);
	});
});
