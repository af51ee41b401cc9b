import {writeFile} from 'node:fs/promises';
import {join} from 'node:path';
import {describe, expect, it} from 'vitest';
import {CredentialError, DockerConfigCredentials, dockerConfigPath, normalizeAuthKey} from '../../source/registry/credentials.ts';
import {parseTokenResponse} from '../../source/registry/auth.ts';
import {temporaryDirectory} from '../helpers/temporary.ts';

async function configWith(content: unknown): Promise<DockerConfigCredentials> {
	const dir = await temporaryDirectory('updock-creds-');
	const path = join(dir, 'config.json');
	await writeFile(path, typeof content === 'string' ? content : JSON.stringify(content));
	return new DockerConfigCredentials(path);
}

const basic = (user: string, password: string): {auth: string} => ({auth: Buffer.from(`${user}:${password}`).toString('base64')});

describe('Docker config credentials', () => {
	it('finds the config file where Docker does', () => {
		expect(dockerConfigPath(undefined, '/home/ada')).toBe('/home/ada/.docker/config.json');
		expect(dockerConfigPath('/etc/docker-client', '/home/ada')).toBe('/etc/docker-client/config.json');
	});

	it('normalises auths keys', () => {
		expect(normalizeAuthKey('https://index.docker.io/v1/')).toBe('docker.io');
		expect(normalizeAuthKey('registry-1.docker.io')).toBe('docker.io');
		expect(normalizeAuthKey('https://Registry.Example:5000/v2/')).toBe('registry.example:5000');
		expect(normalizeAuthKey('ghcr.io')).toBe('ghcr.io');
	});

	it('reads auths entries with any spelling of the key; the bare key and the Hub key win', async () => {
		const store = await configWith({auths: {
			'https://ghcr.io/v2/': basic('old', 'x'),
			'ghcr.io': basic('ada', 'p:a:ss'),
			'docker.io': basic('alias', 'x'),
			'https://index.docker.io/v1/': basic('hub', 'y'),
			'http://localhost:5000': {username: 'plain', password: 'z'},
			'quay.io': {identitytoken: 'refresh'},
		}});
		expect(await store.get('ghcr.io')).toEqual({kind: 'basic', username: 'ada', password: 'p:a:ss'});
		expect(await store.get('docker.io')).toEqual({kind: 'basic', username: 'hub', password: 'y'});
		expect(await store.get('localhost:5000')).toEqual({kind: 'basic', username: 'plain', password: 'z'});
		expect(await store.get('quay.io')).toEqual({kind: 'identity-token', token: 'refresh'});
		expect(await store.get('example.com')).toBeUndefined();
	});

	it('treats a missing file as anonymous and a broken one as a clear error', async () => {
		expect(await new DockerConfigCredentials('/nonexistent/config.json').get('ghcr.io')).toBeUndefined();
		const broken = await configWith('{"auths": ');
		await expect(broken.get('ghcr.io')).rejects.toThrow(CredentialError);
		await expect(broken.get('ghcr.io')).rejects.toThrow(/not valid JSON/);
		const bad = await configWith({auths: {'ghcr.io': {auth: Buffer.from('no-colon').toString('base64')}}});
		await expect(bad.get('ghcr.io')).rejects.toThrow(/docker login ghcr.io/);
	});
});

describe('token responses', () => {
	const now = Date.parse('2026-11-23T00:00:00Z');
	it('takes token, else access_token; at least 60 s; renews 5 s early', () => {
		expect(parseTokenResponse(Buffer.from('{"token":"a","expires_in":300}'), 'r', 'u', now)).toEqual({token: 'a', renewAt: now + 295_000});
		expect(parseTokenResponse(Buffer.from('{"access_token":"b","expires_in":10}'), 'r', 'u', now)).toEqual({token: 'b', renewAt: now + 55_000});
		expect(parseTokenResponse(Buffer.from('{"token":"c","issued_at":"2026-11-22T23:59:00Z"}'), 'r', 'u', now).renewAt).toBe(now - 60_000 + 55_000);
		expect(parseTokenResponse(Buffer.from('{"token":"d","issued_at":"garbage"}'), 'r', 'u', now).renewAt).toBe(now + 55_000);
		expect(parseTokenResponse(Buffer.from('{"token":"e","expires_in":1e12}'), 'r', 'u', now).renewAt).toBe(now + 86_400_000 - 5000);
		expect(parseTokenResponse(Buffer.from('{"token":7,"access_token":"f","expires_in":"300"}'), 'r', 'u', now)).toEqual({token: 'f', renewAt: now + 55_000});
	});

	it('says what is wrong with a bad answer', () => {
		expect(() => parseTokenResponse(Buffer.from('<html>'), 'ghcr.io', 'https://ghcr.io/token', now)).toThrow(/not JSON/);
		expect(() => parseTokenResponse(Buffer.from('{}'), 'ghcr.io', 'https://ghcr.io/token', now)).toThrow(/sent no token/);
	});
});
