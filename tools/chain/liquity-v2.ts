import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { encodeAbiParameters, encodeDeployData, getContractAddress, keccak256, maxUint256, parseAbi, parseUnits, toHex, type Abi, type Address, type Hex } from 'viem';
import { deployCode, sendContractTx, type LocalClients } from './actions';

/*
 * Real Liquity v2 (BOLD) on the local chain, from the compiled contracts in
 * ../shared/protocols/liquity-v2 (liquity/bold, unmodified; the price feed is the repo's own
 * PriceFeedTestnet). Two branches, WETH and wstETH, with the mainnet ratios. Branch contracts
 * read every address from their AddressesRegistry in their constructors, so the registry is
 * filled with addresses predicted from the deployer's nonce before they exist (the recipe in
 * the shared README). Test-time only; deploying takes ~35 transactions on top of the Aave chain.
 */

type Artifact = { abi: Abi; bytecode: Hex };
export const LIQUITY_ARTIFACTS_PATH = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'shared', 'protocols', 'liquity-v2', 'artifacts.json');

type ContractName =
  | 'WETHTester' | 'ERC20Faucet' | 'BoldToken' | 'AddressesRegistry' | 'PriceFeedTestnet' | 'MockInterestRouter' | 'CollateralRegistry' | 'HintHelpers' | 'MultiTroveGetter'
  | 'BorrowerOperations' | 'TroveManager' | 'TroveNFT' | 'StabilityPool' | 'ActivePool' | 'DefaultPool' | 'GasPool' | 'CollSurplusPool' | 'SortedTroves';

let artifacts: Record<string, Artifact> | undefined;
function artifact(name: ContractName): Artifact {
  artifacts ??= (JSON.parse(readFileSync(LIQUITY_ARTIFACTS_PATH, 'utf8')) as { contracts: Record<string, Artifact> }).contracts;
  const found = artifacts[name];
  if (!found) throw new Error(`${name} is missing from ${LIQUITY_ARTIFACTS_PATH}`);
  return found;
}

/** The calls the helper and the tests make, written out (the artifacts' full ABIs are loose JSON). */
export const liquityTestAbi = parseAbi([
  'struct AddressVars { address collToken; address borrowerOperations; address troveManager; address troveNFT; address metadataNFT; address stabilityPool; address priceFeed; address activePool; address defaultPool; address gasPoolAddress; address collSurplusPool; address sortedTroves; address interestRouter; address hintHelpers; address multiTroveGetter; address collateralRegistry; address boldToken; address WETH; }',
  'function setAddresses(AddressVars _vars)',
  'function setBranchAddresses(address _troveManagerAddress, address _stabilityPoolAddress, address _borrowerOperationsAddress, address _activePoolAddress)',
  'function setCollateralRegistry(address _collateralRegistryAddress)',
  'function setPrice(uint256 price) returns (bool)',
  'function mint(address _to, uint256 _amount)',
  'function approve(address spender, uint256 amount) returns (bool)',
  'function openTrove(address _owner, uint256 _ownerIndex, uint256 _collAmount, uint256 _boldAmount, uint256 _upperHint, uint256 _lowerHint, uint256 _annualInterestRate, uint256 _maxUpfrontFee, address _addManager, address _removeManager, address _receiver) returns (uint256)',
  'function addColl(uint256 _troveId, uint256 _collAmount)',
  'function batchLiquidateTroves(uint256[] _troveArray)',
  'function shutdown()',
  'function transferFrom(address from, address to, uint256 tokenId)',
  'function getCurrentICR(uint256 _troveId, uint256 _price) view returns (uint256)',
  'function getTroveStatus(uint256 _troveId) view returns (uint8)',
  'function getEntireBranchColl() view returns (uint256)',
  'function getEntireBranchDebt() view returns (uint256)',
  'function lastGoodPrice() view returns (uint256)',
  'function hasBeenShutDown() view returns (bool)',
]);

export type LiquityBranchSymbol = 'WETH' | 'wstETH';
export type LiquityBranch = {
  symbol: LiquityBranchSymbol;
  index: number;
  collToken: Address;
  registry: Address;
  priceFeed: Address;
  borrowerOperations: Address;
  troveManager: Address;
  troveNFT: Address;
  stabilityPool: Address;
  activePool: Address;
  sortedTroves: Address;
  mcr: bigint;
  ccr: bigint;
  scr: bigint;
};
export type LocalLiquity = { admin: Address; weth: Address; bold: Address; collateralRegistry: Address; branches: Record<LiquityBranchSymbol, LiquityBranch> };

/** Mainnet's ratios: WETH MCR 110% / CCR 150%, wstETH MCR 120% / CCR 160%; SCR 110%, BCR 10%; penalties 5% (stability pool) and 10% / 20% (redistribution). */
const BRANCHES: ReadonlyArray<{ symbol: LiquityBranchSymbol; price: string; ccr: string; mcr: string; scr: string; penaltyRedistribution: string }> = [
  { symbol: 'WETH', price: '2000', ccr: '1.5', mcr: '1.1', scr: '1.1', penaltyRedistribution: '0.1' },
  { symbol: 'wstETH', price: '2400', ccr: '1.6', mcr: '1.2', scr: '1.1', penaltyRedistribution: '0.2' },
];
/** The branch contracts in the order they are deployed, each `Contract(registry)`; their addresses are predicted in this order. */
const BRANCH_CONTRACTS = ['BorrowerOperations', 'TroveManager', 'TroveNFT', 'StabilityPool', 'ActivePool', 'DefaultPool', 'GasPool', 'CollSurplusPool', 'SortedTroves'] as const;
/** Liquity's gas compensation, paid in WETH into the GasPool by every trove opener. */
export const ETH_GAS_COMPENSATION = parseUnits('0.0375', 18);
const ratio = (value: string) => parseUnits(value, 18);

export async function deployLiquity(clients: LocalClients, admin: Address): Promise<LocalLiquity> {
  const deploy = (name: ContractName, args: readonly unknown[]) => deployCode(clients, admin, encodeDeployData({ abi: artifact(name).abi, bytecode: artifact(name).bytecode, args } as never) as Hex, name);
  const call = (address: Address, functionName: string, args: readonly unknown[]) => sendContractTx(clients, admin, { address, abi: liquityTestAbi, functionName, args } as never);

  const weth = await deploy('WETHTester', [parseUnits('100', 18), 86_400n]);
  const wsteth = await deploy('ERC20Faucet', ['Wrapped Staked Ether', 'wstETH', parseUnits('100', 18), 86_400n]);
  const bold = await deploy('BoldToken', [admin]);
  const perBranch = [];
  for (const branch of BRANCHES) {
    const registry = await deploy('AddressesRegistry', [admin, ratio(branch.ccr), ratio(branch.mcr), ratio('0.1'), ratio(branch.scr), ratio('0.05'), ratio(branch.penaltyRedistribution)]);
    const priceFeed = await deploy('PriceFeedTestnet', []);
    await call(priceFeed, 'setPrice', [parseUnits(branch.price, 18)]);
    const interestRouter = await deploy('MockInterestRouter', []);
    perBranch.push({ ...branch, collToken: branch.symbol === 'WETH' ? weth : wsteth, registry, priceFeed, interestRouter });
  }

  // From here every transaction's nonce is known: the registry, two helpers, then per branch setAddresses, 9 contracts, setBranchAddresses.
  const start = BigInt(await clients.publicClient.getTransactionCount({ address: admin }));
  const at = (nonce: bigint) => getContractAddress({ from: admin, nonce });
  const perBranchTxs = 1n + BigInt(BRANCH_CONTRACTS.length) + 1n;
  const predicted = perBranch.map((_, index) => {
    const first = start + 3n + BigInt(index) * perBranchTxs + 1n;
    return Object.fromEntries(BRANCH_CONTRACTS.map((name, offset) => [name, at(first + BigInt(offset))])) as Record<(typeof BRANCH_CONTRACTS)[number], Address>;
  });
  const collateralRegistry = await deploy('CollateralRegistry', [bold, perBranch.map((branch) => branch.collToken), predicted.map((addresses) => addresses.TroveManager)]);
  const hintHelpers = await deploy('HintHelpers', [collateralRegistry]);
  const multiTroveGetter = await deploy('MultiTroveGetter', [collateralRegistry]);

  const branches = {} as Record<LiquityBranchSymbol, LiquityBranch>;
  for (const [index, branch] of perBranch.entries()) {
    const addresses = predicted[index]!;
    await call(branch.registry, 'setAddresses', [
      {
        collToken: branch.collToken,
        borrowerOperations: addresses.BorrowerOperations,
        troveManager: addresses.TroveManager,
        troveNFT: addresses.TroveNFT,
        // No MetadataNFT among the artifacts: only tokenURI would use it, and nothing here calls that.
        metadataNFT: admin,
        stabilityPool: addresses.StabilityPool,
        priceFeed: branch.priceFeed,
        activePool: addresses.ActivePool,
        defaultPool: addresses.DefaultPool,
        gasPoolAddress: addresses.GasPool,
        collSurplusPool: addresses.CollSurplusPool,
        sortedTroves: addresses.SortedTroves,
        interestRouter: branch.interestRouter,
        hintHelpers,
        multiTroveGetter,
        collateralRegistry,
        boldToken: bold,
        WETH: weth,
      },
    ]);
    for (const name of BRANCH_CONTRACTS) {
      const deployed = await deploy(name, [branch.registry]);
      if (deployed !== addresses[name]) throw new Error(`${branch.symbol} ${name} landed at ${deployed}, not at the predicted ${addresses[name]}`);
    }
    await call(bold, 'setBranchAddresses', [addresses.TroveManager, addresses.StabilityPool, addresses.BorrowerOperations, addresses.ActivePool]);
    branches[branch.symbol] = {
      symbol: branch.symbol,
      index,
      collToken: branch.collToken,
      registry: branch.registry,
      priceFeed: branch.priceFeed,
      borrowerOperations: addresses.BorrowerOperations,
      troveManager: addresses.TroveManager,
      troveNFT: addresses.TroveNFT,
      stabilityPool: addresses.StabilityPool,
      activePool: addresses.ActivePool,
      sortedTroves: addresses.SortedTroves,
      mcr: ratio(branch.mcr),
      ccr: ratio(branch.ccr),
      scr: ratio(branch.scr),
    };
  }
  await call(bold, 'setCollateralRegistry', [collateralRegistry]);
  const local: LocalLiquity = { admin, weth, bold, collateralRegistry, branches };
  // A large, safe trove per branch keeps each branch's total ratio above its CCR while the tests open riskier ones.
  for (const symbol of ['WETH', 'wstETH'] as const) await openTrove(clients, local, { branch: symbol, owner: admin, collateral: '1000', debt: '200000', interestRate: '0.05' });
  return local;
}

/** Liquity's trove id: keccak256(abi.encode(sender, owner, ownerIndex)), as BorrowerOperations derives it. */
export function troveIdOf(sender: Address, owner: Address, ownerIndex: bigint): bigint {
  return BigInt(keccak256(encodeAbiParameters([{ type: 'address' }, { type: 'address' }, { type: 'uint256' }], [sender, owner, ownerIndex])));
}

const ownerIndexes = new Map<string, bigint>();

/**
 * Opens a trove on a branch for `owner` (a fresh impersonated borrower when omitted): collateral
 * and the WETH gas compensation minted, approved and sent through BorrowerOperations.openTrove.
 */
export async function openTrove(
  clients: LocalClients,
  local: LocalLiquity,
  input: { branch: LiquityBranchSymbol; collateral: string; debt: string; interestRate?: string; owner?: Address },
): Promise<{ owner: Address; troveId: bigint }> {
  const branch = local.branches[input.branch];
  const owner = input.owner ?? (`0x${keccak256(toHex(`liquity-borrower-${Date.now()}-${Math.random()}`)).slice(26)}` as Address);
  await clients.testClient.impersonateAccount({ address: owner });
  await clients.testClient.setBalance({ address: owner, value: parseUnits('100000', 18) });
  const collateral = parseUnits(input.collateral, 18);
  const send = (address: Address, functionName: string, args: readonly unknown[]) => sendContractTx(clients, owner, { address, abi: liquityTestAbi, functionName, args } as never);
  const mint = (token: Address, amount: bigint) => sendContractTx(clients, local.admin, { address: token, abi: liquityTestAbi, functionName: 'mint', args: [owner, amount] } as never);
  await mint(local.weth, ETH_GAS_COMPENSATION + (branch.collToken === local.weth ? collateral : 0n));
  await send(local.weth, 'approve', [branch.borrowerOperations, maxUint256]);
  if (branch.collToken !== local.weth) {
    await mint(branch.collToken, collateral);
    await send(branch.collToken, 'approve', [branch.borrowerOperations, maxUint256]);
  }
  const key = `${branch.troveManager}:${owner}`.toLowerCase();
  const ownerIndex = ownerIndexes.get(key) ?? 0n;
  ownerIndexes.set(key, ownerIndex + 1n);
  await send(branch.borrowerOperations, 'openTrove', [owner, ownerIndex, collateral, parseUnits(input.debt, 18), 0n, 0n, parseUnits(input.interestRate ?? '0.05', 18), maxUint256, ADDRESS_ZERO, ADDRESS_ZERO, ADDRESS_ZERO]);
  return { owner, troveId: troveIdOf(owner, owner, ownerIndex) };
}

const ADDRESS_ZERO: Address = '0x0000000000000000000000000000000000000000';

/** The branch's price (USD per collateral token, 18 decimals), as its PriceFeedTestnet gives it to liquidations. */
export async function setLiquityPrice(clients: LocalClients, local: LocalLiquity, branch: LiquityBranchSymbol, price: string): Promise<void> {
  await sendContractTx(clients, local.admin, { address: local.branches[branch].priceFeed, abi: liquityTestAbi, functionName: 'setPrice', args: [parseUnits(price, 18)] } as never);
}

/** TroveManager's own liquidation of one trove, simulated (eth_call): whether it would go through now. */
export async function liquityWouldLiquidate(clients: LocalClients, local: LocalLiquity, branch: LiquityBranchSymbol, troveId: bigint, blockNumber?: bigint): Promise<boolean> {
  try {
    await clients.publicClient.simulateContract({ account: local.admin, address: local.branches[branch].troveManager, abi: liquityTestAbi, functionName: 'batchLiquidateTroves', args: [[troveId]], blockNumber });
    return true;
  } catch {
    // NothingToLiquidate: the trove is not below its MCR.
    return false;
  }
}

/** TroveManager.batchLiquidateTroves for real; reverts unless the trove is liquidatable. */
export async function liquidateTroves(clients: LocalClients, local: LocalLiquity, branch: LiquityBranchSymbol, troveIds: bigint[]): Promise<void> {
  await sendContractTx(clients, local.admin, { address: local.branches[branch].troveManager, abi: liquityTestAbi, functionName: 'batchLiquidateTroves', args: [troveIds] } as never);
}

/** BorrowerOperations.shutdown: open to anyone once the branch's total ratio is below its SCR. */
export async function shutdownBranch(clients: LocalClients, local: LocalLiquity, branch: LiquityBranchSymbol): Promise<void> {
  await sendContractTx(clients, local.admin, { address: local.branches[branch].borrowerOperations, abi: liquityTestAbi, functionName: 'shutdown', args: [] } as never);
}

const adjustRateAbi = parseAbi(['function adjustTroveInterestRate(uint256 _troveId, uint256 _newAnnualInterestRate, uint256 _upperHint, uint256 _lowerHint, uint256 _maxUpfrontFee)']);

/** BorrowerOperations.adjustTroveInterestRate by the trove's owner (impersonated): moves the trove in the redemption order. */
export async function setTroveInterestRate(clients: LocalClients, local: LocalLiquity, input: { branch: LiquityBranchSymbol; troveId: bigint; owner: Address; interestRate: string }): Promise<void> {
  await clients.testClient.impersonateAccount({ address: input.owner });
  // A change within 7 days of the last one pays an upfront fee: any fee is accepted here.
  await sendContractTx(clients, input.owner, { address: local.branches[input.branch].borrowerOperations, abi: adjustRateAbi, functionName: 'adjustTroveInterestRate', args: [input.troveId, parseUnits(input.interestRate, 18), 0n, 0n, maxUint256] } as never);
}

const redeemAbi = parseAbi(['function redeemCollateral(uint256 _boldAmount, uint256 _maxIterationsPerCollateral, uint256 _maxFeePercentage)']);

/**
 * CollateralRegistry.redeemCollateral by the admin (who holds the BOLD of the branches' large
 * troves): the amount is split between the redeemable branches by their debt not covered by the
 * stability pool, and each branch takes troves from the lowest rate up (at most
 * `maxIterationsPerBranch` of them; 0: no cap). Any fee is accepted: a fresh deployment's base
 * rate starts at 100 %, which keeps the collateral with the trove but redeems its debt all the same.
 */
export async function redeemCollateral(clients: LocalClients, local: LocalLiquity, input: { bold: bigint; maxIterationsPerBranch: bigint }): Promise<void> {
  await sendContractTx(clients, local.admin, { address: local.collateralRegistry, abi: redeemAbi, functionName: 'redeemCollateral', args: [input.bold, input.maxIterationsPerBranch, parseUnits('1', 18)] } as never);
}

const redeemabilityAbi = parseAbi([
  'function getUnbackedPortionPriceAndRedeemability() returns (uint256 unbacked, uint256 price, bool redeemable)',
  'struct LatestTroveData { uint256 entireDebt; uint256 entireColl; uint256 redistBoldDebtGain; uint256 redistCollGain; uint256 accruedInterest; uint256 recordedDebt; uint256 annualInterestRate; uint256 weightedRecordedDebt; uint256 accruedBatchManagementFee; uint256 lastInterestRateAdjTime; }',
  'function getLatestTroveData(uint256 _troveId) view returns (LatestTroveData)',
]);

/**
 * A real redemption sized so that `branch`'s share leaves `leave` BOLD of debt on its first trove in
 * line (`troveId`, which must be it): CollateralRegistry splits the amount by each redeemable
 * branch's unbacked debt (read here as it will, through eth_call), one trove per branch.
 */
export async function redeemTroveDownTo(clients: LocalClients, local: LocalLiquity, input: { branch: LiquityBranchSymbol; troveId: bigint; leave: bigint }): Promise<void> {
  const portions = await Promise.all(
    (['WETH', 'wstETH'] as const).map(async (symbol) => {
      const { result } = await clients.publicClient.simulateContract({ account: local.admin, address: local.branches[symbol].troveManager, abi: redeemabilityAbi, functionName: 'getUnbackedPortionPriceAndRedeemability' });
      return { symbol, unbacked: result[2] ? result[0] : 0n };
    }),
  );
  const total = portions.reduce((sum, portion) => sum + portion.unbacked, 0n);
  const own = portions.find((portion) => portion.symbol === input.branch)!.unbacked;
  if (own === 0n) throw new Error(`the ${input.branch} branch is not redeemable`);
  const trove = await clients.publicClient.readContract({ address: local.branches[input.branch].troveManager, abi: redeemabilityAbi, functionName: 'getLatestTroveData', args: [input.troveId] });
  await redeemCollateral(clients, local, { bold: ((trove.entireDebt - input.leave) * total) / own, maxIterationsPerBranch: 1n });
}
