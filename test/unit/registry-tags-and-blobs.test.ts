import {createHash} from 'node:crypto';
import {MockAgent} from 'undici';
import {afterEach, beforeEach, describe, expect, it} from 'vitest';
import {RegistryError} from '../../source/core/errors.ts';
import {parseReference} from '../../source/core/reference.ts';
import {RegistryAuth} from '../../source/registry/auth.ts';
import {HttpRegistryClient, maxTags} from '../../source/registry/client.ts';
import {RegistryHttp} from '../../source/registry/http.ts';
import {nextLink} from '../../source/registry/tags.ts';

/** Tag listing, manifests and blobs by digest: the corners a real registry here will not show. */
const sha = (body: string | Buffer): string => `sha256:${createHash('sha256').update(body).digest('hex')}`;
const reference = parseReference('ghcr.io/acme/app:1');
let agent: MockAgent;

function client(): HttpRegistryClient {
	const http = new RegistryHttp({timeoutMs: 2000, connectionsPerHost: 2, userAgent: 'updock-test', retryBaseMs: 1, env: {}, dispatcherFor: origin => agent.get(origin)});
	return new HttpRegistryClient(http, new RegistryAuth(http, {source: 'none', get: async () => undefined}));
}

async function failure(promise: Promise<unknown>): Promise<RegistryError> {
	const error = await promise.then(() => undefined, (caught: unknown) => caught);
	expect(error instanceof RegistryError).toBe(true);
	return error as RegistryError;
}

const ghcr = () => agent.get('https://ghcr.io');

beforeEach(() => {
	agent = new MockAgent();
	agent.disableNetConnect();
});

/** The ping of a new client (every client pings once). */
const ping = (): void => {
	ghcr().intercept({path: '/v2/', method: 'GET'}).reply(200, '{}');
};

afterEach(async () => {
	agent.assertNoPendingInterceptors();
	await agent.close();
});

describe('listTags', () => {
	it('follows Link pages relative to the request, and drops entries that are not tags', async () => {
		ping();
		ghcr().intercept({path: '/v2/acme/app/tags/list?n=1000', method: 'GET'}).reply(200, {name: 'acme/app', tags: ['1.0', '1.1', '\u001B[2Jevil', 42]}, {headers: {link: '</v2/acme/app/tags/list?n=1000&last=1.1>; rel="next"'}});
		ghcr().intercept({path: '/v2/acme/app/tags/list?n=1000&last=1.1', method: 'GET'}).reply(200, {name: 'acme/app', tags: ['2.0']}, {headers: {link: '<list?last=2.0>; rel=next'}});
		ghcr().intercept({path: '/v2/acme/app/tags/list?last=2.0', method: 'GET'}).reply(200, {name: 'acme/app', tags: null});
		expect(await client().listTags(reference)).toEqual(['1.0', '1.1', '2.0']);
	});

	it('refuses a next page on another origin', async () => {
		ping();
		ghcr().intercept({path: '/v2/acme/app/tags/list?n=1000', method: 'GET'}).reply(200, {tags: ['1']}, {headers: {link: '<https://evil.example/v2/acme/app/tags/list?last=1>; rel="next"'}});
		const error = await failure(client().listTags(reference));
		expect(error.message).toBe('Registry ghcr.io sent the next page of tags to https://evil.example, another origin; updock lists tags on the registry only.');
	});

	it('keeps at most 100,000 tags of a repository, however they are paged', async () => {
		ping();
		// One page within its 4 MiB cap, of more one-letter tags than a spread of arguments takes.
		const many = Array.from({length: 150_000}, (_, index) => String.fromCodePoint(97 + (index % 26)));
		ghcr().intercept({path: '/v2/acme/app/tags/list?n=1000', method: 'GET'}).reply(200, {tags: many});
		const error = await failure(client().listTags(reference));
		expect(error.code).toBe('TOO_MANY_TAGS');
		expect(error.message).toBe('Registry ghcr.io lists more than 100,000 tags for acme/app; updock keeps no more than that of one repository.');

		// Exactly the cap, over two pages, is kept whole.
		ping();
		const half = many.slice(0, maxTags / 2);
		ghcr().intercept({path: '/v2/acme/app/tags/list?n=1000', method: 'GET'}).reply(200, {tags: half}, {headers: {link: '</v2/acme/app/tags/list?last=z>; rel="next"'}});
		ghcr().intercept({path: '/v2/acme/app/tags/list?last=z', method: 'GET'}).reply(200, {tags: half});
		expect(await client().listTags(reference)).toHaveLength(maxTags);
	});

	it('stops after 20 pages', async () => {
		ping();
		ghcr().intercept({path: /\/v2\/acme\/app\/tags\/list/, method: 'GET'}).reply(200, {tags: ['x']}, {headers: {link: '</v2/acme/app/tags/list?last=x>; rel="next"'}}).times(20);
		const error = await failure(client().listTags(reference));
		expect(error.code).toBe('TOO_MANY_PAGES');
	});

	it('says what is wrong: unknown repository, over the cap, not a tag list', async () => {
		ping();
		ghcr().intercept({path: '/v2/acme/app/tags/list?n=1000', method: 'GET'}).reply(404, {errors: [{code: 'NAME_UNKNOWN', message: 'repository name not known to registry'}]});
		expect((await failure(client().listTags(reference))).message).toBe('Repository ghcr.io/acme/app does not exist (or is not visible to you) on ghcr.io.');
		ping();
		ghcr().intercept({path: '/v2/acme/app/tags/list?n=1000', method: 'GET'}).reply(200, '{"tags": []}', {headers: {'content-length': String(5 * 1024 * 1024)}});
		expect((await failure(client().listTags(reference))).message).toMatch(/sent more than 4 MiB for .*tags\/list\?n=1000; a page of tags is never that large/);
		ping();
		ghcr().intercept({path: '/v2/acme/app/tags/list?n=1000', method: 'GET'}).reply(200, '<html>');
		expect((await failure(client().listTags(reference))).code).toBe('TAGS_INVALID');
	});

	it.each([
		['</a?last=1>; rel="next"', 'https://ghcr.io/a?last=1'],
		['<https://ghcr.io/b>; rel="prev", </c>; rel="next"', 'https://ghcr.io/c'],
		['</d>; title="x"; rel="next"', 'https://ghcr.io/d'],
		['</e>; rel="previous"', undefined],
		['garbage', undefined],
	])('Link %j -> %j', (link, expected) => {
		expect(nextLink(link, 'https://ghcr.io/v2/acme/app/tags/list?n=1000', 'https://ghcr.io', 'ghcr.io')?.href).toBe(expected);
	});
});

describe('manifests, blobs and labels by digest', () => {
	const config = JSON.stringify({architecture: 'amd64', os: 'linux', config: {Labels: {'org.opencontainers.image.source': 'https://github.com/acme/app', weird: 7}}});
	const amd64 = JSON.stringify({schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config: {digest: sha(config), size: config.length}, layers: []});
	const index = JSON.stringify({schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests: [
		{digest: `sha256:${'9'.repeat(64)}`, platform: {os: 'linux', architecture: 'arm64'}},
		{digest: sha(amd64), platform: {os: 'linux', architecture: 'amd64'}},
	]});

	it('getConfigLabels picks linux/amd64 from an index, verifies each digest, keeps string labels', async () => {
		ping();
		ghcr().intercept({path: `/v2/acme/app/manifests/${sha(index)}`, method: 'GET'}).reply(200, index);
		ghcr().intercept({path: `/v2/acme/app/manifests/${sha(amd64)}`, method: 'GET'}).reply(200, amd64);
		ghcr().intercept({path: `/v2/acme/app/blobs/${sha(config)}`, method: 'GET'}).reply(307, '', {headers: {location: 'https://storage.example/config?sig=1'}});
		agent.get('https://storage.example').intercept({path: '/config?sig=1', method: 'GET'}).reply(200, config);
		expect(await client().getConfigLabels(reference, sha(index))).toEqual({'org.opencontainers.image.source': 'https://github.com/acme/app'});
	});

	it('getBlob refuses bytes that do not match the digest, and more than asked for', async () => {
		ping();
		ghcr().intercept({path: `/v2/acme/app/blobs/${sha('right')}`, method: 'GET'}).reply(200, 'wrong');
		expect((await failure(client().getBlob(reference, sha('right'), 1024))).code).toBe('DIGEST_MISMATCH');
		ping();
		ghcr().intercept({path: `/v2/acme/app/blobs/${sha('x'.repeat(2048))}`, method: 'GET'}).reply(200, 'x'.repeat(2048));
		const large = await failure(client().getBlob(reference, sha('x'.repeat(2048)), 1024));
		expect(large.message).toMatch(/sent more than 1024 bytes for .*; updock reads at most that much of sha256:/);
		await expect(client().getBlob(reference, '../../etc/passwd', 1024)).rejects.toMatchObject({code: 'DIGEST_INVALID'});
	});

	it('getManifest returns the bytes as received, their media type and JSON', async () => {
		ping();
		ghcr().intercept({path: `/v2/acme/app/manifests/${sha(index)}`, method: 'GET'}).reply(200, index, {headers: {'content-type': 'application/vnd.oci.image.index.v1+json'}});
		const fetched = await client().getManifest(reference, sha(index));
		expect(fetched.mediaType).toBe('application/vnd.oci.image.index.v1+json');
		expect(fetched.bytes.toString('utf8')).toBe(index);
		expect(fetched.json).toEqual(JSON.parse(index));
	});
});
