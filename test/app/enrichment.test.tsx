import {afterEach, describe, expect, it, vi} from 'vitest';
import {App, type AppActions} from '../../source/app/components/App.tsx';
import type {LiveModel, LiveRow} from '../../source/core/live-model.ts';
import {terminalWidth} from '../../source/core/terminal-text.ts';
import type {ContainerFacts, Enrichment, Verdict, VulnerabilityNote} from '../../source/core/types.ts';
import {keys} from '../helpers/keys.ts';
import {renderSized, type Rendered} from '../helpers/render.tsx';
import {facts, modelWith, verdicts} from './fixtures.ts';

let rendered: Rendered | undefined;
afterEach(() => {
	rendered?.unmount();
	rendered = undefined;
});

const actions: AppActions = {
	scanNow: vi.fn<() => void>(),
	togglePin: vi.fn<(row: LiveRow) => unknown>(),
	exclude: vi.fn<(pattern: string) => unknown>(),
	removeExclusionFor: vi.fn<(row: LiveRow) => unknown>(),
};

function show(model: LiveModel, columns = 140, rows = 40): Rendered {
	rendered = renderSized(<App source={model} actions={actions} color={false}/>, columns, rows);
	return rendered;
}

const lineOf = (frame: string, text: string): string => frame.split('\n').find(line => line.includes(text)) ?? '';
const columnOf = (line: string, text: string): number => terminalWidth(line.slice(0, line.indexOf(text)));
const selectedLine = (frame: string): string => frame.split('\n').find(line => line.startsWith('›')) ?? '';
/** The detail pane's lines without their border. */
const pane = (frame: string): string[] => frame.split('\n').filter(line => line.startsWith('│')).map(line => line.slice(1, -1).trim());

const top = (count: number): VulnerabilityNote[] => Array.from({length: count}, (_, index) => ({id: `CVE-2024-000${index}`, severity: index === 0 ? 'critical' : 'high', summary: `summary ${index}`}));

/** web: newer versions, risk, links, vulnerabilities; api: an update whose steps failed; db: checked, nothing newer. */
const enriched: Array<readonly [ContainerFacts, Verdict, Enrichment]> = [
	[facts('web', 'registry.example/team/web:1.25.3'), verdicts.upToDate, {
		newer: [{tag: '1.25.4', type: 'patch'}, {tag: '1.27.1', type: 'minor'}, {tag: '2.0.0', type: 'major'}],
		newerError: null,
		links: {source: 'https://github.com/acme/web', revision: 'abc123', targetRevision: 'def456', changes: 'https://github.com/acme/web/compare/abc123...def456', release: null},
		vulnerabilities: {source: 'sbom', current: {critical: 1, high: 2, medium: 0, low: 3, unknown: 0, ids: []}, target: {critical: 0, high: 1, medium: 0, low: 0, unknown: 0, ids: []}, fixed: ['a', 'b', 'c', 'd', 'e']},
		vulnerabilitiesError: null,
		risk: {score: 72, level: 'high'},
		topVulnerabilities: top(7),
	}],
	[facts('api'), verdicts.update, {
		newer: null,
		newerError: 'Could not list the tags of registry.example/team/api: HTTP 401.',
		links: {source: null, revision: null, targetRevision: null, changes: null, release: null},
		vulnerabilities: null,
		vulnerabilitiesError: 'OSV at https://api.osv.dev did not answer within 15s.',
		risk: null,
	}],
	[facts('db'), verdicts.upToDate, {newer: [], newerError: null, risk: {score: 0, level: 'none'}}],
];

describe('NEWER and RISK in the live table', () => {
	it('shows the newest newer version with its kind and the risk, in columns of their own', async () => {
		const view = show(modelWith(enriched));
		const frame = await view.waitFor(text => text.includes(' db '));
		const header = lineOf(frame, 'STATUS');
		expect(header).toMatch(/CHECKED\s+NEWER\s+RISK\s+LOCAL → REMOTE/);
		const web = lineOf(frame, ' web ');
		expect(web).toContain('2.0.0 major');
		expect(columnOf(web, '2.0.0 major')).toBe(columnOf(header, 'NEWER'));
		expect(columnOf(web, 'high 72')).toBe(columnOf(header, 'RISK'));
		expect(columnOf(lineOf(frame, ' db '), 'none 0')).toBe(columnOf(header, 'RISK'));
		// Nothing newer, or not known: an empty cell, and the digests stay in their column.
		expect(lineOf(frame, ' api ')).toMatch(/ 0s +aaaaaaaaaaaa → bbbbbbbbbbbb/);
		expect(columnOf(lineOf(frame, ' api '), 'aaaa')).toBe(columnOf(header, 'LOCAL'));
	});

	it('has no NEWER or RISK column when no row went through those steps, and NEWER when one did, even with nothing newer', async () => {
		const plain = show(modelWith([[facts('web'), verdicts.upToDate], [facts('api'), verdicts.update]]));
		let header = lineOf(await plain.waitFor(text => text.includes(' web ')), 'STATUS');
		expect(header).not.toMatch(/NEWER|RISK/);
		plain.unmount();

		const checked = show(modelWith([[facts('web'), verdicts.upToDate, {newer: null}], [facts('api'), verdicts.update, {newer: null, newerError: 'Could not list the tags.'}]]));
		header = lineOf(await checked.waitFor(text => text.includes(' web ')), 'STATUS');
		expect(header).toContain('NEWER');
		expect(header).not.toContain('RISK');
	});

	it('counts rows with a newer version in the header, and leaves the count out at zero', async () => {
		const view = show(modelWith([...enriched, [facts('cache', 'registry.example/team/cache:7.2'), verdicts.update, {newer: [{tag: '7.4', type: 'minor'}]}]]));
		expect(await view.waitFor(text => text.includes(' cache '))).toMatch(/updock {2}↑2 update {2}✓2 up to date {2}↗2 newer {2}\(4 containers\)/);
		view.unmount();
		const none = show(modelWith([[facts('db'), verdicts.upToDate, {newer: []}]]));
		expect(await none.waitFor(text => text.includes(' db '))).not.toContain('newer');
	});

	it('keeps rows with a newer version when showing only updates', async () => {
		const view = show(modelWith(enriched));
		await view.waitFor(text => text.includes(' db '));
		const frame = await view.press('a');
		expect(frame).toContain(' api ');
		expect(frame).toContain(' web ');
		expect(frame).not.toContain(' db ');
	});

	it('sorts by risk with o when rows have one, highest first, rows without one last', async () => {
		const view = show(modelWith([...enriched, [facts('cache'), verdicts.upToDate, {risk: {score: 40, level: 'critical'}}]]));
		await view.waitFor(text => text.includes(' cache '));
		let frame = '';
		for (let index = 0; index < 4; index++) {
			frame = await view.press('o');
		}

		expect(frame).toContain('sort:risk');
		const lines = frame.split('\n');
		const order = ['web', 'cache', 'db', 'api'].map(name => lines.findIndex(line => line.includes(` ${name} `)));
		expect(order.every(index => index > 0)).toBe(true);
		expect(order).toEqual([...order].sort((a, b) => a - b));
		expect(await view.press('o')).toContain('sort:status');
	});

	it('does not offer the risk sort when no row has a risk', async () => {
		const view = show(modelWith([[facts('web'), verdicts.upToDate, {newer: []}], [facts('api'), verdicts.update]]));
		await view.waitFor(text => text.includes(' web '));
		const sorts: string[] = [];
		for (let index = 0; index < 4; index++) {
			sorts.push(/sort:(\w+)/.exec(await view.press('o'))?.[1] ?? '');
		}

		expect(sorts).toEqual(['name', 'image', 'age', 'status']);
	});
});

describe('the detail pane', () => {
	it('lists the newer versions, links, vulnerabilities, risk and the worst vulnerabilities', async () => {
		const view = show(modelWith(enriched));
		await view.waitFor(text => text.includes(' db '));
		await view.press('G');
		const lines = pane(await view.press(keys.enter));
		expect(selectedLine(view.lastFrame())).toContain(' web ');
		expect(lines).toContainEqual(expect.stringMatching(/^newer\s+1\.25\.4 patch {2}1\.27\.1 minor {2}2\.0\.0 major$/));
		expect(lines).toContainEqual(expect.stringMatching(/^vulns\s+1 critical, 2 high, 3 low → 1 high; the update fixes 5 {2}\(packages from the image's SBOM\)$/));
		expect(lines).toContainEqual(expect.stringMatching(/^risk\s+high 72 {2}\(of what the update fixes\)$/));
		expect(lines).toContainEqual(expect.stringMatching(/^changes\s+https:\/\/github\.com\/acme\/web\/compare\/abc123\.\.\.def456$/));
		expect(lines).toContainEqual(expect.stringMatching(/^source\s+https:\/\/github\.com\/acme\/web$/));
		expect(lines).toContainEqual(expect.stringMatching(/^revision\s+abc123 → def456$/));
		// A link that is not known has no line.
		expect(lines.some(line => line.startsWith('release'))).toBe(false);
		// At most five vulnerabilities, the worst first.
		const notes = lines.filter(line => line.startsWith('CVE-'));
		expect(notes).toEqual(['critical', 'high', 'high', 'high', 'high'].map((severity, index) => `CVE-2024-000${index} ${severity}  summary ${index}`));
		// The reason still has its line at the bottom.
		expect(lines.at(-2)).toBe('The registry has the image this container runs.');
	});

	it('says why a step found nothing', async () => {
		const view = show(modelWith(enriched));
		await view.waitFor(text => selectedLine(text).includes(' api '));
		const lines = pane(await view.press(keys.enter));
		expect(lines).toContainEqual('newer     Could not list the tags of registry.example/team/api: HTTP 401.');
		expect(lines).toContainEqual('vulns     OSV at https://api.osv.dev did not answer within 15s.');
		expect(lines.some(line => /^(risk|source|changes|revision|release)\s/.test(line))).toBe(false);
		await view.press(keys.enter);
		await view.press('j');
		const db = pane(await view.press(keys.enter));
		expect(db[0]).toMatch(/^db /);
		expect(db).toContainEqual(expect.stringMatching(/^newer\s+none: this tag is the newest$/));
		expect(db).toContainEqual(expect.stringMatching(/^risk\s+none 0$/));
	});

	it('gives the table room first on a short terminal: the pane loses its last lines', async () => {
		const view = show(modelWith(enriched), 100, 24);
		await view.waitFor(text => text.includes(' db '));
		await view.press('G');
		const frame = await view.press(keys.enter);
		const lines = frame.replace(/\n$/, '').split('\n');
		expect(lines).toHaveLength(23);
		// Header, table header, three rows; then the pane, then the footer.
		expect(lines.filter(line => / (api|web|db) /.test(line) && !line.startsWith('│'))).toHaveLength(3);
		const inPane = pane(frame);
		expect(inPane).toContainEqual(expect.stringMatching(/^newer\s/));
		expect(inPane.filter(line => line.startsWith('CVE-')).length).toBeLessThan(5);
		// What is cut is the end of the list, not the rest of the pane.
		expect(inPane[0]).toMatch(/^web {2}running {2}✓ up to date/);
		expect(inPane).toContainEqual(expect.stringMatching(/^local\s+sha256:a/));
		expect(inPane).toContain('The registry has the image this container runs.');
		expect(lines.at(-2)).toMatch(/^└/);
	});
});

describe('hostile text in tags, links and vulnerability notes', () => {
	const evil = '\u001B]0;pwned\u0007\u001B[2J';
	const hostile: Array<readonly [ContainerFacts, Verdict, Enrichment]> = [
		[facts('web'), verdicts.upToDate, {newer: [{tag: `2.0.0${evil}`, type: 'major'}], risk: {score: 40, level: 'critical'}, links: {source: `https://github.com/acme/web${evil}`, revision: null, targetRevision: null, changes: null, release: null}, topVulnerabilities: [{id: `CVE-1\u202Eevil`, severity: 'critical', summary: `line one\n${evil}line two`}]}],
		[facts('jp'), verdicts.upToDate, {newer: [{tag: '日本語のタグ', type: 'minor'}], risk: null}],
		[facts('api'), verdicts.update, {newer: [], risk: null}],
	];

	it('never reaches the terminal, and the columns stay aligned', async () => {
		const view = show(modelWith(hostile));
		const frame = await view.waitFor(text => text.includes(' jp '));
		const header = lineOf(frame, 'STATUS');
		for (const name of [' web ', ' jp ', ' api ']) {
			const line = lineOf(frame, name);
			expect(terminalWidth(line), name).toBeLessThanOrEqual(140);
			expect(columnOf(line, 'running'), name).toBe(columnOf(header, 'STATE'));
		}

		expect(columnOf(lineOf(frame, ' jp '), '日本語のタグ')).toBe(columnOf(header, 'NEWER'));
		expect(columnOf(lineOf(frame, ' web '), 'critical 40')).toBe(columnOf(header, 'RISK'));
		expect(columnOf(lineOf(frame, ' jp '), 'aaaa')).toBe(columnOf(header, 'LOCAL'));
		expect(lineOf(frame, ' web ')).toContain('2.0.0␛]0;pwned␇␛[2J');

		await view.press('G');
		const detail = await view.press(keys.enter);
		expect(detail).toContain('CVE-1<U+202E>evil critical  line one␊␛]0;pwned␇␛[2Jline two');
		expect(detail).toContain('https://github.com/acme/web␛]0;pwned␇');
		for (const line of detail.split('\n').filter(text => /^[┌│└]/.test(text))) {
			expect(terminalWidth(line), line).toBe(140);
		}

		expect(view.frames.join('')).not.toMatch(/\u001B\]|\u001B\[2J|\u202E|\u0007/);
	});
});

describe('narrow terminals', () => {
	const plain = (): LiveModel => modelWith(enriched.map(([container, verdict]) => [container, verdict] as const));

	it('gives NAME and IMAGE their room first: digests shrink, NEWER goes, then RISK', async () => {
		const layouts: Record<number, {newer: boolean; risk: boolean; full: boolean}> = {
			140: {newer: true, risk: true, full: true},
			100: {newer: false, risk: true, full: true},
			80: {newer: false, risk: false, full: false},
		};
		for (const [width, expected] of Object.entries(layouts)) {
			const columns = Number(width);
			const view = show(modelWith(enriched), columns, 30);
			const frame = await view.waitFor(text => text.includes(' db '));
			view.unmount();
			const header = lineOf(frame, 'STATUS');
			expect(header.includes('NEWER'), `NEWER at ${width}`).toBe(expected.newer);
			expect(header.includes('RISK'), `RISK at ${width}`).toBe(expected.risk);
			if (expected.risk) {
				expect(lineOf(frame, ' web ')).toContain(expected.full ? 'high 72' : ' 72 ');
			}

			for (const line of frame.split('\n')) {
				expect(terminalWidth(line), line).toBeLessThanOrEqual(columns);
			}

			// NAME and IMAGE keep at least 40 columns between them, or all they had without the new columns.
			const without = show(plain(), columns, 30);
			const bare = lineOf(await without.waitFor(text => text.includes(' db ')), 'STATUS');
			without.unmount();
			const room = (line: string): number => columnOf(line, 'STATE') - columnOf(line, 'NAME');
			expect(room(header), `NAME and IMAGE at ${width}`).toBeGreaterThanOrEqual(Math.min(40, room(bare)));
		}
	});

	it('cuts NEWER to the tag, then RISK to the score, before dropping them', async () => {
		for (const [columns, risk] of [[106, 'high 72'], [102, '72']] as const) {
			const view = show(modelWith(enriched), columns, 30);
			const frame = await view.waitFor(text => text.includes(' db '));
			view.unmount();
			const header = lineOf(frame, 'STATUS');
			expect(header, `at ${columns}`).toMatch(/NEWER\s+RISK/);
			const web = lineOf(frame, ' web ');
			expect(columnOf(web, '2.0.0 '), `at ${columns}`).toBe(columnOf(header, 'NEWER'));
			expect(web, `at ${columns}`).not.toContain('major');
			expect(columnOf(web, ` ${risk} `) + 1, `at ${columns}`).toBe(columnOf(header, 'RISK'));
			expect(web.includes('high'), `at ${columns}`).toBe(risk.startsWith('high'));
		}
	});
});
