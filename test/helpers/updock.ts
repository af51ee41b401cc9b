import {mkdtemp, mkdir, writeFile} from 'node:fs/promises';
import {join, resolve} from 'node:path';
import type {ScanJson} from '../../source/report/scan-json.ts';
import {run, type RunResult} from './process.ts';
import type {SandboxInfo} from './sandbox.ts';

export const updockBin = resolve(import.meta.dirname, '../../dist/updock.js');

/** A private home for one test: its own database file and Docker config directory. */
export interface UpdockHome {
	readonly dir: string;
	readonly db: string;
	readonly dockerConfig: string;
	readonly env: NodeJS.ProcessEnv;
}

/** A new home inside the sandbox's directory, so it goes when the sandbox does. */
export async function makeHome(sandbox: Pick<SandboxInfo, 'root' | 'dockerHost'>, extraEnv: NodeJS.ProcessEnv = {}): Promise<UpdockHome> {
	const dir = await mkdtemp(join(sandbox.root, 'home-'));
	const {dockerHost} = sandbox;
	const dockerConfig = join(dir, 'docker');
	await mkdir(dockerConfig, {recursive: true});
	const db = join(dir, 'state', 'updock.json');
	const env: NodeJS.ProcessEnv = {
		PATH: process.env['PATH'],
		HOME: dir,
		DOCKER_HOST: dockerHost,
		DOCKER_CONFIG: dockerConfig,
		UPDOCK_DB: db,
		...extraEnv,
	};
	return {dir, db, dockerConfig, env};
}

/** Write `auths` credentials for registries into the home's Docker config. */
export async function writeDockerAuths(home: UpdockHome, auths: Record<string, {username: string; password: string}>): Promise<void> {
	const entries = Object.fromEntries(Object.entries(auths).map(([host, {username, password}]) => [host, {auth: Buffer.from(`${username}:${password}`).toString('base64')}]));
	await writeFile(join(home.dockerConfig, 'config.json'), JSON.stringify({auths: entries}));
}

/** Run the built updock binary. */
export async function updock(home: UpdockHome, args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<RunResult> {
	return run(process.execPath, [updockBin, ...args], {env: {...home.env, ...env}, timeoutMs: 120_000});
}

/** `updock --once --json`, parsed; the raw result too. */
export async function scanJson(home: UpdockHome, args: readonly string[] = []): Promise<{result: RunResult; json: ScanJson}> {
	const result = await updock(home, ['--once', '--json', ...args]);
	let json: ScanJson;
	try {
		json = JSON.parse(result.stdout) as ScanJson;
	} catch {
		throw new Error(`updock --once --json printed no JSON (exit ${result.code}):\nstdout: ${result.stdout}\nstderr: ${result.stderr}`);
	}

	return {result, json};
}

/** The row of one container, failing clearly when it is missing. */
export function row(json: ScanJson, name: string): ScanJson['containers'][number] {
	const found = json.containers.find(container => container.name === name);
	if (found === undefined) {
		throw new Error(`no container "${name}" in the scan; it has ${json.containers.map(container => container.name).join(', ')}`);
	}

	return found;
}
