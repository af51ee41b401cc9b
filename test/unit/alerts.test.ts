import {describe, expect, it} from 'vitest';
import {announcementKey, caughtUp, eventKey, raisedEvents, sessionAlertsAfterScan, sessionAlertsText, startSessionAlerts, type AnnouncedLookup, type AvailableEvent, type LastAnnounced} from '../../source/core/alerts.ts';
import type {ContainerResult, Verdict} from '../../source/core/types.ts';

const digest = (character: string): string => `sha256:${character.repeat(64)}`;
const behind = (remote: string): Verdict => ({status: 'update-available', localDigest: digest('0'), remoteDigest: digest(remote)});
const current: Verdict = {status: 'up-to-date', localDigest: digest('a'), remoteDigest: digest('a')};

function result(name: string, verdict: Verdict, host = 'local'): ContainerResult {
	return {host, kind: 'container', service: null, id: `${name}-id`, name, image: `registry.test/${name}:1`, state: 'running', imageId: digest('1'), platform: null, reference: `registry.test/${name}:1`, verdict};
}

const t0 = new Date('2026-03-01T14:02:00Z');
const later = (ms: number): Date => new Date(t0.getTime() + ms);

/** An announced map as the JSON file keeps it, changed the way serve changes it. */
class Announced {
	readonly entries = new Map<string, LastAnnounced>();
	readonly lookup: AnnouncedLookup = (host, name) => this.entries.get(announcementKey(host, name));

	delivered(events: readonly AvailableEvent[]): void {
		for (const event of events) {
			this.entries.set(announcementKey(event.host, event.container.name), {digest: event.remoteDigest});
		}
	}

	scanned(results: readonly ContainerResult[]): void {
		for (const {host, name} of caughtUp(results)) {
			this.entries.delete(announcementKey(host, name));
		}
	}
}

const none: AnnouncedLookup = () => undefined;

/** Run scans through the alert rules as serve does when every delivery succeeds: the events of each. */
function scans(...rounds: ContainerResult[][]): string[][] {
	const announced = new Announced();
	return rounds.map((results, index) => {
		const events = raisedEvents(results, announced.lookup, later(index * 1000));
		announced.scanned(results);
		announced.delivered(events);
		return events.map(event => `${event.container.name}@${event.remoteDigest.slice(7, 8)}`);
	});
}

describe('available events', () => {
	it('are raised once per container and new remote digest, with the shape notifications carry', () => {
		const [event] = raisedEvents([result('api', behind('b'))], none, t0);
		expect(event).toEqual({event: 'available', severity: 'info', host: 'local', container: {id: 'api-id', name: 'api', image: 'registry.test/api:1'}, localDigest: digest('0'), remoteDigest: digest('b'), detectedAt: t0.toISOString()});
		expect(scans([result('api', behind('b'))], [result('api', behind('b'))], [result('api', behind('b'))])).toEqual([['api@b'], [], []]);
	});

	it('are raised again when the tag moves on to another digest', () => {
		expect(scans([result('api', behind('b'))], [result('api', behind('c'))])).toEqual([['api@b'], ['api@c']]);
	});

	it('are raised again for a container updated and later behind again, even on the same digest', () => {
		expect(scans([result('api', behind('b'))], [result('api', current)], [result('api', behind('b'))])).toEqual([['api@b'], [], ['api@b']]);
	});

	it('are not raised for pinned, excluded, unknown or failed containers', () => {
		const quiet: Verdict[] = [
			{status: 'pinned', reason: 'Pinned by you', localDigest: null},
			{status: 'excluded', reason: 'excluded'},
			{status: 'unknown', reason: 'local build'},
			{status: 'error', error: 'tag not found', localDigest: null},
		];
		expect(raisedEvents(quiet.map((verdict, index) => result(`c${index}`, verdict)), none, t0)).toEqual([]);
	});

	it('announce everything pending on the first scan after installing, keyed per host', () => {
		expect(scans([result('api', behind('b')), result('api', behind('b'), 'prod'), result('web', current)])).toEqual([['api@b', 'api@b']]);
		const announced = new Announced();
		announced.delivered(raisedEvents([result('api', behind('b'))], none, t0));
		expect(raisedEvents([result('api', behind('b'), 'prod')], announced.lookup, t0)).toHaveLength(1);
		expect(raisedEvents([result('api', behind('b'))], announced.lookup, t0)).toHaveLength(0);
	});

	it('keep the first detection time of an event whose deliveries failed', () => {
		const [first] = raisedEvents([result('api', behind('b'))], none, t0);
		const [again] = raisedEvents([result('api', behind('b'))], none, later(60_000), key => key === eventKey(first!) ? first!.detectedAt : undefined);
		expect(again!.detectedAt).toBe(t0.toISOString());
	});

	it('are raised again when the announcement was about a newer tag, not this digest alone', () => {
		expect(raisedEvents([result('api', behind('b'))], () => ({digest: digest('b'), tag: '2.0'}), t0)).toHaveLength(1);
	});
});

describe('session alerts for the live view footer', () => {
	it('count the events of the session, not the updates already pending at start', () => {
		const since = new Date(2026, 2, 1, 14, 2);
		let state = startSessionAlerts(since, [result('old', behind('b'))]);
		expect(sessionAlertsText(state)).toBeNull();
		state = sessionAlertsAfterScan(state, [result('old', behind('b')), result('api', behind('c'))], later(1000));
		state = sessionAlertsAfterScan(state, [result('old', behind('b')), result('api', behind('c')), result('web', behind('d'))], later(2000));
		expect(sessionAlertsText(state)).toBe('2 new since 14:02');
	});
});
