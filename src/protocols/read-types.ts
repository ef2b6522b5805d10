import type { Address, Hex, PublicClient } from 'viem';
import type { PositionSnapshot } from '../domain/position';
import type { ProtocolContracts } from '../config/env';

/* What every adapter's reads take and give: the chain to read, the pinned block, a market's name, one account's read. */

/** `protocolContracts`: the operator's PROTOCOL_CONTRACTS for this chain, for protocols whose market needs contracts beside the one a watch names (Maker: Spot, Jug, Dog). */
export type ReadContext = { client: PublicClient; chainId: number; multicall3: Address; protocolContracts?: ProtocolContracts };

/** The block every read of one tick is pinned to, so all accounts are seen in one state. */
export type PinnedBlock = { number: bigint; timestamp: bigint };

/** One account's read: its normalized snapshot, or why it failed (one account never fails its batch). */
export type AccountRead = { account: Address; snapshot: PositionSnapshot } | { account: Address; error: string };

/**
 * What names a market: an address (Aave Pool, Comet proxy) or an id (Morpho Blue's market id,
 * 32 bytes), and for protocols whose markets live inside one contract, that contract.
 */
export type MarketRef = { market: Hex; protocolAddress: Address | null };

/**
 * One asset's oracle price at a block, as the market's own oracle gives it: per whole token, in
 * `priceDecimals` decimals of the market's quote (USD for Aave and Comet, the loan token for Morpho).
 */
export type MarketPrice = {
  asset: Address;
  symbol: string;
  /** Undefined when the oracle does not know (a zero or failed answer). */
  price: bigint | undefined;
  /** The Chainlink-style aggregator behind the price, whose round history can seed volatility; null when none is known. */
  feed: Address | null;
};

/** Every asset price of one market at one block. `quoteIsUsd`: prices are US dollars (or a dollar stablecoin counted at $1); `flat` assets are the quote itself (Morpho's loan token). */
export type MarketPrices = { priceDecimals: number; quoteIsUsd: boolean; prices: MarketPrice[]; flat: Address[] };

/** A token as the adapters describe it: its address, symbol and decimals. */
export type TokenInfo = { asset: Address; symbol: string; decimals: number };
