import {createHash} from 'node:crypto';
import {z} from 'zod';

/** An image manifest as a registry holds it: its exact bytes, its type and its digest. */
export interface StoredManifest {
	readonly bytes: Buffer;
	readonly mediaType: string;
	readonly digest: string;
	readonly configDigest: string;
	readonly layers: readonly string[];
}

const ociManifest = 'application/vnd.oci.image.manifest.v1+json';
const imageManifest = z.object({
	mediaType: z.string().optional(),
	config: z.object({mediaType: z.string(), digest: z.string(), size: z.number()}),
	layers: z.array(z.object({digest: z.string()}).loose()),
}).loose();
const imageConfig = z.object({config: z.object({Labels: z.record(z.string(), z.string()).nullish()}).loose()}).loose();
// Registry answers read here are small (manifests, configs): bigger means something is wrong.
const maxBody = 1024 * 1024;

function sha256(bytes: Buffer): string {
	return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

async function send(url: string, init: RequestInit, expected: number, what: string): Promise<Response> {
	const response = await fetch(url, {...init, headers: {'user-agent': 'versions-test', ...init.headers}});
	if (response.status !== expected) {
		throw new Error(`${what}: ${init.method ?? 'GET'} ${url} answered ${response.status}, not ${expected}: ${(await response.text()).slice(0, 500)}`);
	}

	return response;
}

async function body(response: Response, what: string): Promise<Buffer> {
	const bytes = Buffer.from(await response.arrayBuffer());
	if (bytes.length > maxBody) {
		throw new Error(`${what}: ${bytes.length} bytes, more than ${maxBody}`);
	}

	return bytes;
}

/** The single-platform OCI manifest `repository:reference` on an open registry. */
export async function getManifest(host: string, repository: string, reference: string): Promise<StoredManifest> {
	const what = `manifest ${repository}:${reference}`;
	const response = await send(`http://${host}/v2/${repository}/manifests/${reference}`, {headers: {accept: ociManifest}}, 200, what);
	const bytes = await body(response, what);
	const parsed = imageManifest.parse(JSON.parse(bytes.toString('utf8')));
	return {bytes, mediaType: parsed.mediaType ?? ociManifest, digest: sha256(bytes), configDigest: parsed.config.digest, layers: parsed.layers.map(layer => layer.digest)};
}

/** Make `digest` of `from` available in `to` without sending it again (a cross-repository mount). */
async function mountBlob(host: string, from: string, to: string, digest: string): Promise<void> {
	await send(`http://${host}/v2/${to}/blobs/uploads/?mount=${encodeURIComponent(digest)}&from=${encodeURIComponent(from)}`, {method: 'POST'}, 201, `mount ${digest} from ${from} into ${to}`);
}

async function uploadBlob(host: string, repository: string, bytes: Buffer): Promise<string> {
	const digest = sha256(bytes);
	const what = `upload ${digest} to ${repository}`;
	const started = await send(`http://${host}/v2/${repository}/blobs/uploads/`, {method: 'POST'}, 202, what);
	await started.arrayBuffer();
	const location = new URL(started.headers.get('location') ?? '', `http://${host}`);
	location.searchParams.set('digest', digest);
	const done = await send(location.href, {method: 'PUT', headers: {'content-type': 'application/octet-stream'}, body: bytes}, 201, what);
	await done.arrayBuffer();
	return digest;
}

async function putManifest(host: string, repository: string, tag: string, manifest: Pick<StoredManifest, 'bytes' | 'mediaType'>): Promise<void> {
	const response = await send(`http://${host}/v2/${repository}/manifests/${tag}`, {method: 'PUT', headers: {'content-type': manifest.mediaType}, body: manifest.bytes}, 201, `tag ${repository}:${tag}`);
	await response.arrayBuffer();
}

/**
 * Tag the image `from:reference` as each of `tags` in `to` (the same manifest bytes, so the same
 * digest): far quicker than a push per tag. Returns the digest they all point to.
 */
export async function copyToTags(host: string, from: string, reference: string, to: string, tags: readonly string[]): Promise<string> {
	const manifest = await getManifest(host, from, reference);
	if (from !== to) {
		await Promise.all([manifest.configDigest, ...manifest.layers].map(async digest => mountBlob(host, from, to, digest)));
	}

	for (let start = 0; start < tags.length; start += 16) {
		// eslint-disable-next-line no-await-in-loop -- a few at a time, to spare the registry
		await Promise.all(tags.slice(start, start + 16).map(async tag => putManifest(host, to, tag, manifest)));
	}

	return manifest.digest;
}

/**
 * Push to `to:tag` the image `from:reference` with `labels` added to its config: the same layers, a
 * new config (so a new image id) and a new manifest. Returns the new manifest's and config's digests.
 */
export async function pushRelabelled(host: string, from: string, reference: string, to: string, tag: string, labels: Readonly<Record<string, string>>): Promise<{digest: string; configDigest: string}> {
	const manifest = await getManifest(host, from, reference);
	const what = `config ${manifest.configDigest}`;
	const configBytes = await body(await send(`http://${host}/v2/${from}/blobs/${manifest.configDigest}`, {}, 200, what), what);
	const config = imageConfig.parse(JSON.parse(configBytes.toString('utf8')));
	const relabelled = Buffer.from(JSON.stringify({...config, config: {...config.config, Labels: {...config.config.Labels, ...labels}}}));
	if (from !== to) {
		await Promise.all(manifest.layers.map(async digest => mountBlob(host, from, to, digest)));
	}

	const configDigest = await uploadBlob(host, to, relabelled);
	const json = imageManifest.parse(JSON.parse(manifest.bytes.toString('utf8')));
	const bytes = Buffer.from(JSON.stringify({...json, config: {...json.config, digest: configDigest, size: relabelled.length}}));
	await putManifest(host, to, tag, {bytes, mediaType: manifest.mediaType});
	return {digest: sha256(bytes), configDigest};
}
