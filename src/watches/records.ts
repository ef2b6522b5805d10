import type { StoredTopUpPolicy } from '../config/topup-policy';
import type { StoredThresholds } from '../domain/thresholds';
import type { PositionView } from '../domain/position-view';
import type { ChannelTarget } from '../notify/channel';
import type { WatchRef } from '../notify/event-body';
import type { MonitorReason } from '../monitor/health';
import type { ActiveCondition } from '../domain/conditions';
import type { RiskSettings, WatchRisk } from '../risk/watch-risk';

/*
 * The records the Durable Objects keep and hand to the API, the bot and each other: a
 * tenant's watches, channels, events and deliveries, and what a shard knows of a watch.
 * Types only, outside the objects, so code that uses them does not depend on an object.
 */

/** An event handed over by a shard (or created by the API for channel tests). */
export type IncomingEvent = { eventId: string; watchId: string | null; body: string; silenced: boolean; channelIds?: string[] };

/** What a Telegram link code is: valid (with the label its channel gets), or why not. */
export type TelegramCodeCheck = { status: 'valid'; label: string } | { status: 'unknown' | 'used' | 'expired' };

/** A tenant API key as the admin sees it: never the key or its hash. `expiresAt` is set while a rotated key is in its grace period. */
export type ApiKeyRecord = { id: string; label: string; createdAt: string; expiresAt: string | null };

/** A channel as the API shows it: its target's fields (url, chatId, to, …) flattened in, never its secret. */
export type ChannelRecord = {
  id: string;
  type: ChannelTarget['type'];
  /** webhook: the URL; discord and slack: the webhook URL with its secret part masked. */
  url?: string;
  chatId?: string;
  to?: string;
  /** ntfy: the server, topic, and whether an access token is stored. */
  server?: string;
  topic?: string;
  tokenSet?: boolean;
  /** pagerduty: the Events API region and the last 4 characters of the routing key. */
  region?: 'us' | 'eu';
  routingKeyHint?: string;
  label: string;
  /** `pending_confirmation`: an email channel whose address has not confirmed yet; it receives nothing. */
  status: 'active' | 'pending_confirmation';
  createdAt: string;
  disabledAt: string | null;
  disabledReason: string | null;
};

export type WatchRecord = {
  id: string;
  chainId: number;
  protocol: string;
  /** The market's address, or for morpho-blue its market id (0x + 64 hex). */
  market: `0x${string}`;
  /** The contract holding the market (morpho-blue); null for protocols whose market is a contract. */
  protocolAddress: `0x${string}` | null;
  account: `0x${string}`;
  label: string;
  thresholds: StoredThresholds;
  channels: string[];
  shard: string;
  silencedUntil: string | null;
  /** The auto-top-up policy, null when none. */
  topUp: StoredTopUpPolicy | null;
  /** Risk-based margin calls: off (`enabled` false, default levels) unless the tenant turned them on. */
  risk: RiskSettings;
  createdAt: string;
};

export type DeliveryRecord = { eventId: string; channelId: string; status: 'pending' | 'delivered' | 'dead'; attempts: number; lastError: string | null; nextAttemptAt: string | null; deliveredAt: string | null };

export type EventRecord = { id: string; watchId: string | null; type: string; createdAt: string; silenced: boolean; body: unknown; deliveries: DeliveryRecord[] };

export type ShardWatch = WatchRef & { tenantId: string; thresholds: StoredThresholds; silencedUntil: number | null; topUp?: StoredTopUpPolicy | null; risk?: RiskSettings | null };

export type WatchStatus = {
  level: string;
  position: PositionView | null;
  lastError: string | null;
  lastPolledAt: string | null;
  /** Whether the monitor sees this watch: degraded while it has had no fresh observation for MONITOR_DEGRADED_AFTER_SECONDS. */
  monitor: WatchMonitor;
  /** The risk figures of the last read with the per-asset breakdown; null before one. */
  risk: WatchRisk | null;
  /** The protocol's own conditions active now (condition.raised sent, condition.cleared not yet), oldest first. */
  conditions: WatchCondition[];
};

/** An active protocol condition as the API shows it: `since` is the time of `sinceBlock`, where its episode began. */
export type WatchCondition = Omit<ActiveCondition, 'since'> & { since: string };

export type WatchMonitor = { status: 'ok' } | { status: 'degraded'; since: string; reason: MonitorReason; lastError: string | null };

/** A watch's state at a glance, for lists: its level, health factor and when that was read (null until first read). */
export type WatchGlance = {
  level: string | null;
  healthFactor: string | null;
  observedAt: string | null;
  monitor: WatchMonitor['status'] | null;
  /** The 24 h liquidation probability of the last read with the per-asset breakdown; null when none is known. */
  liquidationProbability24h: number | null;
};

export type TickSummary = { watches: number; blockNumber: string | null; events: number; handedOff: number; error: string | null };

/** What makes two watches the same: one account on one market of one chain. */
export type WatchPosition = Pick<WatchRecord, 'chainId' | 'protocol' | 'market' | 'protocolAddress' | 'account'>;

/** A tenant's record of a watch, with whether its create finished (`synced`) or a delete began. */
export type TenantWatch = WatchRecord & { synced: boolean; deleting: boolean };

export type WatchRecording = { ok: true; watch: TenantWatch } | { ok: false; reason: 'exists'; watch: TenantWatch } | { ok: false; reason: 'quota'; limit: number };

export type ChannelCreation = { ok: true; channel: ChannelRecord } | { ok: false; reason: 'quota'; limit: number };

/** A channel test: sent (or paced) now, or not made because an earlier test is still being retried. */
export type ChannelTestSend = { outcome: 'sent' | 'test_pending'; delivery: DeliveryRecord } | { outcome: 'not_found' } | { outcome: 'budget_spent'; retryAt: number };
