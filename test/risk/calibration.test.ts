import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { calibrationSchema } from '../../src/risk/calibration';
import { quantileTable, tableCdf } from '../../src/risk/empirical-distribution';
import { normalCdf } from '../../src/risk/normal';
import { hourlyVariances, parsePriceCsv, regimeBands, standardisedMoves } from '../../src/risk/price-history';
import { REGIME_EDGES } from '../../src/risk/regime';

const ROOT = resolve(import.meta.dirname, '../..');
const SHARED = resolve(ROOT, '../shared/data/prices');
const COMMITTED = resolve(ROOT, 'src/risk/calibration.json');
const files = ['ETHUSDT-1h-2017-2020.csv', 'BTCUSDT-1h-2017-2020.csv'].map((name) => join(SHARED, name));

describe('calibration on the shared Binance ETH and BTC history', () => {
  it('npm run calibrate reproduces the committed file byte for byte, with the sources’ SHA-256 in its provenance', () => {
    const out = join(mkdtempSync(join(tmpdir(), 'calibrate-')), 'calibration.json');
    execFileSync(process.execPath, ['--import', 'tsx', 'tools/calibrate.ts', '--out', out], { cwd: ROOT, stdio: 'pipe' });
    expect(readFileSync(out, 'utf8')).toBe(readFileSync(COMMITTED, 'utf8'));
    const calibration = calibrationSchema.parse(JSON.parse(readFileSync(COMMITTED, 'utf8')));
    expect(calibration.provenance.sources.map((source) => source.sha256)).toEqual(
      files.map((file) => createHash('sha256').update(readFileSync(file)).digest('hex')),
    );
    expect(calibration.provenance.sources.map((source) => source.rows)).toEqual([29_474, 29_474]);
    expect(calibration.horizons['24h'].worstDown.n).toBeGreaterThan(50_000);
    // Cold-start defaults are real annualised volatilities, ETH above BTC, the unknown class above both.
    const { btc, eth, volatile, stable } = calibration.defaultVolatility;
    expect(stable).toBe(0);
    expect(btc).toBeGreaterThan(0.3);
    expect(eth).toBeGreaterThan(btc!);
    expect(volatile).toBeGreaterThan(eth!);
  }, 30_000);

  it('predicts 2019–2020 24 h worst falls from 2017–2018 within 3 pp, where GBM misses the tail by a factor of 5 or more', () => {
    const split = Date.parse('2019-01-01T00:00:00Z');
    const train: number[] = [];
    const test: number[] = [];
    for (const file of files) {
      const bars = parsePriceCsv(readFileSync(file, 'utf8'));
      const moves = standardisedMoves(bars, hourlyVariances(bars), 24, 30);
      moves.worstDown.forEach((z, i) => (moves.knownAt[i]! < split ? train : test).push(z));
    }
    const table = quantileTable(train);
    for (const threshold of [-1, -1.5, -2, -2.5, -3, -4]) {
      const realised = test.filter((z) => z <= threshold).length / test.length;
      const predicted = tableCdf(table, threshold);
      // A driftless Brownian path's minimum over the horizon is below −x σ√T with probability 2Φ(−x).
      const gbm = 2 * normalCdf(threshold);
      expect(Math.abs(predicted - realised), `at ${threshold} σ: FHS ${predicted}, realised ${realised}`).toBeLessThan(0.03);
      if (threshold <= -3) expect(realised / gbm).toBeGreaterThan(5);
    }
  });
});

describe('regime tables out of sample', () => {
  it('per band of the 72 h return, 2017–2018 tables predict how often 2019–2020 24 h worst falls passed −1σ, −2σ, −3σ better than the pooled table', () => {
    const split = Date.parse('2019-01-01T00:00:00Z');
    const train: { z: number; band: number }[] = [];
    const test: { z: number; band: number }[] = [];
    for (const file of files) {
      const bars = parsePriceCsv(readFileSync(file, 'utf8'));
      const variances = hourlyVariances(bars);
      const bands = regimeBands(bars, variances);
      const moves = standardisedMoves(bars, variances, 24, 30);
      moves.worstDown.forEach((z, i) => (moves.knownAt[i]! < split ? train : test).push({ z, band: bands[moves.origin[i]!]! }));
    }
    const pooled = quantileTable(train.map((move) => move.z));
    let bandedError = 0;
    let pooledError = 0;
    for (let band = 0; band <= REGIME_EDGES.length; band++) {
      const inBand = test.filter((move) => move.band === band);
      const table = quantileTable(train.filter((move) => move.band === band).map((move) => move.z));
      for (const threshold of [-1, -2, -3]) {
        const realised = inBand.filter((move) => move.z <= threshold).length / inBand.length;
        bandedError += inBand.length * Math.abs(tableCdf(table, threshold) - realised);
        pooledError += inBand.length * Math.abs(tableCdf(pooled, threshold) - realised);
      }
    }
    // Measured: the banded mean absolute error is about half the pooled one.
    expect(bandedError).toBeLessThan(0.7 * pooledError);
  });
});
