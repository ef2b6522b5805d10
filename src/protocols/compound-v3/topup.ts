import { decodeFunctionData, encodeFunctionData, formatUnits, type Address, type Hex } from 'viem';
import { multicallAt } from '../batch';
import { invalidTopUpAsset, sameAddress, type ActionCall, type AssetFacts, type TopUpCapability } from '../topup-capability';
import { cometAbi } from './abi';
import { cometValueUnit, type CometMarket } from './normalize';
import { COMET_PRESETS } from './presets';

/*
 * Compound v3 top-ups: `supplyTo(account, asset, amount)` on the Comet, for both modes:
 * a collateral asset adds collateral, the base token repays the borrow (a supply of base
 * pays debt first). Comet takes the approval. Needs no permission from the account.
 */

const PRICE_UNIT = 10n ** 8n;



function describeComet(data: Hex, input: { mode: ActionCall['kind']; asset: AssetFacts; account: Address }): Omit<ActionCall, 'to' | 'data'> {
  const decoded = decodeFunctionData({ abi: cometAbi, data });
  const amount = decoded.args?.[2] as bigint;
  const kind = input.mode;
  return {
    kind,
    summary: `supplyTo(${input.account}, ${input.asset.symbol} ${input.asset.asset}, ${formatUnits(amount, input.asset.decimals)} ${input.asset.symbol})${kind === 'repay' ? ' — repays the borrow' : ''}`,
    args: { dst: input.account, asset: input.asset.asset, amount: amount.toString() },
  };
}

export const cometTopUp: TopUpCapability<CometMarket> = {
  async checkAsset(_context, market, mode, asset) {
    if (mode === 'repay') {
      if (!sameAddress(asset, market.base.asset)) throw invalidTopUpAsset(`a Compound v3 borrow is in the base token only: repay with ${market.base.symbol} ${market.base.asset}`);
      return { asset: market.base.asset, symbol: market.base.symbol, decimals: market.base.decimals };
    }
    const collateral = market.assets.find((candidate) => sameAddress(candidate.asset, asset));
    if (!collateral) throw invalidTopUpAsset(`is not a collateral of this Comet (collaterals: ${market.assets.map((candidate) => `${candidate.symbol} ${candidate.asset}`).join(', ')})`);
    if (collateral.liquidateCollateralFactor === 0n) throw invalidTopUpAsset(`${collateral.symbol} has a liquidation collateral factor of 0 here: supplying it would not raise the health factor`);
    return { asset: collateral.asset, symbol: collateral.symbol, decimals: collateral.decimals };
  },

  spender: (market) => market.comet,

  async readAssetState(context, market, input) {
    const collateral = market.assets.find((candidate) => sameAddress(candidate.asset, input.asset.asset));
    const feed = collateral?.priceFeed ?? market.base.priceFeed;
    const [price, borrow, basePrice] = await multicallAt(
      context,
      [
        { address: market.comet, abi: cometAbi, functionName: 'getPrice', args: [feed] },
        { address: market.comet, abi: cometAbi, functionName: 'borrowBalanceOf', args: [input.account] },
        { address: market.comet, abi: cometAbi, functionName: 'getPrice', args: [market.base.priceFeed] },
      ],
      input.blockNumber,
    );
    const positive = (result: typeof price) => (result?.status === 'success' && typeof result.result === 'bigint' && result.result > 0n ? result.result : undefined);
    const priceValue = positive(price);
    const basePriceValue = positive(basePrice);
    return {
      collateralParams: {
        asset: input.asset.asset,
        symbol: input.asset.symbol,
        decimals: input.asset.decimals,
        price: priceValue,
        liquidationThresholdBps: collateral ? collateral.liquidateCollateralFactor / 10n ** 14n : 0n,
      },
      repayable: !collateral && borrow?.status === 'success' ? (borrow.result as bigint) : 0n,
      // Prices not in USD (a WETH market's feeds quote ETH): counted in the base token, one of which is worth its price in the feeds' unit.
      ...cometValueUnit(market, basePriceValue),
    };
  },

  buildAction(market, input) {
    const data = encodeFunctionData({ abi: cometAbi, functionName: 'supplyTo', args: [input.account, input.asset.asset, input.amount] });
    return { to: market.comet, data, ...describeComet(data, input) };
  },

  describeAction: describeComet,

  usdUnit: (market) => (market.pricesInUsd ? PRICE_UNIT : undefined),

  async trustedPreset(context, market) {
    return COMET_PRESETS.find((preset) => preset.chainId === context.chainId && sameAddress(preset.comet, market.comet))?.name ?? null;
  },

  describeRevert: (reason) => reason,
};
