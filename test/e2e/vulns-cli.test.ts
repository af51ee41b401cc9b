import {mkdir, readFile, rm, symlink, writeFile} from 'node:fs/promises';
import {createServer, type Server} from 'node:http';
import type {AddressInfo} from 'node:net';
import {join} from 'node:path';
import {gzipSync} from 'node:zlib';
import {afterAll, beforeAll, describe, expect, inject, it} from 'vitest';
import type {ContainerJson, ScanJson} from '../../source/report/scan-json.ts';
import {attestationManifest, attestedIndex, blob, cyclonePredicate, provenancePredicate, sbomFixture, spdxPredicate, statement, type AttestationLayer, type TestBlob} from '../helpers/fixtures/vulns/attestation.ts';
import {hostPlatform, type TestPlatform} from '../helpers/images.ts';
import {startOsvServer, type OsvServer} from '../helpers/osv-server.ts';
import {freePort, must, type RunResult} from '../helpers/process.ts';
import {Scene} from '../helpers/scene.ts';
import {tar} from '../helpers/tar.ts';
import {makeHome, row, scanJson, updock, type UpdockHome} from '../helpers/updock.ts';

const sandbox = inject('sandbox');
const otherPlatform: TestPlatform = {os: 'linux', architecture: hostPlatform.architecture === 'arm64' ? 'amd64' : 'arm64'};
const fixtures = join(import.meta.dirname, '..', 'helpers', 'fixtures', 'vulns', 'files');

/** One request as it reached the OSV address updock was given, before the OSV server saw it. */
interface RecordedRequest {
	readonly method: string;
	readonly path: string;
	readonly body: string;
}

/**
 * A loopback HTTP forwarder in front of the OSV server that records every request whole: the OSV
 * server only counts the queries it understood, and what updock sends must be seen as sent.
 */
async function startRecorder(target: string): Promise<{url: string; requests: RecordedRequest[]; close(): Promise<void>}> {
	const requests: RecordedRequest[] = [];
	const server: Server = createServer((request, response) => {
		const chunks: Buffer[] = [];
		let size = 0;
		request.on('data', (chunk: Buffer) => {
			size += chunk.length;
			if (size > 8 * 1024 * 1024) {
				request.destroy();
				return;
			}

			chunks.push(chunk);
		});
		request.on('end', () => {
			const body = Buffer.concat(chunks).toString('utf8');
			const method = request.method ?? 'GET';
			requests.push({method, path: request.url ?? '/', body});
			fetch(`${target}${request.url ?? '/'}`, {method, signal: AbortSignal.timeout(30_000), ...(method === 'POST' ? {body, headers: {'content-type': 'application/json'}} : {})})
				.then(async answer => {
					const bytes = Buffer.from(await answer.arrayBuffer());
					response.writeHead(answer.status, {'content-type': answer.headers.get('content-type') ?? 'application/json', ...(answer.headers.has('retry-after') ? {'retry-after': answer.headers.get('retry-after') ?? ''} : {})});
					response.end(bytes);
				})
				.catch(() => {
					response.writeHead(502);
					response.end();
				});
		});
	});
	await new Promise<void>(resolve => {
		server.listen(0, '127.0.0.1', resolve);
	});
	const {port} = server.address() as AddressInfo;
	return {
		url: `http://127.0.0.1:${port}`,
		requests,
		async close() {
			server.closeAllConnections();
			await new Promise<void>(resolve => {
				server.close(() => {
					resolve();
				});
			});
		},
	};
}

/** What one querybatch request asked: `ecosystem|name|version` per query. */
function queriedPackages(requests: readonly RecordedRequest[]): string[] {
	return requests
		.filter(request => request.method === 'POST' && request.path === '/v1/querybatch')
		.flatMap(request => (JSON.parse(request.body) as {queries: Array<{package: {ecosystem: string; name: string}; version: string}>}).queries)
		.map(query => `${query.package.ecosystem}|${query.package.name}|${query.version}`);
}

const noVulnerabilities = {critical: 0, high: 0, medium: 0, low: 0, unknown: 0, ids: []};

/**
 * The whole opt-in path through the built binary: a real engine whose containers run images with SBOM
 * attestations or hold real dpkg and apk databases, a real registry, and the OSV-compatible server
 * serving real records.
 */
describe('updock --once --vulns against a real engine, registry and OSV server', () => {
	let scene: Scene;
	let osv: OsvServer;
	let recorder: Awaited<ReturnType<typeof startRecorder>>;
	let home: UpdockHome;
	let off: {result: RunResult; json: ScanJson; requests: RecordedRequest[]};
	let on: {result: RunResult; json: ScanJson; requests: RecordedRequest[]};
	const names: Record<string, string> = {};
	const open = sandbox.open.host;
	const ref = (repository: string): string => scene.ref(open, repository, '1');

	/** An index of images (one gzip layer each) with their attestations, pushed with skopeo. */
	async function pushAttested(repository: string, images: ReadonlyArray<{marker: string; platform?: TestPlatform; layers: readonly AttestationLayer[]}>): Promise<void> {
		const layout = join(sandbox.root, `vulnscli-layout-${repository}-${images[0]?.marker ?? ''}`);
		await mkdir(join(layout, 'blobs', 'sha256'), {recursive: true});
		const all: TestBlob[] = [];
		const entries = images.map(({marker, platform = hostPlatform, layers}) => {
			const plain = tar([{path: 'etc/'}, {path: 'etc/updock-marker', content: Buffer.from(`${marker}\n`)}]);
			const layer = blob(gzipSync(plain), 'application/vnd.oci.image.layer.v1.tar+gzip');
			const config = blob(JSON.stringify({architecture: platform.architecture, os: platform.os, config: {Cmd: ['/bin/true']}, rootfs: {type: 'layers', diff_ids: [blob(plain, '').digest]}}), 'application/vnd.oci.image.config.v1+json');
			const manifest = blob(JSON.stringify({
				schemaVersion: 2,
				mediaType: 'application/vnd.oci.image.manifest.v1+json',
				config: {mediaType: config.mediaType, digest: config.digest, size: config.size},
				layers: [{mediaType: layer.mediaType, digest: layer.digest, size: layer.size}],
			}), 'application/vnd.oci.image.manifest.v1+json');
			const attestation = attestationManifest(layers);
			all.push(layer, config, manifest, ...attestation.blobs);
			return {manifest, platform, attestation: attestation.manifest};
		});
		const index = attestedIndex(entries);
		all.push(index);
		await Promise.all(all.map(async item => writeFile(join(layout, 'blobs', 'sha256', item.digest.slice(7)), item.bytes)));
		await writeFile(join(layout, 'oci-layout'), JSON.stringify({imageLayoutVersion: '1.0.0'}));
		await writeFile(join(layout, 'index.json'), JSON.stringify({schemaVersion: 2, manifests: [{mediaType: index.mediaType, digest: index.digest, size: index.size, annotations: {'org.opencontainers.image.ref.name': 'push'}}]}));
		await must('skopeo', ['copy', '--insecure-policy', '--quiet', '--dest-tls-verify=false', '--all', '--preserve-digests', `oci:${layout}:push`, `docker://${ref(repository)}`], {timeoutMs: 120_000});
		await rm(layout, {recursive: true, force: true});
	}

	/** A root filesystem of fixture files (`/etc/os-release` a symlink, as on Debian), imported, tagged for the registry and pushed by the engine. */
	async function pushImported(repository: string, files: Record<string, string>): Promise<void> {
		const root = join(sandbox.root, `vulnscli-rootfs-${repository}`);
		for (const [path, fixture] of Object.entries(files)) {
			await mkdir(join(root, path, '..'), {recursive: true});
			await writeFile(join(root, path), await readFile(join(fixtures, fixture)));
		}

		await mkdir(join(root, 'etc'), {recursive: true});
		await symlink('../usr/lib/os-release', join(root, 'etc', 'os-release'));
		const archive = `${root}.tar`;
		await must('tar', ['-C', root, '-cf', archive, '.']);
		await scene.docker(['import', '--change', 'CMD ["/bin/true"]', archive, ref(repository)]);
		await scene.docker(['push', ref(repository)]);
		await rm(root, {recursive: true, force: true});
		await rm(archive, {force: true});
	}

	/** The scan's rows of this file's containers. */
	const mine = (json: ScanJson): ContainerJson[] => json.containers.filter(container => container.name.startsWith(`${scene.prefix}-`));

	/** A `--once --json --exit-code` scan with the OSV requests it caused. */
	async function scan(args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<{result: RunResult; json: ScanJson; requests: RecordedRequest[]}> {
		const before = recorder.requests.length;
		const {result, json} = await scanJson({...home, env: {...home.env, ...env}}, ['--exit-code', ...args]);
		return {result, json, requests: recorder.requests.slice(before)};
	}

	beforeAll(async () => {
		scene = await Scene.create(sandbox, 'vulnscli');
		osv = await startOsvServer();
		recorder = await startRecorder(osv.url);
		// UPDOCK_OSV_URL is set for every run, so a scan without --vulns that sent anything would be seen.
		home = await makeHome(sandbox, {UPDOCK_OSV_URL: recorder.url, NO_COLOR: '1'});
		const sbom = (predicateType: string, fixture: string): AttestationLayer => ({predicateType, bytes: statement(predicateType, sbomFixture(fixture), `sha256:${'0'.repeat(64)}`)});
		const provenance: AttestationLayer = {predicateType: provenancePredicate, bytes: statement(provenancePredicate, '{"buildType":"https://mobyproject.org/buildkit@v1"}', `sha256:${'0'.repeat(64)}`)};

		// (a) SBOM attested; the tag then moves to an image whose SBOM lacks the two highs.
		await pushAttested('app', [{marker: 'app-1', layers: [provenance, sbom(spdxPredicate, 'app-current.spdx.json')]}]);
		await scene.pull(ref('app'));
		names['app'] = await scene.runContainer('app', ref('app'), {start: false});
		names['app-twin'] = await scene.runContainer('app-twin', ref('app'), {start: false});
		await pushAttested('app', [{marker: 'app-2', layers: [sbom(cyclonePredicate, 'app-target.cdx.json'), provenance]}]);

		// (b) a real Debian 12 dpkg status, no SBOM; the tag moves to an image without an SBOM.
		await pushImported('debian', {'usr/lib/os-release': 'os-release-debian-12', 'var/lib/dpkg/status': 'dpkg-status-debian-12'});
		names['debian'] = await scene.runContainer('debian', ref('debian'), {start: false});
		names['debian-twin'] = await scene.runContainer('debian-twin', ref('debian'), {start: false});
		await scene.push(ref('debian'), {marker: 'debian-2'});

		// (c) a real Alpine apk database, up to date.
		await pushImported('alpine', {'usr/lib/os-release': 'os-release-alpine-3.4', 'lib/apk/db/installed': 'apk-installed-alpine-3.4'});
		names['alpine'] = await scene.runContainer('alpine', ref('alpine'), {start: false});

		// (d) an SBOM layer that is JSON but not an SPDX document.
		await pushAttested('broken', [{marker: 'broken-1', layers: [provenance, {predicateType: spdxPredicate, bytes: Buffer.from('{"_type":"https://in-toto.io/Statement/v0.1","predicate":{"spdxVersion":"SPDX-2.3","packages":[{"externalRefs":"pkg:apk/alpine/musl@1"}]}}')}]}]);
		await scene.pull(ref('broken'));
		names['broken'] = await scene.runContainer('broken', ref('broken'), {start: false});

		// (a') two platforms, each with its own attestation, the other platform's first: the container's must be read.
		await pushAttested('multi', [
			{marker: 'multi-other', platform: otherPlatform, layers: [sbom(cyclonePredicate, 'app-target.cdx.json')]},
			{marker: 'multi-mine', layers: [sbom(spdxPredicate, 'app-current.spdx.json')]},
		]);
		await scene.pull(ref('multi'));
		names['multi'] = await scene.runContainer('multi', ref('multi'), {start: false});

		off = await scan([]);
		on = await scan(['--vulns', 'on']);
	});

	afterAll(async () => {
		await recorder?.close();
		await osv?.close();
		await scene?.cleanup();
	});

	const statuses = (json: ScanJson): Record<string, string> => Object.fromEntries(mine(json).map(container => [container.name, container.status]));

	it('sends nothing to OSV and leaves every row null without --vulns', () => {
		expect(off.requests).toEqual([]);
		expect(osv.batches).toBe(queriedBatches(on.requests));
		expect(mine(off.json)).toHaveLength(Object.keys(names).length);
		for (const container of off.json.containers) {
			expect({name: container.name, vulnerabilities: container.vulnerabilities, vulnerabilitiesError: container.vulnerabilitiesError, risk: container.risk})
				.toEqual({name: container.name, vulnerabilities: null, vulnerabilitiesError: null, risk: null});
		}

		expect(statuses(off.json)).toEqual({
			[names['app']!]: 'update-available',
			[names['app-twin']!]: 'update-available',
			[names['debian']!]: 'update-available',
			[names['debian-twin']!]: 'update-available',
			[names['alpine']!]: 'up-to-date',
			[names['broken']!]: 'up-to-date',
			[names['multi']!]: 'up-to-date',
		});
		expect(off.result.code).toBe(2);
	});

	it('with --vulns on, changes no status and no exit code', () => {
		expect(statuses(on.json)).toEqual(statuses(off.json));
		expect(on.result.code).toBe(off.result.code);
	});

	it('scores an update whose SBOM lacks two highs: both lists from SBOM attestations', () => {
		const app = row(on.json, names['app']!);
		expect(app.vulnerabilitiesError).toBeNull();
		expect(app.vulnerabilities).toEqual({
			source: 'sbom',
			current: {critical: 0, high: 2, medium: 0, low: 0, unknown: 0, ids: ['ALPINE-CVE-2025-26519', 'GHSA-whgm-jr23-g3j9']},
			target: noVulnerabilities,
			fixed: ['ALPINE-CVE-2025-26519', 'GHSA-whgm-jr23-g3j9'],
		});
		// Two highs fixed: round(100 × (1 − (1 − 0.2)²)) = 36; the level is the worst fixed, high.
		expect(app.risk).toEqual({score: 36, level: 'high'});
		expect(row(on.json, names['app-twin']!).risk).toEqual({score: 36, level: 'high'});
	});

	it('reads the SBOM attestation of the container\'s own platform from a multi-platform index', () => {
		const multi = row(on.json, names['multi']!);
		expect(multi.vulnerabilitiesError).toBeNull();
		expect(multi.vulnerabilities).toEqual({
			source: 'sbom',
			current: {critical: 0, high: 2, medium: 0, low: 0, unknown: 0, ids: ['ALPINE-CVE-2025-26519', 'GHSA-whgm-jr23-g3j9']},
			target: null,
			fixed: null,
		});
		// Nothing to update to: the risk is what the container carries, two highs.
		expect(multi.risk).toEqual({score: 36, level: 'high'});
	});

	it('reads a Debian container\'s dpkg status when there is no SBOM; the target without an SBOM stays unknown', () => {
		const debian = row(on.json, names['debian']!);
		expect(debian.vulnerabilitiesError).toBeNull();
		// The real Debian 12 versions are past every fixed version in the records served: none known.
		expect(debian.vulnerabilities).toEqual({source: 'container', current: noVulnerabilities, target: null, fixed: null});
		expect(debian.risk).toEqual({score: 0, level: 'none'});
		const asked = queriedPackages(on.requests);
		expect(asked).toContain('Debian:12|openssl|3.0.22-1~deb12u2');
		expect(asked).toContain('Debian:12|bash|5.2.15-2');
	});

	it('reads an Alpine container\'s apk database', () => {
		const alpine = row(on.json, names['alpine']!);
		expect(alpine.vulnerabilitiesError).toBeNull();
		expect(alpine.vulnerabilities).toEqual({source: 'container', current: noVulnerabilities, target: null, fixed: null});
		expect(alpine.risk).toEqual({score: 0, level: 'none'});
		const asked = queriedPackages(on.requests);
		expect(asked).toContain('Alpine:v3.4|musl|1.1.14-r10');
		expect(asked).toContain('Alpine:v3.4|openssl|1.0.2h-r1');
	});

	it('reports a malformed SBOM as not parsing, and its status stays', () => {
		const broken = row(on.json, names['broken']!);
		expect(broken.vulnerabilities).toBeNull();
		expect(broken.risk).toBeNull();
		expect(broken.vulnerabilitiesError).toMatch(/^the SBOM attestation does not parse: /);
		expect(broken.status).toBe(row(off.json, names['broken']!).status);
	});

	it('sends each (ecosystem, package, version) at most once in one scan, and only those', () => {
		const asked = queriedPackages(on.requests);
		expect(asked.length).toBeGreaterThan(0);
		expect(asked).toEqual([...new Set(asked)]);
		// Two containers of each image: still one query per package.
		expect(asked.filter(key => key === 'Debian:12|openssl|3.0.22-1~deb12u2')).toHaveLength(1);
		expect(asked.filter(key => key === 'Alpine:v3.20|musl|1.2.5-r0')).toHaveLength(1);
		expect(asked.filter(key => key === 'npm|ansi-html|0.0.7')).toHaveLength(1);
		// Each record fetched once, and only records OSV named.
		const records = on.requests.filter(request => request.method === 'GET').map(request => request.path);
		expect(records.sort()).toEqual(['/v1/vulns/ALPINE-CVE-2025-26519', '/v1/vulns/GHSA-whgm-jr23-g3j9']);
	});

	it('sends OSV package names, ecosystems and versions only', () => {
		for (const request of on.requests.filter(entry => entry.method === 'POST')) {
			expect(request.path).toBe('/v1/querybatch');
			const body = JSON.parse(request.body) as {queries: unknown[]} & Record<string, unknown>;
			expect(Object.keys(body)).toEqual(['queries']);
			for (const query of body.queries) {
				expect(query).toEqual({package: {ecosystem: expect.any(String), name: expect.any(String)}, version: expect.any(String)});
			}

			// No engine, container, registry or image name and no digest.
			expect(request.body).not.toContain(scene.prefix);
			expect(request.body).not.toContain(open);
			expect(request.body).not.toMatch(/sha256:/);
		}
	});

	it('shows a RISK column in the --once table only with --vulns on', async () => {
		const table = await updock(home, ['--once', '--exit-code', '--vulns', 'on']);
		expect(table.code, table.stderr).toBe(2);
		const lines = table.stdout.split('\n');
		expect(lines[0]).toMatch(/\bSTATUS\s+NEWER\s+RISK\s+DETAIL\b/);
		expect(lines.find(line => line.includes(names['app']!) && !line.includes(names['app-twin']!))).toMatch(/\bhigh 36\b/);
		expect(lines.find(line => line.includes(names['alpine']!))).toMatch(/\bnone 0\b/);
		const plain = await updock(home, ['--once']);
		expect(plain.stdout.split('\n')[0]).not.toMatch(/RISK/);
	});

	it('keeps statuses, the exit code and the scan when OSV answers 503 (opted in by UPDOCK_VULNS)', async () => {
		osv.failWith(503);
		let down: Awaited<ReturnType<typeof scan>>;
		try {
			down = await scan([], {UPDOCK_VULNS: 'on'});
		} finally {
			osv.failWith(undefined);
		}

		expect(down.requests.length).toBeGreaterThan(0);
		expect(down.result.code).toBe(off.result.code);
		expect(statuses(down.json)).toEqual(statuses(off.json));
		const sentence = `vulnerabilities unknown: OSV at ${recorder.url} answered HTTP 503 for /v1/querybatch; try again later.`;
		for (const name of ['app', 'app-twin', 'debian', 'debian-twin', 'alpine']) {
			const container = row(down.json, names[name]!);
			expect({name, vulnerabilities: container.vulnerabilities, vulnerabilitiesError: container.vulnerabilitiesError, risk: container.risk})
				.toEqual({name, vulnerabilities: null, vulnerabilitiesError: sentence, risk: null});
		}

		// Its packages were never known, so OSV is not what it lacks.
		expect(row(down.json, names['broken']!).vulnerabilitiesError).toMatch(/^the SBOM attestation does not parse: /);
	});

	it('keeps statuses, the exit code and the scan when nothing listens at the OSV address', async () => {
		const closed = `http://127.0.0.1:${await freePort()}`;
		const down = await scan(['--vulns', 'on'], {UPDOCK_OSV_URL: closed});
		expect(down.result.code).toBe(off.result.code);
		expect(statuses(down.json)).toEqual(statuses(off.json));
		for (const name of ['app', 'debian', 'alpine']) {
			const container = row(down.json, names[name]!);
			expect(container.vulnerabilities).toBeNull();
			expect(container.risk).toBeNull();
			expect(container.vulnerabilitiesError).toMatch(new RegExp(`^vulnerabilities unknown: .*${closed.replaceAll('.', '\\.')}.*connection refused`));
		}
	});
});

/** How many querybatch requests a scan made. */
function queriedBatches(requests: readonly RecordedRequest[]): number {
	return requests.filter(request => request.method === 'POST' && request.path === '/v1/querybatch').length;
}
