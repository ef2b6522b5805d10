// Replays a book of positions over real hourly prices under the static health-factor policy and
// the 24 h liquidation-probability policy, and prints (and with --json writes) the comparison.
//
//   npm run backtest                                   the bundled 2019-12 … 2020-04 ETH and BTC window
//   npm run backtest -- --prices FILE.csv [--prices FILE2.csv] [--json OUT.json] [--from DATE] [--model regime|pooled]
//                       [--policy NAME=KIND[:hf=W,M,C][:p=W,M,C] ...] [--regime MEASURE:HOURS:EDGES ...]
//
// --from opens positions from that date only (earlier rows still warm up the EWMA and the
// tables: how to report a later period without tuning on it); --model pooled replays the
// regime-blind model the regimes replaced. Each --policy replays one more alert policy beside
// static, risk and probabilityOnly and reports it under NAME (src/risk/backtest-policy-option.ts),
// e.g. --policy criticalOnly=risk:hf=1.1002,1.1001,1.1 --policy p05=probability:p=0.005,0.025,0.1
// Each --regime is one dimension of the regime model's cells (src/risk/backtest-regime-option.ts),
// in order, replacing the production 72 h return, e.g. --regime return:72:-2.5,-2,-1.5,-1,-0.5,0,1
// --regime drawdown:336:-2,-1 (the 72 h return bands, each split by the 14-day drawdown).
//
// CSV columns time,open,high,low,close,volume (hourly, gaps tolerated). The asset name is the
// file name up to the first '-' or '.'. Progress goes to stderr. See the README's "Risk" section.

import { readFileSync, writeFileSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { backtestPolicySpecs, DEFAULT_BACKTEST_OPTIONS, runBacktest, type PolicyMetrics } from '../src/risk/backtest';
import { describePolicySpec, parsePolicyOptions } from '../src/risk/backtest-policy-option';
import { describeRegime, parseRegimeOptions } from '../src/risk/backtest-regime-option';
import { parsePriceCsv } from '../src/risk/price-history';
import { PRODUCTION_REGIME } from '../src/risk/regime';

const BUNDLED = ['ETHUSDT-1h-2019-12-2020-04.csv', 'BTCUSDT-1h-2019-12-2020-04.csv'].map((name) =>
  resolve(import.meta.dirname, 'backtest-data', name),
);

const { values } = parseArgs({
  options: { prices: { type: 'string', multiple: true }, json: { type: 'string' }, from: { type: 'string' }, model: { type: 'string', default: 'regime' },
    policy: { type: 'string', multiple: true }, regime: { type: 'string', multiple: true },
  },
});
const files = values.prices ?? BUNDLED;
const model = z.enum(['regime', 'pooled']).parse(values.model, { error: () => '--model must be regime or pooled' });
const bookFrom = values.from === undefined ? undefined : Date.parse(values.from);
if (bookFrom !== undefined && !Number.isFinite(bookFrom)) throw new Error(`--from ${values.from}: not a date (e.g. 2019-01-01)`);
const extraPolicies = parsePolicyOptions(values.policy ?? [], DEFAULT_BACKTEST_OPTIONS);
const regime = parseRegimeOptions(values.regime ?? []);
if (regime !== undefined && model !== 'regime') throw new Error('--regime needs --model regime');
const options = { ...DEFAULT_BACKTEST_OPTIONS, model, extraPolicies, ...(bookFrom === undefined ? {} : { bookFrom }), ...(regime === undefined ? {} : { regime }) };

const series = files.map((file) => {
  process.stderr.write(`reading ${file} … `);
  const bars = parsePriceCsv(readFileSync(file, 'utf8'));
  if (bars.length === 0) throw new Error(`${file}: no rows`);
  process.stderr.write(`${bars.length} rows\n`);
  return { file: basename(file), asset: basename(file).split(/[-.]/)[0] ?? basename(file), bars };
});

if (model === 'regime') process.stderr.write(`regime: ${describeRegime(regime ?? PRODUCTION_REGIME)}\n`);
const result = runBacktest(series, options, (message) => process.stderr.write(`${message}\n`));

const percent = (value: number) => `${(value * 100).toFixed(2)}%`;
for (const s of result.series) console.log(`${s.asset}  ${s.file}  ${s.from} … ${s.to}  ${s.hours} h`);
console.log('');
const specs = backtestPolicySpecs(options);
const width = Math.max(16, ...Object.keys(result.policies).map((name) => name.length));
// reminders: margin_call-or-worse reminders per position-month (hourly observations), printed only.
console.log(`${'policy'.padEnd(width)} positions  liquidations  lead≥1h  lead≥6h  median lead  missed  false alarms / position-month  reminders / position-month`);
for (const [name, p] of Object.entries(result.policies) as [string, PolicyMetrics][]) {
  console.log(
    `${name.padEnd(width)} ${String(p.positions).padStart(9)}  ${String(p.liquidations).padStart(12)}  ${String(p.caughtLead1h).padStart(7)}  ${String(p.caughtLead6h).padStart(7)}  ${(p.medianLeadHours === null ? '–' : `${p.medianLeadHours.toFixed(1)} h`).padStart(11)}  ${String(p.missed).padStart(6)}  ${p.falseAlarmsPerPositionMonth.toFixed(3).padStart(29)}  ${(result.reminders[name] ?? 0).toFixed(2).padStart(25)}`,
  );
}
console.log('');
for (const [name, spec] of Object.entries(specs)) console.log(`${name.padEnd(width)} ${describePolicySpec(spec)}`);
const { brier, brierClimatology, bins } = result.calibration;
console.log('');
console.log(`24 h liquidation probability: Brier ${brier.toFixed(5)} vs climatology ${brierClimatology.toFixed(5)}`);
// days: distinct days of the bin's position-hours; the interval: where realised − predicted lands in
// 95 % of day-block bootstrap resamples (the position-hours of a day share one price path).
console.log('bin              n   predicted   realised   days   realised − predicted, 95 % day-block bootstrap');
const points = (value: number) => `${value >= 0 ? '+' : ''}${(value * 100).toFixed(1)}`;
bins.forEach((bin, k) => {
  const interval = result.binIntervals[k] ?? null;
  const spread = interval === null ? '' : `${String(interval.days).padStart(6)}   ${points(bin.realised - bin.predicted)} pp [${points(interval.low)}, ${points(interval.high)}]`;
  console.log(`${`${percent(bin.from)}–${percent(bin.to)}`.padEnd(14)} ${String(bin.n).padStart(8)}  ${percent(bin.predicted).padStart(9)}  ${percent(bin.realised).padStart(9)}  ${spread}`);
});
// Where the gap of the upper bins comes from: positions opened far from their barrier reach it after a long fall.
console.log('');
console.log(`bins ≥ 10 % by open HF: predicted → realised (n)`);
for (const { openHealthFactor, bins: own } of result.binsByOpenHealthFactor) {
  const upper = own.filter((bin) => bin.from >= 0.1 && bin.n > 0);
  console.log(`  HF ${openHealthFactor.toFixed(2)}  ${upper.map((bin) => `${percent(bin.from)}+: ${percent(bin.predicted)} → ${percent(bin.realised)} (${bin.n})`).join('  ')}`);
}
if (values.json !== undefined) {
  // The --json contract: series, policies, calibration (the bootstrap intervals are printed only).
  const { series: seriesOut, policies, calibration } = result;
  writeFileSync(values.json, JSON.stringify({ series: seriesOut, policies, calibration }, null, 2) + '\n');
  process.stderr.write(`wrote ${values.json}\n`);
}
