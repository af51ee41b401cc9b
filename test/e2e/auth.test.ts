import {mkdir, readFile} from 'node:fs/promises';
import {join} from 'node:path';
import {afterAll, beforeAll, describe, expect, inject, it} from 'vitest';
import {requestsDuring} from '../helpers/registry.ts';
import {Scene} from '../helpers/scene.ts';
import type {TokenRequest} from '../helpers/token-server.ts';
import {makeHome, row, scanJson, writeDockerAuths, type UpdockHome} from '../helpers/updock.ts';

const sandbox = inject('sandbox');

async function tokenRequests(): Promise<TokenRequest[]> {
	return (await fetch(`${sandbox.tokenServer}/_requests`)).json() as Promise<TokenRequest[]>;
}

describe('private registries: Basic auth and Bearer tokens', () => {
	let scene: Scene;
	let cliConfig: string;
	const names: Record<string, string> = {};
	const {basic, token} = sandbox;
	const basicCredentials = `${basic.username}:${basic.password}`;
	const tokenCredentials = `${token.username}:${token.password}`;

	beforeAll(async () => {
		scene = await Scene.create(sandbox, 'auth');
		// The docker CLI pulls with its own config, holding the right credentials.
		cliConfig = join(sandbox.root, 'auth-cli-config');
		await mkdir(cliConfig, {recursive: true});
		await writeDockerAuths({dockerConfig: cliConfig} as UpdockHome, {[basic.host]: basic, [token.host]: token});

		await scene.push(scene.ref(basic.host, 'app'), {marker: 'basic-1'}, {credentials: basicCredentials});
		await scene.pull(scene.ref(basic.host, 'app'), cliConfig);
		names['basic'] = await scene.runContainer('basic', scene.ref(basic.host, 'app'), {start: false});

		for (const repository of ['alpha', 'beta']) {
			await scene.push(scene.ref(token.host, repository), {marker: `${repository}-1`}, {credentials: tokenCredentials});
			await scene.pull(scene.ref(token.host, repository), cliConfig);
			names[repository] = await scene.runContainer(repository, scene.ref(token.host, repository), {start: false});
		}

		// A second tag of alpha that then moves on: the GET reuses alpha's token.
		await scene.push(scene.ref(token.host, 'alpha', '2'), {marker: 'alpha-2'}, {credentials: tokenCredentials});
		await scene.pull(scene.ref(token.host, 'alpha', '2'), cliConfig);
		names['alpha2'] = await scene.runContainer('alpha2', scene.ref(token.host, 'alpha', '2'), {start: false});
		await scene.push(scene.ref(token.host, 'alpha', '2'), {marker: 'alpha-2b'}, {credentials: tokenCredentials});
	});

	afterAll(async () => {
		await scene?.cleanup();
	});

	it('checks every private image with the credentials from DOCKER_CONFIG, with one token for the scan', async () => {
		const home = await makeHome(sandbox);
		await writeDockerAuths(home, {[basic.host]: basic, [`https://${token.host}/v1/`]: token});
		const before = (await tokenRequests()).length;
		const {result: {result, json}, requests} = await requestsDuring(token, async () => scanJson(home));
		const issued = (await tokenRequests()).slice(before);

		expect(row(json, names['basic']!).status).toBe('up-to-date');
		expect(row(json, names['alpha']!).status).toBe('up-to-date');
		expect(row(json, names['beta']!).status).toBe('up-to-date');
		expect(row(json, names['alpha2']!).status).toBe('update-available');
		expect(result.code, result.stderr).toBe(0);

		// One token request for both repositories (a repeated scope), reused for every HEAD and GET.
		expect(issued).toHaveLength(1);
		expect([...issued[0]!.scopes].sort()).toEqual(['repository:auth/alpha:pull', 'repository:auth/beta:pull']);
		expect(issued.every(request => request.user === basic.username && request.granted)).toBe(true);
		// HEAD alpha:1, alpha:2, beta:1 and one GET for alpha:2, none refused
		const mine = requests.filter(entry => entry.userAgent.startsWith('updock/'));
		expect(mine.filter(entry => entry.method === 'HEAD')).toHaveLength(3);
		expect(mine.filter(entry => entry.status === 401 && entry.path !== '/v2/')).toEqual([]);
	});

	it('names the registry and the missing credentials when there are none', async () => {
		const home = await makeHome(sandbox);
		const {result, json} = await scanJson(home);
		expect(result.code).toBe(1);
		const basicRow = row(json, names['basic']!);
		expect(basicRow.status).toBe('error');
		expect(basicRow.error).toContain(basic.host);
		expect(basicRow.error).toMatch(/no credentials/);
		expect(basicRow.error).toContain(`docker login ${basic.host}`);
		const tokenRow = row(json, names['alpha']!);
		expect(tokenRow.status).toBe('error');
		expect(tokenRow.error).toContain(token.host);
		expect(tokenRow.error).toMatch(/no credentials|anonymous/);
	});

	it('says the credentials were refused, and never prints or stores them', async () => {
		const home = await makeHome(sandbox);
		const wrong = {username: basic.username, password: 'definitely-wrong-secret'};
		await writeDockerAuths(home, {[basic.host]: wrong, [token.host]: wrong});
		const {result, json} = await scanJson(home);
		expect(result.code).toBe(1);
		for (const name of ['basic', 'alpha', 'beta']) {
			const entry = row(json, names[name]!);
			expect(entry.status, name).toBe('error');
			expect(entry.error, name).toMatch(/refused/);
			expect(entry.error, name).toMatch(/docker login/);
		}

		const everything = `${result.stdout}${result.stderr}${await readFile(home.db, 'utf8')}`;
		expect(everything).not.toContain('definitely-wrong-secret');
		expect(everything).not.toContain(Buffer.from(`${wrong.username}:${wrong.password}`).toString('base64'));
		expect(everything).not.toContain(basic.password);
	});
});
