import { parseUnits, type Address } from 'viem';
import type { LocalChain } from '../../tools/chain';
import { deployLiquity, openTrove, redeemTroveDownTo, setLiquityPrice, setTroveInterestRate, shutdownBranch, type LiquityBranchSymbol, type LocalLiquity } from '../../tools/chain/liquity-v2';

/*
 * Control routes for the Liquity v2 branch-danger tests: a Liquity deployment of their own (both
 * branches, each with the deployer's large trove at 5 %), so that driving a branch under its CCR
 * and shutting it down for good leaves the deployment other test files use untouched.
 */

type Route = (body: Record<string, unknown>) => Promise<unknown>;

export function liquityBranchControlRoutes(chain: LocalChain): Record<string, Route> {
  let deployment: Promise<LocalLiquity> | undefined;
  const local = () => (deployment ??= deployLiquity(chain.clients, chain.accounts[0]!));
  const branchOf = (body: Record<string, unknown>) => (body.branch === 'wstETH' ? 'wstETH' : 'WETH') as LiquityBranchSymbol;
  return {
    'POST /liquity-branches/deploy': async () => {
      const { branches } = await local();
      return { WETH: branches.WETH.troveManager, wstETH: branches.wstETH.troveManager };
    },
    'POST /liquity-branches/open': async (body) => {
      const trove = await openTrove(chain.clients, await local(), { branch: branchOf(body), collateral: String(body.collateral), debt: String(body.debt), interestRate: String(body.interestRate) });
      return { owner: trove.owner, troveId: `0x${trove.troveId.toString(16).padStart(64, '0')}` };
    },
    'POST /liquity-branches/price': async (body) => {
      await setLiquityPrice(chain.clients, await local(), branchOf(body), String(body.price));
      await chain.actions.mine(1);
      return { ok: true };
    },
    'POST /liquity-branches/rate': async (body) => {
      await setTroveInterestRate(chain.clients, await local(), { branch: branchOf(body), troveId: BigInt(String(body.troveId)), owner: body.owner as Address, interestRate: String(body.interestRate) });
      return { ok: true };
    },
    /** A real redemption leaving `leave` BOLD on the branch's first trove in line (`troveId`): under the minimum debt, it becomes the last zombie. */
    'POST /liquity-branches/redeem': async (body) => {
      await redeemTroveDownTo(chain.clients, await local(), { branch: branchOf(body), troveId: BigInt(String(body.troveId)), leave: parseUnits(String(body.leave), 18) });
      await chain.actions.mine(1);
      return { ok: true };
    },
    'POST /liquity-branches/shutdown': async (body) => {
      await shutdownBranch(chain.clients, await local(), branchOf(body));
      return { ok: true };
    },
  };
}
