import {readdirSync, readFileSync} from 'node:fs';
import {BlockList, isIP} from 'node:net';
import {lookup} from 'node:dns/promises';
import {join} from 'node:path';
import {dockerHub, isLoopbackRegistry} from '../core/reference.ts';
import type {InsecurePolicy} from '../core/types.ts';

/** TLS settings for one host, as Docker reads them from `certs.d/<host[:port]>/`. */
export interface TlsSettings {
	/** The system roots plus the directory's `*.crt`. */
	readonly ca?: string[];
	readonly cert?: string;
	readonly key?: string;
	readonly rejectUnauthorized: boolean;
}

/** How to reach a registry's API. */
export interface Endpoint {
	readonly origin: string;
	/** For an insecure registry: HTTP to fall back to when HTTPS does not answer as HTTPS. */
	readonly fallback?: string;
}

export type {InsecurePolicy};

export const defaultCertsDir = '/etc/docker/certs.d';

/**
 * Which scheme and which certificates to use for a registry, the way Docker decides:
 * - a `certs.d/<host[:port]>` directory means HTTPS with its CA (`*.crt`) and client pairs (`*.cert` + `*.key`);
 * - otherwise loopback registries are plain HTTP;
 * - registries the engine calls insecure get HTTPS without verification, falling back to HTTP;
 * - everything else is HTTPS, verified against the system roots. Nothing else is ever downgraded.
 */
export class RegistryTrust {
	readonly #certsDir: string;
	readonly #insecure: () => Promise<InsecurePolicy>;
	readonly #tls = new Map<string, TlsSettings | undefined>();
	readonly #endpoints = new Map<string, Promise<Endpoint>>();

	constructor(options: {certsDir?: string; insecure?: () => Promise<InsecurePolicy>} = {}) {
		this.#certsDir = options.certsDir ?? defaultCertsDir;
		this.#insecure = options.insecure ?? (async () => ({registries: [], cidrs: []}));
	}

	async endpoint(registry: string): Promise<Endpoint> {
		let pending = this.#endpoints.get(registry);
		if (pending === undefined) {
			pending = this.#decide(registry);
			this.#endpoints.set(registry, pending);
		}

		return pending;
	}

	/**
	 * The scheme updock would speak to each registry, decided exactly as for a scan (certs.d, loopback,
	 * the engines' insecure registries). An insecure registry is `https`: it is tried first.
	 */
	async schemes(registries: Iterable<string>): Promise<Map<string, 'http' | 'https'>> {
		const unique = [...new Set(registries)];
		const decided = await Promise.all(unique.map(async registry => [registry, (await this.endpoint(registry)).origin.startsWith('http:') ? 'http' : 'https'] as const));
		return new Map(decided);
	}

	/** TLS settings for connections to `host` (`host[:port]` as in the URL), or undefined for the defaults. */
	tlsFor(host: string): TlsSettings | undefined {
		if (!this.#tls.has(host)) {
			this.#tls.set(host, readCertsDirectory(join(this.#certsDir, host)));
		}

		return this.#tls.get(host);
	}

	async #decide(registry: string): Promise<Endpoint> {
		if (registry === dockerHub) {
			return {origin: 'https://registry-1.docker.io'};
		}

		if (this.tlsFor(registry) !== undefined) {
			return {origin: `https://${registry}`};
		}

		if (isLoopbackRegistry(registry)) {
			return {origin: `http://${registry}`};
		}

		if (await this.#engineSaysInsecure(registry)) {
			this.#tls.set(registry, {rejectUnauthorized: false});
			return {origin: `https://${registry}`, fallback: `http://${registry}`};
		}

		return {origin: `https://${registry}`};
	}

	async #engineSaysInsecure(registry: string): Promise<boolean> {
		let policy: InsecurePolicy;
		try {
			policy = await this.#insecure();
		} catch {
			// No word from the engine: secure is the safe answer.
			return false;
		}

		if (policy.registries.includes(registry)) {
			return true;
		}

		if (policy.cidrs.length === 0) {
			return false;
		}

		const cidrs = new BlockList();
		for (const cidr of policy.cidrs) {
			const [network, prefix] = cidr.split('/');
			const family = isIP(network ?? '');
			if (family !== 0 && prefix !== undefined) {
				cidrs.addSubnet(network!, Number(prefix), family === 6 ? 'ipv6' : 'ipv4');
			}
		}

		const host = registry.replace(/:\d+$/, '').replace(/^\[|\]$/g, '');
		const addresses = isIP(host) === 0 ? await lookup(host, {all: true}).catch(() => []) : [{address: host, family: isIP(host)}];
		return addresses.some(({address, family}) => cidrs.check(address, family === 6 ? 'ipv6' : 'ipv4'));
	}
}

/** Read a Docker certs.d directory; undefined when there is none or it holds nothing usable. */
function readCertsDirectory(directory: string): TlsSettings | undefined {
	let names: string[];
	try {
		names = readdirSync(directory);
	} catch {
		return undefined;
	}

	const read = (name: string): string => readFileSync(join(directory, name), 'utf8');
	const cas = names.filter(name => name.endsWith('.crt')).sort().map(name => read(name));
	const certName = names.find(name => name.endsWith('.cert') && names.includes(`${name.slice(0, -'.cert'.length)}.key`));
	if (cas.length === 0 && certName === undefined) {
		return undefined;
	}

	// node:tls is loaded here, for a registry with a CA of its own, not by every start-up (5-8 ms).
	return {
		...(cas.length === 0 ? {} : {ca: [...process.getBuiltinModule('node:tls').rootCertificates, ...cas]}),
		...(certName === undefined ? {} : {cert: read(certName), key: read(`${certName.slice(0, -'.cert'.length)}.key`)}),
		rejectUnauthorized: true,
	};
}
