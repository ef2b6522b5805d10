/*
 * A shard's record of its market's oracle prices: one bar per asset per RISK_PRICE_BAR_SECONDS
 * (the first price seen in the bar, timed at the bar's start, so bars of one poll share a time),
 * kept for RISK_HISTORY_DAYS, and each asset's volatility seed. Thin SQL over the shard's storage.
 */
import type { PricePoint } from '../risk/ewma';
import type { SeedSource, VolatilitySeed } from '../risk/market-volatility';

export class PriceHistoryStore {
  constructor(private readonly sql: SqlStorage) {
    sql.exec('CREATE TABLE IF NOT EXISTS price_bars (asset TEXT NOT NULL, bar INTEGER NOT NULL, price REAL NOT NULL, PRIMARY KEY (asset, bar))');
    sql.exec('CREATE INDEX IF NOT EXISTS price_bars_by_bar ON price_bars (bar)');
    sql.exec('CREATE TABLE IF NOT EXISTS price_seeds (asset TEXT PRIMARY KEY, variance REAL NOT NULL, source TEXT NOT NULL, samples INTEGER NOT NULL)');
  }

  /** Records one bar of prices (assets lower-case); a bar already recorded keeps its first prices. Drops bars older than `keepFrom`. */
  record(bar: number, prices: ReadonlyArray<{ asset: string; price: number }>, keepFrom: number): void {
    for (const { asset, price } of prices) this.sql.exec('INSERT OR IGNORE INTO price_bars (asset, bar, price) VALUES (?, ?, ?)', asset, bar, price);
    this.sql.exec('DELETE FROM price_bars WHERE bar < ?', keepFrom);
  }

  /** The bars of each asset, oldest first. */
  series(assets: readonly string[]): Record<string, PricePoint[]> {
    const series: Record<string, PricePoint[]> = {};
    for (const asset of assets) {
      series[asset] = this.sql.exec<{ bar: number; price: number }>('SELECT bar, price FROM price_bars WHERE asset = ? ORDER BY bar', asset).toArray().map((row) => ({ time: row.bar, price: row.price }));
    }
    return series;
  }

  /** Whether any bar of the asset is recorded (it was priced before). */
  hasBars(asset: string): boolean {
    return this.sql.exec('SELECT 1 FROM price_bars WHERE asset = ? LIMIT 1', asset).toArray().length > 0;
  }

  /** The newest bar of an asset, and the newest at or before `time`: the two ends of a recent return; null when either is missing. */
  returnEnds(asset: string, time: number): { from: PricePoint; to: PricePoint } | null {
    const to = this.sql.exec<{ bar: number; price: number }>('SELECT bar, price FROM price_bars WHERE asset = ? ORDER BY bar DESC LIMIT 1', asset).toArray()[0];
    const from = this.sql.exec<{ bar: number; price: number }>('SELECT bar, price FROM price_bars WHERE asset = ? AND bar <= ? ORDER BY bar DESC LIMIT 1', asset, time).toArray()[0];
    return to && from ? { from: { time: from.bar, price: from.price }, to: { time: to.bar, price: to.price } } : null;
  }

  latestBar(): number | null {
    return this.sql.exec<{ bar: number | null }>('SELECT MAX(bar) AS bar FROM price_bars').one().bar;
  }

  seeds(): Map<string, VolatilitySeed> {
    const rows = this.sql.exec<{ asset: string; variance: number; source: string; samples: number }>('SELECT * FROM price_seeds').toArray();
    return new Map(rows.map((row) => [row.asset, { variancePerDay: row.variance, source: row.source as SeedSource, samples: row.samples }]));
  }

  saveSeed(asset: string, seed: VolatilitySeed): void {
    this.sql.exec('INSERT OR REPLACE INTO price_seeds (asset, variance, source, samples) VALUES (?, ?, ?, ?)', asset, seed.variancePerDay, seed.source, seed.samples);
  }
}
