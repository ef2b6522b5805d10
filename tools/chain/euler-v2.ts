import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { encodeDeployData, encodeFunctionData, encodePacked, getAddress, keccak256, maxUint256, parseAbi, parseEventLogs, parseUnits, toHex, type Abi, type Address, type Hex } from 'viem';
import { deployCode, sendContractTx, type LocalClients } from './actions';

/*
 * A real Euler v2 deployment on the local chain, from the compiled Ethereum Vault Connector and
 * Euler Vault Kit in ../shared/protocols/euler-v2 (unmodified): a USDS vault that lends against
 * WETH and wstETH vaults, in US dollars (unit of account 0x…0348), priced by the kit's own
 * MockPriceOracle. Every token has 18 decimals because the mock oracle ignores decimals.
 * Test-time only: the shared folder sits beside the clone on this machine and in CI.
 */

type Artifact = { abi: Abi; bytecode: Hex };
export const EULER_ARTIFACTS_PATH = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'shared', 'protocols', 'euler-v2', 'artifacts.json');

const MODULES = ['Initialize', 'Token', 'Vault', 'Borrowing', 'Liquidation', 'RiskManager', 'BalanceForwarder', 'Governance'] as const;
type ArtifactName = (typeof MODULES)[number] | 'EthereumVaultConnector' | 'ProtocolConfig' | 'SequenceRegistry' | 'MockBalanceTracker' | 'EVault' | 'GenericFactory' | 'IRMLinearKink' | 'MockPriceOracle' | 'TestERC20';

let artifacts: Record<string, Artifact> | undefined;
function artifact(name: ArtifactName): Artifact {
  artifacts ??= (JSON.parse(readFileSync(EULER_ARTIFACTS_PATH, 'utf8')) as { contracts: Record<string, Artifact> }).contracts;
  const found = artifacts[name];
  if (!found) throw new Error(`${name} is missing from ${EULER_ARTIFACTS_PATH}`);
  return found;
}

/** Euler's convention for US dollars as a unit of account: the ISO 4217 code 840 as an address. */
export const USD_UNIT: Address = '0x0000000000000000000000000000000000000348';

export const eulerTestAbi = parseAbi([
  'function setImplementation(address newImplementation)',
  'function createProxy(address desiredImplementation, bool upgradeable, bytes trailingData) returns (address)',
  'event ProxyCreated(address indexed proxy, bool upgradeable, address implementation, bytes trailingData)',
  'function setHookConfig(address newHookTarget, uint32 newHookedOps)',
  'function setInterestRateModel(address newModel)',
  'function setMaxLiquidationDiscount(uint16 newDiscount)',
  'function setLTV(address collateral, uint16 borrowLTV, uint16 liquidationLTV, uint32 rampDuration)',
  'function deposit(uint256 amount, address receiver) returns (uint256)',
  'function borrow(uint256 amount, address receiver) returns (uint256)',
  'function liquidate(address violator, address collateral, uint256 repayAssets, uint256 minYieldBalance)',
  'function checkLiquidation(address liquidator, address violator, address collateral) view returns (uint256 maxRepay, uint256 maxYield)',
  'function accountLiquidity(address account, bool liquidation) view returns (uint256 collateralValue, uint256 liabilityValue)',
  'function debtOf(address account) view returns (uint256)',
  'function liquidationCoolOffTime() view returns (uint16)',
  'function enableCollateral(address account, address vault)',
  'function enableController(address account, address vault)',
  'function call(address targetContract, address onBehalfOfAccount, uint256 value, bytes data) returns (bytes)',
  'function setPrice(address base, address quote, uint256 newPrice)',
  'function mint(address who, uint256 amount)',
  'function approve(address spender, uint256 amount)',
]);

export type EulerSymbol = 'USDS' | 'WETH' | 'wstETH';
export type EulerVault = { symbol: EulerSymbol; asset: Address; vault: Address };
export type LocalEuler = {
  evc: Address;
  factory: Address;
  oracle: Address;
  admin: Address;
  /** The borrowable (controller) vault: the `market` a watch names. */
  borrowVault: EulerVault;
  collaterals: Record<'WETH' | 'wstETH', EulerVault>;
};

/** Liquidation and borrow LTVs of the USDS vault's collaterals (basis points), close to live Euler markets. */
export const EULER_LTVS = { WETH: { borrow: 8_000, liquidation: 8_300 }, wstETH: { borrow: 7_800, liquidation: 8_100 } } as const;
const START_PRICES: Record<EulerSymbol, string> = { USDS: '1', WETH: '2000', wstETH: '2400' };
/** 15%: the most an Euler liquidation can discount the seized collateral. */
export const EULER_MAX_DISCOUNT_BPS = 1_500;

export async function deployEuler(clients: LocalClients, admin: Address): Promise<LocalEuler> {
  const deploy = (name: ArtifactName, args: readonly unknown[]) => deployCode(clients, admin, encodeDeployData({ abi: artifact(name).abi, bytecode: artifact(name).bytecode, args } as never) as Hex, name);
  const send = (address: Address, functionName: string, args: readonly unknown[]) => sendContractTx(clients, admin, { address, abi: eulerTestAbi, functionName, args } as never);
  const evc = await deploy('EthereumVaultConnector', []);
  const integrations = {
    evc,
    protocolConfig: await deploy('ProtocolConfig', [admin, admin]),
    sequenceRegistry: await deploy('SequenceRegistry', []),
    balanceTracker: await deploy('MockBalanceTracker', []),
    permit2: '0x0000000000000000000000000000000000000000' as Address,
  };
  const modules: Record<string, Address> = {};
  for (const name of MODULES) modules[name.charAt(0).toLowerCase() + name.slice(1)] = await deploy(name, [integrations]);
  const implementation = await deploy('EVault', [integrations, modules]);
  const factory = await deploy('GenericFactory', [admin]);
  await send(factory, 'setImplementation', [implementation]);
  const oracle = await deploy('MockPriceOracle', []);
  // About 4% a year at 80% utilisation, steeply more above (IRMLinearKink works in per-second ray over a uint32 utilisation).
  const kink = 3_435_973_836n;
  const irm = await deploy('IRMLinearKink', [0n, 369_000_000n, 35_400_000_000n, Number(kink)]);

  const vaultOf = async (symbol: EulerSymbol): Promise<EulerVault> => {
    const asset = await deploy('TestERC20', [`Euler test ${symbol}`, symbol, 18, false]);
    const receipt = await send(factory, 'createProxy', ['0x0000000000000000000000000000000000000000', true, encodePacked(['address', 'address', 'address'], [asset, oracle, USD_UNIT])]);
    const [created] = parseEventLogs({ abi: eulerTestAbi, eventName: 'ProxyCreated', logs: receipt.logs });
    if (!created) throw new Error(`createProxy for ${symbol} emitted no ProxyCreated`);
    const vault = getAddress(created.args.proxy);
    // New vaults start with every operation disabled by their hook configuration.
    await send(vault, 'setHookConfig', ['0x0000000000000000000000000000000000000000', 0]);
    await send(vault, 'setInterestRateModel', [irm]);
    await send(vault, 'setMaxLiquidationDiscount', [EULER_MAX_DISCOUNT_BPS]);
    return { symbol, asset, vault };
  };
  const local: LocalEuler = { evc, factory, oracle, admin, borrowVault: await vaultOf('USDS'), collaterals: { WETH: await vaultOf('WETH'), wstETH: await vaultOf('wstETH') } };
  for (const symbol of ['WETH', 'wstETH'] as const) {
    await send(local.borrowVault.vault, 'setLTV', [local.collaterals[symbol].vault, EULER_LTVS[symbol].borrow, EULER_LTVS[symbol].liquidation, 0]);
  }
  for (const symbol of Object.keys(START_PRICES) as EulerSymbol[]) await setEulerPrice(clients, local, symbol, START_PRICES[symbol]);
  // Lenders' USDS for borrowers to take.
  const lent = parseUnits('10000000', 18);
  await mintEuler(clients, local, 'USDS', admin, lent);
  await send(local.borrowVault.asset, 'approve', [local.borrowVault.vault, lent]);
  await send(local.borrowVault.vault, 'deposit', [lent, admin]);
  return local;
}

function vaultBySymbol(local: LocalEuler, symbol: EulerSymbol): EulerVault {
  return symbol === 'USDS' ? local.borrowVault : local.collaterals[symbol];
}

export async function mintEuler(clients: LocalClients, local: LocalEuler, symbol: EulerSymbol, to: Address, amount: bigint): Promise<void> {
  await sendContractTx(clients, local.admin, { address: vaultBySymbol(local, symbol).asset, abi: eulerTestAbi, functionName: 'mint', args: [to, amount] });
}

/**
 * The price of one whole token in US dollars. The vaults value collateral as vault shares
 * (the oracle is asked about the collateral vault) and debt as the borrowed asset, so a
 * collateral's price is set on its vault and USDS's on the token.
 */
export async function setEulerPrice(clients: LocalClients, local: LocalEuler, symbol: EulerSymbol, usd: string): Promise<void> {
  const base = symbol === 'USDS' ? local.borrowVault.asset : local.collaterals[symbol].vault;
  await sendContractTx(clients, local.admin, { address: local.oracle, abi: eulerTestAbi, functionName: 'setPrice', args: [base, USD_UNIT, parseUnits(usd, 18)] });
}

/** Sub-account `index` of an owner: the owner's address with its last byte XORed by the index. */
export function subAccount(owner: Address, index: number): Address {
  return getAddress(`0x${(BigInt(owner) ^ BigInt(index)).toString(16).padStart(40, '0')}`);
}

/** A fresh owner (an impersonated address with gas). */
export async function newEulerOwner(clients: LocalClients): Promise<Address> {
  const owner = getAddress(`0x${keccak256(toHex(`euler-owner-${Date.now()}-${Math.random()}`)).slice(26)}`);
  await clients.testClient.impersonateAccount({ address: owner });
  await clients.testClient.setBalance({ address: owner, value: parseUnits('10', 18) });
  return owner;
}

/**
 * A borrow from sub-account `index` of `owner`, as the owner does it through the EVC: collateral
 * deposited into the sub-account, enabled as collateral, the USDS vault enabled as controller,
 * then USDS borrowed on the sub-account's behalf and sent to the owner.
 */
export async function openEulerPosition(
  clients: LocalClients,
  local: LocalEuler,
  input: { owner: Address; index: number; collateral: 'WETH' | 'wstETH'; collateralAmount: string; borrowUsds: string },
): Promise<Address> {
  const { owner } = input;
  const account = subAccount(owner, input.index);
  const collateral = local.collaterals[input.collateral];
  const amount = parseUnits(input.collateralAmount, 18);
  await mintEuler(clients, local, input.collateral, owner, amount);
  await sendContractTx(clients, owner, { address: collateral.asset, abi: eulerTestAbi, functionName: 'approve', args: [collateral.vault, amount] });
  await sendContractTx(clients, owner, { address: collateral.vault, abi: eulerTestAbi, functionName: 'deposit', args: [amount, account] });
  await sendContractTx(clients, owner, { address: local.evc, abi: eulerTestAbi, functionName: 'enableCollateral', args: [account, collateral.vault] });
  await sendContractTx(clients, owner, { address: local.evc, abi: eulerTestAbi, functionName: 'enableController', args: [account, local.borrowVault.vault] });
  const borrow = encodeFunctionData({ abi: eulerTestAbi, functionName: 'borrow', args: [parseUnits(input.borrowUsds, 18), owner] });
  await sendContractTx(clients, owner, { address: local.evc, abi: eulerTestAbi, functionName: 'call', args: [local.borrowVault.vault, account, 0n, borrow] });
  return account;
}

/** The vault's own view of an account: accountLiquidity(account, liquidation = true). */
export async function eulerAccountLiquidity(clients: LocalClients, local: LocalEuler, account: Address): Promise<{ collateralValue: bigint; liabilityValue: bigint }> {
  const [collateralValue, liabilityValue] = await clients.publicClient.readContract({ address: local.borrowVault.vault, abi: eulerTestAbi, functionName: 'accountLiquidity', args: [account, true] });
  return { collateralValue, liabilityValue };
}

/** The vault's own liquidation check: how much of the debt a liquidator may repay now (0: none). */
export async function eulerMaxRepay(clients: LocalClients, local: LocalEuler, liquidator: Address, violator: Address, collateral: 'WETH' | 'wstETH'): Promise<bigint> {
  const [maxRepay] = await clients.publicClient.readContract({ address: local.borrowVault.vault, abi: eulerTestAbi, functionName: 'checkLiquidation', args: [liquidator, violator, local.collaterals[collateral].vault] });
  return maxRepay;
}

/**
 * A liquidator ready to take on debt: the USDS vault as its controller, the collateral vaults
 * enabled to receive what it seizes, and 10 WETH of its own, since the debt it takes over must
 * pass its own borrow-LTV check.
 */
export async function newEulerLiquidator(clients: LocalClients, local: LocalEuler): Promise<Address> {
  const liquidator = await newEulerOwner(clients);
  const own = parseUnits('10', 18);
  await mintEuler(clients, local, 'WETH', liquidator, own);
  await sendContractTx(clients, liquidator, { address: local.collaterals.WETH.asset, abi: eulerTestAbi, functionName: 'approve', args: [local.collaterals.WETH.vault, own] });
  await sendContractTx(clients, liquidator, { address: local.collaterals.WETH.vault, abi: eulerTestAbi, functionName: 'deposit', args: [own, liquidator] });
  await sendContractTx(clients, liquidator, { address: local.evc, abi: eulerTestAbi, functionName: 'enableController', args: [liquidator, local.borrowVault.vault] });
  for (const symbol of ['WETH', 'wstETH'] as const) {
    await sendContractTx(clients, liquidator, { address: local.evc, abi: eulerTestAbi, functionName: 'enableCollateral', args: [liquidator, local.collaterals[symbol].vault] });
  }
  return liquidator;
}

/**
 * Euler's own liquidation of `repayUsds` of the violator's debt against one collateral. A
 * liquidation of a healthy account has nothing to repay, so any positive amount reverts
 * (E_ExcessiveRepayAmount); `maxUint256` would repay "all that is allowed", i.e. nothing.
 */
export async function liquidateEuler(clients: LocalClients, local: LocalEuler, liquidator: Address, violator: Address, collateral: 'WETH' | 'wstETH', repayUsds = '1'): Promise<void> {
  const repay = repayUsds === 'max' ? maxUint256 : parseUnits(repayUsds, 18);
  await sendContractTx(clients, liquidator, { address: local.borrowVault.vault, abi: eulerTestAbi, functionName: 'liquidate', args: [violator, local.collaterals[collateral].vault, repay, 0n] });
}
