import {describe, expect, it} from 'vitest';
import {findExclusion, patternMatches, validatePattern} from '../../source/core/exclusions.ts';
import {parseReference} from '../../source/core/reference.ts';

const matches = (pattern: string, image: string): boolean => patternMatches(pattern, image, parseReference(image));

describe('exclusion patterns', () => {
	it.each([
		['ghcr.io/acme/*', 'ghcr.io/acme/app:1', true],
		['ghcr.io/acme/*', 'ghcr.io/acme/team/app', true],
		['ghcr.io/acme/*', 'ghcr.io/other/app', false],
		['nginx', 'nginx:1.27', true],
		['nginx', 'docker.io/library/nginx', true],
		['docker.io/nginx', 'nginx:latest', true],
		['nginx:1.27', 'nginx:1.27', true],
		['nginx:1.27', 'nginx:1.28', false],
		['nginx:1.*', 'nginx:1.27', true],
		['nginx:1.*', 'nginx:2.0', false],
		['*/postgres:*', 'library/postgres:16', true],
		['postgres', 'bitnami/postgres', false],
		['localhost:5000/app', 'localhost:5000/app:dev', true],
		['app?', 'app1', true],
		['*', 'anything/at/all:1', true],
	])('%s vs %s -> %s', (pattern, image, expected) => {
		expect(matches(pattern, image)).toBe(expected);
	});

	it('matches an image-id reference only by its exact text or a glob', () => {
		expect(patternMatches('3f2a*', '3f2a9c', null)).toBe(true);
		expect(patternMatches('nginx', '3f2a9c', null)).toBe(false);
	});

	it('finds the first matching exclusion', () => {
		const exclusions = [{id: 1, pattern: 'redis', createdAt: ''}, {id: 2, pattern: 'ghcr.io/*', createdAt: ''}];
		expect(findExclusion(exclusions, 'ghcr.io/a/b:1', parseReference('ghcr.io/a/b:1'))?.id).toBe(2);
		expect(findExclusion(exclusions, 'nginx', parseReference('nginx'))).toBeUndefined();
	});

	it('validates patterns before they are saved', () => {
		expect(validatePattern('  ghcr.io/acme/*  ')).toBe('ghcr.io/acme/*');
		expect(() => validatePattern('')).toThrow(/empty/);
		expect(() => validatePattern('a b')).toThrow(/not an image pattern/);
		expect(() => validatePattern('Nginx')).toThrow(/lowercase/);
	});
});
