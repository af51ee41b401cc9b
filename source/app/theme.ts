import {statusLooks, type StatusLook} from '../core/status.ts';
import type {RowStatus} from './state/rows.ts';

export type {StatusLook} from '../core/status.ts';

/** Symbol, words and colour for every status (defined once, in core/status.ts). */
export const statusLook: Readonly<Record<RowStatus, StatusLook>> = statusLooks;
