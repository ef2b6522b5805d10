import { tenantStub, topUpStub } from './stubs';
import { DurableObject } from 'cloudflare:workers';
import type { Address } from 'viem';
import { parseConfig, type AppConfig } from '../config/env';
import { createChainClient, ISOLATE_PROVEN_CHAINS, type ChainClient } from '../chain/client';
import { adapterFor, type ProtocolName } from '../protocols';
import { readPositions } from '../protocols/read-positions';
import {
  DEFAULT_ALERT_POLICY,
  initialAlertState,
  isNearThreshold,
  transition,
  type AlertEffect,
  type AlertObservation,
  type AlertPolicy,
  type AlertState,
  type AlertThresholds,
} from '../domain/alert-machine';
import { adoptWatchState, subPositionAlertStep, type SubPositionAlertStates, type SubPositionReading } from '../domain/sub-position-alerts';
import { lowestHealthFactor, subPositionSnapshot, type PositionSnapshot } from '../domain/position';
import type { ShardWatch, TickSummary, WatchGlance, WatchStatus } from '../watches/records';
import { positionView, recommendTopUp, recoveryTarget, withSubPositionLevels, type PositionView, type Recommendation } from '../domain/position-view';
import { buildAlertEvent, buildConditionEvent, buildMonitorEvent, type WatchRef } from '../notify/event-body';
import { conditionStep, initialConditionState, type ConditionState } from '../domain/conditions';
import { redactUrlsInText } from '../lib/redact-text';
import { initialMonitorState, monitorStep, reasonOfErrorCode, redactErrorText, type MonitorObservation, type MonitorState } from '../monitor/health';
import { MAX_POLL_BACKOFF_MS, pollBackoffMs } from '../monitor/backoff';
import type { ShardHealth } from '../monitor/chain-health';
import { findAppError } from '../lib/find-app-error';
import { AppError } from '../lib/errors';

import { decimalToWad } from '../domain/risk';
import { thresholdsToWad, type StoredThresholds } from '../domain/thresholds';
import type { StoredTopUpPolicy } from '../config/topup-policy';
import type { TopUpRequest } from '../topup/request';
import { needsTopUpDetail, topUpEpisodeStep, topUpRequest, type TopUpColumns } from '../topup/episode';
import { topUpObjectName } from '../topup/signer';

import { chartValue, type HfPoint } from '../watches/hf-history';
import { createHfHistoryTable, dropHfHistory, pruneHfHistory, readHfHistory, recordHfPoint } from '../watches/hf-history-store';
import { PriceHistoryStore } from '../watches/price-history-store';
import { MarketVolatilitySource } from '../watches/market-volatility-source';
import { readRoundHistory } from '../protocols/chainlink-rounds';
import { COMMITTED_CALIBRATION } from '../risk/committed-calibration';
import { RISK_OFF, stableSet, watchRisk, type RiskSettings, type WatchRisk } from '../risk/watch-risk';
import type { LiquidationRule } from '../protocols/adapter';

type WatchRow = TopUpColumns & {
  watch_id: string;
  tenant_id: string;
  ref: string;
  thresholds: string;
  silenced_until: number | null;
  state: string;
  position: string | null;
  /** This watch's own read failure of the last tick (one account's revert), null when read. */
  read_error: string | null;
  /** MonitorState as JSON; null for rows from before monitor health (treated as just created). */
  monitor: string | null;
  /** RiskSettings as JSON while risk-based levels are on, else null. */
  risk_settings: string | null;
  /** WatchRisk as JSON from the last read with the per-asset breakdown, else null. */
  risk: string | null;
  /** ConditionState as JSON once a read reported or ended a protocol condition; null before (none active). */
  conditions: string | null;
  /** SubPositionAlertStates as JSON for a watch whose account names several positions; null for the others (and before the first such read). */
  sub_alerts: string | null;
};

/** One alert event to record: the effect, the position it shows (with its advice and risk where read), and which of the account's positions it is about. */
type AlertToRecord = {
  effect: AlertEffect;
  shown: { view: PositionView; recommendation: Recommendation | undefined; risk: WatchRisk | null };
  subPosition?: { id: string; account: Address };
};

type PendingRow = { event_id: string; tenant_id: string; watch_id: string; body: string; silenced: number };

/** Accounts below warning × (1 + this) are polled at POLL_INTERVAL_SECONDS instead of the minute. */
const NEAR_MARGIN_BPS = 500;
const IDLE_POLL_MS = 60_000;
/** Chainlink rounds read to seed a newly seen asset's volatility. */
const COLD_START_ROUNDS = 200;

/**
 * One shard: up to SHARD_SIZE watches of one (chain, protocol, market). Its alarm polls
 * them with one batched read per tick, runs the alert machine, and records the resulting
 * events in the same transaction as the new alert state, then hands them to the owning
 * tenants (which deliver). Handed-off events are deleted only after the tenant stored them,
 * so a crash anywhere loses nothing and the tenant's idempotent insert repeats nothing.
 */
export class Shard extends DurableObject<Env> {
  private readonly sql: SqlStorage;
  private chainClient: ChainClient | undefined;
  private readonly volatility: MarketVolatilitySource;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    ctx.blockConcurrencyWhile(async () => {
      this.sql.exec(`CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)`);
      this.sql.exec(`CREATE TABLE IF NOT EXISTS watches (
        watch_id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL, ref TEXT NOT NULL, thresholds TEXT NOT NULL,
        silenced_until INTEGER, state TEXT NOT NULL, position TEXT)`);
      // Added with auto-top-up; guarded so shards created before keep their rows.
      const columns = new Set(this.sql.exec<{ name: string }>('PRAGMA table_info(watches)').toArray().map((column) => column.name));
      if (!columns.has('top_up')) this.sql.exec('ALTER TABLE watches ADD COLUMN top_up TEXT');
      if (!columns.has('top_up_episode')) this.sql.exec('ALTER TABLE watches ADD COLUMN top_up_episode INTEGER NOT NULL DEFAULT 0');
      if (!columns.has('top_up_below')) this.sql.exec('ALTER TABLE watches ADD COLUMN top_up_below INTEGER NOT NULL DEFAULT 0');
      if (!columns.has('read_error')) this.sql.exec('ALTER TABLE watches ADD COLUMN read_error TEXT');
      if (!columns.has('monitor')) this.sql.exec('ALTER TABLE watches ADD COLUMN monitor TEXT');
      if (!columns.has('risk_settings')) this.sql.exec('ALTER TABLE watches ADD COLUMN risk_settings TEXT');
      if (!columns.has('risk')) this.sql.exec('ALTER TABLE watches ADD COLUMN risk TEXT');
      if (!columns.has('conditions')) this.sql.exec('ALTER TABLE watches ADD COLUMN conditions TEXT');
      if (!columns.has('sub_alerts')) this.sql.exec('ALTER TABLE watches ADD COLUMN sub_alerts TEXT');
      this.sql.exec(`CREATE TABLE IF NOT EXISTS pending_events (
        seq INTEGER PRIMARY KEY AUTOINCREMENT, event_id TEXT UNIQUE NOT NULL, tenant_id TEXT NOT NULL,
        watch_id TEXT NOT NULL, body TEXT NOT NULL, silenced INTEGER NOT NULL)`);
      createHfHistoryTable(this.sql);
    });
    this.volatility = new MarketVolatilitySource(new PriceHistoryStore(this.sql), COMMITTED_CALIBRATION);
  }

  private meta(key: string): string | undefined {
    const row = this.sql.exec<{ value: string }>('SELECT value FROM meta WHERE key = ?', key).toArray()[0];
    return row?.value;
  }

  private setMeta(key: string, value: string | null): void {
    if (value === null) this.sql.exec('DELETE FROM meta WHERE key = ?', key);
    else this.sql.exec('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value', key, value);
  }

  private config(): AppConfig {
    return parseConfig(this.env as unknown as Record<string, unknown>);
  }

  async upsertWatch(watch: ShardWatch): Promise<void> {
    this.setMeta('chain_id', String(watch.chainId));
    this.setMeta('protocol', watch.protocol);
    this.setMeta('market', watch.market);
    this.setMeta('protocol_address', watch.protocolAddress ?? null);
    // The watch's public reference is what remains of it without the shard's own settings.
    const { tenantId: _tenant, thresholds: _thresholds, silencedUntil: _silenced, topUp: _topUp, risk: _risk, ...ref } = watch satisfies WatchRef;
    this.sql.exec(
      `INSERT INTO watches (watch_id, tenant_id, ref, thresholds, silenced_until, state, position, top_up, monitor, risk_settings) VALUES (?, ?, ?, ?, ?, ?, NULL, ?, ?, ?)
       ON CONFLICT(watch_id) DO UPDATE SET ref = excluded.ref, thresholds = excluded.thresholds, silenced_until = excluded.silenced_until, top_up = excluded.top_up, risk_settings = excluded.risk_settings`,
      watch.id, watch.tenantId, JSON.stringify(ref), JSON.stringify(watch.thresholds), watch.silencedUntil, JSON.stringify(initialAlertState()), watch.topUp ? JSON.stringify(watch.topUp) : null,
      JSON.stringify(initialMonitorState(Date.now())), watch.risk?.enabled ? JSON.stringify(watch.risk) : null,
    );
    // A new or changed watch is polled at once rather than at the next heartbeat. A tick running
    // now read its rows before this one: the flag makes its end re-arm the alarm for now, not later.
    this.setMeta('poll_requested', '1');
    await this.ctx.storage.setAlarm(Date.now());
  }

  async removeWatch(watchId: string): Promise<void> {
    this.sql.exec('DELETE FROM watches WHERE watch_id = ?', watchId);
    dropHfHistory(this.sql, watchId);
  }

  /** The dashboard's chart of a watch: its health-factor history since `sinceMs`. */
  async hfHistory(watchId: string, sinceMs: number): Promise<HfPoint[]> {
    return readHfHistory(this.sql, watchId, sinceMs);
  }

  async watchStatus(watchId: string): Promise<WatchStatus | null> {
    const row = this.sql.exec<WatchRow>('SELECT * FROM watches WHERE watch_id = ?', watchId).toArray()[0];
    if (!row) return null;
    const state = JSON.parse(row.state) as AlertState;
    const monitor = row.monitor ? (JSON.parse(row.monitor) as MonitorState) : null;
    return {
      level: state.level,
      position: row.position ? (JSON.parse(row.position) as PositionView) : null,
      // A whole tick failing is the newest news; when ticks succeed, the watch's own read failure (its account's call).
      lastError: this.meta('last_error') ?? row.read_error ?? null,
      lastPolledAt: this.meta('last_polled_at') ?? null,
      monitor: monitor?.degraded
        ? { status: 'degraded', since: new Date(monitor.degraded.since).toISOString(), reason: monitor.degraded.reason, lastError: monitor.degraded.lastError }
        : { status: 'ok' },
      risk: row.risk ? (JSON.parse(row.risk) as WatchRisk) : null,
      conditions: conditionsOf(row).active.map(({ since, ...condition }) => ({ ...condition, since: new Date(since).toISOString() })),
    };
  }

  /** Level, health factor and read time of the given watches (one page of a tenant's list), by watch id. */
  async watchGlances(watchIds: string[]): Promise<Record<string, WatchGlance>> {
    const glances: Record<string, WatchGlance> = {};
    for (const watchId of watchIds) {
      const row = this.sql.exec<WatchRow>('SELECT * FROM watches WHERE watch_id = ?', watchId).toArray()[0];
      if (!row) continue;
      const position = row.position ? (JSON.parse(row.position) as PositionView) : null;
      const monitor = row.monitor ? (JSON.parse(row.monitor) as MonitorState) : null;
      glances[watchId] = {
        level: position ? (JSON.parse(row.state) as AlertState).level : null,
        healthFactor: position?.healthFactor ?? null,
        observedAt: position?.observedAt ?? null,
        // Never read and not degraded is not known to be fine: null, as the other fields.
        monitor: monitor?.degraded ? 'degraded' : position ? 'ok' : null,
        liquidationProbability24h: row.risk ? ((JSON.parse(row.risk) as WatchRisk).liquidationProbability['24h'] ?? null) : null,
      };
    }
    return glances;
  }

  /** What /health and the cron heartbeat need to know of this shard. */
  async health(): Promise<ShardHealth> {
    const count = this.sql.exec<{ n: number }>('SELECT COUNT(*) AS n FROM watches').one().n;
    const degraded = this.sql.exec<{ n: number }>(`SELECT COUNT(*) AS n FROM watches WHERE json_extract(monitor, '$.degraded') IS NOT NULL`).one().n;
    const goodNumber = this.meta('last_good_block');
    const goodTime = this.meta('last_good_block_time');
    const chainId = this.meta('chain_id');
    return {
      chainId: chainId ? Number(chainId) : null,
      watches: count,
      lastGoodBlock: goodNumber && goodTime ? { number: goodNumber, timestamp: Number(goodTime) } : null,
      degradedWatches: degraded,
    };
  }

  /** Cron watchdog: a shard with watches always has an alarm. Answers with its health, so cron asks each shard once. */
  async ensureAlarm(): Promise<ShardHealth & { armed: boolean }> {
    const health = await this.health();
    const pending = this.sql.exec<{ n: number }>('SELECT COUNT(*) AS n FROM pending_events').one().n;
    if (health.watches === 0 && pending === 0) return { ...health, armed: false };
    const alarm = await this.ctx.storage.getAlarm();
    // A shard backing off may legitimately sleep up to MAX_POLL_BACKOFF_MS.
    if (alarm === null || alarm > Date.now() + MAX_POLL_BACKOFF_MS + IDLE_POLL_MS) await this.ctx.storage.setAlarm(Date.now());
    return { ...health, armed: true };
  }

  override async alarm(): Promise<void> {
    const summary = await this.tick();
    const count = summary.watches;
    const pending = this.sql.exec<{ n: number }>('SELECT COUNT(*) AS n FROM pending_events').one().n;
    if (count === 0 && pending === 0) return;
    // A watch added while this tick ran has not been read yet: poll again at once.
    const delay = this.meta('poll_requested') ? 0 : this.nextPollDelayMs(pending > 0);
    await this.ctx.storage.setAlarm(Date.now() + delay);
  }

  private nextPollDelayMs(hasPending: boolean): number {
    const config = this.config();
    const fast = config.pollIntervalSeconds * 1000;
    const failures = Number(this.meta('failures') ?? '0');
    if (failures > 0) return pollBackoffMs(fast, failures);
    if (hasPending) return fast;
    const rows = this.sql.exec<WatchRow>('SELECT * FROM watches').toArray();
    const atRisk = rows.some((row) => {
      const state = JSON.parse(row.state) as AlertState;
      if (state.level !== 'ok') return true;
      const position = row.position ? (JSON.parse(row.position) as PositionView) : null;
      // Near a threshold now or at the next price already published: the lower of the two.
      const lowest = [position?.healthFactor, position?.nextHealthFactor].flatMap((value) => (typeof value === 'string' ? [decimalToWad(value)] : [])).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))[0];
      if (lowest === undefined) return false;
      const healthFactor = lowest;
      // Below a top-up trigger (which may sit above the alert thresholds) is at risk too.
      return isNearThreshold(healthFactor, thresholdsToWad(JSON.parse(row.thresholds) as StoredThresholds), NEAR_MARGIN_BPS) || needsTopUpDetail(row, healthFactor);
    });
    return atRisk ? fast : Math.max(fast, IDLE_POLL_MS);
  }

  private tickChain: Promise<unknown> = Promise.resolve();

  /**
   * One poll: read every watch at one block, run the alert machine, record and hand off
   * events. Serialized: an alarm and a cron- or API-triggered tick never interleave.
   */
  async tick(): Promise<TickSummary> {
    const run = this.tickChain.then(() => this.tickNow());
    this.tickChain = run.catch(() => undefined);
    return run;
  }

  private async tickNow(): Promise<TickSummary> {
    const now = Date.now();
    // Cleared before the rows are read: a watch added from here on sets it again.
    this.setMeta('poll_requested', null);
    const rows = this.sql.exec<WatchRow>('SELECT * FROM watches').toArray();
    let events = 0;
    let error: string | null = null;
    let blockNumber: string | null = null;
    if (rows.length > 0) {
      try {
        const result = await this.poll(rows, now);
        events = result.events;
        blockNumber = result.blockNumber;
        // Read, but on a head every endpoint serves stale: said on every watch, not silently shown as fine.
        this.setMeta('last_error', result.staleReason === null ? null : `stale_head: ${result.staleReason}`);
        this.setMeta('failures', null);
      } catch (caught) {
        const appError = findAppError(caught);
        // Redacted once, for the log, the stored copy the API shows and the monitor events alike.
        error = appError ? redactUrlsInText(`${appError.code}: ${appError.message}`) : 'read failed';
        if (!appError) console.error('shard poll failed', caught instanceof Error ? `${caught.name}: ${redactUrlsInText(caught.message.slice(0, 200))}` : 'unknown');
        else console.warn(`shard poll failed: ${error}`);
        this.setMeta('last_error', error);
        this.setMeta('failures', String(Number(this.meta('failures') ?? '0') + 1));
        const observation: MonitorObservation = { fresh: false, reason: reasonOfErrorCode(appError?.code), error };
        const clock = { now, degradedAfterMs: this.config().monitorDegradedAfterSeconds * 1000 };
        this.ctx.storage.transactionSync(() => {
          for (const row of rows) events += this.recordMonitor(row, JSON.parse(row.ref) as WatchRef, { observation, readError: null, seenAgain: null }, clock);
        });
      }
      this.setMeta('last_polled_at', new Date(now).toISOString());
    }
    const handedOff = await this.handOff();
    return { watches: rows.length, blockNumber, events, handedOff, error };
  }

  private client(config: AppConfig, chainId: number): ChainClient {
    const chain = config.chains.get(chainId);
    if (!chain) throw new AppError('unknown_chain', `chain ${chainId} is no longer configured in RPC_URLS`, { status: 503 });
    if (!this.chainClient || this.chainClient.chain.chainId !== chainId || this.chainClient.chain.rpcUrls.join() !== chain.rpcUrls.join()) {
      this.chainClient = createChainClient(chain, { timeoutMs: config.rpcTimeoutMs, provenChains: ISOLATE_PROVEN_CHAINS });
    }
    return this.chainClient;
  }

  private async poll(rows: WatchRow[], now: number): Promise<{ events: number; blockNumber: string; staleReason: string | null }> {
    const config = this.config();
    const chainId = Number(this.meta('chain_id'));
    const market = this.meta('market') as Address;
    const { client, chain, endpoints } = this.client(config, chainId);
    const context = { client, chainId, multicall3: chain.multicall3, protocolContracts: chain.protocolContracts };
    const lastBlock = this.meta('last_block');
    const lastGoodBlock = this.meta('last_good_block');
    const lastGoodBlockTime = this.meta('last_good_block_time');
    const refs = rows.map((row) => JSON.parse(row.ref) as WatchRef);
    const accounts = [...new Set(refs.map((ref) => ref.account))];
    // The per-asset breakdown (liquidation prices, top-up advice) is read only for accounts near or past a
    // threshold of any watch on them, or below a top-up trigger.
    const rowsByAccount = new Map<Address, WatchRow[]>();
    rows.forEach((row, index) => rowsByAccount.set(refs[index]!.account, [...(rowsByAccount.get(refs[index]!.account) ?? []), row]));
    const protocol = this.meta('protocol') as ProtocolName;
    const adapter = adapterFor(protocol);
    const marketRef = { market, protocolAddress: (this.meta('protocol_address') ?? null) as Address | null };
    const history = config.riskHistory;
    // The market's prices are read once per bar (one more call), by the clock; the bar they land in is the block's.
    const withPrices = now - Number(this.meta('prices_read_at') ?? '0') >= history.barSeconds * 1000;
    const { block, reads, prices } = await readPositions(adapter, {
      context,
      market: marketRef,
      withPrices,
      usdFeeds: config.usdPriceFeeds.get(chainId),
      accounts,
      batchSize: config.readBatchSize,
      minBlockNumber: lastBlock ? BigInt(lastBlock) : undefined,
      lastGoodHead: lastGoodBlock && lastGoodBlockTime ? { number: BigInt(lastGoodBlock), timestamp: BigInt(lastGoodBlockTime) } : undefined,
      endpoints,
      detailFor: ({ account, snapshot }) =>
        (rowsByAccount.get(account) ?? []).some(
          (row) =>
            riskSettingsOf(row) !== null ||
            isNearThreshold(lowestHealthFactor(snapshot), thresholdsToWad(JSON.parse(row.thresholds) as StoredThresholds), NEAR_MARGIN_BPS) ||
            needsTopUpDetail(row, snapshot.healthFactor),
        ),
    });
    if (prices) {
      const readRounds = (feeds: readonly Address[]) => readRoundHistory(context, feeds, block, { rounds: COLD_START_ROUNDS, batchSize: config.readBatchSize });
      await this.volatility.record(prices, Number(block.timestamp) * 1000, history, readRounds);
      this.setMeta('prices_read_at', String(now));
      this.setMeta('price_flat', JSON.stringify(prices.flat.map((asset) => asset.toLowerCase())));
      this.setMeta('price_quote_usd', String(prices.quoteIsUsd));
    }
    const rule = adapter.liquidationRule(await adapter.loadMarket(context, marketRef));
    const flat = new Set(JSON.parse(this.meta('price_flat') ?? '[]') as string[]);
    const quoteIsUsd = this.meta('price_quote_usd') !== 'false';
    const snapshots = new Map<Address, PositionSnapshot>();
    const readErrors = new Map<Address, string>();
    for (const read of reads) {
      if ('snapshot' in read) snapshots.set(read.account, read.snapshot);
      else readErrors.set(read.account, read.error);
    }
    // What the position says about time is the block's own time, never the clock's.
    const observedAt = new Date(Number(block.timestamp) * 1000);

    let events = 0;
    const topUpRequests: TopUpRequest[] = [];
    this.ctx.storage.transactionSync(() => {
      rows.forEach((row, index) => {
        const ref = refs[index]!;
        const snapshot = snapshots.get(ref.account);
        // One account's failed read is that watch's problem only: recorded on it, the others go on.
        const readError = snapshot ? null : (readErrors.get(ref.account) ?? 'no answer for this account');
        const observation: MonitorObservation = readError !== null ? { fresh: false, reason: 'erroring', error: readError } : block.fresh ? { fresh: true } : { fresh: false, reason: 'stale', error: block.staleReason };
        const seenAgain = { blockNumber: block.number.toString(), observedAt: observedAt.toISOString() };
        events += this.recordMonitor(row, ref, { observation, readError, seenAgain }, { now, degradedAfterMs: config.monitorDegradedAfterSeconds * 1000 });
        if (!snapshot) return;
        const thresholds = thresholdsToWad(JSON.parse(row.thresholds) as StoredThresholds);
        const settings = riskSettingsOf(row);
        const policy = { ...alertPolicy(ref.id, thresholds, row.silenced_until), probabilityLevels: settings?.levels ?? null };
        const risk = this.riskOf(protocol, snapshot, rule, { flat, quoteIsUsd }, settings ?? RISK_OFF, history);
        const previous = JSON.parse(row.state) as AlertState;
        const reading = {
          healthFactor: snapshot.healthFactor,
          blockNumber: snapshot.blockNumber,
          liquidationProbability: risk?.liquidationProbability['24h'] ?? null,
          ...(snapshot.nextHealthFactor !== undefined ? { nextHealthFactor: snapshot.nextHealthFactor } : {}),
        };
        const recommendation = recommendTopUp(snapshot, recoveryTarget(thresholds.warning, policy.hysteresisBps));
        const shown: AlertToRecord['shown'] = { view: positionView(snapshot, observedAt), recommendation, risk };
        const result = this.judge(row, previous, { snapshot, reading, observedAt, shown }, policy, now);
        for (const { effect, shown: position, subPosition } of result.alerts) {
          const body = buildAlertEvent({ effect, watch: ref, position: position.view, recommendation: position.recommendation, risk: position.risk, createdAt: new Date(effect.at), subPosition });
          this.sql.exec(
            'INSERT OR IGNORE INTO pending_events (event_id, tenant_id, watch_id, body, silenced) VALUES (?, ?, ?, ?, ?)',
            effect.eventId, row.tenant_id, ref.id, JSON.stringify(body), effect.silenced ? 1 : 0,
          );
          events += 1;
        }
        const { view } = result;
        this.sql.exec('UPDATE watches SET state = ?, position = ?, risk = ? WHERE watch_id = ?', JSON.stringify(result.state), JSON.stringify(view), risk ? JSON.stringify(risk) : null, ref.id);
        events += this.recordConditions(row, ref, snapshot, view, observedAt.getTime(), now);
        recordHfPoint(this.sql, ref.id, { at: observedAt.getTime(), healthFactor: chartValue(view.healthFactor) }, config.hfHistoryBucketSeconds * 1000);
        // Top-up episode: committed with the alert state, so a retried tick names the same trigger.
        const topUp = topUpEpisodeStep(row, snapshot.healthFactor);
        if (topUp) {
          this.sql.exec('UPDATE watches SET top_up_episode = ?, top_up_below = ? WHERE watch_id = ?', topUp.episode, topUp.below ? 1 : 0, ref.id);
          if (topUp.below) topUpRequests.push(topUpRequest(row, ref, snapshot, topUp.episode));
        }
      });
      this.setMeta('last_block', block.number.toString());
      pruneHfHistory(this.sql, now);
      if (block.fresh) {
        this.setMeta('last_good_block', block.number.toString());
        this.setMeta('last_good_block_time', block.timestamp.toString());
      }
    });
    // After the commit; it only records requests at the executor and never throws.
    await this.dispatchTopUpRequests(config, chainId, topUpRequests);
    return { events, blockNumber: block.number.toString(), staleReason: block.staleReason };
  }

  /**
   * The alert machine's step for one watch, inside the caller's transaction. A watch on one
   * position runs the watch's own state. A watch whose account names several positions runs one
   * state per position (kept in `sub_alerts`, see domain/sub-position-alerts), its level the worst
   * of them; the position the snapshot shows carries the risk figures and the recommendation, the
   * others their own figures without a breakdown.
   */
  private judge(row: WatchRow, previous: AlertState, read: { snapshot: PositionSnapshot; reading: AlertObservation; observedAt: Date; shown: AlertToRecord['shown'] }, policy: AlertPolicy, now: number): { state: AlertState; alerts: AlertToRecord[]; view: PositionView } {
    const { snapshot, reading, observedAt, shown } = read;
    const subPositions = snapshot.subPositions;
    if (!subPositions) {
      const result = transition(previous, reading, policy, now);
      return { state: result.state, alerts: result.effects.map((effect) => ({ effect, shown })), view: shown.view };
    }
    const shownSub = subPositions.find((sub) => sub.id === snapshot.shownSubPosition);
    const before: SubPositionAlertStates = row.sub_alerts ? JSON.parse(row.sub_alerts) : adoptWatchState(previous, shownSub, snapshot.blockNumber);
    const readings: SubPositionReading[] = subPositions.map((sub) =>
      sub === shownSub ? { id: sub.id, account: sub.account, healthFactor: sub.healthFactor, liquidationProbability: reading.liquidationProbability ?? null, ...(reading.nextHealthFactor !== undefined ? { nextHealthFactor: reading.nextHealthFactor } : {}) } : { id: sub.id, account: sub.account, healthFactor: sub.healthFactor },
    );
    const step = subPositionAlertStep(before, readings, snapshot.blockNumber, policy, now);
    this.sql.exec('UPDATE watches SET sub_alerts = ? WHERE watch_id = ?', JSON.stringify(step.states), row.watch_id);
    const levels = new Map(Object.entries(step.states).map(([id, state]) => [id, state.alert.level]));
    const alerts = step.effects.map(({ effect, subPosition }): AlertToRecord => {
      if (subPosition.id === shownSub?.id) return { effect, shown: { ...shown, view: withSubPositionLevels(shown.view, levels) }, subPosition };
      // A position that left the list is debt-free for this account.
      const sub = subPositions.find((candidate) => candidate.id === subPosition.id) ?? { ...subPosition, healthFactor: null, collateralBase: 0n, debtBase: 0n, liquidationThresholdBps: 0n };
      const view = withSubPositionLevels(positionView(subPositionSnapshot(snapshot, sub), observedAt), levels);
      return { effect, shown: { view, recommendation: undefined, risk: null }, subPosition };
    });
    const newer = previous.lastBlockNumber === null || snapshot.blockNumber > BigInt(previous.lastBlockNumber);
    const state: AlertState = { ...previous, level: step.level, ...(newer ? { lastBlockNumber: snapshot.blockNumber.toString() } : {}) };
    return { state, alerts, view: withSubPositionLevels(shown.view, levels) };
  }

  /**
   * The risk figures of a position read with its breakdown (null without one), from the market's
   * volatility over the assets it holds that the model does not hold flat.
   */
  private riskOf(protocol: string, snapshot: PositionSnapshot, rule: LiquidationRule, quote: { flat: ReadonlySet<string>; quoteIsUsd: boolean }, settings: RiskSettings, history: AppConfig['riskHistory']): WatchRisk | null {
    if (!snapshot.assets) return null;
    const stable = stableSet(snapshot.assets, quote.flat, quote.quoteIsUsd);
    const volatile = snapshot.assets.filter((asset) => (asset.collateral > 0n || asset.debt > 0n) && !stable.has(asset.asset.toLowerCase())).map((asset) => asset.asset.toLowerCase());
    const covariance = this.volatility.covariance(volatile);
    const regimeHours = COMMITTED_CALIBRATION.regime?.hours;
    const regime = regimeHours === undefined ? undefined : { recentLogReturns: this.volatility.recentLogReturns(volatile, regimeHours) };
    return watchRisk({ protocol, snapshot: { ...snapshot, assets: snapshot.assets }, rule, ...quote, covariance, seeds: this.volatility.seeds(), calibration: COMMITTED_CALIBRATION, settings, history, ...(regime ? { regime } : {}) });
  }

  /**
   * One monitor step for one watch, inside the caller's transaction, with the watch's own read
   * error (null when read, or when the whole tick failed): a degraded/recovered event is recorded
   * with the same stable id whichever tick produces it. Returns the events recorded.
   */
  private recordMonitor(
    row: WatchRow,
    ref: WatchRef,
    read: { observation: MonitorObservation; readError: string | null; seenAgain: { blockNumber: string; observedAt: string } | null },
    clock: { now: number; degradedAfterMs: number },
  ): number {
    const { now, degradedAfterMs } = clock;
    const previous = row.monitor ? (JSON.parse(row.monitor) as MonitorState) : initialMonitorState(now);
    const { state, effect } = monitorStep(previous, read.observation, { watchId: ref.id, now, degradedAfterMs });
    this.sql.exec('UPDATE watches SET monitor = ?, read_error = ? WHERE watch_id = ?', JSON.stringify(state), redactErrorText(read.readError), ref.id);
    if (!effect) return 0;
    const body = buildMonitorEvent({ effect, watch: ref, seenAgain: read.seenAgain ?? undefined });
    // Silenced watches keep the record but deliver nothing, as with alerts.
    const silenced = row.silenced_until !== null && now < row.silenced_until;
    this.sql.exec(
      'INSERT OR IGNORE INTO pending_events (event_id, tenant_id, watch_id, body, silenced) VALUES (?, ?, ?, ?, ?)',
      effect.eventId, row.tenant_id, ref.id, JSON.stringify(body), silenced ? 1 : 0,
    );
    return 1;
  }

  /**
   * The protocol's own conditions of one read (Liquity's branch dangers), inside the caller's
   * transaction: condition.raised / condition.cleared recorded with ids from the watch, the
   * condition and its episode's first block, so a repeated tick records nothing twice. A watch
   * whose protocol reports none, and never did, writes nothing. Returns the events recorded.
   */
  private recordConditions(row: WatchRow, ref: WatchRef, snapshot: PositionSnapshot, view: PositionView, observedAt: number, now: number): number {
    const previous = conditionsOf(row);
    const reported = snapshot.conditions ?? [];
    if (reported.length === 0 && row.conditions === null) return 0;
    const { state, effects } = conditionStep(previous, { conditions: reported, blockNumber: snapshot.blockNumber, observedAt }, { watchId: ref.id, now });
    this.sql.exec('UPDATE watches SET conditions = ? WHERE watch_id = ?', JSON.stringify(state), ref.id);
    // Silenced watches keep the record but deliver nothing, as with alerts.
    const silenced = row.silenced_until !== null && now < row.silenced_until;
    for (const effect of effects) {
      const body = buildConditionEvent({ effect, watch: ref, position: view });
      this.sql.exec(
        'INSERT OR IGNORE INTO pending_events (event_id, tenant_id, watch_id, body, silenced) VALUES (?, ?, ?, ?, ?)',
        effect.eventId, row.tenant_id, ref.id, JSON.stringify(body), silenced ? 1 : 0,
      );
    }
    return effects.length;
  }

  /**
   * Hands triggered watches to the executor of (chain, signer). It only stores the requests
   * over there; a failure is logged and the alert path goes on: the next tick repeats the
   * request while the trigger holds, and the executor is idempotent per trigger.
   */
  private async dispatchTopUpRequests(config: AppConfig, chainId: number, requests: TopUpRequest[]): Promise<void> {
    if (requests.length === 0) return;
    try {
      await topUpStub(this.env, topUpObjectName(chainId, config.topUp.signer)).requestTopUp(requests);
    } catch (error) {
      console.warn('topup: executor did not take the requests; retried next tick', error instanceof Error ? error.name : 'unknown');
    }
  }

  /** Gives recorded events to their tenants, oldest first; kept until the tenant confirms. */
  private async handOff(): Promise<number> {
    const rows = this.sql.exec<PendingRow>('SELECT event_id, tenant_id, watch_id, body, silenced FROM pending_events ORDER BY seq').toArray();
    const byTenant = new Map<string, PendingRow[]>();
    for (const row of rows) {
      const tenantRows = byTenant.get(row.tenant_id);
      if (tenantRows) tenantRows.push(row);
      else byTenant.set(row.tenant_id, [row]);
    }
    let handed = 0;
    for (const [tenantId, tenantRows] of byTenant) {
      try {
        const tenant = tenantStub(this.env, tenantId);
        await tenant.ingestEvents(tenantRows.map((row) => ({ eventId: row.event_id, watchId: row.watch_id, body: row.body, silenced: row.silenced === 1 })));
        for (const row of tenantRows) this.sql.exec('DELETE FROM pending_events WHERE event_id = ?', row.event_id);
        handed += tenantRows.length;
      } catch (error) {
        // Kept for the next tick; the tenant's insert is idempotent by event id.
        console.warn(`shard: ${tenantRows.length} event(s) not handed to their tenant; kept for the next tick`, error instanceof Error ? error.name : 'unknown');
      }
    }
    return handed;
  }
}

function conditionsOf(row: WatchRow): ConditionState {
  return row.conditions ? (JSON.parse(row.conditions) as ConditionState) : initialConditionState();
}

function riskSettingsOf(row: WatchRow): RiskSettings | null {
  const settings = row.risk_settings ? (JSON.parse(row.risk_settings) as RiskSettings) : null;
  return settings?.enabled ? settings : null;
}

function alertPolicy(watchId: string, thresholds: AlertThresholds, silencedUntil: number | null): AlertPolicy {
  return { ...DEFAULT_ALERT_POLICY, watchId, thresholds, silencedUntil };
}
