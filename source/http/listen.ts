import {once} from 'node:events';
import {chmod, lstat, readFile, unlink} from 'node:fs/promises';
import {connect} from 'node:net';
import process from 'node:process';
import type {FastifyInstance} from 'fastify';
import {ConfigError, describeError} from '../core/errors.ts';
import type {ListenAddress, TokenSource} from '../serve-config.ts';

/** A token file holds one token; anything larger is not one. */
const maxTokenFileBytes = 4096;

/**
 * The API token, if any: the variable's value, or the file's contents trimmed.
 * @throws ConfigError naming --api-token-file when the file cannot be read, is not a small regular
 * file, or holds no token or more than one word.
 */
export async function readApiToken(source: TokenSource): Promise<string | undefined> {
	switch (source.kind) {
		case 'none': {
			return undefined;
		}

		case 'env': {
			return source.token;
		}

		case 'file': {
			let text: string;
			try {
				const stats = await lstat(source.path);
				if (!stats.isFile() || stats.size > maxTokenFileBytes) {
					throw new ConfigError('--api-token-file', `--api-token-file ${source.path} is not a small regular file; put the token alone in a file.`);
				}

				text = await readFile(source.path, 'utf8');
			} catch (error) {
				if (error instanceof ConfigError) {
					throw error;
				}

				throw new ConfigError('--api-token-file', `--api-token-file ${source.path} cannot be read: ${describeError(error)}.`);
			}

			const token = text.trim();
			if (token === '' || /\s/.test(token)) {
				throw new ConfigError('--api-token-file', `--api-token-file ${source.path} ${token === '' ? 'is empty' : 'holds more than one word'}: put the API token alone in it.`);
			}

			return token;
		}
	}
}

/**
 * Listen on TCP, or on a unix socket made with mode 0660 (a stale socket file left by a process that
 * died is replaced; any other file at that path is refused).
 * @throws ConfigError naming --listen when the address cannot be used.
 */
export async function listen(app: FastifyInstance, address: ListenAddress): Promise<void> {
	if (address.kind === 'tcp') {
		try {
			await app.listen({host: address.host, port: address.port});
		} catch (error) {
			throw new ConfigError('--listen', `Cannot listen on ${address.display}: ${describeError(error)}.`);
		}

		return;
	}

	const existing = await lstat(address.path).catch(() => undefined);
	if (existing !== undefined) {
		if (!existing.isSocket()) {
			throw new ConfigError('--listen', `${address.path} exists and is not a socket; updock does not replace it. Remove it or listen elsewhere.`);
		}

		if (await socketAnswers(address.path)) {
			throw new ConfigError('--listen', `Another process listens on ${address.path}; stop it or listen elsewhere.`);
		}

		await unlink(address.path);
	}

	// The socket is created with the umask's mode: make it 0660 from the start, not only after a chmod.
	const umask = process.umask(0o117);
	try {
		await app.listen({path: address.path});
	} catch (error) {
		throw new ConfigError('--listen', `Cannot listen on ${address.display}: ${describeError(error)}.`);
	} finally {
		process.umask(umask);
	}

	await chmod(address.path, 0o660);
}

/** Remove the socket `listen` made (Node leaves it when the process ends). */
export async function removeSocket(address: ListenAddress): Promise<void> {
	if (address.kind === 'unix') {
		await unlink(address.path).catch(() => undefined);
	}
}

async function socketAnswers(path: string): Promise<boolean> {
	const socket = connect(path);
	try {
		await once(socket, 'connect');
		return true;
	} catch {
		return false;
	} finally {
		socket.destroy();
	}
}
