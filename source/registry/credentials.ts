import {execFile} from 'node:child_process';
import {readFile, stat} from 'node:fs/promises';
import {join} from 'node:path';
import {z} from 'zod';
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

export class CredentialError extends Error {
	override readonly name = 'CredentialError';
}

interface AuthEntry {
	readonly auth?: unknown;
	readonly username?: unknown;
	readonly password?: unknown;
	readonly identitytoken?: unknown;
}

/** One Docker config (the file, or DOCKER_AUTH_CONFIG), keys normalised. */
interface DockerConfig {
	readonly source: string;
	readonly auths: ReadonlyMap<string, AuthEntry>;
	readonly credHelpers: ReadonlyMap<string, string>;
	readonly credsStore: string | undefined;
}

/** Runs `docker-credential-<helper> get` with the server URL on stdin; its stdout, or why it failed. */
export type HelperRunner = (helper: string, serverUrl: string) => Promise<{ok: true; stdout: string} | {ok: false; output: string; missing: boolean}>;

const dockerHubKey = 'https://index.docker.io/v1/';
const helperTimeoutMs = 10_000;
const helperAnswer = z.object({Username: z.unknown(), Secret: z.unknown()}).loose();

/** A helper's answer is reused this long at most: tokens from ECR, gcloud and the like rotate. */
export const helperAnswerTtlMs = 5 * 60_000;

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

/** What helpers are asked for: Docker Hub by its historical key, others by host. */
export function helperServerUrl(registry: string): string {
	return registry === dockerHub ? dockerHubKey : registry;
}

/** The real helper protocol (docker-credential-helpers), with a timeout. */
export const runHelper: HelperRunner = async (helper, serverUrl) => new Promise(resolve => {
	const child = execFile(`docker-credential-${helper}`, ['get'], {timeout: helperTimeoutMs, encoding: 'utf8', maxBuffer: 1024 * 1024}, (error, stdout, stderr) => {
		if (error === null) {
			resolve({ok: true, stdout});
			return;
		}

		const code = (error as NodeJS.ErrnoException).code;
		const output = `${stdout}${stderr}`.trim() || (error.killed ? `no answer within ${helperTimeoutMs / 1000} s` : error.message);
		resolve({ok: false, output, missing: code === 'ENOENT'});
	});
	child.stdin?.end(serverUrl);
});

/**
 * Credentials the way the docker CLI finds them: DOCKER_AUTH_CONFIG first, then
 * `$DOCKER_CONFIG/config.json`; in each, `credHelpers[host]`, then `credsStore`, then `auths`. A
 * helper's "credentials not found" means look further (and finally anonymous). A missing file is
 * anonymous; an unreadable or malformed one is an error naming it, raised when a registry needs it.
 */
export class DockerConfigCredentials implements CredentialStore {
	readonly source: string;
	readonly #path: string;
	readonly #envJson: string | undefined;
	readonly #runHelper: HelperRunner;
	readonly #now: () => number;
	/** The configs as last read, and the file's stamp (mtime, size, inode) when they were. */
	#configs: {stamp: string; promise: Promise<DockerConfig[]>} | undefined;
	/** Helper answers (in flight, or settled at `at`), per helper and registry. Failures are dropped. */
	readonly #helperAnswers = new Map<string, {promise: Promise<Credential | undefined>; at: number | undefined}>();

	constructor(path: string, options: {envJson?: string | undefined; runHelper?: HelperRunner; now?: () => number} = {}) {
		this.#path = path;
		this.#envJson = options.envJson === undefined || options.envJson.trim() === '' ? undefined : options.envJson;
		this.#runHelper = options.runHelper ?? runHelper;
		this.#now = options.now ?? Date.now;
		this.source = this.#envJson === undefined ? path : `DOCKER_AUTH_CONFIG or ${path}`;
	}

	async get(registry: string): Promise<Credential | undefined> {
		return this.#lookup(registry === dockerHub ? dockerHub : registry.toLowerCase());
	}

	async #lookup(registry: string): Promise<Credential | undefined> {
		for (const config of await this.#current()) {
			const helper = config.credHelpers.get(registry) ?? config.credsStore;
			if (helper !== undefined) {
				const fromHelper = await this.#fromHelper(helper, registry, config.source);
				if (fromHelper !== undefined) {
					return fromHelper;
				}
			}

			const entry = config.auths.get(registry);
			const credential = entry === undefined ? undefined : toCredential(entry, registry, config.source);
			if (credential !== undefined) {
				return credential;
			}
		}

		return undefined;
	}

	async #fromHelper(helper: string, registry: string, source: string): Promise<Credential | undefined> {
		if (!/^[\w.-]+$/.test(helper)) {
			throw new CredentialError(`The credential helper name "${helper}" in ${source} is not valid; it must be the suffix of a docker-credential-* program.`);
		}

		const key = `${helper}|${registry}`;
		const cached = this.#helperAnswers.get(key);
		if (cached !== undefined && (cached.at === undefined || this.#now() - cached.at < helperAnswerTtlMs)) {
			// One helper run per registry at a time, however many repositories ask.
			return cached.promise;
		}

		const entry: {promise: Promise<Credential | undefined>; at: number | undefined} = {promise: this.#askHelper(helper, registry, source), at: undefined};
		this.#helperAnswers.set(key, entry);
		entry.promise.then(() => {
			entry.at = this.#now();
		}, () => {
			// A helper that timed out or failed is asked again next time: keychains unlock, networks return.
			if (this.#helperAnswers.get(key) === entry) {
				this.#helperAnswers.delete(key);
			}
		});
		return entry.promise;
	}

	async #askHelper(helper: string, registry: string, source: string): Promise<Credential | undefined> {
		const result = await this.#runHelper(helper, helperServerUrl(registry));
		if (!result.ok) {
			if (result.missing) {
				throw new CredentialError(`${source} says to get credentials for ${registry} from docker-credential-${helper}, which is not on PATH. Install it, or remove it from credHelpers/credsStore.`);
			}

			if (/credentials not found/i.test(result.output)) {
				return undefined;
			}

			// Helpers print their own errors, never the secret: the first line says what went wrong.
			throw new CredentialError(`docker-credential-${helper} failed to give credentials for ${registry}: ${result.output.split('\n')[0]}`);
		}

		let json: unknown;
		try {
			json = JSON.parse(result.stdout);
		} catch {
			throw new CredentialError(`docker-credential-${helper} answered something that is not JSON for ${registry}.`);
		}

		const answer = helperAnswer.safeParse(json);
		if (!answer.success) {
			throw new CredentialError(`docker-credential-${helper} answered JSON that is not {"Username", "Secret"} for ${registry}.`);
		}

		const parsed = answer.data;

		if (typeof parsed.Secret !== 'string' || parsed.Secret === '') {
			return undefined;
		}

		if (parsed.Username === '<token>') {
			return {kind: 'identity-token', token: parsed.Secret};
		}

		return {kind: 'basic', username: typeof parsed.Username === 'string' ? parsed.Username : '', password: parsed.Secret};
	}

	/**
	 * The configs, read again when the file's mtime, size or inode changed (a `docker login` while the
	 * live view runs). A change also forgets the helpers' answers, as a login may have changed them.
	 */
	async #current(): Promise<DockerConfig[]> {
		let stamp: string;
		try {
			const info = await stat(this.#path);
			stamp = `${info.mtimeMs}|${info.size}|${info.ino}`;
		} catch {
			// Missing, or unreadable: #load says which, the same way every time.
			stamp = 'none';
		}

		if (this.#configs === undefined || this.#configs.stamp !== stamp) {
			this.#configs = {stamp, promise: this.#load()};
			this.#helperAnswers.clear();
		}

		return this.#configs.promise;
	}

	async #load(): Promise<DockerConfig[]> {
		const configs: DockerConfig[] = [];
		if (this.#envJson !== undefined) {
			configs.push(parseConfig(this.#envJson, 'DOCKER_AUTH_CONFIG'));
		}

		let text: string | undefined;
		try {
			text = await readFile(this.#path, 'utf8');
		} catch (error) {
			if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
				throw new CredentialError(`Cannot read the Docker config ${this.#path}: ${(error as Error).message}. Fix its permissions or set DOCKER_CONFIG.`);
			}
		}

		if (text !== undefined) {
			configs.push(parseConfig(text, this.#path));
		}

		return configs;
	}
}

function parseConfig(text: string, source: string): DockerConfig {
	let parsed: unknown;
	try {
		parsed = JSON.parse(text);
	} catch (error) {
		const fix = source === 'DOCKER_AUTH_CONFIG' ? 'fix or unset it' : 'fix it or set DOCKER_CONFIG to another directory';
		throw new CredentialError(`The Docker config ${source} is not valid JSON (${(error as Error).message}); ${fix}.`);
	}

	const record = isRecord(parsed) ? parsed : {};
	const auths = new Map<string, AuthEntry>();
	if (isRecord(record['auths'])) {
		// Any spelling of a registry's key counts; the bare `host[:port]` key wins over the others, and for
		// Docker Hub its canonical `https://index.docker.io/v1/` key wins, as in docker/cli.
		for (const [key, entry] of Object.entries(record['auths'])) {
			const normalized = normalizeAuthKey(key);
			if (isRecord(entry) && (!auths.has(normalized) || key === normalized)) {
				auths.set(normalized, entry);
			}
		}

		const hub = record['auths'][dockerHubKey];
		if (isRecord(hub)) {
			auths.set(dockerHub, hub);
		}
	}

	const credHelpers = new Map<string, string>();
	if (isRecord(record['credHelpers'])) {
		for (const [key, helper] of Object.entries(record['credHelpers'])) {
			if (typeof helper === 'string' && helper !== '') {
				credHelpers.set(normalizeAuthKey(key), helper);
			}
		}
	}

	const credsStore = typeof record['credsStore'] === 'string' && record['credsStore'] !== '' ? record['credsStore'] : undefined;
	return {source, auths, credHelpers, credsStore};
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
