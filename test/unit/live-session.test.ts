import {describe, expect, it} from 'vitest';
import {StoreError} from '../../source/core/errors.ts';
import {LiveSession} from '../../source/core/live-session.ts';
import type {SettingsStore} from '../../source/core/ports.ts';
import type {ScanLoop} from '../../source/core/scan-loop.ts';
import type {Exclusion, Pin} from '../../source/core/types.ts';
import {facts, modelWith, verdicts} from '../app/fixtures.ts';
import {oneHost} from './fakes.ts';

class MemorySettings implements SettingsStore {
	pins: Pin[] = [];
	exclusions: Exclusion[] = [];
	failing = false;

	async load() {
		this.#check();
		return {pins: this.pins, exclusions: this.exclusions};
	}

	async pin(name: string, containerId: string) {
		this.#check();
		this.pins.push({name, containerId, pinnedAt: ''});
		return true;
	}

	async unpin(name: string) {
		this.#check();
		this.pins = this.pins.filter(pin => pin.name !== name);
		return true;
	}

	async addExclusion(pattern: string) {
		this.#check();
		const exclusion = {id: this.exclusions.length + 1, pattern, createdAt: ''};
		this.exclusions.push(exclusion);
		return {exclusion, added: true};
	}

	async removeExclusion(id: number) {
		this.#check();
		const found = this.exclusions.find(exclusion => exclusion.id === id);
		this.exclusions = this.exclusions.filter(exclusion => exclusion.id !== id);
		return found;
	}

	#check(): void {
		if (this.failing) {
			throw new StoreError('/home/ada/.config/updock/updock.json', 'Cannot write the updock database /home/ada/.config/updock/updock.json (ENOSPC); the previous version is intact.');
		}
	}
}

function setup() {
	const model = modelWith([[facts('web', 'ghcr.io/acme/web:1'), verdicts.upToDate], [facts('api', 'ghcr.io/acme/api:1'), verdicts.update], [facts('db', 'postgres:16'), verdicts.upToDate]]);
	const checked: string[][] = [];
	const loop = {checkContainers: (ids: Iterable<string>) => checked.push([...ids]), requestScan: () => 'started'} as unknown as ScanLoop;
	const settings = new MemorySettings();
	const session = new LiveSession({model, loop, settings, defaultHost: 'local', hosts: oneHost({listContainers: async () => [], imageStore: async () => 'classic', imagePlatform: async () => null})});
	const row = (name: string) => model.getSnapshot().rows.find(candidate => candidate.name === name)!;
	return {model, checked, settings, session, row};
}

describe('LiveSession', () => {
	it('pins at once, and unpinning checks the container again', async () => {
		const {session, settings, row, checked, model} = setup();
		await session.togglePin(row('api'));
		expect(settings.pins.map(pin => pin.name)).toEqual(['api']);
		expect(row('api').result?.verdict.status).toBe('pinned');
		expect(model.getSnapshot().notice?.text).toMatch(/Pinned api/);
		await session.togglePin(row('api'));
		expect(settings.pins).toEqual([]);
		expect(checked).toEqual([[row('api').id]]);
	});

	it('excludes every row the pattern matches at once, and u brings them back to a check', async () => {
		const {session, settings, row, checked} = setup();
		await session.exclude('ghcr.io/acme/*');
		expect(settings.exclusions.map(exclusion => exclusion.pattern)).toEqual(['ghcr.io/acme/*']);
		expect(row('web').result?.verdict.status).toBe('excluded');
		expect(row('api').result?.verdict.status).toBe('excluded');
		expect(row('db').result?.verdict.status).toBe('up-to-date');
		await session.removeExclusionFor(row('web'));
		expect(settings.exclusions).toEqual([]);
		expect(checked).toEqual([[row('web').id, row('api').id]]);
	});

	it('shows a failed write as a notice, changes nothing and throws nothing', async () => {
		const {session, settings, row, model} = setup();
		settings.failing = true;
		await session.togglePin(row('api'));
		expect(row('api').result?.verdict.status).toBe('update-available');
		expect(model.getSnapshot().notice).toEqual({kind: 'error', text: expect.stringMatching(/ENOSPC.*previous version is intact/)});
		await session.exclude('not a pattern');
		expect(model.getSnapshot().notice?.kind).toBe('error');
	});
});
