import type { LocalChain } from '../../tools/chain';
import { parseUnits, type Address } from 'viem';
import { mintEuler, newEulerOwner, openEulerPosition, setEulerPrice, type EulerSymbol, type LocalEuler } from '../../tools/chain/euler-v2';

/* Control routes for tests inside workerd that use the Euler v2 vaults the global setup deployed. */

type Route = (body: Record<string, unknown>) => Promise<unknown>;

export function eulerControlRoutes(chain: LocalChain, local: LocalEuler): Record<string, Route> {
  return {
    'POST /euler/market': async () => ({ vault: local.borrowVault.vault, asset: local.borrowVault.asset, collaterals: local.collaterals }),
    /** Borrows from sub-accounts of one new owner: `positions` = [{ index, collateralWeth, borrowUsds }]. */
    'POST /euler/open': async (body) => {
      const owner = await newEulerOwner(chain.clients);
      const positions = (body.positions as Array<{ index: number; collateralWeth: string; borrowUsds: string }> | undefined) ?? [{ index: 0, collateralWeth: '1', borrowUsds: '1000' }];
      const subAccounts: string[] = [];
      for (const position of positions) {
        subAccounts.push(await openEulerPosition(chain.clients, local, { owner, index: position.index, collateral: 'WETH', collateralAmount: position.collateralWeth, borrowUsds: position.borrowUsds }));
      }
      return { owner, subAccounts };
    },
    /** A vault's underlying token (USDS, WETH, wstETH: all 18 decimals) minted to an address such as the executor wallet. */
    'POST /euler/mint': async (body) => {
      await mintEuler(chain.clients, local, body.symbol as EulerSymbol, body.to as Address, parseUnits(String(body.amount), 18));
      return { ok: true };
    },
    'POST /euler/price': async (body) => {
      await setEulerPrice(chain.clients, local, (body.symbol as EulerSymbol | undefined) ?? 'WETH', String(body.price));
      await chain.actions.mine(1);
      return { ok: true };
    },
  };
}
