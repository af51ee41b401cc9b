import {afterEach, describe, expect, it, vi} from 'vitest';
import {App, type AppActions} from '../../source/app/components/App.tsx';
import type {LiveModel, LiveRow} from '../../source/core/live-model.ts';
import {keys} from '../helpers/keys.ts';
import {renderSized, type Rendered} from '../helpers/render.tsx';
import {emptySummary, facts, modelWith, result, verdicts} from './fixtures.ts';

let rendered: Rendered | undefined;
afterEach(() => {
	rendered?.unmount();
	rendered = undefined;
});

function actions() {
	return {
		scanNow: vi.fn<() => void>(),
		togglePin: vi.fn<(row: LiveRow) => unknown>(),
		exclude: vi.fn<(pattern: string) => unknown>(),
		removeExclusionFor: vi.fn<(row: LiveRow) => unknown>(),
	} satisfies AppActions;
}

function show(model: LiveModel, spies: AppActions = actions(), columns = 100, rows = 30, color = false): Rendered {
	rendered = renderSized(<App source={model} actions={spies} color={color}/>, columns, rows);
	return rendered;
}

const selectedLine = (frame: string): string => frame.split('\n').find(line => line.startsWith('›')) ?? '';

const everyStatus = (): LiveModel => modelWith([
	[facts('web'), verdicts.upToDate],
	[facts('api'), verdicts.update],
	[facts('db'), verdicts.pinned],
	[facts('cache'), verdicts.excluded],
	[facts('tools', 'local/tools:dev'), verdicts.unknown],
	[facts('broken'), verdicts.error],
]);

describe('the live table', () => {
	it('renders every status with a symbol and words, updates first', async () => {
		const view = show(everyStatus());
		const frame = await view.waitFor(text => text.includes('broken'));
		expect(frame).toMatch(/updock {2}↑1 update {2}✗1 error {2}✓1 up to date {2}\?1 unknown {2}=1 pinned {2}-1 excluded {2}\(6 containers\)/);
		const lines = frame.split('\n');
		const order = ['api', 'broken', 'web', 'tools', 'db', 'cache'].map(name => lines.findIndex(line => new RegExp(`\\s${name}\\s`).test(line)));
		expect(order).toEqual([...order].sort((a, b) => a - b));
		expect(lines.find(line => line.includes(' api '))).toMatch(/↑ update/);
		expect(lines.find(line => line.includes(' broken '))).toMatch(/✗ error/);
		expect(lines.find(line => line.includes(' web '))).toMatch(/✓ up to date/);
		expect(lines.find(line => line.includes(' tools '))).toMatch(/\? unknown/);
		expect(lines.find(line => line.includes(' db '))).toMatch(/= pinned/);
		expect(lines.find(line => line.includes(' cache '))).toMatch(/- excluded/);
		expect(frame).toMatch(/unix:\/\/\/var\/run\/docker.sock · last scan \d\d:\d\d:\d\d \(\ds ago\)/);
		expect(frame).toMatch(/s scan {2}p pin {2}x exclude/);
	});

	it('shows the short local → remote digests for an update, shorter on a narrow terminal', async () => {
		const view = show(everyStatus(), undefined, 140);
		const frame = await view.waitFor(text => text.includes('api'));
		expect(frame.split('\n').find(line => line.includes(' api '))).toContain('aaaaaaaaaaaa → bbbbbbbbbbbb');
		view.unmount();
		const narrow = show(everyStatus(), undefined, 80);
		const small = await narrow.waitFor(text => text.includes('api'));
		expect(small.split('\n').find(line => line.includes(' api '))).toMatch(/aaaaaa → bbbbbb$/);
	});

	it('moves with j/k and arrows, pages, jumps to top and bottom', async () => {
		const view = show(everyStatus());
		await view.waitFor(text => selectedLine(text).includes('api'));
		expect(selectedLine(await view.press('j'))).toContain('broken');
		expect(selectedLine(await view.press(keys.down))).toContain('web');
		expect(selectedLine(await view.press('k'))).toContain('broken');
		expect(selectedLine(await view.press('G'))).toContain('cache');
		expect(selectedLine(await view.press(keys.up))).toContain('db');
		expect(selectedLine(await view.press('g'))).toContain('api');
		expect(selectedLine(await view.press(keys.pageDown))).toContain('cache');
		expect(selectedLine(await view.press(keys.pageUp))).toContain('api');
	});

	it('takes keys that arrive in one chunk one at a time', async () => {
		const view = show(everyStatus());
		await view.waitFor(text => selectedLine(text).includes('api'));
		await view.press(`jj${keys.enter}`);
		const frame = await view.waitFor(text => selectedLine(text).includes('web') && text.includes('┌'), 'two moves and the detail pane');
		expect(frame).toContain('The registry has the image this container runs.');
	});

	it('toggles the detail pane with Enter, with the full error', async () => {
		const view = show(everyStatus());
		await view.waitFor(text => selectedLine(text).includes('api'));
		await view.press('j');
		const frame = await view.press(keys.enter);
		// The pane wraps long text inside its border: read it as one line.
		expect(frame.replaceAll(/\s*│\n│\s*/g, ' ')).toContain('Registry registry.example is unreachable: connection refused at registry.example:443. Is it running?');
		expect(frame).toMatch(/remote\s+-/);
		expect(frame).toMatch(/platform linux\/amd64/);
		expect(await view.press(keys.enter)).not.toContain('Is it running?');
	});

	it('pins the selected container with p, and asks before excluding with x', async () => {
		const spies = actions();
		const view = show(everyStatus(), spies, 140);
		await view.waitFor(text => selectedLine(text).includes('api'));
		await view.press('j', 'j');
		await view.waitFor(text => selectedLine(text).includes('web'));
		const frame = await view.press('x');
		expect(frame).toMatch(/Exclude web's image from checks\? \[1] registry.example\/team\/web:1 {2}\[2] registry.example\/team\/web \(every tag\) {2}\[Esc] cancel/);
		expect(spies.exclude).not.toHaveBeenCalled();
		await view.press('2');
		expect(spies.exclude).toHaveBeenCalledWith('registry.example/team/web');

		await view.press('x');
		await view.press(keys.escape);
		expect(spies.exclude).toHaveBeenCalledTimes(1);

		view.send('p');
		await vi.waitFor(() => expect(spies.togglePin).toHaveBeenCalledWith(expect.objectContaining({name: 'web'})));
		view.send('s');
		await vi.waitFor(() => expect(spies.scanNow).toHaveBeenCalledTimes(1));
		view.send('u');
		await vi.waitFor(() => expect(spies.removeExclusionFor).toHaveBeenCalledWith(expect.objectContaining({name: 'web'})));
	});

	it('filters by name or image with /, keeps it on Enter and clears it on Esc', async () => {
		const view = show(everyStatus());
		await view.waitFor(text => text.includes('broken'));
		await view.press('/');
		let frame = await view.press('too');
		expect(frame).toContain('/too');
		expect(frame).toContain(' tools ');
		expect(frame).not.toContain(' api ');
		frame = await view.press(keys.enter);
		expect(frame).toContain('filter:"too"');
		expect(frame).not.toContain(' web ');
		await view.press('/');
		frame = await view.press(keys.escape);
		expect(frame).toContain(' web ');
	});

	it('shows only updates with a, cycles the sort with o, and opens help with ?', async () => {
		const view = show(everyStatus());
		await view.waitFor(text => text.includes('broken'));
		let frame = await view.press('a');
		expect(frame).toContain(' api ');
		expect(frame).not.toContain(' web ');
		frame = await view.press('a');
		frame = await view.press('o');
		expect(frame).toContain('sort:name');
		const lines = frame.split('\n');
		const positions = ['api', 'broken', 'cache', 'db', 'tools', 'web'].map(name => lines.findIndex(line => line.includes(` ${name} `)));
		expect(positions.every(position => position > 0)).toBe(true);
		expect(positions).toEqual([...positions].sort((a, b) => a - b));
		frame = await view.press('?');
		expect(frame).toContain('Keys (Esc or ? to close)');
		expect(frame).toContain('pin or unpin the container');
		frame = await view.press(keys.escape);
		expect(frame).not.toContain('Keys (Esc');
	});

	it('keeps the selection on the same container when a rescan reorders the rows', async () => {
		const model = everyStatus();
		const view = show(model);
		await view.waitFor(text => selectedLine(text).includes('api'));
		await view.press('j', 'j');
		await view.waitFor(text => selectedLine(text).includes('web'));
		// web gets an update: it moves to the top, and the selection goes with it
		model.onScanEvent({type: 'result', result: result(facts('web'), verdicts.update)});
		const frame = await view.waitFor(text => (text.split('\n').find(line => line.includes(' web ')) ?? '').includes('↑ update'));
		expect(selectedLine(frame)).toContain('web');
	});

	it('marks rows from the last run, shows scan progress, and a banner when the engine is gone', async () => {
		const model = modelWith([]);
		model.loadLastRun({scannedAt: new Date(Date.now() - 3_600_000).toISOString(), hosts: [], durationMs: 1, containers: [result(facts('web'), verdicts.upToDate)], summary: {...emptySummary, total: 1, upToDate: 1}});
		const view = show(model);
		let frame = await view.waitFor(text => text.includes(' web '));
		expect(frame).toContain('some rows are from the last run');
		expect(frame.split('\n').find(line => line.includes(' web '))).toMatch(/1h\*/);

		model.onScanEvent({type: 'started', containers: [facts('web'), facts('new')], checks: 4, partial: false, unlistedHosts: []});
		model.onScanEvent({type: 'progress', checked: 3, checks: 4});
		frame = await view.waitFor(text => text.includes('scanning: 3 of 4 images checked'));
		expect(frame.split('\n').find(line => line.includes(' new '))).toMatch(/… checking/);

		model.setEngine({status: 'unreachable', message: 'Lost the Docker engine at unix:///var/run/docker.sock: connect ENOENT.', retryAt: new Date(Date.now() + 4000).toISOString()});
		frame = await view.waitFor(text => text.includes('Lost the Docker engine'));
		expect(frame).toMatch(/Retrying in \ds/);
	});
});

describe('long lists and small terminals', () => {
	const many = (count: number): LiveModel => modelWith(Array.from({length: count}, (_, index) => [facts(`svc-${String(index).padStart(4, '0')}`), verdicts.upToDate]));

	it('renders only the visible window of 2,000 rows', async () => {
		const view = show(many(2000), undefined, 100, 30);
		let frame = await view.waitFor(text => text.includes('svc-0000'));
		const rowsOnScreen = frame.split('\n').filter(line => line.includes('svc-'));
		expect(rowsOnScreen.length).toBeGreaterThan(10);
		expect(rowsOnScreen.length).toBeLessThanOrEqual(30);
		expect(frame.split('\n').length).toBeLessThan(30);
		expect(frame).not.toContain('svc-1999');
		frame = await view.press('G');
		expect(frame).toContain('svc-1999');
		expect(frame).not.toContain('svc-0000');
		expect(selectedLine(frame)).toContain('svc-1999');
	});

	it('fits 80x24 and follows a resize', async () => {
		const view = show(many(50), undefined, 80, 24);
		let frame = await view.waitFor(text => text.includes('svc-0000'));
		expect(Math.max(...frame.split('\n').map(line => line.length))).toBeLessThanOrEqual(80);
		expect(frame.split('\n').length).toBeLessThan(24);
		const before = frame.split('\n').filter(line => line.includes('svc-')).length;
		await view.resize(120, 40);
		frame = await view.waitFor(text => text.includes('LOCAL → REMOTE'), 'the wide layout');
		expect(frame.split('\n').filter(line => line.includes('svc-')).length).toBe(before + 16);
	});
});
