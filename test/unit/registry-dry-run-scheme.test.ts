import {mkdir, writeFile} from 'node:fs/promises';
import {join} from 'node:path';
import {describe, expect, it} from 'vitest';
import {planScan} from '../../source/core/plan.ts';
import {RegistryTrust} from '../../source/registry/trust.ts';
import {dryRunJson, renderDryRun} from '../../source/report/dry-run.ts';
import {temporaryDirectory} from '../helpers/temporary.ts';
import {container, digest} from './fakes.ts';

describe('dry-run names the scheme a scan would really use', () => {
	it('certs.d makes a loopback registry HTTPS; an insecure one is tried over HTTPS first; plain loopback is HTTP', async () => {
		const certsDir = await temporaryDirectory('updock-dry-certs-');
		await mkdir(join(certsDir, '127.0.0.1:5443'));
		await writeFile(join(certsDir, '127.0.0.1:5443', 'ca.crt'), 'CA PEM');
		const trust = new RegistryTrust({certsDir, insecure: async () => ({registries: ['registry.corp:5000'], cidrs: []})});
		const images = ['127.0.0.1:5443/acme/tls:1', '127.0.0.1:5000/acme/plain:1', 'registry.corp:5000/acme/insecure:1', 'ghcr.io/acme/app:1'];
		const facts = images.map((image, index) => container({name: `c${index}`, image, repoDigests: [`${image.replace(/:1$/, '')}@${digest(String(index + 2))}`]}));
		const plan = planScan(facts, {pins: [], exclusions: [], imageStores: new Map(), defaultHost: 'local'});
		const schemes = await trust.schemes([...plan.checks.values()].map(reference => reference.registry));
		const json = dryRunJson(plan, schemes);
		expect(Object.fromEntries(json.registries.map(entry => [entry.registry, entry.scheme]))).toEqual({
			'127.0.0.1:5443': 'https',
			'127.0.0.1:5000': 'http',
			'registry.corp:5000': 'https',
			'ghcr.io': 'https',
		});
		expect(renderDryRun(plan, false, schemes)).toContain('127.0.0.1:5443 (https)');
	});
});
