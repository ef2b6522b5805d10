import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { encodeDeployData, encodeFunctionData, getAddress, keccak256, parseUnits, toFunctionSelector, toHex, type Abi, type AbiFunction, type Address, type Hex } from 'viem';
import { deployCode, sendContractTx, type LocalClients } from './actions';

/*
 * A real Fluid deployment on the local chain, from the compiled liquidity layer, vault factory,
 * T1 vault and resolvers in ../shared/protocols/fluid (unmodified): a WETH/USDC T1 vault (the
 * `market` a watch names) priced by Fluid's own MockOracle, and a USDC/WETH vault whose USDC
 * collateral is the liquidity the first one borrows (the liquidity layer only takes deposits
 * from contracts that answer its callback, so a vault is the simplest lender), and an ETH/USDC T1
 * vault whose collateral is native ETH (Fluid's NATIVE_TOKEN, paid as msg.value) with its own
 * MockOracle, borrowing from the same USDC; and a WETH/ETH T1 vault whose debt is native ETH
 * (paid back as msg.value), borrowing the ETH the admin supplies to the ETH/USDC vault.
 * Test-time only: the shared folder sits beside the clone on this machine and in CI.
 */

type Artifact = { abi: Abi; bytecode: Hex };
export const FLUID_ARTIFACTS_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'shared', 'protocols', 'fluid');

type CoreName =
  | 'FluidLiquidityProxy'
  | 'FluidLiquidityAdminModuleOthers'
  | 'FluidLiquidityUserModuleOthers'
  | 'FluidLiquidityResolver'
  | 'FluidVaultFactory'
  | 'FluidVaultT1DeploymentLogic'
  | 'FluidVaultT1Admin'
  | 'FluidVaultT1Secondary'
  | 'FluidVaultT1'
  | 'MockOracle'
  | 'TestERC20'
  | 'TestERC20Dec6';

let contracts: Record<string, Artifact> | undefined;
function artifact(name: CoreName | 'FluidVaultResolver'): Artifact {
  if (!contracts) {
    const read = (file: string) => (JSON.parse(readFileSync(resolve(FLUID_ARTIFACTS_DIR, file), 'utf8')) as { contracts: Record<string, Artifact> }).contracts;
    contracts = { ...read('artifacts-core.json'), ...read('artifacts-resolver.json') };
  }
  const found = contracts[name];
  if (!found) throw new Error(`${name} is missing from ${FLUID_ARTIFACTS_DIR}`);
  return found;
}

/** Every ABI of the deployment at once, so a revert anywhere decodes to Fluid's own error (FluidVaultError(id), FluidLiquidityError(id)). */
function combinedAbi(...names: (CoreName | 'FluidVaultResolver')[]): Abi {
  const seen = new Set<string>();
  return names.flatMap((name) => artifact(name).abi).filter((item) => {
    const key = JSON.stringify(item);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

export const fluidVaultAbi = combinedAbi('FluidVaultT1', 'FluidVaultT1Admin', 'FluidVaultT1Secondary', 'FluidLiquidityUserModuleOthers');
export const fluidResolverAbi = artifact('FluidVaultResolver').abi;

export type FluidToken = { symbol: string; asset: Address; decimals: number };
export type LocalFluid = {
  admin: Address;
  liquidity: Address;
  factory: Address;
  liquidityResolver: Address;
  /** FluidVaultResolver(factory, liquidityResolver): the protocol's own view of positions. */
  vaultResolver: Address;
  /** The WETH/USDC T1 vault: the `market` a watch names. */
  vault: Address;
  oracle: Address;
  collateral: FluidToken;
  debt: FluidToken;
  /** The ETH/USDC vault: native ETH collateral (NATIVE_TOKEN, sent as msg.value), USDC debt, its own oracle. */
  native: { vault: Address; oracle: Address; collateral: FluidToken; debt: FluidToken };
  /** The WETH/ETH vault: WETH collateral, native ETH debt (NATIVE_TOKEN, paid back as msg.value), its own oracle (ETH per WETH). */
  ethDebt: { vault: Address; oracle: Address; collateral: FluidToken; debt: FluidToken };
};

/** Fluid's stand-in address for native ETH as a vault token. */
export const FLUID_NATIVE_TOKEN: Address = '0xEeeeeEeeeEeEeeEeEeEeeEEEeeeeEeeeeeeeEEeE';

/** The WETH/USDC vault's risk settings, Fluid's units (basis points): close to Fluid's ETH/USDC vault. */
export const FLUID_SETTINGS = { collateralFactor: 8_000n, liquidationThreshold: 8_500n, liquidationMaxLimit: 9_000n, withdrawGap: 500n, liquidationPenalty: 100n, borrowFee: 0n } as const;

/** Fluid's oracle scale: debt per collateral × 1e27, both tokens' decimals included. */
const ORACLE_SCALE = 10n ** 27n;
const SUPPLY = 10n ** 30n;

/** Every external function of a module, as the liquidity proxy routes it. */
function selectors(name: CoreName): Hex[] {
  return artifact(name).abi.filter((item): item is AbiFunction => item.type === 'function').map((item) => toFunctionSelector(item));
}

export async function deployFluid(clients: LocalClients, admin: Address): Promise<LocalFluid> {
  const deploy = (name: CoreName | 'FluidVaultResolver', args: readonly unknown[]) => deployCode(clients, admin, encodeDeployData({ abi: artifact(name).abi, bytecode: artifact(name).bytecode, args } as never) as Hex, name);
  const abi = combinedAbi('FluidLiquidityProxy', 'FluidLiquidityAdminModuleOthers', 'FluidLiquidityUserModuleOthers', 'FluidVaultFactory', 'FluidVaultT1Admin', 'MockOracle', 'TestERC20');
  const send = (address: Address, functionName: string, args: readonly unknown[]) => sendContractTx(clients, admin, { address, abi, functionName, args } as never);

  const weth = await deploy('TestERC20', ['Wrapped Ether', 'WETH']);
  const usdc = await deploy('TestERC20Dec6', ['USD Coin', 'USDC']);
  // Borrow limits are capped at ten times a token's total supply: mint plenty first.
  for (const token of [weth, usdc]) await send(token, 'mint', [admin, SUPPLY]);

  const liquidity = await deploy('FluidLiquidityProxy', [admin, '0x0000000000000000000000000000000000000000']);
  const adminModule = await deploy('FluidLiquidityAdminModuleOthers', [SUPPLY]);
  const userModule = await deploy('FluidLiquidityUserModuleOthers', []);
  await send(liquidity, 'addImplementation', [adminModule, selectors('FluidLiquidityAdminModuleOthers')]);
  await send(liquidity, 'addImplementation', [userModule, selectors('FluidLiquidityUserModuleOthers')]);
  // 4 % at no use, 10 % at the 80 % kink, 150 % when fully used (Fluid's rates: 1e2 = 1 %).
  await send(liquidity, 'updateRateDataV1s', [[weth, usdc, FLUID_NATIVE_TOKEN].map((token) => ({ token, kink: 8_000n, rateAtUtilizationZero: 400n, rateAtUtilizationKink: 1_000n, rateAtUtilizationMax: 15_000n }))]);
  await send(liquidity, 'updateTokenConfigs', [[weth, usdc, FLUID_NATIVE_TOKEN].map((token) => ({ token, fee: 1_000n, threshold: 100n, maxUtilization: 10_000n }))]);

  const factory = await deploy('FluidVaultFactory', [admin]);
  await send(factory, 'setDeployer', [admin, true]);
  await send(factory, 'setGlobalAuth', [admin, true]);
  const logic = await deploy('FluidVaultT1DeploymentLogic', [liquidity, await deploy('FluidVaultT1Admin', []), await deploy('FluidVaultT1Secondary', [])]);
  await send(factory, 'setVaultDeploymentLogic', [logic, true]);

  const vaultOf = async (supplyToken: Address, borrowToken: Address): Promise<Address> => {
    const data = encodeFunctionData({ abi: artifact('FluidVaultT1DeploymentLogic').abi, functionName: 'vaultT1', args: [supplyToken, borrowToken] });
    await send(factory, 'deployVault', [logic, data]);
    const total = (await clients.publicClient.readContract({ address: factory, abi, functionName: 'totalVaults' })) as bigint;
    const vault = (await clients.publicClient.readContract({ address: factory, abi, functionName: 'getVaultAddress', args: [total] })) as Address;
    const s = FLUID_SETTINGS;
    await send(vault, 'updateCoreSettings', [10_000n, 10_000n, s.collateralFactor, s.liquidationThreshold, s.liquidationMaxLimit, s.withdrawGap, s.liquidationPenalty, s.borrowFee]);
    await send(vault, 'updateRebalancer', [admin]);
    await send(liquidity, 'updateUserSupplyConfigs', [[{ user: vault, token: supplyToken, mode: 1, expandPercent: 2_500n, expandDuration: 43_200n, baseWithdrawalLimit: parseUnits('1000000', 18) }]]);
    await send(liquidity, 'updateUserBorrowConfigs', [[{ user: vault, token: borrowToken, mode: 1, expandPercent: 2_500n, expandDuration: 43_200n, baseDebtCeiling: SUPPLY / 1_000n, maxDebtCeiling: SUPPLY }]]);
    return getAddress(vault);
  };

  const vault = await vaultOf(weth, usdc);
  const oracle = await deploy('MockOracle', []);
  await send(vault, 'updateOracle', [oracle]);
  const lender = await vaultOf(usdc, weth);
  const lenderOracle = await deploy('MockOracle', []);
  await send(lender, 'updateOracle', [lenderOracle]);
  await send(lenderOracle, 'setPrice', [ORACLE_SCALE * 10n ** 12n / 2_000n]);

  const nativeVault = await vaultOf(FLUID_NATIVE_TOKEN, usdc);
  const nativeOracle = await deploy('MockOracle', []);
  await send(nativeVault, 'updateOracle', [nativeOracle]);
  const ethDebtVault = await vaultOf(weth, FLUID_NATIVE_TOKEN);
  const ethDebtOracle = await deploy('MockOracle', []);
  await send(ethDebtVault, 'updateOracle', [ethDebtOracle]);

  const liquidityResolver = await deploy('FluidLiquidityResolver', [liquidity]);
  const vaultResolver = await deploy('FluidVaultResolver', [factory, liquidityResolver]);
  const local: LocalFluid = {
    admin,
    liquidity,
    factory,
    liquidityResolver,
    vaultResolver,
    vault,
    oracle,
    collateral: { symbol: 'WETH', asset: weth, decimals: 18 },
    debt: { symbol: 'USDC', asset: usdc, decimals: 6 },
    native: { vault: nativeVault, oracle: nativeOracle, collateral: { symbol: 'ETH', asset: FLUID_NATIVE_TOKEN, decimals: 18 }, debt: { symbol: 'USDC', asset: usdc, decimals: 6 } },
    ethDebt: { vault: ethDebtVault, oracle: ethDebtOracle, collateral: { symbol: 'WETH', asset: weth, decimals: 18 }, debt: { symbol: 'ETH', asset: FLUID_NATIVE_TOKEN, decimals: 18 } },
  };
  await setFluidPrice(clients, local, '2000');
  await setFluidNativePrice(clients, local, '2000');
  // Lenders' USDC for borrowers to take: a supply-only position in the USDC/WETH vault.
  const lent = parseUnits('10000000', 6);
  await send(usdc, 'approve', [lender, lent]);
  await sendContractTx(clients, admin, { address: lender, abi: fluidVaultAbi, functionName: 'operate', args: [0n, lent, 0n, admin] } as never);
  // Lenders' ETH for the WETH/ETH vault: a supply-only position of native ETH in the ETH/USDC vault.
  const lentEth = parseUnits('1000', 18);
  await sendContractTx(clients, admin, { address: nativeVault, abi: fluidVaultAbi, functionName: 'operate', args: [0n, lentEth, 0n, admin], value: lentEth } as never);
  await setFluidEthDebtPrice(clients, local, '1.2');
  return local;
}

/** The vault's price: USDC per whole WETH, as the oracle scale wants it (× 1e27 × 10^(6 − 18)). */
export function fluidOraclePrice(usdcPerWeth: string): bigint {
  return (parseUnits(usdcPerWeth, 18) * ORACLE_SCALE) / 10n ** 18n / 10n ** 12n;
}

export async function setFluidPrice(clients: LocalClients, local: LocalFluid, usdcPerWeth: string): Promise<void> {
  await sendContractTx(clients, local.admin, { address: local.oracle, abi: artifact('MockOracle').abi, functionName: 'setPrice', args: [fluidOraclePrice(usdcPerWeth)] } as never);
}

/** The ETH/USDC vault's price: USDC per ETH, on its own oracle. */
export async function setFluidNativePrice(clients: LocalClients, local: LocalFluid, usdcPerEth: string): Promise<void> {
  await sendContractTx(clients, local.admin, { address: local.native.oracle, abi: artifact('MockOracle').abi, functionName: 'setPrice', args: [fluidOraclePrice(usdcPerEth)] } as never);
}

/** The WETH/ETH vault's price: ETH per WETH (both 18 decimals: × 1e27). */
export async function setFluidEthDebtPrice(clients: LocalClients, local: LocalFluid, ethPerWeth: string): Promise<void> {
  await sendContractTx(clients, local.admin, { address: local.ethDebt.oracle, abi: artifact('MockOracle').abi, functionName: 'setPrice', args: [parseUnits(ethPerWeth, 27)] } as never);
}

/** Opens a position in the WETH/ETH vault: WETH in, native ETH borrowed out to the owner; returns the NFT id. */
export async function openFluidEthDebtPosition(clients: LocalClients, local: LocalFluid, input: { owner: Address; weth: string; borrowEth: string }): Promise<bigint> {
  const collateral = parseUnits(input.weth, 18);
  await fund(clients, local, local.collateral, input.owner, collateral, local.ethDebt.vault);
  const call = { address: local.ethDebt.vault, abi: fluidVaultAbi, functionName: 'operate', args: [0n, collateral, parseUnits(input.borrowEth, 18), input.owner], account: input.owner };
  const { result } = await clients.publicClient.simulateContract(call as never);
  await sendContractTx(clients, input.owner, call as never);
  return (result as readonly [bigint, bigint, bigint])[0];
}

/** Opens a position in the ETH/USDC vault: `operate(0, +collateral, +debt, owner)` with the collateral as msg.value; returns the NFT id. */
export async function openFluidNativePosition(clients: LocalClients, local: LocalFluid, input: { owner: Address; eth: string; borrowUsdc: string }): Promise<bigint> {
  const call = { address: local.native.vault, abi: fluidVaultAbi, functionName: 'operate', args: [0n, parseUnits(input.eth, 18), parseUnits(input.borrowUsdc, 6), input.owner], value: parseUnits(input.eth, 18) };
  const { result } = await clients.publicClient.simulateContract({ ...call, account: input.owner } as never);
  await sendContractTx(clients, input.owner, call as never);
  return (result as readonly [bigint, bigint, bigint])[0];
}

/** A fresh owner (an impersonated address with gas). */
export async function newFluidOwner(clients: LocalClients): Promise<Address> {
  const owner = getAddress(`0x${keccak256(toHex(`fluid-owner-${Date.now()}-${Math.random()}`)).slice(26)}`);
  await clients.testClient.impersonateAccount({ address: owner });
  await clients.testClient.setBalance({ address: owner, value: parseUnits('10', 18) });
  return owner;
}

async function fund(clients: LocalClients, local: LocalFluid, token: FluidToken, to: Address, amount: bigint, vault: Address = local.vault): Promise<void> {
  await sendContractTx(clients, local.admin, { address: token.asset, abi: artifact('TestERC20').abi, functionName: 'transfer', args: [to, amount] } as never);
  await sendContractTx(clients, to, { address: token.asset, abi: artifact('TestERC20').abi, functionName: 'approve', args: [vault, amount] } as never);
}

/** Opens a position: `operate(0, +collateral, +debt, owner)` mints its NFT to the owner; returns the NFT id. */
export async function openFluidPosition(clients: LocalClients, local: LocalFluid, input: { owner: Address; weth: string; borrowUsdc: string }): Promise<bigint> {
  const collateral = parseUnits(input.weth, 18);
  await fund(clients, local, local.collateral, input.owner, collateral);
  const { result } = await clients.publicClient.simulateContract({ account: input.owner, address: local.vault, abi: fluidVaultAbi, functionName: 'operate', args: [0n, collateral, parseUnits(input.borrowUsdc, 6), input.owner] } as never);
  await sendContractTx(clients, input.owner, { address: local.vault, abi: fluidVaultAbi, functionName: 'operate', args: [0n, collateral, parseUnits(input.borrowUsdc, 6), input.owner] } as never);
  return (result as readonly [bigint, bigint, bigint])[0];
}

/** The protocol's own view of one position: FluidVaultResolver.positionByNftId. */
export async function fluidPosition(clients: LocalClients, local: LocalFluid, nftId: bigint): Promise<{ supply: bigint; borrow: bigint; isLiquidated: boolean; owner: Address; liquidationThreshold: number; oraclePriceLiquidate: bigint }> {
  const [position, vault] = (await clients.publicClient.readContract({ address: local.vaultResolver, abi: fluidResolverAbi, functionName: 'positionByNftId', args: [nftId] })) as readonly [
    { owner: Address; isLiquidated: boolean; supply: bigint; borrow: bigint },
    { configs: { liquidationThreshold: number; oraclePriceLiquidate: bigint } },
  ];
  return { supply: position.supply, borrow: position.borrow, isLiquidated: position.isLiquidated, owner: position.owner, liquidationThreshold: vault.configs.liquidationThreshold, oraclePriceLiquidate: vault.configs.oraclePriceLiquidate };
}

/** A liquidator holding USDC, approved to the vault. */
export async function newFluidLiquidator(clients: LocalClients, local: LocalFluid): Promise<Address> {
  const liquidator = await newFluidOwner(clients);
  await fund(clients, local, local.debt, liquidator, parseUnits('1000000', 6));
  return liquidator;
}

/** Fluid's own liquidation: `liquidate(debt, 0, liquidator, false)`; it reverts when no position is past the line. */
export async function liquidateFluid(clients: LocalClients, local: LocalFluid, liquidator: Address, repayUsdc: string): Promise<void> {
  await sendContractTx(clients, liquidator, { address: local.vault, abi: fluidVaultAbi, functionName: 'liquidate', args: [parseUnits(repayUsdc, 6), 0n, liquidator, false] } as never);
}

/** What `liquidate(repay, 0, liquidator, false)` would do now, run as an eth_call: the debt repaid and collateral taken, or the revert. */
export async function simulateFluidLiquidation(clients: LocalClients, local: LocalFluid, liquidator: Address, repayUsdc: string): Promise<{ debt: bigint; collateral: bigint }> {
  const { result } = await clients.publicClient.simulateContract({ account: liquidator, address: local.vault, abi: fluidVaultAbi, functionName: 'liquidate', args: [parseUnits(repayUsdc, 6), 0n, liquidator, false] } as never);
  const [debt, collateral] = result as readonly [bigint, bigint];
  return { debt, collateral };
}

/** `operate(nftId, +collateral, 0, from)` sent by `from`: adding collateral to a position, by its owner or anyone else. */
export async function addFluidCollateral(clients: LocalClients, local: LocalFluid, from: Address, nftId: bigint, weth: string): Promise<void> {
  const amount = parseUnits(weth, 18);
  await fund(clients, local, local.collateral, from, amount);
  await sendContractTx(clients, from, { address: local.vault, abi: fluidVaultAbi, functionName: 'operate', args: [nftId, amount, 0n, from] } as never);
}
