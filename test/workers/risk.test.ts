import { shardStub, tenantStub } from '../../src/durable/stubs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runInDurableObject } from 'cloudflare:test';
import { api, control, newTenant, pollShards, tenantIdOf, testEnv } from './helpers';
import { aaveShard, receivedAt, withShardEnv } from './monitor-helpers';

import { type Shard } from '../../src/durable/shard';
import type { MarketVolatilitySource } from '../../src/watches/market-volatility-source';

/*
 * Risk-based margin calls end to end: real Aave v3 on anvil, the shard recording WETH's oracle
 * price as one-second bars (RISK_PRICE_BAR_SECONDS=1 so a regime fits in a test), the EWMA
 * volatility, the calibrated liquidation probability and the alert machine, through the outbox
 * to a signed webhook.
 */

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const ONE_BAR_MS = 1_100;

async function riskWatch(path: string, body: Record<string, unknown> = {}) {
  const key = await newTenant(path);
  const channel = await api('POST', '/v1/channels', { token: key, body: { type: 'webhook', url: `${testEnv.TEST_RECEIVER_URL}${path.slice(1)}`, label: path } });
  await control('/receiver/secret', { path, secret: channel.body.secret });
  // 10 WETH at $2000 (LT 82.5 %) against 10,000 USDC: HF 1.65, above every health-factor line.
  const { account } = await control('/open', { collateral: 'WETH', collateralAmount: '10', debt: 'USDC', debtAmount: '10000' });
  const watch = await api('POST', '/v1/watches', { token: key, body: { chainId: 31337, protocol: 'aave-v3', market: testEnv.TEST_MARKET, account, label: `risk ${path}`, channels: [channel.body.id], ...body } });
  return { key, watch };
}

/** A new deployment's shard: no price bars and no seeds yet, so the test's own prices are the whole record. */
async function forgetPriceHistory() {
  await runInDurableObject(await aaveShard(), (_instance, state) => {
    state.storage.sql.exec('DELETE FROM price_bars');
    state.storage.sql.exec('DELETE FROM price_seeds');
    state.storage.sql.exec("DELETE FROM meta WHERE key = 'prices_read_at'");
  });
}

beforeAll(async () => {
  await control('/price', { symbol: 'WETH', price: '2000' });
});

afterAll(async () => {
  await control('/price', { symbol: 'WETH', price: '2000' });
});

describe('risk settings through the API', () => {
  it('a watch created without `risk` has it off with the default levels; with {"enabled":true} it is on with the defaults', async () => {
    const off = await riskWatch('/risk-off');
    expect(off.watch.status).toBe(201);
    expect(off.watch.body.risk).toEqual({ enabled: false, levels: { warning: 0.01, marginCall: 0.05, critical: 0.2 } });
    const on = await riskWatch('/risk-on', { risk: { enabled: true } });
    expect(on.watch.status).toBe(201);
    expect(on.watch.body.risk).toEqual({ enabled: true, levels: { warning: 0.01, marginCall: 0.05, critical: 0.2 } });
  });

  it('levels that do not strictly increase, or lie outside (0, 1), are a 400 naming the field', async () => {
    const key = await newTenant('/risk-bad');
    const base = { chainId: 31337, protocol: 'aave-v3', market: testEnv.TEST_MARKET, account: '0x00000000000000000000000000000000000000aa' };
    const unordered = await api('POST', '/v1/watches', { token: key, body: { ...base, risk: { enabled: true, levels: { warning: 0.05, marginCall: 0.05, critical: 0.2 } } } });
    expect(unordered.status).toBe(400);
    expect(unordered.body.error.issues).toEqual([expect.objectContaining({ path: 'risk.levels.warning' })]);
    const outside = await api('POST', '/v1/watches', { token: key, body: { ...base, risk: { enabled: true, levels: { critical: 1.5 } } } });
    expect(outside.status).toBe(400);
    expect(outside.body.error.issues).toEqual([expect.objectContaining({ path: 'risk.levels.critical', message: 'must be less than 1' })]);
    const unknownField = await api('POST', '/v1/watches', { token: key, body: { ...base, risk: { enabled: true, horizon: '1h' } } });
    expect(unknownField.status).toBe(400);
  });

  it('PATCH replaces the settings, and null turns risk-based levels off', async () => {
    const { key, watch } = await riskWatch('/risk-patch');
    const levels = { warning: 0.02, marginCall: 0.08, critical: 0.3 };
    const patched = await api('PATCH', `/v1/watches/${watch.body.id}`, { token: key, body: { risk: { enabled: true, levels } } });
    expect(patched.status).toBe(200);
    expect(patched.body.risk).toEqual({ enabled: true, levels });
    const off = await api('PATCH', `/v1/watches/${watch.body.id}`, { token: key, body: { risk: null } });
    expect(off.body.risk).toEqual({ enabled: false, levels: { warning: 0.01, marginCall: 0.05, critical: 0.2 } });
  });
});

describe('a volatility regime change alone', () => {
  it('moves a risk-enabled watch at an unchanged health factor to margin_call: signed, once, with trigger liquidation_probability', async () => {
    const path = '/risk-regime';
    const { key, watch } = await riskWatch(path, { risk: { enabled: true } });
    expect(watch.status).toBe(201);
    const watchId = watch.body.id as string;
    await forgetPriceHistory();
    await withShardEnv({ RISK_PRICE_BAR_SECONDS: '1' }, async () => {
      await pollShards();
      const calm = (await api('GET', `/v1/watches/${watchId}`, { token: key })).body;
      expect(calm.level).toBe('ok');
      // No round history behind the local oracle's MockAggregator: ETH's calibrated default (88 %/yr) to start.
      expect(calm.risk.volatility).toEqual([expect.objectContaining({ symbol: 'WETH', seed: 'asset_class_default' })]);
      expect(calm.risk.volatility[0].annualised).toBeCloseTo(0.8825, 2);
      expect(calm.risk.liquidationProbability['24h']).toBeLessThan(0.01);
      expect(calm.risk.basis).toMatchObject({ method: 'filtered_historical_simulation', lambdaPerDay: 0.94, barSeconds: 1 });

      // The regime: WETH jumps 40 % and falls back, six times, one bar each. The health factor only ever rises above 1.65.
      for (let swing = 0; swing < 6; swing++) {
        for (const price of ['2800', '2000']) {
          await sleep(ONE_BAR_MS);
          await control('/price', { symbol: 'WETH', price });
          await pollShards();
        }
      }
      // Back where it started: two more observations at the same price confirm the level (`for`).
      await sleep(ONE_BAR_MS);
      await pollShards();
      await pollShards();
      const after = (await api('GET', `/v1/watches/${watchId}`, { token: key })).body;
      // Only the interest accrued over the test's seconds moves it (in the fourth decimal at most).
      expect(Math.abs(Number(after.position.healthFactor) - Number(calm.position.healthFactor))).toBeLessThanOrEqual(0.0002);
      expect(after.level).toBe('margin_call');
      expect(after.risk.volatility[0].annualised).toBeGreaterThan(3);
      expect(after.risk.liquidationProbability['24h']).toBeGreaterThanOrEqual(0.05);
      expect(after.risk.liquidationProbability['24h']).toBeLessThan(0.2);
      // Figures the alert can act on: the equity's 24 h loss, what a liquidation would cost, and the supply that brings the risk under 1 %.
      expect(after.risk.valueAtRisk['99']).toBeGreaterThan(after.risk.valueAtRisk['95']);
      expect(after.risk.expectedShortfall['97.5']).toBeGreaterThan(after.risk.valueAtRisk['95']);
      expect(after.risk.liquidationCost).toBeGreaterThan(0);
      expect(after.risk.safeTopUp).toMatchObject({ action: 'supply', symbol: 'WETH', targetProbability: 0.01, reachesTarget: true });
      expect(Number(after.risk.safeTopUp.amount)).toBeGreaterThan(0);
      const listed = (await api('GET', '/v1/watches', { token: key })).body.data.find((item: { id: string }) => item.id === watchId);
      expect(listed.liquidationProbability24h).toBe(after.risk.liquidationProbability['24h']);
    });

    await tenantStub(testEnv, tenantIdOf(key)).deliverDue();
    const events = await receivedAt(path);
    const marginCalls = events.filter((event) => event.body.level === 'margin_call');
    expect(marginCalls).toHaveLength(1);
    expect(marginCalls[0]!.verified).toBe(true);
    expect(marginCalls[0]!.body).toMatchObject({ trigger: 'liquidation_probability', watch: { id: watchId } });
    expect(marginCalls[0]!.body.risk.liquidationProbability['24h']).toBeGreaterThanOrEqual(0.05);
    // Every alert of this watch came from the probability: its health factor never crossed a line.
    expect(events.every((event) => event.body.trigger === 'liquidation_probability' && event.verified)).toBe(true);
    expect(new Set(events.map((event) => event.id)).size).toBe(events.length);

    expect((await api('DELETE', `/v1/watches/${watchId}`, { token: key })).status).toBe(204);
    await forgetPriceHistory();
  }, 120_000);
});

describe('the regime input from recorded bars', () => {
  it("gives each asset's log return over the look-back from its newest bar and the bar at or before the look-back, and leaves out an asset with less history", async () => {
    const HOUR = 3_600_000;
    const start = Date.parse('2026-11-01T00:00:00Z');
    const returns = await runInDurableObject(shardStub(testEnv, 'risk-regime-bars'), (instance: Shard, state) => {
      const insert = (asset: string, bar: number, price: number) => state.storage.sql.exec('INSERT INTO price_bars (asset, bar, price) VALUES (?, ?, ?)', asset, bar, price);
      // weth: 2000 three days ago, 1800 two days ago, 1500 now; wbtc: only the last day.
      insert('0xweth', start, 2000);
      insert('0xweth', start + 24 * HOUR, 1800);
      insert('0xweth', start + 72 * HOUR, 1500);
      insert('0xwbtc', start + 48 * HOUR, 60000);
      insert('0xwbtc', start + 72 * HOUR, 57000);
      const source = (instance as unknown as { volatility: MarketVolatilitySource }).volatility;
      return Object.fromEntries(source.recentLogReturns(['0xweth', '0xwbtc'], 72));
    });
    expect(returns).toEqual({ '0xweth': Math.log(1500 / 2000) });
  });
});

describe('seeding the volatility of a market that prices in a token', () => {
  it('an asset priced in WETH gets no dollar class default: no seed until its own bars span a day with 10 returns, then their realised variance', async () => {
    const HOUR = 3_600_000;
    const start = Date.parse('2026-11-01T00:00:00Z');
    const settings = { barSeconds: 300, windowDays: 60 };
    const noRounds = async () => new Map();
    const WSTETH = '0x00000000000000000000000000000000000000e2';
    const WETH = '0x00000000000000000000000000000000000000e1';
    // wstETH in WETH (18 decimals), moving ±0.1 % an hour; WETH is the quote.
    const pricesAt = (hour: number, quoteIsUsd: boolean) => ({
      priceDecimals: 18,
      quoteIsUsd,
      flat: [WETH as `0x${string}`],
      prices: [{ asset: WSTETH as `0x${string}`, symbol: 'wstETH', price: hour % 2 === 0 ? 1_200_000_000_000_000_000n : 1_201_200_000_000_000_000n, feed: null }],
    });
    const seedsAfter = (name: string, hours: number, quoteIsUsd: boolean) =>
      runInDurableObject(shardStub(testEnv, name), async (instance: Shard) => {
        const source = (instance as unknown as { volatility: MarketVolatilitySource }).volatility;
        const seen: Array<{ hour: number; seed: unknown; covariance: boolean }> = [];
        for (let hour = 0; hour <= hours; hour++) {
          await source.record(pricesAt(hour, quoteIsUsd), start + hour * HOUR, settings, noRounds);
          seen.push({ hour, seed: source.seeds().get(WSTETH.toLowerCase()) ?? null, covariance: source.covariance([WSTETH.toLowerCase()]) !== null });
        }
        return seen;
      });

    const inWeth = await seedsAfter('risk-seed-in-weth', 24, false);
    expect(inWeth.filter((step) => step.seed !== null).map((step) => step.hour)).toEqual([24]);
    expect(inWeth.filter((step) => step.covariance).map((step) => step.hour)).toEqual([24]);
    const seed = inWeth[24]!.seed as { variancePerDay: number; source: string; samples: number };
    expect(seed).toMatchObject({ source: 'recorded_bars', samples: 24 });
    expect(seed.variancePerDay).toBeCloseTo(24 * Math.log(1.001) ** 2, 9);
    // The same asset in a dollar market starts at once from the ETH class default.
    const inUsd = await seedsAfter('risk-seed-in-usd', 0, true);
    expect(inUsd[0]!.seed).toMatchObject({ source: 'asset_class_default' });
  });
});
