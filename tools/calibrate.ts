// Derives the risk engine's calibration from real hourly price history and writes it, with its
// provenance, to src/risk/calibration.json (deterministic: the same inputs give the same bytes).
//
//   npm run calibrate                                  the shared Binance ETH and BTC history
//   npm run calibrate -- --prices A.csv:eth --prices B.csv:btc [--out FILE]
//
// Each --prices is FILE[:CLASS] (class btc, eth or volatile; guessed from the file name when
// omitted). Progress goes to stderr, the summary to stdout.

import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { basename, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import {
  assetClassSchema,
  bandTables,
  regimeTables,
  type BandTables,
  defaultVolatilities,
  HORIZONS,
  moveTables,
  pooledMoves,
  WARMUP_DAYS,
  type AssetClass,
  type Calibration,
  type CalibrationSeries,
} from '../src/risk/calibration';
import { RISKMETRICS_LAMBDA_PER_DAY } from '../src/risk/ewma';
import { tableCdf, tableQuantile } from '../src/risk/empirical-distribution';
import { parsePriceCsv } from '../src/risk/price-history';
import { MIN_BAND_MOVES } from '../src/risk/regime';

const ROOT = resolve(import.meta.dirname, '..');
const SHARED = resolve(ROOT, '../shared/data/prices');
const DEFAULT_INPUTS = [`${SHARED}/ETHUSDT-1h-2017-2020.csv:eth`, `${SHARED}/BTCUSDT-1h-2017-2020.csv:btc`];

const { values } = parseArgs({
  options: { prices: { type: 'string', multiple: true }, out: { type: 'string', default: resolve(ROOT, 'src/risk/calibration.json') } },
});

const inputs = (values.prices ?? DEFAULT_INPUTS).map(parseInput);
const sources: Calibration['provenance']['sources'] = [];
const series: CalibrationSeries[] = [];
for (const { file, assetClass } of inputs) {
  process.stderr.write(`reading ${file} … `);
  const text = readFileSync(file, 'utf8');
  const bars = parsePriceCsv(text);
  if (bars.length === 0) throw new Error(`${file}: no rows`);
  sources.push({
    file: relative(ROOT, file),
    sha256: createHash('sha256').update(text).digest('hex'),
    rows: bars.length,
    from: new Date(bars[0]!.time).toISOString(),
    to: new Date(bars[bars.length - 1]!.time).toISOString(),
    assetClass,
  });
  series.push({ assetClass, bars });
  process.stderr.write(`${bars.length} rows\n`);
}

const horizons = {} as Calibration['horizons'];
const bands = {} as Record<keyof typeof HORIZONS, BandTables[]>;
for (const [name, hours] of Object.entries(HORIZONS) as [keyof typeof HORIZONS, number][]) {
  process.stderr.write(`standardised ${name} moves … `);
  const moves = pooledMoves(series, hours);
  horizons[name] = moveTables(moves);
  bands[name] = bandTables(moves, horizons[name]);
  process.stderr.write(`${horizons[name].worstDown.n} samples; per regime band ${bands[name].map((band) => band.worstDown.n).join(', ')}\n`);
}

const calibration: Calibration = {
  method:
    'Filtered historical simulation: log moves over the horizon (worst low, worst high, end close) from each hourly close, divided by the EWMA volatility known at that close times √(horizon in days); quantiles pooled over all sources, and the worst moves also per band of the standardised 72 h return known at that close (regime).',
  provenance: {
    command: `npm run calibrate${values.prices === undefined ? '' : ' -- ' + inputs.map((input) => `--prices ${relative(ROOT, input.file)}:${input.assetClass}`).join(' ')}`,
    sources,
    parameters: { lambdaPerDay: RISKMETRICS_LAMBDA_PER_DAY, warmupDays: WARMUP_DAYS, horizonsHours: Object.values(HORIZONS), minBandMoves: MIN_BAND_MOVES },
  },
  horizons,
  regime: regimeTables(bands),
  defaultVolatility: defaultVolatilities(series),
};
writeFileSync(values.out, JSON.stringify(calibration, null, 1) + '\n');

const down = horizons['24h'].worstDown;
console.log(`wrote ${relative(process.cwd(), values.out)}`);
console.log(`24 h worst fall, standardised: 1% quantile ${tableQuantile(down, 0.01).toFixed(3)}, 5% ${tableQuantile(down, 0.05).toFixed(3)} (normal path minimum: −2.58, −1.96)`);
console.log(`P(24 h worst fall below −3σ) = ${(tableCdf(down, -3) * 100).toFixed(2)}% (normal path minimum: 0.27%)`);
console.log(
  `default volatility per year: ${Object.entries(calibration.defaultVolatility)
    .map(([name, vol]) => `${name} ${(vol * 100).toFixed(0)}%`)
    .join(', ')}`,
);

function parseInput(argument: string): { file: string; assetClass: AssetClass } {
  const match = /^(.*?)(?::(\w+))?$/.exec(argument);
  const file = resolve(match?.[1] ?? argument);
  const named = match?.[2] ?? guessClass(basename(file));
  const parsed = assetClassSchema.safeParse(named);
  if (!parsed.success) throw new Error(`--prices ${argument}: class must be one of ${assetClassSchema.options.join(', ')}`);
  return { file, assetClass: parsed.data };
}

function guessClass(name: string): AssetClass {
  if (/^(W?BTC|XBT)/i.test(name)) return 'btc';
  if (/^W?ETH/i.test(name)) return 'eth';
  return 'volatile';
}
