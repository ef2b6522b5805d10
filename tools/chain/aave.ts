// Deploys a complete Aave v3 market (protocol v3.0.2, from @aave/core-v3's own artifacts) on a
// local node: the real Pool and its logic libraries, configurator, oracle with mock Chainlink
// feeds, and three reserves. The result is plain JSON so it can be cached next to a state dump.

import { encodeDeployData, keccak256, toHex, type Abi, type Address, type Hex } from 'viem';
import { deployCode, sendContractTx, type LocalClients } from './actions';
import { linkBytecode, loadArtifact } from './artifacts';
import type { AaveMarket, ReserveInfo, ReserveSymbol } from './market';

interface ReserveSpec {
  symbol: ReserveSymbol;
  name: string;
  decimals: number;
  priceUsd8: bigint;
  ltvBps: number;
  liquidationThresholdBps: number;
  liquidationBonusBps: number;
  reserveFactorBps: number;
  rates: 'volatile' | 'stable';
}

/** Risk parameters in the range of Aave's production markets. */
export const RESERVE_SPECS: readonly ReserveSpec[] = [
  { symbol: 'WETH', name: 'Wrapped Ether', decimals: 18, priceUsd8: 2_000n * 10n ** 8n, ltvBps: 8000, liquidationThresholdBps: 8250, liquidationBonusBps: 10500, reserveFactorBps: 1500, rates: 'volatile' },
  { symbol: 'WBTC', name: 'Wrapped BTC', decimals: 8, priceUsd8: 60_000n * 10n ** 8n, ltvBps: 7300, liquidationThresholdBps: 7800, liquidationBonusBps: 10650, reserveFactorBps: 2000, rates: 'volatile' },
  { symbol: 'USDC', name: 'USD Coin', decimals: 6, priceUsd8: 1n * 10n ** 8n, ltvBps: 7700, liquidationThresholdBps: 8000, liquidationBonusBps: 10450, reserveFactorBps: 1000, rates: 'stable' },
];

const RAY = 10n ** 27n;
const pct = (p: bigint) => (RAY * p) / 100n;

/** DefaultReserveInterestRateStrategy constructor arguments after the provider, in ray. */
const RATE_CURVES = {
  volatile: {
    optimalUsageRatio: pct(80n),
    baseVariableBorrowRate: 0n,
    variableRateSlope1: pct(4n),
    variableRateSlope2: pct(80n),
  },
  stable: {
    optimalUsageRatio: pct(90n),
    baseVariableBorrowRate: 0n,
    variableRateSlope1: pct(4n),
    variableRateSlope2: pct(60n),
  },
} as const;

const LOGIC_LIBRARIES = [
  'SupplyLogic',
  'BorrowLogic',
  'LiquidationLogic',
  'EModeLogic',
  'BridgeLogic',
  'PoolLogic',
  'ConfiguratorLogic',
  // Links BorrowLogic, so it must come after it.
  'FlashLoanLogic',
] as const;

const role = (name: string) => keccak256(toHex(name));

export interface DeployAaveMarketOptions {
  /** Defaults to the node's first unlocked account (anvil account 0). */
  admin?: Address;
  marketId?: string;
}

export async function deployAaveMarket(clients: LocalClients, opts: DeployAaveMarketOptions = {}): Promise<AaveMarket> {
  const { publicClient } = clients;
  const admin = opts.admin ?? (await clients.walletClient.getAddresses())[0];
  if (!admin) throw new Error('no admin account: the node has no unlocked accounts');
  const chainId = await publicClient.getChainId();

  const deploy = (name: string, args: readonly unknown[] = [], libraries: Record<string, Address> = {}) => {
    const artifact = loadArtifact(name);
    const bytecode = linkBytecode(artifact, libraries);
    const data = encodeDeployData({ abi: artifact.abi, bytecode, args } as never) as Hex;
    return deployCode(clients, admin, data, name);
  };
  // The artifacts' ABIs are not `as const`, so calls through them are checked at run time only.
  const call = (address: Address, name: string, functionName: string, args: readonly unknown[]) =>
    sendContractTx(clients, admin, { address, abi: loadArtifact(name).abi as Abi, functionName, args } as never);
  const read = async <T>(address: Address, name: string, functionName: string, args: readonly unknown[] = []) =>
    (await publicClient.readContract({ address, abi: loadArtifact(name).abi, functionName, args })) as T;

  // Provider first: everything else finds its peers through it.
  const addressesProvider = await deploy('PoolAddressesProvider', [opts.marketId ?? 'Marginwatch Local', admin]);
  const provider = (fn: string, args: readonly unknown[]) => call(addressesProvider, 'PoolAddressesProvider', fn, args);

  // ACLManager reads its admin from the provider in its constructor.
  await provider('setACLAdmin', [admin]);
  const aclManager = await deploy('ACLManager', [addressesProvider]);
  await provider('setACLManager', [aclManager]);
  for (const r of ['POOL_ADMIN', 'RISK_ADMIN', 'EMERGENCY_ADMIN', 'ASSET_LISTING_ADMIN']) {
    await call(aclManager, 'ACLManager', 'grantRole', [role(r), admin]);
  }

  const libraries: Record<string, Address> = {};
  for (const name of LOGIC_LIBRARIES) libraries[name] = await deploy(name, [], libraries);

  // The provider wraps each implementation in a proxy and initialises it; we use the proxies.
  const poolImpl = await deploy('Pool', [addressesProvider], libraries);
  await provider('setPoolImpl', [poolImpl]);
  const pool = await read<Address>(addressesProvider, 'PoolAddressesProvider', 'getPool');

  const configuratorImpl = await deploy('PoolConfigurator', [], libraries);
  await provider('setPoolConfiguratorImpl', [configuratorImpl]);
  const poolConfigurator = await read<Address>(addressesProvider, 'PoolAddressesProvider', 'getPoolConfigurator');

  const dataProvider = await deploy('AaveProtocolDataProvider', [addressesProvider]);
  await provider('setPoolDataProvider', [dataProvider]);

  // Underlying tokens and their price feeds.
  const assets: Address[] = [];
  const feeds: Address[] = [];
  for (const spec of RESERVE_SPECS) {
    // WETH9Mocked is real WETH (deposit/withdraw) plus an open mint, like MintableERC20's.
    assets.push(
      spec.symbol === 'WETH'
        ? await deploy('WETH9Mocked')
        : await deploy('MintableERC20', [spec.name, spec.symbol, spec.decimals]),
    );
    feeds.push(await deploy('MockAggregator', [spec.priceUsd8]));
  }
  // Base currency 0x0 with unit 1e8: prices are USD with 8 decimals, as on Aave's mainnet market.
  const oracle = await deploy('AaveOracle', [
    addressesProvider,
    assets,
    feeds,
    '0x0000000000000000000000000000000000000000',
    '0x0000000000000000000000000000000000000000',
    10n ** 8n,
  ]);
  await provider('setPriceOracle', [oracle]);

  // Token implementations are shared; initReserves puts a proxy in front of each, per reserve.
  const aTokenImpl = await deploy('AToken', [pool]);
  const stableDebtImpl = await deploy('StableDebtToken', [pool]);
  const variableDebtImpl = await deploy('VariableDebtToken', [pool]);
  const deployStrategy = (kind: keyof typeof RATE_CURVES) => {
    const c = RATE_CURVES[kind];
    return deploy('DefaultReserveInterestRateStrategy', [
      addressesProvider,
      c.optimalUsageRatio,
      c.baseVariableBorrowRate,
      c.variableRateSlope1,
      c.variableRateSlope2,
      // Stable-rate borrowing stays disabled; these only need to be valid.
      pct(0n),
      pct(0n),
      pct(2n),
      pct(8n),
      pct(20n),
    ]);
  };
  const strategies = { volatile: await deployStrategy('volatile'), stable: await deployStrategy('stable') };

  const configurator = (fn: string, args: readonly unknown[]) => call(poolConfigurator, 'PoolConfigurator', fn, args);
  await configurator('initReserves', [
    RESERVE_SPECS.map((spec, i) => ({
      aTokenImpl,
      stableDebtTokenImpl: stableDebtImpl,
      variableDebtTokenImpl: variableDebtImpl,
      underlyingAssetDecimals: spec.decimals,
      interestRateStrategyAddress: strategies[spec.rates],
      underlyingAsset: assets[i],
      treasury: admin,
      incentivesController: '0x0000000000000000000000000000000000000000',
      aTokenName: `Aave Local ${spec.symbol}`,
      aTokenSymbol: `aLoc${spec.symbol}`,
      variableDebtTokenName: `Aave Local Variable Debt ${spec.symbol}`,
      variableDebtTokenSymbol: `variableDebtLoc${spec.symbol}`,
      stableDebtTokenName: `Aave Local Stable Debt ${spec.symbol}`,
      stableDebtTokenSymbol: `stableDebtLoc${spec.symbol}`,
      params: '0x',
    })),
  ]);

  const reserves = {} as Record<ReserveSymbol, ReserveInfo>;
  for (const [i, spec] of RESERVE_SPECS.entries()) {
    const asset = assets[i]!;
    // Caps stay 0 (unlimited) as initReserves leaves them; no isolation, no e-mode.
    await configurator('configureReserveAsCollateral', [
      asset,
      spec.ltvBps,
      spec.liquidationThresholdBps,
      spec.liquidationBonusBps,
    ]);
    await configurator('setReserveBorrowing', [asset, true]);
    await configurator('setReserveFactor', [asset, spec.reserveFactorBps]);
    const [aToken, , variableDebtToken] = await read<readonly [Address, Address, Address]>(
      dataProvider,
      'AaveProtocolDataProvider',
      'getReserveTokensAddresses',
      [asset],
    );
    reserves[spec.symbol] = {
      symbol: spec.symbol,
      decimals: spec.decimals,
      asset,
      aToken,
      variableDebtToken,
      feed: feeds[i]!,
      ltvBps: spec.ltvBps,
      liquidationThresholdBps: spec.liquidationThresholdBps,
      liquidationBonusBps: spec.liquidationBonusBps,
    };
  }

  return { chainId, addressesProvider, pool, poolConfigurator, oracle, dataProvider, aclManager, admin, reserves };
}
