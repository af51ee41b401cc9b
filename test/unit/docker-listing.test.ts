import {Readable} from 'node:stream';
import {describe, expect, it} from 'vitest';
import {DockerUnavailableError} from '../../source/core/errors.ts';
import {imageLinks} from '../../source/core/links.ts';
import {engineLimits} from '../../source/docker/engine-api.ts';
import type {EngineTarget} from '../../source/docker/failures.ts';
import {listRead, readListing, type ListingSpec} from '../../source/docker/listing.ts';
import {containerSummarySchema, isReadLabel, type ContainerSummary} from '../../source/docker/schemas.ts';

const target: EngineTarget = {name: 'local', address: {kind: 'unix', socketPath: '/run/fake.sock', display: 'unix:///run/fake.sock', origin: 'DOCKER_HOST'}};
const spec: ListingSpec = {
	name: '/containers/json',
	limit: engineLimits.containers,
	maxEntries: engineLimits.listEntries,
	maxEntryBytes: engineLimits.listEntry,
	maxKeptBytes: engineLimits.listKept,
	maxDepth: engineLimits.depth,
	entry: containerSummarySchema,
	lists: new WeakMap(),
};
const mebibyte = 1024 * 1024;

function entry(index: number, extra: Record<string, unknown> = {}): Record<string, unknown> {
	return {
		Id: index.toString(16).padStart(64, 'a'), Names: [`/c${index}`], Image: 'nginx:1', ImageID: `sha256:${'b'.repeat(64)}`, State: 'running',
		Command: 'nginx -g "daemon off;"', Ports: [{PrivatePort: 80, Type: 'tcp'}], NetworkSettings: {Networks: {bridge: {IPAddress: '172.17.0.2'}}},
		Labels: {'com.docker.compose.project': 'shop', 'org.opencontainers.image.description': 'x'.repeat(600), 'org.opencontainers.image.source': 'https://github.com/acme/shop', 'updock.tags': 'off'},
		...extra,
	};
}

/** A body of these chunks, or chunks made on demand (counted in `pulled`) until `more` says no. */
function body(chunks: Iterable<string | Buffer>): Readable {
	return Readable.from(chunks, {objectMode: false});
}

class Endless {
	pulled = 0;
	constructor(readonly head: string, readonly chunk: string, readonly max = 256 * mebibyte) {}

	* [Symbol.iterator](): Generator<Buffer> {
		yield Buffer.from(this.head);
		const chunk = Buffer.from(this.chunk);
		while (this.pulled < this.max) {
			this.pulled += chunk.length;
			yield chunk;
		}
	}
}

async function read(chunks: Iterable<string | Buffer>, with_: Partial<ListingSpec> = {}): Promise<unknown> {
	return readListing(target, '/v1.47/containers/json?all=true', body(chunks), {...spec, ...with_}, new AbortController().signal);
}

async function refusal(chunks: Iterable<string | Buffer>, with_: Partial<ListingSpec> = {}): Promise<string> {
	const error = await read(chunks, with_).then(() => undefined, (error: unknown) => error);
	expect(error).toBeInstanceOf(DockerUnavailableError);
	const {message} = error instanceof Error ? error : new Error('not an error');
	expect(message).toContain('unix:///run/fake.sock');
	expect(message).toContain('DOCKER_HOST');
	return message;
}

describe('a listing read entry by entry', () => {
	it('keeps only what updock reads of each entry, whatever the chunks split', async () => {
		const text = `${JSON.stringify([entry(1), entry(2, {Labels: null, Names: null})])}\n`;
		const bytes = Buffer.from(text);
		// One byte at a time: every token split across chunks.
		const entries = await read([...bytes].map(byte => Buffer.from([byte])));
		expect(entries).toEqual([
			{Id: entry(1)['Id'], Names: ['/c1'], Image: 'nginx:1', ImageID: `sha256:${'b'.repeat(64)}`, State: 'running', Labels: {'org.opencontainers.image.source': 'https://github.com/acme/shop', 'updock.tags': 'off'}},
			{Id: entry(2)['Id'], Names: [], Image: 'nginx:1', ImageID: `sha256:${'b'.repeat(64)}`, State: 'running', Labels: {}},
		]);
		expect(await read(['[]'])).toEqual([]);
		expect(await read(['  [ ', ' ] \n'])).toEqual([]);
	});

	it('knows the lists it read under its spec, and nothing else, so they are not checked twice', async () => {
		const listSpec: ListingSpec<ContainerSummary> = {...spec, entry: containerSummarySchema, lists: new WeakMap()};
		const list = await readListing(target, '/v1.47/containers/json?all=true', body([JSON.stringify([entry(1)])]), listSpec, new AbortController().signal);
		expect(listRead(listSpec, list)).toBe(list);
		expect(listRead(listSpec, list)?.[0]?.Names).toEqual(['/c1']);
		// A copy of the same entries, another spec's list, or no object at all: the caller checks those.
		expect(listRead(listSpec, [...list])).toBeUndefined();
		expect(listRead({...listSpec, lists: new WeakMap()}, list)).toBeUndefined();
		expect(listRead(listSpec, null)).toBeUndefined();
		expect(listRead(listSpec, 'list')).toBeUndefined();
	});

	it('tells once when a listing has kept the entries it was told to watch for', async () => {
		let told = 0;
		const watch = {entries: 3, reached() {
			told++;
		}};
		const listing = async (count: number): Promise<readonly unknown[]> => {
			const text = JSON.stringify(Array.from({length: count}, (_, index) => entry(index)));
			// One byte at a time, so the entries are counted as they stream.
			return readListing(target, '/containers/json', body([...Buffer.from(text)].map(byte => Buffer.from([byte]))), spec, new AbortController().signal, watch);
		};

		expect(await listing(2)).toHaveLength(2);
		expect(told).toBe(0);
		expect(await listing(3)).toHaveLength(3);
		expect(told).toBe(1);
		expect(await listing(7)).toHaveLength(7);
		expect(told).toBe(2);
	});

	it('keeps characters split across chunks and escapes as JSON.parse does', async () => {
		const labels = {'updock.tags.include': '^caf\u00E9-\u20AC-\uD83D\uDE00$', 'updock.enable': 'a"b\\c\u0001', 'updock.tags': '}]"[{,\\'};
		const bytes = Buffer.from(JSON.stringify([entry(1, {Labels: labels})]));
		const entries = await read([...bytes].map(byte => Buffer.from([byte])));
		expect(entries).toEqual([expect.objectContaining({Labels: labels})]);
	});

	it.each([
		['an entry of another shape names its index and field', `[${JSON.stringify(entry(0))},${JSON.stringify(entry(1))},${JSON.stringify(entry(2, {Image: 7}))}]`, /JSON of another shape than the Engine API's \(at 2\.Image: /],
		['a null entry', '[null]', /another shape.*\(at 0: /],
		['an object instead of a list', '{"message":"page not found"}', /another shape.*at the top: not a list/],
		['a string instead of a list', '"hello"', /another shape.*at the top/],
		['HTML', '<html><body>Not Docker</body></html>', /something that is not JSON \(it starts "<html><body>Not Docker<\/body><\/html>"/],
		['a body that breaks off', '[{"Id": "abc", ', /something that is not JSON \(it starts "\[\{\\"Id\\": \\"abc\\","/],
		['an empty body', '', /something that is not JSON \(it starts ""\)/],
		['more after the list', '[] []', /not JSON/],
		['a comma after the last entry', `[${JSON.stringify(entry(0))},]`, /not JSON/],
		['a comma before the first entry', `[,${JSON.stringify(entry(0))}]`, /not JSON/],
		['two entries without a comma', `[${JSON.stringify(entry(0))} ${JSON.stringify(entry(1))}]`, /not JSON/],
		['brackets that do not match', `[${JSON.stringify(entry(0)).slice(0, -1)}]]`, /not JSON/],
		['a list that breaks off after a number', '[1', /not JSON/],
		['numbers instead of entries', '[1, 2]', /another shape.*\(at 0: /],
	])('%s', async (_name, text, pattern) => {
		const message = await refusal([text]);
		expect(message).toMatch(pattern);
		expect(message).toContain('answered /containers/json with');
	});

	it('stops at the byte cap while it streams, naming the path as sent', async () => {
		const endless = new Endless('[', `${JSON.stringify(entry(1))},`);
		const message = await refusal(endless, {limit: 4 * mebibyte});
		expect(message).toContain('sent more than 4 MiB for /v1.47/containers/json?all=true');
		expect(endless.pulled).toBeLessThan(5 * mebibyte);
	});

	it.each([
		['an endless string', new Endless('["', 'x'.repeat(64 * 1024))],
		['an endless string as a label value', new Endless(`[${JSON.stringify(entry(0))},{"Id":"a","Labels":{"updock.enable":"`, 'x'.repeat(64 * 1024))],
		['a number of endless digits', new Endless('[1', '7'.repeat(64 * 1024))],
		['an entry of endless members', new Endless('[{"Id":"a"', ',"k":[1,2,3]'.repeat(4096))],
	])('%s: refused once the entry passes 1 MiB, not at the body cap', async (_name, endless) => {
		const message = await refusal(endless);
		expect(message).toMatch(/an entry larger than 1 MiB \(at [01]\)/);
		expect(endless.pulled).toBeLessThan(2 * mebibyte);
	});

	it('white space between entries is no entry: only the body cap bounds it', async () => {
		const endless = new Endless('[', ' '.repeat(64 * 1024));
		const message = await refusal(endless, {limit: 3 * mebibyte});
		expect(message).toContain('sent more than 3 MiB');
		expect(endless.pulled).toBeGreaterThan(2 * mebibyte);
	});

	it('deep nesting is refused at the depth cap', async () => {
		const endless = new Endless('', '['.repeat(64 * 1024));
		const message = await refusal(endless);
		expect(message).toMatch(/JSON nested more than 64 deep/);
		expect(endless.pulled).toBeLessThan(mebibyte);
		expect(await refusal([`[{"Id":"a","Labels":${'{"a":'.repeat(70)}1${'}'.repeat(70)}}]`])).toMatch(/nested more than 64 deep/);
	});

	it('refuses more entries than its cap, and more kept bytes than its cap', async () => {
		const entries = Array.from({length: 11}, (_, index) => JSON.stringify(entry(index)));
		expect(await read([`[${entries.slice(0, 10).join(',')}]`], {maxEntries: 10})).toHaveLength(10);
		expect(await refusal([`[${entries.join(',')}]`], {maxEntries: 10})).toMatch(/a list of more than 10 entries/);
		// Each kept entry is about 300 bytes of JSON (the long description label is not kept).
		expect(await refusal([`[${entries.join(',')}]`], {maxKeptBytes: 2048})).toMatch(/what updock keeps .* passes 2 KiB at [5-9]\b/);
	});

	it('an aborted read ends the body', async () => {
		const controller = new AbortController();
		const stream = body(new Endless('[', `${JSON.stringify(entry(1))},`));
		const reading = readListing(target, '/containers/json', stream, spec, controller.signal);
		controller.abort(new Error('stop'));
		await expect(reading).rejects.toThrow('stop');
		expect(stream.destroyed).toBe(true);
	});
});

describe('the labels a listing keeps', () => {
	const every = {
		'updock.enable': 'false', 'updock.tags': 'off', 'updock.tags.include': '^1\\.', 'updock.tags.exclude': '-rc',
		'com.docker.swarm.service.id': 'svc1', 'com.docker.compose.project': 'shop',
		...Object.fromEntries(['created', 'authors', 'url', 'documentation', 'source', 'version', 'revision', 'vendor', 'licenses', 'ref.name', 'title', 'description', 'base.digest', 'base.name']
			.map(name => [`org.opencontainers.image.${name}`, name === 'revision' ? 'a'.repeat(40) : name === 'version' ? '1.2.3' : `https://github.com/acme/${name}`])),
		...Object.fromEntries(['build-date', 'name', 'description', 'usage', 'url', 'vcs-url', 'vcs-ref', 'vendor', 'version', 'schema-version']
			.map(name => [`org.label-schema.${name}`, name === 'vcs-ref' ? 'b'.repeat(40) : name === 'version' ? '2.0.0' : `https://gitlab.com/acme/${name}`])),
	};
	const kept = Object.fromEntries(Object.entries(every).filter(([name]) => isReadLabel(name)));

	it('are those updock reads: links come out the same from them as from all of them', () => {
		expect(imageLinks(kept, every, '1.2.4')).toEqual(imageLinks(every, every, '1.2.4'));
		// Each alone too: a links label dropped by mistake shows even when another would stand in for it.
		for (const [name, value] of Object.entries(every)) {
			expect(imageLinks(Object.fromEntries(Object.entries({[name]: value}).filter(([key]) => isReadLabel(key))), null, null)).toEqual(imageLinks({[name]: value}, null, null));
		}

		expect(Object.keys(kept).filter(name => name.startsWith('updock.') || name.startsWith('com.'))).toEqual(['updock.enable', 'updock.tags', 'updock.tags.include', 'updock.tags.exclude', 'com.docker.swarm.service.id']);
	});
});
