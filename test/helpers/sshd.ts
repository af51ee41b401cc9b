import type {ChildProcess} from 'node:child_process';
import {chmod, copyFile, mkdir, readFile, readdir, rm, writeFile} from 'node:fs/promises';
import {connect} from 'node:net';
import {join} from 'node:path';
import {processAlive} from './leftovers.ts';
import {freePort, must, startLogged, stopProcess, waitFor} from './process.ts';

const sshdBinary = '/usr/sbin/sshd';

/** An sshd on loopback whose `docker` command talks to one sandbox engine: the `ssh://` way to an engine. */
export interface Sshd {
	/** `ssh://root@127.0.0.1:PORT`, for `DOCKER_HOST` or `docker -H`. */
	readonly address: string;
	readonly port: number;
	/**
	 * A client HOME with `.ssh/id_ed25519` (no passphrase) and `.ssh/known_hosts` holding the right
	 * host key for `[127.0.0.1]:PORT`. Set `HOME` to it for updock.
	 */
	readonly home: string;
	readonly knownHostsPath: string;
	readonly keyPath: string;
	/** Like `home`, with the same client key, but its known_hosts names another key for this host. */
	readonly wrongKeyHome: string;
	readonly wrongKnownHostsPath: string;
	/**
	 * A directory with an `ssh` wrapper that takes its key and known_hosts from `$HOME/.ssh`: the
	 * OpenSSH client itself reads `~` from the password database and ignores `HOME`. Put it first in
	 * PATH for the docker CLI (`docker -H ssh://…` runs `ssh`).
	 */
	readonly binDir: string;
	/** Environment for the docker CLI to reach `address` with `home`: `HOME` and `PATH` (with `binDir`). */
	readonly cliEnv: {readonly HOME: string; readonly PATH: string};
	/** The listening sshd process. */
	readonly pid: number;
	readonly logPath: string;
	/** The directory given to `startSshd`; removed by `stop()`. */
	readonly root: string;
	/** End the sessions it forked, stop sshd and wait for both, remove `root`. */
	stop(): Promise<void>;
}

export interface SshdOptions {
	/** The unix socket of the engine that `docker` run over this ssh should reach. */
	readonly dockerSocket: string;
}

/** The `type base64` part of an OpenSSH public key file. */
async function publicKey(path: string): Promise<string> {
	const [type, key] = (await readFile(path, 'utf8')).trim().split(/\s+/);
	if (type === undefined || key === undefined) {
		throw new Error(`${path} is not an OpenSSH public key`);
	}

	return `${type} ${key}`;
}

/** A new ed25519 key pair without a passphrase at `path` and `path.pub`. */
async function keyPair(path: string, comment: string): Promise<void> {
	await must('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', comment, '-f', path]);
}

/** Resolves true once something on `port` speaks SSH (its banner). */
async function answersSsh(port: number): Promise<boolean> {
	return new Promise(resolve => {
		const socket = connect({host: '127.0.0.1', port});
		let banner = '';
		const done = (ok: boolean): void => {
			socket.destroy();
			resolve(ok);
		};

		socket.setTimeout(1000, () => done(false));
		socket.on('error', () => done(false));
		socket.on('data', chunk => {
			banner += chunk.toString('latin1');
			if (banner.includes('\n') || banner.length > 256) {
				done(banner.startsWith('SSH-2.0-'));
			}
		});
		socket.on('end', () => done(false));
	});
}

/** Pids whose parent is `pid` (sshd forks one child per connection, and does not end them on SIGTERM). */
async function childrenOf(pid: number): Promise<number[]> {
	const children: number[] = [];
	for (const entry of await readdir('/proc')) {
		if (!/^\d+$/.test(entry)) {
			continue;
		}

		const stat = await readFile(`/proc/${entry}/stat`, 'utf8').catch(() => '');
		// The command name in parentheses may contain spaces: the fields after it are fixed.
		const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
		if (Number(fields[1]) === pid) {
			children.push(Number(entry));
		}
	}

	return children;
}

/**
 * Start `/usr/sbin/sshd -D -e` as root on `127.0.0.1:<free port>` with its own config, host key and
 * authorized_keys under `dir`; public-key login for root only. `SetEnv DOCKER_HOST=unix://<dockerSocket>`
 * makes `ssh … docker system dial-stdio` (what the docker CLI and dockerode run) reach that engine.
 */
export async function startSshd(dir: string, options: SshdOptions): Promise<Sshd> {
	if (process.getuid?.() !== 0) {
		throw new Error('The test sshd logs in as root and needs to run as root.');
	}

	await mkdir(dir, {recursive: true});
	// sshd refuses to start without its privilege separation directory; Debian's unit makes it at boot.
	await mkdir('/run/sshd', {recursive: true, mode: 0o755});

	const hostKey = join(dir, 'ssh_host_ed25519_key');
	const otherHostKey = join(dir, 'other_host_ed25519_key');
	await keyPair(hostKey, 'updock-sandbox-sshd');
	await keyPair(otherHostKey, 'updock-sandbox-other-host');

	const home = join(dir, 'home');
	const wrongKeyHome = join(dir, 'wrong-key-home');
	await mkdir(join(home, '.ssh'), {recursive: true, mode: 0o700});
	await mkdir(join(wrongKeyHome, '.ssh'), {recursive: true, mode: 0o700});
	const keyPath = join(home, '.ssh', 'id_ed25519');
	await keyPair(keyPath, 'updock-sandbox-client');
	for (const file of ['id_ed25519', 'id_ed25519.pub']) {
		await copyFile(join(home, '.ssh', file), join(wrongKeyHome, '.ssh', file));
	}

	await chmod(join(wrongKeyHome, '.ssh', 'id_ed25519'), 0o600);
	const authorizedKeys = join(dir, 'authorized_keys');
	await writeFile(authorizedKeys, `${await publicKey(`${keyPath}.pub`)}\n`, {mode: 0o600});

	const port = await freePort();
	const knownHostsPath = join(home, '.ssh', 'known_hosts');
	const wrongKnownHostsPath = join(wrongKeyHome, '.ssh', 'known_hosts');
	await writeFile(knownHostsPath, `[127.0.0.1]:${port} ${await publicKey(`${hostKey}.pub`)}\n`);
	await writeFile(wrongKnownHostsPath, `[127.0.0.1]:${port} ${await publicKey(`${otherHostKey}.pub`)}\n`);

	const configPath = join(dir, 'sshd_config');
	const pidFile = join(dir, 'sshd.pid');
	await writeFile(configPath, [
		`ListenAddress 127.0.0.1:${port}`,
		`HostKey ${hostKey}`,
		`PidFile ${pidFile}`,
		`AuthorizedKeysFile ${authorizedKeys}`,
		'PubkeyAuthentication yes',
		'PasswordAuthentication no',
		'KbdInteractiveAuthentication no',
		'PermitRootLogin prohibit-password',
		'UsePAM no',
		// The files live in a temporary directory that sshd's ownership checks would reject.
		'StrictModes no',
		'AllowTcpForwarding no',
		'X11Forwarding no',
		'PrintMotd no',
		// OpenSSH 8.7+ sets this for every session: the remote `docker` talks to the sandbox engine.
		`SetEnv DOCKER_HOST=unix://${options.dockerSocket}`,
		'',
	].join('\n'));
	await must(sshdBinary, ['-t', '-f', configPath]);

	const binDir = join(dir, 'bin');
	await mkdir(binDir, {recursive: true});
	await writeFile(join(binDir, 'ssh'), `#!/bin/sh
exec /usr/bin/ssh -F /dev/null -o BatchMode=yes -o StrictHostKeyChecking=yes -o UpdateHostKeys=no \\
	-o GlobalKnownHostsFile=/dev/null -o "UserKnownHostsFile=$HOME/.ssh/known_hosts" \\
	-o IdentitiesOnly=yes -o "IdentityFile=$HOME/.ssh/id_ed25519" "$@"
`, {mode: 0o755});

	const logPath = join(dir, 'sshd.log');
	const child: ChildProcess = startLogged(sshdBinary, ['-D', '-e', '-f', configPath], logPath);
	let exited = false;
	child.on('exit', () => {
		exited = true;
	});
	const pid = child.pid ?? 0;
	const stop = async (): Promise<void> => {
		const sessions = exited ? [] : await childrenOf(pid);
		for (const session of sessions) {
			try {
				process.kill(session, 'SIGTERM');
			} catch {
				// It ended on its own in the meantime.
			}
		}

		await stopProcess(child, 5000);
		await waitFor(`sshd sessions ${sessions.join(', ')} to exit`, () => sessions.every(session => !processAlive(session)), 10_000, 50);
		await rm(dir, {recursive: true, force: true, maxRetries: 3});
	};

	try {
		await waitFor(`sshd on 127.0.0.1:${port}`, async () => {
			if (exited) {
				throw new Error(`sshd exited while starting:\n${await readFile(logPath, 'utf8').catch(() => '')}`);
			}

			return answersSsh(port);
		}, 20_000, 50);
	} catch (error) {
		await stop();
		throw error;
	}

	return {
		address: `ssh://root@127.0.0.1:${port}`,
		port,
		home,
		knownHostsPath,
		keyPath,
		wrongKeyHome,
		wrongKnownHostsPath,
		binDir,
		cliEnv: {HOME: home, PATH: `${binDir}:${process.env['PATH'] ?? '/usr/bin:/bin'}`},
		pid,
		logPath,
		root: dir,
		stop,
	};
}
