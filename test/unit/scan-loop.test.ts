import {afterEach, beforeEach, describe, expect, it, vi} from 'vitest';
import {LiveModel} from '../../source/core/live-model.ts';
import {maxTimerMs, ScanLoop, setLongTimeout, type ScanEnd, type ScanStart} from '../../source/core/scan-loop.ts';
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
			return {report: {scannedAt: new Date().toISOString(), hosts: [], durationMs: 0, containers: [], summary: summarize([])}, learned: new Map()};
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

	it('gives a scan asked for while the last one is only saving its results a scan of its own', async () => {
		const {scanner, calls, finish} = controllableScanner();
		const model = new LiveModel('unix:///x');
		let saved: () => void = () => undefined;
		const persist = vi.fn(async () => new Promise<void>(resolve => {
			saved = resolve;
		}));
		const loop = new ScanLoop({scanner, model, intervalMs: 60_000, persist, onScanError: vi.fn()});
		const controller = new AbortController();
		loop.start(controller.signal);
		// While it asks the registries, a request is the running scan.
		expect(loop.requestFullScan().state).toBe('absorbed');
		await finish();
		expect(persist).toHaveBeenCalledTimes(1);
		// Now it only writes the file: what it saw is already old, so the request waits for its own scan.
		expect(loop.requestFullScan().state).toBe('queued');
		saved();
		await vi.advanceTimersByTimeAsync(0);
		expect(calls).toHaveLength(2);
		await finish();
		saved();
		controller.abort();
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

				return {report: {scannedAt: '', hosts: [], durationMs: 0, containers: [], summary: summarize([])}, learned: new Map()};
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
	it('waits a long interval out in full: 30 days fire once, after 30 days, not at 24.8', async () => {
		const {scanner, calls, finish} = controllableScanner();
		const model = new LiveModel('x');
		const day = 86_400_000;
		const loop = new ScanLoop({scanner, model, intervalMs: 30 * day, persist: async () => undefined, onScanError: vi.fn()});
		loop.start(new AbortController().signal);
		await finish();
		expect(calls).toHaveLength(1);
		expect(Date.parse(model.getSnapshot().scan.nextScanAt!) - Date.now()).toBe(30 * day);
		await vi.advanceTimersByTimeAsync(maxTimerMs);
		expect(calls).toHaveLength(1);
		await vi.advanceTimersByTimeAsync((30 * day) - maxTimerMs - 1);
		expect(calls).toHaveLength(1);
		await vi.advanceTimersByTimeAsync(1);
		expect(calls).toHaveLength(2);
	});

	it('setLongTimeout fires once after the whole delay and can be cleared between steps', async () => {
		const fired = vi.fn();
		setLongTimeout(fired, (3 * maxTimerMs) + 5);
		await vi.advanceTimersByTimeAsync(3 * maxTimerMs);
		expect(fired).not.toHaveBeenCalled();
		await vi.advanceTimersByTimeAsync(5);
		expect(fired).toHaveBeenCalledTimes(1);
		await vi.advanceTimersByTimeAsync(10 * maxTimerMs);
		expect(fired).toHaveBeenCalledTimes(1);
		const cleared = vi.fn();
		const timer = setLongTimeout(cleared, 2 * maxTimerMs);
		await vi.advanceTimersByTimeAsync(maxTimerMs + 1);
		timer.clear();
		await vi.advanceTimersByTimeAsync(4 * maxTimerMs);
		expect(cleared).not.toHaveBeenCalled();
	});

	it('gives every scan an id, reports its start and end, and hands out the running full scan\'s id', async () => {
		const {scanner, finish} = controllableScanner();
		const started: ScanStart[] = [];
		const ended: ScanEnd[] = [];
		let next = 0;
		const loop = new ScanLoop({
			scanner, model: new LiveModel('x'), intervalMs: 60_000, persist: async () => undefined, onScanError: vi.fn(),
			onStarted: scan => started.push(scan), onFinished: scan => ended.push(scan), newScanId: () => `s${++next}`,
		});
		loop.start(new AbortController().signal);
		expect(started.map(scan => [scan.id, scan.partial])).toEqual([['s1', false]]);
		expect(loop.requestFullScan()).toEqual({id: 's1', state: 'absorbed'});
		await finish();
		expect(ended.map(scan => [scan.id, scan.outcome === undefined ? 'failed' : 'finished'])).toEqual([['s1', 'finished']]);
		loop.checkContainers(['a']);
		expect(loop.current).toEqual({id: 's2', partial: true, startedAt: expect.any(Date)});
		// A partial scan does not cover a full one: one is queued, and asking again gives the same id.
		expect(loop.requestFullScan()).toEqual({id: 's3', state: 'queued'});
		expect(loop.requestFullScan()).toEqual({id: 's3', state: 'queued'});
		await finish();
		expect(loop.current).toEqual({id: 's3', partial: false, startedAt: expect.any(Date)});
		await finish();
		expect(loop.current).toBeUndefined();
		expect(loop.requestFullScan()).toEqual({id: 's4', state: 'started'});
	});

	it('reports a scan stopped by the signal as aborted, and idle() waits for it', async () => {
		const ended: ScanEnd[] = [];
		const scanner = {
			async scan(signal?: AbortSignal): Promise<ScanOutcome> {
				return new Promise((_resolve, reject) => {
					signal?.addEventListener('abort', () => reject(new Error('stopped')), {once: true});
				});
			},
		};
		const onScanError = vi.fn();
		const loop = new ScanLoop({scanner, model: new LiveModel('x'), intervalMs: 60_000, persist: async () => undefined, onScanError, onFinished: scan => ended.push(scan)});
		const controller = new AbortController();
		loop.start(controller.signal);
		controller.abort();
		await loop.idle();
		expect(ended).toHaveLength(1);
		expect(ended[0]).toMatchObject({aborted: true});
		expect(onScanError).not.toHaveBeenCalled();
		expect(loop.running).toBe(false);
	});
});
