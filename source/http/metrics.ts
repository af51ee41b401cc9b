import {Counter, Gauge, Histogram, Registry} from 'prom-client';
import type {ContainerResult, RateLimit} from '../core/types.ts';
import {statusOrder} from '../core/status.ts';

/**
 * The metrics `/metrics` shows, in a registry of their own (prom-client's global one would mix in
 * whatever else the process registers).
 */
export class ServeMetrics {
	readonly registry = new Registry();
	readonly #containers = new Gauge({name: 'updock_containers', help: 'Containers (and Swarm services) by host and status, as of the last results.', labelNames: ['host', 'status'] as const, registers: [this.registry]});
	readonly #scanDuration = new Histogram({name: 'updock_scan_duration_seconds', help: 'How long full scans took.', buckets: [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300], registers: [this.registry]});
	readonly #lastScan = new Gauge({name: 'updock_last_scan_timestamp_seconds', help: 'When the last full scan finished (Unix time).', registers: [this.registry]});
	readonly #registryRequests = new Counter({name: 'updock_registry_requests_total', help: 'Requests to registries, by registry, method and HTTP status (`error` when none arrived).', labelNames: ['registry', 'method', 'code'] as const, registers: [this.registry]});
	readonly #rateLimit = new Gauge({name: 'updock_registry_ratelimit_remaining', help: 'Pulls left in the window, as the registry last reported.', labelNames: ['registry'] as const, registers: [this.registry]});
	readonly #notifications = new Counter({name: 'updock_notifications_total', help: 'Notification attempts, by channel and result.', labelNames: ['channel', 'result'] as const, registers: [this.registry]});

	/** The rows as they stand now: every host and status gets a value, zero included. */
	setContainers(results: readonly ContainerResult[], hosts: readonly string[]): void {
		this.#containers.reset();
		const statuses = statusOrder.filter(status => status !== 'checking');
		for (const host of new Set([...hosts, ...results.map(result => result.host)])) {
			for (const status of statuses) {
				this.#containers.set({host, status}, results.filter(result => result.host === host && result.verdict.status === status).length);
			}
		}
	}

	scanFinished(durationMs: number, finishedAt: Date): void {
		this.#scanDuration.observe(durationMs / 1000);
		this.#lastScan.set(finishedAt.getTime() / 1000);
	}

	setRateLimits(limits: readonly RateLimit[]): void {
		for (const limit of limits) {
			this.#rateLimit.set({registry: limit.registry}, limit.remaining);
		}
	}

	/** One registry request: `status` null when no answer arrived. */
	readonly registryRequest = (registry: string, method: string, status: number | null): void => {
		this.#registryRequests.inc({registry, method, code: status === null ? 'error' : String(status)});
	};

	notification(channel: string, result: 'success' | 'failure'): void {
		this.#notifications.inc({channel, result});
	}

	async text(): Promise<string> {
		return this.registry.metrics();
	}

	get contentType(): string {
		return this.registry.contentType;
	}
}
