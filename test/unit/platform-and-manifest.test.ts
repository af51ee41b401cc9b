import {describe, expect, it} from 'vitest';
import {platformMatches, selectPlatform} from '../../source/core/platform.ts';
import {parseManifest, sha256Digest} from '../../source/registry/manifest.ts';

const d = (character: string): string => `sha256:${character.repeat(64)}`;

describe('platform matching', () => {
	it('needs os and architecture, and fills default arm variants', () => {
		expect(platformMatches({os: 'linux', architecture: 'amd64'}, {os: 'linux', architecture: 'amd64'})).toBe(true);
		expect(platformMatches({os: 'linux', architecture: 'amd64'}, {os: 'linux', architecture: 'arm64'})).toBe(false);
		expect(platformMatches({os: 'linux', architecture: 'arm64'}, {os: 'linux', architecture: 'arm64', variant: 'v8'})).toBe(true);
		expect(platformMatches({os: 'linux', architecture: 'arm', variant: 'v6'}, {os: 'linux', architecture: 'arm', variant: 'v7'})).toBe(false);
		expect(platformMatches({os: 'linux', architecture: 'arm'}, {os: 'linux', architecture: 'arm', variant: 'v7'})).toBe(true);
		expect(platformMatches({os: 'windows', architecture: 'amd64'}, {os: 'linux', architecture: 'amd64'})).toBe(false);
	});

	it('prefers an exact variant and never picks attestations', () => {
		const entries = [
			{digest: d('0'), platform: {os: 'unknown', architecture: 'unknown'}},
			{digest: d('1'), platform: {os: 'linux', architecture: 'arm', variant: 'v6'}},
			{digest: d('2'), platform: {os: 'linux', architecture: 'arm', variant: 'v7'}},
			{digest: d('3'), platform: {os: 'linux', architecture: 'amd64'}},
		];
		expect(selectPlatform(entries, {os: 'linux', architecture: 'arm', variant: 'v7'})?.digest).toBe(d('2'));
		expect(selectPlatform(entries, {os: 'linux', architecture: 'amd64', variant: 'v3'})?.digest).toBe(d('3'));
		expect(selectPlatform(entries, {os: 'linux', architecture: 's390x'})).toBeUndefined();
	});
});

describe('parseManifest', () => {
	it('reads an OCI index and its platforms', () => {
		const body = Buffer.from(JSON.stringify({schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests: [
			{mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: d('a'), size: 1, platform: {os: 'linux', architecture: 'amd64'}},
			{mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: 'not-a-digest', size: 1},
			{mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: d('b'), size: 1, platform: {os: 'linux', architecture: 'arm64', variant: 'v8'}},
		]}));
		expect(parseManifest(body, undefined)).toEqual({kind: 'index', manifests: [
			{digest: d('a'), mediaType: 'application/vnd.oci.image.manifest.v1+json', platform: {os: 'linux', architecture: 'amd64', variant: undefined}},
			{digest: d('b'), mediaType: 'application/vnd.oci.image.manifest.v1+json', platform: {os: 'linux', architecture: 'arm64', variant: 'v8'}},
		]});
	});

	it('takes the media type from Content-Type when the body has none (Docker manifest list)', () => {
		const body = Buffer.from(JSON.stringify({schemaVersion: 2, manifests: [{digest: d('c'), platform: {os: 'linux', architecture: 'amd64'}}]}));
		expect(parseManifest(body, 'application/vnd.docker.distribution.manifest.list.v2+json')?.kind).toBe('index');
	});

	it('reads the config digest of an image manifest and rejects other documents', () => {
		expect(parseManifest(Buffer.from(JSON.stringify({schemaVersion: 2, config: {digest: d('e')}, layers: []})), undefined)).toEqual({kind: 'image', configDigest: d('e')});
		expect(parseManifest(Buffer.from('<html>'), 'text/html')).toBeNull();
		expect(parseManifest(Buffer.from('{"schemaVersion":1}'), undefined)).toBeNull();
	});

	it('hashes the bytes as received', () => {
		expect(sha256Digest(Buffer.from(''))).toBe('sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
	});
});
