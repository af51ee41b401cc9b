import {createHmac} from 'node:crypto';
import {describe, expect, it} from 'vitest';
import {checkHostKey} from '../../source/docker/known-hosts.ts';

const key = Buffer.from('AAAAC3NzaC1lZDI1NTE5AAAAIKeyOfTheRealHost0000000000000000000000000', 'base64');
const other = Buffer.from('AAAAC3NzaC1lZDI1NTE5AAAAIAnotherKeyEntirely00000000000000000000000', 'base64');
const line = (hosts: string, blob: Buffer): string => `${hosts} ssh-ed25519 ${blob.toString('base64')}`;

describe('checkHostKey', () => {
	it('known on port 22 by name, on another port as [host]:port', () => {
		expect(checkHostKey([line('prod.example,10.0.0.5', key)], 'prod.example', 22, key)).toBe('known');
		expect(checkHostKey([line('[127.0.0.1]:2222', key)], '127.0.0.1', 2222, key)).toBe('known');
		// An entry for port 22 does not vouch for another port.
		expect(checkHostKey([line('127.0.0.1', key)], '127.0.0.1', 2222, key)).toBe('unknown');
	});

	it('unknown, mismatch, revoked', () => {
		expect(checkHostKey(['# nothing here', ''], 'prod.example', 22, key)).toBe('unknown');
		expect(checkHostKey([line('prod.example', other)], 'prod.example', 22, key)).toBe('mismatch');
		expect(checkHostKey([line('prod.example', other), line('prod.example', key)], 'prod.example', 22, key)).toBe('known');
		expect(checkHostKey([`@revoked ${line('*', key)}`, line('prod.example', key)], 'prod.example', 22, key)).toBe('revoked');
	});

	it('hashed names, wildcards and negation', () => {
		const salt = Buffer.from('0123456789abcdefghij');
		const hash = createHmac('sha1', salt).update('[prod.example]:2200').digest('base64');
		expect(checkHostKey([line(`|1|${salt.toString('base64')}|${hash}`, key)], 'prod.example', 2200, key)).toBe('known');
		expect(checkHostKey([line(`|1|${salt.toString('base64')}|${hash}`, key)], 'prod.example', 22, key)).toBe('unknown');
		expect(checkHostKey([line('*.example', key)], 'prod.example', 22, key)).toBe('known');
		expect(checkHostKey([line('*.example,!prod.example', key)], 'prod.example', 22, key)).toBe('unknown');
		expect(checkHostKey([`@cert-authority ${line('*', key)}`], 'prod.example', 22, key)).toBe('unknown');
	});
});
