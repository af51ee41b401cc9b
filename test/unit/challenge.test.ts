import {describe, expect, it} from 'vitest';
import {ChallengeParseError, parseChallenges} from '../../source/registry/challenge.ts';

describe('parseChallenges', () => {
	it('reads the Docker Hub challenge', () => {
		expect(parseChallenges('Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/nginx:pull"')).toEqual([{
			scheme: 'bearer',
			params: {realm: 'https://auth.docker.io/token', service: 'registry.docker.io', scope: 'repository:library/nginx:pull'},
		}]);
	});

	it('reads the GHCR challenge, with a comma inside a quoted scope', () => {
		expect(parseChallenges('Bearer realm="https://ghcr.io/token",service="ghcr.io",scope="repository:acme/app:pull,push"')[0]?.params['scope']).toBe('repository:acme/app:pull,push');
	});

	it('is case-insensitive for schemes and parameter names, and keeps value case', () => {
		expect(parseChallenges('BASIC REALM="Registry Realm"')).toEqual([{scheme: 'basic', params: {realm: 'Registry Realm'}}]);
	});

	it('splits two challenges on one line and across header lines', () => {
		const challenges = parseChallenges(['Bearer realm="https://a/token",service="a", Basic realm="b"', 'Negotiate']);
		expect(challenges.map(challenge => challenge.scheme)).toEqual(['bearer', 'basic', 'negotiate']);
		expect(challenges[1]?.params).toEqual({realm: 'b'});
	});

	it('accepts unquoted values, spaces around =, escapes and error parameters', () => {
		expect(parseChallenges('Bearer realm = https://a/token , error="insufficient_scope", note="say \\"hi\\""')[0]?.params).toEqual({
			realm: 'https://a/token',
			error: 'insufficient_scope',
			note: 'say "hi"',
		});
	});

	it('returns nothing for no header', () => {
		expect(parseChallenges([])).toEqual([]);
	});

	it('says where a broken header breaks', () => {
		expect(() => parseChallenges('Bearer realm="https://a/token')).toThrow(ChallengeParseError);
		expect(() => parseChallenges('Bearer realm="https://a/token')).toThrow(/unterminated quoted value/);
		expect(() => parseChallenges('Bearer realm=,')).toThrow(/expected a parameter value/);
		expect(() => parseChallenges('"quoted"')).toThrow(/character 1/);
	});
});
