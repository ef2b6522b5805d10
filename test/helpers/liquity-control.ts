import { parseAbi, parseUnits, type Address } from 'viem';
import type { LocalChain } from '../../tools/chain';
import { sendContractTx } from '../../tools/chain/actions';
import { openTrove, setLiquityPrice, type LocalLiquity } from '../../tools/chain/liquity-v2';

/* Control routes for tests inside workerd that use the Liquity v2 branches the global setup deployed. */

type Route = (body: Record<string, unknown>) => Promise<unknown>;

const controlAbi = parseAbi([
  'function mint(address _to, uint256 _amount)',
  'function transfer(address to, uint256 amount) returns (bool)',
  'function setAddManager(uint256 _troveId, address _manager)',
]);

export function liquityControlRoutes(chain: LocalChain, local: LocalLiquity): Record<string, Route> {
  const branch = local.branches.WETH;
  return {
    'POST /liquity/market': async () => ({ troveManager: branch.troveManager, collateral: branch.collToken, bold: local.bold, borrowerOperations: branch.borrowerOperations }),
    /** A trove on the WETH branch (of `owner` when given, else of a fresh borrower); its id as the API takes it (0x + 64 hex). */
    'POST /liquity/open': async (body) => {
      const owner = typeof body.owner === 'string' ? { owner: body.owner as Address } : {};
      const trove = await openTrove(chain.clients, local, { branch: 'WETH', collateral: String(body.collateral ?? '2'), debt: String(body.debt ?? '2500'), ...owner });
      return { owner: trove.owner, troveId: `0x${trove.troveId.toString(16).padStart(64, '0')}`, decimal: trove.troveId.toString() };
    },
    'POST /liquity/price': async (body) => {
      await setLiquityPrice(chain.clients, local, 'WETH', String(body.price));
      await chain.actions.mine(1);
      return { ok: true };
    },
    /** WETH (minted) or BOLD (from the admin's large trove: BOLD is only minted by borrowing) for an address such as the executor wallet. */
    'POST /liquity/fund': async (body) => {
      const amount = parseUnits(String(body.amount), 18);
      if (body.symbol === 'BOLD') await sendContractTx(chain.clients, local.admin, { address: local.bold, abi: controlAbi, functionName: 'transfer', args: [body.to as Address, amount] });
      else await sendContractTx(chain.clients, local.admin, { address: local.weth, abi: controlAbi, functionName: 'mint', args: [body.to as Address, amount] });
      return { ok: true };
    },
    /** The trove's owner names an add-manager (BorrowerOperations.setAddManager). */
    'POST /liquity/add-manager': async (body) => {
      const owner = body.owner as Address;
      await chain.clients.testClient.impersonateAccount({ address: owner });
      await sendContractTx(chain.clients, owner, { address: branch.borrowerOperations, abi: controlAbi, functionName: 'setAddManager', args: [BigInt(String(body.troveId)), body.manager as Address] });
      return { ok: true };
    },
  };
}
