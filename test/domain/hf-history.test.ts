import { describe, expect, it } from 'vitest';
import { bucketStart, chartValue, downsample, lowerHealthFactor, retentionCutoff, HF_HISTORY_DAYS } from '../../src/watches/hf-history';
import { MAX_CHART_POINTS, chartData, chartRangeOf, lowestHealthFactor, rangeStart } from '../../src/dashboard/chart';

describe('health-factor history', () => {
  it('puts a time in the bucket that starts at the last multiple of the bucket length', () => {
    expect(bucketStart(1_000_299_999, 300_000)).toBe(1_000_200_000);
    expect(bucketStart(1_000_200_000, 300_000)).toBe(1_000_200_000);
  });

  it('keeps 30 days', () => {
    expect(HF_HISTORY_DAYS).toBe(30);
    expect(retentionCutoff(31 * 86_400_000)).toBe(86_400_000);
  });

  it('treats a null health factor (no debt) as higher than any number', () => {
    expect(lowerHealthFactor(null, 1.2)).toBe(1.2);
    expect(lowerHealthFactor(1.1, null)).toBe(1.1);
    expect(lowerHealthFactor(null, null)).toBeNull();
    expect(lowerHealthFactor(1.3, 1.2)).toBe(1.2);
  });

  it('downsamples to at most maxPoints by merging equal runs, keeping each run\'s first time and lowest value', () => {
    const points = [1.5, 1.4, null, 1.6, 1.2, 1.3, 1.1].map((healthFactor, index) => ({ at: index * 1000, healthFactor }));
    expect(downsample(points, 3)).toEqual([
      { at: 0, healthFactor: 1.4 },
      { at: 3000, healthFactor: 1.2 },
      { at: 6000, healthFactor: 1.1 },
    ]);
    expect(downsample(points, 10)).toEqual(points);
    expect(() => downsample(points, 0)).toThrow(RangeError);
  });

  it('charts 30 days of 5-minute points as at most MAX_CHART_POINTS, times in unix seconds, with the watch\'s lines and 1.0', () => {
    const points = Array.from({ length: 8640 }, (_, index) => ({ at: index * 300_000, healthFactor: 2 - index / 10_000 }));
    const data = chartData(points, { warning: 1.5, marginCall: 1.25, critical: 1.1 });
    expect(data.times.length).toBeLessThanOrEqual(MAX_CHART_POINTS);
    expect(data.times[1]).toBe(12 * 300);
    expect(data.healthFactors[0]).toBe(2 - 11 / 10_000);
    expect(data.lines).toEqual({ warning: 1.5, marginCall: 1.25, critical: 1.1, liquidation: 1 });
  });

  it('finds the lowest point, skipping no-debt points', () => {
    expect(lowestHealthFactor([{ at: 1, healthFactor: null }, { at: 2, healthFactor: 1.3 }, { at: 3, healthFactor: 1.2 }])).toEqual({ at: 3, healthFactor: 1.2 });
    expect(lowestHealthFactor([{ at: 1, healthFactor: null }])).toBeNull();
  });

  it('reads ranges 1d, 7d, 30d and falls back to 1d for anything else', () => {
    expect(chartRangeOf('7d')).toBe('7d');
    expect(chartRangeOf('1y')).toBe('1d');
    expect(chartRangeOf('constructor')).toBe('1d');
    expect(chartRangeOf(undefined)).toBe('1d');
    expect(rangeStart('7d', 10 * 86_400_000)).toBe(3 * 86_400_000);
  });

  it('charts the health factor text as a number, null for none', () => {
    expect(chartValue('1.6500')).toBe(1.65);
    expect(chartValue(null)).toBeNull();
  });
});
