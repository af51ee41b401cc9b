import {chmod, readFile, rm, stat, utimes, writeFile} from 'node:fs/promises';
import {join} from 'node:path';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {DockerConfigCredentials, helperAnswerTtlMs, type HelperRunner} from '../../source/registry/credentials.ts';
import {temporaryDirectory} from '../helpers/temporary.ts';

/** Credentials that change while updock runs: `docker login` again, rotating helper tokens, a keychain that was locked. */
const auth = (user: string, password: string): {auth: string} => ({auth: Buffer.from(`${user}:${password}`).toString('base64')});

describe('config.json is read again when it changed', () => {
	it('on a new mtime with the same size, and on a new size with the same mtime', async () => {
		const dir = await temporaryDirectory('updock-reread-');
		const path = join(dir, 'config.json');
		await writeFile(path, JSON.stringify({auths: {'ghcr.io': auth('ada', 'one')}}));
		const first = new Date('2026-01-01T00:00:00Z');
		await utimes(path, first, first);
		const store = new DockerConfigCredentials(path);
		expect(await store.get('ghcr.io')).toEqual({kind: 'basic', username: 'ada', password: 'one'});

		await writeFile(path, JSON.stringify({auths: {'ghcr.io': auth('ada', 'two')}}));
		const second = new Date('2026-01-01T00:00:10Z');
		await utimes(path, second, second);
		expect(await store.get('ghcr.io')).toEqual({kind: 'basic', username: 'ada', password: 'two'});

		await writeFile(path, JSON.stringify({auths: {'ghcr.io': auth('ada', 'three!')}}));
		await utimes(path, second, second);
		expect(await store.get('ghcr.io')).toEqual({kind: 'basic', username: 'ada', password: 'three!'});
	});

	it('a file that appears, is broken, then fixed is seen each time', async () => {
		const dir = await temporaryDirectory('updock-reread-');
		const path = join(dir, 'config.json');
		const store = new DockerConfigCredentials(path);
		expect(await store.get('ghcr.io')).toBeUndefined();
		await writeFile(path, '{"auths": ');
		await expect(store.get('ghcr.io')).rejects.toThrow(/not valid JSON/);
		await writeFile(path, JSON.stringify({auths: {'ghcr.io': auth('ada', 'fixed')}}));
		expect(await store.get('ghcr.io')).toEqual({kind: 'basic', username: 'ada', password: 'fixed'});
	});
});

describe('credential helpers: answers kept 5 minutes at most, failures never', () => {
	let dir: string;
	let path: string;
	const savedPath = process.env['PATH'];

	beforeAll(async () => {
		dir = await temporaryDirectory('updock-helper-');
		path = join(dir, 'config.json');
		// A real helper on PATH, speaking the protocol: it counts its runs, answers from a file, fails while `locked` exists.
		const helper = join(dir, 'docker-credential-updocktest');
		await writeFile(helper, `#!/bin/sh
read server
echo "$server" >> "${dir}/runs"
if [ -e "${dir}/locked" ]; then echo "keychain is locked" >&2; exit 1; fi
cat "${dir}/answer.json"
`);
		await chmod(helper, 0o755);
		process.env['PATH'] = `${dir}:${savedPath ?? ''}`;
		await writeFile(path, JSON.stringify({credsStore: 'updocktest'}));
	});

	afterAll(() => {
		process.env['PATH'] = savedPath;
	});

	const runs = async (): Promise<string[]> => (await readFile(join(dir, 'runs'), 'utf8').catch(() => '')).split('\n').filter(Boolean);
	const answer = async (secret: string): Promise<void> => writeFile(join(dir, 'answer.json'), JSON.stringify({ServerURL: 'ghcr.io', Username: 'ada', Secret: secret}));

	it('reuses an answer within 5 minutes, asks again after', async () => {
		let now = 1_000_000;
		const store = new DockerConfigCredentials(path, {now: () => now});
		await answer('token-1');
		const before = (await runs()).length;
		expect(await store.get('ghcr.io')).toMatchObject({password: 'token-1'});
		await answer('token-2');
		now += helperAnswerTtlMs - 1;
		expect(await store.get('ghcr.io')).toMatchObject({password: 'token-1'});
		expect((await runs()).length).toBe(before + 1);
		now += 2;
		expect(await store.get('ghcr.io')).toMatchObject({password: 'token-2'});
		expect((await runs()).length).toBe(before + 2);
	});

	it('runs the helper again after it failed', async () => {
		const store = new DockerConfigCredentials(path);
		await answer('unlocked');
		await writeFile(join(dir, 'locked'), '');
		await expect(store.get('quay.io')).rejects.toThrow('docker-credential-updocktest failed to give credentials for quay.io: keychain is locked');
		await rm(join(dir, 'locked'));
		expect(await store.get('quay.io')).toMatchObject({password: 'unlocked'});
	});

	it('runs it again after a timeout', async () => {
		const answers: Array<Awaited<ReturnType<HelperRunner>>> = [
			{ok: false, output: 'no answer within 10 s', missing: false},
			{ok: true, stdout: JSON.stringify({Username: 'ada', Secret: 'late'})},
		];
		let asked = 0;
		const store = new DockerConfigCredentials(path, {runHelper: async () => answers[asked++]!});
		await expect(store.get('ghcr.io')).rejects.toThrow(/no answer within 10 s/);
		expect(await store.get('ghcr.io')).toMatchObject({password: 'late'});
		expect(asked).toBe(2);
	});

	it('forgets helper answers when config.json changes (a docker login)', async () => {
		let now = 1_000_000;
		const store = new DockerConfigCredentials(path, {now: () => now});
		await answer('before-login');
		expect(await store.get('ghcr.io')).toMatchObject({password: 'before-login'});
		await answer('after-login');
		const info = await stat(path);
		await writeFile(path, JSON.stringify({credsStore: 'updocktest', auths: {'ghcr.io': {}}}));
		await utimes(path, info.atime, new Date(info.mtimeMs + 5000));
		now += 1000;
		expect(await store.get('ghcr.io')).toMatchObject({password: 'after-login'});
	});
});
