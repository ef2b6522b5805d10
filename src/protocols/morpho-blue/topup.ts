import { decodeFunctionData, encodeFunctionData, formatUnits, type Address, type Hex } from 'viem';
import { multicallAt } from '../batch';
import { invalidTopUpAsset, sameAddress, stablecoinUsdUnit, tokenValueUnit, type ActionCall, type AssetFacts, type TopUpCapability } from '../topup-capability';
import { morphoAbi, oracleAbi } from './abi';
import { MORPHO_BLUE_DEPLOYMENTS } from './deployments';
import { MORPHO_PRESETS } from './presets';
import type { MorphoMarket } from './normalize';

/*
 * Morpho Blue top-ups: `supplyCollateral(params, assets, onBehalf, "")` and
 * `repay(params, assets, 0, onBehalf, "")` on the Morpho contract, which takes the
 * approval. Both are open to anyone on behalf of any account.
 */

const ORACLE_PRICE_SCALE = 10n ** 36n;
const VIRTUAL_SHARES = 10n ** 6n;



function describeMorpho(data: Hex, input: { mode: ActionCall['kind']; asset: AssetFacts; account: Address }): Omit<ActionCall, 'to' | 'data'> {
  const decoded = decodeFunctionData({ abi: morphoAbi, data });
  const amount = decoded.args?.[1] as bigint;
  const human = `${formatUnits(amount, input.asset.decimals)} ${input.asset.symbol}`;
  return decoded.functionName === 'repay'
    ? { kind: 'repay', summary: `repay(market, ${human}, shares 0, onBehalf ${input.account})`, args: { assets: amount.toString(), shares: 0, onBehalf: input.account } }
    : { kind: 'supply', summary: `supplyCollateral(market, ${human}, onBehalf ${input.account})`, args: { assets: amount.toString(), onBehalf: input.account } };
}

export const morphoTopUp: TopUpCapability<MorphoMarket> = {
  async checkAsset(_context, market, mode, asset) {
    const wanted = mode === 'supply' ? market.collateral : market.loan;
    if (!sameAddress(asset, wanted.asset)) {
      throw invalidTopUpAsset(mode === 'supply' ? `this market's only collateral is ${market.collateral.symbol} ${market.collateral.asset}` : `this market's debt is in ${market.loan.symbol} ${market.loan.asset} only`);
    }
    return { asset: wanted.asset, symbol: wanted.symbol, decimals: wanted.decimals };
  },

  spender: (market) => market.morpho,

  async readAssetState(context, market, input) {
    const [priceResult, positionResult, stateResult] = await multicallAt(
      context,
      [
        { address: market.params.oracle, abi: oracleAbi, functionName: 'price' },
        { address: market.morpho, abi: morphoAbi, functionName: 'position', args: [market.id, input.account] },
        { address: market.morpho, abi: morphoAbi, functionName: 'market', args: [market.id] },
      ],
      input.blockNumber,
    );
    const supply = sameAddress(input.asset.asset, market.collateral.asset);
    const price = priceResult?.status === 'success' && typeof priceResult.result === 'bigint' && priceResult.result > 0n ? priceResult.result : undefined;
    let repayable = 0n;
    if (!supply && positionResult?.status === 'success' && stateResult?.status === 'success') {
      const borrowShares = (positionResult.result as readonly bigint[])[1]!;
      const [, , totalBorrowAssets, totalBorrowShares] = stateResult.result as readonly bigint[];
      // Rounded down, so the shares a repayment of it burns never exceed the account's (Morpho would revert).
      repayable = (borrowShares * (totalBorrowAssets! + 1n)) / (totalBorrowShares! + VIRTUAL_SHARES);
    }
    return {
      collateralParams: {
        asset: input.asset.asset,
        symbol: input.asset.symbol,
        decimals: input.asset.decimals,
        // In loan-token units per whole token: the collateral at the oracle's price, the loan token at par.
        price: supply ? (price === undefined ? undefined : (10n ** BigInt(market.collateral.decimals) * price) / ORACLE_PRICE_SCALE) : 10n ** BigInt(market.loan.decimals),
        liquidationThresholdBps: supply ? market.params.lltv / 10n ** 14n : 0n,
      },
      repayable,
      // Values are in loan-token units: a loan token that is no dollar is valued through the owner's USD feed for it.
      ...tokenValueUnit(market.loan),
    };
  },

  buildAction(market, input) {
    const params = market.params;
    const data =
      input.mode === 'supply'
        ? encodeFunctionData({ abi: morphoAbi, functionName: 'supplyCollateral', args: [params, input.amount, input.account, '0x'] })
        : encodeFunctionData({ abi: morphoAbi, functionName: 'repay', args: [params, input.amount, 0n, input.account, '0x'] });
    return { to: market.morpho, data, ...describeMorpho(data, input) };
  },

  describeAction: describeMorpho,

  /** Values are in loan-token units: USD only when the loan token is a dollar stablecoin (counted at $1). */
  usdUnit: (market) => stablecoinUsdUnit(market.loan),

  // Anyone can create a market in Morpho (any tokens, any oracle), and deploy Morpho's code with the same
  // market ids: a listed id is trusted only inside the chain's canonical Morpho or a Morpho contract also listed.
  ownerListing(market, { chainId, listed }) {
    const canonical = MORPHO_BLUE_DEPLOYMENTS[chainId];
    const contractTrusted = (canonical !== undefined && sameAddress(canonical, market.morpho)) || listed(market.morpho);
    return {
      trusted: listed(market.id) && contractTrusted,
      what: `Morpho market ${market.id} in ${market.morpho} (trusted by its id, inside the chain's canonical Morpho contract or one also listed)`,
    };
  },

  async trustedPreset(context, market) {
    const canonical = MORPHO_BLUE_DEPLOYMENTS[context.chainId];
    if (!canonical || !sameAddress(canonical, market.morpho)) return null;
    return MORPHO_PRESETS.find((preset) => preset.chainId === context.chainId && preset.id.toLowerCase() === market.id.toLowerCase())?.name ?? null;
  },

  describeRevert: (reason) => reason,
};
