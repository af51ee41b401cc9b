import {Pool} from 'undici';

/**
 * The floor: only the HEAD requests a scan needs, with the same concurrency and keep-alive, a token
 * already in hand, nothing else (no process start, no engine, no verdicts). Milliseconds.
 */
export async function measureFloor(options: {registry: string; repositories: readonly string[]; tag: string; concurrency: number; authorization?: (repository: string) => string}): Promise<number> {
	const pool = new Pool(`http://${options.registry}`, {connections: options.concurrency, keepAliveTimeout: 30_000});
	const accept = 'application/vnd.oci.image.index.v1+json, application/vnd.docker.distribution.manifest.list.v2+json, application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json';
	const head = async (repository: string): Promise<void> => {
		const response = await pool.request({method: 'HEAD', path: `/v2/${repository}/manifests/${options.tag}`, headers: {accept, 'user-agent': 'bench-floor', ...(options.authorization === undefined ? {} : {authorization: options.authorization(repository)})}, reset: false});
		await response.body.dump();
		if (response.statusCode !== 200) {
			throw new Error(`floor: HEAD ${repository} answered ${response.statusCode}`);
		}
	};

	// Warm the connections the way a scan's ping does, outside the timing.
	await head(options.repositories[0]!);
	const queue = [...options.repositories];
	const started = performance.now();
	await Promise.all(Array.from({length: options.concurrency}, async () => {
		for (let next = queue.shift(); next !== undefined; next = queue.shift()) {
			await head(next);
		}
	}));
	const elapsed = performance.now() - started;
	await pool.close();
	return elapsed;
}
