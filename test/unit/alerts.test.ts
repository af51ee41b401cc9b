import {describe, expect, it} from 'vitest';
import {announcementAfter, announcementKey, caughtUp, eventKey, raisedEvents, sessionAlertsAfterScan, sessionAlertsText, startSessionAlerts, type AnnouncedLookup, type AvailableEvent, type LastAnnounced} from '../../source/core/alerts.ts';
import type {ContainerResult, Enrichment, NewerVersion, Verdict} from '../../source/core/types.ts';

const digest = (character: string): string => `sha256:${character.repeat(64)}`;
const behind = (remote: string): Verdict => ({status: 'update-available', localDigest: digest('0'), remoteDigest: digest(remote)});
const current: Verdict = {status: 'up-to-date', localDigest: digest('a'), remoteDigest: digest('a')};

function result(name: string, verdict: Verdict, host = 'local', enrichment: Enrichment = {}): ContainerResult {
	return {host, kind: 'container', service: null, id: `${name}-id`, name, image: `registry.test/${name}:1`, state: 'running', imageId: digest('1'), platform: null, reference: `registry.test/${name}:1`, verdict, ...enrichment};
}

const minor = (tag: string): NewerVersion => ({tag, type: 'minor'});
/** A row whose tag offers newer versions, the last the newest. */
const offering = (name: string, verdict: Verdict, ...tags: string[]): ContainerResult => result(name, verdict, 'local', {newer: tags.map(minor), newerError: null});

const t0 = new Date('2026-03-01T14:02:00Z');
const later = (ms: number): Date => new Date(t0.getTime() + ms);

/** An announced map as the JSON file keeps it, changed the way serve changes it. */
class Announced {
	readonly entries = new Map<string, LastAnnounced>();
	readonly lookup: AnnouncedLookup = (host, name) => this.entries.get(announcementKey(host, name));

	delivered(events: readonly AvailableEvent[]): void {
		for (const event of events) {
			const key = announcementKey(event.host, event.container.name);
			this.entries.set(key, announcementAfter(event, this.entries.get(key)));
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
		return events.map(event => `${event.container.name}@${event.remoteDigest.slice(7, 8)}${event.newer?.length ? `:${event.newer.at(-1)!.tag}` : ''}`);
	});
}

describe('available events', () => {
	it('are raised once per container and new remote digest, with the shape notifications carry', () => {
		const [event] = raisedEvents([result('api', behind('b'))], none, t0);
		expect(event).toEqual({
			event: 'available', severity: 'info', host: 'local', container: {id: 'api-id', name: 'api', image: 'registry.test/api:1'}, status: 'update-available',
			localDigest: digest('0'), remoteDigest: digest('b'), newer: null, links: null, vulnerabilities: null, risk: null, detectedAt: t0.toISOString(),
		});
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

	it('carry the newer versions, links, vulnerabilities and risk of the row', () => {
		const links = {source: 'https://github.com/o/api', revision: 'a1b2c3d', targetRevision: 'd4e5f6a', changes: 'https://github.com/o/api/compare/a1b2c3d...d4e5f6a', release: null};
		const vulnerabilities = {source: 'sbom' as const, current: {critical: 1, high: 0, medium: 0, low: 0, unknown: 0, ids: ['CVE-1']}, target: {critical: 0, high: 0, medium: 0, low: 0, unknown: 0, ids: []}, fixed: ['CVE-1']};
		const [event] = raisedEvents([result('api', behind('b'), 'local', {newer: [minor('1.2')], links, vulnerabilities, vulnerabilitiesError: null, risk: {score: 40, level: 'high'}})], none, t0);
		expect(event).toMatchObject({newer: [minor('1.2')], links, vulnerabilities, risk: {score: 40, level: 'high'}});
	});

	it('are raised once for a newest newer version, even with the tag up to date, and again when a newer one appears', () => {
		const [event] = raisedEvents([offering('db', current, '1.26', '1.27')], none, t0);
		expect(event).toMatchObject({status: 'up-to-date', localDigest: digest('a'), remoteDigest: digest('a'), newer: [minor('1.26'), minor('1.27')]});
		expect(scans(
			[offering('db', current, '1.26', '1.27')],
			[offering('db', current, '1.26', '1.27')],
			[offering('db', current, '1.27')],
			[offering('db', current, '1.27', '1.28')],
		)).toEqual([['db@a:1.27'], [], [], ['db@a:1.28']]);
	});

	it('raise one event for a digest and a newer version together, then one for whichever changes', () => {
		expect(scans(
			[offering('db', behind('b'), '1.27')],
			[offering('db', behind('b'), '1.27')],
			[offering('db', behind('c'), '1.27')],
			[offering('db', behind('c'), '1.28')],
			[offering('db', behind('c'), '1.28')],
		)).toEqual([['db@b:1.27'], [], ['db@c:1.27'], ['db@c:1.28'], []]);
	});

	it('do not announce a newer version again after the container caught up with its tag, or a listing failed', () => {
		const failed = result('db', current, 'local', {newer: null, newerError: 'Could not list the tags of registry.test/db: timeout'});
		expect(scans(
			[offering('db', behind('b'), '1.27')],
			[offering('db', current, '1.27')],
			[failed],
			[offering('db', current, '1.27')],
			[offering('db', behind('c'), '1.27')],
		)).toEqual([['db@b:1.27'], [], [], [], ['db@c:1.27']]);
		// The tag is kept when the newer versions were not known at the announcement.
		expect(announcementAfter({remoteDigest: digest('c'), newer: null}, {digest: digest('b'), tag: '1.27'})).toEqual({digest: digest('c'), tag: '1.27'});
		expect(announcementAfter({remoteDigest: digest('c'), newer: []}, {digest: digest('b'), tag: '1.27'})).toEqual({digest: digest('c')});
	});

	it('forget what was announced once a container is up to date with nothing newer', () => {
		expect(caughtUp([offering('a', current), offering('b', current, '1.27'), result('c', current), result('d', current, 'local', {newer: null, newerError: 'timeout'}), result('e', behind('b'))]).map(entry => entry.name)).toEqual(['a', 'c']);
		expect(scans([offering('db', current, '1.27')], [offering('db', current)], [offering('db', current, '1.27')])).toEqual([['db@a:1.27'], [], ['db@a:1.27']]);
	});

	it('have a key per container, digest and newest version, so a delivery in flight is not raised twice', () => {
		const [plain] = raisedEvents([result('api', behind('b'))], none, t0);
		const [tagged] = raisedEvents([offering('api', behind('b'), '1.26', '1.27')], none, t0);
		expect(eventKey(plain!)).toBe(`local/api@${digest('b')}`);
		expect(eventKey(tagged!)).toBe(`local/api@${digest('b')}:1.27`);
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

	it('count a newer version once, and not one shown at start', () => {
		const since = new Date(2026, 2, 1, 14, 2);
		let state = startSessionAlerts(since, [offering('shown', current, '1.27')]);
		state = sessionAlertsAfterScan(state, [offering('shown', current, '1.27'), offering('db', current, '2.1')], later(1000));
		state = sessionAlertsAfterScan(state, [offering('shown', current, '1.27'), offering('db', current, '2.1')], later(2000));
		expect(state.count).toBe(1);
		state = sessionAlertsAfterScan(state, [offering('shown', current, '1.28'), offering('db', current, '2.1')], later(3000));
		expect(sessionAlertsText(state)).toBe('2 new since 14:02');
	});
});
