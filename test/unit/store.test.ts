import {readFile, readdir, stat, writeFile} from 'node:fs/promises';
import {join} from 'node:path';
import {beforeEach, describe, expect, it} from 'vitest';
import {JsonStore, lastScanRepositories, lastScanRowLimit, rememberScan, scanMemory} from '../../source/store/store.ts';
import {summarize, type ContainerResult, type HostReport, type ScanReport} from '../../source/core/types.ts';
import {temporaryDirectory} from '../helpers/temporary.ts';

let dir: string;
beforeEach(async () => {
	dir = await temporaryDirectory('updock-store-');
});

describe('JsonStore', () => {
	it('starts empty without writing, creates the file 0600 in a 0700 directory on the first change', async () => {
		const path = join(dir, 'nested', 'updock.json');
		const store = new JsonStore(path);
		expect((await store.load()).pins).toEqual([]);
		await expect(stat(path)).rejects.toThrow();
		await store.update(data => {
			data.pins.push({name: 'web', containerId: 'abc', pinnedAt: '2026-01-01T00:00:00.000Z'});
		});
		expect((await stat(path)).mode & 0o777).toBe(0o600);
		expect((await stat(join(dir, 'nested'))).mode & 0o777).toBe(0o700);
		expect(JSON.parse(await readFile(path, 'utf8'))).toMatchObject({version: 1, pins: [{name: 'web'}]});
		expect(await readdir(join(dir, 'nested'))).toEqual(['updock.json']);
	});

	it('does not write when the change throws', async () => {
		const path = join(dir, 'updock.json');
		await writeFile(path, '{"pins":[]}');
		await expect(new JsonStore(path).update(() => {
			throw new Error('changed my mind');
		})).rejects.toThrow('changed my mind');
		expect(await readFile(path, 'utf8')).toBe('{"pins":[]}');
	});

	it('remembers scans and platform resolutions, bounded', async () => {
		const store = new JsonStore(join(dir, 'updock.json'));
		const learned = new Map([[`sha256:${'a'.repeat(64)}|linux/amd64`, {manifestDigest: `sha256:${'b'.repeat(64)}`, configDigest: `sha256:${'c'.repeat(64)}`}]]);
		await store.update(data => {
			rememberScan(data, {scannedAt: '2026-01-01T00:00:00.000Z', hosts: [], durationMs: 5, containers: [], summary: summarize([])}, learned, new Date('2026-01-01T00:00:00.000Z'));
		});
		const memory = scanMemory(await store.load());
		expect(memory.platformImage(`sha256:${'a'.repeat(64)}`, {os: 'linux', architecture: 'amd64'})).toEqual(learned.values().next().value);
		expect(memory.platformImage(`sha256:${'a'.repeat(64)}`, {os: 'linux', architecture: 'arm64'})).toBeUndefined();

		await store.update(data => {
			const many = new Map(Array.from({length: 2100}, (_, index) => [`sha256:${index.toString(16).padStart(64, '0')}|linux/amd64`, {manifestDigest: '', configDigest: ''}]));
			rememberScan(data, data.lastScan!.report()!, many, new Date('2026-02-01T00:00:00.000Z'));
		});
		const data = await store.load();
		expect(Object.keys(data.platformImages)).toHaveLength(2000);
		expect(data.platformImages[`sha256:${'a'.repeat(64)}|linux/amd64`]).toBeUndefined();
	});

	it('merges a partial scan by host and id, and the hosts it reports', async () => {
		const store = new JsonStore(join(dir, 'updock.json'));
		const row = (host: string, id: string, status: 'up-to-date' | 'update-available'): ContainerResult => ({
			host, kind: 'container', service: null, id, name: `web-${id}`, image: 'nginx:1', state: 'running', imageId: '', platform: null,
			reference: 'docker.io/library/nginx:1', verdict: {status, localDigest: 'sha256:1', remoteDigest: status === 'up-to-date' ? 'sha256:1' : 'sha256:2'},
		});
		const hostReport = (name: string, state: 'ok' | 'error'): HostReport => ({name, address: `tcp://${name}:2375`, state, error: state === 'ok' ? null : 'refused', total: 1});
		const report = (containers: ContainerResult[], hosts: HostReport[]): ScanReport => ({scannedAt: '2026-01-01T00:00:00.000Z', hosts, durationMs: 1, containers, summary: summarize(containers)});
		await store.update(data => {
			rememberScan(data, report([row('a', 'c1', 'up-to-date'), row('b', 'c1', 'up-to-date')], [hostReport('a', 'ok'), hostReport('b', 'ok')]), new Map(), new Date());
		});
		await store.update(data => {
			rememberScan(data, report([row('b', 'c1', 'update-available'), row('b', 'c2', 'up-to-date')], [hostReport('b', 'error')]), new Map(), new Date(), true);
		});
		const lastScan = (await store.load()).lastScan?.report();
		expect(lastScan?.containers.map(result => `${result.host}/${result.id}:${result.verdict.status}`)).toEqual(['a/c1:up-to-date', 'b/c1:update-available', 'b/c2:up-to-date']);
		expect(lastScan?.summary).toMatchObject({total: 3, updateAvailable: 1});
		expect(lastScan?.hosts.map(host => `${host.name}:${host.state}`)).toEqual(['a:ok', 'b:error']);
	});

	it('names the registries and repositories of the last results, once each', async () => {
		const store = new JsonStore(join(dir, 'updock.json'));
		const row = (id: string, reference: string | null): ContainerResult => ({
			host: 'local', kind: 'container', service: null, id, name: id, image: reference ?? id, state: 'running', imageId: '', platform: null,
			reference, verdict: {status: 'unknown', reason: 'built here'},
		});
		expect(lastScanRepositories(await store.load())).toEqual(new Map());
		const containers = [row('a', 'docker.io/library/nginx:1'), row('b', 'docker.io/library/nginx:1'), row('c', 'docker.io/acme/api:2@sha256:' + '1'.repeat(64)), row('d', 'registry.local:5000/team/web:3'), row('e', null), row('f', 'not a reference')];
		await store.update(data => {
			rememberScan(data, {scannedAt: '2026-01-01T00:00:00.000Z', hosts: [], durationMs: 1, containers, summary: summarize(containers)}, new Map(), new Date());
		});
		expect(lastScanRepositories(await store.load())).toEqual(new Map([['docker.io', ['library/nginx', 'acme/api']], ['registry.local:5000', ['team/web']]]));
	});

	it(`keeps the last results only up to ${lastScanRowLimit} rows, and no partial scan without them`, async () => {
		const path = join(dir, 'updock.json');
		const store = new JsonStore(path);
		const row = (id: number): ContainerResult => ({
			host: 'local', kind: 'container', service: null, id: `c${id}`, name: `web-${id}`, image: 'nginx:1', state: 'running', imageId: '', platform: null,
			reference: 'docker.io/library/nginx:1', verdict: {status: 'up-to-date', localDigest: 'sha256:1', remoteDigest: 'sha256:1'},
		});
		const report = (containers: ContainerResult[]): ScanReport => ({scannedAt: '2026-01-01T00:00:00.000Z', hosts: [], durationMs: 1, containers, summary: summarize(containers)});
		const rows = Array.from({length: lastScanRowLimit + 1}, (_, index) => row(index));
		await store.update(data => {
			rememberScan(data, report(rows.slice(0, lastScanRowLimit)), new Map(), new Date());
		});
		expect((await store.load()).lastScan?.report()?.containers).toHaveLength(lastScanRowLimit);
		const small = (await stat(path)).size;
		await store.update(data => {
			rememberScan(data, report(rows), new Map(), new Date());
		});
		expect((await store.load()).lastScan).toBeNull();
		expect((await stat(path)).size).toBeLessThan(small / 100);
		await store.update(data => {
			rememberScan(data, report([row(1)]), new Map(), new Date(), true);
		});
		expect((await store.load()).lastScan).toBeNull();
	});

	it('writes the results of its own scans as they are, and checks them as it reads them back', async () => {
		const path = join(dir, 'updock.json');
		const store = new JsonStore(path);
		const results: ContainerResult[] = [{
			host: 'local', kind: 'container', service: null, id: 'c1', name: 'web', image: 'nginx:1', state: 'running', imageId: '', platform: null,
			reference: 'docker.io/library/nginx:1', verdict: {status: 'up-to-date', localDigest: 'sha256:1', remoteDigest: 'sha256:1'},
		}];
		const report: ScanReport = {scannedAt: '2026-01-01T00:00:00.000Z', hosts: [], durationMs: 1, containers: results, summary: summarize(results)};
		await store.update(data => {
			rememberScan(data, report, new Map(), new Date());
		});
		// The same object, not a checked copy; read back from another process's view of the file, a copy that checks.
		expect((await store.load()).lastScan?.report()).toBe(report);
		expect((await new JsonStore(path).load()).lastScan?.report()).toEqual(report);
	});
});
