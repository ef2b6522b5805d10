import { afterAll, afterEach, beforeAll, beforeEach } from 'vitest';
import type { Hex } from 'viem';
import { startLocalChain, type LocalChain } from '../../tools/chain';
import { deployFluid, type LocalFluid } from '../../tools/chain/fluid';

/**
 * One anvil with Fluid deployed for the test file that calls this at its top level, each test
 * starting from the same state (an anvil snapshot taken before it, reverted after it).
 */
export function withFluidChain(use: (chain: LocalChain, local: LocalFluid) => void): void {
  let chain: LocalChain | undefined;
  let snapshot: Hex;
  beforeAll(async () => {
    chain = await startLocalChain();
    use(chain, await deployFluid(chain.clients, chain.accounts[0]!));
  }, 180_000);
  beforeEach(async () => {
    snapshot = await chain!.testClient.snapshot();
  });
  afterEach(async () => {
    await chain!.testClient.revert({ id: snapshot });
  });
  afterAll(async () => {
    await chain?.stop();
  });
}
