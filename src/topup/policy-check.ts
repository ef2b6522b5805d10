import { tenantStub } from '../durable/stubs';
import type { Address } from 'viem';
import { parseConfig, type AppConfig } from '../config/env';
import { canonicalAmount, excessDecimals, type StoredTopUpPolicy, type TopUpPolicyInput } from '../config/topup-policy';
import { createChainClient, ISOLATE_PROVEN_CHAINS } from '../chain/client';
import { AppError, type ErrorIssue } from '../lib/errors';

import { checkMarketTrust } from './trust';
import { topUpProtocolOf, type ProtocolName } from '../protocols';

/*
 * A top-up policy checked before it is stored: the owner's rules for live policies (a grant,
 * a signer, a trusted market) and the market's facts (the asset is a collateral for supply,
 * borrowable for repay; amounts fit its decimals).
 */

function invalid(path: string, message: string, code = 'validation_failed'): AppError {
  const issues: ErrorIssue[] = [{ path, message }];
  return new AppError(code, `${path}: ${message}`, { status: 400, issues });
}

/**
 * A policy as given in the API → the stored policy, checked against the market by the
 * protocol (the asset is usable for the mode: a collateral to supply, a debt to repay) and
 * against the token's decimals. A live policy needs the owner's grant, the executor's key
 * and a market the deployment trusts.
 */
export async function resolveTopUpPolicy(env: Env, config: AppConfig, tenantId: string, watch: { protocol: ProtocolName; chainId: number; market: Address; account: Address; protocolAddress?: Address | null }, input: TopUpPolicyInput): Promise<StoredTopUpPolicy> {
  const { chainId } = watch;
  const protocol = topUpProtocolOf(watch);
  const chain = config.chains.get(chainId);
  if (!chain) throw new AppError('unknown_chain', `chain ${chainId} is not configured in RPC_URLS`, { status: 400, issues: [{ path: 'chainId', message: 'not configured' }] });
  const { client } = createChainClient(chain, { timeoutMs: config.rpcTimeoutMs, provenChains: ISOLATE_PROVEN_CHAINS });
  // The operator's contracts for the chain too (Fluid's VaultResolver, Maker's Spotter…): the market loads as the shard loads it.
  const context = { client, chainId, multicall3: chain.multicall3, protocolContracts: chain.protocolContracts };
  if (!input.dryRun) {
    // The wallet is the owner's: a live policy needs the owner's grant and a market the deployment trusts.
    const grant = await tenantStub(env, tenantId).topUpGrant();
    if (!grant.enabled) {
      throw new AppError('topup_not_permitted', 'live top-ups spend the deployment owner\'s wallet and this tenant has no grant for them: ask the owner (PUT /v1/admin/tenants/:tenantId/topup), or keep dryRun true', { status: 403, issues: [{ path: 'topUp.dryRun', message: 'live top-ups are not granted to this tenant' }] });
    }
    if (!config.topUp.signer) {
      throw invalid('topUp.dryRun', 'a live policy (dryRun false) needs the executor key: set TOPUP_PRIVATE_KEY with `wrangler secret put TOPUP_PRIVATE_KEY`, or keep dryRun true', 'signer_not_configured');
    }
    const trust = await checkMarketTrust(context, protocol, config.topUp.trustedMarkets);
    if (!trust.trusted) throw new AppError('market_not_trusted', trust.message, { status: 400, issues: [{ path: 'market', message: 'not a market the executor sends money to' }] });
  }
  const market = await protocol.adapter.loadMarket(context, protocol.ref);
  const asset = await protocol.capability.checkAsset(context, market, input.mode, input.asset);
  // Where the position itself decides who may add to it (a Liquity trove's add-manager), a live policy the chain would refuse is refused here.
  if (!input.dryRun && config.topUp.signer) await protocol.capability.checkOnBehalf?.(context, market, { account: watch.account, mode: input.mode, asset, actor: config.topUp.signer });
  for (const field of ['maxAmountPerAction', 'maxAmountPerDay'] as const) {
    const excess = excessDecimals(input[field], asset.decimals);
    if (excess) throw invalid(`topUp.${field}`, `${excess} (${asset.symbol})`);
  }
  return {
    enabled: input.enabled,
    mode: input.mode,
    asset: asset.asset,
    symbol: asset.symbol,
    decimals: asset.decimals,
    triggerHealthFactor: input.triggerHealthFactor,
    targetHealthFactor: input.targetHealthFactor,
    maxAmountPerAction: canonicalAmount(input.maxAmountPerAction, asset.decimals),
    maxAmountPerDay: canonicalAmount(input.maxAmountPerDay, asset.decimals),
    cooldownSeconds: input.cooldownSeconds,
    dryRun: input.dryRun,
  };
}

/** PATCH's `topUp`: undefined = unchanged, null = removed, a policy = checked and replaced. */
export async function resolveTopUpPatch(env: Env, tenantId: string, watchId: string, input: TopUpPolicyInput | null | undefined): Promise<StoredTopUpPolicy | null | undefined> {
  if (input === undefined || input === null) return input;
  const watch = await tenantStub(env, tenantId).getWatch(watchId);
  if (!watch) throw new AppError('not_found', `watch ${watchId} not found`, { status: 404 });
  return resolveTopUpPolicy(env, parseConfig(env as unknown as Record<string, unknown>), tenantId, { protocol: watch.protocol as ProtocolName, chainId: watch.chainId, market: watch.market, account: watch.account, protocolAddress: watch.protocolAddress }, input);
}
