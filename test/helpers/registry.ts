import type {ChildProcess} from 'node:child_process';
import {randomUUID} from 'node:crypto';
import {mkdir, readFile, rm, writeFile} from 'node:fs/promises';
import {join} from 'node:path';
import {connect} from 'node:net';
import {freePort, startLogged, stopProcess, waitFor} from './process.ts';

export type RegistryAuthConfig =
	| {readonly kind: 'none'}
	| {readonly kind: 'htpasswd'; readonly htpasswdPath: string}
	| {readonly kind: 'token'; readonly realm: string; readonly service: string; readonly issuer: string; readonly certPath: string};

export interface RunningRegistry {
	/** `127.0.0.1:PORT`, the registry part of image references. */
	readonly host: string;
	readonly logPath: string;
	stop(): Promise<void>;
}

export interface AccessEntry {
	readonly method: string;
	readonly path: string;
	readonly status: number;
	readonly userAgent: string;
}

export interface RegistryTls {
	readonly certificate: string;
	readonly key: string;
	/** CAs of the client certificates it requires; none means no client certificate is asked for. */
	readonly clientCas?: readonly string[];
}

/** Start the distribution registry (Debian docker-registry) on loopback, on `port` or a free one. */
export async function startRegistry(root: string, auth: RegistryAuthConfig, options: {port?: number; tls?: RegistryTls} = {}): Promise<RunningRegistry> {
	await mkdir(root, {recursive: true});
	const port = options.port ?? await freePort();
	const host = `127.0.0.1:${port}`;
	const authYaml = auth.kind === 'htpasswd'
		? `auth:\n  htpasswd:\n    realm: updock-sandbox\n    path: ${auth.htpasswdPath}\n`
		: auth.kind === 'token'
			? `auth:\n  token:\n    realm: ${auth.realm}\n    service: ${auth.service}\n    issuer: ${auth.issuer}\n    rootcertbundle: ${auth.certPath}\n`
			: '';
	const configPath = join(root, 'config.yml');
	await writeFile(configPath, `version: 0.1
log:
  level: error
  accesslog:
    disabled: false
storage:
  filesystem:
    rootdirectory: ${join(root, 'data')}
  delete:
    enabled: true
  cache:
    blobdescriptor: inmemory
http:
  addr: ${host}
${options.tls === undefined ? '' : `  tls:
    certificate: ${options.tls.certificate}
    key: ${options.tls.key}
${options.tls.clientCas === undefined ? '' : `    clientcas:\n${options.tls.clientCas.map(ca => `      - ${ca}`).join('\n')}\n`}`}${authYaml}`);
	const logPath = join(root, 'registry.log');
	const child: ChildProcess = startLogged('docker-registry', ['serve', configPath], logPath);
	let exited = false;
	child.on('exit', () => {
		exited = true;
	});
	await waitFor(`the registry on ${host}`, async () => {
		if (exited) {
			throw new Error(`docker-registry exited while starting:\n${await readFile(logPath, 'utf8').catch(() => '')}`);
		}

		return listening(port);
	}, 30_000);
	return {
		host,
		logPath,
		async stop() {
			await stopProcess(child, 10_000);
		},
	};
}

const accessLine = /"([A-Z]+) (\S+) HTTP\/[\d.]+" (\d{3}) \S+ "[^"]*" "((?:[^"\\]|\\.)*)"/;

/** Every request in a registry's access log (Apache combined format on its stdout). */
export async function accessLog(logPath: string): Promise<AccessEntry[]> {
	const text = await readFile(logPath, 'utf8');
	const entries: AccessEntry[] = [];
	for (const line of text.split('\n')) {
		const match = accessLine.exec(line);
		if (match !== null) {
			entries.push({method: match[1]!, path: match[2]!, status: Number(match[3]), userAgent: match[4]!});
		}
	}

	return entries;
}

/**
 * The requests a registry logged while `action` ran. A sentinel request sent afterwards and waited for
 * in the log makes sure every earlier line has been written.
 */
export async function requestsDuring<T>(registry: Pick<RunningRegistry, 'host' | 'logPath'>, action: () => Promise<T>): Promise<{result: T; requests: AccessEntry[]}> {
	const before = (await accessLog(registry.logPath)).length;
	const result = await action();
	const sentinel = `/v2/_sentinel/${randomUUID()}/tags/list`;
	await (await fetch(`http://${registry.host}${sentinel}`, {headers: {'user-agent': 'sandbox-sentinel'}})).arrayBuffer();
	let entries: AccessEntry[] = [];
	await waitFor('the sentinel request in the access log', async () => {
		entries = await accessLog(registry.logPath);
		return entries.some(entry => entry.path === sentinel);
	}, 10_000, 20);
	return {result, requests: entries.slice(before).filter(entry => entry.path !== sentinel)};
}

/** Remove a registry's data directory (after stop). */
export async function removeRegistryData(root: string): Promise<void> {
	await rm(root, {recursive: true, force: true});
}

/** Whether something accepts TCP connections on 127.0.0.1:port (protocol-agnostic: HTTP or TLS). */
async function listening(port: number): Promise<boolean> {
	return new Promise(resolve => {
		const socket = connect({host: '127.0.0.1', port});
		socket.once('connect', () => {
			socket.destroy();
			resolve(true);
		});
		socket.once('error', () => {
			resolve(false);
		});
	});
}
