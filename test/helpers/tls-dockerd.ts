import {copyFile, mkdir, rm} from 'node:fs/promises';
import {join} from 'node:path';
import {startDockerd} from './dockerd.ts';
import {freePort, run, waitFor} from './process.ts';
import {makeCa, signed} from './tls.ts';

/** A second engine reached over TCP with mutual TLS, as `DOCKER_HOST=tcp://… DOCKER_TLS_VERIFY=1` reaches it. */
export interface TlsDockerd {
	/** `tcp://127.0.0.1:PORT`. */
	readonly host: string;
	/** A directory with `ca.pem`, `cert.pem` and `key.pem` (the client pair), as `DOCKER_CERT_PATH` expects. */
	readonly certPath: string;
	/** Like `certPath`, but its `ca.pem` is another CA, so the server certificate does not verify. */
	readonly wrongCaCertPath: string;
	/** Like `certPath`, but without `cert.pem` and `key.pem`: the engine refuses the handshake. */
	readonly noClientCertPath: string;
	/** The engine's own unix socket, for setting up containers with the docker CLI without TLS. */
	readonly socket: string;
	/** `unix://` + `socket`. */
	readonly socketHost: string;
	/** The dockerd process. */
	readonly pid: number;
	/** The directory given to `startTlsDockerd`; removed by `stop()`. */
	readonly root: string;
	/** Environment for the docker CLI (or updock) to reach `host` over TLS. */
	readonly env: {readonly DOCKER_HOST: string; readonly DOCKER_TLS_VERIFY: '1'; readonly DOCKER_CERT_PATH: string};
	/** Remove its containers, stop dockerd and wait for it to exit, unmount what it left, remove `root`. */
	stop(): Promise<void>;
}

/**
 * Start a private dockerd (see `startDockerd`) that also listens on `tcp://127.0.0.1:<free port>` with
 * `--tlsverify`: a CA made here with openssl, a server certificate for 127.0.0.1 and localhost, a client
 * certificate. Everything lives under `dir`.
 */
export async function startTlsDockerd(dir: string): Promise<TlsDockerd> {
	const pki = join(dir, 'pki');
	await mkdir(pki, {recursive: true});
	const ca = await makeCa(pki, 'updock-engine-ca');
	const other = await makeCa(pki, 'updock-engine-other-ca');
	const server = await signed(pki, 'engine-server', ca, 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n');
	const client = await signed(pki, 'engine-client', ca, 'extendedKeyUsage=clientAuth\n');

	const trees: Array<[string, Array<[string, string]>]> = [
		['client-certs', [[ca.cert, 'ca.pem'], [client.cert, 'cert.pem'], [client.key, 'key.pem']]],
		['wrong-ca-certs', [[other.cert, 'ca.pem'], [client.cert, 'cert.pem'], [client.key, 'key.pem']]],
		['no-client-certs', [[ca.cert, 'ca.pem']]],
	];
	for (const [tree, files] of trees) {
		await mkdir(join(dir, tree), {recursive: true});
		for (const [from, to] of files) {
			await copyFile(from, join(dir, tree, to));
		}
	}

	const port = await freePort();
	const host = `tcp://127.0.0.1:${port}`;
	const certPath = join(dir, 'client-certs');
	const engine = await startDockerd(join(dir, 'engine'), {extraArgs: [
		'-H', host,
		'--tlsverify',
		'--tlscacert', ca.cert,
		'--tlscert', server.cert,
		'--tlskey', server.key,
	]});
	const env = {DOCKER_HOST: host, DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: certPath} as const;
	const stop = async (): Promise<void> => {
		await engine.stop();
		await rm(dir, {recursive: true, force: true, maxRetries: 3});
	};

	try {
		// The unix socket answering does not prove the TLS listener is up, nor that the certificates fit.
		let last = '';
		await waitFor(`the TLS engine at ${host} to answer \`docker version\``, async () => {
			const result = await run('docker', ['version', '--format', '{{.Server.Version}}'], {env: {...process.env, ...env}, timeoutMs: 20_000});
			last = result.stderr;
			return result.code === 0;
		}, 20_000, 100).catch((error: unknown) => {
			throw new Error(`${String(error)}\n${last}`);
		});
	} catch (error) {
		await stop();
		throw error;
	}

	return {
		host,
		certPath,
		wrongCaCertPath: join(dir, 'wrong-ca-certs'),
		noClientCertPath: join(dir, 'no-client-certs'),
		socket: engine.socket,
		socketHost: engine.host,
		pid: engine.pid,
		root: dir,
		env,
		stop,
	};
}
