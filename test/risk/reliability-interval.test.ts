import { describe, expect, it } from 'vitest';
import { reliability } from '../../src/risk/backtest';
import { binIndex, dayBlockIntervals, DayBinSums } from '../../src/risk/reliability-interval';

const edges = [0, 0.2, 0.5, 1];

describe('reliability bins: day-block bootstrap interval of realised − predicted', () => {
  it('puts a probability in the same bin as the reliability table: [from, to), the last bin closed', () => {
    expect([0, 0.19, 0.2, 0.49, 0.5, 0.99, 1].map((p) => binIndex(p, edges))).toEqual([0, 0, 1, 1, 2, 2, 2]);
    const predictions = [0, 0.19, 0.2, 0.49, 0.5, 0.99, 1].map((p) => ({ p, y: 0 }));
    expect(reliability(predictions, edges).bins.map((bin) => bin.n)).toEqual([2, 2, 3]);
  });

  it('two days of p = 10 %, one with both positions liquidated and one with none: the gap ranges from −10 to +90 pp', () => {
    const predictions = [
      { p: 0.1, y: 1, day: 1 },
      { p: 0.1, y: 1, day: 1 },
      { p: 0.1, y: 0, day: 2 },
      { p: 0.1, y: 0, day: 2 },
    ];
    // Resamples hold day 1 twice (+90 pp), day 2 twice (−10 pp) or one of each (+40 pp), each often in 1,000.
    const [first, second, third] = dayBlockIntervals(predictions, edges);
    expect(first!.days).toBe(2);
    expect(first!.low).toBeCloseTo(-0.1, 12);
    expect(first!.high).toBeCloseTo(0.9, 12);
    expect(second).toBeNull();
    expect(third).toBeNull();
  });

  it('all position-hours on one day: every resample is that day, so the interval is the gap itself however many hours there are', () => {
    const predictions = Array.from({ length: 500 }, (_, i) => ({ p: 0.3, y: i % 2, day: 7 }));
    expect(dayBlockIntervals(predictions, edges)).toEqual([null, { days: 1, low: expect.closeTo(0.2, 12), high: expect.closeTo(0.2, 12) }, null]);
  });

  it('is the same for the same seed and inputs (a printed figure can be reproduced)', () => {
    const sums = new DayBinSums(edges);
    for (let day = 0; day < 50; day++) for (let h = 0; h < 24; h++) sums.add(((day * 24 + h) % 97) / 100, (day * 7 + h) % 5 === 0 ? 1 : 0, day);
    expect(sums.intervals({ seed: 3 })).toEqual(sums.intervals({ seed: 3 }));
    for (const interval of sums.intervals()) {
      expect(interval).not.toBeNull();
      expect(interval!.low).toBeLessThanOrEqual(interval!.high);
    }
  });
});
