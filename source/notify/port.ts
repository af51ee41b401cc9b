import type {AvailableEvent} from '../core/alerts.ts';
import type {NotifyChannel} from './url.ts';

/** What one notification carries: the events one scan raised. */
export interface NotificationBatch {
	readonly events: readonly AvailableEvent[];
	/** updock's version, for the receiver. */
	readonly version: string;
}

/** A place notifications go. `send` resolves when the receiver took the batch, else throws NotifyError. */
export interface Notifier {
	readonly channel: NotifyChannel;
	/** The target as it may be logged: never a credential or a secret path. */
	readonly display: string;
	send(batch: NotificationBatch, signal: AbortSignal): Promise<void>;
}

/** A notification the receiver did not take. The message names the target, never its credentials. */
export class NotifyError extends Error {
	override readonly name = 'NotifyError';
	/** The receiver's HTTP status, or null when none arrived (refused, timed out). */
	readonly status: number | null;

	constructor(message: string, status: number | null, options?: ErrorOptions) {
		super(message, options);
		this.status = status;
	}
}
