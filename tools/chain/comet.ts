import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { encodeDeployData, keccak256, parseUnits, stringToHex, toHex, type Abi, type Address, type Hex } from 'viem';
import { deployCode, sendContractTx, type LocalClients } from './actions';

/*
 * A real Compound v3 market on the local chain, from the compiled Comet contracts in
 * ../shared/protocols/comet (compound-finance/comet, unmodified): a USDC base with WETH and
 * WBTC collateral, priced by the repo's own SimplePriceFeed. Test-time only: the shared
 * folder sits beside the clone on this machine and in CI.
 */

type Artifact = { abi: Abi; bytecode: Hex };
export const COMET_ARTIFACTS_PATH = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'shared', 'protocols', 'comet', 'artifacts.json');

let artifacts: Record<string, Artifact> | undefined;
function artifact(name: 'Comet' | 'CometExt' | 'FaucetToken' | 'SimplePriceFeed'): Artifact {
  artifacts ??= (JSON.parse(readFileSync(COMET_ARTIFACTS_PATH, 'utf8')) as { contracts: Record<string, Artifact> }).contracts;
  const found = artifacts[name];
  if (!found) throw new Error(`${name} is missing from ${COMET_ARTIFACTS_PATH}`);
  return found;
}

export type CometSymbol = 'USDC' | 'WETH' | 'WBTC';
export type CometToken = { symbol: CometSymbol; asset: Address; decimals: number; priceFeed: Address; roundId: bigint };
/** A local Comet: its base token (`base`) and each token with the feed this Comet prices it by. */
export type LocalComet = { comet: Address; admin: Address; base: CometSymbol; tokens: Record<CometSymbol, CometToken> };

const TOKENS: ReadonlyArray<{ symbol: CometSymbol; decimals: number; price: string }> = [
  { symbol: 'USDC', decimals: 6, price: '1' },
  { symbol: 'WETH', decimals: 18, price: '2000' },
  { symbol: 'WBTC', decimals: 8, price: '60000' },
];

/** The USDC market's collateral settings, close to the live Ethereum market's. */
const COLLATERAL = {
  WETH: { borrowCF: '0.825', liquidateCF: '0.895', liquidationFactor: '0.95', supplyCap: '1000000' },
  WBTC: { borrowCF: '0.70', liquidateCF: '0.77', liquidationFactor: '0.95', supplyCap: '10000' },
} as const;

const factor = (value: string) => parseUnits(value, 18);

type CollateralSettings = { borrowCF: string; liquidateCF: string; liquidationFactor: string; supplyCap: string };

/** One Comet (its extension too) over the given base and collaterals, each priced by its own feed, with the live USDC market's rate curve; storage initialised. */
async function deployCometMarket(
  clients: LocalClients,
  admin: Address,
  input: { name: string; symbol: string; base: CometToken; baseBorrowMin: bigint; targetReserves: bigint; collaterals: Array<{ token: CometToken } & CollateralSettings> },
): Promise<Address> {
  const deploy = (name: Parameters<typeof artifact>[0], args: readonly unknown[]) =>
    deployCode(clients, admin, encodeDeployData({ abi: artifact(name).abi, bytecode: artifact(name).bytecode, args } as never) as Hex, name);
  const extension = await deploy('CometExt', [{ name32: stringToHex(input.name, { size: 32 }), symbol32: stringToHex(input.symbol, { size: 32 }) }]);
  const comet = await deploy('Comet', [
    {
      governor: admin,
      pauseGuardian: admin,
      baseToken: input.base.asset,
      baseTokenPriceFeed: input.base.priceFeed,
      extensionDelegate: extension,
      supplyKink: factor('0.8'),
      supplyPerYearInterestRateSlopeLow: factor('0.0325'),
      supplyPerYearInterestRateSlopeHigh: factor('0.4'),
      supplyPerYearInterestRateBase: 0n,
      borrowKink: factor('0.8'),
      borrowPerYearInterestRateSlopeLow: factor('0.035'),
      borrowPerYearInterestRateSlopeHigh: factor('0.25'),
      borrowPerYearInterestRateBase: factor('0.015'),
      storeFrontPriceFactor: factor('0.5'),
      trackingIndexScale: 10n ** 15n,
      baseTrackingSupplySpeed: 0n,
      baseTrackingBorrowSpeed: 0n,
      baseMinForRewards: input.baseBorrowMin,
      baseBorrowMin: input.baseBorrowMin,
      targetReserves: input.targetReserves,
      assetConfigs: input.collaterals.map(({ token, ...settings }) => ({
        asset: token.asset,
        priceFeed: token.priceFeed,
        decimals: token.decimals,
        borrowCollateralFactor: factor(settings.borrowCF),
        liquidateCollateralFactor: factor(settings.liquidateCF),
        liquidationFactor: factor(settings.liquidationFactor),
        supplyCap: parseUnits(settings.supplyCap, token.decimals),
      })),
    },
  ]);
  await sendContractTx(clients, admin, { address: comet, abi: artifact('Comet').abi, functionName: 'initializeStorage', args: [] } as never);
  return comet;
}

export async function deployComet(clients: LocalClients, admin: Address): Promise<LocalComet> {
  const deploy = (name: Parameters<typeof artifact>[0], args: readonly unknown[]) =>
    deployCode(clients, admin, encodeDeployData({ abi: artifact(name).abi, bytecode: artifact(name).bytecode, args } as never) as Hex, name);
  const tokens = {} as Record<CometSymbol, CometToken>;
  for (const token of TOKENS) {
    const asset = await deploy('FaucetToken', [0n, `Local ${token.symbol}`, token.decimals, token.symbol]);
    const priceFeed = await deploy('SimplePriceFeed', [parseUnits(token.price, 8), 8]);
    tokens[token.symbol] = { symbol: token.symbol, asset, decimals: token.decimals, priceFeed, roundId: 1n };
  }
  const comet = await deployCometMarket(clients, admin, {
    name: 'Compound USDC',
    symbol: 'cUSDCv3',
    base: tokens.USDC,
    baseBorrowMin: 10n ** 6n,
    targetReserves: parseUnits('5000000', 6),
    collaterals: (['WETH', 'WBTC'] as const).map((symbol) => ({ token: tokens[symbol], ...COLLATERAL[symbol] })),
  });
  const local: LocalComet = { comet, admin, base: 'USDC', tokens };
  // Lenders' USDC for borrowers to take.
  await supplyAs(clients, local, admin, 'USDC', parseUnits('10000000', 6));
  return local;
}

/**
 * A second Comet lending WETH against WBTC, priced in ETH as Compound's WETH markets are (the
 * base feed answers 1.0, WBTC 30 ETH): its values are not dollars. Same tokens as `usdc`, new
 * feeds; 10,000 WETH supplied by the admin.
 */
export async function deployWethComet(clients: LocalClients, usdc: LocalComet): Promise<LocalComet> {
  const feed = (price: string) => deployCode(clients, usdc.admin, encodeDeployData({ abi: artifact('SimplePriceFeed').abi, bytecode: artifact('SimplePriceFeed').bytecode, args: [parseUnits(price, 8), 8] } as never) as Hex, 'SimplePriceFeed');
  const tokens: Record<CometSymbol, CometToken> = {
    USDC: usdc.tokens.USDC,
    WETH: { ...usdc.tokens.WETH, priceFeed: await feed('1'), roundId: 1n },
    WBTC: { ...usdc.tokens.WBTC, priceFeed: await feed('30'), roundId: 1n },
  };
  const comet = await deployCometMarket(clients, usdc.admin, {
    name: 'Compound WETH',
    symbol: 'cWETHv3',
    base: tokens.WETH,
    baseBorrowMin: 10n ** 15n,
    targetReserves: parseUnits('5000', 18),
    collaterals: [{ token: tokens.WBTC, ...COLLATERAL.WBTC }],
  });
  const local: LocalComet = { comet, admin: usdc.admin, base: 'WETH', tokens };
  await supplyAs(clients, local, usdc.admin, 'WETH', parseUnits('10000', 18));
  return local;
}

/** The market's test tokens for anyone (FaucetToken.allocateTo). */
export async function mintComet(clients: LocalClients, local: LocalComet, to: Address, symbol: CometSymbol, amount: bigint): Promise<void> {
  await sendContractTx(clients, local.admin, { address: local.tokens[symbol].asset, abi: artifact('FaucetToken').abi, functionName: 'allocateTo', args: [to, amount] } as never);
}

async function supplyAs(clients: LocalClients, local: LocalComet, from: Address, symbol: CometSymbol, amount: bigint): Promise<void> {
  await mintComet(clients, local, from, symbol, amount);
  await sendContractTx(clients, from, { address: local.tokens[symbol].asset, abi: artifact('FaucetToken').abi, functionName: 'approve', args: [local.comet, amount] } as never);
  await sendContractTx(clients, from, { address: local.comet, abi: artifact('Comet').abi, functionName: 'supply', args: [local.tokens[symbol].asset, amount] } as never);
}

/** A fresh borrower (an impersonated address with gas): supplies the collateral, then borrows the base token. */
export async function openCometPosition(clients: LocalClients, local: LocalComet, input: { collateral: 'WETH' | 'WBTC'; collateralAmount: string; borrow: string }): Promise<Address> {
  const account = `0x${keccak256(toHex(`comet-borrower-${Date.now()}-${Math.random()}`)).slice(26)}` as Address;
  await clients.testClient.impersonateAccount({ address: account });
  await clients.testClient.setBalance({ address: account, value: parseUnits('10', 18) });
  await supplyAs(clients, local, account, input.collateral, parseUnits(input.collateralAmount, local.tokens[input.collateral].decimals));
  const base = local.tokens[local.base];
  await sendContractTx(clients, account, { address: local.comet, abi: artifact('Comet').abi, functionName: 'withdraw', args: [base.asset, parseUnits(input.borrow, base.decimals)] } as never);
  return account;
}

/** A new price round on the token's feed (8 decimals), as Chainlink would publish it. */
export async function setCometPrice(clients: LocalClients, local: LocalComet, symbol: CometSymbol, price: string): Promise<void> {
  const token = local.tokens[symbol];
  token.roundId += 1n;
  await sendContractTx(clients, local.admin, {
    address: token.priceFeed,
    abi: artifact('SimplePriceFeed').abi,
    functionName: 'setRoundData',
    args: [token.roundId, parseUnits(price, 8), 0n, 0n, token.roundId],
  } as never);
}

/** Comet's own verdict: may `absorb` take this account now? */
export async function cometIsLiquidatable(clients: LocalClients, local: LocalComet, account: Address): Promise<boolean> {
  return (await clients.publicClient.readContract({ address: local.comet, abi: artifact('Comet').abi, functionName: 'isLiquidatable', args: [account] })) as boolean;
}

/** Comet's absorb, by the admin as the absorber: it succeeds only for a liquidatable account. */
export async function absorb(clients: LocalClients, local: LocalComet, account: Address): Promise<void> {
  await sendContractTx(clients, local.admin, { address: local.comet, abi: artifact('Comet').abi, functionName: 'absorb', args: [local.admin, [account]] } as never);
}
