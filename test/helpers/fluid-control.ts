import { parseAbi, parseUnits, type Address } from 'viem';
import type { LocalChain } from '../../tools/chain';
import { sendContractTx } from '../../tools/chain/actions';
import { newFluidOwner, openFluidPosition, setFluidPrice, type LocalFluid } from '../../tools/chain/fluid';

const transferAbi = parseAbi(['function transfer(address to, uint256 amount) returns (bool)']);

/* Control routes for tests inside workerd that use the Fluid WETH/USDC vault the global setup deployed. */

type Route = (body: Record<string, unknown>) => Promise<unknown>;

export function fluidControlRoutes(chain: LocalChain, local: LocalFluid): Record<string, Route> {
  return {
    'POST /fluid/market': async () => ({ vault: local.vault, collateral: local.collateral.asset, debt: local.debt.asset }),
    /** Opens positions for one new owner: `positions` = [{ collateralWeth, borrowUsdc }]; answers the owner and each NFT id (decimal). */
    'POST /fluid/open': async (body) => {
      const owner = await newFluidOwner(chain.clients);
      const positions = (body.positions as Array<{ collateralWeth: string; borrowUsdc: string }> | undefined) ?? [{ collateralWeth: '1', borrowUsdc: '1000' }];
      const nftIds: string[] = [];
      for (const position of positions) nftIds.push((await openFluidPosition(chain.clients, local, { owner, weth: position.collateralWeth, borrowUsdc: position.borrowUsdc })).toString());
      return { owner, nftIds };
    },
    /** The vault's WETH or USDC for an address such as the executor wallet, from the admin (who minted the supply). */
    'POST /fluid/fund': async (body) => {
      const token = body.symbol === 'WETH' ? local.collateral : local.debt;
      await sendContractTx(chain.clients, local.admin, { address: token.asset, abi: transferAbi, functionName: 'transfer', args: [body.to as Address, parseUnits(String(body.amount), token.decimals)] });
      return { ok: true };
    },
    /** USDC per WETH. */
    'POST /fluid/price': async (body) => {
      await setFluidPrice(chain.clients, local, String(body.price));
      await chain.actions.mine(1);
      return { ok: true };
    },
  };
}
