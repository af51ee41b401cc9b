import {join} from 'node:path';
import {afterAll, beforeAll, describe, expect, inject, it} from 'vitest';
import {docker} from '../helpers/dockerd.ts';
import {requestsDuring, type AccessEntry} from '../helpers/registry.ts';
import {Scene} from '../helpers/scene.ts';
import {createService, startSwarmEngine, type Service, type SwarmEngine} from '../helpers/swarm.ts';
import {makeHome, row, scanJson} from '../helpers/updock.ts';
import type {ScanJson} from '../../source/report/scan-json.ts';

const sandbox = inject('sandbox');

/**
 * A Swarm manager of its own (a private dockerd, so the shared engine never joins a swarm) with
 * services made by the docker CLI from sandbox registry images, scanned by the built binary.
 * What works on this dockerd: `docker service create` without `--network none` (a service without
 * ports needs no network of its own), the image's own command (busybox sleep), and a zero stop grace
 * period so removing tasks does not wait out the default 10 s.
 */
describe('Swarm services', () => {
	let scene: Scene;
	let swarm: SwarmEngine;
	let json: ScanJson;
	let code: number;
	let requests: AccessEntry[];
	const services: Record<string, Service> = {};
	const open = sandbox.open.host;
	const ref = (repository: string): string => scene.ref(open, repository);

	beforeAll(async () => {
		scene = await Scene.create(sandbox, 'swarm');
		swarm = await startSwarmEngine(join(sandbox.root, 'swarm-engine'));
		await scene.push(ref('moved'), {marker: 'swarm-moved-1'});
		await scene.push(ref('current'), {marker: 'swarm-current-1'});
		const pinnedDigest = await scene.push(ref('pinned'), {marker: 'swarm-pinned-1'});
		await scene.push(ref('optout'), {marker: 'swarm-optout-1'});
		await scene.push(ref('replicas'), {marker: 'swarm-replicas-1'});
		await scene.push(ref('plainout'), {marker: 'swarm-plainout-1'});

		services['moved'] = await createService(swarm.host, 'moved', ref('moved'));
		services['current'] = await createService(swarm.host, 'current', ref('current'));
		services['pinned'] = await createService(swarm.host, 'pinned', `${open}/swarm/pinned@${pinnedDigest}`);
		services['optout'] = await createService(swarm.host, 'optout', ref('optout'), {labels: {'updock.enable': 'false'}});
		services['replicas'] = await createService(swarm.host, 'replicas', ref('replicas'), {replicas: 2});
		await docker(swarm.host, ['run', '-d', '--network', 'none', '--label', 'updock.enable=false', '--name', 'plainout', ref('plainout')]);
		// The tag moved on in the registry after the manager pinned its digest in the spec.
		await scene.push(ref('moved'), {marker: 'swarm-moved-2'});

		const home = await makeHome({root: sandbox.root, dockerHost: swarm.host});
		const scanned = await requestsDuring(sandbox.open, async () => scanJson(home));
		json = scanned.result.json;
		code = scanned.result.result.code;
		requests = scanned.requests.filter(entry => entry.userAgent.startsWith('updock/'));
	});

	afterAll(async () => {
		await swarm?.stop();
		await scene?.cleanup();
	});

	it('the manager pinned each tag to its digest in the spec', () => {
		expect(services['moved']!.specImage).toMatch(new RegExp(`^${ref('moved').replaceAll('.', '\\.')}@sha256:[a-f\\d]{64}$`));
		expect(code).toBe(0);
	});

	it('a service whose tag moved is update-available, with the docker service update hint', () => {
		const moved = row(json, 'moved');
		expect(moved).toMatchObject({host: 'local', kind: 'service', id: services['moved']!.id, image: ref('moved'), status: 'update-available', mode: 'replicated', replicas: 1});
		expect(moved.reason).toContain(`docker service update --image ${ref('moved')} moved`);
		expect(moved.localDigest).toBe(services['moved']!.specImage.split('@')[1]);
		expect(moved.remoteDigest).not.toBe(moved.localDigest);
	});

	it('a service whose tag did not move is up-to-date', () => {
		expect(row(json, 'current')).toMatchObject({kind: 'service', status: 'up-to-date', localDigest: services['current']!.specImage.split('@')[1]});
	});

	it('a service from a digest only is pinned, and costs no request', () => {
		expect(row(json, 'pinned')).toMatchObject({kind: 'service', status: 'pinned'});
		expect(requests.filter(entry => entry.path.startsWith('/v2/swarm/pinned/'))).toEqual([]);
	});

	it('a service and a container labelled updock.enable=false are excluded, naming the label, and nothing is sent for them', () => {
		const optout = row(json, 'optout');
		expect(optout).toMatchObject({kind: 'service', status: 'excluded'});
		expect(optout.reason).toMatch(/updock\.enable=false/);
		const plain = row(json, 'plainout');
		expect(plain).toMatchObject({kind: 'container', status: 'excluded'});
		expect(plain.reason).toMatch(/updock\.enable=false/);
		expect(requests.filter(entry => /^\/v2\/swarm\/(?:optout|plainout)\//.test(entry.path))).toEqual([]);
		// The others were checked: the log is not empty for a reason that would hide the two above.
		expect(requests.filter(entry => entry.method === 'HEAD' && entry.path === '/v2/swarm/current/manifests/1')).toHaveLength(1);
	});

	it('task containers are listed once, under their service', async () => {
		const replicas = row(json, 'replicas');
		expect(replicas).toMatchObject({kind: 'service', status: 'up-to-date', mode: 'replicated', replicas: 2});
		const tasks = (await docker(swarm.host, ['ps', '-q', '--no-trunc', '--filter', `label=com.docker.swarm.service.id=${services['replicas']!.id}`])).split('\n').filter(Boolean);
		expect(tasks).toHaveLength(2);
		expect([...replicas.tasks ?? []].sort()).toEqual([...tasks].sort());

		const running = (await docker(swarm.host, ['ps', '-q', '--no-trunc'])).split('\n').filter(Boolean);
		// Six task containers and one plain container run; the scan shows five services and that container.
		expect(running).toHaveLength(7);
		expect(json.containers.map(container => `${container.kind}:${container.name}`).sort()).toEqual(['container:plainout', 'service:current', 'service:moved', 'service:optout', 'service:pinned', 'service:replicas']);
		const everyTask = json.containers.flatMap(container => container.tasks ?? []);
		expect(everyTask.sort()).toEqual(running.filter(id => json.containers.every(container => container.id !== id)).sort());
		expect(json.summary.total).toBe(6);
		expect(json.summary.hosts).toEqual([{name: 'local', address: swarm.host, state: 'ok', error: null, total: 6}]);
	});
});
