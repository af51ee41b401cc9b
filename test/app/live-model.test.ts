import {describe, expect, it} from 'vitest';
import {LiveModel} from '../../source/core/live-model.ts';
import {emptySummary, facts, modelWith, result, verdicts} from './fixtures.ts';

const web = facts('web');
const api = facts('api');
const statusOf = (model: LiveModel, name: string): string | undefined => model.getSnapshot().rows.find(row => row.name === name)?.result?.verdict.status;
const finished = {type: 'finished', report: {scannedAt: new Date().toISOString(), hosts: [], durationMs: 1, containers: [], summary: emptySummary}} as const;

describe('a user action during a scan', () => {
	it('wins over the late result of the scan that was already running', () => {
		const model = modelWith([[web, verdicts.upToDate], [api, verdicts.upToDate]]);
		// A scan starts; it read the pins before the user pinned web.
		model.onScanEvent({type: 'started', containers: [web, api], checks: 2, partial: false, unlistedHosts: []});
		model.settle(web.id, verdicts.pinned);
		expect(statusOf(model, 'web')).toBe('pinned');
		model.onScanEvent({type: 'result', result: result(web, verdicts.update)});
		model.onScanEvent({type: 'result', result: result(api, verdicts.update)});
		model.onScanEvent(finished);
		expect(statusOf(model, 'web')).toBe('pinned');
		// The other rows still take that scan's results.
		expect(statusOf(model, 'api')).toBe('update-available');
		expect(model.getSnapshot().rows.find(row => row.name === 'web')?.checking).toBe(false);
	});

	it('wins also when the stale result was waiting to be applied', () => {
		const model = modelWith([[web, verdicts.upToDate]]);
		model.onScanEvent({type: 'started', containers: [web], checks: 1, partial: false, unlistedHosts: []});
		model.onScanEvent({type: 'result', result: result(web, verdicts.update)});
		model.settle(web.id, verdicts.excluded);
		model.onScanEvent({type: 'result', result: result(web, verdicts.update)});
		expect(statusOf(model, 'web')).toBe('excluded');
	});

	it('gives way to the result of a scan that started after it', () => {
		const model = modelWith([[web, verdicts.upToDate]]);
		model.onScanEvent({type: 'started', containers: [web], checks: 1, partial: false, unlistedHosts: []});
		model.settle(web.id, verdicts.pinned);
		model.onScanEvent(finished);
		// The user unpins; the next scan, which read the file after the action, decides again.
		model.onScanEvent({type: 'started', containers: [web], checks: 1, partial: true, unlistedHosts: []});
		model.onScanEvent({type: 'result', result: result(web, verdicts.update)});
		expect(statusOf(model, 'web')).toBe('update-available');
	});

	it('made between scans, is replaced by the next scan', () => {
		const model = modelWith([[web, verdicts.upToDate]]);
		model.settle(web.id, verdicts.pinned);
		expect(statusOf(model, 'web')).toBe('pinned');
		model.onScanEvent({type: 'started', containers: [web], checks: 1, partial: false, unlistedHosts: []});
		model.onScanEvent({type: 'result', result: result(web, verdicts.error)});
		expect(statusOf(model, 'web')).toBe('error');
	});
});

describe('rows carry where and what they are', () => {
	it('keeps the host, kind and service of the engine listing', () => {
		const service = {...facts('queue', 'registry.example/team/queue:1', 'running', 'prod'), kind: 'service' as const, service: {mode: 'replicated', replicas: 3, tasks: ['t1', 't2', 't3']}};
		const model = modelWith([[service, verdicts.upToDate]]);
		expect(model.getSnapshot().rows[0]).toMatchObject({host: 'prod', kind: 'service', service: {mode: 'replicated', replicas: 3}});
		model.setContainers([{...service, service: {mode: 'replicated', replicas: 5, tasks: ['t1']}}]);
		expect(model.getSnapshot().rows[0]?.service).toEqual({mode: 'replicated', replicas: 5, tasks: ['t1']});
	});
});

describe('a host that could not be listed', () => {
	it('keeps its rows through a full scan of the other hosts', () => {
		const model = new LiveModel('2 hosts');
		const here = facts('web', 'registry.example/team/web:1', 'running', 'alpha');
		const there = facts('db', 'registry.example/team/db:1', 'running', 'beta');
		model.onScanEvent({type: 'started', containers: [here, there], checks: 2, partial: false, unlistedHosts: []});
		model.onScanEvent({type: 'result', result: result(here, verdicts.upToDate)});
		model.onScanEvent({type: 'result', result: result(there, verdicts.upToDate)});
		// beta is down: the next full scan lists alpha only.
		model.onScanEvent({type: 'started', containers: [here], checks: 1, partial: false, unlistedHosts: ['beta']});
		expect(model.getSnapshot().rows.map(row => `${row.host}/${row.name}`).sort()).toEqual(['alpha/web', 'beta/db']);
		// A host that answered and no longer has the container loses its row.
		model.onScanEvent({type: 'started', containers: [there], checks: 1, partial: false, unlistedHosts: []});
		expect(model.getSnapshot().rows.map(row => `${row.host}/${row.name}`)).toEqual(['beta/db']);
	});
});
