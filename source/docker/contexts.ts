import {createHash} from 'node:crypto';
import {closeSync, constants, existsSync, fstatSync, openSync, readSync} from 'node:fs';
import {join} from 'node:path';
import {z} from 'zod';
import {innermostErrorCode} from '../core/errors.ts';
import type {EngineAddress, EngineTls} from './address.ts';
import {parseEngineAddress} from './address.ts';

/** config.json may carry many `auths`; meta.json is a few hundred bytes. Either past this is not the CLI's. */
const maxConfigBytes = 4 * 1024 * 1024;

const configSchema = z.object({currentContext: z.string().optional()});
const metaSchema = z.object({
	Name: z.string().optional(),
	Endpoints: z.object({
		docker: z.object({
			Host: z.string(),
			SkipTLSVerify: z.boolean().optional(),
		}).optional(),
	}).optional(),
});

/** The directory the docker CLI's context store uses for a context: the hex SHA-256 of its name. */
export function contextDirectoryName(name: string): string {
	return createHash('sha256').update(name).digest('hex');
}

/**
 * The `currentContext` of `$DOCKER_CONFIG/config.json`: undefined when the file or the key is absent,
 * an error when the file cannot be read or parsed.
 */
export function currentContextName(dockerConfigDir: string): string | undefined | {error: string; source: string} {
	const path = join(dockerConfigDir, 'config.json');
	const text = readSmallFile(path);
	if (text === undefined) {
		return undefined;
	}

	if (typeof text === 'object') {
		return {error: `Cannot read ${path}: ${text.error}`, source: path};
	}

	const parsed = parseJson(text, configSchema);
	if ('error' in parsed) {
		return {error: `${path} ${parsed.error}; fix it or set DOCKER_HOST.`, source: path};
	}

	const name = parsed.value.currentContext?.trim();
	return name === undefined || name === '' ? undefined : name;
}

/**
 * A docker context's engine, read the way `docker context use` leaves it:
 * `contexts/meta/<sha256>/meta.json` (`Endpoints.docker.Host`, `SkipTLSVerify`) and
 * `contexts/tls/<sha256>/docker/{ca,cert,key}.pem`. `default` is the default socket.
 */
export function resolveContext(name: string, dockerConfigDir: string): EngineAddress | {error: string} {
	const origin = `docker context "${name}"`;
	if (name === 'default') {
		return parseEngineAddress('unix:///var/run/docker.sock', {origin});
	}

	const directory = contextDirectoryName(name);
	const metaPath = join(dockerConfigDir, 'contexts', 'meta', directory, 'meta.json');
	const text = readSmallFile(metaPath);
	if (text === undefined) {
		return {error: `There is no docker context "${name}" in ${dockerConfigDir} (no ${metaPath}); "docker context ls" lists them.`};
	}

	if (typeof text === 'object') {
		return {error: `Cannot read the docker context "${name}" at ${metaPath}: ${text.error}`};
	}

	const parsed = parseJson(text, metaSchema);
	if ('error' in parsed) {
		return {error: `The docker context "${name}" at ${metaPath} ${parsed.error}; recreate it with "docker context create".`};
	}

	const endpoint = parsed.value.Endpoints?.docker;
	if (endpoint === undefined) {
		return {error: `The docker context "${name}" has no docker endpoint (${metaPath}).`};
	}

	const address = parseEngineAddress(endpoint.Host, {origin});
	if ('error' in address) {
		return {error: `The docker context "${name}" has an address updock cannot use: ${address.error}`};
	}

	if (address.kind !== 'tcp') {
		return address;
	}

	const tlsDir = join(dockerConfigDir, 'contexts', 'tls', directory, 'docker');
	const file = (base: string): string | null => existsSync(join(tlsDir, base)) ? join(tlsDir, base) : null;
	const material = {ca: file('ca.pem'), cert: file('cert.pem'), key: file('key.pem')};
	const skipVerify = endpoint.SkipTLSVerify === true;
	// As in the docker CLI: TLS when the context has TLS material or skips verification, plain TCP otherwise.
	const tls: EngineTls | null = skipVerify || material.ca !== null || material.cert !== null || material.key !== null
		? {verify: !skipVerify, ...material}
		: null;
	return {...address, tls};
}

function parseJson<T>(text: string, schema: z.ZodType<T>): {value: T} | {error: string} {
	let raw: unknown;
	try {
		raw = JSON.parse(text);
	} catch {
		return {error: 'is not valid JSON'};
	}

	const result = schema.safeParse(raw);
	if (!result.success) {
		const issue = result.error.issues[0];
		return {error: `has an unexpected shape${issue === undefined ? '' : ` at ${issue.path.join('.') || 'the top'}: ${issue.message}`}`};
	}

	return {value: result.data};
}

/** A small file's text; undefined when it does not exist; an error when it is not a regular file, too big or unreadable. */
function readSmallFile(path: string): string | undefined | {error: string} {
	let fd: number;
	try {
		// Non-blocking: a FIFO put at this path must not hang the start-up.
		fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
	} catch (error) {
		const code = innermostErrorCode(error);
		return code === 'ENOENT' || code === 'ENOTDIR' ? undefined : {error: code ?? String(error)};
	}

	try {
		const stat = fstatSync(fd);
		if (!stat.isFile()) {
			return {error: 'it is not a regular file'};
		}

		if (stat.size > maxConfigBytes) {
			return {error: `it is larger than ${maxConfigBytes / 1024 / 1024} MiB`};
		}

		const buffer = Buffer.alloc(stat.size);
		let read = 0;
		while (read < buffer.length) {
			const count = readSync(fd, buffer, read, buffer.length - read, read);
			if (count === 0) {
				break;
			}

			read += count;
		}

		return buffer.subarray(0, read).toString('utf8');
	} catch (error) {
		return {error: innermostErrorCode(error) ?? String(error)};
	} finally {
		closeSync(fd);
	}
}
