import {execFile} from 'node:child_process';
import {copyFile, mkdir, mkdtemp} from 'node:fs/promises';
import {join} from 'node:path';
import {promisify} from 'node:util';
import {afterAll, beforeAll, describe, expect, inject, it} from 'vitest';
import {DockerUnavailableError} from '../../source/core/errors.ts';
import {parseEngineAddress, resolveDefaultEngine, type EngineAddress} from '../../source/docker/address.ts';
import {DockerEngine} from '../../source/docker/engine.ts';
import {writeDockerContext} from '../helpers/contexts.ts';
import {docker} from '../helpers/dockerd.ts';
import {startSshd, type Sshd} from '../helpers/sshd.ts';
import {createService, startSwarmEngine, type SwarmEngine} from '../helpers/swarm.ts';
import {startTlsDockerd, type TlsDockerd} from '../helpers/tls-dockerd.ts';
import {Scene} from '../helpers/scene.ts';
import {makeHome, scanJson, updock} from '../helpers/updock.ts';

const sandbox = inject('sandbox');
const run = promisify(execFile);

async function workDir(name: string): Promise<string> {
	return mkdtemp(join(sandbox.root, `${name}-`));
}

function address(text: string, options: Parameters<typeof parseEngineAddress>[1] = {}): EngineAddress {
	const parsed = parseEngineAddress(text, options);
	if ('error' in parsed) {
		throw new Error(parsed.error);
	}

	return parsed;
}

async function withEngine<T>(name: string, where: EngineAddress, use: (engine: DockerEngine) => Promise<T>): Promise<T> {
	const engine = new DockerEngine({name, address: where, timeoutMs: 15_000});
	try {
		return await use(engine);
	} finally {
		await engine.close();
	}
}

async function failure(promise: Promise<unknown>): Promise<string> {
	const error = await promise.then(() => undefined, (error: unknown) => error);
	expect(error).toBeInstanceOf(DockerUnavailableError);
	return error instanceof Error ? error.message : '';
}

describe('an engine over TCP with mutual TLS', () => {
	let engine: TlsDockerd;
	beforeAll(async () => {
		engine = await startTlsDockerd(join(await workDir('engines-tls'), 'engine'));
	});
	afterAll(async () => {
		await engine?.stop();
	});

	it('DOCKER_TLS_VERIFY with DOCKER_CERT_PATH lists it; a wrong CA or no client certificate is a TLS sentence', async () => {
		const verified = address(engine.host, {tlsVerify: true, certPath: engine.certPath, origin: 'DOCKER_HOST'});
		expect(await withEngine('local', verified, async docker => [await docker.listContainers(), await docker.imageStore()])).toEqual([[], 'classic']);

		const wrongCa = await failure(withEngine('local', address(engine.host, {tlsVerify: true, certPath: engine.wrongCaCertPath}), async docker => docker.listContainers()));
		expect(wrongCa).toMatch(/^TLS to the Docker engine at tcp:\/\/127\.0\.0\.1:\d+ failed: .*DOCKER_CERT_PATH/);
		const noClientCert = await failure(withEngine('local', address(engine.host, {tlsVerify: true, certPath: engine.noClientCertPath}), async docker => docker.listContainers()));
		expect(noClientCert).toMatch(/TLS|closed the connection/);
		// Plain HTTP to a TLS port.
		const plain = await failure(withEngine('local', address(engine.host), async docker => docker.listContainers()));
		expect(plain).toMatch(/HTTP 400|not HTTP|closed the connection/);
	});

	it('the built updock, with the environment the docker CLI uses', async () => {
		const home = await makeHome(sandbox, {...engine.env});
		const {result, json} = await scanJson(home);
		expect(result.code, result.stderr).toBe(0);
		expect(json.containers).toEqual([]);
	});

	it('a context made by "docker context create" with its TLS material, as the current context', async () => {
		const config = await workDir('engines-context');
		await writeDockerContext(config, 'tls-engine', {host: engine.host, tls: {ca: join(engine.certPath, 'ca.pem'), cert: join(engine.certPath, 'cert.pem'), key: join(engine.certPath, 'key.pem')}, use: true});
		const resolved = resolveDefaultEngine({dockerHost: undefined, dockerContext: undefined, tlsVerify: false, certPath: undefined, dockerConfigDir: config});
		if ('error' in resolved) {
			throw new Error(resolved.error);
		}

		expect(resolved.name).toBe('tls-engine');
		expect(await withEngine(resolved.name, resolved.address, async docker => docker.imageStore())).toBe('classic');
	});
});

describe('an engine over ssh', () => {
	let sshd: Sshd;
	let scene: Scene;
	beforeAll(async () => {
		sshd = await startSshd(await workDir('engines-ssh'), {dockerSocket: sandbox.dockerHost.slice('unix://'.length)});
		scene = await Scene.create(sandbox, 'sshe');
		const reference = scene.ref(sandbox.open.host, 'app');
		await scene.push(reference, {marker: 'ssh-engine'});
		await scene.pull(reference);
		await scene.runContainer('web', reference, {start: false});
	});
	afterAll(async () => {
		await scene?.cleanup();
		await sshd?.stop();
	});

	it('lists the remote engine through "docker system dial-stdio", with the key and known_hosts of HOME', async () => {
		const home = await makeHome(sandbox, {HOME: sshd.home, DOCKER_HOST: sshd.address, SSH_AUTH_SOCK: ''});
		const {result, json} = await scanJson(home);
		expect(result.code, result.stderr).toBe(0);
		expect(json.containers.map(container => container.name)).toContain('sshe-web');
	});

	it('a host key that differs from known_hosts, an unknown host, a refused key: each a sentence, nothing listed', async () => {
		const mismatch = await updock(await makeHome(sandbox, {HOME: sshd.wrongKeyHome, DOCKER_HOST: sshd.address, SSH_AUTH_SOCK: ''}), ['--once', '--json']);
		expect(mismatch.code).toBe(1);
		expect(mismatch.stderr).toMatch(/host key of \[127\.0\.0\.1\]:\d+ differs from the one in .*known_hosts/);

		const strangerHome = await workDir('engines-ssh-stranger');
		await mkdir(join(strangerHome, '.ssh'), {recursive: true});
		await copyFile(sshd.keyPath, join(strangerHome, '.ssh', 'id_ed25519'));
		const unknown = await updock(await makeHome(sandbox, {HOME: strangerHome, DOCKER_HOST: sshd.address, SSH_AUTH_SOCK: ''}), ['--once', '--json']);
		expect(unknown.code).toBe(1);
		expect(unknown.stderr).toMatch(/host key of \[127\.0\.0\.1\]:\d+ is not in .*known_hosts/);

		const otherKeyHome = await workDir('engines-ssh-other-key');
		await mkdir(join(otherKeyHome, '.ssh'), {recursive: true});
		await copyFile(sshd.knownHostsPath, join(otherKeyHome, '.ssh', 'known_hosts'));
		await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(otherKeyHome, '.ssh', 'id_ed25519')]);
		const refused = await updock(await makeHome(sandbox, {HOME: otherKeyHome, DOCKER_HOST: sshd.address, SSH_AUTH_SOCK: ''}), ['--once', '--json']);
		expect(refused.code).toBe(1);
		expect(refused.stderr).toMatch(/root@127\.0\.0\.1 refused every key/);
		expect(`${mismatch.stderr}${unknown.stderr}${refused.stderr}`).not.toMatch(/internal error/i);
	});
});

describe('a Swarm manager', () => {
	let swarm: SwarmEngine;
	let scene: Scene;
	beforeAll(async () => {
		swarm = await startSwarmEngine(await workDir('engines-swarm'));
		scene = await Scene.create(sandbox, 'swrm');
	});
	afterAll(async () => {
		await scene?.cleanup();
		await swarm?.stop();
	});

	it('lists services as rows with their spec image, and leaves their task containers out', async () => {
		const reference = scene.ref(sandbox.open.host, 'svc');
		const digest = await scene.push(reference, {marker: 'swarm-service'});
		const service = await createService(swarm.host, 'api', reference, {replicas: 2, labels: {'updock.enable': 'true'}});
		await docker(swarm.host, ['run', '-d', '--network', 'none', '--name', 'loose', reference]);
		const rows = await withEngine('manager', address(swarm.host), async engine => engine.listContainers());
		const services = rows.filter(row => row.kind === 'service');
		const containers = rows.filter(row => row.kind === 'container');
		expect(services).toEqual([expect.objectContaining({
			host: 'manager',
			id: service.id,
			name: 'api',
			image: reference,
			imageId: digest,
			repoDigests: [`${reference.slice(0, reference.lastIndexOf(':'))}@${digest}`],
			labels: {'updock.enable': 'true'},
			state: 'replicated 2/2',
			service: {mode: 'replicated', replicas: 2, tasks: expect.any(Array)},
			platform: expect.objectContaining({os: 'linux'}),
		})]);
		expect(services[0]!.service!.tasks).toHaveLength(2);
		expect(containers.map(row => row.name)).toEqual(['loose']);
		expect(containers.some(row => services[0]!.service!.tasks.includes(row.id))).toBe(false);
	});
});
