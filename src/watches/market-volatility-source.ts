/*
 * A shard's volatility source for its market: records the oracle prices a poll read as one bar,
 * seeds each newly seen asset (its Chainlink round history, else its class default where prices
 * are in dollars, else a day of its own bars), and gives the EWMA covariance of the assets a
 * position holds, recomputed only when a new bar arrived.
 */
import type { Address } from 'viem';
import type { MarketPrices } from '../protocols/read-types';
import type { CovarianceMatrix, PricePoint } from '../risk/ewma';
import { firstSeed, marketCovariance, realisedSeed, type VolatilitySeed } from '../risk/market-volatility';
import { assetClassOf } from '../risk/asset-class';
import type { Calibration } from '../risk/calibration';
import type { PriceHistoryStore } from './price-history-store';

export type HistorySettings = { barSeconds: number; windowDays: number };

/** Reads the round history of Chainlink-style feeds (empty for a feed that is not one). */
export type RoundHistoryReader = (feeds: readonly Address[]) => Promise<Map<Address, PricePoint[]>>;

export class MarketVolatilitySource {
  /**
   * What the store says until the next `record` (the only writer): the newest bar, the seeds, and
   * what was computed from them, so every risk-read watch of a tick reuses one read.
   */
  private cache: { latestBar: number | null; seeds: Map<string, VolatilitySeed>; covariances: Map<string, CovarianceMatrix | null>; returns: Map<string, Map<string, number>> } | null = null;

  constructor(
    private readonly store: PriceHistoryStore,
    private readonly calibration: Calibration,
  ) {}

  /** The bar a block time (ms) falls in. */
  static barOf(timeMs: number, settings: HistorySettings): number {
    const width = settings.barSeconds * 1000;
    return Math.floor(timeMs / width) * width;
  }

  /**
   * Seeds assets seen for the first time (one round-history read for all of them), then records
   * the bar, then seeds from their own bars the assets still without a seed once those span a day
   * (a market priced in a token, where no class default applies). A failed round read is logged
   * and leaves those assets on their class default (or, priced in a token, on their bars).
   */
  async record(prices: MarketPrices, blockTimeMs: number, settings: HistorySettings, readRounds: RoundHistoryReader): Promise<void> {
    this.cache = null;
    const seeds = this.store.seeds();
    const unseeded = prices.prices.filter((price) => price.price !== undefined && !seeds.has(price.asset.toLowerCase()));
    const firstSeen = unseeded.filter((price) => !this.store.hasBars(price.asset.toLowerCase()));
    if (firstSeen.length > 0) {
      const feeds = firstSeen.flatMap((price) => (price.feed ? [price.feed] : []));
      let rounds = new Map<Address, PricePoint[]>();
      try {
        rounds = await readRounds(feeds);
      } catch (error) {
        console.warn('risk: round history unread; class defaults (or recorded bars) used', error instanceof Error ? error.name : 'unknown');
      }
      for (const price of firstSeen) {
        const flat = prices.flat.some((asset) => asset.toLowerCase() === price.asset.toLowerCase());
        const assetClass = flat ? 'stable' : prices.quoteIsUsd ? assetClassOf(price.symbol) : null;
        const seed = firstSeed(price.feed ? (rounds.get(price.feed) ?? []) : [], assetClass, this.calibration);
        if (seed) this.store.saveSeed(price.asset.toLowerCase(), seed);
      }
    }
    const unit = 10 ** prices.priceDecimals;
    const bar = MarketVolatilitySource.barOf(blockTimeMs, settings);
    const keepFrom = bar - settings.windowDays * 86_400_000;
    this.store.record(
      bar,
      prices.prices.flatMap((price) => (price.price === undefined ? [] : [{ asset: price.asset.toLowerCase(), price: Number(price.price) / unit }])),
      keepFrom,
    );
    const seeded = this.store.seeds();
    for (const price of unseeded) {
      const asset = price.asset.toLowerCase();
      if (seeded.has(asset)) continue;
      const seed = realisedSeed(this.store.series([asset])[asset] ?? [], 'recorded_bars');
      if (seed) this.store.saveSeed(asset, seed);
    }
  }

  /**
   * Each asset's log return over the last `hours` of bars (ln(newest / the bar `hours` before it)),
   * the regime the liquidation probability is conditioned on; an asset with less history is left
   * out (then the pooled tables are used).
   */
  recentLogReturns(assets: readonly string[], hours: number): Map<string, number> {
    const cache = this.current();
    const sorted = [...new Set(assets)].sort();
    const key = `${hours}:${sorted.join(',')}`;
    const cached = cache.returns.get(key);
    if (cached) return cached;
    const returns = new Map<string, number>();
    if (cache.latestBar !== null) {
      for (const asset of sorted) {
        const ends = this.store.returnEnds(asset, cache.latestBar - hours * 3_600_000);
        if (ends && ends.to.time > ends.from.time) returns.set(asset, Math.log(ends.to.price / ends.from.price));
      }
    }
    cache.returns.set(key, returns);
    return returns;
  }

  seeds(): Map<string, VolatilitySeed> {
    return this.current().seeds;
  }

  /** EWMA covariance of the assets (lower-case); null when one was never priced. */
  covariance(assets: readonly string[]): CovarianceMatrix | null {
    const sorted = [...new Set(assets)].sort();
    if (sorted.length === 0) return null;
    const cache = this.current();
    const key = sorted.join(',');
    if (!cache.covariances.has(key)) cache.covariances.set(key, marketCovariance(this.store.series(sorted), cache.seeds));
    return cache.covariances.get(key)!;
  }

  private current(): NonNullable<MarketVolatilitySource['cache']> {
    this.cache ??= { latestBar: this.store.latestBar(), seeds: this.store.seeds(), covariances: new Map(), returns: new Map() };
    return this.cache;
  }
}
