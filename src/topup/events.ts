import { formatUnits, type Address, type Hex } from 'viem';
import type { WatchRef } from '../notify/event-body';
import type { StoredTopUpPolicy } from '../config/topup-policy';
import type { CapReason, SkipReason, TopUpMode } from '../domain/topup-plan';
import { decimalToWad, formatWad } from '../domain/risk';
import type { TopUpStopReason } from './authorization';

/*
 * Bodies of the top-up events, delivered on every channel of the watch like alerts.
 * Amounts and health factors are decimal strings. Ids are stable per trigger and kind, so
 * the tenant's idempotent ingest turns any retry into a no-op.
 */

export type TopUpEventType = 'topup.executed' | 'topup.skipped' | 'topup.failed';

export type TopUpFailureCode =
  | 'signer_not_configured'
  | 'unknown_chain'
  | 'wrong_chain'
  | 'rpc_unavailable'
  | 'rpc_disagree'
  | 'rpc_stale'
  | 'read_failed'
  | 'asset_not_in_market'
  | 'gas_price_above_cap'
  | 'insufficient_gas_funds'
  | 'simulation_reverted'
  | 'broadcast_failed'
  | 'tx_reverted'
  | 'tx_timeout'
  | 'tx_dropped'
  | 'nonce_used_elsewhere';

/**
 * Why a live action stopped (or never started) without a failure: the owner's or the
 * tenant's decision, or the position recovering. Reported as `topup.skipped`.
 */
export type TopUpStopCode = TopUpStopReason | 'market_not_trusted' | 'above_trigger' | 'action_timeout' | 'usd_price_unknown';

/** The transaction a top-up sends (or would send): enough to check it by eye, and the exact calldata. */
export type TransactionView = {
  from: Address | null;
  to: Address;
  function: TopUpMode;
  /** e.g. "supply(WBTC 0x…, 0.25 WBTC, onBehalfOf 0x…, referralCode 0)" */
  summary: string;
  /** Arguments as the Pool receives them; amounts in token base units. */
  args: Record<string, string | number>;
  data: Hex;
  /** Native coin (wei, decimal) sent as the transaction's value, where the asset is the chain's native coin; absent when none. */
  value?: string;
  /** The exact-amount ERC-20 approval sent first when the allowance is short; null when none is needed. */
  approve: { to: Address; spender: Address; amount: string } | null;
  /** Calls sent after the approval and before this one, in order (Maker: the join into the Vat before the frob); absent when none. */
  before?: Array<{ to: Address; summary: string; data: Hex }>;
};

export type TopUpDetails = {
  /** `${watchId}:${episode}:${slot}`: the trigger this event belongs to. */
  triggerId: string;
  mode: TopUpMode;
  asset: Address;
  symbol: string;
  dryRun: boolean;
  triggerHealthFactor: string;
  targetHealthFactor: string;
  /** Token units, decimal string; null when it could not be computed. */
  amount: string | null;
  amountNeeded: string | null;
  /** Whether `amount` is expected to restore the target (false when a cap or the debt bit). */
  reachesTarget: boolean | null;
  cappedBy: CapReason[];
  healthFactorBefore: string | null;
  healthFactorAfter: string | null;
  /** For executed: whether the health factor read after the receipt is at or above target. */
  targetReached: boolean | null;
  blockNumber: string | null;
  txHash: Hex | null;
  approveTxHash: Hex | null;
  /** Skip reason or failure code; null for executed. */
  reason: SkipReason | TopUpFailureCode | TopUpStopCode | null;
  message: string;
  /** When a skip lifts by itself (cooldown end, day window), ISO time. */
  retryAt: string | null;
  wallet: { address: Address | null; balance: string | null } | null;
  transaction: TransactionView | null;
};

export type TopUpEventBody = { id: string; type: TopUpEventType; createdAt: string; watch: WatchRef; topUp: TopUpDetails };

export type Trigger = { watchId: string; episode: number; slot: number };

export function triggerId(trigger: Trigger): string {
  return `${trigger.watchId}:${trigger.episode}:${trigger.slot}`;
}

/** Stable per trigger and kind: "evt_topup_w_…_3_1_executed", "…_skipped_cooldown", "…_failed_rpc_stale". */
export function topUpEventId(trigger: Trigger, type: TopUpEventType, reason?: string): string {
  const kind = type.slice('topup.'.length);
  return `evt_topup_${trigger.watchId}_${trigger.episode}_${trigger.slot}_${kind}${reason ? `_${reason}` : ''}`;
}

export type TopUpEventInput = {
  type: TopUpEventType;
  trigger: Trigger;
  watch: WatchRef;
  policy: StoredTopUpPolicy;
  createdAt: Date;
  amount?: bigint | null;
  amountNeeded?: bigint | null;
  reachesTarget?: boolean | null;
  cappedBy?: CapReason[];
  healthFactorBefore?: bigint | null | undefined;
  healthFactorAfter?: bigint | null | undefined;
  blockNumber?: bigint | null;
  txHash?: Hex | null;
  approveTxHash?: Hex | null;
  reason?: SkipReason | TopUpFailureCode | TopUpStopCode | null;
  message: string;
  retryAt?: number | null;
  wallet?: { address: Address | null; balance: bigint | null } | null;
  transaction?: TransactionView | null;
};

export function buildTopUpEvent(input: TopUpEventInput): TopUpEventBody {
  const { policy } = input;
  const units = (value: bigint | null | undefined) => (value === null || value === undefined ? null : formatUnits(value, policy.decimals));
  // undefined = not read; null = no debt (infinite health factor), shown as the alerts show it.
  const hf = (value: bigint | null | undefined) => (value === undefined ? null : formatWad(value, 4));
  const target = input.healthFactorAfter === undefined || input.type !== 'topup.executed' ? null : input.healthFactorAfter === null || input.healthFactorAfter >= wadOf(policy.targetHealthFactor);
  return {
    id: topUpEventId(input.trigger, input.type, input.type === 'topup.executed' ? undefined : (input.reason ?? undefined)),
    type: input.type,
    createdAt: input.createdAt.toISOString(),
    watch: input.watch,
    topUp: {
      triggerId: triggerId(input.trigger),
      mode: policy.mode,
      asset: policy.asset,
      symbol: policy.symbol,
      dryRun: policy.dryRun,
      triggerHealthFactor: formatWad(wadOf(policy.triggerHealthFactor), 4),
      targetHealthFactor: formatWad(wadOf(policy.targetHealthFactor), 4),
      amount: units(input.amount),
      amountNeeded: units(input.amountNeeded),
      reachesTarget: input.reachesTarget ?? null,
      cappedBy: input.cappedBy ?? [],
      healthFactorBefore: hf(input.healthFactorBefore),
      healthFactorAfter: hf(input.healthFactorAfter),
      targetReached: target,
      blockNumber: input.blockNumber === null || input.blockNumber === undefined ? null : input.blockNumber.toString(),
      txHash: input.txHash ?? null,
      approveTxHash: input.approveTxHash ?? null,
      reason: input.reason ?? null,
      message: input.message,
      retryAt: input.retryAt === null || input.retryAt === undefined ? null : new Date(input.retryAt).toISOString(),
      wallet: input.wallet ? { address: input.wallet.address, balance: units(input.wallet.balance) } : null,
      transaction: input.transaction ?? null,
    },
  };
}

function wadOf(value: number): bigint {
  return decimalToWad(String(value));
}

/** Words for each skip reason, for the event's `message`. */
export const SKIP_MESSAGES: Record<SkipReason, string> = {
  disabled: 'the policy is disabled',
  above_trigger: 'the health factor is at or above the trigger',
  cooldown: 'the health factor is still below the trigger, but the cooldown since the last top-up has not passed',
  day_cap_reached: 'the 24-hour cap (maxAmountPerDay) is used up',
  tenant_budget_reached: "the owner's USD grant for this tenant's live top-ups is used up for the rolling 24 hours",
  dry_run: 'dry run: nothing was sent; this is the transaction a live policy would send',
  no_balance: "the executor wallet holds none of this asset; the deployment owner funds it (GET /v1/topup/signer with the admin token shows its address)",
  no_breakdown: 'the per-asset breakdown of the account could not be read',
  unknown_price: 'a price the amount depends on is unknown',
  no_debt: 'the account owes none of this asset',
  collateral_not_enabled: "the account holds this asset but has turned it off as collateral; supplying more would not raise the health factor (only the owner can turn it back on)",
};
