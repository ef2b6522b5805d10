// The other protocols' reads in the same run as the Aave benchmark (tools/bench.ts): the app's
// batched read through each adapter (`readPositions`) against the naive baseline of one
// eth_call per value an account needs, side by side, on real Comet, Morpho Blue, Maker (dss), Liquity v2 (BOLD), Euler v2 and Fluid bytecode.
// Both reads must agree on every account's balances, or the bench fails.

import { existsSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import type { Address, PublicClient } from 'viem';
import { createChainClient } from '../src/chain/client';
import { adapterFor, type ProtocolName } from '../src/protocols';
import { readPositions } from '../src/protocols/read-positions';
import { pinBlock } from '../src/protocols/block-pin';
import { cometAbi } from '../src/protocols/compound-v3/abi';
import { morphoAbi } from '../src/protocols/morpho-blue/abi';
import { evcAbi, vaultAbi } from '../src/protocols/euler-v2/abi';
import type { PositionSnapshot } from '../src/domain/position';
import { jugAbi, spotterAbi, vatAbi } from '../src/protocols/maker/abi';
import type { ProtocolContracts } from '../src/config/env';
import type { LocalChain } from './chain';
import { COMET_ARTIFACTS_PATH, deployComet, openCometPosition, type LocalComet } from './chain/comet';
import { deployMorpho, openMorphoPosition, type LocalMorpho } from './chain/morpho';
import { MAKER_ARTIFACTS_PATH, deployMaker, openMakerVault, type LocalMaker } from './chain/maker';
import { EULER_ARTIFACTS_PATH, deployEuler, newEulerOwner, openEulerPosition, type LocalEuler } from './chain/euler-v2';
import { FLUID_ARTIFACTS_DIR, deployFluid, newFluidOwner, openFluidPosition, type LocalFluid } from './chain/fluid';
import { LIQUITY_ARTIFACTS_PATH, deployLiquity, openTrove, type LocalLiquity } from './chain/liquity-v2';
import { troveManagerAbi } from '../src/protocols/liquity-v2/abi';
import { collateralRatio, redemptionRank, troveIdText, TROVE_STATUS } from '../src/protocols/liquity-v2/normalize';
import { vaultResolverAbi } from '../src/protocols/fluid/abi';
import { fluidHealthFactor, nftIdText } from '../src/protocols/fluid/normalize';

const MULTICALL3: Address = '0xcA11bde05977b3631167028862bE2a173976CA11';

export type ProtocolResult = { protocol: ProtocolName; n: number; batched: { requests: number; ms: number }; naive: { requests: number; ms: number } };

type Balances = Map<Address, bigint[]>;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

async function inParallel<T>(items: readonly T[], concurrency: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, async () => {
    while (next < items.length) await fn(items[next++]!);
  }));
}

type Subject = {
  protocol: ProtocolName;
  market: { market: Address; protocolAddress: Address | null };
  /** The operator's PROTOCOL_CONTRACTS for the local chain, where the protocol needs them (Maker). */
  protocolContracts?: ProtocolContracts;
  /** The values of an account the batched read normalized (balances per asset in order, or the protocol's own figures). */
  fromSnapshot: (snapshot: PositionSnapshot) => bigint[];
  /** The naive read of one account at the block: one eth_call per value. */
  naive: (client: PublicClient, account: Address, block: bigint) => Promise<bigint[]>;
  /**
   * Per-tick market reads of the naive path (prices, market state), once per tick, before the
   * accounts' reads; `concurrency` in flight where it reads one value per item (Liquity's census).
   */
  naiveMarket: (client: PublicClient, block: bigint, concurrency: number) => Promise<void>;
};

function cometSubject(local: LocalComet): Subject {
  const collaterals = [local.tokens.WETH, local.tokens.WBTC];
  return {
    protocol: 'compound-v3',
    market: { market: local.comet, protocolAddress: null },
    fromSnapshot: ({ assets = [] }) => [...assets.filter((asset) => asset.collateral > 0n).map((asset) => asset.collateral), ...assets.filter((asset) => asset.debt > 0n).map((asset) => asset.debt)],
    naive: async (client, account, blockNumber) => {
      const borrow = await client.readContract({ address: local.comet, abi: cometAbi, functionName: 'borrowBalanceOf', args: [account], blockNumber });
      const held: bigint[] = [];
      for (const token of collaterals) {
        const [balance] = await client.readContract({ address: local.comet, abi: cometAbi, functionName: 'userCollateral', args: [account, token.asset], blockNumber });
        if (balance > 0n) held.push(balance);
      }
      return [...held, ...(borrow > 0n ? [borrow] : [])];
    },
    naiveMarket: async (client, blockNumber) => {
      for (const token of [local.tokens.USDC, ...collaterals]) await client.readContract({ address: local.comet, abi: cometAbi, functionName: 'getPrice', args: [token.priceFeed], blockNumber });
    },
  };
}

function morphoSubject(local: LocalMorpho): Subject {
  return {
    protocol: 'morpho-blue',
    market: { market: local.id, protocolAddress: local.morpho },
    // Borrowed assets depend on the market totals: compare what the account holds, shares and collateral, through the collateral only.
    fromSnapshot: ({ assets = [] }) => assets.filter((asset) => asset.collateral > 0n).map((asset) => asset.collateral),
    naive: async (client, account, blockNumber) => {
      const [, , collateral] = await client.readContract({ address: local.morpho, abi: morphoAbi, functionName: 'position', args: [local.id, account], blockNumber });
      return collateral > 0n ? [collateral] : [];
    },
    naiveMarket: async (client, blockNumber) => {
      await client.readContract({ address: local.morpho, abi: morphoAbi, functionName: 'market', args: [local.id], blockNumber });
    },
  };
}

function makerSubject(local: LocalMaker): Subject {
  const ilk = local.ilk.ilk;
  return {
    protocol: 'maker',
    market: { market: ilk, protocolAddress: local.vat },
    protocolContracts: { maker: { vat: local.vat, spot: local.spot, jug: local.jug, dog: local.dog } },
    // The debt depends on the projected rate: compare what the urn holds, through its collateral.
    fromSnapshot: ({ assets = [] }) => assets.filter((asset) => asset.collateral > 0n).map((asset) => asset.collateral),
    naive: async (client, account, blockNumber) => {
      const [ink] = await client.readContract({ address: local.vat, abi: vatAbi, functionName: 'urns', args: [ilk, account], blockNumber });
      return ink > 0n ? [ink] : [];
    },
    naiveMarket: async (client, blockNumber) => {
      await client.readContract({ address: local.vat, abi: vatAbi, functionName: 'ilks', args: [ilk], blockNumber });
      await client.readContract({ address: local.jug, abi: jugAbi, functionName: 'ilks', args: [ilk], blockNumber });
      await client.readContract({ address: local.jug, abi: jugAbi, functionName: 'base', blockNumber });
      await client.readContract({ address: local.spot, abi: spotterAbi, functionName: 'ilks', args: [ilk], blockNumber });
      await client.readContract({ address: local.spot, abi: spotterAbi, functionName: 'par', blockNumber });
    },
  };
}

/**
 * Fluid with one position NFT per account, as a watch on an NFT reads it: the resolver's debt and
 * the health factor, naively one positionByNftId per account (its vault settings come with it).
 */
function fluidSubject(local: LocalFluid): Subject {
  return {
    protocol: 'fluid',
    market: { market: local.vault, protocolAddress: null },
    protocolContracts: { fluid: { vaultResolver: local.vaultResolver } },
    fromSnapshot: (snapshot) => [snapshot.debtBase, snapshot.healthFactor ?? 0n],
    naive: async (client, account, blockNumber) => {
      const [position, vault] = await client.readContract({ address: local.vaultResolver, abi: vaultResolverAbi, functionName: 'positionByNftId', args: [BigInt(account)], blockNumber });
      const config = { collateralFactorBps: 0n, liquidationThresholdBps: BigInt(vault.configs.liquidationThreshold), liquidationMaxLimitBps: 0n, liquidationPenaltyBps: 0n, oraclePriceLiquidate: vault.configs.oraclePriceLiquidate };
      return [position.borrow, fluidHealthFactor(position, config) ?? 0n];
    },
    naiveMarket: async () => {
      // The vault's settings and price arrive with each position.
    },
  };
}

/**
 * PriceFeed.fetchPrice, declared `view` here only so that viem sends it as the eth_call the
 * adapter's Multicall3 makes of it (it is not a view on chain; an eth_call changes nothing).
 */
const fetchPriceAsView = [{ type: 'function', name: 'fetchPrice', stateMutability: 'view', inputs: [], outputs: [{ name: 'price', type: 'uint256' }, { name: 'newOracleFailureDetected', type: 'bool' }] }] as const;
const WAD = 10n ** 18n;

/**
 * Liquity v2 with one trove per account, watched by trove id, on the WETH branch. A trove's
 * figures need the branch's census too (its redemption rank counts the active troves paying a
 * lower rate), so the naive path reads, once per tick, the price, the number of troves and each
 * trove's id, status and rate (one eth_call each) and the branch's last zombie trove, then per
 * watched trove getLatestTroveData and getTroveStatus. Both sides give collateral, debt, health
 * factor (ICR ÷ MCR), redemption rank and whether the trove is the zombie redeemed next.
 */
function liquitySubject(local: LocalLiquity): Subject {
  const branch = local.branches.WETH;
  const tm = branch.troveManager;
  // What naiveMarket read for the tick the accounts' reads then use (set before them, in measureOnce's order).
  let tick: { price: bigint; activeRates: bigint[]; lastZombieTroveId: bigint } | undefined;
  return {
    protocol: 'liquity-v2',
    market: { market: tm, protocolAddress: null },
    fromSnapshot: (snapshot) => {
      const rank = snapshot.protocolFields?.redemptionRank;
      const zombie = snapshot.protocolFields?.nextRedeemedZombie === true ? 1n : 0n;
      return [...(snapshot.assets ?? []).filter((asset) => asset.collateral > 0n).map((asset) => asset.collateral), snapshot.debtBase, snapshot.healthFactor ?? 0n, typeof rank === 'number' ? BigInt(rank) : 0n, zombie];
    },
    naiveMarket: async (client, blockNumber, concurrency) => {
      const [price] = await client.readContract({ address: branch.priceFeed, abi: fetchPriceAsView, functionName: 'fetchPrice', blockNumber });
      const count = await client.readContract({ address: tm, abi: troveManagerAbi, functionName: 'getTroveIdsCount', blockNumber });
      const lastZombieTroveId = await client.readContract({ address: tm, abi: troveManagerAbi, functionName: 'lastZombieTroveId', blockNumber });
      const activeRates: bigint[] = [];
      await inParallel(Array.from({ length: Number(count) }, (_, index) => BigInt(index)), concurrency, async (index) => {
        const troveId = await client.readContract({ address: tm, abi: troveManagerAbi, functionName: 'getTroveFromTroveIdsArray', args: [index], blockNumber });
        const status = await client.readContract({ address: tm, abi: troveManagerAbi, functionName: 'getTroveStatus', args: [troveId], blockNumber });
        const rate = await client.readContract({ address: tm, abi: troveManagerAbi, functionName: 'getTroveAnnualInterestRate', args: [troveId], blockNumber });
        if (TROVE_STATUS[status] === 'active') activeRates.push(rate);
      });
      tick = { price, activeRates, lastZombieTroveId };
    },
    naive: async (client, account, blockNumber) => {
      if (!tick) throw new Error('liquity-v2: the naive read of a trove ran before the tick\'s branch read');
      const troveId = BigInt(account);
      const latest = await client.readContract({ address: tm, abi: troveManagerAbi, functionName: 'getLatestTroveData', args: [troveId], blockNumber });
      const status = TROVE_STATUS[await client.readContract({ address: tm, abi: troveManagerAbi, functionName: 'getTroveStatus', args: [troveId], blockNumber })];
      const healthFactor = latest.entireDebt === 0n ? 0n : (collateralRatio(latest.entireColl, latest.entireDebt, tick.price) * WAD) / branch.mcr;
      const rank = status === 'active' ? BigInt(redemptionRank(latest.annualInterestRate, tick.activeRates)) : 0n;
      const zombie = status === 'zombie' && troveId === tick.lastZombieTroveId ? 1n : 0n;
      return [...(latest.entireColl > 0n ? [latest.entireColl] : []), latest.entireDebt, healthFactor, rank, zombie];
    },
  };
}

/**
 * Euler v2 with one sub-account (not the owner's own) per position, as a watch on a sub-account
 * reads it: the vault's liability and health factor, naively isControllerEnabled and
 * accountLiquidityFull per account, the LTVs once per tick.
 */
function eulerSubject(local: LocalEuler): Subject {
  const vault = local.borrowVault.vault;
  return {
    protocol: 'euler-v2',
    market: { market: vault, protocolAddress: null },
    fromSnapshot: (snapshot) => [snapshot.debtBase, snapshot.healthFactor ?? 0n],
    naive: async (client, account, blockNumber) => {
      const controlled = await client.readContract({ address: local.evc, abi: evcAbi, functionName: 'isControllerEnabled', args: [account, vault], blockNumber });
      if (!controlled) return [0n, 0n];
      const [, values, liability] = await client.readContract({ address: vault, abi: vaultAbi, functionName: 'accountLiquidityFull', args: [account, true], blockNumber });
      return [liability, liability === 0n ? 0n : (values.reduce((sum, value) => sum + value, 0n) * 10n ** 18n) / liability];
    },
    naiveMarket: async (client, blockNumber) => {
      for (const collateral of Object.values(local.collaterals)) {
        await client.readContract({ address: vault, abi: vaultAbi, functionName: 'LTVLiquidation', args: [collateral.vault], blockNumber });
        await client.readContract({ address: vault, abi: vaultAbi, functionName: 'LTVBorrow', args: [collateral.vault], blockNumber });
      }
    },
  };
}

async function measureOnce(chain: LocalChain, subject: Subject, accounts: readonly Address[], batch: number, concurrency: number) {
  const fresh = () => createChainClient({ chainId: chain.chainId, rpcUrls: [chain.rpcUrl], multicall3: MULTICALL3 }, { timeoutMs: 30_000 });
  const batchedClient = fresh();
  let start = performance.now();
  const { block, reads } = await readPositions(adapterFor(subject.protocol), { context: { client: batchedClient.client, chainId: chain.chainId, multicall3: MULTICALL3, protocolContracts: subject.protocolContracts }, market: subject.market, accounts, batchSize: batch });
  const batched = { ms: performance.now() - start, requests: batchedClient.stats.requests };
  const batchedBalances: Balances = new Map();
  for (const read of reads) {
    if (!('snapshot' in read)) throw new Error(`${subject.protocol}: batched read failed for ${read.account}: ${read.error}`);
    batchedBalances.set(read.account, subject.fromSnapshot(read.snapshot));
  }

  const naiveClient = fresh();
  start = performance.now();
  const pinned = await pinBlock(naiveClient.client);
  await subject.naiveMarket(naiveClient.client, pinned.number, concurrency);
  const naiveBalances: Balances = new Map();
  await inParallel(accounts, concurrency, async (account) => {
    naiveBalances.set(account, await subject.naive(naiveClient.client, account, pinned.number));
  });
  const naive = { ms: performance.now() - start, requests: naiveClient.stats.requests };

  if (pinned.number !== block.number) throw new Error(`${subject.protocol}: batched read pinned block ${block.number}, naive ${pinned.number}`);
  for (const account of accounts) {
    const left = batchedBalances.get(account)?.join(',');
    const right = naiveBalances.get(account)?.join(',');
    if (left !== right) throw new Error(`${subject.protocol}: ${account} batched ${left} vs naive ${right}`);
  }
  return { batched, naive };
}

/** The protocols benchProtocols measures, in its order. */
export const BENCH_PROTOCOLS = ['compound-v3', 'morpho-blue', 'maker', 'liquity-v2', 'euler-v2', 'fluid'] as const satisfies readonly ProtocolName[];

/**
 * Deploys Morpho Blue, and Comet, Maker, Liquity v2, Euler v2 and Fluid when their
 * ../shared/protocols folders are present (only those in `only`, when given), opens `n`
 * positions on each and measures both reads `runs` times after one warm-up round.
 */
export async function benchProtocols(chain: LocalChain, opts: { n: number; batch: number; runs: number; concurrency: number; only?: ReadonlySet<string>; log: (line: string) => void }): Promise<ProtocolResult[]> {
  const subjects: Array<{ subject: Subject; open: (index: number) => Promise<Address> }> = [];
  const wanted = (protocol: ProtocolName) => opts.only === undefined || opts.only.has(protocol);
  if (wanted('compound-v3')) {
    if (existsSync(COMET_ARTIFACTS_PATH)) {
      const local = await deployComet(chain.clients, chain.accounts[0]!);
      subjects.push({ subject: cometSubject(local), open: () => openCometPosition(chain.clients, local, { collateral: 'WETH', collateralAmount: '1', borrow: '1000' }) });
    } else {
      opts.log(`compound-v3: skipped (the compiled Comet contracts are not at ${COMET_ARTIFACTS_PATH})`);
    }
  }
  if (wanted('morpho-blue')) {
    const morpho = await deployMorpho(chain.clients, chain.accounts[0]!, opts.log);
    subjects.push({ subject: morphoSubject(morpho), open: () => openMorphoPosition(chain.clients, morpho, { collateral: '1', borrow: '1000' }) });
  }
  if (wanted('maker')) {
    if (existsSync(MAKER_ARTIFACTS_PATH)) {
      const maker = await deployMaker(chain.clients, chain.accounts[0]!);
      subjects.push({ subject: makerSubject(maker), open: () => openMakerVault(chain.clients, maker, { collateral: '1', debt: '1000' }) });
    } else {
      opts.log(`maker: skipped (the compiled dss contracts are not at ${MAKER_ARTIFACTS_PATH})`);
    }
  }
  if (wanted('liquity-v2')) {
    if (existsSync(LIQUITY_ARTIFACTS_PATH)) {
      const liquity = await deployLiquity(chain.clients, chain.accounts[0]!);
      // Liquity's minimum debt is 2,000 BOLD; rates from 0.5 % (its floor) in 40 steps, so the redemption ranks differ.
      const open = async (index: number) => troveIdText((await openTrove(chain.clients, liquity, { branch: 'WETH', collateral: '2', debt: '2000', interestRate: (0.005 + (index % 40) * 0.001).toFixed(3) })).troveId) as Address;
      subjects.push({ subject: liquitySubject(liquity), open });
    } else {
      opts.log(`liquity-v2: skipped (the compiled liquity/bold contracts are not at ${LIQUITY_ARTIFACTS_PATH})`);
    }
  }
  if (wanted('euler-v2')) {
    if (existsSync(EULER_ARTIFACTS_PATH)) {
      const euler = await deployEuler(chain.clients, chain.accounts[0]!);
      const open = async () => openEulerPosition(chain.clients, euler, { owner: await newEulerOwner(chain.clients), index: 1, collateral: 'WETH', collateralAmount: '1', borrowUsds: '1000' });
      subjects.push({ subject: eulerSubject(euler), open });
    } else {
      opts.log(`euler-v2: skipped (the compiled Euler contracts are not at ${EULER_ARTIFACTS_PATH})`);
    }
  }
  if (wanted('fluid')) {
    if (existsSync(FLUID_ARTIFACTS_DIR)) {
      const fluid = await deployFluid(chain.clients, chain.accounts[0]!);
      const open = async () => nftIdText(await openFluidPosition(chain.clients, fluid, { owner: await newFluidOwner(chain.clients), weth: '1', borrowUsdc: '1000' })) as Address;
      subjects.push({ subject: fluidSubject(fluid), open });
    } else {
      opts.log(`fluid: skipped (the compiled Fluid contracts are not at ${FLUID_ARTIFACTS_DIR})`);
    }
  }

  const results: ProtocolResult[] = [];
  for (const { subject, open } of subjects) {
    const openStart = performance.now();
    const accounts: Address[] = [];
    for (let index = 0; index < opts.n; index++) accounts.push(await open(index));
    opts.log(`${subject.protocol}: opened ${opts.n} positions in ${((performance.now() - openStart) / 1000).toFixed(1)} s`);
    await measureOnce(chain, subject, accounts, opts.batch, opts.concurrency); // warm-up: market facts cached
    const runs = [];
    for (let run = 0; run < opts.runs; run++) runs.push(await measureOnce(chain, subject, accounts, opts.batch, opts.concurrency));
    results.push({
      protocol: subject.protocol,
      n: opts.n,
      batched: { requests: runs[0]!.batched.requests, ms: median(runs.map((run) => run.batched.ms)) },
      naive: { requests: runs[0]!.naive.requests, ms: median(runs.map((run) => run.naive.ms)) },
    });
  }
  return results;
}
