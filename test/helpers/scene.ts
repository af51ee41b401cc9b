import {mkdtemp, rm} from 'node:fs/promises';
import {join} from 'node:path';
import {docker} from './dockerd.ts';
import {ImageFactory, type ImageVariant, type PushOptions} from './images.ts';
import type {SandboxInfo} from './sandbox.ts';

/**
 * What one test file builds on the shared sandbox: images pushed under its own repository prefix,
 * containers under its own name prefix, all removed at the end.
 */
export class Scene {
	readonly sandbox: SandboxInfo;
	readonly prefix: string;
	readonly images: ImageFactory;
	readonly #containers: string[] = [];
	readonly #workDir: string;

	private constructor(sandbox: SandboxInfo, prefix: string, workDir: string) {
		this.sandbox = sandbox;
		this.prefix = prefix;
		this.#workDir = workDir;
		this.images = new ImageFactory(workDir);
	}

	static async create(sandbox: SandboxInfo, prefix: string): Promise<Scene> {
		return new Scene(sandbox, prefix, await mkdtemp(join(sandbox.root, `scene-${prefix}-`)));
	}

	/** `registry/prefix/name:tag` on the given registry host. */
	ref(host: string, repository: string, tag = '1'): string {
		return `${host}/${this.prefix}/${repository}:${tag}`;
	}

	async push(reference: string, variants: ImageVariant | readonly ImageVariant[], options?: PushOptions): Promise<string> {
		return this.images.push(reference, variants, options);
	}

	async docker(args: readonly string[], config?: string): Promise<string> {
		return docker(this.sandbox.dockerHost, args, config);
	}

	async pull(reference: string, config?: string): Promise<void> {
		await this.docker(['pull', '--quiet', reference], config);
	}

	/** A running container (`--network none`) named `prefix-name`; returns its full name. */
	async runContainer(name: string, image: string, options: {start?: boolean} = {}): Promise<string> {
		const full = `${this.prefix}-${name}`;
		await this.docker([options.start === false ? 'create' : 'run', ...(options.start === false ? [] : ['-d']), '--network', 'none', '--name', full, image]);
		this.#containers.push(full);
		return full;
	}

	async removeContainer(full: string): Promise<void> {
		await this.docker(['rm', '-f', full]);
	}

	async cleanup(): Promise<void> {
		if (this.#containers.length > 0) {
			await docker(this.sandbox.dockerHost, ['rm', '-f', ...new Set(this.#containers)]).catch(() => undefined);
		}

		await rm(this.#workDir, {recursive: true, force: true});
	}
}
