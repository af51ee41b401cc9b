/**
 * When V8 should trade CPU for memory. `--memory-saver-mode` makes V8 grow its heap less between
 * collections: the live view scanning 2,000 containers holds about 120 MB instead of about 145 MB, and
 * `--once` over 50,000 containers peaks at about 165 MB instead of 180-210 MB. It costs CPU, though:
 * about 40 ms of every start-up, and about 3 % of a three-host scan of 1,800 containers (80 ms of
 * 2.6 s), in collections. So it is not on node's command line but turned on here, where updock holds
 * much: from the start of the live view and of serve (which run for days), and in a scan once a
 * listing passes `manyEntries` entries. A memory-saver flag the user gave node (on its command line
 * or in NODE_OPTIONS, either way) is left alone.
 */

/**
 * Entries of one listing past which a scan saves memory: a host of more than 1,000 containers. Turned
 * on at 5,000 instead, `--once` over 50,000 containers peaked 10-20 MB higher (the heap had grown by then).
 */
export const manyEntries = 1000;

let saving = false;

/** Whether the user gave node a memory-saver flag (`--memory-saver-mode`, `--no-memory_saver_mode`, ...). */
export function userChoseMemorySaver(execArgv: readonly string[], nodeOptions: string): boolean {
	return [...execArgv, nodeOptions].some(text => /memory[-_]saver[-_]mode/.test(text));
}

/** Turn `--memory-saver-mode` on for the rest of the process (once; see above). */
export function saveMemory(): void {
	if (saving) {
		return;
	}

	saving = true;
	if (!userChoseMemorySaver(process.execArgv, process.env['NODE_OPTIONS'] ?? '')) {
		// Taken here, not imported: most runs never need node:v8.
		process.getBuiltinModule('node:v8').setFlagsFromString('--memory-saver-mode');
	}
}
