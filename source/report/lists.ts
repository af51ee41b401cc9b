import type {Exclusion, Pin} from '../core/types.ts';
import {renderTable, styler} from './text.ts';

export function renderPins(pins: readonly Pin[], color: boolean): string {
	if (pins.length === 0) {
		return 'No pinned containers. Pin one with "updock pin <container>".';
	}

	const style = styler(color);
	// A pin saved before updock knew several engines has no host: it is the default engine's, shown as `-`.
	return renderTable([{header: 'HOST'}, {header: 'NAME'}, {header: 'CONTAINER ID'}, {header: 'PINNED AT'}], pins.map(pin => [{text: pin.host ?? '-'}, {text: pin.name}, {text: pin.containerId.slice(0, 12)}, {text: pin.pinnedAt}]), style.dim);
}

export function renderExclusions(exclusions: readonly Exclusion[], color: boolean): string {
	if (exclusions.length === 0) {
		return 'No exclusions. Add one with "updock exclude add <pattern>", e.g. "ghcr.io/acme/*".';
	}

	const style = styler(color);
	return renderTable([{header: 'ID'}, {header: 'PATTERN'}, {header: 'ADDED AT'}], exclusions.map(exclusion => [{text: String(exclusion.id)}, {text: exclusion.pattern}, {text: exclusion.createdAt}]), style.dim);
}

export function renderHosts(hosts: ReadonlyArray<{readonly name: string; readonly address: string; readonly tlsVerify?: boolean | undefined; readonly certPath?: string | undefined}>, color: boolean): string {
	if (hosts.length === 0) {
		return 'No saved hosts: updock scans the engine DOCKER_HOST or the current docker context names. Add one with "updock host add NAME ADDRESS".';
	}

	const style = styler(color);
	return renderTable([{header: 'NAME'}, {header: 'ADDRESS'}, {header: 'TLS'}], hosts.map(host => [{text: host.name}, {text: host.address}, {text: host.tlsVerify === true ? `verify${host.certPath === undefined ? '' : ` (${host.certPath})`}` : ''}]), style.dim);
}
