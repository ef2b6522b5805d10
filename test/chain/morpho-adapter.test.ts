import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Address, Hex } from 'viem';
import { startLocalChain, type LocalChain } from '../../tools/chain';
import { createMorphoMarket, createWethLoanMarket, deployMorpho, deployMorphoTestToken, liquidateMorpho, openMorphoPosition, setMorphoPrice, morphoTestAbi, type LocalMorpho, type LocalMorphoMarket } from '../../tools/chain/morpho';
import { deployRoundAggregator, pushRounds } from '../../tools/chain/round-aggregator';
import { positionView } from '../../src/domain/position-view';
import type { UsdPriceFeeds } from '../../src/config/usd-price-feeds';
import { sendContractTx } from '../../tools/chain/actions';
import { createChainClient } from '../../src/chain/client';
import { CANONICAL_MULTICALL3 } from '../../src/config/env';
import { adapterFor } from '../../src/protocols';
import { readPositions } from '../../src/protocols/read-positions';
import { WAD } from '../../src/domain/position';
import { accruedBorrowAssets } from '../../src/protocols/morpho-blue/normalize';
import { irmAbi, morphoAbi } from '../../src/protocols/morpho-blue/abi';
import { createPublicClient, http, parseAbi } from 'viem';

/*
 * The Morpho Blue adapter against Morpho Blue 1.0.0 compiled from its npm sources (solc
 * 0.8.19, via-IR; cached in .cache/): a USDC loan / WETH collateral market at LLTV 86%.
 * Morpho's own liquidate is the reference for our health factor.
 */

let chain: LocalChain;
let local: LocalMorpho;

function context() {
  const { client } = createChainClient({ chainId: chain.chainId, rpcUrls: [chain.rpcUrl], multicall3: CANONICAL_MULTICALL3 });
  return { client, chainId: chain.chainId, multicall3: CANONICAL_MULTICALL3 };
}

async function read(accounts: Address[], batchSize = 300) {
  return readPositions(adapterFor('morpho-blue'), { context: context(), market: { market: local.id, protocolAddress: local.morpho }, accounts, batchSize });
}

function healthFactorOf(reads: Awaited<ReturnType<typeof read>>['reads'], account: Address): bigint | null {
  const found = reads.find((entry) => entry.account === account);
  if (!found || !('snapshot' in found)) throw new Error(`no snapshot for ${account}: ${found && 'error' in found ? found.error : 'missing'}`);
  return found.snapshot.healthFactor;
}

/** Whether Morpho's liquidate accepts the account now; the chain is put back either way. */
async function liquidatable(account: Address): Promise<boolean> {
  const snapshot = await chain.testClient.snapshot();
  try {
    await liquidateMorpho(chain.clients, local, account);
    return true;
  } catch {
    return false;
  } finally {
    await chain.testClient.revert({ id: snapshot });
  }
}

beforeAll(async () => {
  chain = await startLocalChain();
  local = await deployMorpho(chain.clients, chain.accounts[0]!);
}, 180_000);

afterAll(async () => {
  await chain?.stop();
});

describe('Morpho Blue adapter on real Morpho Blue 1.0.0', () => {
  it('reads positions in batches and normalizes them (values in the loan token, USDC counted at $1)', async () => {
    // 1 WETH at 2,000 USDC × LLTV 0.86 against 1,500 USDC: HF 1.1467.
    const a = await openMorphoPosition(chain.clients, local, { collateral: '1', borrow: '1500' });
    const b = await openMorphoPosition(chain.clients, local, { collateral: '2', borrow: '1000' });
    const { reads } = await read([a, b, chain.accounts[5]!], 2);
    expect(Number(healthFactorOf(reads, a)) / 1e18).toBeCloseTo(1.1467, 3);
    expect(Number(healthFactorOf(reads, b)) / 1e18).toBeCloseTo(3.44, 2);
    expect(healthFactorOf(reads, chain.accounts[5]!)).toBeNull(); // no position: no debt
    const snapshot = (reads[0] as { snapshot: { protocol: string; market: string; baseDecimals: number; baseUsdPrice: unknown; assets?: Array<{ symbol: string }> } }).snapshot;
    expect(snapshot).toMatchObject({ protocol: 'morpho-blue', market: local.id, baseDecimals: 6, baseUsdPrice: 10n ** 6n });
    expect(snapshot).not.toHaveProperty('valueUnit');
    expect(snapshot.assets?.map((asset) => asset.symbol)).toEqual(['WETH', 'USDC']);
  });

  it('projects the borrow total exactly as accrueInterest stores it (to the wei)', async () => {
    await chain.testClient.increaseTime({ seconds: 30 * 86_400 });
    await chain.testClient.mine({ blocks: 1 });
    const { client } = context();
    const before = await client.getBlock();
    const raw = (await client.readContract({ address: local.morpho, abi: morphoAbi, functionName: 'market', args: [local.id], blockNumber: before.number })) as readonly bigint[];
    const state = { totalSupplyAssets: raw[0]!, totalSupplyShares: raw[1]!, totalBorrowAssets: raw[2]!, totalBorrowShares: raw[3]!, lastUpdate: raw[4]!, fee: raw[5]! };
    const rate = await client.readContract({ address: local.params.irm, abi: irmAbi, functionName: 'borrowRateView', args: [local.params, state], blockNumber: before.number });
    await sendContractTx(chain.clients, local.admin, { address: local.morpho, abi: parseAbi(['struct MarketParams { address loanToken; address collateralToken; address oracle; address irm; uint256 lltv; }', 'function accrueInterest(MarketParams marketParams)']), functionName: 'accrueInterest', args: [local.params] });
    const after = await client.getBlock();
    const stored = (await client.readContract({ address: local.morpho, abi: morphoAbi, functionName: 'market', args: [local.id] })) as readonly bigint[];
    expect(stored[2]).toBeGreaterThan(state.totalBorrowAssets);
    expect(accruedBorrowAssets(state, rate, after.timestamp)).toBe(stored[2]);
  });

  it('our health factor is below 1 exactly when Morpho\'s own liquidate succeeds, at every step of a price walk', async () => {
    const accounts = [
      await openMorphoPosition(chain.clients, local, { collateral: '1', borrow: '1600' }),
      await openMorphoPosition(chain.clients, local, { collateral: '1', borrow: '1300' }),
      await openMorphoPosition(chain.clients, local, { collateral: '3', borrow: '2000' }),
    ];
    let crossings = 0;
    for (const price of ['2000', '1900', '1820', '1700', '1560', '1450']) {
      await setMorphoPrice(chain.clients, local, price, local);
      const { reads } = await read(accounts);
      for (const account of accounts) {
        const ours = healthFactorOf(reads, account)!;
        const theirs = await liquidatable(account);
        expect(ours < WAD, `${account} at ${price}: HF ${ours}`).toBe(theirs);
        if (theirs) crossings += 1;
      }
    }
    expect(crossings).toBeGreaterThan(0);
    await setMorphoPrice(chain.clients, local, '2000', local);
  });

  it('states Morpho\'s liquidation rule: any part of the debt, incentive min(1.15, 1 / (1 − 0.3 × (1 − LLTV)))', async () => {
    const adapter = adapterFor('morpho-blue');
    const market = await adapter.loadMarket(context(), { market: local.id, protocolAddress: local.morpho });
    // LLTV 0.86: 1 / (1 − 0.3 × 0.14) = 1.04384
    expect(adapter.liquidationRule(market)).toEqual({ closeFactorBps: 10_000n, fullCloseBelowHealthFactor: null, penaltyBps: [{ asset: local.collateral.asset, symbol: 'WETH', bps: 438n }] });
  });

  it('refuses an unknown market id or a contract that is not Morpho, naming the field', async () => {
    const adapter = adapterFor('morpho-blue');
    await expect(adapter.loadMarket(context(), { market: `0x${'11'.repeat(32)}`, protocolAddress: local.morpho })).rejects.toMatchObject({ code: 'invalid_market', issues: [{ path: 'market' }] });
    await expect(adapter.loadMarket(context(), { market: local.id, protocolAddress: chain.market.pool })).rejects.toMatchObject({ code: 'invalid_market', issues: [{ path: 'protocolAddress' }] });
    await expect(adapter.loadMarket(context(), { market: local.id, protocolAddress: null })).rejects.toMatchObject({ issues: [{ path: 'protocolAddress' }] });
  });
});

describe('USD of a Morpho market lending WETH, from the owner\'s ETH / USD feed (USD_PRICE_FEEDS) at the read\'s block', () => {
  let wethLoan: LocalMorphoMarket;
  let feed: Address;
  let borrower: Address;
  const admin = () => chain.accounts[0]!;

  async function readWethLoan(feeds: UsdPriceFeeds | undefined) {
    const { reads } = await readPositions(adapterFor('morpho-blue'), { context: context(), market: { market: wethLoan.id, protocolAddress: local.morpho }, accounts: [borrower], batchSize: 10, ...(feeds ? { usdFeeds: feeds } : {}) });
    const found = reads[0]!;
    if (!('snapshot' in found)) throw new Error(found.error);
    return found.snapshot;
  }

  async function pushEthUsd(answer: bigint, ageSeconds: bigint): Promise<void> {
    const latest = await chain.publicClient.getBlock({ blockTag: 'latest' });
    await pushRounds(chain.clients, admin(), feed, [{ answer, updatedAt: latest.timestamp - ageSeconds }]);
  }

  const feedsFor = (address: Address): UsdPriceFeeds => new Map([[wethLoan.loan.asset.toLowerCase(), { feed: address, maxAgeSeconds: 3_600 }]]);

  beforeAll(async () => {
    wethLoan = await createWethLoanMarket(chain.clients, local);
    // 1 wstETH at 1.2 WETH × LLTV 0.86 against 0.8 WETH: HF 1.29.
    borrower = await openMorphoPosition(chain.clients, local, { collateral: '1', borrow: '0.8' }, wethLoan);
    feed = await deployRoundAggregator(chain.clients, admin(), { decimals: 8, firstRoundId: (1n << 64n) + 1n });
  }, 120_000);

  it('values the position in dollars at the feed price and keeps its values in WETH', async () => {
    await pushEthUsd(2_000n * 10n ** 8n, 60n);
    const snapshot = await readWethLoan(feedsFor(feed));
    expect(snapshot.valueUnit).toEqual({ token: wethLoan.loan.asset, symbol: 'WETH', perToken: 10n ** 18n });
    // Dollars per whole WETH, with WETH's 18 decimals.
    expect(snapshot.baseUsdPrice).toBe(2_000n * 10n ** 18n);
    const view = positionView(snapshot, new Date());
    expect(view.baseCurrency).toBe('WETH');
    expect(view.collateral).toEqual({ base: '1.2', usd: '2400' });
    expect(Number(view.debt.usd)).toBeCloseTo(1_600, 2);
    expect(Number(view.debt.usd)).toBeCloseTo(Number(view.debt.base) * 2_000, 9);
  });

  it('prices the market lending WETH in WETH (not dollars) and the one lending USDC in dollars, for the volatility\'s seed', async () => {
    const adapter = adapterFor('morpho-blue');
    const block = await chain.publicClient.getBlock();
    const pinned = { number: block.number, timestamp: block.timestamp };
    const inWeth = await adapter.readPrices(context(), await adapter.loadMarket(context(), { market: wethLoan.id, protocolAddress: local.morpho }), pinned);
    expect(inWeth).toMatchObject({ quoteIsUsd: false, flat: [wethLoan.loan.asset], prices: [{ symbol: 'wstETH', feed: null }] });
    const inUsdc = await adapter.readPrices(context(), await adapter.loadMarket(context(), { market: local.id, protocolAddress: local.morpho }), pinned);
    expect(inUsdc).toMatchObject({ quoteIsUsd: true, flat: [local.loan.asset] });
  });

  it('costs one more eth_call, at the block the read pinned, only for a market counted in a token with a feed', async () => {
    await pushEthUsd(2_000n * 10n ** 8n, 0n);
    const bodies: string[] = [];
    const client = createPublicClient({ transport: http(chain.rpcUrl, { onFetchRequest: async (request) => void bodies.push(await request.clone().text()) }) });
    const counted = { client, chainId: chain.chainId, multicall3: CANONICAL_MULTICALL3 };
    const calls = async (market: string, feeds: UsdPriceFeeds | undefined) => {
      const once = () => readPositions(adapterFor('morpho-blue'), { context: counted, market: { market: market as Hex, protocolAddress: local.morpho }, accounts: [borrower], batchSize: 10, ...(feeds ? { usdFeeds: feeds } : {}) });
      await once(); // the market's facts, cached from here on
      bodies.length = 0;
      const { reads } = await once();
      return { calls: bodies.map((body) => JSON.parse(body) as { method: string; params: [unknown, string] }), reads };
    };
    const without = await calls(wethLoan.id, undefined);
    const withFeed = await calls(wethLoan.id, feedsFor(feed));
    expect(withFeed.calls).toHaveLength(without.calls.length + 1);
    expect(withFeed.calls.every((call) => call.method === 'eth_call')).toBe(true);
    // Every call after the first (which pins the block at 'latest') names the same block.
    expect(new Set(withFeed.calls.slice(1).map((call) => call.params[1])).size).toBe(1);
    expect((withFeed.reads[0] as { snapshot: { baseUsdPrice?: bigint } }).snapshot.baseUsdPrice).toBe(2_000n * 10n ** 18n);
    // The USDC market needs no feed: the same feeds cost it nothing.
    expect((await calls(local.id, feedsFor(feed))).calls).toHaveLength(without.calls.length);
  });

  it('an RPC error on the feed\'s call (the node fails that eth_call) leaves the USD unknown, the positions read and logged', async () => {
    await pushEthUsd(2_000n * 10n ** 8n, 0n);
    const feedHex = feed.slice(2).toLowerCase();
    let refused = 0;
    // A real HTTP node in front of anvil that answers any call naming the feed with a JSON-RPC error.
    const proxy = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk: Buffer) => (body += chunk.toString()));
      request.on('end', () => {
        if (body.toLowerCase().includes(feedHex)) {
          refused += 1;
          const { id } = JSON.parse(body) as { id: number };
          response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ jsonrpc: '2.0', id, error: { code: -32000, message: 'internal error' } }));
          return;
        }
        fetch(chain.rpcUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body })
          .then(async (upstream) => response.writeHead(upstream.status, { 'content-type': 'application/json' }).end(await upstream.text()))
          .catch(() => response.writeHead(502).end());
      });
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    const warnings: string[] = [];
    const warn = vi.spyOn(console, 'warn').mockImplementation((...args: unknown[]) => void warnings.push(args.map(String).join(' ')));
    try {
      // The production client (failover transport), its one endpoint the failing node.
      const { client } = createChainClient({ chainId: chain.chainId, rpcUrls: [`http://127.0.0.1:${(proxy.address() as AddressInfo).port}`], multicall3: CANONICAL_MULTICALL3 }, { timeoutMs: 2_000 });
      const { reads } = await readPositions(adapterFor('morpho-blue'), { context: { client, chainId: chain.chainId, multicall3: CANONICAL_MULTICALL3 }, market: { market: wethLoan.id, protocolAddress: local.morpho }, accounts: [borrower], batchSize: 10, usdFeeds: feedsFor(feed) });
      const snapshot = (reads[0] as { snapshot: { healthFactor: bigint | null; baseUsdPrice?: bigint } }).snapshot;
      expect(refused).toBeGreaterThan(0);
      expect(Number(snapshot.healthFactor) / 1e18).toBeCloseTo(1.29, 2);
      expect(snapshot.baseUsdPrice).toBeUndefined();
      expect(warnings.some((line) => line.startsWith('USD price feed unread this tick'))).toBe(true);
    } finally {
      warn.mockRestore();
      proxy.closeAllConnections();
      proxy.close();
    }
  });

  it('leaves USD unknown without a feed for WETH, with a round older than its max age, or with a feed that is no aggregator; the read still succeeds', async () => {
    expect((await readWethLoan(undefined)).baseUsdPrice).toBeUndefined();
    expect((await readWethLoan(new Map([[`0x${'ab'.repeat(20)}`, { feed, maxAgeSeconds: 3_600 }]]))).baseUsdPrice).toBeUndefined();
    await pushEthUsd(2_000n * 10n ** 8n, 7_200n);
    const stale = await readWethLoan(feedsFor(feed));
    expect(stale.baseUsdPrice).toBeUndefined();
    expect(positionView(stale, new Date()).debt.usd).toBeNull();
    expect(stale.healthFactor).not.toBeNull();
    // Morpho itself answers neither decimals() nor latestRoundData().
    expect((await readWethLoan(feedsFor(local.morpho))).baseUsdPrice).toBeUndefined();
    await pushEthUsd(2_000n * 10n ** 8n, 0n);
    expect((await readWethLoan(feedsFor(feed))).baseUsdPrice).toBe(2_000n * 10n ** 18n);
  });
});

describe('a token of anyone\'s with a hostile symbol()', () => {
  it('is shown cut to 32 characters, without its newlines, right-to-left override or zero-width characters', async () => {
    // 4,000 characters: a fake second line, a right-to-left override, zero-width joiners.
    const hostile = `W\u200DETH\nCRITICAL: send funds to 0xabc\u202E${'x'.repeat(3_950)}`;
    const token = await deployMorphoTestToken(chain.clients, local.admin, { name: 'Hostile', symbol: hostile, decimals: 18 });
    const market = await createMorphoMarket(chain.clients, local, { loan: local.loan, collateral: token, irm: local.params.irm, price: '2000', lent: '100000' });
    const account = await openMorphoPosition(chain.clients, local, { collateral: '1', borrow: '1000' }, market);
    const { reads } = await readPositions(adapterFor('morpho-blue'), { context: context(), market: { market: market.id, protocolAddress: local.morpho }, accounts: [account], batchSize: 10 });
    const snapshot = (reads[0] as { snapshot: { assets?: Array<{ asset: string; symbol: string }> } }).snapshot;
    const shown = snapshot.assets!.find((asset) => asset.asset === token.asset)!.symbol;
    expect(shown).toBe(`WETH CRITICAL: send funds to 0xa`);
    expect(shown).toHaveLength(32);
  });
});
