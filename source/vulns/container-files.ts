import {describeError} from '../core/errors.ts';
import {distributionEcosystem, packageList, type Distribution} from './ecosystems.ts';
import type {ContainerFiles, OsvPackage, PackageResult} from './types.ts';

const maxOsReleaseBytes = 64 * 1024;
/** A dpkg status of a large image is a few MiB; past this it is not one. */
export const maxPackageDatabaseBytes = 64 * 1024 * 1024;
export const dpkgStatusPath = '/var/lib/dpkg/status';
export const apkInstalledPath = '/lib/apk/db/installed';

/** `/etc/os-release` (or `/usr/lib/os-release`) as key/value pairs; quotes and backslash escapes removed. */
export function parseOsRelease(text: string): Map<string, string> {
	const values = new Map<string, string>();
	for (const line of text.split('\n')) {
		const match = /^\s*([A-Z\d_]+)=(.*)$/.exec(line);
		if (match === null) {
			continue;
		}

		let value = (match[2] ?? '').trim();
		const quote = value[0];
		if ((quote === '"' || quote === '\'') && value.endsWith(quote) && value.length >= 2) {
			value = value.slice(1, -1).replaceAll(/\\(.)/g, '$1');
		}

		values.set(match[1] ?? '', value);
	}

	return values;
}

/** The distribution os-release describes, or undefined without `ID`. */
export function osReleaseDistribution(text: string): Distribution | undefined {
	const values = parseOsRelease(text);
	const id = values.get('ID');
	if (id === undefined || id === '') {
		return undefined;
	}

	const version = values.get('VERSION');
	return {id, versionId: values.get('VERSION_ID') ?? '', ...(version === undefined ? {} : {lts: /\bLTS\b/.test(version)})};
}

/** Control-file stanzas (dpkg status): `Field: value`, continuation lines indented, stanzas split by blank lines. */
function stanzas(text: string, fieldPattern: RegExp): Array<Map<string, string>> {
	const all: Array<Map<string, string>> = [];
	let current = new Map<string, string>();
	for (const line of text.split('\n')) {
		if (line.trim() === '') {
			if (current.size > 0) {
				all.push(current);
				current = new Map();
			}

			continue;
		}

		const match = fieldPattern.exec(line);
		if (match !== null && !current.has(match[1] ?? '')) {
			current.set(match[1] ?? '', (match[2] ?? '').trim());
		}
	}

	if (current.size > 0) {
		all.push(current);
	}

	return all;
}

/**
 * Installed packages of a dpkg status file, named as OSV's Debian and Ubuntu data name them: by SOURCE
 * package (`Source: openssl` for `libssl3`), at the source version when `Source:` gives one in parentheses
 * (`util-linux (2.38.1-5)` for the binNMU `2.38.1-5+b1`), else at the binary's version. Only stanzas whose
 * `Status` ends in `installed` count (`install ok installed`, `hold ok installed`); removed packages that
 * left config files (`deinstall ok config-files`) do not.
 */
export function parseDpkgStatus(text: string, ecosystem: string): OsvPackage[] {
	return stanzas(text, /^([A-Za-z][\w-]*):(.*)$/).flatMap(fields => {
		const status = fields.get('Status')?.split(/\s+/);
		const name = fields.get('Package');
		const version = fields.get('Version');
		if (status?.length !== 3 || status[2] !== 'installed' || name === undefined || version === undefined || name === '' || version === '') {
			return [];
		}

		const source = /^(\S+)(?:\s+\(([^)]+)\))?$/.exec(fields.get('Source') ?? '');
		return [{ecosystem, name: source?.[1] ?? name, version: source?.[2]?.trim() ?? version}];
	});
}

/**
 * Installed packages of an apk database (`/lib/apk/db/installed`): `P:` name, `V:` version, `o:` origin.
 * OSV's Alpine data is keyed by the origin (source) package: `busybox-binsh` is asked as `busybox`.
 */
export function parseApkInstalled(text: string, ecosystem: string): OsvPackage[] {
	return stanzas(text, /^([A-Za-z]):(.*)$/).flatMap(fields => {
		const name = fields.get('P');
		const version = fields.get('V');
		if (name === undefined || version === undefined || name === '' || version === '') {
			return [];
		}

		const origin = fields.get('o');
		return [{ecosystem, name: origin === undefined || origin === '' ? name : origin, version}];
	});
}

/**
 * The packages of a container from its own files, read through the engine (the archive endpoint works
 * for stopped containers too): the release from os-release, then dpkg's or apk's database.
 */
export async function readContainerPackages(files: ContainerFiles, containerId: string, signal?: AbortSignal): Promise<PackageResult> {
	try {
		const dpkg = await files.readContainerFile(containerId, dpkgStatusPath, maxPackageDatabaseBytes, signal);
		const apk = dpkg === null ? await files.readContainerFile(containerId, apkInstalledPath, maxPackageDatabaseBytes, signal) : null;
		if (dpkg === null && apk === null) {
			return {ok: false, failure: {kind: 'missing', reason: `the container has neither ${dpkgStatusPath} nor ${apkInstalledPath}`}};
		}

		const osRelease = await files.readContainerFile(containerId, '/etc/os-release', maxOsReleaseBytes, signal)
			?? await files.readContainerFile(containerId, '/usr/lib/os-release', maxOsReleaseBytes, signal);
		const distribution = osRelease === null ? undefined : osReleaseDistribution(osRelease.toString('utf8'));
		if (distribution === undefined) {
			return {ok: false, failure: {kind: 'invalid', reason: `the container has a package database but no /etc/os-release (or /usr/lib/os-release) with an ID to say which release it is`}};
		}

		const ecosystem = distributionEcosystem(distribution);
		if (ecosystem === undefined) {
			return {ok: false, failure: {kind: 'missing', reason: `the container runs ${distribution.id} ${distribution.versionId || '(no VERSION_ID)'}, a release OSV is not asked about`}};
		}

		const packages = dpkg === null ? parseApkInstalled((apk ?? Buffer.alloc(0)).toString('utf8'), ecosystem) : parseDpkgStatus(dpkg.toString('utf8'), ecosystem);
		return {ok: true, list: packageList(packages, 'container')};
	} catch (error) {
		if (signal?.aborted) {
			throw error;
		}

		return {ok: false, failure: {kind: 'failed', reason: `the container's package files could not be read: ${describeError(error)}`}};
	}
}
