import {mkdir, writeFile} from 'node:fs/promises';
import {join} from 'node:path';
import {MockAgent} from 'undici';
import {describe, expect, it} from 'vitest';
import {DockerConfigCredentials, type HelperRunner} from '../../source/registry/credentials.ts';
import {RegistryHttp} from '../../source/registry/http.ts';
import {RegistryTrust} from '../../source/registry/trust.ts';
import {temporaryDirectory} from '../helpers/temporary.ts';

describe('RegistryTrust', () => {
	const policy = {registries: ['registry.corp:5000'], cidrs: ['10.0.0.0/8', '127.0.0.0/8']};

	it('speaks HTTPS to everything but loopback and what the engine calls insecure', async () => {
		const trust = new RegistryTrust({certsDir: '/nonexistent', insecure: async () => policy});
		expect(await trust.endpoint('docker.io')).toEqual({origin: 'https://registry-1.docker.io'});
		expect(await trust.endpoint('ghcr.io')).toEqual({origin: 'https://ghcr.io'});
		expect(await trust.endpoint('127.0.0.1:5000')).toEqual({origin: 'http://127.0.0.1:5000'});
		expect(await trust.endpoint('localhost:5000')).toEqual({origin: 'http://localhost:5000'});
		expect(await trust.endpoint('registry.corp:5000')).toEqual({origin: 'https://registry.corp:5000', fallback: 'http://registry.corp:5000'});
		expect(trust.tlsFor('registry.corp:5000')).toEqual({rejectUnauthorized: false});
		expect(await trust.endpoint('10.1.2.3:5000')).toEqual({origin: 'https://10.1.2.3:5000', fallback: 'http://10.1.2.3:5000'});
		expect(await trust.endpoint('192.168.1.1:5000')).toEqual({origin: 'https://192.168.1.1:5000'});
	});

	it('never downgrades when the engine cannot say', async () => {
		const trust = new RegistryTrust({certsDir: '/nonexistent', insecure: async () => {
			throw new Error('engine gone');
		}});
		expect(await trust.endpoint('registry.corp:5000')).toEqual({origin: 'https://registry.corp:5000'});
	});

	it('uses a certs.d directory: its CA on top of the system roots, its client pair, and HTTPS even on loopback', async () => {
		const certsDir = await temporaryDirectory('updock-certs-');
		await mkdir(join(certsDir, '127.0.0.1:5443'));
		await writeFile(join(certsDir, '127.0.0.1:5443', 'ca.crt'), 'CA PEM');
		await writeFile(join(certsDir, '127.0.0.1:5443', 'client.cert'), 'CLIENT CERT');
		await writeFile(join(certsDir, '127.0.0.1:5443', 'client.key'), 'CLIENT KEY');
		const trust = new RegistryTrust({certsDir});
		expect(await trust.endpoint('127.0.0.1:5443')).toEqual({origin: 'https://127.0.0.1:5443'});
		const tls = trust.tlsFor('127.0.0.1:5443')!;
		expect(tls.ca?.at(-1)).toBe('CA PEM');
		expect(tls.ca!.length).toBeGreaterThan(10);
		expect(tls).toMatchObject({cert: 'CLIENT CERT', key: 'CLIENT KEY', rejectUnauthorized: true});
	});
});

describe('an insecure registry that does not speak HTTPS', () => {
	it('falls back to plain HTTP once, and stays there', async () => {
		const agent = new MockAgent();
		agent.disableNetConnect();
		const trust = new RegistryTrust({certsDir: '/nonexistent', insecure: async () => ({registries: ['registry.corp:5000'], cidrs: []})});
		const http = new RegistryHttp({timeoutMs: 1000, connectionsPerHost: 1, userAgent: 't', trust, dispatcherFor: origin => agent.get(origin)});
		agent.get('https://registry.corp:5000').intercept({path: '/v2/', method: 'GET'}).replyWithError(Object.assign(new Error('wrong version number'), {code: 'ERR_SSL_WRONG_VERSION_NUMBER'}));
		agent.get('http://registry.corp:5000').intercept({path: '/v2/', method: 'GET'}).reply(200, '{}').times(2);
		const url = new URL('/v2/', await http.base('registry.corp:5000'));
		expect((await http.send({method: 'GET', url, registry: 'registry.corp:5000'})).status).toBe(200);
		expect(await http.base('registry.corp:5000')).toBe('http://registry.corp:5000');
		expect((await http.send({method: 'GET', url: new URL('/v2/', await http.base('registry.corp:5000')), registry: 'registry.corp:5000'})).status).toBe(200);
		agent.assertNoPendingInterceptors();
		await agent.close();
	});
});

describe('credential helpers, by their protocol', () => {
	const runner = (answers: Record<string, Awaited<ReturnType<HelperRunner>>>, asked: string[] = []): HelperRunner => async (helper, serverUrl) => {
		asked.push(`${helper} ${serverUrl}`);
		return answers[serverUrl] ?? {ok: false, output: 'credentials not found in native keychain', missing: false};
	};

	it('asks Docker Hub by its historical key, reads <token> as an identity token, and falls back to auths', async () => {
		const dir = await temporaryDirectory('updock-helper-');
		const path = join(dir, 'config.json');
		await writeFile(path, JSON.stringify({
			credsStore: 'desktop',
			credHelpers: {'ghcr.io': 'gh'},
			auths: {'quay.io': {auth: Buffer.from('q:pw').toString('base64')}},
		}));
		const asked: string[] = [];
		const store = new DockerConfigCredentials(path, {runHelper: runner({
			'https://index.docker.io/v1/': {ok: true, stdout: '{"ServerURL":"https://index.docker.io/v1/","Username":"ada","Secret":"hub-pw"}'},
			'ghcr.io': {ok: true, stdout: '{"ServerURL":"ghcr.io","Username":"<token>","Secret":"refresh-token"}'},
		}, asked)});
		expect(await store.get('docker.io')).toEqual({kind: 'basic', username: 'ada', password: 'hub-pw'});
		expect(await store.get('ghcr.io')).toEqual({kind: 'identity-token', token: 'refresh-token'});
		expect(await store.get('quay.io')).toEqual({kind: 'basic', username: 'q', password: 'pw'});
		expect(await store.get('example.com')).toBeUndefined();
		expect(await store.get('ghcr.io')).toEqual({kind: 'identity-token', token: 'refresh-token'});
		expect(asked).toEqual(['desktop https://index.docker.io/v1/', 'gh ghcr.io', 'desktop quay.io', 'desktop example.com']);
	});

	it('reports a helper that fails, without its secret', async () => {
		const dir = await temporaryDirectory('updock-helper-');
		const path = join(dir, 'config.json');
		await writeFile(path, JSON.stringify({credsStore: 'pass'}));
		const store = new DockerConfigCredentials(path, {runHelper: async () => ({ok: false, output: 'gpg: decryption failed: No secret key\nmore', missing: false})});
		await expect(store.get('ghcr.io')).rejects.toThrow('docker-credential-pass failed to give credentials for ghcr.io: gpg: decryption failed: No secret key');
		const bad = new DockerConfigCredentials(path, {envJson: '{"credHelpers": {"ghcr.io": "../evil"}}'});
		await expect(bad.get('ghcr.io')).rejects.toThrow(/not valid/);
	});
});
