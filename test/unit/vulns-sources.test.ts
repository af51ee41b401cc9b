import {readFileSync} from 'node:fs';
import {join} from 'node:path';
import {describe, expect, it} from 'vitest';
import {parseReference} from '../../source/core/reference.ts';
import {osReleaseDistribution, parseApkInstalled, parseDpkgStatus, readContainerPackages} from '../../source/vulns/container-files.ts';
import {distributionEcosystem, parsePurl, purlPackage} from '../../source/vulns/ecosystems.ts';
import {maxSbomBytes, parseSbomStatement, readSbomPackages} from '../../source/vulns/sbom.ts';
import type {AttestationRegistry, ContainerFiles} from '../../source/vulns/types.ts';
import {attestationManifest, attestedIndex, blob, cyclonePredicate, provenancePredicate, sbomFixture, spdxPredicate, statement, type TestBlob} from '../helpers/fixtures/vulns/attestation.ts';

const file = (name: string): string => readFileSync(join(import.meta.dirname, '..', 'helpers', 'fixtures', 'vulns', 'files', name), 'utf8');
const reference = parseReference('registry.example/acme/app:2');
const imageManifest = blob('{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"digest":"sha256:' + 'c'.repeat(64) + '","size":2},"layers":[]}', 'application/vnd.oci.image.manifest.v1+json');
const otherManifest = blob('{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"digest":"sha256:' + 'd'.repeat(64) + '","size":2},"layers":[]}', 'application/vnd.oci.image.manifest.v1+json');

/** A registry holding `blobs` by digest, counting what it is asked. */
function registryOf(blobs: readonly TestBlob[]): AttestationRegistry & {asked: string[]} {
	const byDigest = new Map(blobs.map(item => [item.digest, item]));
	const asked: string[] = [];
	const find = (digest: string): TestBlob => {
		asked.push(digest);
		const found = byDigest.get(digest);
		if (found === undefined) {
			throw new Error(`Manifest ${digest} not found in registry.example/acme/app: it was deleted or renamed on the registry.`);
		}

		return found;
	};

	return {
		asked,
		getManifest: async (_reference, digest) => {
			const found = find(digest);
			return {mediaType: found.mediaType, bytes: found.bytes, json: JSON.parse(found.bytes.toString('utf8')) as unknown};
		},
		getBlob: async (_reference, digest, maxBytes) => {
			const found = find(digest);
			if (found.size > maxBytes) {
				throw new Error('too large');
			}

			return found.bytes;
		},
	};
}

describe('OSV ecosystems', () => {
	it.each([
		[{id: 'debian', versionId: '12'}, 'Debian:12'],
		[{id: 'debian', versionId: '12.7'}, 'Debian:12'],
		[{id: 'debian', versionId: 'bookworm'}, 'Debian:12'],
		[{id: 'debian', versionId: ''}, undefined],
		[{id: 'alpine', versionId: '3.20.3'}, 'Alpine:v3.20'],
		[{id: 'alpine', versionId: '3.21_alpha20240807'}, 'Alpine:v3.21'],
		[{id: 'ubuntu', versionId: '24.04', lts: true}, 'Ubuntu:24.04:LTS'],
		[{id: 'ubuntu', versionId: '24.10', lts: false}, 'Ubuntu:24.10'],
		[{id: 'ubuntu', versionId: '22.04'}, 'Ubuntu:22.04:LTS'],
		[{id: 'ubuntu', versionId: '23.04'}, 'Ubuntu:23.04'],
		[{id: 'ubuntu', versionId: 'focal'}, 'Ubuntu:20.04:LTS'],
		[{id: 'fedora', versionId: '40'}, undefined],
	])('%o is %s', (distribution, ecosystem) => {
		expect(distributionEcosystem(distribution)).toBe(ecosystem);
	});

	it.each([
		['pkg:deb/debian/libssl3@3.0.11-1~deb12u2?arch=amd64&upstream=openssl&distro=debian-12', {ecosystem: 'Debian:12', name: 'openssl', version: '3.0.11-1~deb12u2'}],
		['pkg:deb/debian/libgcc-s1@12.2.0-14?upstream=gcc-12%4012.2.0-14&distro=debian-12.2', {ecosystem: 'Debian:12', name: 'gcc-12', version: '12.2.0-14'}],
		['pkg:apk/alpine/busybox-binsh@1.36.1-r15?arch=x86_64&upstream=busybox&distro=alpine-3.20.3', {ecosystem: 'Alpine:v3.20', name: 'busybox', version: '1.36.1-r15'}],
		['pkg:apk/alpine/zlib@1.2.12-r1?arch=x86_64&distro=3.22.0&origin=zlib', {ecosystem: 'Alpine:v3.22', name: 'zlib', version: '1.2.12-r1'}],
		['pkg:deb/ubuntu/pcre3@2%3A8.39-12ubuntu0.1?arch=amd64&distro=focal&source=pcre3', {ecosystem: 'Ubuntu:20.04:LTS', name: 'pcre3', version: '2:8.39-12ubuntu0.1'}],
		['pkg:deb/ubuntu/libc6@2.39-0ubuntu8.3?distro=ubuntu-24.04&upstream=glibc', {ecosystem: 'Ubuntu:24.04:LTS', name: 'glibc', version: '2.39-0ubuntu8.3'}],
		['pkg:npm/%40babel/core@7.24.0', {ecosystem: 'npm', name: '@babel/core', version: '7.24.0'}],
		['pkg:pypi/Jinja2@3.1.4', {ecosystem: 'PyPI', name: 'jinja2', version: '3.1.4'}],
		['pkg:golang/golang.org/x/net@v0.23.0', {ecosystem: 'Go', name: 'golang.org/x/net', version: '0.23.0'}],
		['pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1', {ecosystem: 'Maven', name: 'org.apache.logging.log4j:log4j-core', version: '2.14.1'}],
	])('%s', (text, expected) => {
		const purl = parsePurl(text);
		expect(purl).toBeDefined();
		expect(purlPackage(purl!)).toEqual(expected);
	});

	it.each(['pkg:deb/debian/openssl@3.0.11-1', 'pkg:generic/thing@1', 'pkg:npm/left-pad', 'not a purl', 'pkg:npm/%E0%A4%A@1'])('%s asks OSV nothing', text => {
		const purl = parsePurl(text);
		expect(purl === undefined ? undefined : purlPackage(purl)).toBeUndefined();
	});
});

describe('container files', () => {
	it('reads the release from real os-release files', () => {
		expect(osReleaseDistribution(file('os-release-debian-12'))).toEqual({id: 'debian', versionId: '12', lts: false});
		expect(osReleaseDistribution(file('os-release-ubuntu-24.04'))).toEqual({id: 'ubuntu', versionId: '24.04', lts: true});
		expect(osReleaseDistribution(file('os-release-alpine-3.4'))).toEqual({id: 'alpine', versionId: '3.4.6'});
		expect(osReleaseDistribution('NAME=nothing\n')).toBeUndefined();
	});

	it('names dpkg packages by source package and source version, as OSV keys Debian', () => {
		const packages = parseDpkgStatus(file('dpkg-status-debian-12'), 'Debian:12');
		expect(packages).toHaveLength(13);
		expect(packages).toContainEqual({ecosystem: 'Debian:12', name: 'openssl', version: '3.0.22-1~deb12u2'});
		expect(packages).toContainEqual({ecosystem: 'Debian:12', name: 'zlib', version: '1:1.2.13.dfsg-1'});
		expect(packages).toContainEqual({ecosystem: 'Debian:12', name: 'glibc', version: '2.36-9+deb12u14'});
		// `Source: bash (5.2.15-2)` for the binNMU 5.2.15-2+b8: the source version is what advisories name.
		expect(packages).toContainEqual({ecosystem: 'Debian:12', name: 'bash', version: '5.2.15-2'});
		expect(packages).toContainEqual({ecosystem: 'Debian:12', name: 'dpkg', version: '1.21.22'});
		expect(packages.some(item => item.name === 'libssl3' || item.name === 'libc6')).toBe(false);
	});

	it('counts only installed dpkg packages', () => {
		const status = 'Package: gone\nStatus: deinstall ok config-files\nVersion: 1.0\n\nPackage: held\nStatus: hold ok installed\nVersion: 2.0\n\nPackage: broken\nStatus: install ok half-configured\nVersion: 3.0\n\nPackage: nostatus\nVersion: 4.0\n';
		expect(parseDpkgStatus(status, 'Debian:12')).toEqual([{ecosystem: 'Debian:12', name: 'held', version: '2.0'}]);
	});

	it('names apk packages by origin and skips stanzas without a version', () => {
		const packages = parseApkInstalled(file('apk-installed-alpine-3.4'), 'Alpine:v3.4');
		expect(packages).toEqual([
			{ecosystem: 'Alpine:v3.4', name: 'musl', version: '1.1.14-r10'},
			{ecosystem: 'Alpine:v3.4', name: 'busybox', version: '1.24.2-r9'},
			{ecosystem: 'Alpine:v3.4', name: 'zlib', version: '1.2.8-r2'},
			{ecosystem: 'Alpine:v3.4', name: 'openssl', version: '1.0.2h-r1'},
			{ecosystem: 'Alpine:v3.4', name: 'openssl', version: '1.0.2h-r1'},
			{ecosystem: 'Alpine:v3.4', name: 'musl', version: '1.1.14-r10'},
		]);
	});

	const filesOf = (contents: Record<string, string>): ContainerFiles & {asked: string[]} => {
		const asked: string[] = [];
		return {
			asked,
			readContainerFile: async (_id, path) => {
				asked.push(path);
				return contents[path] === undefined ? null : Buffer.from(contents[path]);
			},
		};
	};

	it('reads a Debian container: os-release from /usr/lib when /etc has none, packages deduplicated', async () => {
		const files = filesOf({'/usr/lib/os-release': file('os-release-debian-12'), '/var/lib/dpkg/status': file('dpkg-status-debian-12')});
		const result = await readContainerPackages(files, 'c1');
		expect(result.ok).toBe(true);
		expect(result.ok && result.list.source).toBe('container');
		expect(result.ok && result.list.ecosystems).toEqual(['Debian:12']);
		// libc6 and libc-bin are glibc, libgcc-s1 and gcc-12-base gcc-12, libssl3 and openssl openssl: 13 stanzas, 10 packages.
		expect(result.ok && result.list.packages).toHaveLength(10);
	});

	it('reads an Alpine container', async () => {
		const result = await readContainerPackages(filesOf({'/etc/os-release': file('os-release-alpine-3.4'), '/lib/apk/db/installed': file('apk-installed-alpine-3.4')}), 'c1');
		expect(result.ok && result.list.packages.map(item => `${item.ecosystem} ${item.name}`)).toEqual(['Alpine:v3.4 musl', 'Alpine:v3.4 busybox', 'Alpine:v3.4 zlib', 'Alpine:v3.4 openssl']);
	});

	it('says why when there is nothing to read', async () => {
		const result = await readContainerPackages(filesOf({'/etc/os-release': file('os-release-debian-12')}), 'c1');
		expect(result).toEqual({ok: false, failure: {kind: 'missing', reason: 'the container has neither /var/lib/dpkg/status nor /lib/apk/db/installed'}});
		const noRelease = await readContainerPackages(filesOf({'/var/lib/dpkg/status': file('dpkg-status-debian-12')}), 'c1');
		expect(noRelease.ok === false && noRelease.failure.kind).toBe('invalid');
		const failing: ContainerFiles = {readContainerFile: async () => {
			throw new Error('No such container: c1');
		}};
		const failed = await readContainerPackages(failing, 'c1');
		expect(failed.ok === false && failed.failure).toEqual({kind: 'failed', reason: 'the container\'s package files could not be read: No such container: c1'});
	});
});

describe('SBOM attestations', () => {
	it('reads real SPDX and CycloneDX documents', () => {
		const spdx = parseSbomStatement(statement(spdxPredicate, sbomFixture('scalibr-ubuntu-focal.spdx.json'), imageManifest.digest), 'spdx');
		expect(spdx).toEqual({ok: true, list: {source: 'sbom', ecosystems: ['Ubuntu:20.04:LTS'], packages: [{ecosystem: 'Ubuntu:20.04:LTS', name: 'pcre3', version: '2:8.39-12ubuntu0.1'}]}});
		const cdx = parseSbomStatement(statement(cyclonePredicate, sbomFixture('scalibr-alpine-zlib.cdx.json'), imageManifest.digest), 'cyclonedx');
		expect(cdx).toEqual({ok: true, list: {source: 'sbom', ecosystems: ['Alpine:v3.22'], packages: [{ecosystem: 'Alpine:v3.22', name: 'zlib', version: '1.2.12-r1'}]}});
	});

	it('maps Syft-shaped documents, OS and language packages alike', () => {
		const current = parseSbomStatement(statement(spdxPredicate, sbomFixture('app-current.spdx.json'), imageManifest.digest), 'spdx');
		expect(current.ok && current.list.packages).toEqual([
			{ecosystem: 'Alpine:v3.20', name: 'musl', version: '1.2.5-r0'},
			{ecosystem: 'Alpine:v3.20', name: 'busybox', version: '1.36.1-r29'},
			{ecosystem: 'npm', name: 'ansi-html', version: '0.0.7'},
		]);
		const target = parseSbomStatement(statement(cyclonePredicate, sbomFixture('app-target.cdx.json'), imageManifest.digest), 'cyclonedx');
		expect(target.ok && target.list.ecosystems).toEqual(['Alpine:v3.20', 'npm']);
	});

	it.each([
		['not JSON', Buffer.from('{"predicate": '), 'spdx', 'the SBOM attestation does not parse: it is not JSON'],
		['no predicate', Buffer.from('{"_type":"x"}'), 'spdx', 'the SBOM attestation does not parse: it is not an in-toto statement with a predicate'],
		['SPDX without spdxVersion', statement(spdxPredicate, '{"packages":[]}', imageManifest.digest), 'spdx', 'the SBOM attestation does not parse: the predicate is not an SPDX JSON document (spdxVersion:'],
		['CycloneDX with components of the wrong type', statement(cyclonePredicate, '{"bomFormat":"CycloneDX","components":{}}', imageManifest.digest), 'cyclonedx', 'the SBOM attestation does not parse: the predicate is not a CycloneDX JSON document (components:'],
	] as const)('a broken one (%s) is reported as such', (_name, bytes, kind, reason) => {
		const result = parseSbomStatement(bytes, kind);
		expect(result.ok).toBe(false);
		expect(result.ok === false && result.failure.kind).toBe('invalid');
		expect(result.ok === false && result.failure.reason).toContain(reason);
	});

	const sbomLayer = {predicateType: spdxPredicate, bytes: statement(spdxPredicate, sbomFixture('app-current.spdx.json'), imageManifest.digest)};
	const provenanceLayer = {predicateType: provenancePredicate, bytes: statement(provenancePredicate, '{"builder":{"id":"x"}}', imageManifest.digest)};

	it('finds the attestation of the container\'s platform and its SBOM layer after a provenance layer', async () => {
		const mine = attestationManifest([provenanceLayer, sbomLayer]);
		const other = attestationManifest([{predicateType: cyclonePredicate, bytes: statement(cyclonePredicate, sbomFixture('scalibr-alpine-zlib.cdx.json'), otherManifest.digest)}]);
		const index = attestedIndex([
			{manifest: otherManifest, platform: {os: 'linux', architecture: 'arm64'}, attestation: other.manifest},
			{manifest: imageManifest, platform: {os: 'linux', architecture: 'amd64'}, attestation: mine.manifest},
		]);
		const registry = registryOf([index, imageManifest, otherManifest, ...mine.blobs, ...other.blobs]);
		const result = await readSbomPackages(registry, reference, index.digest, imageManifest.digest);
		expect(result.ok && result.list.packages.map(item => item.name)).toEqual(['musl', 'busybox', 'ansi-html']);
		// Not the provenance layer, not the other platform's attestation.
		expect(registry.asked).not.toContain(mine.blobs[1]!.digest);
		expect(registry.asked).not.toContain(other.manifest.digest);

		const first = await readSbomPackages(registry, reference, index.digest, undefined);
		expect(first.ok && first.list.ecosystems).toEqual(['Alpine:v3.22']);
	});

	it('tells a missing SBOM from a broken one', async () => {
		const provenanceOnly = attestationManifest([provenanceLayer]);
		const broken = attestationManifest([{predicateType: spdxPredicate, bytes: Buffer.from('{"_type": "https://in-toto.io/Statement/v0.1", "predicate": {"spdxVersion": ')}]);
		const noAttestation = attestedIndex([{manifest: imageManifest, platform: {os: 'linux', architecture: 'amd64'}}]);
		const onlyProvenance = attestedIndex([{manifest: imageManifest, platform: {os: 'linux', architecture: 'amd64'}, attestation: provenanceOnly.manifest}]);
		const brokenIndex = attestedIndex([{manifest: otherManifest, platform: {os: 'linux', architecture: 'amd64'}, attestation: broken.manifest}]);
		const registry = registryOf([noAttestation, onlyProvenance, brokenIndex, imageManifest, otherManifest, ...provenanceOnly.blobs, ...broken.blobs]);

		expect(await readSbomPackages(registry, reference, noAttestation.digest, imageManifest.digest)).toEqual({ok: false, failure: {kind: 'missing', reason: `the image index registry.example/acme/app@${noAttestation.digest} has no SBOM attestation`}});
		const provenance = await readSbomPackages(registry, reference, onlyProvenance.digest, imageManifest.digest);
		expect(provenance.ok === false && provenance.failure.kind).toBe('missing');
		expect(provenance.ok === false && provenance.failure.reason).toContain('holds no SBOM (only https://slsa.dev/provenance/v0.2 layers)');
		const single = await readSbomPackages(registry, reference, imageManifest.digest, undefined);
		expect(single.ok === false && single.failure.kind).toBe('missing');
		const bad = await readSbomPackages(registry, reference, brokenIndex.digest, otherManifest.digest);
		expect(bad.ok === false && bad.failure).toEqual({kind: 'invalid', reason: expect.stringContaining('the SBOM attestation does not parse: it is not JSON') as unknown});
		const gone = await readSbomPackages(registry, reference, `sha256:${'e'.repeat(64)}`, undefined);
		expect(gone.ok === false && gone.failure.kind).toBe('failed');
	});

	it('does not fetch an SBOM layer larger than the cap', async () => {
		const huge = blob(JSON.stringify({
			schemaVersion: 2,
			config: {mediaType: 'application/vnd.oci.image.config.v1+json', digest: `sha256:${'f'.repeat(64)}`, size: 2},
			layers: [{mediaType: 'application/vnd.in-toto+json', digest: `sha256:${'a'.repeat(64)}`, size: maxSbomBytes + 1, annotations: {'in-toto.io/predicate-type': spdxPredicate}}],
		}), 'application/vnd.oci.image.manifest.v1+json');
		const index = attestedIndex([{manifest: imageManifest, platform: {os: 'linux', architecture: 'amd64'}, attestation: huge}]);
		const registry = registryOf([index, huge]);
		const result = await readSbomPackages(registry, reference, index.digest, imageManifest.digest);
		expect(result.ok === false && result.failure.kind).toBe('invalid');
		expect(registry.asked).not.toContain(`sha256:${'a'.repeat(64)}`);
	});
});
