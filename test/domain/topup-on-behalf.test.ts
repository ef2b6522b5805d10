import { describe, expect, it } from 'vitest';
import { getAddress, type Address } from 'viem';
import { mayAddToTrove } from '../../src/protocols/liquity-v2/add-manager';
import { fluidTopUp } from '../../src/protocols/fluid/topup';
import { NATIVE_TOKEN, type FluidMarket } from '../../src/protocols/fluid/normalize';
import { liquityTopUp } from '../../src/protocols/liquity-v2/topup';
import { revertReason } from '../../src/topup/chain';
import { encodeErrorResult } from 'viem';
import { borrowerOperationsErrorsAbi } from '../../src/protocols/liquity-v2/abi';
import { vaultOperateAbi } from '../../src/protocols/fluid/abi';
import type { ReadContext } from '../../src/protocols/read-types';
import type { LiquityMarket } from '../../src/protocols/liquity-v2/normalize';
import { eulerTopUp } from '../../src/protocols/euler-v2/topup';
import type { EulerMarket } from '../../src/protocols/euler-v2/normalize';

/* The on-behalf rules the top-up capabilities apply before the chain would, and revert naming. */

const ZERO: Address = '0x0000000000000000000000000000000000000000';
const OWNER = getAddress('0x00000000000000000000000000000000000000a1');
const EXECUTOR = getAddress('0x00000000000000000000000000000000000000b2');
const OTHER = getAddress('0x00000000000000000000000000000000000000c3');

describe('Liquity add-manager rule (AddRemoveManagers._requireSenderIsOwnerOrAddManager)', () => {
  it('anyone may add to a trove whose owner named no add-manager', () => {
    expect(mayAddToTrove(EXECUTOR, { owner: OWNER, addManager: ZERO, removeManager: ZERO })).toBe(true);
  });
  it('once an add-manager is named, only the owner, that manager and the remove-manager may', () => {
    expect(mayAddToTrove(EXECUTOR, { owner: OWNER, addManager: OTHER, removeManager: ZERO })).toBe(false);
    expect(mayAddToTrove(OWNER, { owner: OWNER, addManager: OTHER, removeManager: ZERO })).toBe(true);
    expect(mayAddToTrove(EXECUTOR, { owner: OWNER, addManager: EXECUTOR, removeManager: ZERO })).toBe(true);
    expect(mayAddToTrove(EXECUTOR, { owner: OWNER, addManager: OTHER, removeManager: EXECUTOR })).toBe(true);
  });
});

describe('Fluid checkAsset', () => {
  const token = (asset: Address, symbol: string, decimals: number) => ({ asset, symbol, decimals });
  const market = (collateral: Address, debt: Address): FluidMarket => ({
    chainId: 1, vault: OTHER, vaultId: 1n, factory: OTHER, resolver: OTHER, collateral: token(collateral, 'C', 18), debt: token(debt, 'D', 6), liquidationPenaltyBps: 100n,
  });
  const context = {} as ReadContext; // checkAsset reads nothing for Fluid: the market's facts decide

  it('a native-ETH side is taken for its mode (collateral for supply, debt for repay); the other side is refused at topUp.asset', async () => {
    await expect(fluidTopUp.checkAsset(context, market(NATIVE_TOKEN, EXECUTOR), 'supply', NATIVE_TOKEN)).resolves.toMatchObject({ asset: NATIVE_TOKEN });
    await expect(fluidTopUp.checkAsset(context, market(EXECUTOR, NATIVE_TOKEN), 'repay', NATIVE_TOKEN)).resolves.toMatchObject({ asset: NATIVE_TOKEN });
    await expect(fluidTopUp.checkAsset(context, market(EXECUTOR, NATIVE_TOKEN), 'supply', NATIVE_TOKEN)).rejects.toMatchObject({ status: 400, issues: [{ path: 'topUp.asset' }] });
  });
  it('an ERC-20 side is taken with its decimals', async () => {
    await expect(fluidTopUp.checkAsset(context, market(EXECUTOR, OWNER), 'repay', OWNER)).resolves.toEqual({ asset: OWNER, symbol: 'D', decimals: 6 });
  });
});

describe('revertReason with a protocol error ABI', () => {
  it('names a Liquity custom error and puts it in words', () => {
    const data = encodeErrorResult({ abi: borrowerOperationsErrorsAbi, errorName: 'NotOwnerNorAddManager' });
    expect(revertReason({ data }, liquityTopUp)).toMatch(/^NotOwnerNorAddManager: the trove's owner named an add-manager/);
  });
  it('keeps the arguments of an error that has them and describes Fluid\'s error ids', () => {
    const data = encodeErrorResult({ abi: vaultOperateAbi, errorName: 'FluidVaultError', args: [31028n] });
    expect(revertReason({ data }, fluidTopUp)).toBe('Vault__InvalidPaybackOrDeposit: after rounding, the position would not be safer (Fluid error 31028)');
  });
});

describe('built-in trust of the Liquity v2 and Euler v2 presets', () => {
  const onChain = (chainId: number) => ({ chainId }) as ReadContext;
  it('a Liquity branch is trusted when its TroveManager is a built-in branch of that chain, and only then', async () => {
    const weth = { troveManager: getAddress('0x7bcb64B2c9206a5B699eD43363f6F98D4776Cf5A') } as LiquityMarket;
    expect(await liquityTopUp.trustedPreset(onChain(1), weth)).toBe('Liquity v2 WETH branch');
    expect(await liquityTopUp.trustedPreset(onChain(8453), weth)).toBeNull();
    expect(await liquityTopUp.trustedPreset(onChain(1), { troveManager: OTHER } as LiquityMarket)).toBeNull();
  });
  it('an Euler vault is trusted when it is a built-in vault of that chain, not for being one of the factory\'s', async () => {
    const primeUsdc = { vault: getAddress('0x797DD80692c3b2dAdabCe8e30C07fDE5307D48a9') } as EulerMarket;
    expect(await eulerTopUp.trustedPreset(onChain(1), primeUsdc)).toBe('Euler Prime USDC (eUSDC-2)');
    expect(await eulerTopUp.trustedPreset(onChain(42161), primeUsdc)).toBeNull();
    expect(await eulerTopUp.trustedPreset(onChain(1), { vault: OTHER } as EulerMarket)).toBeNull();
  });
});
