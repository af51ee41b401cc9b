import {useSyncExternalStore} from 'react';
import type {LiveSnapshot} from '../../core/live-model.ts';

/** Anything that hands out live snapshots: the LiveModel, or a fake in tests. */
export interface LiveSource {
	readonly subscribe: (listener: () => void) => () => void;
	readonly getSnapshot: () => LiveSnapshot;
}

/** The live model as React state (gemini-cli `useMcpStatus`): no I/O here. */
export function useLive(source: LiveSource): LiveSnapshot {
	return useSyncExternalStore(source.subscribe, source.getSnapshot);
}
