import type { Address, Hex, PublicClient } from 'viem';
import type { PositionSnapshot } from '../domain/position';

/* What every adapter's reads take and give: the chain to read, the pinned block, a market's name, one account's read. */

export type ReadContext = { client: PublicClient; chainId: number; multicall3: Address };

/** The block every read of one tick is pinned to, so all accounts are seen in one state. */
export type PinnedBlock = { number: bigint; timestamp: bigint };

/** One account's read: its normalized snapshot, or why it failed (one account never fails its batch). */
export type AccountRead = { account: Address; snapshot: PositionSnapshot } | { account: Address; error: string };

/**
 * What names a market: an address (Aave Pool, Comet proxy) or an id (Morpho Blue's market id,
 * 32 bytes), and for protocols whose markets live inside one contract, that contract.
 */
export type MarketRef = { market: Hex; protocolAddress: Address | null };
