import {readFile, writeFile} from 'node:fs/promises';
import {join} from 'node:path';
import {beforeEach, describe, expect, it} from 'vitest';
import {StoreError} from '../../source/core/errors.ts';
import {pinMatches} from '../../source/core/pins.ts';
import {summarize, type ContainerResult, type ScanReport} from '../../source/core/types.ts';
import {announcedRetentionMs} from '../../source/store/announced.ts';
import {imageLabelsBytesLimit, imageLabelsLimit} from '../../source/store/image-labels.ts';
import {
	JsonSettings, JsonStore, forgetAnnouncement, imageLabelsFor, isAnnounced, isHostName, lastAnnouncement, recordAnnouncement, rememberImageLabels, rememberScan,
} from '../../source/store/store.ts';
import {temporaryDirectory} from '../helpers/temporary.ts';

let path: string;
beforeEach(async () => {
	path = join(await temporaryDirectory('updock-store-settings-'), 'updock.json');
});

describe('pinMatches', () => {
	it.each<[string, {host?: string}, string, string, boolean]>([
		['a pin on the host', {host: 'prod'}, 'prod', 'web', true],
		['a pin on another host', {host: 'prod'}, 'local', 'web', false],
		['an old pin, asked on the default host', {}, 'local', 'web', true],
		['an old pin, asked on another host', {}, 'prod', 'web', false],
		['another name', {host: 'prod'}, 'prod', 'db', false],
	])('%s', (_, where, host, name, expected) => {
		expect(pinMatches({...where, name: 'web', containerId: 'x', pinnedAt: ''}, host, name, 'local')).toBe(expected);
	});
});

describe('pins on hosts', () => {
	it('pins the same name on two hosts, and a pin saved without a host belongs to the default one', async () => {
		await writeFile(path, JSON.stringify({pins: [{name: 'web', containerId: 'old', pinnedAt: '2025-01-01T00:00:00.000Z'}]}));
		const settings = new JsonSettings(new JsonStore(path, {defaultHost: 'laptop'}));
		expect(await settings.pin('web', 'c1')).toBe(false);
		expect(await settings.pin('web', 'c1', 'laptop')).toBe(false);
		expect(await settings.pin('web', 'c2', 'prod')).toBe(true);
		expect(await settings.pin('web', 'c2', 'prod')).toBe(false);
		expect(await settings.unpin('web', 'staging')).toBe(false);
		expect(await settings.unpin('web', 'laptop')).toBe(true);
		expect((await settings.load()).pins).toMatchObject([{host: 'prod', name: 'web', containerId: 'c2'}]);
		expect(await settings.unpin('web', 'prod')).toBe(true);
		expect(await settings.pin('db', 'c3')).toBe(true);
		expect((await settings.load()).pins).toMatchObject([{host: 'laptop', name: 'db'}]);
	});
});

describe('saved hosts', () => {
	it('adds with unique names, lists in order, removes', async () => {
		const settings = new JsonSettings(new JsonStore(path));
		const added = await settings.addHost({name: 'prod', address: 'tcp://10.0.0.1:2376', tlsVerify: true, certPath: '/certs/prod'});
		expect(added).toMatchObject({added: true, host: {name: 'prod', address: 'tcp://10.0.0.1:2376', tlsVerify: true, certPath: '/certs/prod'}});
		expect(await settings.addHost({name: 'edge', address: 'ssh://me@edge'})).toMatchObject({added: true});
		const again = await settings.addHost({name: 'prod', address: 'tcp://elsewhere:2375'});
		expect(again).toMatchObject({added: false, existing: {address: 'tcp://10.0.0.1:2376'}});
		expect((await settings.listHosts()).map(host => host.name)).toEqual(['prod', 'edge']);
		expect(await settings.removeHost('prod')).toMatchObject({name: 'prod'});
		expect(await settings.removeHost('prod')).toBeUndefined();
		expect((await settings.listHosts()).map(host => host.name)).toEqual(['edge']);
		expect(JSON.parse(await readFile(path, 'utf8'))).toMatchObject({hosts: [{name: 'edge', address: 'ssh://me@edge'}]});
	});

	it.each([['prod', true], ['prod-eu.1', true], ['', false], ['prod/eu', false], ['my host', false], ['a\u001B[2Jb', false], ['\u202Eevil', false]])('isHostName(%j) is %s', (name, expected) => {
		expect(isHostName(name)).toBe(expected);
	});

	it('refuses a host whose name the file could not hold, and writes nothing', async () => {
		const settings = new JsonSettings(new JsonStore(path));
		await expect(settings.addHost({name: 'a\nb', address: 'tcp://x:2375'})).rejects.toBeInstanceOf(StoreError);
		await expect(readFile(path)).rejects.toThrow();
	});
});

describe('what serve announced', () => {
	const row = (host: string, name: string): ContainerResult => ({
		host, kind: 'container', service: null, id: name, name, image: 'nginx:1', state: 'running', imageId: '', platform: null, reference: null,
		verdict: {status: 'unknown', reason: ''},
	});
	const report = (containers: ContainerResult[], failed: string[] = []): ScanReport => ({
		scannedAt: '2026-01-01T00:00:00.000Z', durationMs: 1, containers, summary: summarize(containers),
		hosts: failed.map(name => ({name, address: '', state: 'error', error: 'refused', total: 0})),
	});

	it('remembers an announcement across loads, tells a new digest or tag from the one announced, forgets on request', async () => {
		const store = new JsonStore(path);
		await store.update(data => recordAnnouncement(data, {host: 'prod', name: 'web', digest: 'sha256:2', tag: '1.27'}, new Date('2026-01-01T00:00:00.000Z')));
		const data = await store.load();
		expect(lastAnnouncement(data, 'prod', 'web')).toEqual({digest: 'sha256:2', tag: '1.27', at: '2026-01-01T00:00:00.000Z', seenAt: '2026-01-01T00:00:00.000Z'});
		expect(isAnnounced(data, {host: 'prod', name: 'web', digest: 'sha256:2', tag: '1.27'})).toBe(true);
		expect(isAnnounced(data, {host: 'prod', name: 'web', digest: 'sha256:3', tag: '1.27'})).toBe(false);
		expect(isAnnounced(data, {host: 'prod', name: 'web', digest: 'sha256:2', tag: '1.28'})).toBe(false);
		expect(isAnnounced(data, {host: 'local', name: 'web', digest: 'sha256:2', tag: '1.27'})).toBe(false);
		expect(lastAnnouncement(data, 'prod', 'constructor')).toBeUndefined();
		await store.update(saved => forgetAnnouncement(saved, 'prod', 'web'));
		expect(lastAnnouncement(await store.load(), 'prod', 'web')).toBeUndefined();
	});

	it('forgets containers no full scan has seen for 30 days, except on hosts that scan could not reach', async () => {
		const store = new JsonStore(path);
		const start = new Date('2026-01-01T00:00:00.000Z');
		await store.update(data => {
			for (const update of ['web', 'db', 'gone'].map(name => ({host: 'prod', name, digest: 'sha256:2'})).concat({host: 'edge', name: 'app', digest: 'sha256:2'})) {
				recordAnnouncement(data, update, start);
			}
		});
		const later = (days: number): Date => new Date(start.getTime() + (days * 24 * 60 * 60 * 1000));
		// Day 20: web and db are seen; gone is not; edge is down.
		await store.update(data => rememberScan(data, report([row('prod', 'web'), row('prod', 'db')], ['edge']), new Map(), later(20)));
		// A partial scan sees only web: it says nothing about the others.
		await store.update(data => rememberScan(data, report([row('prod', 'web')]), new Map(), later(45), true));
		expect(Object.keys((await store.load()).announced).sort()).toEqual(['edge/app', 'prod/db', 'prod/gone', 'prod/web']);
		await store.update(data => rememberScan(data, report([row('prod', 'web')], ['edge']), new Map(), new Date(later(20).getTime() + announcedRetentionMs + 1)));
		expect(Object.keys((await store.load()).announced).sort()).toEqual(['edge/app', 'prod/web']);
	});
});

describe('image labels by digest', () => {
	const digest = (index: number): string => `sha256:${index.toString(16).padStart(64, '0')}`;

	it('remembers labels by digest within a per-image budget, bounded, skipping keys that are not digests', async () => {
		const store = new JsonStore(path);
		const labels = {'org.opencontainers.image.version': '1.2.3', huge: 'x'.repeat(imageLabelsBytesLimit), 'org.opencontainers.image.source': 'https://github.com/acme/app'};
		await store.update(data => rememberImageLabels(data, new Map<string, Record<string, string>>([[digest(0), labels], ['__proto__', {a: 'b'}], ['not a digest', {a: 'b'}]]), new Date('2026-01-01T00:00:00.000Z')));
		let data = await store.load();
		expect(imageLabelsFor(data, digest(0))).toEqual({'org.opencontainers.image.version': '1.2.3', 'org.opencontainers.image.source': 'https://github.com/acme/app'});
		expect(Object.keys(data.imageLabels)).toEqual([digest(0)]);
		expect(imageLabelsFor(data, 'toString')).toBeUndefined();

		await store.update(saved => rememberImageLabels(saved, new Map(Array.from({length: imageLabelsLimit + 10}, (_, index) => [digest(index + 1), {v: String(index)}])), new Date('2026-02-01T00:00:00.000Z')));
		data = await store.load();
		expect(Object.keys(data.imageLabels)).toHaveLength(imageLabelsLimit);
		expect(imageLabelsFor(data, digest(0))).toBeUndefined();
	});
});
