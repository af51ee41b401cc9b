import {describe, expect, it} from 'vitest';
import {userChoseMemorySaver} from '../../source/memory-mode.ts';

describe('memory saving', () => {
	it('is left to the user who gave node a memory-saver flag, on its command line or in NODE_OPTIONS', () => {
		expect(userChoseMemorySaver([], '')).toBe(false);
		expect(userChoseMemorySaver(['--max-semi-space-size=1'], '--max-old-space-size=512')).toBe(false);
		expect(userChoseMemorySaver(['--no-memory-saver-mode'], '')).toBe(true);
		expect(userChoseMemorySaver(['--memory-saver-mode'], '')).toBe(true);
		expect(userChoseMemorySaver([], '--inspect --no-memory-saver-mode')).toBe(true);
		expect(userChoseMemorySaver([], '--memory_saver_mode')).toBe(true);
	});
});
