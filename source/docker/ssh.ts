/**
 * Reaching an engine over ssh as the docker CLI does: one ssh connection per engine, and on it one
 * `docker system dial-stdio` session per HTTP connection. The host key is checked against known_hosts;
 * keys come from ssh-agent and ~/.ssh. Loaded only for ssh:// engines.
 */
import {constants} from 'node:fs';
import {open} from 'node:fs/promises';
import type {ClientRequestArgs} from 'node:http';
import {userInfo} from 'node:os';
import {join} from 'node:path';
import {Duplex} from 'node:stream';
import ssh2 from 'ssh2';
import type {AnyAuthMethod, Client as SshClient} from 'ssh2';
import type {EngineAddress} from './address.ts';
import {SshFailure} from './failures.ts';
import {checkHostKey, knownHostsName, type HostKeyVerdict} from './known-hosts.ts';

const {Client, utils} = ssh2;
// As `require` gives it: an ESM import of node:http loads the undici bundled in Node (see engine-api.ts).
const {Agent} = process.getBuiltinModule('node:http');
const keyFiles = ['id_ed25519', 'id_ecdsa', 'id_rsa'];
const fileLimit = 4 * 1024 * 1024;
/** What the remote prints when dial-stdio fails: a line or two is enough. */
const stderrLimit = 4096;

type SshAddress = Extract<EngineAddress, {kind: 'ssh'}>;

export interface SshOptions {
	readonly timeoutMs: number;
	/** Where `.ssh/` is. */
	readonly home: string;
	/** SSH_AUTH_SOCK and USER are read from it. */
	readonly env: NodeJS.ProcessEnv;
	readonly maxSockets: number;
}

/** An HTTP agent whose connections are `docker system dial-stdio` sessions on one ssh connection. */
export class SshAgent extends Agent {
	readonly #address: SshAddress;
	readonly #options: SshOptions;
	#client: Promise<SshClient> | undefined;
	#destroyed = false;

	constructor(address: SshAddress, options: SshOptions) {
		// sshd allows 10 sessions per connection by default (MaxSessions).
		super({keepAlive: true, maxSockets: Math.min(options.maxSockets, 8)});
		this.#address = address;
		this.#options = options;
	}

	override createConnection(_options: ClientRequestArgs, callback?: (error: Error | null, stream: Duplex) => void): Duplex | null | undefined {
		const done = callback ?? (() => undefined);
		this.#session().then(channel => {
			done(null, channel);
		}, (error: unknown) => {
			// A connection that fails as soon as the request holds it: the request reports this error.
			// Silent: it must not echo the request back as if it were the answer.
			const failed = new Duplex({
				read() {
					// Never answers.
				},
				write(_chunk, _encoding, callback) {
					callback();
				},
			});
			done(null, failed);
			setImmediate(() => failed.destroy(error instanceof Error ? error : new Error(String(error))));
		});
		return undefined;
	}

	/** Sessions are not sockets: no TCP keep-alive or unref to set on them. */
	override keepSocketAlive(): boolean {
		return true;
	}

	override reuseSocket(): void {
		// Nothing to re-reference: the ssh connection holds the process while it is open.
	}

	override destroy(): void {
		this.#destroyed = true;
		super.destroy();
		const client = this.#client;
		this.#client = undefined;
		void client?.then(connected => connected.end(), () => undefined);
	}

	async #session(): Promise<Duplex> {
		const client = await this.#connected();
		return new Promise((resolve, reject) => {
			client.exec('docker system dial-stdio', (error, channel) => {
				if (error) {
					reject(new SshFailure('remote', `the remote refused to run "docker system dial-stdio": ${error.message}.`, {cause: error}));
					return;
				}

				let stderr = '';
				channel.stderr.on('data', (chunk: Buffer) => {
					if (stderr.length < stderrLimit) {
						stderr += chunk.toString('utf8').slice(0, stderrLimit - stderr.length);
					}
				});
				channel.on('exit', (code: number | null) => {
					if (code !== 0 && code !== null) {
						const said = stderr.trim();
						// The HTTP request on this session fails with this, rather than a bare "socket hang up".
						channel.emit('error', new SshFailure('remote', `"docker system dial-stdio" on ${this.#address.host} exited with status ${code}${said === '' ? '' : `: ${said}`}. Is the docker CLI installed there, and can ${this.#address.user ?? 'that user'} reach its engine?`));
						channel.destroy();
					}
				});
				resolve(channel);
			});
		});
	}

	async #connected(): Promise<SshClient> {
		if (this.#destroyed) {
			throw new SshFailure('remote', 'the connection was closed.');
		}

		this.#client ??= this.#connect();
		const pending = this.#client;
		pending.catch(() => {
			if (this.#client === pending) {
				this.#client = undefined;
			}
		});
		return pending;
	}

	async #connect(): Promise<SshClient> {
		const {host, port} = this.#address;
		const username = this.#address.user ?? (this.#options.env['USER'] || userInfo().username);
		const home = this.#options.home;
		const knownHosts = await Promise.all([join(home, '.ssh', 'known_hosts'), '/etc/ssh/ssh_known_hosts'].map(async path => readSmall(path)));
		const auth = await authMethods(username, home, this.#options.env['SSH_AUTH_SOCK']);
		if (auth.length === 0) {
			throw new SshFailure('no-key', `updock has no key to log in to ${username}@${host} with: start ssh-agent (SSH_AUTH_SOCK) with your key, or put it in ${join(home, '.ssh', 'id_ed25519')} (without a passphrase).`);
		}

		let verdict: HostKeyVerdict | undefined;
		const client = new Client();
		return new Promise<SshClient>((resolve, reject) => {
			let ready = false;
			client.on('ready', () => {
				ready = true;
				resolve(client);
			});
			client.on('error', (error: Error & {level?: string}) => {
				if (ready) {
					return; // A live connection failing shows in its sessions.
				}

				reject(this.#explain(error, verdict, username));
			});
			client.on('close', () => {
				if (this.#client !== undefined) {
					void this.#client.then(current => {
						if (current === client) {
							this.#client = undefined;
						}
					}, () => undefined);
				}
			});
			client.connect({
				host,
				port,
				username,
				readyTimeout: this.#options.timeoutMs,
				keepaliveInterval: 30_000,
				authHandler: auth,
				hostVerifier: (key: Buffer) => {
					verdict = checkHostKey(knownHosts.filter(text => text !== undefined), host, port, key);
					return verdict === 'known';
				},
			});
		});
	}

	#explain(error: Error & {level?: string}, verdict: HostKeyVerdict | undefined, username: string): Error {
		const {host, port} = this.#address;
		const name = knownHostsName(host, port);
		const knownHostsPath = join(this.#options.home, '.ssh', 'known_hosts');
		if (verdict === 'unknown') {
			return new SshFailure('host-unknown', `the host key of ${name} is not in ${knownHostsPath}. Check it and add it (connect once with "ssh -p ${port} ${username}@${host}", or "ssh-keyscan -p ${port} ${host} >> ${knownHostsPath}" after checking the fingerprint).`, {cause: error});
		}

		if (verdict === 'mismatch') {
			return new SshFailure('host-mismatch', `the host key of ${name} differs from the one in ${knownHostsPath}: someone may be intercepting the connection, or the host was reinstalled. Check with its administrator before changing known_hosts.`, {cause: error});
		}

		if (verdict === 'revoked') {
			return new SshFailure('host-revoked', `the host key of ${name} is marked @revoked in known_hosts.`, {cause: error});
		}

		if (error.level === 'client-authentication') {
			return new SshFailure('auth', `${username}@${host} refused every key updock offered (ssh-agent and ~/.ssh/${keyFiles.join(', ~/.ssh/')}). Add your public key to ~/.ssh/authorized_keys there, or load the right key into ssh-agent.`, {cause: error});
		}

		if (error.level === 'client-timeout') {
			return new SshFailure('remote', `${host}:${port} did not complete the ssh handshake within ${this.#options.timeoutMs} ms. Is it an ssh server?`, {cause: error});
		}

		if (error.level === 'protocol' || error.level === 'handshake') {
			return new SshFailure('remote', `${host}:${port} did not speak ssh as expected: ${error.message}.`, {cause: error});
		}

		return error;
	}
}

/** ssh-agent first, then the usual key files that parse without a passphrase. */
async function authMethods(username: string, home: string, agent: string | undefined): Promise<AnyAuthMethod[]> {
	const methods: AnyAuthMethod[] = [];
	if (agent !== undefined && agent !== '') {
		methods.push({type: 'agent', username, agent});
	}

	for (const file of keyFiles) {
		const text = await readSmall(join(home, '.ssh', file));
		if (text === undefined) {
			continue;
		}

		const parsed = utils.parseKey(text);
		// An encrypted key cannot be used without its passphrase: ssh-agent is the way for those.
		if (!(parsed instanceof Error)) {
			methods.push({type: 'publickey', username, key: text});
		}
	}

	return methods;
}

/** A small text file; undefined when it is missing, unreadable, not a regular file or too big. */
async function readSmall(path: string): Promise<string | undefined> {
	let handle;
	try {
		// Non-blocking: a FIFO at this path must not hang the connection.
		handle = await open(path, constants.O_RDONLY | constants.O_NONBLOCK);
	} catch {
		return undefined;
	}

	try {
		const stat = await handle.stat();
		if (!stat.isFile() || stat.size > fileLimit) {
			return undefined;
		}

		return await handle.readFile('utf8');
	} catch {
		return undefined;
	} finally {
		await handle.close();
	}
}
