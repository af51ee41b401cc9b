import {execFile} from 'node:child_process';
import {copyFile, mkdir, writeFile} from 'node:fs/promises';
import {join} from 'node:path';
import {promisify} from 'node:util';
import {describe, expect, it} from 'vitest';
import {contextDirectoryName, resolveContext} from '../../source/docker/contexts.ts';
import {temporaryDirectory} from '../helpers/temporary.ts';

const run = promisify(execFile);

/** `docker context create` itself, in a DOCKER_CONFIG of the test's own. */
async function dockerContextCreate(config: string, name: string, docker: string): Promise<void> {
	const {DOCKER_HOST: _host, DOCKER_CONTEXT: _context, ...env} = process.env;
	await run('docker', ['context', 'create', name, '--docker', docker], {env: {...env, DOCKER_CONFIG: config}, timeout: 20_000});
}

describe('resolveContext, on contexts the docker CLI wrote', () => {
	it('TLS material, plain TCP, SkipTLSVerify and ssh', async () => {
		const config = await temporaryDirectory('updock-contexts-');
		const pems = join(config, 'pems');
		await mkdir(pems);
		// The CLI checks that the files are a certificate and its key.
		await run('openssl', ['req', '-x509', '-newkey', 'ed25519', '-nodes', '-keyout', join(pems, 'key.pem'), '-out', join(pems, 'cert.pem'), '-subj', '/CN=updock-test', '-days', '1'], {timeout: 20_000});
		await copyFile(join(pems, 'cert.pem'), join(pems, 'ca.pem'));

		await dockerContextCreate(config, 'secure', `host=tcp://10.1.2.3:2376,ca=${pems}/ca.pem,cert=${pems}/cert.pem,key=${pems}/key.pem`);
		await dockerContextCreate(config, 'plain', 'host=tcp://10.1.2.4:2375');
		await dockerContextCreate(config, 'skip', 'host=tcp://10.1.2.5:2376,skip-tls-verify=true');
		await dockerContextCreate(config, 'remote', 'host=ssh://admin@prod.example:2222');
		const tlsDir = join(config, 'contexts', 'tls', contextDirectoryName('secure'), 'docker');
		expect(resolveContext('secure', config)).toEqual({
			kind: 'tcp', host: '10.1.2.3', port: 2376, display: 'tcp://10.1.2.3:2376', origin: 'docker context "secure"',
			tls: {verify: true, ca: join(tlsDir, 'ca.pem'), cert: join(tlsDir, 'cert.pem'), key: join(tlsDir, 'key.pem')},
		});
		expect(resolveContext('plain', config)).toMatchObject({kind: 'tcp', host: '10.1.2.4', tls: null});
		expect(resolveContext('skip', config)).toMatchObject({kind: 'tcp', tls: {verify: false, ca: null, cert: null, key: null}});
		expect(resolveContext('remote', config)).toMatchObject({kind: 'ssh', host: 'prod.example', port: 2222, user: 'admin'});
		expect(resolveContext('default', config)).toMatchObject({kind: 'unix', socketPath: '/var/run/docker.sock'});
	});

	it('a missing context, a broken meta.json, one without a docker endpoint', async () => {
		const config = await temporaryDirectory('updock-contexts-');
		expect(resolveContext('ghost', config)).toEqual({error: expect.stringMatching(/no docker context "ghost".*docker context ls/)});
		const meta = (name: string): string => join(config, 'contexts', 'meta', contextDirectoryName(name));
		await mkdir(meta('broken'), {recursive: true});
		await writeFile(join(meta('broken'), 'meta.json'), '{"Endpoints": {"docker": {"Host": 7}}}');
		expect(resolveContext('broken', config)).toEqual({error: expect.stringMatching(/unexpected shape at Endpoints\.docker\.Host/)});
		await mkdir(meta('k8s'), {recursive: true});
		await writeFile(join(meta('k8s'), 'meta.json'), '{"Name":"k8s","Endpoints":{}}');
		expect(resolveContext('k8s', config)).toEqual({error: expect.stringMatching(/no docker endpoint/)});
	});
});
