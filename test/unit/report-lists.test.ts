import {describe, expect, it} from 'vitest';
import {renderPins} from '../../source/report/lists.ts';

describe('the pins list', () => {
	it('names each pin\'s engine, and a pin from before several engines as the default one\'s', () => {
		const lines = renderPins([
			{name: 'web', containerId: 'abcdef0123456789', pinnedAt: '2026-11-01T00:00:00Z'},
			{host: 'prod-eu', name: 'db', containerId: '0123456789abcdef', pinnedAt: '2026-11-02T00:00:00Z'},
			{host: 'evil\u001B[2J', name: 'x', containerId: 'fedcba9876543210', pinnedAt: '2026-11-03T00:00:00Z'},
		], false).split('\n');
		expect(lines[0]).toMatch(/^HOST\s+NAME\s+CONTAINER ID\s+PINNED AT$/);
		expect(lines[1]).toMatch(/^- +web +abcdef012345 +2026-11-01T00:00:00Z$/);
		expect(lines[2]).toMatch(/^prod-eu +db +0123456789ab +2026-11-02T00:00:00Z$/);
		expect(lines[3]).toMatch(/^evil␛\[2J +x +fedcba987654 /);
		for (const line of lines.slice(1)) {
			expect(line.indexOf('20'), line).toBe(lines[0]!.indexOf('PINNED AT'));
		}
	});
});
