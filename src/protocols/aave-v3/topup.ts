import { decodeFunctionData, encodeFunctionData, formatUnits, type Address, type Hex } from 'viem';
import { AppError } from '../../lib/errors';
import { invalidTopUpAsset, sameAddress, type ActionCall, type AssetFacts, type TopUpCapability } from '../topup-capability';
import { multicallAt, rethrowRpc } from '../batch';
import { presetsOnChain } from './presets';
import { aaveAddressesProviderAbi, aaveOracleAbi, aavePoolAbi, erc20Abi } from './abi';
import { describeAaveRevert } from './errors';
import { decodeReserveConfiguration, type ReserveMeta } from './normalize';
import type { MarketMeta } from './read';

/*
 * Aave v3 (and Spark) top-ups: `supply(asset, amount, onBehalfOf, 0)` and
 * `repay(asset, amount, rateMode, onBehalfOf)` on the Pool, which takes the approval.
 */

/** ReserveConfiguration bit 58: borrowing enabled. */
const BORROWING_ENABLED_BIT = 58n;
/** AaveOracle's base currency is USD when BASE_CURRENCY_UNIT is 1e8. */
const USD_BASE_UNIT = 10n ** 8n;


function reserveOf(meta: MarketMeta, asset: Address): ReserveMeta {
  const reserve = meta.reserves.find((candidate) => sameAddress(candidate.asset, asset));
  if (!reserve) throw new AppError('asset_not_in_market', `${asset} is no longer a reserve of market ${meta.pool}`, { status: 409 });
  return reserve;
}

export const aaveTopUp: TopUpCapability<MarketMeta> = {
  async checkAsset(context, meta, mode, asset) {
    const reserve = meta.reserves.find((candidate) => sameAddress(candidate.asset, asset));
    if (!reserve) throw invalidTopUpAsset(`is not a reserve of this market (reserves: ${meta.reserves.map((candidate) => `${candidate.symbol} ${candidate.asset}`).join(', ')})`);
    const data = await context.client.readContract({ address: meta.pool, abi: aavePoolAbi, functionName: 'getReserveData', args: [reserve.asset] }).catch(rethrowRpc);
    const configuration = data.configuration.data;
    if (mode === 'supply' && decodeReserveConfiguration(configuration).liquidationThresholdBps === 0n) {
      throw invalidTopUpAsset(`${reserve.symbol} is not a collateral on this market (liquidation threshold 0): supplying it would not raise the health factor; choose a collateral reserve`);
    }
    if (mode === 'repay' && ((configuration >> BORROWING_ENABLED_BIT) & 1n) === 0n) {
      throw invalidTopUpAsset(`${reserve.symbol} cannot be borrowed on this market, so there is no debt of it to repay; choose a borrowable reserve`);
    }
    return { asset: reserve.asset, symbol: reserve.symbol, decimals: reserve.decimals };
  },

  spender: (meta) => meta.pool,

  async readAssetState(context, meta, input) {
    const reserve = reserveOf(meta, input.asset.asset);
    const results = (await context.client
      .multicall({
        contracts: [
          { address: meta.oracle, abi: aaveOracleAbi, functionName: 'getAssetsPrices', args: [[reserve.asset]] },
          { address: meta.pool, abi: aavePoolAbi, functionName: 'getReserveData', args: [reserve.asset] },
          { address: meta.pool, abi: aavePoolAbi, functionName: 'getUserEMode', args: [input.account] },
          { address: reserve.variableDebtToken, abi: erc20Abi, functionName: 'balanceOf', args: [input.account] },
          { address: reserve.stableDebtToken, abi: erc20Abi, functionName: 'balanceOf', args: [input.account] },
        ] as never,
        allowFailure: false,
        blockNumber: input.blockNumber,
        multicallAddress: context.multicall3,
        batchSize: 0,
      })
      .catch(rethrowRpc)) as unknown[];
    const price = (results[0] as readonly bigint[])[0];
    const configuration = decodeReserveConfiguration((results[1] as { configuration: { data: bigint } }).configuration.data);
    const userEMode = Number(results[2] as bigint);
    let liquidationThresholdBps = configuration.liquidationThresholdBps;
    if (userEMode !== 0 && configuration.eModeCategory === userEMode) {
      // Only for an account in the reserve's e-mode category: the category's threshold applies.
      const category = await context.client.readContract({ address: meta.pool, abi: aavePoolAbi, functionName: 'getEModeCategoryData', args: [userEMode], blockNumber: input.blockNumber }).catch(rethrowRpc);
      liquidationThresholdBps = BigInt(category.liquidationThreshold);
    }
    const variable = results[3] as bigint;
    const stable = results[4] as bigint;
    // Aave repays one rate mode per call: the larger balance.
    const rateMode = stable > variable ? 1n : 2n;
    return {
      collateralParams: {
        asset: reserve.asset,
        symbol: reserve.symbol,
        decimals: reserve.decimals,
        // A zero price is the oracle not knowing: unknown, never 0 (same rule as the reads).
        price: price === undefined || price === 0n ? undefined : price,
        liquidationThresholdBps,
      },
      repayable: rateMode === 1n ? stable : variable,
      rateMode,
    };
  },

  buildAction(meta, input) {
    const data =
      input.mode === 'supply'
        ? encodeFunctionData({ abi: aavePoolAbi, functionName: 'supply', args: [input.asset.asset, input.amount, input.account, 0] })
        : encodeFunctionData({ abi: aavePoolAbi, functionName: 'repay', args: [input.asset.asset, input.amount, input.state.rateMode ?? 2n, input.account] });
    return { to: meta.pool, data, ...describeAaveAction(data, input) };
  },

  describeAction: describeAaveAction,

  usdUnit: (meta) => (meta.baseCurrencyUnit === USD_BASE_UNIT ? USD_BASE_UNIT : undefined),

  async trustedPreset(context, meta) {
    const presets = presetsOnChain(context.chainId);
    if (presets.length === 0) return null;
    // One Multicall3 call asks every known provider of the chain for its Pool; a provider absent here simply does not match.
    const results = await multicallAt(context, presets.map((preset) => ({ address: preset.addressesProvider, abi: aaveAddressesProviderAbi, functionName: 'getPool' })));
    const index = results.findIndex((result) => result.status === 'success' && typeof result.result === 'string' && result.result.toLowerCase() === meta.pool.toLowerCase());
    return index >= 0 ? presets[index]!.name : null;
  },

  describeRevert: describeAaveRevert,
};

function describeAaveAction(data: Hex, input: { asset: AssetFacts; account: Address }): Omit<ActionCall, 'to' | 'data'> {
  const decoded = decodeFunctionData({ abi: aavePoolAbi, data });
  const amount = decoded.args[1] as bigint;
  const human = `${formatUnits(amount, input.asset.decimals)} ${input.asset.symbol}`;
  if (decoded.functionName === 'supply') {
    return {
      kind: 'supply',
      summary: `supply(${input.asset.symbol} ${input.asset.asset}, ${human}, onBehalfOf ${input.account}, referralCode 0)`,
      args: { asset: input.asset.asset, amount: amount.toString(), onBehalfOf: input.account, referralCode: 0 },
    };
  }
  const rateMode = Number(decoded.args[2] as bigint);
  return {
    kind: 'repay',
    summary: `repay(${input.asset.symbol} ${input.asset.asset}, ${human}, ${rateMode === 1 ? 'stable' : 'variable'} rate, onBehalfOf ${input.account})`,
    args: { asset: input.asset.asset, amount: amount.toString(), interestRateMode: rateMode, onBehalfOf: input.account },
  };
}
