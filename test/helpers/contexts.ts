import {createHash} from 'node:crypto';
import {mkdir} from 'node:fs/promises';
import {join} from 'node:path';
import {must} from './process.ts';

/** Client TLS material for a context, as files (the CLI copies them into the context store). */
export interface ContextTls {
	readonly ca: string;
	readonly cert: string;
	readonly key: string;
}

export interface DockerContextOptions {
	/** The endpoint: `unix://…`, `tcp://…` or `ssh://…`. */
	readonly host: string;
	readonly tls?: ContextTls;
	readonly description?: string;
	/**
	 * Make it the current context (`docker context use`, which writes `currentContext` in config.json).
	 * @default false
	 */
	readonly use?: boolean;
}

/** Where `docker context create` put a context. */
export interface DockerContext {
	readonly name: string;
	/** `<config>/contexts/meta/<sha256 of name>/meta.json`. */
	readonly metaPath: string;
	/** `<config>/contexts/tls/<sha256 of name>`: `docker/{ca,cert,key}.pem` when TLS was given. */
	readonly tlsDir: string;
}

/** The directory name the CLI's context store uses for `name`: the hex SHA-256 of the name. */
export function contextDirectoryName(name: string): string {
	return createHash('sha256').update(name).digest('hex');
}

/**
 * Create a context by running the real `docker context create NAME --docker "host=…,ca=…,cert=…,key=…"`
 * with `DOCKER_CONFIG=dockerConfigDir`, so its files are laid out exactly as the CLI lays them out.
 */
export async function writeDockerContext(dockerConfigDir: string, name: string, options: DockerContextOptions): Promise<DockerContext> {
	const fields: Array<[string, string]> = [['host', options.host]];
	if (options.tls !== undefined) {
		fields.push(['ca', options.tls.ca], ['cert', options.tls.cert], ['key', options.tls.key]);
	}

	for (const [field, value] of fields) {
		// The CLI splits this option on commas and '=' with no escaping.
		if (value.includes(',')) {
			throw new Error(`docker context create cannot take a ${field} with a comma: ${value}`);
		}
	}

	await mkdir(dockerConfigDir, {recursive: true});
	// DOCKER_HOST or DOCKER_CONTEXT from the test's own environment would only add warnings here.
	const {DOCKER_HOST: _host, DOCKER_CONTEXT: _context, ...inherited} = process.env;
	const env = {...inherited, DOCKER_CONFIG: dockerConfigDir};
	await must('docker', [
		'context', 'create', name,
		...(options.description === undefined ? [] : ['--description', options.description]),
		'--docker', fields.map(([field, value]) => `${field}=${value}`).join(','),
	], {env});
	if (options.use === true) {
		await must('docker', ['context', 'use', name], {env});
	}

	const directory = contextDirectoryName(name);
	return {
		name,
		metaPath: join(dockerConfigDir, 'contexts', 'meta', directory, 'meta.json'),
		tlsDir: join(dockerConfigDir, 'contexts', 'tls', directory),
	};
}
