import {readFile, writeFile} from 'node:fs/promises';
import {join} from 'node:path';
import {beforeEach, describe, expect, it} from 'vitest';
import {StoreError} from '../../source/core/errors.ts';
import {JsonSettings, JsonStore, lastScanRepositories} from '../../source/store/store.ts';
import {temporaryDirectory} from '../helpers/temporary.ts';

let dir: string;
let path: string;
beforeEach(async () => {
	dir = await temporaryDirectory('updock-store-schema-');
	path = join(dir, 'updock.json');
});

const at = '2026-01-01T00:00:00.000Z';
const pin = (name: string): Record<string, unknown> => ({name, containerId: `id-${name}`, pinnedAt: at});
const exclusion = (id: number, pattern: string): Record<string, unknown> => ({id, pattern, createdAt: at});
const host = (name: string): Record<string, unknown> => ({name, address: 'tcp://10.0.0.1:2376', addedAt: at});

async function caught(promise: Promise<unknown>): Promise<StoreError> {
	const error: unknown = await promise.catch((thrown: unknown) => thrown);
	expect(error).toBeInstanceOf(StoreError);
	return error instanceof StoreError ? error : new StoreError('', 'not a StoreError');
}

describe('a file that does not validate is refused by path and field, and left byte for byte', () => {
	it.each<[string, unknown, string]>([
		['a pin without pinnedAt', {pins: [pin('a'), pin('b'), pin('c'), {name: 'd', containerId: 'x'}]}, 'pins[3].pinnedAt is missing (expected an ISO date)'],
		['a pin dated in words', {pins: [{...pin('a'), pinnedAt: 'yesterday'}]}, 'pins[0].pinnedAt is not an ISO date'],
		['pins that are not a list', {pins: {web: true}}, 'pins is not a list of pins'],
		['a pin that is a string', {pins: ['web']}, 'pins[0] is not a pin ({name, containerId, pinnedAt})'],
		['a pin without a name', {pins: [{...pin('a'), name: ''}]}, 'pins[0].name is not a non-empty string'],
		['a pin with a number for a container id', {pins: [{...pin('a'), containerId: 5}]}, 'pins[0].containerId is not a string'],
		['a pin on a host with a slash', {pins: [{...pin('a'), host: 'prod/eu'}]}, 'pins[0].host is not a host name (not empty; no "/", spaces or control characters)'],
		['an exclusion id that is not whole', {exclusions: [exclusion(1.5, 'a/*')]}, 'exclusions[0].id is not a whole number from 1'],
		['an exclusion that is not a pattern', {exclusions: [exclusion(1, 'not a pattern')]}, 'exclusions[0].pattern is not an image pattern'],
		['two exclusions with one id', {exclusions: [exclusion(1, 'a/*'), exclusion(1, 'b/*')]}, 'exclusions[1].id is 1, as exclusions[0].id is (ids must be unique)'],
		['an exclusion without a date', {exclusions: [{id: 1, pattern: 'a/*'}]}, 'exclusions[0].createdAt is missing (expected an ISO date)'],
		['a negative next exclusion id', {nextExclusionId: -1}, 'nextExclusionId is not a whole number from 1'],
		['hosts that are not a list', {hosts: 'prod'}, 'hosts is not a list of saved hosts'],
		['a host without an address', {hosts: [{name: 'prod', addedAt: at}]}, 'hosts[0].address is missing (expected a non-empty string)'],
		['a host with tlsVerify in words', {hosts: [{...host('prod'), tlsVerify: 'yes'}]}, 'hosts[0].tlsVerify is not true or false'],
		['two hosts with one name', {hosts: [host('prod'), host('prod')]}, 'hosts[1].name is "prod", as hosts[0].name is (names must be unique)'],
		['a version in quotes', {version: '1'}, 'version is not a whole number from 1'],
		['a list at the top', [], 'the top level is not an object'],
		['null at the top', null, 'the top level is not an object'],
	])('%s', async (_, content, field) => {
		const text = JSON.stringify(content, null, '\t');
		await writeFile(path, text);
		const store = new JsonStore(path);
		const expected = `The updock database ${path} is not in the expected shape: ${field}. Fix or move it; updock has not changed it.`;
		expect((await caught(store.load())).message).toBe(expected);
		expect((await caught(new JsonSettings(store).pin('web', 'id'))).message).toBe(expected);
		expect(await readFile(path, 'utf8')).toBe(text);
	});

	it.each<[string, string | Buffer, RegExp]>([
		['a file cut short', '{"pins": [', /is not valid JSON/],
		['a file that is not UTF-8', Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), /is not UTF-8 text/],
		['a file from a newer updock', '{"version": 2, "pins": "changed"}', /was written by a newer updock \(schema 2; this one reads 1\)/],
	])('%s', async (_, content, message) => {
		await writeFile(path, content);
		const store = new JsonStore(path);
		expect((await caught(store.load())).message).toMatch(message);
		expect((await caught(new JsonSettings(store).pin('web', 'id'))).message).toContain(path);
		expect(await readFile(path)).toEqual(Buffer.from(content));
	});
});

describe('what is kept and what is dropped', () => {
	const oldRow = {
		id: 'c1', name: 'web', image: 'nginx:1', state: 'running', imageId: `sha256:${'1'.repeat(64)}`,
		platform: {os: 'linux', architecture: 'amd64'}, reference: 'docker.io/library/nginx:1',
		verdict: {status: 'up-to-date', localDigest: `sha256:${'2'.repeat(64)}`, remoteDigest: `sha256:${'2'.repeat(64)}`},
	};
	const oldScan = {scannedAt: at, durationMs: 5, containers: [oldRow], summary: {total: 1, upToDate: 1, updateAvailable: 0, pinned: 0, excluded: 0, unknown: 0, error: 0}};

	it('reads results written before updock knew several engines as the default engine\'s', async () => {
		await writeFile(path, JSON.stringify({lastScan: oldScan}));
		const data = await new JsonStore(path, {defaultHost: 'laptop'}).load();
		expect(data.lastScan?.report()?.hosts).toEqual([]);
		expect(data.lastScan?.report()?.containers[0]).toMatchObject({host: 'laptop', kind: 'container', service: null, name: 'web'});
	});

	it('checks the last results when they are asked for, not when the file is read, and names their references unchecked', async () => {
		// Rows that do not validate: one without a verdict, one that is hardly a row.
		await writeFile(path, JSON.stringify({lastScan: {...oldScan, containers: [{...oldRow, verdict: 7}, {reference: 5}, 'x']}}));
		const store = new JsonStore(path);
		const data = await store.load();
		expect(data.lastScan).not.toBeNull();
		expect(data.lastScan?.references()).toEqual(['docker.io/library/nginx:1']);
		expect([...lastScanRepositories(data).values()]).toEqual([['library/nginx']]);
		expect(data.lastScan?.report()).toBeNull();
		// Dropped at the next write, as every cache that fails.
		await new JsonSettings(store).pin('web', 'id');
		expect(JSON.parse(await readFile(path, 'utf8'))).toMatchObject({lastScan: null, pins: [{name: 'web'}]});
	});

	it('leaves out an enrichment field that does not validate, keeps the valid ones, and counts the summary from the rows', async () => {
		const risk = {score: 40, level: 'medium'};
		const newer = [{tag: '1.1', type: 'minor'}];
		const rows = [{...oldRow, newer: 5, risk}, {...oldRow, id: 'c2', newer, links: {source: 'https://github.com/acme/app'}}];
		await writeFile(path, JSON.stringify({lastScan: {...oldScan, containers: rows, summary: {total: 99}}}));
		const data = await new JsonStore(path).load();
		const [first, second] = data.lastScan?.report()?.containers ?? [];
		expect(first?.newer).toBeUndefined();
		expect(first?.risk).toEqual(risk);
		expect(second?.newer).toEqual(newer);
		expect(second?.links).toBeUndefined();
		expect(data.lastScan?.report()?.summary).toMatchObject({total: 2, upToDate: 2, newerVersions: 1});
	});

	it('keeps unknown top-level keys and unknown fields of pins', async () => {
		await writeFile(path, JSON.stringify({pins: [{...pin('db'), note: 'until Friday'}], theme: {dark: true}}));
		await new JsonSettings(new JsonStore(path)).pin('web', 'id');
		const saved: unknown = JSON.parse(await readFile(path, 'utf8'));
		expect(saved).toMatchObject({theme: {dark: true}, pins: [{name: 'db', note: 'until Friday'}, {name: 'web'}]});
	});

	it('reads past caches it cannot use, and drops them at the next write while the user\'s data is intact', async () => {
		const digest = `sha256:${'a'.repeat(64)}`;
		const content = {
			pins: [pin('db')],
			exclusions: [exclusion(1, 'a/*')],
			hosts: [host('prod')],
			lastScan: 5,
			platformImages: {
				[`${digest}|linux/amd64`]: {manifestDigest: digest, configDigest: digest, seenAt: at},
				[`${digest}|linux/arm64`]: {manifestDigest: 7},
			},
			announced: {'prod/web': {digest, at}, 'prod/db': {digest: '', at}},
			imageLabels: {[digest]: {labels: {a: 'b'}, seenAt: at}, other: {labels: {a: 1}, seenAt: at}},
		};
		await writeFile(path, JSON.stringify(content));
		const store = new JsonStore(path);
		const data = await store.load();
		expect(data.lastScan).toBeNull();
		expect(Object.keys(data.platformImages)).toEqual([`${digest}|linux/amd64`]);
		expect(Object.keys(data.announced)).toEqual(['prod/web']);
		expect(Object.keys(data.imageLabels)).toEqual([digest]);
		// Loading wrote nothing.
		expect(JSON.parse(await readFile(path, 'utf8'))).toEqual(content);

		await new JsonSettings(store).pin('web', 'id');
		const saved: unknown = JSON.parse(await readFile(path, 'utf8'));
		expect(saved).toMatchObject({
			pins: [pin('db'), {name: 'web'}],
			exclusions: [exclusion(1, 'a/*')],
			hosts: [host('prod')],
			lastScan: null,
			platformImages: {[`${digest}|linux/amd64`]: {seenAt: at}},
			announced: {'prod/web': {digest}},
		});
		expect(Object.keys((await store.load()).platformImages)).toHaveLength(1);
	});

	it('does not write a change that would leave the file in a shape it refuses', async () => {
		await writeFile(path, '{"pins": []}');
		const settings = new JsonSettings(new JsonStore(path));
		const error = await caught(settings.addHost({name: 'prod/eu', address: 'tcp://10.0.0.1:2376'}));
		expect(error.message).toBe(`This change would leave the updock database ${path} in a shape updock refuses (hosts[0].name is not a host name (not empty; no "/", spaces or control characters)), so it was not written.`);
		expect(await readFile(path, 'utf8')).toBe('{"pins": []}');
	});
});
