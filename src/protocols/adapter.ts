import type { Address, Hex } from 'viem';
import type { AssetPosition } from '../domain/position';
import type { AccountRead, MarketPrices, MarketRef, PinnedBlock, ReadContext } from './read-types';
import type { TopUpCapability } from './topup-capability';
import type { ReadAt } from './block-pin';

/*
 * What every protocol folder provides. The shard, the watch service, the bench and the
 * tests read positions only through this interface (one read path), so a protocol is a
 * folder under src/protocols/ plus its line in the registry.
 */

/**
 * How the protocol liquidates, in one shape for all: how much of the debt one liquidation
 * may repay (basis points; all of it below `fullCloseBelowHealthFactor` where the protocol
 * has such a line), and per collateral asset what the liquidator gains on what it seizes
 * (basis points: Aave's bonus, Comet's 1 − liquidationFactor, Morpho's incentive − 1).
 */
export type LiquidationRule = {
  closeFactorBps: bigint;
  fullCloseBelowHealthFactor: bigint | null;
  penaltyBps: ReadonlyArray<{ asset: Address; symbol: string; bps: bigint }>;
};

export interface ProtocolAdapter<Market> {
  /**
   * Checks on chain that `ref` is a market of this protocol (an AppError `invalid_market`
   * with issues at `market` otherwise) and returns its static facts, cached per isolate.
   */
  loadMarket(context: ReadContext, ref: MarketRef): Promise<Market>;
  /**
   * Where an account names something the protocol resolves on chain (a Maker vault id): checks,
   * when a watch is created, that it exists in this market; an AppError with issues at `account`
   * otherwise. Absent: any account the syntax allows is accepted (an empty one reads as no debt).
   */
  checkAccount?(context: ReadContext, market: Market, account: Hex): Promise<void>;
  /** Every account's summary at one block (the tick's pin, set by its first call, or a block already pinned), in ⌈accounts / batchSize⌉ Multicall3 calls. */
  readAccounts(context: ReadContext, market: Market, accounts: readonly Address[], block: ReadAt, batchSize: number): Promise<AccountRead[]>;
  /** The per-asset breakdown of some accounts (those near or past a threshold), batched the same way. */
  readAssets(context: ReadContext, market: Market, accounts: readonly Address[], block: PinnedBlock, batchSize: number): Promise<Map<Address, AssetPosition[]>>;
  /** Every asset price of the market at the block, in one Multicall3 call (the risk engine's volatility input). */
  readPrices(context: ReadContext, market: Market, block: PinnedBlock): Promise<MarketPrices>;
  /** The protocol's liquidation rule for this market (pure, from its static facts). */
  liquidationRule(market: Market): LiquidationRule;
  /** Its own supply / repay on behalf of an account, when the executor can top up on this protocol. */
  topUp?: TopUpCapability<Market>;
}

/** A protocol with its top-up capability, and the market a watch names. */
export type TopUpProtocol = { adapter: ProtocolAdapter<unknown>; capability: TopUpCapability<unknown>; ref: MarketRef };
