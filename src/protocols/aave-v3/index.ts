import type { Address, PublicClient } from 'viem';
import { loadMarketMeta, pinBlock, readAccountAssets, readAccountSummaries, type AccountRead, type PinnedBlock } from './read';

export { AAVE_V3 } from './normalize';
export { loadMarketMeta, pinBlock, readAccountAssets, readAccountSummaries } from './read';
export type { AccountRead, MarketMeta, PinnedBlock } from './read';

export type ReadPositionsInput = {
  client: PublicClient;
  chainId: number;
  multicall3: Address;
  market: Address;
  accounts: readonly Address[];
  batchSize: number;
  /** The block the previous tick saw: a node behind it is refused as stale. */
  minBlockNumber?: bigint;
  /** Accounts whose per-asset breakdown is read too (those near or past a threshold). */
  detailFor?: readonly Address[];
};

export type ReadPositionsResult = { block: PinnedBlock; reads: AccountRead[] };

/**
 * One tick's read of one Aave v3 market (or fork): pin a block, read every account in
 * ⌈accounts / batchSize⌉ multicalls, and attach the asset breakdown where asked.
 */
export async function readPositions(input: ReadPositionsInput): Promise<ReadPositionsResult> {
  const context = { client: input.client, chainId: input.chainId, multicall3: input.multicall3 };
  const meta = await loadMarketMeta(context, input.market);
  const block = await pinBlock(input.client, input.minBlockNumber);
  const reads = await readAccountSummaries(context, meta, input.accounts, block, input.batchSize);
  if (input.detailFor && input.detailFor.length > 0) {
    const details = await readAccountAssets(context, meta, input.detailFor, block, input.batchSize);
    for (const read of reads) {
      if ('snapshot' in read) {
        const assets = details.get(read.account);
        if (assets) read.snapshot.assets = assets;
      }
    }
  }
  return { block, reads };
}
