/**
 * The built executable's first lines are a shell launcher that starts node with updock's V8 flags and
 * glibc setting; JavaScript reads them as a comment. Checked under the shells it meets: Debian's dash
 * as /bin/sh, BusyBox's (Alpine's) and bash.
 */
import {chmod, mkdtemp, writeFile} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {describe, expect, it} from 'vitest';
import {run} from '../helpers/process.ts';
import {updockBin} from '../helpers/updock.ts';

const shells: ReadonlyArray<readonly [string, readonly string[]]> = [
	['dash (/bin/sh)', ['/bin/sh']],
	['BusyBox sh', ['busybox', 'sh']],
	['bash', ['bash']],
];

/** A `node` first on PATH that prints what it was started with instead of running anything. */
async function fakeNode(): Promise<string> {
	const dir = await mkdtemp(join(tmpdir(), 'updock-launcher-'));
	await writeFile(join(dir, 'node'), '#!/bin/sh\nprintf "arena=%s\\n" "$MALLOC_ARENA_MAX"\nfor argument in "$@"; do printf "arg=%s\\n" "$argument"; done\n');
	await chmod(join(dir, 'node'), 0o755);
	return dir;
}

describe('the launcher of dist/updock.js', () => {
	it.each(shells)('runs updock under %s', async (_name, shell) => {
		const result = await run(shell[0]!, [...shell.slice(1), updockBin, '--version'], {env: {PATH: process.env['PATH']}});
		expect(result.code).toBe(0);
		expect(result.stdout).toMatch(/^\d+\.\d+\.\d+/);
	});

	it.each(shells)('under %s, hands node its flags, the arguments as given and two malloc arenas unless the user chose', async (_name, shell) => {
		const bin = await fakeNode();
		const path = `${bin}:${process.env['PATH'] ?? ''}`;
		const started = await run(shell[0]!, [...shell.slice(1), updockBin, '--once', 'a b', ''], {env: {PATH: path}});
		expect(started.stdout.split('\n')).toEqual(['arena=2', 'arg=--max-semi-space-size=1', `arg=${updockBin}`, 'arg=--once', 'arg=a b', 'arg=', '']);
		const chosen = await run(shell[0]!, [...shell.slice(1), updockBin], {env: {PATH: path, MALLOC_ARENA_MAX: '8'}});
		expect(chosen.stdout).toContain('arena=8\n');
	});
});
