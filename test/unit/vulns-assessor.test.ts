import {readFileSync} from 'node:fs';
import {join} from 'node:path';
import {afterAll, afterEach, beforeAll, describe, expect, it} from 'vitest';
import {parseReference} from '../../source/core/reference.ts';
import {VulnerabilityAssessor, type AssessItem} from '../../source/vulns/assessor.ts';
import type {AttestationRegistry, ContainerFiles} from '../../source/vulns/types.ts';
import {attestationManifest, attestedIndex, blob, cyclonePredicate, provenancePredicate, sbomFixture, spdxPredicate, statement, type TestBlob} from '../helpers/fixtures/vulns/attestation.ts';
import {startOsvServer, type OsvServer} from '../helpers/osv-server.ts';

const reference = parseReference('registry.example/acme/app:2');
const platform = {os: 'linux', architecture: 'amd64'};
const manifestA = blob(`{"schemaVersion":2,"config":{"digest":"sha256:${'a'.repeat(64)}","size":2},"layers":[]}`, 'application/vnd.oci.image.manifest.v1+json');
const manifestB = blob(`{"schemaVersion":2,"config":{"digest":"sha256:${'b'.repeat(64)}","size":2},"layers":[]}`, 'application/vnd.oci.image.manifest.v1+json');
const provenance = {predicateType: provenancePredicate, bytes: statement(provenancePredicate, '{}', manifestA.digest)};
const currentAttestation = attestationManifest([provenance, {predicateType: spdxPredicate, bytes: statement(spdxPredicate, sbomFixture('app-current.spdx.json'), manifestA.digest)}]);
const targetAttestation = attestationManifest([{predicateType: cyclonePredicate, bytes: statement(cyclonePredicate, sbomFixture('app-target.cdx.json'), manifestB.digest)}, provenance]);
const brokenAttestation = attestationManifest([{predicateType: spdxPredicate, bytes: Buffer.from('{"predicate": {"spdxVersion": "SPDX-2.3", "packages": 7}}')}]);
const current = attestedIndex([{manifest: manifestA, platform, attestation: currentAttestation.manifest}]);
const target = attestedIndex([{manifest: manifestB, platform, attestation: targetAttestation.manifest}]);
const targetWithoutSbom = attestedIndex([{manifest: manifestB, platform}]);
const broken = attestedIndex([{manifest: manifestA, platform, attestation: brokenAttestation.manifest}]);
const blobs: TestBlob[] = [current, target, targetWithoutSbom, broken, manifestA, manifestB, ...currentAttestation.blobs, ...targetAttestation.blobs, ...brokenAttestation.blobs];

const registry: AttestationRegistry & {manifests: number} = {
	manifests: 0,
	async getManifest(_reference, digest) {
		this.manifests++;
		const found = blobs.find(item => item.digest === digest);
		if (found === undefined) {
			throw new Error(`Manifest ${digest} not found`);
		}

		return {mediaType: found.mediaType, bytes: found.bytes, json: JSON.parse(found.bytes.toString('utf8')) as unknown};
	},
	async getBlob(_reference, digest) {
		const found = blobs.find(item => item.digest === digest);
		if (found === undefined) {
			throw new Error(`Blob ${digest} not found`);
		}

		return found.bytes;
	},
};

const fixture = (name: string): string => readFileSync(join(import.meta.dirname, '..', 'helpers', 'fixtures', 'vulns', 'files', name), 'utf8');
const containers: Record<string, Record<string, string>> = {
	debian: {'/etc/os-release': fixture('os-release-debian-12'), '/var/lib/dpkg/status': fixture('dpkg-status-debian-12')},
	empty: {'/etc/os-release': fixture('os-release-debian-12')},
};
const files: ContainerFiles = {
	readContainerFile: async (id, path) => {
		const content = containers[id]?.[path];
		return content === undefined ? null : Buffer.from(content);
	},
};

let osv: OsvServer;
const assessors: VulnerabilityAssessor[] = [];

function assessor(url = osv.url): VulnerabilityAssessor {
	const made = new VulnerabilityAssessor({osvUrl: url, timeoutMs: 5000, registry, files, osv: {retryBaseMs: 1}});
	assessors.push(made);
	return made;
}

const item = (key: string, fields: Partial<AssessItem>): AssessItem => ({key, reference, containerId: 'empty', currentDigest: null, targetDigest: null, ...fields});

beforeAll(async () => {
	osv = await startOsvServer();
});

afterEach(async () => {
	osv.failWith(undefined);
	await Promise.all(assessors.splice(0).map(async made => made.close()));
});

afterAll(async () => {
	await osv.close();
});

describe('VulnerabilityAssessor', () => {
	it('scores an update that fixes two highs, from the SBOM attestations of both digests', async () => {
		const results = await assessor().assessAll([item('app', {currentDigest: current.digest, platformManifestDigest: manifestA.digest, targetDigest: target.digest, targetPlatformManifestDigest: manifestB.digest})]);
		expect(results.get('app')).toEqual({
			vulnerabilities: {
				source: 'sbom',
				current: {critical: 0, high: 2, medium: 0, low: 0, unknown: 0, ids: ['ALPINE-CVE-2025-26519', 'GHSA-whgm-jr23-g3j9']},
				target: {critical: 0, high: 0, medium: 0, low: 0, unknown: 0, ids: []},
				fixed: ['ALPINE-CVE-2025-26519', 'GHSA-whgm-jr23-g3j9'],
			},
			vulnerabilitiesError: null,
			risk: {score: 36, level: 'high'},
			topVulnerabilities: [
				{id: 'GHSA-whgm-jr23-g3j9', severity: 'high', summary: 'Uncontrolled Resource Consumption in ansi-html'},
				{id: 'ALPINE-CVE-2025-26519', severity: 'high', summary: 'musl libc 0.9.13 through 1.2.5 before 1.2.6 has an out-of-bounds write vulnerability when an attacker can trigger iconv conversion of untrusted EUC-KR text to UTF-8.'},
			],
		});
	});

	it('leaves target and fixed null when the target has no SBOM, and scores what runs', async () => {
		const results = await assessor().assessAll([item('app', {currentDigest: current.digest, platformManifestDigest: manifestA.digest, targetDigest: targetWithoutSbom.digest})]);
		const result = results.get('app');
		expect(result?.vulnerabilities?.target).toBeNull();
		expect(result?.vulnerabilities?.fixed).toBeNull();
		expect(result?.vulnerabilities?.current.high).toBe(2);
		expect(result?.risk).toEqual({score: 36, level: 'high'});
	});

	it('reads the container when the image has no SBOM, and says so when it cannot', async () => {
		const results = await assessor().assessAll([
			item('local', {containerId: 'debian'}),
			item('no-sbom', {containerId: 'debian', currentDigest: targetWithoutSbom.digest}),
			item('nothing', {containerId: 'empty', currentDigest: targetWithoutSbom.digest}),
		]);
		expect(results.get('local')?.vulnerabilities).toEqual({source: 'container', current: {critical: 0, high: 0, medium: 0, low: 0, unknown: 0, ids: []}, target: null, fixed: null});
		expect(results.get('local')?.risk).toEqual({score: 0, level: 'none'});
		expect(results.get('no-sbom')?.vulnerabilities?.source).toBe('container');
		expect(osv.queries).toContainEqual({ecosystem: 'Debian:12', name: 'openssl', version: '3.0.22-1~deb12u2', pageToken: undefined});
		expect(results.get('nothing')).toEqual({
			vulnerabilities: null,
			vulnerabilitiesError: `packages unknown: no SBOM attestation and the container has neither /var/lib/dpkg/status nor /lib/apk/db/installed (the image index registry.example/acme/app@${targetWithoutSbom.digest} has no SBOM attestation)`,
			risk: null,
			topVulnerabilities: [],
		});
	});

	it('reports an SBOM that does not parse as such, not as missing', async () => {
		const results = await assessor().assessAll([item('broken', {containerId: 'debian', currentDigest: broken.digest, platformManifestDigest: manifestA.digest})]);
		expect(results.get('broken')?.vulnerabilities).toBeNull();
		expect(results.get('broken')?.risk).toBeNull();
		expect(results.get('broken')?.vulnerabilitiesError).toBe('the SBOM attestation does not parse: the predicate is not an SPDX JSON document (packages: Invalid input: expected array, received number)');
	});

	it('turns OSV failures into sentences per item', async () => {
		osv.failWith(503);
		const down = await assessor().assessAll([item('app', {currentDigest: current.digest, platformManifestDigest: manifestA.digest, targetDigest: null})]);
		expect(down.get('app')).toEqual({vulnerabilities: null, vulnerabilitiesError: `vulnerabilities unknown: OSV at ${osv.url} answered HTTP 503 for /v1/querybatch; try again later.`, risk: null, topVulnerabilities: []});
		const unreachable = await startOsvServer({records: []});
		await unreachable.close();
		const refused = await assessor(unreachable.url).assessAll([item('app', {currentDigest: current.digest, platformManifestDigest: manifestA.digest, targetDigest: null})]);
		expect(refused.get('app')?.vulnerabilitiesError).toContain('is unreachable: connection refused');
	});

	it('sends each package once per scan and nothing for known packages on the next scan', async () => {
		const made = assessor();
		const before = {batches: osv.batches, queries: osv.queries.length, records: osv.recordRequests.length, manifests: registry.manifests};
		const items = [
			item('one', {currentDigest: current.digest, platformManifestDigest: manifestA.digest, targetDigest: target.digest, targetPlatformManifestDigest: manifestB.digest}),
			item('two', {containerId: 'other', currentDigest: current.digest, platformManifestDigest: manifestA.digest, targetDigest: target.digest, targetPlatformManifestDigest: manifestB.digest}),
		];
		await made.assessAll(items);
		// current: musl, busybox, ansi-html; target: musl and ansi-html at new versions, busybox the same.
		expect(osv.batches - before.batches).toBe(1);
		expect(osv.queries.length - before.queries).toBe(5);
		expect(osv.recordRequests.length - before.records).toBe(2);
		const manifests = registry.manifests;

		const again = await made.assessAll(items);
		expect(osv.batches - before.batches).toBe(1);
		expect(osv.recordRequests.length - before.records).toBe(2);
		// Package lists are kept by image digest: the attestations are not read again either.
		expect(registry.manifests).toBe(manifests);
		expect(again.get('two')?.risk).toEqual({score: 36, level: 'high'});
	});
});
