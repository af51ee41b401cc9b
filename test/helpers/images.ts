import {createHash} from 'node:crypto';
import {mkdir, readFile, rm, writeFile} from 'node:fs/promises';
import {join} from 'node:path';
import {gzipSync} from 'node:zlib';
import {must} from './process.ts';
import {tar} from './tar.ts';

export interface TestPlatform {
	readonly os: string;
	readonly architecture: string;
	readonly variant?: string;
}

/** One image: its platform and a marker that makes its content (and so its config and id) unique. */
export interface ImageVariant {
	readonly marker: string;
	readonly platform?: TestPlatform;
}

export interface PushOptions {
	/** `user:password` for the destination registry. */
	readonly credentials?: string;
	/** Push with Docker v2 schema 2 media types instead of OCI: same config, another manifest. */
	readonly format?: 'oci' | 'v2s2';
}

interface Blob {
	readonly digest: string;
	readonly size: number;
	readonly bytes: Buffer;
}

const hostPlatform: TestPlatform = {os: 'linux', architecture: process.arch === 'x64' ? 'amd64' : process.arch};

function blob(bytes: Buffer): Blob {
	return {digest: `sha256:${createHash('sha256').update(bytes).digest('hex')}`, size: bytes.length, bytes};
}

/**
 * Images made offline: a busybox-static layer plus a one-file marker layer, written as an OCI layout
 * (an index for several platforms) and pushed with `skopeo copy --all`.
 */
export class ImageFactory {
	readonly #workDir: string;
	readonly #busybox: string;
	#baseLayer: Promise<{compressed: Blob; diffId: string}> | undefined;
	#counter = 0;

	constructor(workDir: string, busybox = '/bin/busybox') {
		this.#workDir = workDir;
		this.#busybox = busybox;
	}

	/** Push an image (one variant) or an index (several) to `registry/repository:tag`; returns the pushed digest. */
	async push(target: string, variants: ImageVariant | readonly ImageVariant[], options: PushOptions = {}): Promise<string> {
		const layout = join(this.#workDir, `layout-${process.pid}-${this.#counter++}`);
		await mkdir(join(layout, 'blobs', 'sha256'), {recursive: true});
		const write = async (item: Blob): Promise<void> => writeFile(join(layout, 'blobs', 'sha256', item.digest.slice(7)), item.bytes);
		const base = await this.#base();
		await write(base.compressed);

		const manifests: Array<{descriptor: Blob; platform: TestPlatform}> = [];
		for (const variant of Array.isArray(variants) ? variants : [variants as ImageVariant]) {
			const platform = variant.platform ?? hostPlatform;
			const markerTar = tar([{path: 'etc/'}, {path: 'etc/updock-marker', content: Buffer.from(`${variant.marker}\n`)}]);
			const marker = blob(gzipSync(markerTar));
			const config = blob(Buffer.from(JSON.stringify({
				architecture: platform.architecture,
				os: platform.os,
				...(platform.variant === undefined ? {} : {variant: platform.variant}),
				created: '2026-01-01T00:00:00Z',
				config: {Cmd: ['/bin/busybox', 'sleep', '3600'], Labels: {'org.updock.marker': variant.marker}},
				rootfs: {type: 'layers', diff_ids: [base.diffId, blob(markerTar).digest]},
			})));
			const manifest = blob(Buffer.from(JSON.stringify({
				schemaVersion: 2,
				mediaType: 'application/vnd.oci.image.manifest.v1+json',
				config: {mediaType: 'application/vnd.oci.image.config.v1+json', digest: config.digest, size: config.size},
				layers: [base.compressed, marker].map(layer => ({mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: layer.digest, size: layer.size})),
			})));
			await Promise.all([write(marker), write(config), write(manifest)]);
			manifests.push({descriptor: manifest, platform});
		}

		let top: {mediaType: string; digest: string; size: number};
		if (Array.isArray(variants)) {
			const index = blob(Buffer.from(JSON.stringify({
				schemaVersion: 2,
				mediaType: 'application/vnd.oci.image.index.v1+json',
				manifests: manifests.map(({descriptor, platform}) => ({mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: descriptor.digest, size: descriptor.size, platform})),
			})));
			await write(index);
			top = {mediaType: 'application/vnd.oci.image.index.v1+json', digest: index.digest, size: index.size};
		} else {
			const only = manifests[0]!.descriptor;
			top = {mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: only.digest, size: only.size};
		}

		await writeFile(join(layout, 'oci-layout'), JSON.stringify({imageLayoutVersion: '1.0.0'}));
		await writeFile(join(layout, 'index.json'), JSON.stringify({schemaVersion: 2, manifests: [{...top, annotations: {'org.opencontainers.image.ref.name': 'push'}}]}));
		const digestFile = join(layout, 'pushed-digest');
		await must('skopeo', [
			'copy', '--insecure-policy', '--quiet', '--dest-tls-verify=false',
			...(Array.isArray(variants) ? ['--all'] : []),
			...(options.credentials === undefined ? [] : ['--dest-creds', options.credentials]),
			...(options.format === 'v2s2' ? ['--format', 'v2s2'] : []),
			'--digestfile', digestFile,
			`oci:${layout}:push`, `docker://${target}`,
		], {timeoutMs: 120_000});
		const digest = (await readFile(digestFile, 'utf8')).trim();
		await rm(layout, {recursive: true, force: true});
		return digest;
	}

	async #base(): Promise<{compressed: Blob; diffId: string}> {
		this.#baseLayer ??= (async () => {
			const busybox = await readFile(this.#busybox);
			const layer = tar([{path: 'bin/'}, {path: 'bin/busybox', content: busybox, mode: 0o755}, {path: 'tmp/', mode: 0o1777}]);
			return {compressed: blob(gzipSync(layer)), diffId: blob(layer).digest};
		})();
		return this.#baseLayer;
	}
}

export {hostPlatform};
