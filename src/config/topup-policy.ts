import { z } from 'zod';
import { formatUnits, getAddress, isAddress, parseUnits, type Address } from 'viem';
import { decimalToWad } from '../domain/risk';
import type { TopUpMode, TopUpPolicy } from '../domain/topup-plan';

/*
 * The `topUp` field of POST/PATCH /v1/watches. The body is checked here for shape; what
 * needs the market (is the asset a collateral or a borrowable reserve, its decimals) is
 * checked by src/topup/policy-check.ts, which turns the input into a StoredTopUpPolicy.
 */

const healthFactor = z
  .number({ error: 'must be a number such as 1.5' })
  .finite()
  .gt(1, 'must be greater than 1 (an account is liquidatable below 1)')
  .lte(100, 'must be at most 100');

/** Token amounts travel as decimal strings: JSON numbers lose precision past 2^53. */
const tokenAmount = z
  .string({ error: 'must be a decimal string in token units such as "1.5"' })
  .trim()
  .max(80, 'is too long')
  .regex(/^\d+(\.\d+)?$/, 'must be a decimal string in token units such as "1.5" (no sign, no exponent)')
  .refine((value) => /[1-9]/.test(value), 'must be greater than 0');

const assetAddress = z
  .string({ error: 'must be a 0x-prefixed address string' })
  .refine((value) => isAddress(value, { strict: false }), 'must be a 0x-prefixed 20-byte hex address')
  .transform((value) => getAddress(value))
  .meta({ pattern: '^0x[0-9a-fA-F]{40}$', description: 'the token to supply or repay: a 0x-prefixed 20-byte address' });

export const topUpPolicySchema = z
  .object({
    enabled: z.boolean({ error: 'must be true or false' }).default(true),
    mode: z.enum(['supply', 'repay'], { error: 'must be "supply" (add collateral) or "repay" (pay back debt)' }),
    asset: assetAddress,
    triggerHealthFactor: healthFactor,
    targetHealthFactor: healthFactor,
    maxAmountPerAction: tokenAmount,
    maxAmountPerDay: tokenAmount,
    cooldownSeconds: z.number({ error: 'must be a number of seconds' }).int('must be an integer').min(0, 'must be at least 0').max(7 * 86_400, 'must be at most 604800 (7 days)').default(600),
    // Safe by default: a new policy only reports what it would do until the owner opts in.
    dryRun: z.boolean({ error: 'must be true or false' }).default(true),
  })
  .strict()
  .superRefine((value, ctx) => {
    if (!(value.targetHealthFactor > value.triggerHealthFactor)) {
      ctx.addIssue({ code: 'custom', path: ['targetHealthFactor'], message: 'must be greater than triggerHealthFactor (target > trigger > 1)' });
    }
  });
export type TopUpPolicyInput = z.infer<typeof topUpPolicySchema>;

/**
 * A policy as stored with the watch (tenant record, shard row) and shown by the API.
 * Amounts are canonical decimal strings; `decimals` and `symbol` come from the reserve, so
 * the conversion to token units needs no further read.
 */
export type StoredTopUpPolicy = {
  enabled: boolean;
  mode: TopUpMode;
  asset: Address;
  symbol: string;
  decimals: number;
  triggerHealthFactor: number;
  targetHealthFactor: number;
  maxAmountPerAction: string;
  maxAmountPerDay: string;
  cooldownSeconds: number;
  dryRun: boolean;
  /**
   * Assigned by the tenant each time the policy is stored (1, 2, ...): an action planned
   * under one version is never sent after the policy changed. Absent on policies stored
   * before versions existed (read as 0).
   */
  version?: number;
};

/** Fraction digits beyond what the token has cannot be sent; null when the amount fits. */
export function excessDecimals(amount: string, decimals: number): string | null {
  const fraction = amount.split('.')[1] ?? '';
  const significant = fraction.replace(/0+$/, '');
  return significant.length > decimals ? `has more decimal places than the token's ${decimals}` : null;
}

/** Canonical form of an amount that fits the token: "1.50" → "1.5", "007" → "7". */
export function canonicalAmount(amount: string, decimals: number): string {
  return formatUnits(parseUnits(amount, decimals), decimals);
}

export const MIN_DRY_RUN_COOLDOWN_SECONDS = 60;

/** The stored policy in planner units (WAD health factors, token units, milliseconds). */
export function policyForPlanning(stored: StoredTopUpPolicy): TopUpPolicy {
  return {
    enabled: stored.enabled,
    mode: stored.mode,
    asset: stored.asset,
    triggerHealthFactor: decimalToWad(String(stored.triggerHealthFactor)),
    targetHealthFactor: decimalToWad(String(stored.targetHealthFactor)),
    maxAmountPerAction: parseUnits(stored.maxAmountPerAction, stored.decimals),
    maxAmountPerDay: parseUnits(stored.maxAmountPerDay, stored.decimals),
    // A dry run moves nothing but still costs a read: at most one a minute per watch.
    cooldownMs: (stored.dryRun ? Math.max(stored.cooldownSeconds, MIN_DRY_RUN_COOLDOWN_SECONDS) : stored.cooldownSeconds) * 1000,
    dryRun: stored.dryRun,
  };
}
