import type {ContainerAnswer, UpdatesQuery} from './schemas.ts';

/**
 * The containers `GET /api/v1/updates` answers with. Without a status: those with an update available
 * or a newer version. `type` keeps those with a newer version of that kind, `status` those with that
 * status; `sort=risk` puts the highest risk score first and containers without one last, keeping the
 * order of the rest.
 */
export function selectUpdates(containers: readonly ContainerAnswer[], query: UpdatesQuery): ContainerAnswer[] {
	const {status, type, sort} = query;
	const selected = containers.filter(container => {
		if (type !== undefined && !(container.newer ?? []).some(version => version.type === type)) {
			return false;
		}

		if (status === undefined) {
			return container.status === 'update-available' || (container.newer?.length ?? 0) > 0;
		}

		return status === 'all' || container.status === status;
	});
	return sort === 'risk' ? selected.sort((a, b) => (b.risk?.score ?? -1) - (a.risk?.score ?? -1)) : selected;
}
