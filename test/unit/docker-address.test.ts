import {mkdir, writeFile} from 'node:fs/promises';
import {join} from 'node:path';
import {describe, expect, it} from 'vitest';
import {parseEngineAddress, resolveDefaultEngine, type DockerEnvironment} from '../../source/docker/address.ts';
import {temporaryDirectory} from '../helpers/temporary.ts';

describe('parseEngineAddress', () => {
	it.each([
		['unix:///var/run/docker.sock', {kind: 'unix', socketPath: '/var/run/docker.sock', display: 'unix:///var/run/docker.sock'}],
		['tcp://10.0.0.5:2376', {kind: 'tcp', host: '10.0.0.5', port: 2376, tls: null, display: 'tcp://10.0.0.5:2376'}],
		['tcp://docker.example', {kind: 'tcp', host: 'docker.example', port: 2375, tls: null}],
		['tcp://[::1]:80', {kind: 'tcp', host: '::1', port: 80, display: 'tcp://[::1]:80'}],
		['ssh://admin@prod.example', {kind: 'ssh', host: 'prod.example', port: 22, user: 'admin', display: 'ssh://admin@prod.example'}],
		['ssh://prod.example:2222', {kind: 'ssh', host: 'prod.example', port: 2222, user: null, display: 'ssh://prod.example:2222'}],
	])('%s', (text, expected) => {
		expect(parseEngineAddress(text)).toMatchObject(expected);
	});

	it('TLS with DOCKER_TLS_VERIFY: certificates from the cert path, else the default one', () => {
		expect(parseEngineAddress('tcp://h:2376', {tlsVerify: true, certPath: '/certs'})).toMatchObject({
			tls: {verify: true, ca: '/certs/ca.pem', cert: '/certs/cert.pem', key: '/certs/key.pem'},
		});
		expect(parseEngineAddress('tcp://h:2376', {tlsVerify: true, defaultCertPath: '/home/ada/.docker'})).toMatchObject({
			tls: {ca: '/home/ada/.docker/ca.pem'},
		});
		// DOCKER_TLS_VERIFY says nothing about unix sockets or ssh.
		expect(parseEngineAddress('unix:///s', {tlsVerify: true})).not.toHaveProperty('tls');
	});

	it.each([
		['unix://relative.sock', /absolute socket path/],
		['tcp://h:2375/path', /path or query/],
		['ssh://u:secret@h', /password/],
		['tcp://u@h', /user name/],
		['tcp://h:0', /port 0/],
		['tcp://h:99999', /not a valid address/],
		['npipe:////./pipe/docker_engine', /not supported/],
		['fd://', /not supported/],
		['docker.example:2375', /not supported/],
	])('refuses %s', (text, pattern) => {
		const parsed = parseEngineAddress(text);
		expect(parsed).toHaveProperty('error');
		expect('error' in parsed ? parsed.error : '').toMatch(pattern);
	});
});

describe('resolveDefaultEngine', () => {
	const environment = (dockerConfigDir: string, overrides: Partial<DockerEnvironment> = {}): DockerEnvironment => ({
		dockerHost: undefined, dockerContext: undefined, tlsVerify: false, certPath: undefined, dockerConfigDir, ...overrides,
	});

	async function configWithContext(current: string | undefined): Promise<string> {
		const directory = await temporaryDirectory('updock-docker-config-');
		if (current !== undefined) {
			await writeFile(join(directory, 'config.json'), JSON.stringify({auths: {}, currentContext: current}));
		}

		// A context written as the docker CLI writes it (see docker-contexts.test.ts for the CLI itself).
		const {contextDirectoryName} = await import('../../source/docker/contexts.ts');
		const meta = join(directory, 'contexts', 'meta', contextDirectoryName('lab'));
		await mkdir(meta, {recursive: true});
		await writeFile(join(meta, 'meta.json'), JSON.stringify({Name: 'lab', Metadata: {}, Endpoints: {docker: {Host: 'ssh://me@lab:2222', SkipTLSVerify: false}}}));
		return directory;
	}

	it('the default socket, named local, when nothing is set', async () => {
		const directory = await configWithContext(undefined);
		expect(resolveDefaultEngine(environment(directory))).toMatchObject({name: 'local', address: {kind: 'unix', socketPath: '/var/run/docker.sock', origin: 'DOCKER_HOST'}});
	});

	it('DOCKER_HOST wins over DOCKER_CONTEXT and the current context; its certificates default to DOCKER_CONFIG', async () => {
		const directory = await configWithContext('lab');
		expect(resolveDefaultEngine(environment(directory, {dockerHost: 'tcp://h:2376', tlsVerify: true, dockerContext: 'lab'}))).toMatchObject({
			name: 'local',
			address: {kind: 'tcp', tls: {ca: join(directory, 'ca.pem')}},
		});
	});

	it('DOCKER_CONTEXT, then currentContext, named after the context; "default" is the default engine', async () => {
		const directory = await configWithContext('lab');
		expect(resolveDefaultEngine(environment(directory))).toMatchObject({name: 'lab', address: {kind: 'ssh', host: 'lab', port: 2222, user: 'me'}});
		expect(resolveDefaultEngine(environment(directory, {dockerContext: 'default'}))).toMatchObject({name: 'local', address: {kind: 'unix'}});
		expect(resolveDefaultEngine(environment(await configWithContext('default')))).toMatchObject({name: 'local'});
	});

	it('names what is wrong: a bad DOCKER_HOST, an unknown context, a broken config.json', async () => {
		const directory = await configWithContext(undefined);
		expect(resolveDefaultEngine(environment(directory, {dockerHost: 'tcp://h:2375/x'}))).toMatchObject({source: 'DOCKER_HOST', error: expect.stringMatching(/^DOCKER_HOST=/)});
		expect(resolveDefaultEngine(environment(directory, {dockerContext: 'nope'}))).toMatchObject({source: 'DOCKER_CONTEXT', error: expect.stringMatching(/no docker context "nope".*docker context ls/)});
		await writeFile(join(directory, 'config.json'), '{"currentContext": ');
		expect(resolveDefaultEngine(environment(directory))).toMatchObject({source: join(directory, 'config.json'), error: expect.stringMatching(/not valid JSON/)});
	});
});
