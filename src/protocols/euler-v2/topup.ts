import { decodeFunctionData, encodeFunctionData, formatUnits, getAddress, type Address, type Hex } from 'viem';
import { AppError } from '../../lib/errors';
import { multicallAt, type CallResult } from '../batch';
import type { ReadContext } from '../read-types';
import { invalidTopUpAsset, onBehalfRefused, sameAddress, type ActionCall, type AssetFacts, type PolicyAssetState, type TopUpCapability } from '../topup-capability';
import { evcCollateralsAbi, oracleAbi, tokenAbi, vaultTopUpAbi } from './abi';
import { eulerValueUnit, type EulerMarket } from './normalize';
import { readEulerAccounts } from './read';
import { EULER_PRESETS } from './presets';
import { tokenSymbol } from '../token-symbol';

/*
 * Euler v2 top-ups, both open to anyone for any account (EVK: `repay` and `deposit` run with
 * CHECKACCOUNT_NONE and pull the assets from the caller):
 * - repay: `repay(amount, subAccount)` on the controller vault (the market), in its asset;
 * - supply: `deposit(amount, subAccount)` into a collateral vault the sub-account has enabled
 *   (EVC.getCollaterals) and the market accepts, in that vault's underlying token — the policy's
 *   asset. A deposit into a vault the sub-account has not enabled would count for nothing, and only
 *   the owner can enable one, so then there is nothing to send.
 * A watch on an owner acts for its riskiest sub-account. Values are in the market's unit of account.
 */

type Candidate = { vault: Address; liquidationBps: bigint };

function ok(result: CallResult | undefined): unknown {
  return result?.status === 'success' ? result.result : undefined;
}

/** The sub-account an action goes to: the watched one, or an owner's riskiest sub-account with debt at the block. */
async function subAccountOf(context: ReadContext, market: EulerMarket, account: Address, blockNumber: bigint | 'latest'): Promise<Address> {
  const block = blockNumber === 'latest' ? await context.client.getBlock({ blockTag: 'latest' }) : await context.client.getBlock({ blockNumber });
  const [read] = await readEulerAccounts(context, market, [account], { number: block.number, timestamp: block.timestamp }, 256);
  if (!read || !('snapshot' in read)) throw new AppError('read_failed', `could not read Euler account ${account}: ${read && 'error' in read ? read.error : 'no answer'}`, { status: 502 });
  return getAddress(read.snapshot.account);
}

/** The market's collateral vaults whose underlying is `asset`, with their liquidation LTV (0: not accepted any more). */
async function vaultsOf(context: ReadContext, market: EulerMarket, asset: Address, blockNumber?: bigint): Promise<Candidate[]> {
  const results = await multicallAt(
    context,
    market.collaterals.flatMap((collateral) => [
      { address: collateral.asset, abi: vaultTopUpAbi, functionName: 'asset' },
      { address: market.vault, abi: vaultTopUpAbi, functionName: 'LTVLiquidation', args: [collateral.asset] },
    ]),
    blockNumber,
  );
  return market.collaterals.flatMap((collateral, index) => {
    const underlying = ok(results[index * 2]);
    const ltv = ok(results[index * 2 + 1]);
    return typeof underlying === 'string' && sameAddress(underlying, asset) ? [{ vault: collateral.asset, liquidationBps: BigInt(typeof ltv === 'number' ? ltv : 0) }] : [];
  });
}

/** Of the candidates, the enabled one with the highest liquidation LTV (it raises the health factor most); undefined when none is enabled. */
async function enabledVault(context: ReadContext, market: EulerMarket, subAccount: Address, candidates: readonly Candidate[], blockNumber?: bigint): Promise<Candidate | undefined> {
  const [collaterals] = await multicallAt(context, [{ address: market.evc, abi: evcCollateralsAbi, functionName: 'getCollaterals', args: [subAccount] }], blockNumber);
  const enabled = (ok(collaterals) as readonly Address[] | undefined) ?? [];
  return candidates
    .filter((candidate) => candidate.liquidationBps > 0n && enabled.some((vault) => sameAddress(vault, candidate.vault)))
    .sort((a, b) => (a.liquidationBps === b.liquidationBps ? 0 : a.liquidationBps > b.liquidationBps ? -1 : 1))[0];
}

function notEnabledMessage(subAccount: Address, asset: AssetFacts, candidates: readonly Candidate[]): string {
  return `sub-account ${subAccount} has enabled none of this market's collateral vaults for ${asset.symbol} (${candidates.map((candidate) => candidate.vault).join(', ')}) as collateral: a deposit would not count toward its health, and only its owner can enable one (EVC.enableCollateral)`;
}

/** Values are in the vault's unit of account: a token other than USD (e.g. WETH) is valued through the owner's USD feed for it. */
function valueUnitOf(market: EulerMarket): Pick<PolicyAssetState, 'valueUnit'> {
  return market.quoteIsUsd ? {} : { valueUnit: eulerValueUnit(market) };
}

function describeEuler(data: Hex, input: { mode: ActionCall['kind']; asset: AssetFacts; account: Address }): Omit<ActionCall, 'to' | 'data'> {
  const decoded = decodeFunctionData({ abi: vaultTopUpAbi, data });
  const [amount, receiver] = decoded.args as readonly [bigint, Address];
  const human = `${formatUnits(amount, input.asset.decimals)} ${input.asset.symbol}`;
  return decoded.functionName === 'repay'
    ? { kind: 'repay', summary: `repay(${human}, receiver ${receiver})`, args: { amount: amount.toString(), receiver } }
    : { kind: 'supply', summary: `deposit(${human}, receiver ${receiver}) into the collateral vault`, args: { amount: amount.toString(), receiver } };
}

export const eulerTopUp: TopUpCapability<EulerMarket> = {
  async checkAsset(context, market, mode, asset) {
    if (mode === 'repay') {
      if (!sameAddress(asset, market.asset.asset)) throw invalidTopUpAsset(`this vault lends ${market.asset.symbol} ${market.asset.asset} only: repay with it`);
      return { asset: market.asset.asset, symbol: market.asset.symbol, decimals: market.asset.decimals };
    }
    const named = market.collaterals.find((collateral) => sameAddress(collateral.asset, asset));
    if (named) throw invalidTopUpAsset(`${asset} is the collateral vault itself: name its underlying token (the executor deposits that into the vault for the sub-account)`);
    const candidates = (await vaultsOf(context, market, asset)).filter((candidate) => candidate.liquidationBps > 0n);
    if (candidates.length === 0) throw invalidTopUpAsset(`no collateral vault this market accepts holds ${asset} (collateral vaults: ${market.collaterals.map((collateral) => `${collateral.symbol} ${collateral.asset}`).join(', ')})`);
    const [symbol, decimals] = (await multicallAt(context, [
      { address: asset, abi: tokenAbi, functionName: 'symbol' },
      { address: asset, abi: tokenAbi, functionName: 'decimals' },
    ])).map(ok);
    if (typeof decimals !== 'number') throw invalidTopUpAsset(`${asset} does not answer decimals()`);
    return { asset: getAddress(asset), symbol: tokenSymbol(symbol, asset), decimals };
  },

  spender: (market) => market.vault,

  async readAssetState(context, market, input) {
    const subAccount = await subAccountOf(context, market, input.account, input.blockNumber);
    const whole = 10n ** BigInt(input.asset.decimals);
    if (sameAddress(input.asset.asset, market.asset.asset)) {
      const [price, debt] = await multicallAt(
        context,
        [
          { address: market.oracle, abi: oracleAbi, functionName: 'getQuote', args: [whole, market.asset.asset, market.unitOfAccount] },
          { address: market.vault, abi: vaultTopUpAbi, functionName: 'debtOf', args: [subAccount] },
        ],
        input.blockNumber,
      );
      const quoted = ok(price);
      return {
        collateralParams: { ...input.asset, price: typeof quoted === 'bigint' && quoted > 0n ? quoted : undefined, liquidationThresholdBps: 0n },
        // debtOf rounds up to what the vault would take; repaying more reverts (E_RepayTooMuch).
        repayable: (ok(debt) as bigint | undefined) ?? 0n,
        onBehalfOf: subAccount,
        ...valueUnitOf(market),
      };
    }
    const candidates = await vaultsOf(context, market, input.asset.asset, input.blockNumber);
    const chosen = await enabledVault(context, market, subAccount, candidates, input.blockNumber);
    if (!chosen) throw new AppError('asset_not_in_market', notEnabledMessage(subAccount, input.asset, candidates), { status: 409 });
    const [shares, quote] = await multicallAt(
      context,
      [
        { address: chosen.vault, abi: vaultTopUpAbi, functionName: 'convertToShares', args: [whole] },
        // Collateral vault shares carry their underlying's decimals.
        { address: market.oracle, abi: oracleAbi, functionName: 'getQuote', args: [whole, chosen.vault, market.unitOfAccount] },
      ],
      input.blockNumber,
    );
    const sharesPerToken = ok(shares);
    const sharePrice = ok(quote);
    // The vault values the shares a deposit mints: one whole token buys convertToShares(1) shares, each at the share's quote.
    const price = typeof sharesPerToken === 'bigint' && typeof sharePrice === 'bigint' && sharePrice > 0n ? (sharesPerToken * sharePrice) / whole : undefined;
    return {
      collateralParams: { ...input.asset, price, liquidationThresholdBps: chosen.liquidationBps },
      repayable: 0n,
      onBehalfOf: subAccount,
      via: chosen.vault,
      ...valueUnitOf(market),
    };
  },

  buildAction(market, input) {
    const receiver = input.state.onBehalfOf ?? input.account;
    if (input.mode === 'repay') {
      const data = encodeFunctionData({ abi: vaultTopUpAbi, functionName: 'repay', args: [input.amount, receiver] });
      return { to: market.vault, data, ...describeEuler(data, input) };
    }
    if (!input.state.via) throw new AppError('read_failed', `no enabled collateral vault was resolved for ${receiver}`, { status: 502 });
    const data = encodeFunctionData({ abi: vaultTopUpAbi, functionName: 'deposit', args: [input.amount, receiver] });
    return { to: input.state.via, data, ...describeEuler(data, input) };
  },

  describeAction: describeEuler,

  usdUnit: (market) => (market.quoteIsUsd ? 10n ** BigInt(market.unitDecimals) : undefined),

  // The EVK factory deploys vaults for anyone (any asset, oracle, governor): being its vault is no trust. The owner lists vaults in TOPUP_TRUSTED_MARKETS.
  // Only the built-in vaults (the EVK factory deploys vaults for anyone, so being one of its vaults proves nothing).
  trustedPreset: async (context, market) => EULER_PRESETS.find((preset) => preset.chainId === context.chainId && sameAddress(preset.vault, market.vault))?.name ?? null,

  describeRevert: (reason) => reason,

  errorAbi: vaultTopUpAbi,

  async checkOnBehalf(context, market, input) {
    if (input.mode !== 'supply') return;
    const subAccount = await subAccountOf(context, market, input.account, 'latest');
    const candidates = (await vaultsOf(context, market, input.asset.asset)).filter((candidate) => candidate.liquidationBps > 0n);
    if (!(await enabledVault(context, market, subAccount, candidates))) {
      throw onBehalfRefused(`${notEnabledMessage(subAccount, input.asset, candidates)}. Repaying (mode "repay") needs no such step; dry runs still report`);
    }
  },
};
