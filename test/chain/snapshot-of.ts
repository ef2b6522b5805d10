import type { Address } from 'viem';
import type { PositionSnapshot } from '../../src/domain/position';
import type { AccountRead } from '../../src/protocols/read-types';

/** The snapshot read for one account, or a failure naming why there is none. */
export function snapshotOf(reads: readonly AccountRead[], account: Address): PositionSnapshot {
  const found = reads.find((entry) => entry.account === account);
  if (!found || !('snapshot' in found)) throw new Error(`no snapshot for ${account}: ${found && 'error' in found ? found.error : 'missing'}`);
  return found.snapshot;
}
