import {describe, expect, it} from 'vitest';
import {InvalidReferenceError} from '../../source/core/errors.ts';
import {familiarName, formatReference, isImageIdReference, isLoopbackRegistry, matchingRepoDigests, parseReference} from '../../source/core/reference.ts';

const digest = `sha256:${'a'.repeat(64)}`;
const other = `sha256:${'b'.repeat(64)}`;

describe('parseReference', () => {
	it.each([
		['nginx', 'docker.io', 'library/nginx', 'latest', null],
		['nginx:1.27', 'docker.io', 'library/nginx', '1.27', null],
		['acme/app', 'docker.io', 'acme/app', 'latest', null],
		['docker.io/nginx', 'docker.io', 'library/nginx', 'latest', null],
		['index.docker.io/library/nginx:1', 'docker.io', 'library/nginx', '1', null],
		['registry-1.docker.io/acme/app:2', 'docker.io', 'acme/app', '2', null],
		['ghcr.io/acme/app:v1.2.3', 'ghcr.io', 'acme/app', 'v1.2.3', null],
		['localhost/app', 'localhost', 'app', 'latest', null],
		['localhost:5000/team/app:dev', 'localhost:5000', 'team/app', 'dev', null],
		['foo:5000', 'docker.io', 'library/foo', '5000', null],
		['127.0.0.1:5000/a/b/c', '127.0.0.1:5000', 'a/b/c', 'latest', null],
		['[::1]:5000/app:1', '[::1]:5000', 'app', '1', null],
		[`ghcr.io/acme/app@${digest}`, 'ghcr.io', 'acme/app', null, digest],
		[`ghcr.io/acme/app:1@${digest}`, 'ghcr.io', 'acme/app', '1', digest],
		['my.registry.example/a_b/c__d/e-f.g:T_1.x-y', 'my.registry.example', 'a_b/c__d/e-f.g', 'T_1.x-y', null],
	])('%s', (input, registry, repository, tag, wantedDigest) => {
		expect(parseReference(input)).toEqual({registry, repository, tag, digest: wantedDigest});
	});

	it.each([
		['', /empty/],
		['Nginx', /lowercase/],
		['ghcr.io/Acme/app', /lowercase/],
		['app:-bad', /invalid tag/],
		[`app:${'x'.repeat(129)}`, /invalid tag/],
		['app@sha256:xyz', /invalid digest/],
		['app@md5:abc', /invalid digest/],
		['a//b', /invalid repository/],
		['ghcr.io/', /no repository/],
		['app_/x', /invalid repository/],
	])('rejects %j', (input, message) => {
		expect(() => parseReference(input)).toThrow(InvalidReferenceError);
		expect(() => parseReference(input)).toThrow(message);
	});

	it('formats canonical and familiar names', () => {
		expect(formatReference(parseReference('nginx'))).toBe('docker.io/library/nginx:latest');
		expect(familiarName(parseReference('nginx'))).toBe('nginx');
		expect(familiarName(parseReference('acme/app'))).toBe('acme/app');
		expect(familiarName(parseReference('ghcr.io/acme/app:1'))).toBe('ghcr.io/acme/app');
	});
});

describe('matchingRepoDigests', () => {
	it('takes every digest of the same normalised repository and nothing else', () => {
		const reference = parseReference('nginx:1.27');
		expect(matchingRepoDigests(reference, [
			`mirror.example/library/nginx@${other}`,
			`nginx@${digest}`,
			`docker.io/library/nginx@${other}`,
			`docker.io/library/nginx@${digest}`,
			'garbage@@',
		])).toEqual([digest, other]);
	});

	it('finds nothing for an image pulled from elsewhere', () => {
		expect(matchingRepoDigests(parseReference('127.0.0.1:5000/app:1'), [`127.0.0.1:5001/app@${digest}`])).toEqual([]);
	});
});

describe('isImageIdReference', () => {
	const id = `sha256:${'c0ffee'.repeat(10)}abcd`;
	it('recognises full ids, sha256 ids and prefixes of the running image id', () => {
		expect(isImageIdReference(id, id)).toBe(true);
		expect(isImageIdReference(id.slice(7), id)).toBe(true);
		expect(isImageIdReference(id.slice(7, 19), id)).toBe(true);
	});

	it('does not mistake names for ids', () => {
		expect(isImageIdReference('nginx', id)).toBe(false);
		expect(isImageIdReference('deadbeef', id)).toBe(false);
	});
});

describe('isLoopbackRegistry', () => {
	it.each([['localhost', true], ['localhost:5000', true], ['127.0.0.1:5000', true], ['127.8.9.10', true], ['[::1]:5000', true], ['docker.io', false], ['localhost.example.com', false], ['10.0.0.1:5000', false], ['128.0.0.1', false]])('%s -> %s', (host, expected) => {
		expect(isLoopbackRegistry(host)).toBe(expected);
	});
});
