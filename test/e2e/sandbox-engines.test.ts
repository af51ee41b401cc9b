import {existsSync} from 'node:fs';
import {mkdir, mkdtemp, readFile} from 'node:fs/promises';
import {join} from 'node:path';
import {describe, expect, inject, it} from 'vitest';
import {contextDirectoryName, writeDockerContext} from '../helpers/contexts.ts';
import {ImageFactory} from '../helpers/images.ts';
import {links, mountsUnder, processAlive, processesMentioning} from '../helpers/leftovers.ts';
import {must, run} from '../helpers/process.ts';
import {startSshd} from '../helpers/sshd.ts';
import {createService, startSwarmEngine} from '../helpers/swarm.ts';
import {startTlsDockerd} from '../helpers/tls-dockerd.ts';

const sandbox = inject('sandbox');

async function workDir(name: string): Promise<string> {
	return mkdtemp(join(sandbox.root, `${name}-`));
}

/** The docker CLI with an environment of its own (no DOCKER_* from the test process). */
async function cli(args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<{code: number; stdout: string; stderr: string}> {
	const {DOCKER_HOST: _host, DOCKER_CONTEXT: _context, DOCKER_CONFIG: _config, DOCKER_TLS_VERIFY: _verify, DOCKER_CERT_PATH: _certs, ...inherited} = process.env;
	const result = await run('docker', args, {env: {...inherited, ...env}, timeoutMs: 60_000});
	return {code: result.code, stdout: result.stdout.trim(), stderr: result.stderr};
}

// `docker info` exits 0 when it cannot reach the engine; `docker version` does not.
const probe = ['version', '--format', '{{.Server.Version}}'];

async function expectNothingLeft(root: string, pid: number): Promise<void> {
	expect(processAlive(pid)).toBe(false);
	expect(await processesMentioning(root)).toEqual([]);
	expect(await mountsUnder(root)).toEqual([]);
	expect(existsSync(root)).toBe(false);
}

/** The helpers that give the engine tests their other engines, checked with the docker CLI only. */
describe('sandbox engines', () => {
	it('a dockerd over TCP with mutual TLS, and a context for it', async () => {
		const dir = await workDir('tls');
		const engine = await startTlsDockerd(join(dir, 'engine'));
		try {
			const id = await cli(['-H', engine.socketHost, 'info', '--format', '{{.ID}}']);
			expect(id.stdout).not.toBe('');
			const overTls = await cli(['info', '--format', '{{.ID}}'], engine.env);
			expect(overTls).toMatchObject({code: 0, stdout: id.stdout});
			expect(engine.host).toMatch(/^tcp:\/\/127\.0\.0\.1:\d+$/);

			expect(await cli(probe, engine.env)).toMatchObject({code: 0});
			const wrongCa = await cli(probe, {...engine.env, DOCKER_CERT_PATH: engine.wrongCaCertPath});
			expect(wrongCa.code).not.toBe(0);
			expect(wrongCa.stderr).toMatch(/certificate/i);
			const noClientCert = await cli(['-H', engine.host, '--tls', '--tlscacert', join(engine.noClientCertPath, 'ca.pem'), ...probe]);
			expect(noClientCert.code).not.toBe(0);
			expect(noClientCert.stderr).toMatch(/certificate/i);
			const plain = await cli(['-H', engine.host, ...probe]);
			expect(plain.code).not.toBe(0);
			expect(plain.stderr).toMatch(/HTTP request to an HTTPS server/);

			const config = join(dir, 'docker-config');
			const tls = {ca: join(engine.certPath, 'ca.pem'), cert: join(engine.certPath, 'cert.pem'), key: join(engine.certPath, 'key.pem')};
			const context = await writeDockerContext(config, 'tls-engine', {host: engine.host, tls, use: true});
			const hash = contextDirectoryName('tls-engine');
			expect(hash).toMatch(/^[\da-f]{64}$/);
			expect(context.metaPath).toBe(join(config, 'contexts', 'meta', hash, 'meta.json'));
			const meta: unknown = JSON.parse(await readFile(context.metaPath, 'utf8'));
			expect(meta).toMatchObject({Name: 'tls-engine', Endpoints: {docker: {Host: engine.host, SkipTLSVerify: false}}});
			for (const file of ['ca', 'cert', 'key']) {
				expect(await readFile(join(context.tlsDir, 'docker', `${file}.pem`), 'utf8')).toBe(await readFile(join(engine.certPath, `${file}.pem`), 'utf8'));
			}

			const cliConfig: unknown = JSON.parse(await readFile(join(config, 'config.json'), 'utf8'));
			expect(cliConfig).toMatchObject({currentContext: 'tls-engine'});
			// The current context alone, with no DOCKER_HOST, reaches the engine over TLS.
			expect(await cli(['info', '--format', '{{.ID}}'], {DOCKER_CONFIG: config})).toMatchObject({code: 0, stdout: id.stdout});

			// dockerd sometimes leaves netns and shm mounts under its exec-root: stop() must take them too.
			const leftover = join(engine.root, 'engine', 'exec', 'leftover');
			await mkdir(leftover, {recursive: true});
			await must('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'updock-leftover', leftover]);
			expect(await mountsUnder(engine.root)).toContain(leftover);
		} finally {
			await engine.stop();
		}

		await expectNothingLeft(engine.root, engine.pid);
	});

	it('an sshd whose docker reaches the sandbox engine, with a right and a wrong known_hosts', async () => {
		const dir = await workDir('ssh');
		const socket = sandbox.dockerHost.replace(/^unix:\/\//, '');
		const sshd = await startSshd(join(dir, 'sshd'), {dockerSocket: socket});
		try {
			const engineId = (await cli(['-H', sandbox.dockerHost, 'info', '--format', '{{.ID}}'])).stdout;
			expect(engineId).not.toBe('');
			expect(sshd.address).toBe(`ssh://root@127.0.0.1:${sshd.port}`);
			expect(await readFile(sshd.knownHostsPath, 'utf8')).toMatch(new RegExp(`^\\[127\\.0\\.0\\.1\\]:${sshd.port} ssh-ed25519 `));
			expect(sshd.keyPath).toBe(join(sshd.home, '.ssh', 'id_ed25519'));

			// What dockerode and the docker CLI run over the connection.
			const dial = await run('ssh', ['-p', String(sshd.port), 'root@127.0.0.1', 'docker', 'system', 'dial-stdio'], {
				env: {...process.env, ...sshd.cliEnv},
				input: 'GET /_ping HTTP/1.1\r\nHost: docker\r\nConnection: close\r\n\r\n',
				timeoutMs: 30_000,
			});
			expect(dial.stdout).toMatch(/^HTTP\/1\.1 200 OK/);

			expect(await cli(['-H', sshd.address, 'info', '--format', '{{.ID}}'], sshd.cliEnv)).toMatchObject({code: 0, stdout: engineId});

			expect(await cli(['-H', sshd.address, ...probe], sshd.cliEnv)).toMatchObject({code: 0});
			const wrong = await cli(['-H', sshd.address, ...probe], {...sshd.cliEnv, HOME: sshd.wrongKeyHome});
			expect(wrong.code).not.toBe(0);
			expect(wrong.stderr).toMatch(/REMOTE HOST IDENTIFICATION HAS CHANGED|Host key verification failed/);

			const config = join(dir, 'docker-config');
			await writeDockerContext(config, 'ssh-engine', {host: sshd.address});
			expect(await cli(['--context', 'ssh-engine', 'info', '--format', '{{.ID}}'], {...sshd.cliEnv, DOCKER_CONFIG: config})).toMatchObject({code: 0, stdout: engineId});
		} finally {
			await sshd.stop();
		}

		await expectNothingLeft(sshd.root, sshd.pid);
	});

	it('a swarm engine of its own, with services from a sandbox registry', async () => {
		const dir = await workDir('swarm');
		const images = new ImageFactory(dir);
		const reference = `${sandbox.open.host}/sandbox-engines/service:1`;
		const digest = await images.push(reference, {marker: 'sandbox-engines-service-1'});
		const swarm = await startSwarmEngine(join(dir, 'swarm'));
		let bridgeIndex: number | undefined;
		try {
			bridgeIndex = [...(await links())].find(([, name]) => name === 'docker_gwbridge')?.[0];
			expect(bridgeIndex).toBeDefined();
			expect(await cli(['-H', swarm.host, 'info', '--format', '{{.Swarm.LocalNodeState}} {{.Swarm.ControlAvailable}}'])).toMatchObject({code: 0, stdout: 'active true'});

			const replicated = await createService(swarm.host, 'replicated', reference, {replicas: 2, containerLabels: {'org.updock.test': 'replicated'}});
			expect(replicated.specImage).toBe(`${reference}@${digest}`);
			const global = await createService(swarm.host, 'global', `${sandbox.open.host}/sandbox-engines/service@${digest}`, {mode: 'global'});
			expect(global.specImage).toBe(`${sandbox.open.host}/sandbox-engines/service@${digest}`);
			const unresolved = await createService(swarm.host, 'unresolved', reference, {resolveImage: false, labels: {'org.updock.enable': 'false'}});
			expect(unresolved.specImage).toBe(reference);

			const running = await cli(['-H', swarm.host, 'ps', '--format', '{{.Label "com.docker.swarm.service.name"}} {{.Label "org.updock.test"}}']);
			expect(running.stdout.split('\n').sort()).toEqual(['global ', 'replicated replicated', 'replicated replicated', 'unresolved ']);

			await unresolved.remove();
			expect((await cli(['-H', swarm.host, 'ps', '-aq', '--filter', 'label=com.docker.swarm.service.name=unresolved'])).stdout).toBe('');

			await expect(createService(swarm.host, 'no-such-command', reference, {command: ['sleep', '3600'], timeoutMs: 30_000})).rejects.toThrow(/"sleep": executable file not found/);
		} finally {
			await swarm.stop();
		}

		await expectNothingLeft(swarm.root, swarm.pid);
		// By index: another run's swarm may have made a bridge of the same name since.
		expect((await links()).has(bridgeIndex ?? -1)).toBe(false);
		expect(await must('docker', ['-H', sandbox.dockerHost, 'info', '--format', '{{.Swarm.LocalNodeState}}'])).toBe('inactive\n');
	});
});
