// Things a test does to a local Aave market: move tokens, open and close positions, move prices,
// liquidate, and open thousands of positions quickly.
//
// Every sender is a JSON-RPC account: anvil's unlocked default accounts, or any other address once
// auto-impersonation is on (see `createActions`), so no private keys are handled here.

import {
  createPublicClient,
  createTestClient,
  createWalletClient,
  defineChain,
  encodeAbiParameters,
  encodeFunctionData,
  getAddress,
  http,
  keccak256,
  maxUint256,
  parseAbi,
  parseEventLogs,
  parseUnits,
  toHex,
  type Abi,
  type Address,
  type Chain,
  type ContractFunctionArgs,
  type ContractFunctionName,
  type Hash,
  type Hex,
  type PublicClient,
  type TestClient,
  type TransactionReceipt,
  type Transport,
  type WalletClient,
} from 'viem';
import type { AaveMarket, ReserveSymbol } from './market';

/** The canonical Multicall3 address, the same on every chain. */
export const MULTICALL3_ADDRESS: Address = '0xcA11bde05977b3631167028862bE2a173976CA11';

export const poolAbi = parseAbi([
  'function supply(address asset, uint256 amount, address onBehalfOf, uint16 referralCode)',
  'function borrow(address asset, uint256 amount, uint256 interestRateMode, uint16 referralCode, address onBehalfOf)',
  'function repay(address asset, uint256 amount, uint256 interestRateMode, address onBehalfOf) returns (uint256)',
  'function liquidationCall(address collateralAsset, address debtAsset, address user, uint256 debtToCover, bool receiveAToken)',
  'function getUserAccountData(address user) view returns (uint256 totalCollateralBase, uint256 totalDebtBase, uint256 availableBorrowsBase, uint256 currentLiquidationThreshold, uint256 ltv, uint256 healthFactor)',
  'event LiquidationCall(address indexed collateralAsset, address indexed debtAsset, address indexed user, uint256 debtToCover, uint256 liquidatedCollateralAmount, address liquidator, bool receiveAToken)',
]);

export const tokenAbi = parseAbi([
  'function approve(address spender, uint256 amount) returns (bool)',
  'function allowance(address owner, address spender) view returns (uint256)',
  'function balanceOf(address account) view returns (uint256)',
  'function mint(address account, uint256 value) returns (bool)',
]);

export const oracleAbi = parseAbi([
  'function getAssetPrice(address asset) view returns (uint256)',
  'function getSourceOfAsset(address asset) view returns (address)',
]);

// ---------------------------------------------------------------------------------------------
// Clients

export interface LocalClients {
  chain: Chain;
  rpcUrl: string;
  publicClient: PublicClient<Transport, Chain>;
  walletClient: WalletClient<Transport, Chain>;
  testClient: TestClient<'anvil', Transport, Chain>;
}

/** viem chain for a local anvil node; declares Multicall3 so `publicClient.multicall` works. */
export function localChain(chainId: number, rpcUrl: string): Chain {
  return defineChain({
    id: chainId,
    name: 'Local anvil',
    nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 },
    rpcUrls: { default: { http: [rpcUrl] } },
    contracts: { multicall3: { address: MULTICALL3_ADDRESS } },
    testnet: true,
  });
}

export function createLocalClients(rpcUrl: string, chainId: number): LocalClients {
  const chain = localChain(chainId, rpcUrl);
  const transport = http(rpcUrl);
  // Anvil answers receipts as soon as a transaction is sent (automine), so polling fast is cheap
  // and avoids viem's 4 s default between checks.
  const pollingInterval = 10;
  return {
    chain,
    rpcUrl,
    publicClient: createPublicClient({ chain, transport, pollingInterval }),
    walletClient: createWalletClient({ chain, transport, pollingInterval }),
    testClient: createTestClient({ mode: 'anvil', chain, transport, pollingInterval }),
  };
}

// ---------------------------------------------------------------------------------------------
// Sending

type Writable = 'nonpayable' | 'payable';

export interface ContractWrite<abi extends Abi, fn extends ContractFunctionName<abi, Writable>> {
  address: Address;
  abi: abi;
  functionName: fn;
  args: ContractFunctionArgs<abi, Writable, fn>;
}

/**
 * Sends one contract call from `from` and waits for it to be mined; throws on revert.
 * The gas is the estimate plus 30 % plus 100,000: anvil's estimate is sometimes a little short for
 * Aave's first-time paths (a user's first supply initialises storage mid-call), and an estimate
 * made in the same second as the last accrual (Maker's `drip`, Liquity's `shutdown`) sees no
 * interest to write, while the mined block, a second later, writes storage from zero (20,000 gas
 * a slot): on a loaded machine that made such transactions run out of gas.
 */
export async function sendContractTx<const abi extends Abi, fn extends ContractFunctionName<abi, Writable>>(
  clients: LocalClients,
  from: Address,
  call: ContractWrite<abi, fn> & { value?: bigint },
): Promise<TransactionReceipt> {
  const { publicClient, walletClient } = clients;
  const data = encodeFunctionData({ abi: call.abi, functionName: call.functionName, args: call.args } as never);
  // Estimating through the ABI makes a revert surface here, decoded, rather than as a bare status.
  const estimate = await publicClient.estimateContractGas({ ...call, account: from } as never);
  const hash = await walletClient.sendTransaction({ account: from, to: call.address, data, value: call.value ?? 0n, gas: (estimate * 13n) / 10n + 100_000n });
  return confirm(clients, hash, `${call.functionName} on ${call.address}`);
}

/** Deploys creation code (constructor arguments already appended) and returns the new address. */
export async function deployCode(clients: LocalClients, from: Address, bytecode: Hex, what: string): Promise<Address> {
  const { publicClient, walletClient } = clients;
  const estimate = await publicClient.estimateGas({ account: from, data: bytecode });
  const hash = await walletClient.sendTransaction({ account: from, data: bytecode, gas: (estimate * 13n) / 10n });
  const receipt = await confirm(clients, hash, `deploy ${what}`);
  if (!receipt.contractAddress) throw new Error(`deploy ${what}: no contract address in receipt`);
  return getAddress(receipt.contractAddress);
}

async function confirm(clients: LocalClients, hash: Hash, what: string): Promise<TransactionReceipt> {
  const receipt = await clients.publicClient.waitForTransactionReceipt({ hash });
  if (receipt.status !== 'success') throw new Error(`${what} reverted (tx ${hash})`);
  return receipt;
}

// ---------------------------------------------------------------------------------------------
// Actions

export interface UserAccountData {
  /** USD, 8 decimals (the oracle's base currency unit). */
  totalCollateralBase: bigint;
  totalDebtBase: bigint;
  availableBorrowsBase: bigint;
  /** Basis points. */
  currentLiquidationThreshold: bigint;
  ltv: bigint;
  /** 18 decimals; maxUint256 when there is no debt. */
  healthFactor: bigint;
}

export interface LiquidationResult {
  receipt: TransactionReceipt;
  /** Debt actually repaid (Aave caps it at the close factor and at the user's debt). */
  debtRepaid: bigint;
  collateralSeized: bigint;
}

export interface OpenPositionsOptions {
  collateral?: ReserveSymbol;
  debt?: ReserveSymbol;
  /**
   * Health factors are drawn uniformly from this range (default 1.2–2.5). The lower bound must
   * exceed the collateral's liquidationThreshold/LTV (≈1.031 for WETH): Aave refuses a borrow
   * above LTV, so lower health factors are reached by moving prices afterwards.
   */
  healthFactor?: { min: number; max: number };
  /** Collateral per borrower in base units; default worth $1,000–$100,000 at the current price. */
  collateralAmount?: { min: bigint; max: bigint };
  /** Makes addresses and amounts reproducible. Default: random, so repeated calls never collide. */
  seed?: string;
}

export interface OpenedPosition {
  address: Address;
  collateral: ReserveSymbol;
  debt: ReserveSymbol;
  collateralAmount: bigint;
  debtAmount: bigint;
  /** The health factor aimed at when borrowing, 18 decimals like Aave's. */
  targetHealthFactor: bigint;
}

export interface ChainActions {
  mint(token: Address, to: Address, amount: bigint): Promise<TransactionReceipt>;
  /** Approves the pool when needed, then Pool.supply on the user's own behalf. */
  supply(market: AaveMarket, user: Address, symbol: ReserveSymbol, amount: bigint): Promise<TransactionReceipt>;
  /** Variable rate (mode 2) borrow on the user's own behalf. */
  borrow(market: AaveMarket, user: Address, symbol: ReserveSymbol, amount: bigint): Promise<TransactionReceipt>;
  /** Variable debt; pass maxUint256 to repay it all (the user must hold enough). */
  repay(market: AaveMarket, user: Address, symbol: ReserveSymbol, amount: bigint): Promise<TransactionReceipt>;
  /** Makes AaveOracle.getAssetPrice return `priceUsd8` (USD, 8 decimals) from now on. */
  setPrice(market: AaveMarket, symbol: ReserveSymbol, priceUsd8: bigint): Promise<void>;
  getPrice(market: AaveMarket, symbol: ReserveSymbol): Promise<bigint>;
  mine(blocks?: number): Promise<void>;
  /**
   * Pool.liquidationCall from `liquidator`, receiving the underlying collateral. Mints to the
   * liquidator whatever debt asset it lacks to cover `debtToCover`.
   */
  liquidate(
    market: AaveMarket,
    liquidator: Address,
    collateralSymbol: ReserveSymbol,
    debtSymbol: ReserveSymbol,
    user: Address,
    debtToCover: bigint,
  ): Promise<LiquidationResult>;
  getUserAccountData(market: AaveMarket, user: Address): Promise<UserAccountData>;
  balanceOf(token: Address, owner: Address): Promise<bigint>;
  /** Human amount ("1.5") to base units of the reserve. */
  units(market: AaveMarket, symbol: ReserveSymbol, amount: string): bigint;
  /** evm_snapshot; anvil forgets a snapshot once reverted to, so take a new one after revert. */
  snapshot(): Promise<Hex>;
  revert(id: Hex): Promise<void>;
  openPositions(market: AaveMarket, count: number, opts?: OpenPositionsOptions): Promise<OpenedPosition[]>;
}

/** Native balance given to generated accounts so they can pay for gas. */
const GAS_MONEY = 10n ** 18n;

/**
 * Actions bound to a node. Turns on anvil auto-impersonation first, so `user` may be any address.
 * `minter` sends mints (anyone may call the mock tokens' mint); defaults to anvil account 0.
 */
export async function createActions(clients: LocalClients, minter?: Address): Promise<ChainActions> {
  const { publicClient, testClient } = clients;
  await testClient.request({ method: 'anvil_autoImpersonateAccount', params: [true] } as never);
  const from = minter ?? (await clients.walletClient.getAddresses())[0];
  if (!from) throw new Error('the node has no unlocked account to mint from');

  const reserve = (market: AaveMarket, symbol: ReserveSymbol) => market.reserves[symbol];

  const mint = (token: Address, to: Address, amount: bigint) =>
    sendContractTx(clients, from, { address: token, abi: tokenAbi, functionName: 'mint', args: [to, amount] });

  const balanceOf = (token: Address, owner: Address) =>
    publicClient.readContract({ address: token, abi: tokenAbi, functionName: 'balanceOf', args: [owner] });

  // New addresses have no ether; give them some so their transactions can pay for gas.
  const ensureGas = async (user: Address) => {
    if ((await publicClient.getBalance({ address: user })) < GAS_MONEY / 10n) {
      await testClient.setBalance({ address: user, value: GAS_MONEY });
    }
  };

  const approvePool = async (market: AaveMarket, user: Address, token: Address, amount: bigint) => {
    const allowance = await publicClient.readContract({
      address: token,
      abi: tokenAbi,
      functionName: 'allowance',
      args: [user, market.pool],
    });
    if (allowance >= amount) return;
    await sendContractTx(clients, user, { address: token, abi: tokenAbi, functionName: 'approve', args: [market.pool, amount] });
  };

  const actions: ChainActions = {
    mint,
    balanceOf,

    async supply(market, user, symbol, amount) {
      const { asset } = reserve(market, symbol);
      await ensureGas(user);
      await approvePool(market, user, asset, amount);
      return sendContractTx(clients, user, {
        address: market.pool,
        abi: poolAbi,
        functionName: 'supply',
        args: [asset, amount, user, 0],
      });
    },

    async borrow(market, user, symbol, amount) {
      await ensureGas(user);
      return sendContractTx(clients, user, {
        address: market.pool,
        abi: poolAbi,
        functionName: 'borrow',
        args: [reserve(market, symbol).asset, amount, 2n, 0, user],
      });
    },

    async repay(market, user, symbol, amount) {
      const { asset } = reserve(market, symbol);
      await ensureGas(user);
      await approvePool(market, user, asset, amount);
      return sendContractTx(clients, user, {
        address: market.pool,
        abi: poolAbi,
        functionName: 'repay',
        args: [asset, amount, 2n, user],
      });
    },

    async setPrice(market, symbol, priceUsd8) {
      if (priceUsd8 <= 0n) throw new Error('price must be positive');
      const { asset } = reserve(market, symbol);
      // Ask the oracle for the feed it uses now: someone may have pointed it at another one.
      const feed = await publicClient.readContract({
        address: market.oracle,
        abi: oracleAbi,
        functionName: 'getSourceOfAsset',
        args: [asset],
      });
      // MockAggregator has no setter; its int256 answer is its only state variable, slot 0.
      await testClient.setStorageAt({ address: feed, index: 0, value: toHex(priceUsd8, { size: 32 }) });
      const seen = await actions.getPrice(market, symbol);
      if (seen !== priceUsd8) throw new Error(`oracle returns ${seen} after setting ${priceUsd8} on ${feed}`);
    },

    getPrice(market, symbol) {
      return publicClient.readContract({
        address: market.oracle,
        abi: oracleAbi,
        functionName: 'getAssetPrice',
        args: [reserve(market, symbol).asset],
      });
    },

    async mine(blocks = 1) {
      await testClient.mine({ blocks });
    },

    async liquidate(market, liquidator, collateralSymbol, debtSymbol, user, debtToCover) {
      const debtAsset = reserve(market, debtSymbol).asset;
      await ensureGas(liquidator);
      // maxUint256 means "as much as allowed": cover it with the user's whole debt balance.
      const needed =
        debtToCover === maxUint256 ? await balanceOf(reserve(market, debtSymbol).variableDebtToken, user) : debtToCover;
      const held = await balanceOf(debtAsset, liquidator);
      if (held < needed) await mint(debtAsset, liquidator, needed - held);
      await approvePool(market, liquidator, debtAsset, needed);
      const receipt = await sendContractTx(clients, liquidator, {
        address: market.pool,
        abi: poolAbi,
        functionName: 'liquidationCall',
        args: [reserve(market, collateralSymbol).asset, debtAsset, user, debtToCover, false],
      });
      const [event] = parseEventLogs({ abi: poolAbi, eventName: 'LiquidationCall', logs: receipt.logs });
      if (!event) throw new Error('liquidationCall mined without a LiquidationCall event');
      return {
        receipt,
        debtRepaid: event.args.debtToCover,
        collateralSeized: event.args.liquidatedCollateralAmount,
      };
    },

    async getUserAccountData(market, user) {
      const [totalCollateralBase, totalDebtBase, availableBorrowsBase, currentLiquidationThreshold, ltv, healthFactor] =
        await publicClient.readContract({
          address: market.pool,
          abi: poolAbi,
          functionName: 'getUserAccountData',
          args: [user],
        });
      return { totalCollateralBase, totalDebtBase, availableBorrowsBase, currentLiquidationThreshold, ltv, healthFactor };
    },

    units(market, symbol, amount) {
      return parseUnits(amount, reserve(market, symbol).decimals);
    },

    snapshot() {
      return testClient.snapshot();
    },

    async revert(id) {
      await testClient.revert({ id });
    },

    openPositions(market, count, opts) {
      return openPositions(clients, actions, market, count, opts ?? {});
    },
  };
  return actions;
}

// ---------------------------------------------------------------------------------------------
// Bulk positions
//
// One transaction at a time through viem costs a few round trips each (estimate, send, receipt)
// and a block each. For thousands of borrowers we instead: stop automine; send raw JSON-RPC
// batches with fixed gas limits; mine a chunk of them in one block under a raised block gas limit
// (with 30M-gas blocks, hundreds of full blocks in a row would raise the base fee past what our
// transactions offer); then check that every position exists. A single "whale" funds all collateral by
// supplying on each borrower's behalf, so each borrower only sends its own borrow: two
// transactions a position in total.

const RPC_BATCH = 500;
/**
 * Transactions per mined block. anvil's pool gets slower the fuller it is (sending 10,000
 * before mining took ~11 s, 1,000 ~0.1 s), so we mine often rather than once at the end.
 */
const BLOCK_TXS = 1_000;
/** Far above what BLOCK_TXS Aave calls use (~0.2 G gas for 1,000 supplies). */
const BULK_BLOCK_GAS_LIMIT = 10n ** 12n;

async function openPositions(
  clients: LocalClients,
  actions: ChainActions,
  market: AaveMarket,
  count: number,
  opts: OpenPositionsOptions,
): Promise<OpenedPosition[]> {
  if (!Number.isInteger(count) || count < 0) throw new Error(`count must be a whole number, got ${count}`);
  if (count === 0) return [];
  const { publicClient, testClient } = clients;
  const collateral = opts.collateral ?? 'WETH';
  const debt = opts.debt ?? 'USDC';
  const coll = market.reserves[collateral];
  const owed = market.reserves[debt];
  const hf = opts.healthFactor ?? { min: 1.2, max: 2.5 };
  const floor = coll.liquidationThresholdBps / coll.ltvBps;
  if (!(hf.min > floor) || !(hf.max >= hf.min)) {
    throw new Error(`healthFactor range must satisfy ${floor.toFixed(4)} < min <= max; got ${hf.min}–${hf.max}`);
  }

  const [collPrice, debtPrice] = await Promise.all([actions.getPrice(market, collateral), actions.getPrice(market, debt)]);
  const collUnit = 10n ** BigInt(coll.decimals);
  const range = opts.collateralAmount ?? {
    min: (1_000n * 10n ** 8n * collUnit) / collPrice,
    max: (100_000n * 10n ** 8n * collUnit) / collPrice,
  };
  if (range.min <= 0n || range.max < range.min) throw new Error('collateralAmount range is empty');

  // 1e4 precision is plenty for a target and keeps the arithmetic in bigint.
  const hfMin = BigInt(Math.ceil(hf.min * 1e4));
  const hfMax = BigInt(Math.max(Math.floor(hf.max * 1e4), Number(hfMin)));
  const seed = opts.seed ?? toHex(crypto.getRandomValues(new Uint8Array(16)));
  const positions: OpenedPosition[] = [];
  for (let i = 0; i < count; i++) {
    // Everything about borrower i derives from hash(seed, i): distinct, reproducible, no state.
    const h = keccak256(encodeAbiParameters([{ type: 'string' }, { type: 'uint256' }], [seed, BigInt(i)]));
    const address = getAddress(`0x${h.slice(-40)}`);
    const draw = BigInt(`0x${keccak256(h).slice(2, 18)}`); // 64 random bits
    const collateralAmount = range.min + ((range.max - range.min) * (draw & 0xffffffffn)) / 0xffffffffn;
    const hf1e4 = hfMin + ((hfMax - hfMin) * (draw >> 32n)) / 0xffffffffn;
    // debtValue = collateralValue * LT / HF, converted from USD to the debt asset's units.
    const debtAmount =
      (collateralAmount * collPrice * BigInt(coll.liquidationThresholdBps) * 10n ** BigInt(owed.decimals)) /
      (hf1e4 * debtPrice * collUnit);
    if (debtAmount === 0n) throw new Error('collateral too small to borrow anything');
    positions.push({ address, collateral, debt, collateralAmount, debtAmount, targetHealthFactor: hf1e4 * 10n ** 14n });
  }

  const whale = getAddress(`0x${keccak256(toHex('marginwatch:liquidity-whale')).slice(-40)}`);
  const totalCollateral = positions.reduce((sum, p) => sum + p.collateralAmount, 0n);
  const totalDebt = positions.reduce((sum, p) => sum + p.debtAmount, 0n);

  // Enough ether for thousands of supplies at any base fee anvil will reach.
  await testClient.setBalance({ address: whale, value: 10n ** 24n });
  // Liquidity and collateral through the ordinary (checked) path: a handful of transactions.
  await actions.mint(coll.asset, whale, totalCollateral);
  await actions.mint(owed.asset, whale, totalDebt);
  await actions.supply(market, whale, debt, totalDebt);
  await sendContractTx(clients, whale, {
    address: coll.asset,
    abi: tokenAbi,
    functionName: 'approve',
    args: [market.pool, maxUint256],
  });

  const rpc = (method: string, params: unknown[]) => ({ method, params });
  const supplyData = (p: OpenedPosition) =>
    encodeFunctionData({ abi: poolAbi, functionName: 'supply', args: [coll.asset, p.collateralAmount, p.address, 0] });
  const borrowData = (p: OpenedPosition) =>
    encodeFunctionData({ abi: poolAbi, functionName: 'borrow', args: [owed.asset, p.debtAmount, 2n, 0, p.address] });
  const supplyGas = await padGas(clients, whale, market.pool, supplyData(positions[0]!));
  let borrowGas: bigint | undefined;

  const wasAutomine = await testClient.getAutomine();
  const { gasLimit: normalGasLimit } = await publicClient.getBlock();
  await testClient.setAutomine(false);
  await testClient.setBlockGasLimit({ gasLimit: BULK_BLOCK_GAS_LIMIT });
  try {
    let nonce = await publicClient.getTransactionCount({ address: whale, blockTag: 'pending' });
    for (let start = 0; start < positions.length; start += BLOCK_TXS) {
      const chunk = positions.slice(start, start + BLOCK_TXS);

      // The whale supplies collateral on behalf of each borrower, with explicit consecutive nonces.
      const supplies = chunk.map((p) =>
        rpc('eth_sendTransaction', [
          { from: whale, to: market.pool, data: supplyData(p), gas: toHex(supplyGas), nonce: toHex(nonce++) },
        ]),
      );
      const supplyHashes = await rpcBatches(clients.rpcUrl, supplies);
      await mineAll(clients, 'supply on behalf');

      // Borrowers get gas money, then borrow against what was just supplied for them.
      await rpcBatches(
        clients.rpcUrl,
        chunk.map((p) => rpc('anvil_setBalance', [p.address, toHex(GAS_MONEY)])),
      );
      borrowGas ??= await padGas(clients, chunk[0]!.address, market.pool, borrowData(chunk[0]!));
      const gas = toHex(borrowGas);
      const borrows = chunk.map((p) =>
        rpc('eth_sendTransaction', [{ from: p.address, to: market.pool, data: borrowData(p), gas }]),
      );
      const borrowHashes = await rpcBatches(clients.rpcUrl, borrows);
      await mineAll(clients, 'borrow');
      await verifyPositions(clients, market, chunk, supplyHashes, borrowHashes);
    }
  } finally {
    await testClient.setBlockGasLimit({ gasLimit: normalGasLimit });
    await testClient.setAutomine(wasAutomine);
  }
  return positions;
}

/**
 * Gas for a whole batch from one sample. Padded by half: later transactions in the batch run
 * against slightly different storage (warm vs cold, first vs later users) than the sample.
 */
async function padGas(clients: LocalClients, from: Address, to: Address, data: Hex): Promise<bigint> {
  const estimate = await clients.publicClient.estimateGas({ account: from, to, data });
  return (estimate * 3n) / 2n;
}

/** Mines until the pool is empty, so that everything sent so far is in a block. */
async function mineAll(clients: LocalClients, what: string): Promise<void> {
  for (let i = 0; ; i++) {
    await clients.testClient.mine({ blocks: 1 });
    const status = await clients.testClient.getTxpoolStatus();
    if (status.pending === 0 && status.queued === 0) return;
    if (i >= 100) throw new Error(`${what}: ${status.pending + status.queued} transactions still in the pool after 100 blocks`);
  }
}

/**
 * Requires every position of a chunk to exist on chain. Reading balances through Multicall3 is
 * the cheap proof: anvil builds receipts slowly (~2 ms each, a 5 MB answer per 1,000 supplies),
 * which would otherwise dominate the whole run.
 */
async function verifyPositions(
  clients: LocalClients,
  market: AaveMarket,
  chunk: OpenedPosition[],
  supplyHashes: unknown[],
  borrowHashes: unknown[],
): Promise<void> {
  const first = chunk[0];
  if (!first) return;
  const aToken = market.reserves[first.collateral].aToken;
  const debtToken = market.reserves[first.debt].variableDebtToken;
  const balances = await clients.publicClient.multicall({
    allowFailure: false,
    batchSize: 64_000,
    contracts: chunk.flatMap((p) => [
      { address: aToken, abi: tokenAbi, functionName: 'balanceOf', args: [p.address] } as const,
      { address: debtToken, abi: tokenAbi, functionName: 'balanceOf', args: [p.address] } as const,
    ]),
  });
  // Scaled balances times an index can round one unit below what was supplied or borrowed.
  const bad = chunk.findIndex(
    (p, i) => balances[2 * i]! + 1n < p.collateralAmount || balances[2 * i + 1]! + 1n < p.debtAmount,
  );
  if (bad >= 0) {
    const failures = chunk.filter(
      (p, i) => balances[2 * i]! + 1n < p.collateralAmount || balances[2 * i + 1]! + 1n < p.debtAmount,
    ).length;
    throw new Error(
      `${failures} of ${chunk.length} positions did not open; e.g. ${chunk[bad]!.address} ` +
        `(supply tx ${String(supplyHashes[bad])}, borrow tx ${String(borrowHashes[bad])})`,
    );
  }
}

/**
 * Posts requests as JSON-RPC batches, one after another so that a sender's nonces reach the pool
 * in order; returns results in order and throws on any error.
 */
async function rpcBatches(rpcUrl: string, requests: unknown[]): Promise<unknown[]> {
  const results: unknown[] = new Array(requests.length);
  for (let start = 0; start < requests.length; start += RPC_BATCH) {
    const body = requests
      .slice(start, start + RPC_BATCH)
      .map((r, i) => ({ jsonrpc: '2.0', id: start + i, ...(r as object) }));
    const res = await fetch(rpcUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    if (!res.ok) throw new Error(`JSON-RPC batch failed: HTTP ${res.status}`);
    const answers = (await res.json()) as { id: number; result?: unknown; error?: { message: string } }[];
    for (const answer of answers) {
      if (answer.error) throw new Error(`JSON-RPC error: ${answer.error.message}`);
      results[answer.id] = answer.result;
    }
  }
  return results;
}
