import {afterEach, beforeEach, describe, expect, it, vi} from 'vitest';
import {LiveModel} from '../../source/core/live-model.ts';
import {emptySummary, facts, result, verdicts} from './fixtures.ts';

const containers = Array.from({length: 50}, (_, index) => facts(`app-${index}`));
const finished = {type: 'finished', report: {scannedAt: new Date().toISOString(), hosts: [], durationMs: 1, containers: [], summary: emptySummary}} as const;

beforeEach(() => {
	vi.useFakeTimers({toFake: ['setTimeout', 'clearTimeout', 'performance', 'queueMicrotask']});
});

afterEach(() => {
	vi.useRealTimers();
});

describe('the live model tells its listeners', () => {
	it('of a change after a quiet spell at once, of the many changes of a scan at most once per spell', async () => {
		const model = new LiveModel('x', () => new Date(), 100);
		const listener = vi.fn();
		model.subscribe(listener);
		model.onScanEvent({type: 'started', containers, checks: containers.length, partial: false, unlistedHosts: []});
		expect(listener).toHaveBeenCalledTimes(1);
		for (const [index, container] of containers.entries()) {
			model.onScanEvent({type: 'result', result: result(container, verdicts.update)});
			model.onScanEvent({type: 'progress', checked: index + 1, checks: containers.length});
			// eslint-disable-next-line no-await-in-loop -- results arrive over several turns of the event loop
			await vi.advanceTimersByTimeAsync(1);
		}

		// 50 ms in: nothing told since the start, yet whoever asks sees every change.
		expect(listener).toHaveBeenCalledTimes(1);
		expect(model.getSnapshot().scan.checked).toBe(50);
		expect(model.getSnapshot().rows.filter(row => row.result?.verdict.status === 'update-available')).toHaveLength(50);
		await vi.advanceTimersByTimeAsync(50);
		expect(listener).toHaveBeenCalledTimes(2);
		model.onScanEvent(finished);
		expect(listener).toHaveBeenCalledTimes(2);
		await vi.advanceTimersByTimeAsync(100);
		expect(listener).toHaveBeenCalledTimes(3);
		expect(model.getSnapshot().scan.running).toBe(false);
		// Quiet for a while: a user's pin shows at once.
		await vi.advanceTimersByTimeAsync(1000);
		model.settle(containers[0]!.id, verdicts.pinned);
		await vi.advanceTimersByTimeAsync(0);
		expect(listener).toHaveBeenCalledTimes(4);
		expect(model.getSnapshot().rows[0]?.result?.verdict.status).toBe('pinned');
		// Nothing more is due.
		await vi.advanceTimersByTimeAsync(1000);
		expect(listener).toHaveBeenCalledTimes(4);
	});
});
