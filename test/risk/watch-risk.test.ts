import type { Address } from 'viem';
import { describe, expect, it } from 'vitest';
import type { AssetPosition, PositionSnapshot } from '../../src/domain/position';
import { COMMITTED_CALIBRATION } from '../../src/risk/committed-calibration';
import type { CovarianceMatrix } from '../../src/risk/ewma';
import { liquidationCostByRule } from '../../src/risk/liquidation-cost';
import { firstSeed, realisedSeed } from '../../src/risk/market-volatility';
import { assetClassOf } from '../../src/risk/asset-class';
import { liquidationProbability } from '../../src/risk/position-risk';
import { RISK_OFF, watchRisk, type WatchRiskInput } from '../../src/risk/watch-risk';
import { riskLine } from '../../src/notify/render';
import { alertEventFixture } from '../helpers/fixtures';

const USD = 10n ** 8n;
const WETH = '0xC02aaA39b223FE8D0A0e5C4F27eAD9083C756Cc2' as Address;
const USDC = '0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48' as Address;
// ETH at 0.0016 per day (76 %/yr).
const covariance: CovarianceMatrix = { assets: [WETH.toLowerCase()], perDay: [[0.0016]], samples: 288, from: Date.parse('2026-11-29T00:00:00Z'), to: Date.parse('2026-11-30T00:00:00Z') };

/** 10 ETH at $2,000 (LT 82.5 %, bonus 5 %) against 15,000 USDC: HF 1.1. */
function snapshot(ethPrice: bigint | undefined, options: { usd: boolean } = { usd: true }): WatchRiskInput['snapshot'] {
  const assets: AssetPosition[] = [
    { asset: WETH, symbol: 'WETH', decimals: 18, price: ethPrice, collateral: 10n * 10n ** 18n, usedAsCollateral: true, debt: 0n, liquidationThresholdBps: 8250n, ltvBps: 8000n },
    { asset: USDC, symbol: 'USDC', decimals: 6, price: USD, collateral: 0n, usedAsCollateral: false, debt: 15_000n * 10n ** 6n, liquidationThresholdBps: 8600n, ltvBps: 8100n },
  ];
  const base: PositionSnapshot = {
    chainId: 1, protocol: 'aave-v3', market: WETH, account: USDC, blockNumber: 1n, blockTimestamp: 0n, baseDecimals: 8, baseUsdPrice: options.usd ? USD : undefined,
    collateralBase: 20_000n * USD, debtBase: 15_000n * USD, liquidationThresholdBps: 8250n, ltvBps: 8000n, healthFactor: 11n * 10n ** 17n,
  };
  return { ...base, assets };
}

const rule = { closeFactorBps: 5_000n, fullCloseBelowHealthFactor: 95n * 10n ** 16n, penaltyBps: [{ asset: WETH, symbol: 'WETH', bps: 500n }] };
const input = (overrides: Partial<WatchRiskInput> = {}): WatchRiskInput => ({
  protocol: 'aave-v3',
  snapshot: snapshot(2000n * USD),
  rule,
  flat: new Set(),
  quoteIsUsd: true,
  covariance,
  seeds: new Map([[WETH.toLowerCase(), { variancePerDay: 0.0016, source: 'chainlink_rounds' as const, samples: 199 }]]),
  calibration: COMMITTED_CALIBRATION,
  settings: { enabled: true, levels: { warning: 0.01, marginCall: 0.05, critical: 0.2 } },
  history: { barSeconds: 300, windowDays: 60 },
  ...overrides,
});

describe('liquidation cost by protocol rule', () => {
  it('Aave / Spark: half the debt above HF 0.95 against the largest collateral at its bonus', () => {
    // 15,000 debt, 20,000 WETH at 5 %: repays 7,500, seizes 7,875: costs 375.
    expect(liquidationCostByRule('aave-v3', { collaterals: [{ asset: 'weth', value: 20_000, penaltyBps: 500 }], debt: 15_000, healthFactor: 1.1 })).toEqual({ debtRepaid: 7_500, collateralSeized: 7_875, cost: 375 });
    // At HF 0.9 all of it: 15,000 → 15,750 seized.
    expect(liquidationCostByRule('spark', { collaterals: [{ asset: 'weth', value: 20_000, penaltyBps: 500 }], debt: 15_000, healthFactor: 0.9 })!.cost).toBeCloseTo(750, 9);
  });

  it('Compound v3: every collateral absorbed at its liquidation factor', () => {
    // 10,000 at 7 % and 5,000 at 10 %: 700 + 500.
    expect(liquidationCostByRule('compound-v3', { collaterals: [{ asset: 'a', value: 10_000, penaltyBps: 700 }, { asset: 'b', value: 5_000, penaltyBps: 1_000 }], debt: 9_000, healthFactor: 0.99 })!.cost).toBeCloseTo(1_200, 9);
  });

  it('Morpho Blue: the whole debt at the incentive factor, capped by the collateral', () => {
    // LLTV 86 %: LIF = 1 / (1 − 0.3 × 0.14) = 1.0438413…; 8,000 debt costs 8,000 × 0.0438413.
    const lif = 1 / (1 - 0.3 * 0.14);
    const cost = liquidationCostByRule('morpho-blue', { collaterals: [{ asset: 'c', value: 9_000, penaltyBps: (lif - 1) * 10_000 }], debt: 8_000, healthFactor: 0.99 })!;
    expect(cost.cost).toBeCloseTo(8_000 * (lif - 1), 6);
    expect(liquidationCostByRule('morpho-blue', { collaterals: [], debt: 8_000, healthFactor: 0.5 })).toBeNull();
  });
});

describe('liquidation cost of the other protocols', () => {
  it('Maker and Liquity v2 take the whole debt at their penalty (chop 13 %, the stability pool 5 %); Fluid is not modelled: null', () => {
    const collaterals = [{ asset: 'c', value: 20_000, penaltyBps: 1_300 }];
    expect(liquidationCostByRule('maker', { collaterals, debt: 10_000, healthFactor: 0.99 })!.cost).toBeCloseTo(1_300, 9);
    expect(liquidationCostByRule('liquity-v2', { collaterals: [{ asset: 'c', value: 20_000, penaltyBps: 500 }], debt: 10_000, healthFactor: 0.99 })!.cost).toBeCloseTo(500, 9);
    expect(liquidationCostByRule('fluid', { collaterals, debt: 10_000, healthFactor: 0.99 })).toBeNull();
  });
});

describe('watch risk figures', () => {
  it('a 1.1 health factor at 76 %/yr: the move to liquidation, the calibrated probabilities, USD VaR/ES, cost and the safe top-up', () => {
    const risk = watchRisk(input());
    expect(risk.liquidationMove).toBeCloseTo(1 / 1.1 - 1, 4);
    expect(risk.liquidationProbability['24h']).toBeCloseTo(liquidationProbability({ kind: 'down', multiplier: 1 / 1.1 }, 0.0016, '24h', COMMITTED_CALIBRATION)!, 6);
    expect(risk.liquidationProbability['1h']!).toBeLessThan(risk.liquidationProbability['24h']!);
    expect(risk.gbmLiquidationProbability24h!).toBeLessThan(risk.liquidationProbability['24h']!);
    expect(risk.volatility).toEqual([{ asset: WETH, symbol: 'WETH', annualised: Math.round(Math.sqrt(0.0016 * 365) * 1e4) / 1e4, seed: 'chainlink_rounds' }]);
    expect(risk.valueAtRisk!['99']).toBeGreaterThan(risk.valueAtRisk!['95']);
    expect(risk.expectedShortfall!['97.5']).toBeGreaterThan(risk.valueAtRisk!['95']);
    expect(risk.liquidationCost).toBe(375);
    expect(risk.safeTopUp).toMatchObject({ action: 'supply', symbol: 'WETH', targetProbability: 0.01, reachesTarget: true });
    expect(risk.basis).toMatchObject({ method: 'filtered_historical_simulation', samples: 288, from: '2026-11-29T00:00:00.000Z', barSeconds: 300, windowDays: 60 });
  });

  it('unknown inputs give null, never a made-up number: no price, no volatility, no USD', () => {
    const noPrice = watchRisk(input({ snapshot: snapshot(undefined) }));
    expect(noPrice.liquidationProbability).toEqual({ '1h': null, '24h': null });
    expect(noPrice.liquidationCost).toBeNull();
    const noVolatility = watchRisk(input({ covariance: null }));
    expect(noVolatility.liquidationProbability['24h']).toBeNull();
    expect(noVolatility.valueAtRisk).toBeNull();
    expect(noVolatility.volatility[0]!.annualised).toBeNull();
    const noUsd = watchRisk(input({ snapshot: snapshot(2000n * USD, { usd: false }) }));
    expect(noUsd.liquidationProbability['24h']).not.toBeNull();
    expect(noUsd.valueAtRisk).toBeNull();
    expect(noUsd.liquidationCost).toBeNull();
  });

  it('with the recent 72 h returns, a fall raises the 24 h probability and the safe top-up; without them the figures are the pooled ones', () => {
    const pooled = watchRisk(input());
    const afterFall = watchRisk(input({ regime: { recentLogReturns: new Map([[WETH.toLowerCase(), -0.2]]) } }));
    expect(afterFall.liquidationProbability['24h']!).toBeGreaterThan(pooled.liquidationProbability['24h']!);
    expect(Number(afterFall.safeTopUp!.amount)).toBeGreaterThan(Number(pooled.safeTopUp!.amount));
    // Only the probabilities depend on the regime.
    expect(afterFall.valueAtRisk).toEqual(pooled.valueAtRisk);
    expect(afterFall.volatility).toEqual(pooled.volatility);
  });

  it('a watch without risk enabled still gets its figures, marked as not enabled', () => {
    expect(watchRisk(input({ settings: RISK_OFF })).enabled).toBe(false);
  });
});

describe('cold-start seeds and asset classes', () => {
  it('classifies stablecoins, BTC and ETH wrappers by symbol, anything else as volatile', () => {
    expect(['USDC', 'dai', 'USDT0', 'GHO'].map(assetClassOf)).toEqual(['stable', 'stable', 'stable', 'stable']);
    expect(['WBTC', 'cbBTC'].map(assetClassOf)).toEqual(['btc', 'btc']);
    expect(['WETH', 'wstETH', 'weETH'].map(assetClassOf)).toEqual(['eth', 'eth', 'eth']);
    expect(assetClassOf('PEPE')).toBe('volatile');
  });

  it('too short a round history (under 10 returns or a day) keeps the class default; a stablecoin is flat', () => {
    const hourly = Array.from({ length: 8 }, (_, i) => ({ time: i * 3_600_000, price: 2000 + i }));
    expect(firstSeed(hourly, 'eth', COMMITTED_CALIBRATION)?.source).toBe('asset_class_default');
    expect(firstSeed([], 'stable', COMMITTED_CALIBRATION)?.variancePerDay).toBe(0);
  });

  it('where prices are in a token (no class default applies), there is no seed until a path spans a day with 10 returns, then its realised variance', () => {
    const hourly = (hours: number) => Array.from({ length: hours + 1 }, (_, i) => ({ time: i * 3_600_000, price: i % 2 === 0 ? 1.2 : 1.2012 }));
    expect(firstSeed([], null, COMMITTED_CALIBRATION)).toBeNull();
    expect(firstSeed(hourly(8), null, COMMITTED_CALIBRATION)).toBeNull();
    // The market's own quote is still flat.
    expect(firstSeed([], 'stable', COMMITTED_CALIBRATION)).toEqual({ variancePerDay: 0, source: 'asset_class_default', samples: 0 });
    expect(realisedSeed(hourly(23), 'recorded_bars')).toBeNull(); // 23 h
    const day = realisedSeed(hourly(24), 'recorded_bars')!;
    expect(day).toMatchObject({ source: 'recorded_bars', samples: 24 });
    // 24 returns of ±0.1 % in a day: Σ r² ≈ 24 × 1e-6 per day, about 1.9 %/yr, where the ETH class default says 88 %.
    expect(day.variancePerDay).toBeCloseTo(24 * Math.log(1.001) ** 2, 9);
  });
});

describe('the one-line risk summary of Telegram and email', () => {
  it('says the 24 h risk, each volatility and the liquidation cost, and leaves out what is unknown', () => {
    const risk = watchRisk(input());
    expect(riskLine({ ...risk, liquidationProbability: { '1h': 0.001, '24h': 0.0213 }, volatility: [{ ...risk.volatility[0]!, annualised: 0.712 }], liquidationCost: 1240.4 })).toBe(
      '24 h liquidation risk 2.1% · WETH vol 71%/yr · liquidation would cost ≈ $1,240',
    );
    expect(riskLine({ ...risk, liquidationProbability: { '1h': null, '24h': null }, volatility: [], liquidationCost: null })).toBeNull();
    expect(riskLine(null)).toBeNull();
  });

  it('appears in the alert message as a Risk fact, and a probability-triggered alert says so in its headline', async () => {
    const { alertMessage } = await import('../../src/notify/render');
    const risk = { ...watchRisk(input()), liquidationProbability: { '1h': 0.004, '24h': 0.062 } };
    const message = alertMessage(alertEventFixture('vault', { level: 'margin_call', previousLevel: 'ok', type: 'alert.triggered', trigger: 'liquidation_probability', risk }));
    expect(message.headline).toMatch(/^24 h liquidation risk 6\.2% at health factor 1\.0725/);
    expect(message.facts).toContainEqual({ label: 'Risk', value: expect.stringContaining('24 h liquidation risk 6.2%') });
  });
});
