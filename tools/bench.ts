// Read benchmark: one tick's read of N Aave v3 positions, batched through Multicall3
// (`readPositions`, what the app does) against the naive baseline of one eth_call per account,
// side by side on a local anvil chain holding a real Aave v3 market.
//
//   npm run bench                      N = 100, 1000
//   npm run bench -- --full            N = 100, 1000, 10000 (or BENCH_FULL=1)
//   npm run bench -- --sizes 100,5000 --batch 300 --runs 5 --concurrency 16
//   npm run bench -- --protocol-size 200   N for Compound v3, Morpho Blue, Maker, Liquity v2, Euler v2 and Fluid (tools/bench-protocols.ts)
//   npm run bench -- --protocol liquity-v2,fluid   only these protocols (aave-v3 is one of the names)
//
// Every measurement uses a fresh client, so its request counter starts at 0 and includes the
// transport's one-off eth_chainId check, as the first tick of a fresh isolate would. The market's
// static metadata (loadMarketMeta) is cached per process and is warmed once before measuring, as
// in a deployment's steady state. Both reads must agree on every account, or the bench fails.

import { cpus } from 'node:os';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import type { Address } from 'viem';
import { createChainClient } from '../src/chain/client';
import type { ChainConfig } from '../src/config/env';
import { aaveV3Adapter } from '../src/protocols/aave-v3';
import { readPositions } from '../src/protocols/read-positions';
import { pinBlock } from '../src/protocols/block-pin';
import { aavePoolAbi } from '../src/protocols/aave-v3/abi';
import { startLocalChain, type LocalChain } from './chain';
import { BENCH_PROTOCOLS, benchProtocols } from './bench-protocols';

const MULTICALL3: Address = '0xcA11bde05977b3631167028862bE2a173976CA11';
const MAX_UINT256 = 2n ** 256n - 1n;
/**
 * Requests a read costs besides its eth_calls: eth_chainId (a fresh endpoint proves its chain), and
 * for the naive read the block pin (the batched read pins inside its first Multicall3 call).
 */
const FIXED_REQUESTS = { batched: 1, naive: 2 };
/** Largest openPositions call, so that progress shows while opening thousands. */
const OPEN_CHUNK = 1_000;

/** `protocols`: the protocols to measure (aave-v3 and BENCH_PROTOCOLS), all unless --protocol names some. */
type Options = { sizes: number[]; batch: number; runs: number; concurrency: number; protocolSize: number; protocols: Set<string> };

type Read = { collateralBase: bigint; debtBase: bigint; healthFactor: bigint | null };

type Measurement = { ms: number; requests: number; block: bigint; reads: Map<Address, Read> };

type Result = {
  n: number;
  batched: { requests: number; expected: number; times: number[]; medianMs: number };
  naive: { requests: number; expected: number; times: number[]; medianMs: number };
};

class BenchFailure extends Error {}

function parseOptions(): Options {
  const { values } = parseArgs({
    options: {
      sizes: { type: 'string' },
      batch: { type: 'string', default: '300' },
      runs: { type: 'string', default: '5' },
      concurrency: { type: 'string', default: '16' },
      'protocol-size': { type: 'string', default: '200' },
      protocol: { type: 'string' },
      full: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
    allowPositionals: false,
  });
  if (values.help) {
    console.log('usage: npm run bench -- [--sizes 100,1000] [--full] [--batch 300] [--runs 5] [--concurrency 16] [--protocol-size 200] [--protocol aave-v3,liquity-v2,…]');
    process.exit(0);
  }
  const positiveInt = (name: string, text: string): number => {
    const value = Number(text);
    if (!Number.isInteger(value) || value <= 0) throw new BenchFailure(`--${name} must be a positive whole number, got "${text}"`);
    return value;
  };
  const full = values.full || process.env.BENCH_FULL === '1';
  const sizes = values.sizes !== undefined ? values.sizes.split(',').map((s) => positiveInt('sizes', s.trim())) : [100, 1_000];
  if (full) sizes.push(10_000);
  const known: readonly string[] = ['aave-v3', ...BENCH_PROTOCOLS];
  const protocols = values.protocol !== undefined ? values.protocol.split(',').map((name) => name.trim()) : [...known];
  const unknown = protocols.filter((name) => !known.includes(name));
  if (unknown.length > 0 || protocols.length === 0) throw new BenchFailure(`--protocol takes names among ${known.join(', ')}; got "${values.protocol}"`);
  return {
    sizes: [...new Set(sizes)].sort((a, b) => a - b),
    batch: positiveInt('batch', values.batch),
    runs: positiveInt('runs', values.runs),
    concurrency: positiveInt('concurrency', values.concurrency),
    protocolSize: positiveInt('protocol-size', values['protocol-size']),
    protocols: new Set(protocols),
  };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

const fmtMs = (ms: number) => (ms < 100 ? ms.toFixed(1) : ms.toFixed(0));
const fmtInt = (n: number) => Math.round(n).toLocaleString('en-US');
const fmtRatio = (r: number) => (r < 10 ? r.toFixed(1) : r.toFixed(0));
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

function chainConfig(chain: LocalChain): ChainConfig {
  return { chainId: chain.chainId, rpcUrls: [chain.rpcUrl], multicall3: MULTICALL3 };
}

// A generous timeout: a 300-account multicall on a busy laptop should never be cut off mid-bench.
const freshClient = (chain: LocalChain) => createChainClient(chainConfig(chain), { timeoutMs: 30_000 });

/** (a) What the app does: ⌈N / batch⌉ Multicall3 aggregate3 calls, the first pinning the block, the rest at it (concurrently). */
async function measureBatched(chain: LocalChain, accounts: readonly Address[], batch: number): Promise<Measurement> {
  const { client, stats } = freshClient(chain);
  const start = performance.now();
  const { block, reads } = await readPositions(aaveV3Adapter, {
    context: { client, chainId: chain.chainId, multicall3: MULTICALL3 },
    market: { market: chain.market.pool, protocolAddress: null },
    accounts,
    batchSize: batch,
  });
  const ms = performance.now() - start;
  const out = new Map<Address, Read>();
  for (const read of reads) {
    if ('error' in read) throw new BenchFailure(`batched read failed for ${read.account}: ${read.error}`);
    const { collateralBase, debtBase, healthFactor } = read.snapshot;
    out.set(read.account, { collateralBase, debtBase, healthFactor });
  }
  return { ms, requests: stats.requests, block: block.number, reads: out };
}

/** (b) The baseline: pin a block the same way, then one eth_call of getUserAccountData per account, `concurrency` in flight. */
async function measureNaive(chain: LocalChain, accounts: readonly Address[], concurrency: number): Promise<Measurement> {
  const { client, stats } = freshClient(chain);
  const start = performance.now();
  const block = await pinBlock(client);
  const out = new Map<Address, Read>();
  let next = 0;
  const worker = async () => {
    while (next < accounts.length) {
      const account = accounts[next++]!;
      const [collateralBase, debtBase, , , , healthFactor] = await client.readContract({
        address: chain.market.pool,
        abi: aavePoolAbi,
        functionName: 'getUserAccountData',
        args: [account],
        blockNumber: block.number,
      });
      // The same normalisation the app applies: no debt (or Aave's "infinite" marker) has no health factor.
      out.set(account, { collateralBase, debtBase, healthFactor: debtBase === 0n || healthFactor === MAX_UINT256 ? null : healthFactor });
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, accounts.length) }, worker));
  const ms = performance.now() - start;
  return { ms, requests: stats.requests, block: block.number, reads: out };
}

/** Both reads must see the same block and the same health factor (and balances) for every account. */
function checkAgreement(n: number, accounts: readonly Address[], batched: Measurement, naive: Measurement): void {
  if (batched.block !== naive.block) throw new BenchFailure(`N=${n}: batched read pinned block ${batched.block}, naive ${naive.block}`);
  for (const m of [batched, naive]) {
    if (m.reads.size !== accounts.length) throw new BenchFailure(`N=${n}: ${m.reads.size} reads for ${accounts.length} accounts`);
  }
  const mismatches: string[] = [];
  for (const account of accounts) {
    const a = batched.reads.get(account);
    const b = naive.reads.get(account);
    if (!a || !b) {
      mismatches.push(`${account}: missing from ${a ? 'naive' : 'batched'} read`);
    } else if (a.healthFactor !== b.healthFactor || a.collateralBase !== b.collateralBase || a.debtBase !== b.debtBase) {
      mismatches.push(`${account}: batched hf=${a.healthFactor} debt=${a.debtBase}, naive hf=${b.healthFactor} debt=${b.debtBase}`);
    } else if (a.healthFactor === null) {
      // Every opened borrower has debt: a null health factor means we are not reading what we opened.
      mismatches.push(`${account}: no health factor (no debt) although a position was opened`);
    }
  }
  if (mismatches.length > 0) {
    throw new BenchFailure(`N=${n}: batched and naive reads disagree on ${mismatches.length} account(s):\n  ${mismatches.slice(0, 10).join('\n  ')}`);
  }
}

async function measure(chain: LocalChain, accounts: readonly Address[], opts: Options): Promise<Result> {
  const n = accounts.length;
  const batchedTimes: number[] = [];
  const naiveTimes: number[] = [];
  const batchedRequests = new Set<number>();
  const naiveRequests = new Set<number>();
  // One untimed round first (still checked): the node's first reads of freshly opened accounts
  // load their storage cold, which no later tick of a running deployment would pay.
  checkAgreement(n, accounts, await measureBatched(chain, accounts, opts.batch), await measureNaive(chain, accounts, opts.concurrency));
  for (let run = 1; run <= opts.runs; run++) {
    // Alternate the order so neither side always runs on a warmer (or more tired) node.
    const batchedFirst = run % 2 === 1;
    let batched: Measurement;
    let naive: Measurement;
    if (batchedFirst) {
      batched = await measureBatched(chain, accounts, opts.batch);
      naive = await measureNaive(chain, accounts, opts.concurrency);
    } else {
      naive = await measureNaive(chain, accounts, opts.concurrency);
      batched = await measureBatched(chain, accounts, opts.batch);
    }
    checkAgreement(n, accounts, batched, naive);
    batchedTimes.push(batched.ms);
    naiveTimes.push(naive.ms);
    batchedRequests.add(batched.requests);
    naiveRequests.add(naive.requests);
    console.log(
      `  run ${run}/${opts.runs}: batched ${fmtMs(batched.ms)} ms / ${batched.requests} req, naive ${fmtMs(naive.ms)} ms / ${naive.requests} req — ${n} health factors agree at block ${batched.block}`,
    );
  }
  if (batchedRequests.size !== 1 || naiveRequests.size !== 1) {
    throw new BenchFailure(`N=${n}: request counts varied between runs (batched ${[...batchedRequests]}, naive ${[...naiveRequests]})`);
  }
  const result: Result = {
    n,
    batched: { requests: [...batchedRequests][0]!, expected: Math.ceil(n / opts.batch) + FIXED_REQUESTS.batched, times: batchedTimes, medianMs: median(batchedTimes) },
    naive: { requests: [...naiveRequests][0]!, expected: n + FIXED_REQUESTS.naive, times: naiveTimes, medianMs: median(naiveTimes) },
  };
  for (const [name, side] of [['batched', result.batched], ['naive', result.naive]] as const) {
    if (side.requests !== side.expected) {
      throw new BenchFailure(`N=${n}: the ${name} read sent ${side.requests} JSON-RPC requests, expected ${side.expected}`);
    }
  }
  return result;
}

function printResult(r: Result, opts: Options): void {
  const line = (name: string, side: Result['batched'], formula: string) =>
    `  ${name.padEnd(8)} ${String(side.requests).padStart(6)} JSON-RPC requests (expected ${formula} = ${side.expected} ✓)   ` +
    `${fmtMs(side.medianMs).padStart(7)} ms median [${side.times.map(fmtMs).join(', ')}]   ${fmtInt((r.n * 1000) / side.medianMs).padStart(9)} accounts/s`;
  console.log(`N = ${r.n}`);
  console.log(line('batched', r.batched, `⌈${r.n}/${opts.batch}⌉+${FIXED_REQUESTS.batched}`));
  console.log(line('naive', r.naive, `${r.n}+${FIXED_REQUESTS.naive}`));
  console.log(
    `  naive/batched: requests ×${fmtRatio(r.naive.requests / r.batched.requests)}, wall time ×${fmtRatio(r.naive.medianMs / r.batched.medianMs)}`,
  );
}

function markdownTable(results: Result[], opts: Options, env: string): string {
  const rows = [
    '| N | batched requests (expected) | naive requests | requests naive/batched | batched ms | naive ms | time naive/batched | batched accounts/s | naive accounts/s |',
    '|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...results.map(
      (r) =>
        `| ${fmtInt(r.n)} | ${r.batched.requests} (${r.batched.expected}) | ${fmtInt(r.naive.requests)} | ×${fmtRatio(r.naive.requests / r.batched.requests)} | ` +
        `${fmtMs(r.batched.medianMs)} | ${fmtMs(r.naive.medianMs)} | ×${fmtRatio(r.naive.medianMs / r.batched.medianMs)} | ` +
        `${fmtInt((r.n * 1000) / r.batched.medianMs)} | ${fmtInt((r.n * 1000) / r.naive.medianMs)} |`,
    ),
  ];
  return [
    ...rows,
    '',
    `Median of ${opts.runs} runs after one untimed warm-up round. Batched = \`readPositions\` (Multicall3 aggregate3 of Pool.getUserAccountData, batch ${opts.batch}, batches sent concurrently); ` +
      `naive = one \`eth_call\` per account, ${opts.concurrency} in flight; both pinned to the same block, fresh client each (requests include eth_chainId, and for the naive read its block pin; the batched read pins inside its first call), ` +
      `market metadata warmed once beforehand. Health factors agreed for every account. ${env}.`,
  ].join('\n');
}

async function main(): Promise<void> {
  const started = performance.now();
  const opts = parseOptions();

  const chainStart = performance.now();
  const chain = await startLocalChain();
  try {
    const anvilVersion = await chain.publicClient.request({ method: 'web3_clientVersion' }).catch(() => 'anvil');
    const cpu = cpus();
    const env = `Node ${process.version}, ${process.platform}/${process.arch}, ${cpu.length}× ${cpu[0]?.model.trim() ?? 'unknown CPU'}; chain: ${anvilVersion} (local, chain id ${chain.chainId}), Aave v3 market`;
    console.log('marginwatch read benchmark');
    console.log(`  node:         ${process.version} (${process.platform}/${process.arch}, ${cpu.length}× ${cpu[0]?.model.trim() ?? 'unknown CPU'})`);
    console.log(`  chain:        ${anvilVersion}, local at ${chain.rpcUrl}, chain id ${chain.chainId}, Aave v3 pool ${chain.market.pool} (${chain.fromCache ? 'from cached snapshot' : 'freshly deployed'}), started in ${fmtMs(performance.now() - chainStart)} ms`);
    console.log(`  batch size:   ${opts.batch} accounts per Multicall3 aggregate3 call`);
    console.log(`  naive:        one eth_call per account, ${opts.concurrency} in flight`);
    if (opts.protocols.has('aave-v3')) console.log(`  sizes:        ${opts.sizes.join(', ')}; per size one untimed warm-up round, then ${opts.runs} timed runs, median reported`);
    else console.log(`  protocols:    ${[...opts.protocols].join(', ')} only (--protocol); one untimed warm-up round, then ${opts.runs} timed runs, median reported`);

    // Warm the per-process market metadata cache, as a deployment's steady state would have it.
    const warm = freshClient(chain);
    await readPositions(aaveV3Adapter, { context: { client: warm.client, chainId: chain.chainId, multicall3: MULTICALL3 }, market: { market: chain.market.pool, protocolAddress: null }, accounts: [], batchSize: opts.batch });
    console.log(`  warm-up:      market metadata loaded once (${warm.stats.requests} requests), not counted below`);
    console.log('');

    const accounts: Address[] = [];
    const results: Result[] = [];
    const openTimes: string[] = [];
    for (const n of opts.protocols.has('aave-v3') ? opts.sizes : []) {
      const target = n;
      if (accounts.length < target) {
        const openStart = performance.now();
        const from = accounts.length;
        console.log(`opening positions ${from} → ${target} …`);
        while (accounts.length < target) {
          const count = Math.min(OPEN_CHUNK, target - accounts.length);
          const opened = await chain.actions.openPositions(chain.market, count, { seed: `marginwatch-bench-${accounts.length}` });
          accounts.push(...opened.map((p) => p.address));
          const elapsed = performance.now() - openStart;
          console.log(`  opened ${accounts.length}/${target} (${seconds(elapsed)}, ${fmtInt(((accounts.length - from) * 1000) / elapsed)} positions/s)`);
        }
        if (new Set(accounts.map((a) => a.toLowerCase())).size !== accounts.length) throw new BenchFailure('openPositions returned duplicate borrowers');
        openTimes.push(`${from}→${target}: ${seconds(performance.now() - openStart)}`);
      }
      const measureStart = performance.now();
      console.log(`measuring N = ${target} …`);
      const result = await measure(chain, accounts.slice(0, target), opts);
      printResult(result, opts);
      console.log(`  (measured in ${seconds(performance.now() - measureStart)})`);
      console.log('');
      results.push(result);
    }

    const others = BENCH_PROTOCOLS.filter((protocol) => opts.protocols.has(protocol));
    if (others.length > 0) console.log(`other protocols: N = ${opts.protocolSize} each (${others.join(', ')}) …`);
    const protocolResults = others.length > 0 ? await benchProtocols(chain, { n: opts.protocolSize, batch: opts.batch, runs: opts.runs, concurrency: opts.concurrency, only: new Set(others), log: (line) => console.log(`  ${line}`) }) : [];
    console.log('');

    console.log('Summary (markdown):');
    console.log('');
    if (results.length > 0) {
      console.log(markdownTable(results, opts, env));
      console.log('');
    }
    console.log('| protocol | N | batched requests | naive requests | requests naive/batched | batched ms | naive ms | time naive/batched |');
    console.log('|---|---:|---:|---:|---:|---:|---:|---:|');
    const aaveRow = results.map((r) => ({ protocol: 'aave-v3', n: r.n, batched: { requests: r.batched.requests, ms: r.batched.medianMs }, naive: { requests: r.naive.requests, ms: r.naive.medianMs } })).slice(0, 1);
    for (const r of [...aaveRow, ...protocolResults]) {
      console.log(`| ${r.protocol} | ${fmtInt(r.n)} | ${r.batched.requests} | ${fmtInt(r.naive.requests)} | ×${fmtRatio(r.naive.requests / r.batched.requests)} | ${fmtMs(r.batched.ms)} | ${fmtMs(r.naive.ms)} | ×${fmtRatio(r.naive.ms / r.batched.ms)} |`);
    }
    console.log('');
    console.log('Other protocols: batched = readPositions through the adapter (prices / market state once, then one Multicall3 call per batch); naive = one eth_call per value an account needs (Comet: borrowBalanceOf + userCollateral per collateral; Morpho: position; Euler: isControllerEnabled + accountLiquidityFull of a sub-account; Fluid: VaultResolver.positionByNftId; Liquity: getLatestTroveData + getTroveStatus per trove, and per tick the branch census its redemption ranks need, id, status and rate of every trove, and the last zombie trove of the branch), the market reads once per tick. Medians of the same runs; both reads agreed on every account.');
    console.log('');
    if (openTimes.length > 0) console.log(`opening positions: ${openTimes.join(', ')}`);
    console.log(`total run time: ${seconds(performance.now() - started)}`);
  } finally {
    await chain.stop();
  }
}

main().then(
  () => {
    process.exitCode = 0;
  },
  (error: unknown) => {
    console.error('');
    console.error(`BENCH FAILED: ${error instanceof Error ? (error instanceof BenchFailure ? error.message : (error.stack ?? error.message)) : String(error)}`);
    process.exitCode = 1;
  },
);
