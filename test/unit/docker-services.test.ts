import {describe, expect, it} from 'vitest';
import {serviceListSchema} from '../../source/docker/schemas.ts';
import {enginePlatform, serviceFacts, serviceImage} from '../../source/docker/services.ts';

const digest = `sha256:${'a'.repeat(64)}`;

describe('serviceImage', () => {
	it('repo:tag@digest: the tag is checked, the digest is what runs', () => {
		expect(serviceImage(`registry.example:5000/acme/api:2.4@${digest}`)).toEqual({
			image: 'registry.example:5000/acme/api:2.4', imageId: digest, repoDigests: [`registry.example:5000/acme/api@${digest}`],
		});
	});

	it('a digest only stays pinned; a tag only has no digest', () => {
		expect(serviceImage(`nginx@${digest}`)).toEqual({image: `nginx@${digest}`, imageId: digest, repoDigests: [`nginx@${digest}`]});
		expect(serviceImage('registry.example:5000/nginx:1.27')).toEqual({image: 'registry.example:5000/nginx:1.27', imageId: '', repoDigests: []});
		expect(serviceImage('registry.example:5000/nginx@sha256:short')).toEqual({image: 'registry.example:5000/nginx@sha256:short', imageId: '', repoDigests: []});
	});
});

describe('serviceFacts', () => {
	const [replicated, global] = serviceListSchema.parse([
		{ID: 's1', Spec: {Name: 'api', Labels: {'updock.enable': 'false'}, Mode: {Replicated: {Replicas: 3}}, TaskTemplate: {ContainerSpec: {Image: `acme/api:2@${digest}`}}}, ServiceStatus: {RunningTasks: 2, DesiredTasks: 3}},
		{ID: 's2', Spec: {Name: 'agent', Mode: {Global: {}}, TaskTemplate: {ContainerSpec: {Image: 'acme/agent:1'}}}},
	]);

	it('a replicated service: mode, replicas, running/desired, labels, the manager platform', () => {
		expect(serviceFacts(replicated!, {host: 'prod', platform: {os: 'linux', architecture: 'arm64'}, tasks: ['c1', 'c2']})).toEqual({
			host: 'prod', kind: 'service', id: 's1', name: 'api', labels: {'updock.enable': 'false'},
			service: {mode: 'replicated', replicas: 3, tasks: ['c1', 'c2']},
			image: 'acme/api:2', imageId: digest, repoDigests: [`acme/api@${digest}`],
			state: 'replicated 2/3', imagePresent: true, platform: {os: 'linux', architecture: 'arm64'},
		});
	});

	it('a global service', () => {
		expect(serviceFacts(global!, {host: 'local', platform: null, tasks: []})).toMatchObject({state: 'global', service: {mode: 'global', replicas: null}, labels: {}});
	});

	it('maps uname names to OCI platforms', () => {
		expect(enginePlatform('linux', 'x86_64')).toEqual({os: 'linux', architecture: 'amd64', variant: undefined});
		expect(enginePlatform('linux', 'aarch64')).toEqual({os: 'linux', architecture: 'arm64', variant: undefined});
		expect(enginePlatform('linux', 'armv7l')).toEqual({os: 'linux', architecture: 'arm', variant: 'v7'});
		expect(enginePlatform('linux', 's390x')).toEqual({os: 'linux', architecture: 's390x', variant: undefined});
		expect(enginePlatform(undefined, 'x86_64')).toBeNull();
	});
});
