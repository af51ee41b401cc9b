import {mkdtemp, readFile, rm, writeFile} from 'node:fs/promises';
import {join} from 'node:path';
import bcrypt from 'bcryptjs';
import {startDockerd, type Dockerd} from './dockerd.ts';
import {ensurePackages} from './packages.ts';
import {must} from './process.ts';
import {startRegistry, type RunningRegistry} from './registry.ts';
import {startTokenServer, type TokenServer} from './token-server.ts';

export interface RegistryInfo {
	readonly host: string;
	readonly logPath: string;
}

export interface AuthRegistryInfo extends RegistryInfo {
	readonly username: string;
	readonly password: string;
}

/** What tests get from the sandbox: plain data, passed from the global setup to the test workers. */
export interface SandboxInfo {
	readonly root: string;
	readonly dockerHost: string;
	/** An open registry. */
	readonly open: RegistryInfo;
	/** A registry behind htpasswd Basic auth. */
	readonly basic: AuthRegistryInfo;
	/** A registry behind Bearer tokens from `tokenServer` (the Docker Hub / GHCR flow). */
	readonly token: AuthRegistryInfo;
	readonly tokenServer: string;
}

export interface Sandbox {
	readonly info: SandboxInfo;
	stop(): Promise<void>;
}

const username = 'sandbox-user';

/**
 * A real Docker engine and three real registries on loopback, all in one temporary directory, started
 * by the test run itself. Fails loudly (never skips) when any part cannot start.
 */
export async function startSandbox(): Promise<Sandbox> {
	await ensurePackages();
	const root = await mkdtemp('/tmp/updock-sb-');
	const stops: Array<() => Promise<void>> = [];
	const stop = async (): Promise<void> => {
		for (const step of stops.reverse()) {
			await step().catch((error: unknown) => {
				process.stderr.write(`sandbox: cleanup step failed: ${String(error)}\n`);
			});
		}

		await rm(root, {recursive: true, force: true});
	};

	try {
		const password = `pw-${Math.random().toString(36).slice(2)}`;
		const dockerd: Dockerd = await startDockerd(join(root, 'engine'));
		stops.push(async () => dockerd.stop());

		const open: RunningRegistry = await startRegistry(join(root, 'open'), {kind: 'none'});
		stops.push(async () => open.stop());

		const htpasswdPath = join(root, 'htpasswd');
		await writeFile(htpasswdPath, `${username}:${bcrypt.hashSync(password, 6)}\n`);
		const basic = await startRegistry(join(root, 'basic'), {kind: 'htpasswd', htpasswdPath});
		stops.push(async () => basic.stop());

		const keyPath = join(root, 'token.key');
		const certPath = join(root, 'token.crt');
		await must('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', keyPath, '-out', certPath, '-days', '2', '-subj', '/CN=updock-sandbox-token']);
		const tokenServer: TokenServer = await startTokenServer({keyPem: await readFile(keyPath, 'utf8'), certPem: await readFile(certPath, 'utf8'), users: {[username]: password}});
		stops.push(async () => tokenServer.close());
		const token = await startRegistry(join(root, 'token'), {kind: 'token', realm: `${tokenServer.url}/token`, service: tokenServer.service, issuer: tokenServer.issuer, certPath});
		stops.push(async () => token.stop());

		return {
			info: {
				root,
				dockerHost: dockerd.host,
				open: {host: open.host, logPath: open.logPath},
				basic: {host: basic.host, logPath: basic.logPath, username, password},
				token: {host: token.host, logPath: token.logPath, username, password},
				tokenServer: tokenServer.url,
			},
			stop,
		};
	} catch (error) {
		await stop();
		throw error;
	}
}
