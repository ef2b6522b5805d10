import type { Address } from 'viem';
import type { FreshState } from '../../src/topup/chain';
import type { ActionRow } from '../../src/topup/records';
import type { TopUpRequest } from '../../src/topup/request';

/** Shared test data for the pure top-up helpers: one watch, its live supply policy and an action row. */

export const POOL = '0x87870Bca3F3fD6335C3F4ce8392D69350B4fA4E2' as Address;
export const ASSET = '0x2260FAC5E5542a773Aa44fBCfeDf7C193bc2C599' as Address;
export const ACCOUNT = '0x000000000000000000000000000000000000bEEF' as Address;
export const SIGNER = '0x000000000000000000000000000000000000c0De' as Address;

export function request(overrides: Partial<TopUpRequest['policy']> = {}): TopUpRequest {
  return {
    watch: { id: 'w_1', label: 'main', chainId: 1, protocol: 'aave-v3', market: POOL, account: ACCOUNT },
    tenantId: 't_1',
    policy: {
      enabled: true, mode: 'supply', asset: ASSET, symbol: 'WBTC', decimals: 8, triggerHealthFactor: 1.2, targetHealthFactor: 1.5,
      maxAmountPerAction: '1', maxAmountPerDay: '2', cooldownSeconds: 600, dryRun: false, ...overrides,
    },
    episode: 3,
    observedBlock: '100',
    observedHealthFactor: '1150000000000000000',
  };
}

/** Only the fields the pure helpers read; `debt` is the account's Aave debt of the asset by rate mode. */
export function freshState(input: { wallet?: FreshState['wallet']; debt?: { variable: bigint; stable: bigint }; healthFactor?: bigint | null; block?: bigint } = {}): FreshState {
  const debt = input.debt ?? { variable: 0n, stable: 0n };
  const rateMode = debt.stable > debt.variable ? 1n : 2n;
  return {
    market: { pool: POOL, baseCurrencyUnit: 10n ** 8n },
    asset: { asset: ASSET, symbol: 'WBTC', decimals: 8 },
    spender: POOL,
    usdUnit: 10n ** 8n,
    assetState: { collateralParams: undefined, repayable: rateMode === 1n ? debt.stable : debt.variable, rateMode },
    wallet: input.wallet,
    snapshot: { healthFactor: input.healthFactor === undefined ? 1_150_000_000_000_000_000n : input.healthFactor, assets: [] },
    block: { number: input.block ?? 100n },
  } as unknown as FreshState;
}

export function actionRow(overrides: Partial<ActionRow> = {}): ActionRow {
  return {
    id: 'w_1:3:1', watch_id: 'w_1', tenant_id: 't_1', episode: 3, slot: 1, dry_run: 0, status: 'confirmed', asset: ASSET, amount: '50000000',
    amount_needed: '50000000', reaches_target: 1, capped_by: '[]', steps: '[]', step_index: 0, request: JSON.stringify(request()),
    hf_before: '1150000000000000000', hf_after: null, block_before: '100', block_after: null, error: null, created_at: 1_000, finished_at: null,
    position_key: null, error_code: null, usd: null, policy_version: 0, held_key: null, held_used: null,
    ...overrides,
  };
}
