import {mkdir, readFile, rm, symlink, writeFile} from 'node:fs/promises';
import {join} from 'node:path';
import {afterAll, beforeAll, describe, expect, inject, it} from 'vitest';
import {parseReference} from '../../source/core/reference.ts';
import {parseEngineAddress} from '../../source/docker/address.ts';
import {DockerEngine} from '../../source/docker/engine.ts';
import {RegistryAuth} from '../../source/registry/auth.ts';
import {HttpRegistryClient} from '../../source/registry/client.ts';
import {RegistryHttp} from '../../source/registry/http.ts';
import {VulnerabilityAssessor, type AssessItem} from '../../source/vulns/assessor.ts';
import {attestationManifest, attestedIndex, blob, cyclonePredicate, provenancePredicate, sbomFixture, spdxPredicate, statement, type AttestationLayer, type TestBlob} from '../helpers/fixtures/vulns/attestation.ts';
import {hostPlatform} from '../helpers/images.ts';
import {startOsvServer, type OsvServer} from '../helpers/osv-server.ts';
import {must} from '../helpers/process.ts';
import {Scene} from '../helpers/scene.ts';
import {tar} from '../helpers/tar.ts';

const sandbox = inject('sandbox');
const fixtures = join(import.meta.dirname, '..', 'helpers', 'fixtures', 'vulns', 'files');

/**
 * Images with SBOM attestations pushed to a real registry and read back through the real registry
 * client; containers whose files hold a real dpkg status and apk database, read through the real
 * engine; OSV served by the test OSV server from real records.
 */
describe('vulnerabilities against a real registry and engine', () => {
	let scene: Scene;
	let osv: OsvServer;
	let http: RegistryHttp;
	let engine: DockerEngine;
	let assessor: VulnerabilityAssessor;
	const pushed: Record<string, {index: string; manifest: string}> = {};
	const containers: Record<string, string> = {};
	const open = sandbox.open.host;

	/** An image (one platform, one small layer) and, when given layers, its attestation, pushed as an index with skopeo. */
	async function pushAttested(name: string, marker: string, layers: readonly AttestationLayer[] | undefined): Promise<void> {
		const [repository = '', tag = ''] = name.split(':');
		const layout = join(sandbox.root, `vulns-layout-${repository}-${tag}`);
		await mkdir(join(layout, 'blobs', 'sha256'), {recursive: true});
		const layer = blob(tar([{path: 'etc/'}, {path: 'etc/updock-marker', content: Buffer.from(`${marker}\n`)}]), 'application/vnd.oci.image.layer.v1.tar');
		const config = blob(JSON.stringify({architecture: hostPlatform.architecture, os: hostPlatform.os, config: {}, rootfs: {type: 'layers', diff_ids: [layer.digest]}}), 'application/vnd.oci.image.config.v1+json');
		const manifest = blob(JSON.stringify({
			schemaVersion: 2,
			mediaType: 'application/vnd.oci.image.manifest.v1+json',
			config: {mediaType: config.mediaType, digest: config.digest, size: config.size},
			layers: [{mediaType: layer.mediaType, digest: layer.digest, size: layer.size}],
		}), 'application/vnd.oci.image.manifest.v1+json');
		const attestation = layers === undefined ? undefined : attestationManifest(layers);
		const index = attestedIndex([{manifest, platform: hostPlatform, ...(attestation === undefined ? {} : {attestation: attestation.manifest})}]);
		const all: TestBlob[] = [layer, config, manifest, index, ...attestation?.blobs ?? []];
		await Promise.all(all.map(async item => writeFile(join(layout, 'blobs', 'sha256', item.digest.slice(7)), item.bytes)));
		await writeFile(join(layout, 'oci-layout'), JSON.stringify({imageLayoutVersion: '1.0.0'}));
		await writeFile(join(layout, 'index.json'), JSON.stringify({schemaVersion: 2, manifests: [{mediaType: index.mediaType, digest: index.digest, size: index.size, annotations: {'org.opencontainers.image.ref.name': 'push'}}]}));
		await must('skopeo', ['copy', '--insecure-policy', '--quiet', '--dest-tls-verify=false', '--all', '--preserve-digests', `oci:${layout}:push`, `docker://${scene.ref(open, repository, tag)}`], {timeoutMs: 120_000});
		await rm(layout, {recursive: true, force: true});
		pushed[name] = {index: index.digest, manifest: manifest.digest};
	}

	/** A stopped container of an imported root filesystem; `/etc/os-release` a symlink as on Debian. */
	async function containerOf(name: string, files: Record<string, string>): Promise<void> {
		const root = join(sandbox.root, `vulns-rootfs-${name}`);
		for (const [path, fixture] of Object.entries(files)) {
			await mkdir(join(root, path, '..'), {recursive: true});
			await writeFile(join(root, path), await readFile(join(fixtures, fixture)));
		}

		await mkdir(join(root, 'etc'), {recursive: true});
		await symlink('../usr/lib/os-release', join(root, 'etc', 'os-release'));
		const archive = join(sandbox.root, `vulns-rootfs-${name}.tar`);
		await must('tar', ['-C', root, '-cf', archive, '.']);
		const image = `updock-vulns/${name}:1`;
		await scene.docker(['import', '--change', 'CMD ["/bin/true"]', archive, image]);
		containers[name] = await scene.runContainer(name, image, {start: false});
		await rm(root, {recursive: true, force: true});
	}

	beforeAll(async () => {
		scene = await Scene.create(sandbox, 'vulns');
		osv = await startOsvServer();
		const sbom = (predicateType: string, fixture: string): AttestationLayer => ({predicateType, bytes: statement(predicateType, sbomFixture(fixture), `sha256:${'0'.repeat(64)}`)});
		const provenance: AttestationLayer = {predicateType: provenancePredicate, bytes: statement(provenancePredicate, '{"buildType":"https://mobyproject.org/buildkit@v1"}', `sha256:${'0'.repeat(64)}`)};
		await pushAttested('app:1', 'app-1', [provenance, sbom(spdxPredicate, 'app-current.spdx.json')]);
		await pushAttested('app:2', 'app-2', [sbom(cyclonePredicate, 'app-target.cdx.json'), provenance]);
		await pushAttested('app:3', 'app-3', undefined);
		await pushAttested('broken:1', 'broken-1', [provenance, {predicateType: spdxPredicate, bytes: Buffer.from('{"_type":"https://in-toto.io/Statement/v0.1","predicate":{"spdxVersion":"SPDX-2.3","packages":[{"externalRefs":"pkg:apk/alpine/musl@1"}]}}')}]);
		await containerOf('debian', {'usr/lib/os-release': 'os-release-debian-12', 'var/lib/dpkg/status': 'dpkg-status-debian-12'});
		await containerOf('alpine', {'usr/lib/os-release': 'os-release-alpine-3.4', 'lib/apk/db/installed': 'apk-installed-alpine-3.4'});
		await containerOf('bare', {'usr/lib/os-release': 'os-release-debian-12'});

		http = new RegistryHttp({timeoutMs: 30_000, connectionsPerHost: 2, userAgent: 'updock-test', env: {}});
		const registry = new HttpRegistryClient(http, new RegistryAuth(http, {source: 'none', get: async () => undefined}));
		const address = parseEngineAddress(sandbox.dockerHost);
		if ('error' in address) {
			throw new Error(address.error);
		}

		engine = new DockerEngine({name: 'sandbox', address, timeoutMs: 30_000});
		assessor = new VulnerabilityAssessor({osvUrl: osv.url, timeoutMs: 10_000, registry, files: engine, osv: {retryBaseMs: 1}});
	});

	afterAll(async () => {
		await assessor?.close();
		await engine?.close();
		await http?.close();
		await osv?.close();
		await scene?.cleanup();
	});

	const reference = (name: string): ReturnType<typeof parseReference> => {
		const [repository = '', tag = ''] = name.split(':');
		return parseReference(scene.ref(open, repository, tag));
	};
	const attested = (key: string, current: string, target: string | null, containerId = containers['bare'] ?? ''): AssessItem => ({
		key,
		reference: reference(current),
		containerId,
		currentDigest: pushed[current]!.index,
		platformManifestDigest: pushed[current]!.manifest,
		targetDigest: target === null ? null : pushed[target]!.index,
		targetPlatformManifestDigest: target === null ? undefined : pushed[target]!.manifest,
	});

	it('scores an update that fixes two highs, both package lists from SBOM attestations in the registry', async () => {
		const results = await assessor.assessAll([attested('app', 'app:1', 'app:2')]);
		expect(results.get('app')?.vulnerabilitiesError).toBeNull();
		expect(results.get('app')?.vulnerabilities).toEqual({
			source: 'sbom',
			current: {critical: 0, high: 2, medium: 0, low: 0, unknown: 0, ids: ['ALPINE-CVE-2025-26519', 'GHSA-whgm-jr23-g3j9']},
			target: {critical: 0, high: 0, medium: 0, low: 0, unknown: 0, ids: []},
			fixed: ['ALPINE-CVE-2025-26519', 'GHSA-whgm-jr23-g3j9'],
		});
		expect(results.get('app')?.risk).toEqual({score: 36, level: 'high'});
		expect(results.get('app')?.topVulnerabilities.map(note => note.id)).toEqual(['GHSA-whgm-jr23-g3j9', 'ALPINE-CVE-2025-26519']);
	});

	it('leaves the target unknown when its image has no SBOM attestation', async () => {
		const results = await assessor.assessAll([attested('plain', 'app:1', 'app:3')]);
		expect(results.get('plain')?.vulnerabilities?.target).toBeNull();
		expect(results.get('plain')?.vulnerabilities?.fixed).toBeNull();
		expect(results.get('plain')?.risk).toEqual({score: 36, level: 'high'});
	});

	it('reads dpkg and apk databases out of containers, through an os-release symlink', async () => {
		const before = osv.queries.length;
		const results = await assessor.assessAll([
			{key: 'debian', reference: reference('app:3'), containerId: containers['debian']!, currentDigest: pushed['app:3']!.index, platformManifestDigest: pushed['app:3']!.manifest, targetDigest: null},
			{key: 'alpine', reference: reference('app:3'), containerId: containers['alpine']!, currentDigest: null, targetDigest: null},
		]);
		expect(results.get('debian')?.vulnerabilities?.source).toBe('container');
		expect(results.get('alpine')?.vulnerabilities?.source).toBe('container');
		const asked = osv.queries.slice(before);
		expect(asked).toContainEqual({ecosystem: 'Debian:12', name: 'openssl', version: '3.0.22-1~deb12u2', pageToken: undefined});
		expect(asked).toContainEqual({ecosystem: 'Debian:12', name: 'bash', version: '5.2.15-2', pageToken: undefined});
		expect(asked).toContainEqual({ecosystem: 'Alpine:v3.4', name: 'openssl', version: '1.0.2h-r1', pageToken: undefined});
		expect(asked.filter(query => query.ecosystem === 'Debian:12')).toHaveLength(10);
	});

	it('says why when neither an SBOM nor a package database is there', async () => {
		const results = await assessor.assessAll([{key: 'bare', reference: reference('app:3'), containerId: containers['bare']!, currentDigest: pushed['app:3']!.index, targetDigest: null}]);
		expect(results.get('bare')?.vulnerabilities).toBeNull();
		expect(results.get('bare')?.vulnerabilitiesError).toMatch(/^packages unknown: no SBOM attestation and the container has neither \/var\/lib\/dpkg\/status nor \/lib\/apk\/db\/installed \(the image index .* has no SBOM attestation\)$/);
	});

	it('reports a malformed SBOM as such', async () => {
		const results = await assessor.assessAll([attested('broken', 'broken:1', null, containers['debian'])]);
		expect(results.get('broken')?.vulnerabilities).toBeNull();
		expect(results.get('broken')?.vulnerabilitiesError).toMatch(/^the SBOM attestation does not parse: the predicate is not an SPDX JSON document/);
	});

	it('sends no query for packages it knows on the next scan', async () => {
		const batches = osv.batches;
		const records = osv.recordRequests.length;
		const results = await assessor.assessAll([attested('app', 'app:1', 'app:2'), attested('plain', 'app:1', 'app:3')]);
		expect(osv.batches).toBe(batches);
		expect(osv.recordRequests.length).toBe(records);
		expect(results.get('app')?.risk).toEqual({score: 36, level: 'high'});
	});

	it('turns OSV being down into a sentence, not an exception', async () => {
		const fresh = new VulnerabilityAssessor({osvUrl: osv.url, timeoutMs: 10_000, registry: new HttpRegistryClient(http, new RegistryAuth(http, {source: 'none', get: async () => undefined})), files: engine, osv: {retryBaseMs: 1}});
		try {
			osv.failWith(503);
			const results = await fresh.assessAll([attested('app', 'app:1', 'app:2')]);
			expect(results.get('app')).toEqual({vulnerabilities: null, vulnerabilitiesError: `vulnerabilities unknown: OSV at ${osv.url} answered HTTP 503 for /v1/querybatch; try again later.`, risk: null, topVulnerabilities: []});
		} finally {
			osv.failWith(undefined);
			await fresh.close();
		}
	});
});
