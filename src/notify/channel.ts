import type { DeliveryOutcome } from './webhook-sender';

/**
 * Where a channel sends: the part of a channel that differs by type, all of it safe to show.
 * Credentials live in the channel's `secret`, never here: the webhook signing secret, the
 * Discord or Slack webhook URL (its path is the credential; `url` here is masked), the ntfy
 * access token, the PagerDuty routing key.
 */
export type ChannelTarget =
  | { type: 'webhook'; url: string }
  | { type: 'telegram'; chatId: string }
  | { type: 'email'; to: string }
  | { type: 'discord'; url: string }
  | { type: 'slack'; url: string }
  | { type: 'ntfy'; server: string; topic: string; tokenSet: boolean }
  | { type: 'pagerduty'; region: 'us' | 'eu'; routingKeyHint: string };
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

/**
 * Minimum spacing between two messages to one channel: Telegram allows about 1 per second
 * per chat, Slack 1 per second per incoming webhook, Discord 5 per 2 seconds per webhook.
 */
export function minSendIntervalMs(target: ChannelTarget): number {
  if (target.type === 'telegram' || target.type === 'slack') return 1100;
  if (target.type === 'discord') return 450;
  return 0;
}
