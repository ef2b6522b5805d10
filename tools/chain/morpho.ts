import { existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createHash } from 'node:crypto';
import { encodeAbiParameters, encodeDeployData, keccak256, parseAbi, parseUnits, toHex, type Abi, type Address, type Hex } from 'viem';
import { deployCode, sendContractTx, type LocalClients } from './actions';
import { loadArtifact } from './artifacts';

/*
 * A real Morpho Blue on the local chain, compiled at test time from the published sources
 * (npm @morpho-org/morpho-blue@1.0.0) with solc-js 0.8.19 and the settings Morpho ships
 * with (via-IR, 999999 runs, paris, no metadata hash). The compiler output is cached in
 * .cache/morpho-blue/ by a hash of the sources and settings (a cold compile takes ~45 s).
 * Tokens are Aave's MintableERC20 (Morpho's ERC20Mock has no decimals()).
 */

type Compiled = { abi: Abi; bytecode: Hex };
const require = createRequire(import.meta.url);
const SOURCE_ROOT = join(dirname(require.resolve('@morpho-org/morpho-blue/package.json')), 'src');
const CACHE_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '.cache', 'morpho-blue');
const SETTINGS = { viaIR: true, optimizer: { enabled: true, runs: 999999 }, evmVersion: 'paris', metadata: { bytecodeHash: 'none' }, outputSelection: { '*': { '*': ['abi', 'evm.bytecode.object'] } } };
const WANTED = { Morpho: 'Morpho.sol', IrmMock: 'mocks/IrmMock.sol', OracleMock: 'mocks/OracleMock.sol' } as const;

function sources(): Record<string, { content: string }> {
  const found: Record<string, { content: string }> = {};
  const walk = (dir: string) => {
    for (const name of readdirSync(dir).sort()) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else if (name.endsWith('.sol')) found[relative(SOURCE_ROOT, path)] = { content: readFileSync(path, 'utf8') };
    }
  };
  walk(SOURCE_ROOT);
  return found;
}

let compiled: Record<keyof typeof WANTED, Compiled> | undefined;

/** The three contracts, compiled once per source/setting hash and cached on disk. */
export function morphoArtifacts(onProgress: (line: string) => void = () => {}): Record<keyof typeof WANTED, Compiled> {
  if (compiled) return compiled;
  const input = { language: 'Solidity', sources: sources(), settings: SETTINGS };
  const key = createHash('sha256').update(JSON.stringify(input)).digest('hex').slice(0, 16);
  const cachePath = join(CACHE_DIR, `${key}.json`);
  if (existsSync(cachePath)) {
    compiled = JSON.parse(readFileSync(cachePath, 'utf8')) as typeof compiled;
    return compiled!;
  }
  onProgress('compiling Morpho Blue 1.0.0 with solc 0.8.19 (via-IR; about 45 s, cached afterwards)…');
  const solc = require('solc') as { compile(input: string): string; version(): string };
  if (!solc.version().startsWith('0.8.19')) throw new Error(`Morpho Blue needs solc 0.8.19, found ${solc.version()}`);
  const output = JSON.parse(solc.compile(JSON.stringify(input))) as {
    errors?: Array<{ severity: string; formattedMessage: string }>;
    contracts: Record<string, Record<string, { abi: Abi; evm: { bytecode: { object: string } } }>>;
  };
  const errors = (output.errors ?? []).filter((error) => error.severity === 'error');
  if (errors.length > 0) throw new Error(`solc failed:\n${errors.map((error) => error.formattedMessage).join('\n')}`);
  const result = {} as Record<keyof typeof WANTED, Compiled>;
  for (const [name, file] of Object.entries(WANTED) as Array<[keyof typeof WANTED, string]>) {
    const contract = output.contracts[file]?.[name];
    if (!contract) throw new Error(`solc output has no ${file}:${name}`);
    result[name] = { abi: contract.abi, bytecode: `0x${contract.evm.bytecode.object}` as Hex };
  }
  mkdirSync(CACHE_DIR, { recursive: true });
  writeFileSync(cachePath, JSON.stringify(result));
  compiled = result;
  return result;
}

export const morphoTestAbi = parseAbi([
  'struct MarketParams { address loanToken; address collateralToken; address oracle; address irm; uint256 lltv; }',
  'function enableIrm(address irm)',
  'function enableLltv(uint256 lltv)',
  'function createMarket(MarketParams marketParams)',
  'function supply(MarketParams marketParams, uint256 assets, uint256 shares, address onBehalf, bytes data) returns (uint256, uint256)',
  'function supplyCollateral(MarketParams marketParams, uint256 assets, address onBehalf, bytes data)',
  'function borrow(MarketParams marketParams, uint256 assets, uint256 shares, address onBehalf, address receiver) returns (uint256, uint256)',
  'function liquidate(MarketParams marketParams, address borrower, uint256 seizedAssets, uint256 repaidShares, bytes data) returns (uint256, uint256)',
  'function position(bytes32 id, address user) view returns (uint256 supplyShares, uint128 borrowShares, uint128 collateral)',
  'function setPrice(uint256 newPrice)',
]);
const tokenAbi = parseAbi(['function mint(address account, uint256 amount) returns (bool)', 'function approve(address spender, uint256 amount) returns (bool)']);

export type MarketParams = { loanToken: Address; collateralToken: Address; oracle: Address; irm: Address; lltv: bigint };
export type MorphoTestToken = { asset: Address; symbol: string; decimals: number };
/** One market of the local Morpho: its params (with its own OracleMock), id and tokens. */
export type LocalMorphoMarket = {
  params: MarketParams;
  /** keccak256(abi.encode(params)): the market id a watch names. */
  id: Hex;
  loan: MorphoTestToken;
  collateral: MorphoTestToken;
};
/** The local Morpho Blue and its first market, USDC lent against WETH. */
export type LocalMorpho = LocalMorphoMarket & { morpho: Address; admin: Address };

export const LLTV = parseUnits('0.86', 18);

export function marketId(params: MarketParams): Hex {
  return keccak256(
    encodeAbiParameters(
      [{ type: 'address' }, { type: 'address' }, { type: 'address' }, { type: 'address' }, { type: 'uint256' }],
      [params.loanToken, params.collateralToken, params.oracle, params.irm, params.lltv],
    ),
  );
}

/** OracleMock's price: loan-token units per collateral unit, scaled by 1e36 (decimals included). */
export function oraclePrice(usdPerCollateral: string, loanDecimals: number, collateralDecimals: number): bigint {
  return parseUnits(usdPerCollateral, 36 + loanDecimals - collateralDecimals);
}

/** A USDC-loan / WETH-collateral market at LLTV 86%, with 10M USDC supplied by the admin. */
export async function deployMorpho(clients: LocalClients, admin: Address, onProgress?: (line: string) => void): Promise<LocalMorpho> {
  const artifacts = morphoArtifacts(onProgress);
  const usdc = await deployMorphoTestToken(clients, admin, { name: 'Morpho USDC', symbol: 'USDC', decimals: 6 });
  const weth = await deployMorphoTestToken(clients, admin, { name: 'Morpho WETH', symbol: 'WETH', decimals: 18 });
  const morpho = await deployCode(clients, admin, encodeDeployData({ abi: artifacts.Morpho.abi, bytecode: artifacts.Morpho.bytecode, args: [admin] } as never) as Hex, 'Morpho');
  const irm = await deployCode(clients, admin, encodeDeployData({ abi: artifacts.IrmMock.abi, bytecode: artifacts.IrmMock.bytecode } as never) as Hex, 'IrmMock');
  await sendContractTx(clients, admin, { address: morpho, abi: morphoTestAbi, functionName: 'enableIrm', args: [irm] });
  await sendContractTx(clients, admin, { address: morpho, abi: morphoTestAbi, functionName: 'enableLltv', args: [LLTV] });
  const market = await createMorphoMarket(clients, { morpho, admin }, { loan: usdc, collateral: weth, irm, price: '2000', lent: '10000000' });
  return { morpho, admin, ...market };
}

export async function deployMorphoTestToken(clients: LocalClients, admin: Address, token: { name: string; symbol: string; decimals: number }): Promise<MorphoTestToken> {
  const artifact = loadArtifact('MintableERC20');
  const asset = await deployCode(clients, admin, encodeDeployData({ abi: artifact.abi, bytecode: artifact.bytecode, args: [token.name, token.symbol, token.decimals] } as never) as Hex, token.symbol);
  return { asset, symbol: token.symbol, decimals: token.decimals };
}

/** A market of the given tokens at LLTV 86% with its own OracleMock at `price` (loan tokens per collateral token) and `lent` loan tokens supplied by the admin. */
export async function createMorphoMarket(
  clients: LocalClients,
  local: { morpho: Address; admin: Address },
  input: { loan: MorphoTestToken; collateral: MorphoTestToken; irm: Address; price: string; lent: string },
): Promise<LocalMorphoMarket> {
  const artifacts = morphoArtifacts();
  const oracle = await deployCode(clients, local.admin, encodeDeployData({ abi: artifacts.OracleMock.abi, bytecode: artifacts.OracleMock.bytecode } as never) as Hex, 'OracleMock');
  const params: MarketParams = { loanToken: input.loan.asset, collateralToken: input.collateral.asset, oracle, irm: input.irm, lltv: LLTV };
  const market: LocalMorphoMarket = { params, id: marketId(params), loan: input.loan, collateral: input.collateral };
  await setMorphoPrice(clients, local, input.price, market);
  await sendContractTx(clients, local.admin, { address: local.morpho, abi: morphoTestAbi, functionName: 'createMarket', args: [params] });
  const lent = parseUnits(input.lent, input.loan.decimals);
  await mintAndApprove(clients, local, local.admin, input.loan.asset, lent);
  await sendContractTx(clients, local.admin, { address: local.morpho, abi: morphoTestAbi, functionName: 'supply', args: [params, lent, 0n, local.admin, '0x'] });
  return market;
}

/** Another copy of Morpho Blue's code (anyone can deploy one) holding a market of the same params, hence the same id. */
export async function deployMorphoCopyWithMarket(clients: LocalClients, deployer: Address, params: MarketParams): Promise<Address> {
  const artifacts = morphoArtifacts();
  const copy = await deployCode(clients, deployer, encodeDeployData({ abi: artifacts.Morpho.abi, bytecode: artifacts.Morpho.bytecode, args: [deployer] } as never) as Hex, 'Morpho copy');
  await sendContractTx(clients, deployer, { address: copy, abi: morphoTestAbi, functionName: 'enableIrm', args: [params.irm] });
  await sendContractTx(clients, deployer, { address: copy, abi: morphoTestAbi, functionName: 'enableLltv', args: [params.lltv] });
  await sendContractTx(clients, deployer, { address: copy, abi: morphoTestAbi, functionName: 'createMarket', args: [params] });
  return copy;
}

/** A second market on the same Morpho: WETH lent against a wstETH-like token at 1.2 WETH each, 10,000 WETH supplied (values in WETH, not dollars). */
export async function createWethLoanMarket(clients: LocalClients, local: LocalMorpho): Promise<LocalMorphoMarket> {
  const wsteth = await deployMorphoTestToken(clients, local.admin, { name: 'Morpho wstETH', symbol: 'wstETH', decimals: 18 });
  return createMorphoMarket(clients, local, { loan: local.collateral, collateral: wsteth, irm: local.params.irm, price: '1.2', lent: '10000' });
}

/** Test tokens of the market (Aave's MintableERC20, minted by the market admin) for anyone. */
export async function mintMorphoToken(clients: LocalClients, local: Pick<LocalMorpho, 'admin'>, asset: Address, to: Address, amount: bigint): Promise<void> {
  await sendContractTx(clients, local.admin, { address: asset, abi: tokenAbi, functionName: 'mint', args: [to, amount] });
}

async function mintAndApprove(clients: LocalClients, local: Pick<LocalMorpho, 'admin' | 'morpho'>, owner: Address, asset: Address, amount: bigint): Promise<void> {
  await sendContractTx(clients, owner, { address: asset, abi: tokenAbi, functionName: 'mint', args: [owner, amount] });
  await sendContractTx(clients, owner, { address: asset, abi: tokenAbi, functionName: 'approve', args: [local.morpho, amount] });
}

/** A fresh borrower (impersonated, with gas): collateral in, the loan token borrowed out, in `market` (default: the USDC/WETH one). */
export async function openMorphoPosition(clients: LocalClients, local: LocalMorpho, input: { collateral: string; borrow: string }, market: LocalMorphoMarket = local): Promise<Address> {
  const account = `0x${keccak256(toHex(`morpho-borrower-${Date.now()}-${Math.random()}`)).slice(26)}` as Address;
  await clients.testClient.impersonateAccount({ address: account });
  await clients.testClient.setBalance({ address: account, value: parseUnits('10', 18) });
  const collateral = parseUnits(input.collateral, market.collateral.decimals);
  await mintAndApprove(clients, local, account, market.collateral.asset, collateral);
  await sendContractTx(clients, account, { address: local.morpho, abi: morphoTestAbi, functionName: 'supplyCollateral', args: [market.params, collateral, account, '0x'] });
  await sendContractTx(clients, account, { address: local.morpho, abi: morphoTestAbi, functionName: 'borrow', args: [market.params, parseUnits(input.borrow, market.loan.decimals), 0n, account, account] });
  return account;
}

/** The market's oracle price: loan tokens per collateral token (USDC per WETH in the default market). */
export async function setMorphoPrice(clients: LocalClients, local: Pick<LocalMorpho, 'admin'>, loanPerCollateral: string, market: LocalMorphoMarket): Promise<void> {
  await sendContractTx(clients, local.admin, { address: market.params.oracle, abi: morphoTestAbi, functionName: 'setPrice', args: [oraclePrice(loanPerCollateral, market.loan.decimals, market.collateral.decimals)] });
}

/** Morpho's own liquidation of a small slice of collateral by the admin (who holds USDC): it reverts for a healthy position. */
export async function liquidateMorpho(clients: LocalClients, local: LocalMorpho, borrower: Address): Promise<void> {
  await mintAndApprove(clients, local, local.admin, local.loan.asset, parseUnits('1000000', 6));
  await sendContractTx(clients, local.admin, { address: local.morpho, abi: morphoTestAbi, functionName: 'liquidate', args: [local.params, borrower, parseUnits('0.01', 18), 0n, '0x'] });
}
