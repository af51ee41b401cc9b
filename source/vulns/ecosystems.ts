import type {OsvPackage, PackageList, PackageSourceKind} from './types.ts';

/**
 * OSV ecosystem names, as the OSV schema lists them (ossf/osv-schema `ecosystems.json`): distributions
 * carry their release (`Debian:12`, `Alpine:v3.20`, `Ubuntu:24.04:LTS`, `Ubuntu:24.10`) and are keyed by
 * the SOURCE package name; language ecosystems are bare (`npm`, `PyPI`, `Go`, `Maven`).
 */

/** A distribution as `/etc/os-release` or a purl's `distro` qualifier names it. */
export interface Distribution {
	/** os-release `ID`: `debian`, `ubuntu`, `alpine`. */
	readonly id: string;
	/** os-release `VERSION_ID`: `12`, `24.04`, `3.20.3`. */
	readonly versionId: string;
	/** True when os-release's `VERSION` says LTS; undefined when unknown (then Ubuntu's YY.04 of even years is LTS). */
	readonly lts?: boolean;
}

const debianCodenames: Readonly<Record<string, string>> = {
	stretch: '9', buster: '10', bullseye: '11', bookworm: '12', trixie: '13', forky: '14',
};
const ubuntuCodenames: Readonly<Record<string, string>> = {
	xenial: '16.04', bionic: '18.04', focal: '20.04', jammy: '22.04', mantic: '23.10', noble: '24.04', oracular: '24.10', plucky: '25.04', questing: '25.10', resolute: '26.04',
};

/** The OSV ecosystem of a distribution release, or undefined for a distribution OSV does not cover here. */
export function distributionEcosystem(distribution: Distribution): string | undefined {
	const id = distribution.id.toLowerCase();
	const version = distribution.versionId.trim();
	switch (id) {
		case 'debian': {
			const major = /^(\d{1,3})(?:\.\d+)*$/.exec(version)?.[1] ?? debianCodenames[version];
			return major === undefined ? undefined : `Debian:${major}`;
		}

		case 'ubuntu': {
			const release = /^(\d{2}\.\d{2})(?:\.\d+)?$/.exec(version)?.[1] ?? ubuntuCodenames[version];
			if (release === undefined) {
				return undefined;
			}

			const [year = 0, month = 0] = release.split('.').map(Number);
			const lts = distribution.lts ?? (month === 4 && year % 2 === 0);
			return `Ubuntu:${release}${lts ? ':LTS' : ''}`;
		}

		case 'alpine': {
			const branch = /^(\d{1,2}\.\d{1,3})(?:[._]|$)/.exec(version)?.[1];
			return branch === undefined ? undefined : `Alpine:v${branch}`;
		}

		default: {
			return undefined;
		}
	}
}

/** A parsed package URL (github.com/package-url/purl-spec). */
export interface Purl {
	readonly type: string;
	readonly namespace: string | undefined;
	readonly name: string;
	readonly version: string | undefined;
	readonly qualifiers: ReadonlyMap<string, string>;
}

/** Parse `pkg:type/namespace/name@version?qualifiers#subpath`; undefined for anything else. */
export function parsePurl(text: string): Purl | undefined {
	if (!text.startsWith('pkg:') || text.length > 2048) {
		return undefined;
	}

	try {
		let rest = text.slice(4).replace(/^\/+/, '');
		rest = rest.split('#', 1)[0] ?? '';
		const [path = '', query] = splitOnce(rest, '?');
		const qualifiers = new Map<string, string>();
		for (const pair of query === undefined ? [] : query.split('&')) {
			const [key, value] = splitOnce(pair, '=');
			if (value !== undefined && value !== '') {
				qualifiers.set(key.toLowerCase(), decodeURIComponent(value));
			}
		}

		const at = path.lastIndexOf('@');
		const slashBeforeVersion = path.lastIndexOf('/');
		const [location, version] = at > slashBeforeVersion ? [path.slice(0, at), decodeURIComponent(path.slice(at + 1))] : [path, undefined];
		const segments = location.split('/').filter(segment => segment !== '').map(segment => decodeURIComponent(segment));
		const [type, ...names] = segments;
		const name = names.pop();
		if (type === undefined || name === undefined || name === '' || !/^[a-z][a-z\d.+-]*$/i.test(type)) {
			return undefined;
		}

		return {type: type.toLowerCase(), namespace: names.length === 0 ? undefined : names.join('/'), name, version: version === '' ? undefined : version, qualifiers};
	} catch {
		// decodeURIComponent: a malformed escape makes the purl unusable, not the document.
		return undefined;
	}
}

function splitOnce(text: string, separator: string): [string, string | undefined] {
	const index = text.indexOf(separator);
	return index === -1 ? [text, undefined] : [text.slice(0, index), text.slice(index + separator.length)];
}

/**
 * The OSV package for a purl. `fallbackDistribution` is the operating system the SBOM names for the whole
 * image, used when an OS package's purl has no usable `distro` qualifier. Undefined for purls OSV cannot
 * be asked about (unknown types, no version, an unknown release).
 */
export function purlPackage(purl: Purl, fallbackDistribution?: Distribution): OsvPackage | undefined {
	if (purl.version === undefined) {
		return undefined;
	}

	switch (purl.type) {
		case 'deb':
		case 'apk': {
			const distribution = purlDistribution(purl) ?? fallbackDistribution;
			const ecosystem = distribution === undefined ? undefined : distributionEcosystem(distribution);
			if (ecosystem === undefined) {
				return undefined;
			}

			// The source package: Syft's `upstream` (`openssl`, or `openssl@3.0.11-1` when its version differs),
			// SCALIBR's `source` (deb) and `origin` (apk).
			const upstream = purl.qualifiers.get('upstream') ?? purl.qualifiers.get('source') ?? purl.qualifiers.get('origin');
			const [sourceName, sourceVersion] = upstream === undefined ? [purl.name, undefined] : splitOnce(upstream, '@');
			return {ecosystem, name: sourceName === '' ? purl.name : sourceName, version: sourceVersion ?? purl.version};
		}

		case 'npm': {
			return {ecosystem: 'npm', name: purl.namespace === undefined ? purl.name : `${purl.namespace}/${purl.name}`, version: purl.version};
		}

		case 'pypi': {
			// PEP 503 normalisation, which OSV's PyPI names use.
			return {ecosystem: 'PyPI', name: purl.name.toLowerCase().replaceAll(/[-_.]+/g, '-'), version: purl.version};
		}

		case 'golang': {
			return {ecosystem: 'Go', name: purl.namespace === undefined ? purl.name : `${purl.namespace}/${purl.name}`, version: purl.version.replace(/^v/, '')};
		}

		case 'maven': {
			return purl.namespace === undefined ? undefined : {ecosystem: 'Maven', name: `${purl.namespace}:${purl.name}`, version: purl.version};
		}

		case 'gem': {
			return {ecosystem: 'RubyGems', name: purl.name, version: purl.version};
		}

		case 'cargo': {
			return {ecosystem: 'crates.io', name: purl.name, version: purl.version};
		}

		case 'nuget': {
			return {ecosystem: 'NuGet', name: purl.name, version: purl.version};
		}

		case 'composer': {
			return {ecosystem: 'Packagist', name: purl.namespace === undefined ? purl.name : `${purl.namespace}/${purl.name}`, version: purl.version};
		}

		default: {
			return undefined;
		}
	}
}

/** `distro=debian-12`, `distro=alpine-3.20.3` (Syft), `distro=3.20.3` (Trivy on apk), `distro=bookworm`. */
function purlDistribution(purl: Purl): Distribution | undefined {
	const distro = purl.qualifiers.get('distro');
	const namespace = purl.namespace?.toLowerCase();
	if (distro === undefined || namespace === undefined) {
		return undefined;
	}

	const match = /^([a-z]+)-(.+)$/.exec(distro);
	if (match !== null && match[1] === namespace) {
		return {id: namespace, versionId: match[2] ?? ''};
	}

	return {id: namespace, versionId: distro};
}

/** Packages once each, with the ecosystems they span. */
export function packageList(packages: readonly OsvPackage[], source: PackageSourceKind): PackageList {
	const unique = new Map<string, OsvPackage>();
	for (const item of packages) {
		unique.set(`${item.ecosystem}\0${item.name}\0${item.version}`, item);
	}

	return {source, ecosystems: [...new Set([...unique.values()].map(item => item.ecosystem))].sort(), packages: [...unique.values()]};
}
