import { z } from 'zod';
import type { Address, Hex } from 'viem';
import type { AlertLevel } from '../domain/alert-machine';
import type { PositionView } from '../domain/position-view';
import type { StoredTopUpPolicy } from '../config/topup-policy';
import type { TopUpGrantView } from '../topup/authorization';
import type { TopUpWatchState } from '../topup/watch-state';
import type { MarketPreset } from '../protocols/presets';
import type { ChainHealth } from '../monitor/chain-health';
import type { ApiKeyRecord, ChannelRecord, DeliveryRecord, WatchCondition, WatchGlance } from '../watches/records';
import type { WatchView, WatchWithStatus } from '../watches/service';
import type { AlertEventBody, ChannelTestBody, ConditionEventBody, MonitorEventBody, WatchRef } from '../notify/event-body';
import type { AlertEventType, AlertTrigger } from '../domain/alert-machine';
import type { CapReason, TopUpMode } from '../domain/topup-plan';
import { SKIP_MESSAGES, type TopUpEventBody, type TopUpFailureCode, type TopUpStopCode } from '../topup/events';
import { SUPPORTED_PROTOCOLS } from '../protocols';
import { createChannelSchema } from '../config/api-schemas';
import type { RiskSettings, WatchRisk } from '../risk/watch-risk';

/*
 * The bodies the v1 API answers with, as zod schemas: GET /openapi.json documents them and
 * the contract test (test/workers/openapi.test.ts) checks every real response against them.
 * Objects are closed: a field a route starts to send must be added here, or the test names it.
 * `satisfies z.ZodType<T>` ties a schema to the type the route returns, so a new required
 * field on that type fails `tsc` here too.
 */

/** Hex strings are typed `0x${string}` by viem; a regex check keeps `string` as its output type, hence the cast. */
function hexString<T extends Hex>(pattern: RegExp, description: string) {
  return z.string().regex(pattern).meta({ description }) as unknown as z.ZodType<T, T>;
}

const address = hexString<Address>(/^0x[0-9a-fA-F]{40}$/, 'an address, EIP-55 checksummed');
const marketId = hexString<Hex>(/^0x([0-9a-fA-F]{40}|[0-9a-fA-F]{64})$/, 'a market address, or for morpho-blue a market id and for maker the ilk (0x + 64 hex)');
const accountId = hexString<Hex>(/^0x([0-9a-fA-F]{40}|[0-9a-f]{64})$/, 'an address, EIP-55 checksummed; for liquity-v2 also a trove id, for fluid a position NFT id, for maker a CdpManager vault id (0x + 64 lower-case hex)');
const txHash = hexString<Hex>(/^0x[0-9a-fA-F]{64}$/, 'a transaction hash');
const time = z.iso.datetime();
const decimal = z.string().regex(/^-?\d+(\.\d+)?$/).meta({ description: 'a decimal number as a string (exact; JSON numbers lose precision past 2^53)' });

export const errorSchema = z
  .strictObject({
    error: z.strictObject({
      code: z.string().meta({ description: 'stable machine-readable code, e.g. validation_failed, unauthorized, not_found, rate_limited' }),
      message: z.string().meta({ description: 'what went wrong and what to do, for a person' }),
      issues: z.array(z.strictObject({ path: z.string().meta({ description: 'dotted path of the field, or (body)' }), message: z.string() })).optional(),
    }),
  })
  .meta({ description: 'Every 4xx and 5xx answer has this shape.' });

const ALERT_LEVELS = ['ok', 'warning', 'margin_call', 'critical', 'liquidatable'] as const satisfies readonly AlertLevel[];
const alertLevel = z.enum(ALERT_LEVELS);

const thresholds = z.strictObject({ warning: z.number(), marginCall: z.number(), critical: z.number() });

const topUpPolicy = z.strictObject({
  enabled: z.boolean(),
  mode: z.enum(['supply', 'repay']),
  asset: address,
  symbol: z.string(),
  decimals: z.number().int(),
  triggerHealthFactor: z.number(),
  targetHealthFactor: z.number(),
  maxAmountPerAction: decimal,
  maxAmountPerDay: decimal,
  cooldownSeconds: z.number().int(),
  dryRun: z.boolean(),
  version: z.number().int().optional(),
}) satisfies z.ZodType<StoredTopUpPolicy>;

const probabilityLevels = z.strictObject({ warning: z.number(), marginCall: z.number(), critical: z.number() }).meta({ description: '24 h liquidation probabilities (fractions) of each level' });
const riskSettings = z.strictObject({ enabled: z.boolean(), levels: probabilityLevels }) satisfies z.ZodType<RiskSettings>;
const probability = z.number().min(0).max(1);
const usd = z.number().meta({ description: 'US dollars (a display figure)' });

const watchRisk = z
  .strictObject({
    enabled: z.boolean(),
    levels: probabilityLevels,
    liquidationProbability: z.strictObject({ '1h': probability.nullable(), '24h': probability.nullable() }),
    gbmLiquidationProbability24h: probability.nullable(),
    volatility: z.array(z.strictObject({ asset: address, symbol: z.string(), annualised: z.number().nullable(), seed: z.enum(['chainlink_rounds', 'recorded_bars', 'asset_class_default']).nullable() })),
    liquidationMove: z.number().nullable(),
    valueAtRisk: z.strictObject({ '95': usd, '99': usd }).nullable(),
    expectedShortfall: z.strictObject({ '97.5': usd }).nullable(),
    liquidationCost: usd.nullable(),
    safeTopUp: z.strictObject({ action: z.enum(['supply', 'repay']), asset: address, symbol: z.string(), amount: decimal, targetProbability: probability, reachesTarget: z.boolean() }).nullable(),
    basis: z
      .strictObject({
        method: z.literal('filtered_historical_simulation'),
        lambdaPerDay: z.number(),
        samples: z.number().int(),
        from: time.nullable(),
        to: time.nullable(),
        barSeconds: z.number().int(),
        windowDays: z.number().int(),
        calibration: z.string(),
      })
      .nullable(),
  })
  .meta({ description: 'The risk settings with the figures of the last read with the per-asset breakdown (every figure null before one; unknown inputs null)' }) satisfies z.ZodType<WatchRisk>;

export const watchSchema = z.strictObject({
  id: z.string(),
  chainId: z.number().int(),
  protocol: z.enum(SUPPORTED_PROTOCOLS),
  market: marketId,
  protocolAddress: address.nullable(),
  account: accountId,
  label: z.string(),
  thresholds,
  channels: z.array(z.string()),
  silencedUntil: time.nullable(),
  topUp: topUpPolicy.nullable(),
  risk: riskSettings,
  createdAt: time,
}) satisfies z.ZodType<WatchView>;

const positionSchema = z.strictObject({
  healthFactor: decimal.nullable(),
  nextHealthFactor: decimal
    .nullable()
    .optional()
    .meta({ description: 'the health factor at the next price already published, where the protocol publishes one ahead (maker: its OSM, an hour ahead; with `nextPrice` and `nextPriceAt`); the alert level counts the worse of the two' }),
  baseCurrency: z.string().meta({ description: 'what `base` values are in: "USD"; the symbol of the token a market counts in (a Morpho market lending WETH: "WETH"), its `usd` beside it from the owner\'s USD price feed; else "base"' }),
  collateral: z.strictObject({ base: decimal, usd: decimal.nullable() }),
  debt: z.strictObject({ base: decimal, usd: decimal.nullable() }),
  liquidationThreshold: decimal,
  distanceToLiquidation: decimal.nullable(),
  liquidationPrices: z.array(z.strictObject({ asset: address, symbol: z.string(), price: decimal.nullable(), currentPrice: decimal.nullable() })),
  assets: z.array(z.strictObject({ asset: address, symbol: z.string(), collateral: decimal, debt: decimal, usedAsCollateral: z.boolean(), price: decimal.nullable(), liquidationThreshold: decimal })).optional(),
  subPositions: z
    .array(
      z.strictObject({
        id: z.string(),
        account: address,
        healthFactor: decimal.nullable(),
        collateral: z.strictObject({ base: decimal, usd: decimal.nullable() }),
        debt: z.strictObject({ base: decimal, usd: decimal.nullable() }),
        level: alertLevel.optional().meta({ description: 'its own alert level (each position alerts on its own); absent before the watch judged it' }),
      }),
    )
    .optional()
    .meta({ description: 'each position of an account that names several (an Euler owner\'s sub-accounts with debt, `id` the sub-account number; a Liquity v2 owner\'s troves, `id` the trove id; a Fluid owner\'s positions, `id` the NFT id), at most the 256 riskiest; the figures above are the riskiest one\'s' }),
  subPositionCount: z.number().int().optional().meta({ description: 'how many positions the account has, when more than the 256 `subPositions` lists' }),
  blockNumber: z.string().regex(/^\d+$/),
  observedAt: time,
})
  // A protocol's own facts beside the common ones (Liquity's redemptionRank and branch state).
  .catchall(z.union([z.string(), z.number(), z.boolean(), z.null()])) satisfies z.ZodType<PositionView>;

const monitorReason = z.enum(['stale', 'erroring', 'wrong_chain']);
const watchMonitor = z.discriminatedUnion('status', [
  z.strictObject({ status: z.literal('ok') }),
  z.strictObject({ status: z.literal('degraded'), since: time, reason: monitorReason, lastError: z.string().nullable() }),
]);

const protocolFact = z.union([z.string(), z.number(), z.boolean(), z.null()]);
const conditionFields = {
  code: z.string().regex(/^[a-z][a-z0-9_]*$/).meta({ description: 'the condition, stable per protocol: liquity-v2 `branch_below_ccr`, `branch_below_scr`, `branch_shutdown`, `redemption_risk`' }),
  severity: z.enum(['info', 'warning', 'critical']),
  title: z.string(),
  message: z.string().meta({ description: 'what it means for this position, for a person' }),
  facts: z.record(z.string(), protocolFact).meta({ description: 'the figures behind it (protocol fields, as in the position)' }),
  sinceBlock: z.string().regex(/^\d+$/).meta({ description: 'the block its episode began on' }),
  since: time.meta({ description: 'the time of sinceBlock' }),
};
const watchCondition = z
  .strictObject(conditionFields)
  .meta({ description: 'A danger of the protocol\'s own, beside the health factor, active since `since` (condition.raised was sent; condition.cleared ends it). See README "Protocol conditions".' }) satisfies z.ZodType<WatchCondition>;

/** The watch an event is about, as every webhook body names it. */
const watchRef = z
  .strictObject({ id: z.string(), label: z.string(), chainId: z.number().int(), protocol: z.string(), market: marketId, protocolAddress: address.optional().meta({ description: 'morpho-blue only: the contract holding the market' }), account: accountId })
  .meta({ description: 'The watch the event is about' }) satisfies z.ZodType<WatchRef>;

/** The body of condition.raised / condition.cleared, as every channel receives it; documented here because no route answers with it. */
const conditionEvent = z
  .strictObject({
    id: z.string(),
    type: z.enum(['condition.raised', 'condition.cleared']),
    createdAt: time,
    watch: watchRef,
    condition: z.strictObject({
      ...conditionFields,
      facts: conditionFields.facts.meta({ description: 'the figures at the raise; for condition.cleared, as last reported while it held' }),
      blockNumber: z.string().regex(/^\d+$/).meta({ description: 'the read that raised or cleared it' }),
      observedAt: time,
    }),
    position: positionSchema,
  })
  .meta({ description: 'Webhook body of condition.raised and condition.cleared: once per episode each, the id derived from the watch, the condition and sinceBlock.' }) satisfies z.ZodType<ConditionEventBody>;

const topUpAction = z.strictObject({
  id: z.string(),
  status: z.enum(['dry_run', 'in_flight', 'confirmed', 'failed']),
  dryRun: z.boolean(),
  mode: z.string(),
  asset: address,
  amount: decimal,
  reachesTarget: z.boolean(),
  txHash: txHash.nullable(),
  approveTxHash: txHash.nullable(),
  healthFactorBefore: z.string().nullable(),
  healthFactorAfter: z.string().nullable(),
  error: z.string().nullable(),
  createdAt: time,
  finishedAt: time.nullable(),
});

const topUpState = z.strictObject({
  executor: z.strictObject({ chainId: z.number().int(), signer: address.nullable() }),
  spentLast24h: decimal,
  remainingLast24h: decimal,
  cooldownUntil: time.nullable(),
  inFlight: z.boolean(),
  lastFailure: z.strictObject({ code: z.string(), message: z.string(), at: time }).nullable(),
  recent: z.array(topUpAction),
}) satisfies z.ZodType<TopUpWatchState>;

/** POST /v1/watches: the watch as stored; nothing has been read yet. */
export const createdWatchSchema = watchSchema.extend({ level: z.null(), position: z.null() });

export const watchListItemSchema = watchSchema.extend({
  level: alertLevel.nullable(),
  healthFactor: decimal.nullable(),
  observedAt: time.nullable(),
  monitor: z.enum(['ok', 'degraded']).nullable(),
  liquidationProbability24h: probability.nullable(),
}) satisfies z.ZodType<WatchView & WatchGlance>;

export const watchWithStatusSchema = watchSchema.extend({
  level: alertLevel.nullable(),
  position: positionSchema.nullable(),
  lastPolledAt: time.nullable(),
  lastError: z.string().nullable(),
  monitor: watchMonitor.nullable(),
  topUpState: topUpState.nullable(),
  risk: watchRisk,
  conditions: z.array(watchCondition).meta({ description: 'the protocol\'s own conditions active now, oldest first; empty when none' }),
}) satisfies z.ZodType<WatchWithStatus>;

const nextCursor = z.string().nullable().meta({ description: 'pass as ?cursor= for the next page; null on the last page' });
export const watchListSchema = z.strictObject({ data: z.array(watchListItemSchema), nextCursor });

/** Channel types come from the create schema's discriminator, so a new channel type is documented with it. */
const CHANNEL_TYPES = createChannelSchema.options.map((option) => option.shape.type.value);

export const channelSchema = z.strictObject({
  id: z.string(),
  type: z.enum(CHANNEL_TYPES),
  url: z.string().optional(),
  chatId: z.string().optional(),
  to: z.string().optional(),
  server: z.string().optional().meta({ description: 'ntfy: the server' }),
  topic: z.string().optional().meta({ description: 'ntfy: the topic' }),
  tokenSet: z.boolean().optional().meta({ description: 'ntfy: whether an access token is stored (never returned)' }),
  region: z.enum(['us', 'eu']).optional().meta({ description: 'pagerduty: the Events API region' }),
  routingKeyHint: z.string().optional().meta({ description: 'pagerduty: the last 4 characters of the routing key' }),
  label: z.string(),
  status: z.enum(['active', 'pending_confirmation']),
  createdAt: time,
  disabledAt: time.nullable(),
  disabledReason: z.string().nullable(),
}) satisfies z.ZodType<ChannelRecord>;

const confirmationSchema = z.strictObject({ sentTo: z.string(), expiresAt: time, sent: z.boolean(), error: z.string().nullable() });

/** POST /v1/channels: a webhook's signing secret is shown here once; an email channel says where its code went. */
export const createdChannelSchema = channelSchema.extend({
  secret: z.string().regex(/^whsec_/).optional().meta({ description: 'webhook only: the Standard Webhooks signing secret, shown once' }),
  confirmation: confirmationSchema.optional().meta({ description: 'email only: the confirmation mail' }),
});
export const channelListSchema = z.strictObject({ data: z.array(channelSchema), nextCursor });

const deliverySchema = z.strictObject({
  eventId: z.string(),
  channelId: z.string(),
  status: z.enum(['pending', 'delivered', 'dead']),
  attempts: z.number().int(),
  lastError: z.string().nullable(),
  nextAttemptAt: time.nullable(),
  deliveredAt: time.nullable(),
}) satisfies z.ZodType<DeliveryRecord>;

const channelTestEvent = z
  .strictObject({
    id: z.string(),
    type: z.literal('channel.test'),
    createdAt: time,
    channel: z.strictObject({ id: z.string(), label: z.string() }),
    message: z.string(),
  })
  .meta({ description: 'Webhook body of channel.test, sent by POST /v1/channels/{id}/test.' }) satisfies z.ZodType<ChannelTestBody>;

/*
 * The webhook bodies (OpenAPI `webhooks`): what every channel of a watch receives, POSTed as
 * JSON to a webhook channel. test/workers/openapi.test.ts validates bodies a real receiver got.
 */

// Enums as records keyed by their union: a member added to the type fails `tsc` here, where a
// narrower z.enum would still satisfy z.ZodType<T> and only fail on a real body.
const enumOf = <T extends string>(members: Record<T, true>) => z.enum(Object.keys(members) as [T, ...T[]]);
const ALERT_TYPES = { 'alert.triggered': true, 'alert.escalated': true, 'alert.reminder': true, 'alert.resolved': true } satisfies Record<AlertEventType, true>;
const ALERT_TRIGGERS = { health_factor: true, liquidation_probability: true, next_price: true } satisfies Record<AlertTrigger, true>;
const TOPUP_MODES = { supply: true, repay: true } satisfies Record<TopUpMode, true>;

const alertEvent = z
  .strictObject({
    id: z.string().meta({ description: 'stable per event: retries reuse it (the `webhook-id` header), so receivers deduplicate on it' }),
    type: enumOf<AlertEventType>(ALERT_TYPES),
    createdAt: time,
    watch: watchRef,
    level: alertLevel.meta({ description: 'the level after this read (`ok` for alert.resolved)' }),
    previousLevel: alertLevel.meta({ description: 'the level before it (equal to `level` for a reminder)' }),
    trigger: enumOf<AlertTrigger>(ALERT_TRIGGERS).meta({ description: 'the rule that set the level announced: the health factor, the health factor at the next published price (maker OSM), or the 24 h liquidation probability (risk-enabled watches); for alert.resolved, the one that had set the level resolved' }),
    position: positionSchema,
    recommendation: z
      .strictObject({ action: z.enum(['supply', 'repay']), asset: address, symbol: z.string(), amount: decimal, targetHealthFactor: decimal })
      .nullable()
      .meta({ description: 'what would bring the health factor back to the target; null for alert.resolved or when none can be computed' }),
    risk: watchRisk.nullable().meta({ description: 'the risk figures at this read; null when it was read without its per-asset breakdown' }),
    subPosition: z
      .strictObject({ id: z.string(), account: address })
      .optional()
      .meta({ description: 'for a watch whose account names several positions (an Euler owner, a Fluid owner): the one this alert is about (each alerts on its own; `position` shows it, `id` as in `position.subPositions`); absent for a watch on one position' }),
  })
  .meta({ description: 'Webhook body of alert.triggered, alert.escalated, alert.reminder and alert.resolved. Amounts and health factors are decimal strings.' }) satisfies z.ZodType<AlertEventBody>;

const monitorEvent = z
  .strictObject({
    id: z.string(),
    type: z.enum(['monitor.degraded', 'monitor.recovered']),
    createdAt: time,
    watch: watchRef,
    monitor: z.strictObject({
      chainId: z.number().int(),
      since: time.meta({ description: 'the last fresh observation before the episode' }),
      reason: monitorReason,
      lastError: z.string().nullable().optional().meta({ description: 'monitor.degraded: the last error, URLs cut to their origin; null when the head was merely stale' }),
      blockNumber: z.string().regex(/^\d+$/).optional().meta({ description: 'monitor.recovered: the block the watch was seen on again' }),
      observedAt: time.optional().meta({ description: 'monitor.recovered: when it was read' }),
    }),
  })
  .meta({ description: 'Webhook body of monitor.degraded (the watch could not be read fresh) and monitor.recovered (it is read again).' }) satisfies z.ZodType<MonitorEventBody>;

const TOPUP_FAILURE_CODES = {
  signer_not_configured: true, unknown_chain: true, wrong_chain: true, rpc_unavailable: true, rpc_disagree: true, rpc_stale: true, read_failed: true, asset_not_in_market: true,
  gas_price_above_cap: true, insufficient_gas_funds: true, simulation_reverted: true, broadcast_failed: true, tx_reverted: true, tx_timeout: true, tx_dropped: true, nonce_used_elsewhere: true,
} satisfies Record<TopUpFailureCode, true>;
const TOPUP_STOP_CODES = {
  watch_deleted: true, policy_changed: true, not_permitted: true, tenant_budget_reached: true, market_not_trusted: true, above_trigger: true, action_timeout: true, usd_price_unknown: true,
} satisfies Record<TopUpStopCode, true>;
type TopUpReason = NonNullable<TopUpEventBody['topUp']['reason']>;
// A Set: a skip reason and a stop code may share a name (above_trigger, tenant_budget_reached).
const TOPUP_REASONS = [...new Set([...Object.keys(SKIP_MESSAGES), ...Object.keys(TOPUP_FAILURE_CODES), ...Object.keys(TOPUP_STOP_CODES)])] as [TopUpReason, ...TopUpReason[]];
const CAP_REASONS = { per_action: true, per_day: true, tenant_budget: true, wallet_balance: true, debt: true } satisfies Record<CapReason, true>;

const healthFactorText = z.string().regex(/^(\d+\.\d+|∞)$/).meta({ description: 'a health factor with 4 decimals, or ∞ when the account owes nothing' });
const calldata = hexString<Hex>(/^0x([0-9a-fA-F]{2})*$/, 'calldata');

const topUpTransaction = z
  .strictObject({
    from: address.nullable().meta({ description: 'the executor wallet; null when no signer is configured' }),
    to: address,
    function: enumOf<TopUpMode>(TOPUP_MODES),
    summary: z.string().meta({ description: 'the call for a person, e.g. supply(WBTC 0x…, 0.25 WBTC, onBehalfOf 0x…, referralCode 0)' }),
    args: z.record(z.string(), z.union([z.string(), z.number()])).meta({ description: 'the arguments as the protocol receives them; amounts in token base units' }),
    data: calldata,
    value: z.string().regex(/^\d+$/).optional().meta({ description: "native coin (wei) sent as the transaction's value, where the asset is the chain's native coin (fluid: a native-ETH vault side); absent when none" }),
    approve: z.strictObject({ to: address, spender: address, amount: z.string().regex(/^\d+$/) }).nullable().meta({ description: 'the exact-amount ERC-20 approval sent first (base units); null when none is needed' }),
    before: z.array(z.strictObject({ to: address, summary: z.string(), data: calldata })).optional().meta({ description: 'calls sent after the approval and before this one, in order (maker: the join into the Vat); absent when none' }),
  })
  .meta({ description: 'The transaction a top-up sends, or (dry run, refusal) would send: readable, with the exact calldata' });

const topUpEvent = z
  .strictObject({
    id: z.string().meta({ description: 'stable per trigger and kind, e.g. evt_topup_w_…_3_1_executed or …_skipped_cooldown' }),
    type: z.enum(['topup.executed', 'topup.skipped', 'topup.failed']),
    createdAt: time,
    watch: watchRef,
    topUp: z.strictObject({
      triggerId: z.string().meta({ description: '<watchId>:<episode>:<slot>, the trigger this event belongs to' }),
      mode: enumOf<TopUpMode>(TOPUP_MODES),
      asset: address,
      symbol: z.string(),
      dryRun: z.boolean(),
      triggerHealthFactor: decimal,
      targetHealthFactor: decimal,
      amount: decimal.nullable().meta({ description: 'token units; null when it could not be computed' }),
      amountNeeded: decimal.nullable(),
      reachesTarget: z.boolean().nullable().meta({ description: 'whether `amount` is expected to restore the target (false when a cap or the debt bit)' }),
      cappedBy: z.array(enumOf<CapReason>(CAP_REASONS)),
      healthFactorBefore: healthFactorText.nullable(),
      healthFactorAfter: healthFactorText.nullable(),
      targetReached: z.boolean().nullable().meta({ description: 'topup.executed: whether the health factor read after the receipt is at or above target' }),
      blockNumber: z.string().regex(/^\d+$/).nullable(),
      txHash: txHash.nullable(),
      approveTxHash: txHash.nullable(),
      reason: z.enum(TOPUP_REASONS).nullable().meta({ description: 'topup.skipped: the skip or stop reason (dry_run for a dry run); topup.failed: the failure code; null for topup.executed' }),
      message: z.string().meta({ description: 'what happened, for a person' }),
      retryAt: time.nullable().meta({ description: 'when a skip lifts by itself (cooldown end, day window)' }),
      wallet: z.strictObject({ address: address.nullable(), balance: decimal.nullable() }).nullable(),
      transaction: topUpTransaction.nullable(),
    }),
  })
  .meta({ description: 'Webhook body of topup.executed, topup.skipped and topup.failed (auto-top-up). Amounts and health factors are decimal strings.' }) satisfies z.ZodType<TopUpEventBody>;

export const channelTestSchema = z.strictObject({ event: channelTestEvent, delivery: deliverySchema.nullable() });
export const confirmationResentSchema = z.strictObject({ confirmation: confirmationSchema });
export const deliveryListSchema = z.strictObject({ data: z.array(deliverySchema), nextCursor: z.string().nullable().describe('Pass as `cursor` for the next page; null on the last') });

/**
 * An event's body is the payload its channels received (alert.*, monitor.*, condition.*, topup.*, channel.test); see README "Webhook events".
 * Open, not a oneOf of the webhook bodies: events stored before a field was added (alert `risk` and `trigger`) are kept until retention prunes them, as they were sent.
 */
const eventBody = z
  .looseObject({ id: z.string(), type: z.string(), createdAt: time })
  .meta({ description: 'the payload its channels received, as the document\'s `webhooks` describe it: alert.triggered / escalated / reminder / resolved (AlertEvent), monitor.degraded / recovered (MonitorEvent), condition.raised / cleared (ConditionEvent), topup.executed / skipped / failed (TopUpEvent), channel.test (ChannelTestEvent); events stored by an earlier version may lack a field added since' });
export const eventListSchema = z.strictObject({
  data: z.array(z.strictObject({ id: z.string(), watchId: z.string().nullable(), type: z.string(), createdAt: time, silenced: z.boolean(), body: eventBody, deliveries: z.array(deliverySchema) })),
  nextCursor: z.string().regex(/^\d+$/).nullable().meta({ description: 'pass as ?cursor= for older events; null when there are none' }),
});

const apiKeySchema = z.strictObject({ id: z.string(), label: z.string(), createdAt: time, expiresAt: time.nullable() }) satisfies z.ZodType<ApiKeyRecord>;
const tenantId = z.string().regex(/^t_[0-9a-f]{16}$/);
const secretKey = z.string().regex(/^mwk_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$/).meta({ description: 'the API key, shown once: send it as Authorization: Bearer <key>' });

export const issuedKeySchema = apiKeySchema.extend({ tenantId, key: secretKey });
export const rotatedKeySchema = issuedKeySchema.extend({ previous: z.strictObject({ id: z.string(), expiresAt: time }).meta({ description: 'the key used for this call, valid until expiresAt' }) });
export const keyListSchema = z.strictObject({ tenantId, data: z.array(apiKeySchema) });

export const marketListSchema = z.strictObject({
  data: z.array(
    z.strictObject({
      key: z.string(),
      chainId: z.number().int(),
      protocol: z.enum(SUPPORTED_PROTOCOLS),
      name: z.string(),
      market: marketId,
      protocolAddress: address.nullable(),
      loan: z.string().optional(),
      collateral: z.string().optional(),
      lltv: z.string().optional(),
    }) satisfies z.ZodType<MarketPreset>,
  ),
});

export const topUpGrantViewSchema = z.strictObject({
  tenantId,
  enabled: z.boolean(),
  maxUsdPerDay: decimal.nullable(),
  spentUsdLast24h: decimal,
  remainingUsdLast24h: decimal,
  updatedAt: time.nullable(),
}) satisfies z.ZodType<TopUpGrantView & { tenantId: string }>;

export const topUpSignerSchema = z.strictObject({
  address: address.nullable(),
  configured: z.boolean(),
  maxGasGwei: z.string(),
  chains: z.array(
    z.strictObject({
      chainId: z.number().int(),
      balanceNative: decimal.nullable(),
      error: z.string().nullable(),
      held: z
        .array(z.strictObject({ tenantId: z.string(), balance: z.string(), amount: decimal, symbol: z.string() }))
        .nullable()
        .meta({
          description:
            "What tenants' failed actions left inside a protocol in the executor's own balance (Maker: its Vat balance after a join whose frob failed), per tenant: each tenant's next top-up there uses its own share first. `balance` names it (`<vat>:gem:<ilk>` or `<vat>:dai`). Anything the protocol shows beyond these shares belongs to no tenant. Null when it could not be read.",
        }),
      usdFeeds: z
        .array(
          z.strictObject({
            token: address,
            feed: address,
            maxAgeSeconds: z.number().int(),
            usdPrice: decimal.nullable(),
            updatedAt: time.nullable(),
            usable: z.boolean(),
            error: z.string().nullable(),
          }),
        )
        .meta({
          description:
            "The chain's USD_PRICE_FEEDS as the executor would find them now: each feed's latest answer (USD per token) and when it was updated, at the latest block; `usable` false (with `error` saying why) when it would value no action: not an aggregator, an answer that is not a price, or older than `maxAgeSeconds`. Empty when none is set.",
        }),
    }),
  ),
  hint: z.string().optional(),
});

const chainHealthSchema = z.strictObject({
  chainId: z.number().int(),
  ok: z.boolean(),
  lastGoodBlock: z.strictObject({ number: z.string().regex(/^\d+$/), timestamp: time }).nullable(),
  ageSeconds: z.number().int().nullable(),
  shardsAsked: z.number().int(),
  degradedWatches: z.number().int(),
}) satisfies z.ZodType<ChainHealth>;

export const healthSchema = z.strictObject({ ok: z.boolean(), service: z.literal('marginwatch'), chains: z.array(z.number().int()), chainHealth: z.array(chainHealthSchema) });
/** /health with a configuration the worker cannot run with (503): the error names the setting. */
export const healthMisconfiguredSchema = errorSchema.extend({ ok: z.literal(false) });

export const issuedLinkCodeSchema = z.strictObject({ code: z.string(), url: z.url(), expiresAt: time, command: z.string().meta({ description: 'what to send the bot: /start <code>' }) });
export const telegramSetupResultSchema = z.strictObject({
  ok: z.literal(true),
  bot: z.strictObject({ id: z.number().int(), username: z.string() }),
  // As the URL parser wrote it (WHATWG), which admits hosts RFC 3986's `uri` format does not.
  webhook: z.strictObject({ url: z.string(), allowedUpdates: z.array(z.string()) }),
  commands: z.array(z.strictObject({ command: z.string(), description: z.string() })),
});
export const telegramUpdateAckSchema = z.strictObject({ ok: z.literal(true) });

/** The webhook bodies by family: each is an entry of the document's `webhooks`, its body the named component. */
export const WEBHOOK_BODIES = {
  alert: { name: 'AlertEvent', types: ['alert.triggered', 'alert.escalated', 'alert.reminder', 'alert.resolved'] },
  monitor: { name: 'MonitorEvent', types: ['monitor.degraded', 'monitor.recovered'] },
  condition: { name: 'ConditionEvent', types: ['condition.raised', 'condition.cleared'] },
  topup: { name: 'TopUpEvent', types: ['topup.executed', 'topup.skipped', 'topup.failed'] },
  channelTest: { name: 'ChannelTestEvent', types: ['channel.test'] },
} as const;

/** Parts that recur in many bodies: documented once under components/schemas and referenced. */
export const SHARED_RESPONSE_SCHEMAS: Record<string, z.ZodType> = {
  Timestamp: time,
  Address: address,
  MarketId: marketId,
  Decimal: decimal,
  AlertLevel: alertLevel,
  Thresholds: thresholds,
  TopUpPolicy: topUpPolicy,
  Position: positionSchema,
  WatchMonitor: watchMonitor,
  WatchCondition: watchCondition,
  WatchRef: watchRef,
  AlertEvent: alertEvent,
  MonitorEvent: monitorEvent,
  ConditionEvent: conditionEvent,
  TopUpEvent: topUpEvent,
  ChannelTestEvent: channelTestEvent,
  TopUpState: topUpState,
  Delivery: deliverySchema,
  ApiKey: apiKeySchema,
  ChainHealth: chainHealthSchema,
};
