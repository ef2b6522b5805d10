import { decodeFunctionData, encodeFunctionData, formatUnits, type Address, type Hex } from 'viem';
import { AppError } from '../../lib/errors';
import { invalidTopUpAsset, sameAddress, stablecoinUsdUnit, tokenValueUnit, type ActionCall, type AssetFacts, type TopUpCapability } from '../topup-capability';
import { vaultOperateAbi } from './abi';
import { FLUID_VAULT_FACTORIES } from './deployments';
import { NATIVE_TOKEN, fluidAccountOf, nftIdText, type FluidMarket } from './normalize';
import { readFluidAccounts } from './read';

/*
 * Fluid T1 top-ups: the vault's `operate(nftId, +amount, 0, 0x0)` adds collateral and
 * `operate(nftId, 0, −amount, 0x0)` pays back debt. The vault checks ownership only for a
 * withdrawal or a borrow ("anyone can deposit collateral in any position", "anyone can payback
 * debt of any position": it then checks the position's ratio only improves), so acting for
 * another's position needs no permission. The vault pulls the tokens through the Liquidity
 * layer's callback, from an approval to the vault. A watch on an owner tops up its riskiest
 * position in the vault.
 *
 * A native-ETH side (NATIVE_TOKEN) is paid as the transaction's value instead, with no approval:
 * the vault wants msg.value equal to a deposit (else Vault__InvalidMsgValueOperate), and takes a
 * payback from msg.value, refunding any excess to the sender; the value sent is the amount.
 * Values in a borrow token that is no dollar (native ETH on a WETH/ETH vault) reach the owner's
 * USD budget through the owner's feed for it (USD_PRICE_FEEDS).
 */

/** Fluid's own error ids (contracts/protocols/vault/errorTypes.sol) a deposit or payback can hit. */
const VAULT_ERRORS: Record<string, string> = {
  '31001': 'Vault__AlreadyEntered: the vault was re-entered',
  '31002': 'Vault__InvalidOperateAmount: nothing to do',
  '31003': 'Vault__InvalidMsgValueOperate: ETH sent does not match the amount',
  '31011': 'Vault__NftNotOfThisVault: the position belongs to another vault',
  '31015': 'Vault__ExcessDebtPayback: the payback is more than the position owes',
  '31028': 'Vault__InvalidPaybackOrDeposit: after rounding, the position would not be safer',
};

function describeFluid(data: Hex, input: { mode: ActionCall['kind']; asset: AssetFacts; account: Address }): Omit<ActionCall, 'to' | 'data'> {
  const [nftId, newCol, newDebt] = decodeFunctionData({ abi: vaultOperateAbi, data }).args as readonly [bigint, bigint, bigint, Address];
  const amount = newCol > 0n ? newCol : -newDebt;
  const human = `${formatUnits(amount, input.asset.decimals)} ${input.asset.symbol}`;
  const nft = nftIdText(nftId);
  return newCol > 0n
    ? { kind: 'supply', summary: `operate(nft ${nft}, +${human} collateral, 0 debt)`, args: { nftId: nft, newCol: newCol.toString(), newDebt: '0' } }
    : { kind: 'repay', summary: `operate(nft ${nft}, 0 collateral, −${human} debt: payback)`, args: { nftId: nft, newCol: '0', newDebt: newDebt.toString() } };
}

export const fluidTopUp: TopUpCapability<FluidMarket> = {
  async checkAsset(_context, market, mode, asset) {
    const wanted = mode === 'supply' ? market.collateral : market.debt;
    if (!sameAddress(asset, wanted.asset)) {
      throw invalidTopUpAsset(mode === 'supply' ? `this vault's only collateral is ${market.collateral.symbol} ${market.collateral.asset}` : `this vault's debt is in ${market.debt.symbol} ${market.debt.asset} only`);
    }
    return { asset: wanted.asset, symbol: wanted.symbol, decimals: wanted.decimals };
  },

  spender: (market) => market.vault,

  async readAssetState(context, market, input) {
    const block = await context.client.getBlock({ blockNumber: input.blockNumber });
    const [read] = await readFluidAccounts(context, market, [input.account], { number: block.number, timestamp: block.timestamp }, 1);
    if (!read || !('snapshot' in read)) throw new AppError('read_failed', `could not read Fluid position ${input.account}: ${read && 'error' in read ? read.error : 'no answer'}`, { status: 502 });
    const nftId = read.snapshot.protocolFields?.nftId;
    const supply = sameAddress(input.asset.asset, market.collateral.asset);
    const collateral = read.snapshot.assets?.find((asset) => asset.collateral > 0n);
    const debt = read.snapshot.assets?.find((asset) => asset.debt > 0n)?.debt ?? 0n;
    return {
      collateralParams: {
        asset: input.asset.asset,
        symbol: input.asset.symbol,
        decimals: input.asset.decimals,
        // In borrow-token units per whole token, at the liquidation price; the borrow token at par.
        price: supply ? collateral?.price : 10n ** BigInt(market.debt.decimals),
        liquidationThresholdBps: supply ? (collateral?.liquidationThresholdBps ?? 0n) : 0n,
      },
      // The vault rounds a payback up by one raw unit and refuses one above the debt (Vault__ExcessDebtPayback): one unit is left.
      repayable: supply || debt === 0n ? 0n : debt - 1n,
      // Values are in borrow-token units: a borrow token that is no dollar (native ETH: NATIVE_TOKEN) needs the owner's USD feed for it.
      ...tokenValueUnit(market.debt),
      ...(typeof nftId === 'string' ? { positionId: BigInt(nftId) } : {}),
    };
  },

  buildAction(market, input) {
    const ref = fluidAccountOf(input.account);
    const nftId = input.state.positionId ?? (ref.kind === 'nft' ? ref.nftId : undefined);
    if (nftId === undefined) throw new AppError('read_failed', `no Fluid position was resolved for ${input.account}`, { status: 502 });
    const zero: Address = '0x0000000000000000000000000000000000000000';
    const data =
      input.mode === 'supply'
        ? encodeFunctionData({ abi: vaultOperateAbi, functionName: 'operate', args: [nftId, input.amount, 0n, zero] })
        : encodeFunctionData({ abi: vaultOperateAbi, functionName: 'operate', args: [nftId, 0n, -input.amount, zero] });
    // The vault takes a native-ETH deposit or payback as msg.value: exactly the amount.
    const native = sameAddress(input.mode === 'supply' ? market.collateral.asset : market.debt.asset, NATIVE_TOKEN);
    return { to: market.vault, data, ...describeFluid(data, input), ...(native ? { value: input.amount } : {}) };
  },

  describeAction: describeFluid,

  /** Values are in the borrow token: USD only when it is a dollar stablecoin (counted at $1). */
  usdUnit: (market) => stablecoinUsdUnit(market.debt),

  /**
   * Fluid's own vault: its factory is the chain's canonical VaultFactory, which lists it under its id
   * (checked on chain when the market loads). That factory deploys only for deployers Fluid's governance
   * allows, so being listed is Fluid's word, unlike a permissionless factory.
   */
  async trustedPreset(context, market) {
    const factory = FLUID_VAULT_FACTORIES[context.chainId];
    return factory && sameAddress(factory, market.factory) ? `Fluid vault ${market.vaultId}` : null;
  },

  describeRevert: (reason) => {
    const id = /^FluidVaultError\((\d+)\)$/.exec(reason)?.[1];
    return id && VAULT_ERRORS[id] ? `${VAULT_ERRORS[id]} (Fluid error ${id})` : reason;
  },

  errorAbi: vaultOperateAbi,
};
