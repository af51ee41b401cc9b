import {afterEach, beforeEach, describe, expect, it, vi} from 'vitest';
import {LiveModel} from '../../source/core/live-model.ts';
import {ScanLoop} from '../../source/core/scan-loop.ts';
import type {Scanner, ScanOutcome} from '../../source/core/scanner.ts';
import {summarize} from '../../source/core/types.ts';

/** A scanner whose scans finish when the test says so. */
function controllableScanner() {
	const calls: Array<ReadonlySet<string> | undefined> = [];
	const finishers: Array<() => void> = [];
	const scanner = {
		async scan(_signal?: AbortSignal, only?: ReadonlySet<string>): Promise<ScanOutcome> {
			calls.push(only);
			await new Promise<void>(resolve => finishers.push(resolve));
			return {report: {scannedAt: new Date().toISOString(), durationMs: 0, containers: [], summary: summarize([])}, learned: new Map()};
		},
	} as unknown as Scanner;
	const finish = async (): Promise<void> => {
		finishers.shift()?.();
		await vi.advanceTimersByTimeAsync(0);
	};

	return {scanner, calls, finish};
}

describe('ScanLoop', () => {
	beforeEach(() => {
		vi.useFakeTimers();
	});

	afterEach(() => {
		vi.useRealTimers();
	});

	it('scans at start, then on the interval from the end of each scan', async () => {
		const {scanner, calls, finish} = controllableScanner();
		const model = new LiveModel('unix:///x');
		const persist = vi.fn(async () => undefined);
		const loop = new ScanLoop({scanner, model, intervalMs: 60_000, persist, onScanError: vi.fn()});
		const controller = new AbortController();
		loop.start(controller.signal);
		expect(calls).toHaveLength(1);
		await vi.advanceTimersByTimeAsync(120_000);
		expect(calls).toHaveLength(1); // still running: no second scan stacked on it
		await finish();
		expect(persist).toHaveBeenCalledTimes(1);
		expect(model.getSnapshot().scan.nextScanAt).not.toBeNull();
		await vi.advanceTimersByTimeAsync(59_999);
		expect(calls).toHaveLength(1);
		await vi.advanceTimersByTimeAsync(1);
		expect(calls).toHaveLength(2);
		await finish();
		controller.abort();
		await vi.advanceTimersByTimeAsync(600_000);
		expect(calls).toHaveLength(2);
		expect(model.getSnapshot().scan.nextScanAt).toBeNull();
	});

	it('absorbs a scan requested during a scan, and queues containers to check until it ends', async () => {
		const {scanner, calls, finish} = controllableScanner();
		const loop = new ScanLoop({scanner, model: new LiveModel('x'), intervalMs: 60_000, persist: async () => undefined, onScanError: vi.fn()});
		loop.start(new AbortController().signal);
		expect(loop.requestScan()).toBe('absorbed');
		loop.checkContainers(['a']);
		loop.checkContainers(['b']);
		expect(calls).toHaveLength(1);
		await finish();
		expect(calls).toHaveLength(2);
		expect([...calls[1]!]).toEqual(['a', 'b']);
		await finish();
		expect(loop.requestScan()).toBe('started');
		expect(calls).toHaveLength(3);
		expect(calls[2]).toBeUndefined();
	});

	it('reports a scan that could not run and carries on with the next', async () => {
		const model = new LiveModel('x');
		const onScanError = vi.fn();
		let attempt = 0;
		const scanner = {
			async scan(): Promise<ScanOutcome> {
				attempt++;
				if (attempt === 1) {
					throw new Error('Cannot reach the Docker engine');
				}

				return {report: {scannedAt: '', durationMs: 0, containers: [], summary: summarize([])}, learned: new Map()};
			},
		} as unknown as Scanner;
		const loop = new ScanLoop({scanner, model, intervalMs: 1000, persist: async () => undefined, onScanError});
		loop.start(new AbortController().signal);
		await vi.advanceTimersByTimeAsync(0);
		expect(onScanError).toHaveBeenCalledWith(expect.objectContaining({message: 'Cannot reach the Docker engine'}));
		expect(model.getSnapshot().scan.running).toBe(false);
		await vi.advanceTimersByTimeAsync(1000);
		expect(attempt).toBe(2);
	});
});
