import { parseAbi, parseUnits, type Address } from 'viem';
import type { LocalChain } from '../../tools/chain';
import { sendContractTx } from '../../tools/chain/actions';
import { fluidPosition, newFluidOwner, openFluidEthDebtPosition, openFluidNativePosition, openFluidPosition, setFluidEthDebtPrice, setFluidNativePrice, setFluidPrice, type LocalFluid } from '../../tools/chain/fluid';

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
    /** The ETH/USDC vault (native ETH collateral at Fluid's NATIVE_TOKEN address). */
    'POST /fluid/native/market': async () => ({ vault: local.native.vault, collateral: local.native.collateral.asset, debt: local.native.debt.asset }),
    /** Opens one position in the ETH/USDC vault for a new owner: { collateralEth, borrowUsdc }; answers the owner and the NFT id (decimal). */
    'POST /fluid/native/open': async (body) => {
      const owner = await newFluidOwner(chain.clients);
      const nftId = await openFluidNativePosition(chain.clients, local, { owner, eth: String(body.collateralEth ?? '1'), borrowUsdc: String(body.borrowUsdc ?? '1000') });
      return { owner, nftId: nftId.toString() };
    },
    /** USDC per ETH on the ETH/USDC vault's oracle. */
    'POST /fluid/native/price': async (body) => {
      await setFluidNativePrice(chain.clients, local, String(body.price));
      await chain.actions.mine(1);
      return { ok: true };
    },
    /** The vault's own view of a position (its resolver): supply and borrow in base units, and its health factor (WAD) from them. */
    'POST /fluid/native/position': async (body) => {
      const position = await fluidPosition(chain.clients, { ...local, vault: local.native.vault }, BigInt(String(body.nftId)));
      const healthFactor = (position.supply * position.oraclePriceLiquidate * BigInt(position.liquidationThreshold) * 10n ** 18n) / (10n ** 27n * 10_000n * position.borrow);
      return { supply: position.supply.toString(), borrow: position.borrow.toString(), healthFactor: healthFactor.toString() };
    },
    /** Sets an address's native ETH balance (wei, decimal); answers the one it had. */
    'POST /fluid/native/eth': async (body) => {
      const address = body.address as Address;
      const had = await chain.publicClient.getBalance({ address });
      await chain.clients.testClient.setBalance({ address, value: BigInt(String(body.wei)) });
      return { had: had.toString() };
    },
    /** The WETH/ETH vault (native ETH debt at Fluid's NATIVE_TOKEN address). */
    'POST /fluid/eth-debt/market': async () => ({ vault: local.ethDebt.vault, collateral: local.ethDebt.collateral.asset, debt: local.ethDebt.debt.asset }),
    /** Opens one position in the WETH/ETH vault for a new owner: { collateralWeth, borrowEth }; answers the owner and the NFT id (decimal). */
    'POST /fluid/eth-debt/open': async (body) => {
      const owner = await newFluidOwner(chain.clients);
      const nftId = await openFluidEthDebtPosition(chain.clients, local, { owner, weth: String(body.collateralWeth ?? '1'), borrowEth: String(body.borrowEth ?? '0.5') });
      return { owner, nftId: nftId.toString() };
    },
    /** ETH per WETH on the WETH/ETH vault's oracle. */
    'POST /fluid/eth-debt/price': async (body) => {
      await setFluidEthDebtPrice(chain.clients, local, String(body.price));
      await chain.actions.mine(1);
      return { ok: true };
    },
    /** The WETH/ETH vault's own view of a position (its resolver): supply and borrow in wei. */
    'POST /fluid/eth-debt/position': async (body) => {
      const position = await fluidPosition(chain.clients, { ...local, vault: local.ethDebt.vault }, BigInt(String(body.nftId)));
      return { supply: position.supply.toString(), borrow: position.borrow.toString() };
    },
    /** USDC per WETH. */
    'POST /fluid/price': async (body) => {
      await setFluidPrice(chain.clients, local, String(body.price));
      await chain.actions.mine(1);
      return { ok: true };
    },
  };
}
