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
export type LocalComet = { comet: Address; admin: Address; tokens: Record<CometSymbol, CometToken> };

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

export async function deployComet(clients: LocalClients, admin: Address): Promise<LocalComet> {
  const deploy = (name: Parameters<typeof artifact>[0], args: readonly unknown[]) =>
    deployCode(clients, admin, encodeDeployData({ abi: artifact(name).abi, bytecode: artifact(name).bytecode, args } as never) as Hex, name);
  const tokens = {} as Record<CometSymbol, CometToken>;
  for (const token of TOKENS) {
    const asset = await deploy('FaucetToken', [0n, `Local ${token.symbol}`, token.decimals, token.symbol]);
    const priceFeed = await deploy('SimplePriceFeed', [parseUnits(token.price, 8), 8]);
    tokens[token.symbol] = { symbol: token.symbol, asset, decimals: token.decimals, priceFeed, roundId: 1n };
  }
  const extension = await deploy('CometExt', [{ name32: stringToHex('Compound USDC', { size: 32 }), symbol32: stringToHex('cUSDCv3', { size: 32 }) }]);
  const comet = await deploy('Comet', [
    {
      governor: admin,
      pauseGuardian: admin,
      baseToken: tokens.USDC.asset,
      baseTokenPriceFeed: tokens.USDC.priceFeed,
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
      baseMinForRewards: 10n ** 6n,
      baseBorrowMin: 10n ** 6n,
      targetReserves: parseUnits('5000000', 6),
      assetConfigs: (['WETH', 'WBTC'] as const).map((symbol) => ({
        asset: tokens[symbol].asset,
        priceFeed: tokens[symbol].priceFeed,
        decimals: tokens[symbol].decimals,
        borrowCollateralFactor: factor(COLLATERAL[symbol].borrowCF),
        liquidateCollateralFactor: factor(COLLATERAL[symbol].liquidateCF),
        liquidationFactor: factor(COLLATERAL[symbol].liquidationFactor),
        supplyCap: parseUnits(COLLATERAL[symbol].supplyCap, tokens[symbol].decimals),
      })),
    },
  ]);
  await sendContractTx(clients, admin, { address: comet, abi: artifact('Comet').abi, functionName: 'initializeStorage', args: [] } as never);
  const local: LocalComet = { comet, admin, tokens };
  // Lenders' USDC for borrowers to take.
  await supplyAs(clients, local, admin, 'USDC', parseUnits('10000000', 6));
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

/** A fresh borrower (an impersonated address with gas): supplies the collateral, then borrows base USDC. */
export async function openCometPosition(clients: LocalClients, local: LocalComet, input: { collateral: 'WETH' | 'WBTC'; collateralAmount: string; borrowUsdc: string }): Promise<Address> {
  const account = `0x${keccak256(toHex(`comet-borrower-${Date.now()}-${Math.random()}`)).slice(26)}` as Address;
  await clients.testClient.impersonateAccount({ address: account });
  await clients.testClient.setBalance({ address: account, value: parseUnits('10', 18) });
  await supplyAs(clients, local, account, input.collateral, parseUnits(input.collateralAmount, local.tokens[input.collateral].decimals));
  await sendContractTx(clients, account, { address: local.comet, abi: artifact('Comet').abi, functionName: 'withdraw', args: [local.tokens.USDC.asset, parseUnits(input.borrowUsdc, 6)] } as never);
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
