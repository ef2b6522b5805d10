import type { DeliveryOutcome } from './webhook-sender';

/** Where a channel sends: the part of a channel that differs by type. */
export type ChannelTarget = { type: 'webhook'; url: string } | { type: 'telegram'; chatId: string } | { type: 'email'; to: string };
export type ChannelType = ChannelTarget['type'];

export type StoredChannel = { id: string; label: string; target: ChannelTarget; secret: string | null };

/** One event as it leaves the outbox: its id (stable across retries), JSON body and time. */
export type OutgoingEvent = { id: string; body: string; createdAt: Date };

/**
 * What one delivery attempt came to. `gone` disables the channel (webhook 410, Telegram
 * 403 "bot was blocked"); `failed` is permanent for this event (SMTP 5xx): a dead letter
 * with the reason, without waiting out the retry window.
 */
export type SendOutcome = DeliveryOutcome | { kind: 'gone'; reason: string; status?: number } | { kind: 'failed'; reason: string };

export type ChannelSender = (channel: StoredChannel, event: OutgoingEvent) => Promise<SendOutcome>;

/** Minimum spacing between two messages to one channel (Telegram allows about 1 per second per chat). */
export function minSendIntervalMs(target: ChannelTarget): number {
  return target.type === 'telegram' ? 1100 : 0;
}
