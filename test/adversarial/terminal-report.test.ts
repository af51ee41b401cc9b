import {describe, expect, it} from 'vitest';
import type {ScanPlan} from '../../source/core/plan.ts';
import {parseReference} from '../../source/core/reference.ts';
import {terminalWidth} from '../../source/core/terminal-text.ts';
import type {ContainerFacts, ContainerResult, ScanReport, ServiceInfo, Verdict} from '../../source/core/types.ts';
import {renderDryRun} from '../../source/report/dry-run.ts';
import {renderExclusions, renderPins} from '../../source/report/lists.ts';
import {scanJson} from '../../source/report/scan-json.ts';
import {renderScanTable} from '../../source/report/scan-table.ts';

const d = (character: string): string => `sha256:${character.repeat(64)}`;

/** What a terminal acts on or hides instead of showing. SGR colour (`ESC[..m`) is checked apart. */
const dangerous = /[\u0000-\u0008\u000B-\u001F\u007F-\u009F\p{Cf}\u2028\u2029]|[\uD800-\uDFFF]/u;
const withoutColour = (text: string): string => text.replaceAll(/\u001B\[\d+m/g, '');

const title = '\u001B]0;pwned\u0007';
const clipboard = '\u001B]52;c;Y3VybCBldmlsLnNofHNo\u0007';
const clear = '\u001B[2J\u001B[H';

function row(name: string, verdict: Verdict, extra: Partial<ContainerResult> = {}): ContainerResult {
	return {host: 'local', kind: 'container', service: null, id: name.padEnd(64, '0'), name, image: `registry.example/team/app:1`, state: 'running', imageId: d('1'), platform: {os: 'linux', architecture: 'amd64'}, reference: 'registry.example/team/app:1', verdict, ...extra};
}

function report(containers: ContainerResult[]): ScanReport {
	const count = (status: Verdict['status']): number => containers.filter(result => result.verdict.status === status).length;
	return {
		scannedAt: '2026-11-23T04:20:06.784Z',
		hosts: [],
		durationMs: 412,
		containers,
		summary: {total: containers.length, upToDate: count('up-to-date'), updateAvailable: count('update-available'), pinned: count('pinned'), excluded: count('excluded'), unknown: count('unknown'), error: count('error'), newerVersions: 0},
		rateLimits: [{registry: `docker.io${title}`, limit: 100, remaining: 76, windowSeconds: 21_600}],
	};
}

const hostileRows = (): ContainerResult[] => [
	row('web', {status: 'up-to-date', localDigest: d('a'), remoteDigest: d('a')}),
	row(`evil${clear}${title}`, {status: 'update-available', localDigest: d('a'), remoteDigest: d('b')}, {image: `registry.example/team/app:1${clipboard}`}),
	row('日本語のサービス', {status: 'up-to-date', localDigest: d('a'), remoteDigest: d('a')}),
	row('invoice\u202Efdp.exe', {status: 'unknown', reason: `Built locally\n${title}and more`}, {state: `running${clear}`}),
	row('\u0085c1\u009B2J', {status: 'error', error: `Registry registry.example answered HTTP 500 for team/app:1 (${clipboard}\u202Enoitpecxe\r\nsecond line).`, localDigest: null}),
];

/** The terminal column each of `cells` starts at on `line` (text as it appears there). */
const starts = (line: string, cells: readonly string[]): number[] => {
	let from = 0;
	return cells.map(cell => {
		const index = line.indexOf(cell, from);
		expect(index, `"${cell}" in "${line}"`).toBeGreaterThanOrEqual(0);
		from = index + cell.length;
		return terminalWidth(line.slice(0, index));
	});
};

describe('the --once table with hostile names, images, states, reasons and errors', () => {
	it.each([false, true])('prints none of their escapes, and keeps its columns (colour %s)', color => {
		const output = renderScanTable(report(hostileRows()), {color});
		expect(withoutColour(output)).not.toMatch(dangerous);
		expect(withoutColour(output)).not.toContain('\u001B');
		// What was there is shown, not hidden.
		expect(output).toContain('evil␛[2J␛[H␛]0;pwned␇');
		expect(output).toContain('invoice<U+202E>fdp.exe');
		expect(output).toContain('Built locally␊␛]0;pwned␇and more');
		expect(output).toContain('docker.io␛]0;pwned␇: 76 of 100 pulls left');

		const lines = withoutColour(output).split('\n');
		const header = starts(lines[0]!, ['NAME', 'IMAGE', 'STATE', 'STATUS', 'DETAIL']);
		const expected: Array<[string, string]> = [
			['evil␛[2J', 'update available'],
			['<U+0085>c1<U+009B>2J', 'error'],
			['web', 'up to date'],
			['日本語のサービス', 'up to date'],
			['invoice<U+202E>fdp.exe', 'unknown'],
		];
		for (const [index, [name, status]] of expected.entries()) {
			const line = lines[index + 1]!;
			expect(starts(line, [name, 'registry.example', 'running', status]), line).toEqual(header.slice(0, 4));
		}
	});

	it('leaves the JSON exact: JSON escaping is enough there', () => {
		const rows = hostileRows();
		const parsed = JSON.parse(JSON.stringify(scanJson(report(rows)))) as ReturnType<typeof scanJson>;
		expect(parsed.containers.map(container => container.name)).toEqual(rows.map(result => result.name));
		expect(parsed.containers[4]?.error).toContain(clipboard);
	});

	it('gives an error its few words when the terminal is too narrow for the sentence', () => {
		const errors = [
			row('down', {status: 'error', error: 'Registry registry.example is unreachable: connection refused at registry.example:443. Is it running?', localDigest: null}),
			row('gone', {status: 'error', error: 'Tag "1" not found in registry.example/team/app: it was deleted or renamed on the registry.', localDigest: null}),
		];
		const narrow = renderScanTable(report(errors), {color: false, width: 90}).split('\n');
		expect(narrow.find(line => line.startsWith('down'))).toMatch(/ error +connection refused$/);
		expect(narrow.find(line => line.startsWith('gone'))).toMatch(/ error +tag not found$/);
		const wide = renderScanTable(report(errors), {color: false, width: 300});
		expect(wide).toContain('connection refused at registry.example:443. Is it running?');
	});
});

describe('several engines and Swarm services in the --once table', () => {
	const service: ServiceInfo = {mode: 'replicated', replicas: 3, tasks: ['a1', 'b2', 'c3']};

	it('adds HOST only when rows come from more than one engine, and shows a service by its mode and replicas', () => {
		const rows = [
			row('web', {status: 'up-to-date', localDigest: d('a'), remoteDigest: d('a')}),
			row('queue', {status: 'update-available', localDigest: d('a'), remoteDigest: d('b')}, {kind: 'service', service, image: `registry.example/team/queue:1@${d('c')}`}),
			row('metrics', {status: 'up-to-date', localDigest: d('a'), remoteDigest: d('a')}, {kind: 'service', service: {mode: 'global', replicas: null, tasks: []}}),
		];
		const single = renderScanTable(report(rows), {color: false}).split('\n');
		expect(single[0]).toMatch(/^NAME\s+IMAGE\s+STATE\s+STATUS\s+DETAIL$/);
		expect(single.find(line => line.startsWith('queue'))).toMatch(/^queue\s+registry\.example\/team\/queue:1@sha256:cccccccccccc…\s+replicated 3\s+update available/);
		expect(single.find(line => line.startsWith('metrics'))).toMatch(/^metrics\s+\S+\s+global\s+up to date/);

		const several = renderScanTable(report([...rows, row('web', {status: 'error', error: 'Registry x is unreachable: connection refused at x:443.', localDigest: null}, {host: 'prod-eu'})]), {color: false}).split('\n');
		expect(several[0]).toMatch(/^HOST\s+NAME\s+IMAGE/);
		expect(several.find(line => line.startsWith('prod-eu'))).toMatch(/^prod-eu\s+web\s+registry/);
		expect(several.find(line => line.startsWith('local ') && line.includes('queue'))).toBeDefined();
	});
});

describe('pins, exclusions and dry-run with hostile names', () => {
	it('pins and exclude list show the escapes as text, aligned', () => {
		const pins = renderPins([
			{name: `evil${title}`, containerId: 'a'.repeat(64), pinnedAt: '2026-11-01T00:00:00.000Z'},
			{name: '日本語', containerId: 'b'.repeat(64), pinnedAt: '2026-11-02T00:00:00.000Z'},
		], false);
		expect(pins).not.toMatch(dangerous);
		expect(pins).toContain('evil␛]0;pwned␇');
		const lines = pins.split('\n');
		expect(starts(lines[1]!, ['aaaa', '2026-11-01'])).toEqual(starts(lines[0]!, ['CONTAINER ID', 'PINNED AT']));
		expect(starts(lines[2]!, ['bbbb', '2026-11-02'])).toEqual(starts(lines[0]!, ['CONTAINER ID', 'PINNED AT']));

		// Wide characters measured in columns, not in string length: the widest name is shown whole.
		const wide = renderPins([
			{name: 'web', containerId: 'c'.repeat(64), pinnedAt: '2026-11-03T00:00:00.000Z'},
			{name: '日本語のサービス👩‍💻', containerId: 'd'.repeat(64), pinnedAt: '2026-11-04T00:00:00.000Z'},
		], false).split('\n');
		expect(wide[2]).toContain('日本語のサービス👩‍💻');
		expect(starts(wide[1]!, ['cccc', '2026-11-03'])).toEqual(starts(wide[0]!, ['CONTAINER ID', 'PINNED AT']));
		expect(starts(wide[2]!, ['dddd', '2026-11-04'])).toEqual(starts(wide[0]!, ['CONTAINER ID', 'PINNED AT']));

		const exclusions = renderExclusions([{id: 1, pattern: `ghcr.io/acme/*${clear}`, createdAt: '2026-11-01T00:00:00.000Z'}], true);
		expect(withoutColour(exclusions)).not.toMatch(dangerous);
		expect(exclusions).toContain('ghcr.io/acme/*␛[2J␛[H');
	});

	it('dry-run shows names, references and reasons as text', () => {
		const facts = (name: string, image: string): ContainerFacts => ({host: 'local', kind: 'container', labels: {}, service: null, id: name.padEnd(64, '0'), name, image, imageId: d('1'), state: 'running', repoDigests: [], imagePresent: true, platform: null});
		const reference = parseReference('registry.example/team/app:1');
		const plan: ScanPlan = {
			containers: [
				{kind: 'check', facts: facts(`web${title}`, 'registry.example/team/app:1'), reference, key: 'registry.example/team/app:1', localDigests: [d('a')]},
				{kind: 'settled', facts: facts(`local${clear}`, `tools${clipboard}`), reference: null, key: null, verdict: {status: 'unknown', reason: `Built locally\u202E${title}`}},
			],
			checks: new Map([['registry.example/team/app:1', reference]]),
		};
		const output = renderDryRun(plan, true, new Map());
		expect(withoutColour(output)).not.toMatch(dangerous);
		expect(withoutColour(output)).not.toContain('\u001B');
		expect(output).toContain('web␛]0;pwned␇');
		expect(output).toContain('tools␛]52;c;');
		expect(output).toContain('Built locally<U+202E>␛]0;pwned␇');
	});
});
