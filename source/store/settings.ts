import {pinMatches} from '../core/pins.ts';
import type {SettingsStore} from '../core/ports.ts';
import type {Exclusion, Pin} from '../core/types.ts';
import type {SavedHost} from './schema.ts';
import type {JsonStore} from './store.ts';

/** A host to save: `updock host add NAME ADDRESS [--tls-verify --cert-path DIR]`. */
export interface NewHost {
	/** Unique among saved hosts; see `isHostName`. */
	readonly name: string;
	readonly address: string;
	readonly tlsVerify?: boolean | undefined;
	readonly certPath?: string | undefined;
}

/** Saving a host: the saved one, or the one that already has that name (nothing is changed then). */
export type AddHostResult =
	| {readonly added: true; readonly host: SavedHost}
	| {readonly added: false; readonly existing: SavedHost};

/** Pins, exclusions and saved hosts, each change written at once under the file's lock. */
export class JsonSettings implements SettingsStore {
	readonly #store: JsonStore;
	/** The host a pin made or removed without one is on. @default the store's `defaultHost` */
	readonly defaultHost: string;

	constructor(store: JsonStore, options: {readonly defaultHost?: string} = {}) {
		this.#store = store;
		this.defaultHost = options.defaultHost ?? store.defaultHost;
	}

	async load(): Promise<{pins: Pin[]; exclusions: Exclusion[]}> {
		const {pins, exclusions} = await this.#store.load();
		return {pins, exclusions};
	}

	/** @returns false when the container was already pinned on that host. */
	async pin(name: string, containerId: string, host = this.defaultHost): Promise<boolean> {
		return this.#store.update(data => {
			if (data.pins.some(pin => pinMatches(pin, host, name, this.defaultHost))) {
				return false;
			}

			data.pins.push({host, name, containerId, pinnedAt: new Date().toISOString()});
			return true;
		});
	}

	/** @returns false when it was not pinned on that host. A pin saved without a host is on the default one. */
	async unpin(name: string, host = this.defaultHost): Promise<boolean> {
		return this.#store.update(data => {
			const before = data.pins.length;
			data.pins = data.pins.filter(pin => !pinMatches(pin, host, name, this.defaultHost));
			return data.pins.length !== before;
		});
	}

	async addExclusion(pattern: string): Promise<{exclusion: Exclusion; added: boolean}> {
		return this.#store.update(data => {
			const existing = data.exclusions.find(exclusion => exclusion.pattern === pattern);
			if (existing !== undefined) {
				return {exclusion: existing, added: false};
			}

			const exclusion = {id: data.nextExclusionId++, pattern, createdAt: new Date().toISOString()};
			data.exclusions.push(exclusion);
			return {exclusion, added: true};
		});
	}

	async removeExclusion(id: number): Promise<Exclusion | undefined> {
		return this.#store.update(data => {
			const index = data.exclusions.findIndex(exclusion => exclusion.id === id);
			return index === -1 ? undefined : data.exclusions.splice(index, 1)[0];
		});
	}

	/**
	 * Save a host. Check the name with `isHostName` and the address first: a host the file's schema
	 * refuses is not written (StoreError).
	 */
	async addHost(host: NewHost): Promise<AddHostResult> {
		return this.#store.update((data): AddHostResult => {
			const existing = data.hosts.find(saved => saved.name === host.name);
			if (existing !== undefined) {
				return {added: false, existing};
			}

			const saved: SavedHost = {
				name: host.name,
				address: host.address,
				...(host.tlsVerify === undefined ? {} : {tlsVerify: host.tlsVerify}),
				...(host.certPath === undefined ? {} : {certPath: host.certPath}),
				addedAt: new Date().toISOString(),
			};
			data.hosts.push(saved);
			return {added: true, host: saved};
		});
	}

	/** @returns the host removed, undefined when none has that name. Pins on it are kept. */
	async removeHost(name: string): Promise<SavedHost | undefined> {
		return this.#store.update(data => {
			const index = data.hosts.findIndex(saved => saved.name === name);
			return index === -1 ? undefined : data.hosts.splice(index, 1)[0];
		});
	}

	/** Saved hosts, in the order they were added. */
	async listHosts(): Promise<SavedHost[]> {
		return (await this.#store.load()).hosts;
	}
}
