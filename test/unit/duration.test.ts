import {describe, expect, it} from 'vitest';
import {formatDuration, parseGoDuration} from '../../source/core/duration.ts';

describe('Go durations', () => {
	it.each([
		['12h', 12 * 3_600_000],
		['30m', 1_800_000],
		['1h30m', 5_400_000],
		['2h45m10s', 9_910_000],
		['1.5h', 5_400_000],
		['.5s', 500],
		['300ms', 300],
		['1500us', 1.5],
		['1µs', 0.001],
		['0', 0],
		['-1h', -3_600_000],
		['+5m', 300_000],
	])('%s', (text, ms) => {
		expect(parseGoDuration(text)).toBeCloseTo(ms, 6);
	});

	it.each(['', '12', 'h', '1d', '1h 30m', '--1h', 'abc', '1.h.m'])('rejects %j', text => {
		expect(parseGoDuration(text)).toBeUndefined();
	});

	it('formats back', () => {
		expect(formatDuration(6 * 3_600_000)).toBe('6h');
		expect(formatDuration(5_400_000)).toBe('1h30m');
		expect(formatDuration(45_000)).toBe('45s');
		expect(formatDuration(250)).toBe('250ms');
		expect(formatDuration(1000)).toBe('1s');
	});
});
