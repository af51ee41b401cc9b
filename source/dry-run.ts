import type {Config} from './config.ts';
import {planScan, type PlanSettings, type ScanPlan} from './core/plan.ts';
import type {ImageStore} from './core/types.ts';
import {registryTrust, type EngineHosts} from './wiring.ts';

/** What `updock dry-run` shows: the plan of a scan and the scheme each registry would be asked over. */
export interface DryRunReport {
	readonly plan: ScanPlan;
	readonly schemes: ReadonlyMap<string, 'http' | 'https'>;
}

/**
 * What a scan would ask which registry, from the engines and the pins and exclusions given; nothing
 * is sent to a registry. The one source of `updock dry-run` and the API's dry-run.
 */
export async function dryRunReport(config: Config, engines: EngineHosts, data: Pick<PlanSettings, 'pins' | 'exclusions'>): Promise<DryRunReport> {
	const listed = await Promise.all(engines.hosts.map(async host => {
		const [facts, imageStore] = await Promise.all([host.engine.listContainers(), host.engine.imageStore()]);
		return {host, facts, imageStore};
	}));
	const imageStores = new Map<string, ImageStore>(listed.map(({host, imageStore}) => [host.name, imageStore]));
	const plan = planScan(listed.flatMap(({facts}) => facts), {pins: data.pins, exclusions: data.exclusions, imageStores, defaultHost: engines.defaultHost});
	const schemes = await registryTrust(config, engines.hosts.map(host => host.engine)).schemes([...plan.checks.values()].map(reference => reference.registry));
	return {plan, schemes};
}
