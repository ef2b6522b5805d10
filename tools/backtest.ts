// Replays a book of positions over real hourly prices under the static health-factor policy and
// the 24 h liquidation-probability policy, and prints (and with --json writes) the comparison.
//
//   npm run backtest                                   the bundled 2019-12 … 2020-04 ETH and BTC window
//   npm run backtest -- --prices FILE.csv [--prices FILE2.csv] [--json OUT.json] [--from DATE] [--model regime|pooled]
//
// --from opens positions from that date only (earlier rows still warm up the EWMA and the
// tables: how to report a later period without tuning on it); --model pooled replays the
// regime-blind model the regimes replaced.
//
// CSV columns time,open,high,low,close,volume (hourly, gaps tolerated). The asset name is the
// file name up to the first '-' or '.'. Progress goes to stderr. See the README's "Risk" section.

import { readFileSync, writeFileSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { DEFAULT_BACKTEST_OPTIONS, runBacktest, type PolicyMetrics } from '../src/risk/backtest';
import { parsePriceCsv } from '../src/risk/price-history';

const BUNDLED = ['ETHUSDT-1h-2019-12-2020-04.csv', 'BTCUSDT-1h-2019-12-2020-04.csv'].map((name) =>
  resolve(import.meta.dirname, 'backtest-data', name),
);

const { values } = parseArgs({
  options: { prices: { type: 'string', multiple: true }, json: { type: 'string' }, from: { type: 'string' }, model: { type: 'string', default: 'regime' } },
});
const files = values.prices ?? BUNDLED;
const model = z.enum(['regime', 'pooled']).parse(values.model, { error: () => '--model must be regime or pooled' });
const bookFrom = values.from === undefined ? undefined : Date.parse(values.from);
if (bookFrom !== undefined && !Number.isFinite(bookFrom)) throw new Error(`--from ${values.from}: not a date (e.g. 2019-01-01)`);

const series = files.map((file) => {
  process.stderr.write(`reading ${file} … `);
  const bars = parsePriceCsv(readFileSync(file, 'utf8'));
  if (bars.length === 0) throw new Error(`${file}: no rows`);
  process.stderr.write(`${bars.length} rows\n`);
  return { file: basename(file), asset: basename(file).split(/[-.]/)[0] ?? basename(file), bars };
});

const result = runBacktest(series, { ...DEFAULT_BACKTEST_OPTIONS, model, ...(bookFrom === undefined ? {} : { bookFrom }) }, (message) => process.stderr.write(`${message}\n`));

const percent = (value: number) => `${(value * 100).toFixed(2)}%`;
for (const s of result.series) console.log(`${s.asset}  ${s.file}  ${s.from} … ${s.to}  ${s.hours} h`);
console.log('');
console.log('policy           positions  liquidations  lead≥1h  lead≥6h  median lead  missed  false alarms / position-month');
for (const [name, p] of Object.entries(result.policies) as [string, PolicyMetrics][]) {
  console.log(
    `${name.padEnd(16)} ${String(p.positions).padStart(9)}  ${String(p.liquidations).padStart(12)}  ${String(p.caughtLead1h).padStart(7)}  ${String(p.caughtLead6h).padStart(7)}  ${(p.medianLeadHours === null ? '–' : `${p.medianLeadHours.toFixed(1)} h`).padStart(11)}  ${String(p.missed).padStart(6)}  ${p.falseAlarmsPerPositionMonth.toFixed(3)}`,
  );
}
const { brier, brierClimatology, bins } = result.calibration;
console.log('');
console.log(`24 h liquidation probability: Brier ${brier.toFixed(5)} vs climatology ${brierClimatology.toFixed(5)}`);
console.log('bin              n   predicted   realised');
for (const bin of bins) {
  console.log(`${`${percent(bin.from)}–${percent(bin.to)}`.padEnd(14)} ${String(bin.n).padStart(8)}  ${percent(bin.predicted).padStart(9)}  ${percent(bin.realised).padStart(9)}`);
}
if (values.json !== undefined) {
  writeFileSync(values.json, JSON.stringify(result, null, 2) + '\n');
  process.stderr.write(`wrote ${values.json}\n`);
}
