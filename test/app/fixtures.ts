import {LiveModel} from '../../source/core/live-model.ts';
import type {ContainerFacts, ContainerResult, Enrichment, ScanSummary, ServiceInfo, Verdict} from '../../source/core/types.ts';

export const d = (character: string): string => `sha256:${character.repeat(64)}`;

/** A running container on the engine `host` (the default engine is `local`). */
export function facts(name: string, image = `registry.example/team/${name}:1`, state = 'running', host = 'local'): ContainerFacts {
	return {
		host,
		kind: 'container',
		labels: {},
		service: null,
		id: `${name}`.padEnd(64, '0').replaceAll(/[^a-f\d]/g, 'a').slice(0, 48) + name.padStart(16, '0').slice(-16),
		name,
		image,
		imageId: d('1'),
		state,
		repoDigests: [],
		imagePresent: true,
		platform: {os: 'linux', architecture: 'amd64'},
	};
}

/** A Swarm service: a row of its own, its task containers listed under it. */
export function serviceFacts(name: string, service: ServiceInfo, image = `registry.example/team/${name}:1@${d('a')}`, host = 'local'): ContainerFacts {
	return {...facts(name, image, 'running', host), kind: 'service', service};
}

/** A row's result; `enrichment` is what the newer-versions, links and vulnerabilities steps added. */
export function result(container: ContainerFacts, verdict: Verdict, enrichment: Enrichment = {}): ContainerResult {
	return {host: container.host, kind: container.kind, service: container.service, id: container.id, name: container.name, image: container.image, state: container.state, imageId: container.imageId, platform: container.platform, reference: container.image, verdict, ...enrichment};
}

export const emptySummary: ScanSummary = {total: 0, upToDate: 0, updateAvailable: 0, pinned: 0, excluded: 0, unknown: 0, error: 0, newerVersions: 0};

export const verdicts = {
	upToDate: {status: 'up-to-date', localDigest: d('a'), remoteDigest: d('a')},
	update: {status: 'update-available', localDigest: d('a'), remoteDigest: d('b')},
	pinned: {status: 'pinned', reason: 'Pinned by you on 2026-11-01.', localDigest: null},
	excluded: {status: 'excluded', reason: 'The image matches exclusion 1 ("registry.example/*").'},
	unknown: {status: 'unknown', reason: 'Built or imported locally: the image has no registry digest to compare with.'},
	error: {status: 'error', error: 'Registry registry.example is unreachable: connection refused at registry.example:443. Is it running?', localDigest: d('a')},
} as const satisfies Record<string, Verdict>;

/** A model holding a finished scan of `entries`. */
export function modelWith(entries: ReadonlyArray<readonly [ContainerFacts, Verdict, Enrichment?]>, address = 'unix:///var/run/docker.sock'): LiveModel {
	const model = new LiveModel(address);
	model.onScanEvent({type: 'started', containers: entries.map(([container]) => container), checks: entries.length, partial: false, unlistedHosts: []});
	for (const [container, verdict, enrichment] of entries) {
		model.onScanEvent({type: 'result', result: result(container, verdict, enrichment)});
	}

	model.onScanEvent({type: 'finished', report: {scannedAt: new Date().toISOString(), hosts: [], durationMs: 1, containers: [], summary: emptySummary}});
	model.setEngine({status: 'connected'});
	return model;
}
