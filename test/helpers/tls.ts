import {mkdir, writeFile, copyFile} from 'node:fs/promises';
import {join} from 'node:path';
import {freePort, must} from './process.ts';
import {startRegistry, type RunningRegistry} from './registry.ts';

async function openssl(args: readonly string[]): Promise<void> {
	await must('openssl', args);
}

/** A CA, and a certificate signed by it for `subject` with the given extensions. */
export async function makeCa(dir: string, name: string): Promise<{cert: string; key: string}> {
	const cert = join(dir, `${name}.crt`);
	const key = join(dir, `${name}.key`);
	await openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '2', '-subj', `/CN=${name}`]);
	return {cert, key};
}

/** A key and a certificate for `/CN=name` signed by `ca`, with `extensions` (an openssl extfile). */
export async function signed(dir: string, name: string, ca: {cert: string; key: string}, extensions: string): Promise<{cert: string; key: string}> {
	const key = join(dir, `${name}.key`);
	const csr = join(dir, `${name}.csr`);
	const cert = join(dir, `${name}.crt`);
	const ext = join(dir, `${name}.ext`);
	await writeFile(ext, extensions);
	await openssl(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', csr, '-subj', `/CN=${name}`]);
	await openssl(['x509', '-req', '-in', csr, '-CA', ca.cert, '-CAkey', ca.key, '-CAcreateserial', '-out', cert, '-days', '2', '-extfile', ext]);
	return {cert, key};
}

export interface TlsRegistry {
	readonly host: string;
	stop(): Promise<void>;
	/** Restart on the same port, now requiring a client certificate signed by the CA. */
	restartRequiringClientCerts(): Promise<void>;
}

/**
 * A distribution registry over TLS on 127.0.0.1 with a CA made here, and three Docker-style certs.d
 * trees for it under `dir`: `certs.d` (CA and client pair), `ca-only-certs.d`, `wrong-certs.d` (another CA).
 */
export async function startTlsRegistry(dir: string): Promise<TlsRegistry> {
	const pki = join(dir, 'pki');
	await mkdir(pki, {recursive: true});
	const ca = await makeCa(pki, 'updock-test-ca');
	const other = await makeCa(pki, 'updock-other-ca');
	const server = await signed(pki, 'server', ca, 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n');
	const client = await signed(pki, 'client', ca, 'extendedKeyUsage=clientAuth\n');
	const port = await freePort();
	const host = `127.0.0.1:${port}`;
	const trees: Array<[string, Array<[string, string]>]> = [
		['certs.d', [[ca.cert, 'ca.crt'], [client.cert, 'client.cert'], [client.key, 'client.key']]],
		['ca-only-certs.d', [[ca.cert, 'ca.crt']]],
		['wrong-certs.d', [[other.cert, 'ca.crt']]],
	];
	for (const [tree, files] of trees) {
		const target = join(dir, tree, host);
		await mkdir(target, {recursive: true});
		for (const [from, to] of files) {
			await copyFile(from, join(target, to));
		}
	}

	const root = join(dir, 'registry');
	let running: RunningRegistry = await startRegistry(root, {kind: 'none'}, {port, tls: {certificate: server.cert, key: server.key}});
	return {
		host,
		async stop() {
			await running.stop();
		},
		async restartRequiringClientCerts() {
			await running.stop();
			running = await startRegistry(root, {kind: 'none'}, {port, tls: {certificate: server.cert, key: server.key, clientCas: [ca.cert]}});
		},
	};
}
