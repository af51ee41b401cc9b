import {writeFile} from 'node:fs/promises';
import {join} from 'node:path';
import {afterAll, beforeAll, describe, expect, inject, it} from 'vitest';
import {RegistryError} from '../../source/core/errors.ts';
import {parseReference} from '../../source/core/reference.ts';
import {RegistryAuth} from '../../source/registry/auth.ts';
import {HttpRegistryClient} from '../../source/registry/client.ts';
import {DockerConfigCredentials} from '../../source/registry/credentials.ts';
import {RegistryHttp} from '../../source/registry/http.ts';
import {sha256Digest} from '../../source/registry/manifest.ts';
import {requestsDuring} from '../helpers/registry.ts';
import {Scene} from '../helpers/scene.ts';

/** Tags, manifests, blobs and labels from the sandbox's real registries: open, and behind Bearer tokens. */
const sandbox = inject('sandbox');
const {open, token} = sandbox;
const tags = ['1.0', '1.1', '1.2', '2.0', 'latest'];
const stacks: RegistryHttp[] = [];
let scene: Scene;
let indexDigest: string;
let configPath: string;

function client(options: {credentials?: boolean; tagPageSize?: number} = {}): HttpRegistryClient {
	const http = new RegistryHttp({timeoutMs: 15_000, connectionsPerHost: 4, userAgent: 'updock-e2e', env: {}});
	stacks.push(http);
	const credentials = new DockerConfigCredentials(options.credentials === false ? join(sandbox.root, 'no-such-config.json') : configPath);
	return new HttpRegistryClient(http, new RegistryAuth(http, credentials), {tagPageSize: options.tagPageSize});
}

beforeAll(async () => {
	scene = await Scene.create(sandbox, 'api');
	configPath = join(sandbox.root, 'api-config.json');
	await writeFile(configPath, JSON.stringify({auths: {[token.host]: {auth: Buffer.from(`${token.username}:${token.password}`).toString('base64')}}}));
	const variants = [{marker: 'api-amd64', platform: {os: 'linux', architecture: 'amd64'}}, {marker: 'api-arm64', platform: {os: 'linux', architecture: 'arm64'}}];
	for (const tag of tags) {
		indexDigest = await scene.push(scene.ref(open.host, 'app', tag), variants);
	}

	for (const tag of ['3.0', '3.1']) {
		await scene.push(scene.ref(token.host, 'private', tag), {marker: `private-${tag}`}, {credentials: `${token.username}:${token.password}`});
	}
});

afterAll(async () => {
	await Promise.all(stacks.map(async http => http.close()));
	await scene?.cleanup();
});

describe('listTags', () => {
	it('lists every tag in one request, also from a registry that ignores n', async () => {
		const reference = parseReference(scene.ref(open.host, 'app'));
		// distribution 2.8 ignores `n` on tags/list (pagination by Link is covered in test/unit): asked for
		// two a page, it sends all five and no Link, and that is the whole listing.
		const {result, requests} = await requestsDuring(open, async () => client({tagPageSize: 2}).listTags(reference));
		expect(result.sort()).toEqual([...tags].sort());
		expect(requests.filter(request => request.path.includes('/tags/list')).map(request => request.path)).toEqual([`/v2/api/app/tags/list?n=2`]);
		expect((await client().listTags(reference)).sort()).toEqual([...tags].sort());
	});

	it('authenticates like a manifest request on a Bearer registry, and says when it cannot', async () => {
		const reference = parseReference(scene.ref(token.host, 'private'));
		expect((await client().listTags(reference)).sort()).toEqual(['3.0', '3.1']);
		const refused = await client({credentials: false}).listTags(reference).catch((error: unknown) => error);
		expect(refused).toBeInstanceOf(RegistryError);
		expect((refused as RegistryError).message).toMatch(/token service .* refuses anonymous access|refused access/);
	});

	it('says so for a repository that does not exist', async () => {
		const error = await client().listTags(parseReference(scene.ref(open.host, 'nothing-here'))).catch((caught: unknown) => caught);
		expect(error).toMatchObject({code: 'NAME_UNKNOWN', message: `Repository ${open.host}/api/nothing-here does not exist (or is not visible to you) on ${open.host}.`});
	});
});

describe('manifests, blobs and labels by digest', () => {
	it('getManifest returns the index as pushed, getBlob a config, getConfigLabels its labels per platform', async () => {
		const registry = client();
		const reference = parseReference(scene.ref(open.host, 'app', '2.0'));
		const index = await registry.getManifest(reference, indexDigest);
		expect(index.mediaType).toBe('application/vnd.oci.image.index.v1+json');
		expect(sha256Digest(index.bytes)).toBe(indexDigest);
		expect(index.json).toMatchObject({manifests: [{platform: {architecture: 'amd64'}}, {platform: {architecture: 'arm64'}}]});

		expect(await registry.getConfigLabels(reference, indexDigest)).toEqual({'org.updock.marker': 'api-amd64'});
		expect(await registry.getConfigLabels(reference, indexDigest, undefined, {os: 'linux', architecture: 'arm64'})).toEqual({'org.updock.marker': 'api-arm64'});

		const {configDigest} = await registry.resolvePlatform(reference, indexDigest, {os: 'linux', architecture: 'amd64'});
		const config = await registry.getBlob(reference, configDigest, 64 * 1024);
		expect(sha256Digest(config)).toBe(configDigest);
		const tooSmall = await registry.getBlob(reference, configDigest, 16).catch((error: unknown) => error);
		expect(tooSmall).toMatchObject({code: 'TOO_LARGE'});
	});

	it('works on the Bearer registry with the same token scope', async () => {
		const reference = parseReference(scene.ref(token.host, 'private', '3.1'));
		const registry = client();
		const {digest} = await registry.headTag(reference);
		expect(await registry.getConfigLabels(reference, digest)).toEqual({'org.updock.marker': 'private-3.1'});
	});
});
