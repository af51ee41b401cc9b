import {request} from 'node:http';

/**
 * The few Engine API calls the bench needs to build its scene, straight over the socket: a `docker`
 * CLI process per container costs more CPU than the engine's own work on a 2-core machine, and the
 * bench creates thousands.
 */
export class BenchEngine {
	readonly name: string;
	readonly socket: string;

	constructor(name: string, socket: string) {
		this.name = name;
		this.socket = socket;
	}

	get host(): string {
		return `unix://${this.socket}`;
	}

	async #call(method: string, path: string, options: {body?: unknown; headers?: Record<string, string>; timeoutMs?: number} = {}): Promise<{status: number; body: string}> {
		const payload = options.body === undefined ? undefined : Buffer.from(JSON.stringify(options.body));
		return new Promise((resolve, reject) => {
			const outgoing = request({socketPath: this.socket, method, path: `/v1.41${path}`, timeout: options.timeoutMs ?? 120_000, headers: {
				...(payload === undefined ? {} : {'content-type': 'application/json', 'content-length': String(payload.length)}),
				...options.headers,
			}}, response => {
				const chunks: Buffer[] = [];
				let size = 0;
				response.on('data', (chunk: Buffer) => {
					// A pull's progress stream is the longest answer here; nothing the bench reads is near this.
					size += chunk.length;
					if (size > 16 * 1024 * 1024) {
						response.destroy(new Error(`${this.name}: ${method} ${path} answered more than 16 MiB`));
						return;
					}

					chunks.push(chunk);
				});
				response.on('end', () => resolve({status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8')}));
				response.on('error', reject);
			});
			outgoing.on('timeout', () => outgoing.destroy(new Error(`${this.name}: ${method} ${path} timed out`)));
			outgoing.on('error', reject);
			outgoing.end(payload);
		});
	}

	/** `docker pull` of `repository:tag` with registry credentials; fails on any error in the progress stream. */
	async pull(repository: string, tag: string, auth: {username: string; password: string; serveraddress: string}): Promise<void> {
		// URL-safe alphabet with padding: the engine decodes it with Go's base64.URLEncoding, which needs the '='.
		const header = Buffer.from(JSON.stringify(auth)).toString('base64').replaceAll('+', '-').replaceAll('/', '_');
		const answer = await this.#call('POST', `/images/create?fromImage=${encodeURIComponent(repository)}&tag=${encodeURIComponent(tag)}`, {headers: {'x-registry-auth': header}, timeoutMs: 300_000});
		if (answer.status !== 200 || /"error"\s*:/.test(answer.body)) {
			throw new Error(`${this.name}: pulling ${repository}:${tag} failed (HTTP ${answer.status}): ${answer.body.slice(-500)}`);
		}
	}

	/** `docker create --network none --name NAME IMAGE`. */
	async create(name: string, image: string): Promise<void> {
		const answer = await this.#call('POST', `/containers/create?name=${encodeURIComponent(name)}`, {body: {Image: image, HostConfig: {NetworkMode: 'none'}}});
		if (answer.status !== 201) {
			throw new Error(`${this.name}: creating ${name} from ${image} failed (HTTP ${answer.status}): ${answer.body.slice(0, 500)}`);
		}
	}

	/** Remove every container, `parallel` at a time (dockerd's own shutdown would stop each one). */
	async removeAll(parallel = 4): Promise<void> {
		const listed = await this.#call('GET', '/containers/json?all=1');
		if (listed.status !== 200) {
			throw new Error(`${this.name}: listing containers failed (HTTP ${listed.status})`);
		}

		const ids = [...listed.body.matchAll(/"Id"\s*:\s*"([0-9a-f]{64})"/g)].map(match => match[1]!);
		let next = 0;
		await Promise.all(Array.from({length: parallel}, async () => {
			for (let index = next++; index < ids.length; index = next++) {
				await this.#call('DELETE', `/containers/${ids[index]!}?force=1`);
			}
		}));
	}
}
