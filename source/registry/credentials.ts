import {readFile} from 'node:fs/promises';
import {join} from 'node:path';
import {dockerHub} from '../core/reference.ts';

/** What the Docker config holds for one registry. Never printed, logged or stored by updock. */
export type Credential =
	| {readonly kind: 'basic'; readonly username: string; readonly password: string}
	| {readonly kind: 'identity-token'; readonly token: string};

/** Where credentials come from: a registry name in, a credential (or none) out. */
export interface CredentialStore {
	/** A human description of where credentials are looked up, for error messages. */
	readonly source: string;
	get(registry: string): Promise<Credential | undefined>;
}

interface AuthEntry {
	readonly auth?: unknown;
	readonly username?: unknown;
	readonly password?: unknown;
	readonly identitytoken?: unknown;
}

const dockerHubKey = 'https://index.docker.io/v1/';

/** The Docker config file path: `$DOCKER_CONFIG/config.json`, default `~/.docker/config.json`. */
export function dockerConfigPath(dockerConfigDir: string | undefined, home: string): string {
	return join(dockerConfigDir ?? join(home, '.docker'), 'config.json');
}

/** `https://host:5000/v2/` -> `host:5000`, the way docker/cli matches `auths` keys. */
export function normalizeAuthKey(key: string): string {
	const withoutScheme = key.replace(/^[a-z]+:\/\//i, '');
	const host = withoutScheme.split('/')[0] ?? withoutScheme;
	const lower = host.toLowerCase();
	return lower === 'index.docker.io' || lower === 'registry-1.docker.io' ? dockerHub : lower;
}

/**
 * Credentials from the `auths` entries of the Docker config file. A missing file means anonymous; an
 * unreadable or malformed one is an error when a registry asks for credentials, naming the file.
 */
export class DockerConfigCredentials implements CredentialStore {
	readonly source: string;
	#entries: Promise<Map<string, AuthEntry>> | undefined;

	constructor(path: string) {
		this.source = path;
	}

	async get(registry: string): Promise<Credential | undefined> {
		this.#entries ??= this.#load();
		const entries = await this.#entries;
		const wanted = registry === dockerHub ? dockerHub : registry.toLowerCase();
		const entry = entries.get(wanted);
		return entry === undefined ? undefined : toCredential(entry, registry, this.source);
	}

	async #load(): Promise<Map<string, AuthEntry>> {
		let text: string;
		try {
			text = await readFile(this.source, 'utf8');
		} catch (error) {
			if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
				return new Map();
			}

			throw new CredentialError(`Cannot read the Docker config ${this.source}: ${(error as Error).message}. Fix its permissions or set DOCKER_CONFIG.`);
		}

		let parsed: unknown;
		try {
			parsed = JSON.parse(text);
		} catch (error) {
			throw new CredentialError(`The Docker config ${this.source} is not valid JSON (${(error as Error).message}); fix it or set DOCKER_CONFIG to another directory.`);
		}

		const entries = new Map<string, AuthEntry>();
		const auths = isRecord(parsed) ? parsed['auths'] : undefined;
		if (isRecord(auths)) {
			// Any spelling of a registry's key counts; the bare `host[:port]` key wins over the others, and for
			// Docker Hub its canonical `https://index.docker.io/v1/` key wins, as in docker/cli.
			for (const [key, entry] of Object.entries(auths)) {
				const normalized = normalizeAuthKey(key);
				if (isRecord(entry) && (!entries.has(normalized) || key === normalized)) {
					entries.set(normalized, entry);
				}
			}

			const hub = auths[dockerHubKey];
			if (isRecord(hub)) {
				entries.set(dockerHub, hub);
			}
		}

		return entries;
	}
}

export class CredentialError extends Error {
	override readonly name = 'CredentialError';
}

function toCredential(entry: AuthEntry, registry: string, source: string): Credential | undefined {
	if (typeof entry.identitytoken === 'string' && entry.identitytoken !== '') {
		return {kind: 'identity-token', token: entry.identitytoken};
	}

	if (typeof entry.auth === 'string' && entry.auth !== '') {
		const decoded = Buffer.from(entry.auth, 'base64').toString('utf8');
		const colon = decoded.indexOf(':');
		if (colon <= 0) {
			throw new CredentialError(`The "auth" entry for ${registry} in ${source} is not base64 of "user:password"; run "docker login ${registry}" again.`);
		}

		return {kind: 'basic', username: decoded.slice(0, colon), password: decoded.slice(colon + 1)};
	}

	if (typeof entry.username === 'string' && typeof entry.password === 'string' && entry.username !== '') {
		return {kind: 'basic', username: entry.username, password: entry.password};
	}

	return undefined;
}

function isRecord(value: unknown): value is Record<string, unknown> {
	return typeof value === 'object' && value !== null && !Array.isArray(value);
}
