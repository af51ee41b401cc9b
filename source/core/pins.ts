import type {Pin} from './types.ts';

/**
 * Whether a pin names the container `name` on the engine `host`. A pin saved before updock knew
 * several engines has no host: it belongs to the default engine, whose name is `defaultHost`.
 */
export function pinMatches(pin: Pin, host: string, name: string, defaultHost: string): boolean {
	return pin.name === name && (pin.host ?? defaultHost) === host;
}
