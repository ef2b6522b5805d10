import { describe, expect, it } from 'vitest';
import { decodeFunctionData, type Address, type Hex } from 'viem';
import { fluidTopUp } from '../../src/protocols/fluid/topup';
import { vaultOperateAbi } from '../../src/protocols/fluid/abi';
import { NATIVE_TOKEN, type FluidMarket } from '../../src/protocols/fluid/normalize';
import { NATIVE_ASSET, isNativeAsset } from '../../src/protocols/topup-capability';
import { stepCallOf, stepOf, storedStepsOf, totalValue } from '../../src/topup/records';
import { insufficientGasMessage } from '../../src/topup/messages';
import type { ReadContext } from '../../src/protocols/read-types';
import type { Step } from '../../src/topup/chain';

/* A top-up step's native value (a native-ETH asset sent as the transaction's value), pure: the Fluid call that carries it, its storage, the wallet message. */

const USDC: Address = '0x00000000000000000000000000000000000000e2';
const VAULT: Address = '0x00000000000000000000000000000000000000bb';
const ETH = { asset: NATIVE_TOKEN, symbol: 'ETH', decimals: 18 };
const vault = (collateral: Address, debt: Address): FluidMarket => ({
  chainId: 1,
  vault: VAULT,
  vaultId: 11n,
  factory: '0x00000000000000000000000000000000000000cc',
  resolver: '0x00000000000000000000000000000000000000dd',
  collateral: { asset: collateral, symbol: collateral === NATIVE_TOKEN ? 'ETH' : 'WETH', decimals: 18 },
  debt: { asset: debt, symbol: debt === NATIVE_TOKEN ? 'ETH' : 'USDC', decimals: debt === NATIVE_TOKEN ? 18 : 6 },
  liquidationPenaltyBps: 100n,
});
// checkAsset answers these cases from the market alone.
const noChain = {} as ReadContext;
const DATA = '0x1234' as Hex;

describe('native value in top-up steps', () => {
  it('Fluid\'s NATIVE_TOKEN is the generic native stand-in (ERC-7528), in any letter case', () => {
    expect(isNativeAsset(NATIVE_TOKEN)).toBe(true);
    expect(isNativeAsset(NATIVE_ASSET.toLowerCase())).toBe(true);
    expect(isNativeAsset(USDC)).toBe(false);
  });

  it('a Fluid supply of native-ETH collateral is operate(nft, +amount, 0, 0x0) with exactly the amount as value; an ERC-20 supply has no value', () => {
    const state = { collateralParams: undefined, repayable: 0n, positionId: 7n };
    const native = fluidTopUp.buildAction(vault(NATIVE_TOKEN, USDC), { mode: 'supply', asset: ETH, amount: 35n * 10n ** 16n, account: '0x00000000000000000000000000000000000000aa', state });
    expect(native).toMatchObject({ kind: 'supply', to: VAULT, value: 35n * 10n ** 16n, summary: `operate(nft 0x${'7'.padStart(64, '0')}, +0.35 ETH collateral, 0 debt)` });
    expect(decodeFunctionData({ abi: vaultOperateAbi, data: native.data }).args).toEqual([7n, 35n * 10n ** 16n, 0n, '0x0000000000000000000000000000000000000000']);
    const erc20 = fluidTopUp.buildAction(vault('0x00000000000000000000000000000000000000e1', USDC), { mode: 'supply', asset: { ...ETH, asset: '0x00000000000000000000000000000000000000e1', symbol: 'WETH' }, amount: 1n, account: '0x00000000000000000000000000000000000000aa', state });
    expect(erc20.value).toBeUndefined();
  });

  it('Fluid takes native ETH as the asset of either side: collateral for supply, debt for repay', async () => {
    await expect(fluidTopUp.checkAsset(noChain, vault(NATIVE_TOKEN, USDC), 'supply', NATIVE_TOKEN)).resolves.toEqual(ETH);
    await expect(fluidTopUp.checkAsset(noChain, vault('0x00000000000000000000000000000000000000e1', NATIVE_TOKEN), 'repay', NATIVE_TOKEN)).resolves.toEqual(ETH);
  });

  it('a Fluid payback of a native-ETH debt sends the amount as the transaction\'s value; an ERC-20 payback sends none', () => {
    const state = { collateralParams: undefined, repayable: 10n ** 18n, positionId: 7n };
    const native = fluidTopUp.buildAction(vault('0x00000000000000000000000000000000000000e1', NATIVE_TOKEN), { mode: 'repay', asset: ETH, amount: 10n ** 17n, account: '0x00000000000000000000000000000000000000aa', state });
    expect(native).toMatchObject({ kind: 'repay', to: VAULT, value: 10n ** 17n });
    expect(decodeFunctionData({ abi: vaultOperateAbi, data: native.data }).args).toEqual([7n, 0n, -(10n ** 17n), '0x0000000000000000000000000000000000000000']);
    const erc20 = fluidTopUp.buildAction(vault(NATIVE_TOKEN, USDC), { mode: 'repay', asset: { asset: USDC, symbol: 'USDC', decimals: 6 }, amount: 10n ** 6n, account: '0x00000000000000000000000000000000000000aa', state });
    expect(erc20.value).toBeUndefined();
  });

  it('a step\'s value is stored as a decimal string (absent when none) and read back as the bigint the transaction sends; totals add the values', () => {
    const steps: Step[] = [
      { kind: 'approve', to: USDC, data: DATA },
      { kind: 'supply', to: VAULT, data: DATA, value: 10n ** 18n + 1n },
    ];
    const stored = JSON.parse(JSON.stringify(storedStepsOf(steps, [50_000n, null]))) as ReturnType<typeof storedStepsOf>;
    expect(stored).toEqual([
      { kind: 'approve', to: USDC, data: DATA, gas: '50000' },
      { kind: 'supply', to: VAULT, data: DATA, value: '1000000000000000001', gas: null },
    ]);
    expect(stored.map(stepCallOf)).toEqual([
      { to: USDC, data: DATA },
      { to: VAULT, data: DATA, value: 10n ** 18n + 1n },
    ]);
    expect(stepOf({ steps: JSON.stringify(stored) }, { step_index: 1 }).value).toBe(10n ** 18n + 1n);
    expect(totalValue(steps)).toBe(10n ** 18n + 1n);
    expect(totalValue([{ value: undefined }])).toBe(0n);
  });

  it('the wallet message names the value and the gas when the top-up sends native coin, and only the gas otherwise', () => {
    expect(insufficientGasMessage(3n * 10n ** 17n, 10n ** 15n, 3n * 10n ** 17n)).toBe(
      "the executor wallet has 0.3 of the native token, less than the 0.3 the top-up sends as the transaction's value plus up to 0.001 for gas (0.301 in all); send it some or lower maxAmountPerAction (the amount is not shrunk to leave gas)",
    );
    expect(insufficientGasMessage(10n ** 17n, null, 3n * 10n ** 17n)).toContain("less than the 0.3 the top-up sends as the transaction's value plus gas;");
    expect(insufficientGasMessage(10n ** 14n, 10n ** 15n)).toBe('the executor wallet has 0.0001 of the native token, less than the 0.001 the transactions may cost in gas; send it some');
  });
});
