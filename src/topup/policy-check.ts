import type { Address } from 'viem';
import { parseConfig, type AppConfig } from '../config/env';
import { canonicalAmount, excessDecimals, type StoredTopUpPolicy, type TopUpPolicyInput } from '../config/topup-policy';
import { createChainClient } from '../chain/client';
import { AppError, type ErrorIssue } from '../lib/errors';
import { loadMarketMeta } from '../protocols/aave-v3';
import { aavePoolAbi } from '../protocols/aave-v3/abi';
import { decodeReserveConfiguration } from '../protocols/aave-v3/normalize';
import { tenantStub } from '../durable/tenant';
import { checkMarketTrust } from './trust';
import type { ProtocolName } from '../protocols';

/*
 * A top-up policy checked before it is stored: the owner's rules for live policies (a grant,
 * a signer, a trusted market) and the market's facts (the asset is a collateral for supply,
 * borrowable for repay; amounts fit its decimals).
 */

/** The protocols whose Pool the executor knows how to supply to and repay (the Aave v3 family). */
const TOP_UP_PROTOCOLS: readonly ProtocolName[] = ['aave-v3', 'spark'];

/** Aave v3 ReserveConfiguration bit 58: borrowing enabled. */
const BORROWING_ENABLED_BIT = 58n;

function invalid(path: string, message: string, code = 'validation_failed'): AppError {
  const issues: ErrorIssue[] = [{ path, message }];
  return new AppError(code, `${path}: ${message}`, { status: 400, issues });
}

/**
 * A policy as given in the API → the stored policy, checked against the market: the asset
 * is a reserve usable for the mode (supply: liquidation threshold > 0, so it counts as
 * collateral; repay: borrowable, so there can be a debt of it), and the amounts fit the
 * token's decimals. A live policy needs the executor's key to be configured.
 */
export async function resolveTopUpPolicy(env: Env, config: AppConfig, tenantId: string, watch: { protocol: ProtocolName; chainId: number; market: Address }, input: TopUpPolicyInput): Promise<StoredTopUpPolicy> {
  const { chainId, market } = watch;
  if (!TOP_UP_PROTOCOLS.includes(watch.protocol)) {
    throw new AppError('topup_not_supported', `auto-top-up is available for ${TOP_UP_PROTOCOLS.join(' and ')} markets; ${watch.protocol} watches alert only`, { status: 400, issues: [{ path: 'topUp', message: `not available for ${watch.protocol}` }] });
  }
  const chain = config.chains.get(chainId);
  if (!chain) throw new AppError('unknown_chain', `chain ${chainId} is not configured in RPC_URLS`, { status: 400, issues: [{ path: 'chainId', message: 'not configured' }] });
  const { client } = createChainClient(chain, { timeoutMs: config.rpcTimeoutMs });
  if (!input.dryRun) {
    // The wallet is the owner's: a live policy needs the owner's grant and a market the deployment trusts.
    const grant = await tenantStub(env, tenantId).topUpGrant();
    if (!grant.enabled) {
      throw new AppError('topup_not_permitted', 'live top-ups spend the deployment owner\'s wallet and this tenant has no grant for them: ask the owner (PUT /v1/admin/tenants/:tenantId/topup), or keep dryRun true', { status: 403, issues: [{ path: 'topUp.dryRun', message: 'live top-ups are not granted to this tenant' }] });
    }
    if (!config.topUp.signer) {
      throw invalid('topUp.dryRun', 'a live policy (dryRun false) needs the executor key: set TOPUP_PRIVATE_KEY with `wrangler secret put TOPUP_PRIVATE_KEY`, or keep dryRun true', 'signer_not_configured');
    }
    const trust = await checkMarketTrust(client, { chainId, market, multicall3: chain.multicall3, trustedMarkets: config.topUp.trustedMarkets });
    if (!trust.trusted) throw new AppError('market_not_trusted', trust.message, { status: 400, issues: [{ path: 'market', message: 'not a market the executor sends money to' }] });
  }
  const meta = await loadMarketMeta({ client, chainId, multicall3: chain.multicall3 }, market);
  const reserve = meta.reserves.find((candidate) => candidate.asset.toLowerCase() === input.asset.toLowerCase());
  if (!reserve) {
    const known = meta.reserves.map((candidate) => `${candidate.symbol} ${candidate.asset}`).join(', ');
    throw invalid('topUp.asset', `is not a reserve of this market (reserves: ${known})`);
  }
  const data = await client
    .readContract({ address: meta.pool, abi: aavePoolAbi, functionName: 'getReserveData', args: [reserve.asset] })
    .catch((error: unknown) => {
      throw new AppError('rpc_failed', `could not read reserve ${reserve.symbol}: ${error instanceof Error ? error.message.split('\n')[0]!.slice(0, 160) : 'failed'}`, { status: 502 });
    });
  const configuration = data.configuration.data;
  if (input.mode === 'supply' && decodeReserveConfiguration(configuration).liquidationThresholdBps === 0n) {
    throw invalid('topUp.asset', `${reserve.symbol} is not a collateral on this market (liquidation threshold 0): supplying it would not raise the health factor; choose a collateral reserve`);
  }
  if (input.mode === 'repay' && ((configuration >> BORROWING_ENABLED_BIT) & 1n) === 0n) {
    throw invalid('topUp.asset', `${reserve.symbol} cannot be borrowed on this market, so there is no debt of it to repay; choose a borrowable reserve`);
  }
  for (const field of ['maxAmountPerAction', 'maxAmountPerDay'] as const) {
    const excess = excessDecimals(input[field], reserve.decimals);
    if (excess) throw invalid(`topUp.${field}`, `${excess} (${reserve.symbol})`);
  }
  return {
    enabled: input.enabled,
    mode: input.mode,
    asset: reserve.asset,
    symbol: reserve.symbol,
    decimals: reserve.decimals,
    triggerHealthFactor: input.triggerHealthFactor,
    targetHealthFactor: input.targetHealthFactor,
    maxAmountPerAction: canonicalAmount(input.maxAmountPerAction, reserve.decimals),
    maxAmountPerDay: canonicalAmount(input.maxAmountPerDay, reserve.decimals),
    cooldownSeconds: input.cooldownSeconds,
    dryRun: input.dryRun,
  };
}

/** PATCH's `topUp`: undefined = unchanged, null = removed, a policy = checked and replaced. */
export async function resolveTopUpPatch(env: Env, tenantId: string, watchId: string, input: TopUpPolicyInput | null | undefined): Promise<StoredTopUpPolicy | null | undefined> {
  if (input === undefined || input === null) return input;
  const watch = await tenantStub(env, tenantId).getWatch(watchId);
  if (!watch) throw new AppError('not_found', `watch ${watchId} not found`, { status: 404 });
  return resolveTopUpPolicy(env, parseConfig(env as unknown as Record<string, unknown>), tenantId, { protocol: watch.protocol as ProtocolName, chainId: watch.chainId, market: watch.market }, input);
}
