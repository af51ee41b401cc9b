import {describe, expect, it} from 'vitest';
import {summarize, type ContainerResult, type Enrichment, type HostReport, type RateLimit, type ScanReport, type ServiceInfo, type Verdict} from '../../source/core/types.ts';
import {batched} from '../../source/report/chunks.ts';
import {scanJson, scanJsonChunks} from '../../source/report/scan-json.ts';
import {renderScanTable, scanTableChunks} from '../../source/report/scan-table.ts';

const d = (character: string): string => `sha256:${character.repeat(64)}`;
// Quotes, backslashes, line breaks, controls, escape sequences, a lone surrogate, line and paragraph
// separators, wide and combining characters: everything JSON must escape or keep as it is.
const awkward = 'q"uo\\te\n\ttab \u0000\u001B]0;title\u0007 \uD800 \u2028\u2029 日本語 é 🐳 \u202E';

const verdicts: Verdict[] = [
	{status: 'up-to-date', localDigest: d('a'), remoteDigest: d('a')},
	{status: 'update-available', localDigest: d('a'), remoteDigest: d('b')},
	{status: 'pinned', reason: 'Pinned by the user.', localDigest: d('c')},
	{status: 'pinned', reason: 'Pinned by the user.', localDigest: null},
	{status: 'excluded', reason: `Matches the exclusion "${awkward}".`},
	{status: 'unknown', reason: 'The image is a local build.'},
	{status: 'error', error: `Registry x said: ${awkward}`, localDigest: d('d')},
	{status: 'error', error: 'connection refused', localDigest: null},
];

const enrichments: Enrichment[] = [
	{},
	{newer: null, newerError: 'Could not list the tags.', links: null, vulnerabilities: null, vulnerabilitiesError: 'No SBOM.', risk: null},
	{
		newer: [{tag: '1.25.4', type: 'patch'}, {tag: '2.0.0', type: 'major'}],
		links: {source: 'https://github.com/acme/web', revision: 'abc', targetRevision: null, changes: 'https://github.com/acme/web/compare/abc...def', release: null},
		vulnerabilities: {source: 'sbom', current: {critical: 1, high: 2, medium: 0, low: 3, unknown: 0, ids: ['CVE-1', awkward]}, target: null, fixed: null},
		risk: {score: 72, level: 'high'},
		topVulnerabilities: [{id: 'CVE-1', severity: 'critical', summary: null}],
	},
	{
		newer: [],
		vulnerabilities: {source: 'container', current: {critical: 0, high: 0, medium: 0, low: 0, unknown: 1, ids: ['X']}, target: {critical: 0, high: 0, medium: 0, low: 0, unknown: 0, ids: []}, fixed: ['X']},
		risk: {score: 0, level: 'none'},
	},
];

const services: Array<ServiceInfo | null> = [null, {mode: 'replicated', replicas: 3, tasks: ['t1', 't2', 't3']}, {mode: 'global', replicas: null, tasks: []}];

/** Every verdict with every enrichment, some as services, on two hosts, some with awkward names. */
function allRows(): ContainerResult[] {
	const rows: ContainerResult[] = [];
	for (const [v, verdict] of verdicts.entries()) {
		for (const [e, enrichment] of enrichments.entries()) {
			const index = rows.length;
			const service = services[index % services.length] ?? null;
			const name = index % 5 === 0 ? `${awkward}-${index}` : `app-${v}-${e}`;
			const image = `registry.example/team/app-${index}:1.25.3`;
			rows.push({
				host: index % 2 === 0 ? 'local' : 'prod-eu', kind: service === null ? 'container' : 'service', service, id: String(index).padEnd(64, '0'),
				name, image, state: index % 3 === 0 ? 'exited' : 'running', imageId: d('1'), platform: index % 4 === 0 ? null : {os: 'linux', architecture: 'arm64', variant: 'v8'}, reference: image, verdict, ...enrichment,
			});
		}
	}

	return rows;
}

const hosts: HostReport[] = [
	{name: 'local', address: 'unix:///var/run/docker.sock', state: 'ok', error: null, total: 16},
	{name: 'prod-eu', address: 'ssh://ops@eu', state: 'error', error: `It closed the connection: ${awkward}`, total: 0},
];
const rateLimits: RateLimit[] = [{registry: 'docker.io', limit: 100, remaining: 76, windowSeconds: 21_600}];

function report(containers: ContainerResult[], extra: Partial<ScanReport> = {}): ScanReport {
	return {scannedAt: '2026-11-23T04:20:06.784Z', hosts: [], durationMs: 412, containers, summary: summarize(containers), ...extra};
}

const reports: Array<[string, ScanReport]> = [
	['every status, service and enrichment, with failed hosts and rate limits', report(allRows(), {hosts, rateLimits})],
	['no containers', report([])],
	['no containers and a failed host', report([], {hosts})],
	['one container without rateLimits', report([allRows()[0]!])],
	['a duration that is not a finite number', report(allRows().slice(0, 3), {durationMs: Number.NaN})],
];

const joined = (chunks: Iterable<string>): string => [...chunks].join('');

describe('the streamed --once --json document', () => {
	it.each(reports)('is byte for byte JSON.stringify(scanJson(report), null, 2) and a line break: %s', (_name, scan) => {
		const expected = `${JSON.stringify(scanJson(scan), null, 2)}\n`;
		expect(joined(scanJsonChunks(scan))).toBe(expected);
		// Chunk edges fall anywhere without changing a byte.
		expect(joined(scanJsonChunks(scan, 1))).toBe(expected);
		expect(joined(scanJsonChunks(scan, 777))).toBe(expected);
		// So do the edges of the rows laid out by one JSON.stringify call.
		for (const rows of [1, 2, 7, 1000]) {
			expect(joined(scanJsonChunks(scan, 777, rows))).toBe(expected);
		}
	});

	it('makes the document as it is read, in chunks of about the size asked for', () => {
		const containers = Array.from({length: 300}, (_, index) => ({...allRows()[index % 32]!, id: String(index).padEnd(64, '0')}));
		const scan = report(containers);
		const size = 8 * 1024;
		const rows = 4;
		const chunks = scanJsonChunks(scan, size, rows);
		const first = chunks.next();
		expect(first.done).toBe(false);
		// At most one piece of `rows` containers past the size, not the whole document.
		expect(first.value?.length).toBeGreaterThanOrEqual(size);
		expect(first.value?.length).toBeLessThan(size + (rows * 3000));
		const rest = [...chunks];
		expect(rest.length).toBeGreaterThan(10);
		expect(rest.slice(0, -1).every(chunk => chunk.length >= size && chunk.length < size + (rows * 3000))).toBe(true);
		expect([first.value, ...rest].join('')).toBe(`${JSON.stringify(scanJson(scan), null, 2)}\n`);
	});
});

describe('the streamed --once table', () => {
	const options = [{color: false}, {color: true}, {color: false, width: 90}, {color: true, width: 60}, {color: false, width: 300}];
	it.each(reports)('is byte for byte renderScanTable and a line break: %s', (_name, scan) => {
		for (const option of options) {
			const expected = `${renderScanTable(scan, option)}\n`;
			expect(joined(scanTableChunks(scan, option))).toBe(expected);
			expect(joined(scanTableChunks(scan, option, 1))).toBe(expected);
		}
	});

	it('holds the table as the lines it was before streaming: header, rows, blank, counts, rate limits, failed hosts', () => {
		const output = renderScanTable(report(allRows(), {hosts, rateLimits}), {color: false});
		const lines = output.split('\n');
		expect(lines[0]).toMatch(/^HOST\s+NAME\s+IMAGE\s+STATE\s+STATUS\s+NEWER\s+RISK\s+DETAIL$/);
		expect(lines[33]).toBe('');
		expect(lines[34]).toMatch(/^32 containers: /);
		expect(lines[35]).toBe('Rate limits: docker.io: 76 of 100 pulls left per 6h');
		expect(lines[36]).toMatch(/^! prod-eu \(ssh:\/\/ops@eu\): It closed the connection: /);
		expect(lines).toHaveLength(37);
		expect(renderScanTable(report([], {hosts}), {color: false})).toMatch(/^No containers on this engine\.\n! prod-eu \(ssh:\/\/ops@eu\): It closed the connection: [^\n]+$/);
	});
});

describe('batched', () => {
	it('joins pieces into chunks of at least the size, the last one shorter, none empty', () => {
		expect([...batched(['ab', 'c', 'def', 'g'], 3)]).toEqual(['abc', 'def', 'g']);
		expect([...batched([], 3)]).toEqual([]);
		expect([...batched(['', ''], 3)]).toEqual([]);
	});
});
