import {spawn} from 'node:child_process';
import {resolve} from 'node:path';
import {describe, expect, it} from 'vitest';
import {temporaryDirectory} from '../helpers/temporary.ts';

const cli = resolve(import.meta.dirname, '../../source/cli.ts');
const title = '\u001B]0;pwned\u0007';
const clipboard = '\u001B]52;c;Y3VybCBldmlsLnNofHNo\u0007';

/** Run updock from source (Node strips the types), with a clean environment, bounded in time. */
async function updock(args: readonly string[], env: NodeJS.ProcessEnv): Promise<{code: number | null; stdout: string; stderr: string}> {
	const child = spawn(process.execPath, [cli, ...args], {env: {PATH: process.env['PATH'], NO_COLOR: '1', ...env}, stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000});
	let stdout = '';
	let stderr = '';
	child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
		stdout += chunk;
	});
	child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
		stderr += chunk;
	});
	const code = await new Promise<number | null>(done => {
		child.on('close', done);
	});
	return {code, stdout, stderr};
}

describe('messages on stderr', () => {
	it('show what the user or the engine address held as text, not as escapes', async () => {
		const home = await temporaryDirectory('updock-stderr-');
		const env = {HOME: home, UPDOCK_DB: resolve(home, 'updock.json')};
		const usage = await updock(['pin', 'web', `other${title}`], env);
		expect(usage.code).toBe(64);
		expect(usage.stderr).toContain('other␛]0;pwned␇');
		expect(usage.stderr).not.toContain('\u001B');
		expect(usage.stderr).not.toContain('\u0007');

		const engine = await updock(['pin', 'web'], {...env, DOCKER_HOST: `unix://${home}/no-such.sock${clipboard}`});
		expect(engine.code).not.toBe(0);
		expect(engine.stderr).toMatch(/^updock: /);
		expect(engine.stderr).not.toMatch(/[\u0000-\u0009\u000B-\u001F\u007F-\u009F]/);
		expect(engine.stderr.trimEnd().split('\n')).toHaveLength(1);
	});
});
