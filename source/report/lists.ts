import type {Exclusion, Pin} from '../core/types.ts';
import {renderTable, styler} from './text.ts';

export function renderPins(pins: readonly Pin[], color: boolean): string {
	if (pins.length === 0) {
		return 'No pinned containers. Pin one with "updock pin <container>".';
	}

	const style = styler(color);
	return renderTable([{header: 'NAME'}, {header: 'CONTAINER ID'}, {header: 'PINNED AT'}], pins.map(pin => [{text: pin.name}, {text: pin.containerId.slice(0, 12)}, {text: pin.pinnedAt}]), style.dim);
}

export function renderExclusions(exclusions: readonly Exclusion[], color: boolean): string {
	if (exclusions.length === 0) {
		return 'No exclusions. Add one with "updock exclude add <pattern>", e.g. "ghcr.io/acme/*".';
	}

	const style = styler(color);
	return renderTable([{header: 'ID'}, {header: 'PATTERN'}, {header: 'ADDED AT'}], exclusions.map(exclusion => [{text: String(exclusion.id)}, {text: exclusion.pattern}, {text: exclusion.createdAt}]), style.dim);
}
