import {describe, expect, it} from 'vitest';
import {QuietSaves, sameResults} from '../../source/core/quiet-saves.ts';
import type {ScanOutcome} from '../../source/core/scanner.ts';
import {summarize, type ContainerResult, type PlatformImage, type Verdict} from '../../source/core/types.ts';

const d = (character: string): string => `sha256:${character.repeat(64)}`;
const upToDate: Verdict = {status: 'up-to-date', localDigest: d('a'), remoteDigest: d('a')};
const update: Verdict = {status: 'update-available', localDigest: d('a'), remoteDigest: d('b')};

function row(name: string, verdict: Verdict = upToDate, extra: Partial<ContainerResult> = {}): ContainerResult {
	const image = `registry.example/team/${name}:1.25.3`;
	return {host: 'local', kind: 'container', service: null, id: name.padEnd(64, '0'), name, image, state: 'running', imageId: d('1'), platform: null, reference: image, verdict, ...extra};
}

function outcome(containers: ContainerResult[], learned: ReadonlyMap<string, PlatformImage> = new Map()): ScanOutcome {
	return {report: {scannedAt: new Date(0).toISOString(), hosts: [], durationMs: 5, containers, summary: summarize(containers)}, learned};
}

describe('QuietSaves', () => {
	it('saves the first scan, holds the ones that found the same, and saves them again after a minute', () => {
		const saves = new QuietSaves(60_000);
		const first = outcome([row('web'), row('db')]);
		expect(saves.shouldSave(first, false, 0)).toBe(true);
		saves.saved(first, 0);

		// New objects, same content: nothing to write.
		const same = outcome([row('web'), row('db')]);
		expect(saves.shouldSave(same, false, 2000)).toBe(false);
		expect(saves.held()).toBe(same);
		const later = outcome([row('web'), row('db')]);
		expect(saves.shouldSave(later, false, 4000)).toBe(false);
		expect(saves.held()).toBe(later);

		const minute = outcome([row('web'), row('db')]);
		expect(saves.shouldSave(minute, false, 60_000)).toBe(true);
		expect(saves.held()).toBeUndefined();
	});

	it('saves at once a scan that changed something, a partial scan, and one that resolved platform images', () => {
		const saves = new QuietSaves(60_000);
		const first = outcome([row('web'), row('db')]);
		saves.shouldSave(first, false, 0);
		saves.saved(first, 0);

		expect(saves.shouldSave(outcome([row('web', update), row('db')]), false, 1000)).toBe(true);
		expect(saves.shouldSave(outcome([row('web'), row('db')]), true, 1000)).toBe(true);
		const learned = new Map([['key', {manifestDigest: d('c'), configDigest: d('e')}]]);
		expect(saves.shouldSave(outcome([row('web'), row('db')], learned), false, 1000)).toBe(true);
		expect(saves.held()).toBeUndefined();
	});
});

describe('sameResults', () => {
	const base = [row('web'), row('db', update, {newer: [{tag: '1.26.0', type: 'minor'}]})];

	it('is true for the same rows made anew', () => {
		expect(sameResults(base, [row('web'), row('db', update, {newer: [{tag: '1.26.0', type: 'minor'}]})])).toBe(true);
	});

	it.each<[string, ContainerResult[]]>([
		['a row gone', [base[0]!]],
		['a row more', [...base, row('cache')]],
		['another order', [base[1]!, base[0]!]],
		['a renamed container', [row('web', upToDate, {name: 'web-2'}), base[1]!]],
		['a stopped container', [row('web', upToDate, {state: 'exited'}), base[1]!]],
		['another status', [row('web', update), base[1]!]],
		['another remote digest', [row('web', {...update, remoteDigest: d('f')}), base[1]!]],
		['another reason', [row('web', {status: 'unknown', reason: 'a'}), base[1]!]],
		['another error', [row('web', {status: 'error', error: 'refused', localDigest: null}), base[1]!]],
		['another newest version', [base[0]!, row('db', update, {newer: [{tag: '2.0.0', type: 'major'}]})]],
		['no newer versions any more', [base[0]!, row('db', update, {newer: []})]],
		['another risk score', [row('web', upToDate, {risk: {score: 40, level: 'medium'}}), base[1]!]],
	])('is false for %s', (_name, after) => {
		expect(sameResults(base, after)).toBe(false);
	});
});
