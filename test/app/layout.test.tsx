import {afterEach, describe, expect, it, vi} from 'vitest';
import {App, type AppActions} from '../../source/app/components/App.tsx';
import type {LiveModel, LiveRow} from '../../source/core/live-model.ts';
import {terminalWidth} from '../../source/core/terminal-text.ts';
import type {ContainerFacts, Verdict} from '../../source/core/types.ts';
import {keys} from '../helpers/keys.ts';
import {renderSized, type Rendered} from '../helpers/render.tsx';
import {d, facts, modelWith, serviceFacts, verdicts} from './fixtures.ts';

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

function show(model: LiveModel, columns = 100, rows = 30): Rendered {
	rendered = renderSized(<App source={model} actions={actions} color={false}/>, columns, rows);
	return rendered;
}

const lineOf = (frame: string, text: string): string => frame.split('\n').find(line => line.includes(text)) ?? '';
/** The terminal column where `text` starts on its line. */
const columnOf = (line: string, text: string): number => terminalWidth(line.slice(0, line.indexOf(text)));

describe('the live view on the screen', () => {
	it('fills the screen from the top: header on the first line, footer on the last', async () => {
		const view = show(modelWith([[facts('web'), verdicts.upToDate], [facts('api'), verdicts.update]]), 100, 30);
		const frame = await view.waitFor(text => text.includes(' web '));
		const lines = frame.replace(/\n$/, '').split('\n');
		// One line short of the terminal; Ink's final newline makes it exactly the screen.
		expect(lines).toHaveLength(29);
		expect(lines[0]).toMatch(/^updock {2}/);
		expect(lines[2]).toMatch(/STATUS\s+NAME/);
		expect(lines.at(-1)).toMatch(/⏎ details {2}s scan/);

		// The detail pane sits above the footer; the layout still fills the screen.
		const withDetail = (await view.press(keys.enter)).replace(/\n$/, '').split('\n');
		expect(withDetail).toHaveLength(29);
		expect(withDetail.at(-2)).toMatch(/^└/);
		expect(withDetail.at(-1)).toMatch(/⏎ details/);
	});

	it('shows the short reason of an error in its row', async () => {
		const model = modelWith([
			[facts('broken'), verdicts.error],
			[facts('gone'), {status: 'error', error: 'Tag "1" not found in registry.example/team/gone: it was deleted or renamed on the registry.', localDigest: null}],
		]);
		const frame = await show(model).waitFor(text => text.includes(' gone '));
		expect(lineOf(frame, ' broken ')).toMatch(/✗ error .*connection refused\s*$/);
		expect(lineOf(frame, ' gone ')).toMatch(/✗ error .*tag not found\s*$/);
	});
});

describe('hostile text from the engine and registries', () => {
	const hostile = 'evil\u001B[2J\u001B]0;pwned\u0007\u001B]52;c;cm0gLXJmIH4=\u0007';
	const entries: Array<[ContainerFacts, Verdict]> = [
		[facts('web'), verdicts.upToDate],
		[facts(hostile, 'registry.example/team/evil:1'), verdicts.update],
		[facts('日本語のサービス', 'registry.example/team/jp:1'), verdicts.upToDate],
		[facts('bidi\u202Eexe.txt', 'registry.example/team/bidi:1'), verdicts.upToDate],
		[facts('nl\nname\tx', 'registry.example/team/nl:1\u001B[31m'), {status: 'error', error: 'Registry said:\n\u001B]0;owned\u0007 \u009B2J 日本語 \u202Edenied', localDigest: null}],
	];

	it('never reaches the terminal, and the columns stay aligned', async () => {
		const view = show(modelWith(entries));
		const frame = await view.waitFor(text => text.includes('bidi'));
		const written = view.frames.join('');
		expect(written).not.toMatch(/\u001B\]|\u001B\[2J|\u009B|\u202E|\u0007/);
		expect(written).toContain('␛[2J');
		expect(written).toContain('<U+202E>');

		const header = lineOf(frame, 'STATUS');
		const image = columnOf(header, 'IMAGE');
		const state = columnOf(header, 'STATE');
		for (const marker of ['team/web:', 'team/evil:', 'team/jp:', 'team/bidi:', 'team/nl:']) {
			const line = lineOf(frame, marker);
			expect(columnOf(line, 'registry.example'), marker).toBe(image);
			expect(columnOf(line, 'running'), marker).toBe(state);
			expect(terminalWidth(line), marker).toBeLessThanOrEqual(100);
		}

		expect(lineOf(frame, 'team/nl:')).toContain('nl␊name␉x');
	});

	it('keeps the detail pane in its border', async () => {
		const view = show(modelWith(entries));
		await view.waitFor(text => text.includes('bidi'));
		// The error row is second (updates first): select it and open the pane.
		await view.press('j');
		const frame = await view.press(keys.enter);
		const pane = frame.split('\n').filter(line => /^[┌│└]/.test(line));
		expect(pane.length).toBeGreaterThanOrEqual(10);
		for (const line of pane) {
			expect(terminalWidth(line), line).toBe(100);
			expect(line).toMatch(/[┐│┘]$/);
		}

		expect(frame).toContain('Registry said:␊␛]0;owned␇ <U+009B>2J 日本語 <U+202E>denied');
		expect(frame).toMatch(/image\s+registry\.example\/team\/nl:1␛\[31m/);
		expect(frame).toMatch(/^│ nl␊name␉x {2}running {2}✗ error/m);
		expect(view.frames.join('')).not.toMatch(/\u001B\]|\u001B\[2J|\u001B\[31m|\u009B|\u202E|\u0007/);
	});

	it('in the header banner and the footer notice', async () => {
		const model = modelWith([[facts('web'), verdicts.upToDate]]);
		const view = show(model);
		await view.waitFor(text => text.includes(' web '));
		model.setNotice({kind: 'error', text: 'Could not save: \u001B]52;c;aGk=\u0007 disk full'});
		await view.waitFor(text => text.includes('disk full'));
		model.setEngine({status: 'unreachable', message: 'Engine said \u001B[2J\u001B]0;x\u0007 bye', retryAt: new Date(Date.now() + 5000).toISOString()});
		const frame = await view.waitFor(text => text.includes('bye'));
		expect(frame).toContain('! Could not save: ␛]52;c;aGk=␇ disk full');
		expect(frame).toContain('Engine said ␛[2J␛]0;x␇ bye');
		expect(view.frames.join('')).not.toMatch(/\u001B\]|\u001B\[2J|\u0007/);
	});
});

describe('several engines and Swarm services', () => {
	const queue = serviceFacts('queue', {mode: 'replicated', replicas: 3, tasks: [d('7').slice(7), d('8').slice(7)]});

	it('adds a HOST column only when the rows come from more than one engine', async () => {
		const one = show(modelWith([[facts('web'), verdicts.upToDate], [facts('api'), verdicts.update]]));
		expect(lineOf(await one.waitFor(text => text.includes(' web ')), 'STATUS')).not.toContain('HOST');
		one.unmount();

		const two = show(modelWith([[facts('web', undefined, 'running', 'local'), verdicts.upToDate], [facts('api', undefined, 'running', 'prod-eu'), verdicts.update]]));
		const frame = await two.waitFor(text => text.includes(' web '));
		const header = lineOf(frame, 'STATUS');
		expect(header).toMatch(/^ {2}HOST\s+STATUS\s+NAME/);
		expect(lineOf(frame, ' api ')).toMatch(/^› prod-eu\s+↑ update\s+api /);
		expect(columnOf(lineOf(frame, ' web '), 'registry.example')).toBe(columnOf(header, 'IMAGE'));
	});

	it('shows a service with its mode and replicas, and in the pane its tasks and the command to update it', async () => {
		const view = show(modelWith([[queue, verdicts.update], [facts('web'), verdicts.upToDate]]), 120, 30);
		const frame = await view.waitFor(text => text.includes(' queue '));
		expect(lineOf(frame, ' queue ')).toMatch(/↑ update\s+queue\s+registry\.example\/team\/queue:1@sha\S*\s+replicated 3 /);
		const pane = await view.press(keys.enter);
		const joined = pane.replaceAll(/\s*│\n│\s*/g, ' ');
		expect(joined).toMatch(/service\s+replicated, 3 replicas; tasks here: 777777777777 888888888888/);
		expect(joined).toContain('docker service update --image registry.example/team/queue:1 queue');
		for (const line of pane.split('\n').filter(text => /^[┌│└]/.test(text))) {
			expect(terminalWidth(line)).toBe(120);
		}
	});
});
