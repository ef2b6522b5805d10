import { shardStub, tenantStub, topUpStub } from '../durable/stubs';
import { parseConfig, type AppConfig } from '../config/env';
import { DEFAULT_THRESHOLDS_INPUT, type CreateWatchInput, type PatchWatchInput } from '../config/api-schemas';
import { AppError } from '../lib/errors';
import { newId } from '../lib/crypto';
import { createChainClient, ISOLATE_PROVEN_CHAINS } from '../chain/client';
import { adapterFor, resolveProtocolAddress, type ProtocolName } from '../protocols';
import type { MarketRef } from '../protocols/read-types';

import type { WatchGlance, WatchRecord, WatchStatus } from '../watches/records';
import type { Page, PageKey } from '../lib/page-cursor';
import type { TopUpWatchState } from '../topup/watch-state';
import { resolveTopUpPatch, resolveTopUpPolicy } from '../topup/policy-check';

import { topUpObjectName } from '../topup/signer';
import { placeWatch, pushToShard, unplaceWatch } from './sync';
import { riskWithoutFigures, type WatchRisk } from '../risk/watch-risk';

/**
 * Watch operations shared by the HTTP API and the Telegram bot: the tenant owns the record,
 * the directory places it in a shard, the shard polls it. Each step is idempotent enough
 * to be retried by the caller.
 */

export type WatchView = Omit<WatchRecord, 'shard'>;
export type WatchWithStatus = Omit<WatchView, 'risk'> & {
  level: string | null;
  position: WatchStatus['position'];
  lastPolledAt: string | null;
  lastError: string | null;
  monitor: WatchStatus['monitor'] | null;
  topUpState: TopUpWatchState | null;
  /** The watch's risk settings with the figures of its last read (null figures before one). */
  risk: WatchRisk;
  /** The protocol's own conditions active now (Liquity's branch dangers); empty when none or not read yet. */
  conditions: WatchStatus['conditions'];
};

export function publicWatch(watch: WatchRecord): WatchView {
  const { shard: _shard, ...rest } = watch;
  return rest;
}

const notFound = (id: string) => new AppError('not_found', `watch ${id} not found`, { status: 404 });

export async function assertChannelsExist(env: Env, tenantId: string, channels: string[]): Promise<void> {
  const existing = new Set(await tenantStub(env, tenantId).existingChannels(channels));
  const issues = channels.flatMap((id, index) => (existing.has(id) ? [] : [{ path: `channels.${index}`, message: `no channel ${id}; create it with POST /v1/channels` }]));
  if (issues.length > 0) throw new AppError('validation_failed', issues.map((issue) => `${issue.path}: ${issue.message}`).join('; '), { status: 400, issues });
}

/** The market exists on chain, and so does what the account names where the protocol resolves it (a Maker vault id). */
async function assertMarket(config: AppConfig, protocol: ProtocolName, chainId: number, market: MarketRef, account: `0x${string}`): Promise<void> {
  const chain = config.chains.get(chainId);
  if (!chain) {
    const known = [...config.chains.keys()].join(', ');
    throw new AppError('unknown_chain', `chain ${chainId} is not configured in RPC_URLS (configured: ${known})`, { status: 400, issues: [{ path: 'chainId', message: `not configured; one of ${known}` }] });
  }
  const { client } = createChainClient(chain, { timeoutMs: config.rpcTimeoutMs, provenChains: ISOLATE_PROVEN_CHAINS });
  const context = { client, chainId, multicall3: chain.multicall3, protocolContracts: chain.protocolContracts };
  const adapter = adapterFor(protocol);
  const loaded = await adapter.loadMarket(context, market);
  await adapter.checkAccount?.(context, loaded, account);
}

/**
 * Creates a watch: record at the tenant (unsynced), place it in a shard at the directory,
 * have the shard poll it, mark it synced. A failure in the middle leaves an unsynced record:
 * the same create sent again finishes those steps and answers with that watch (and the
 * tenant's alarm finishes them if nobody retries). Only a synced watch of the same
 * position is a 409.
 */
export async function createWatch(env: Env, config: AppConfig, tenantId: string, input: CreateWatchInput): Promise<WatchRecord> {
  const tenant = tenantStub(env, tenantId);
  await assertChannelsExist(env, tenantId, input.channels);
  const protocolAddress = resolveProtocolAddress(input.protocol, input.chainId, input.protocolAddress);
  const position = { chainId: input.chainId, protocol: input.protocol, market: input.market, protocolAddress, account: input.account };
  let existing = await tenant.findWatchAt(position);
  if (existing?.deleting) {
    // A delete of this position that never finished: finish it, then create afresh.
    await releaseWatch(env, tenantId, existing);
    existing = null;
  }
  if (existing) {
    if (existing.synced) throw new AppError('watch_exists', `this account is already watched on this market as ${existing.id}; PATCH it instead`, { status: 409 });
    return finishCreate(env, config, tenantId, existing);
  }
  // A tenant at its limit spends no RPC on checking the market (recordWatch checks again, atomically).
  if ((await tenant.watchCount()) >= config.maxWatchesPerTenant) throw watchQuotaExceeded(config.maxWatchesPerTenant);
  await assertMarket(config, input.protocol, input.chainId, { market: input.market, protocolAddress }, input.account);
  const topUp = input.topUp ? await resolveTopUpPolicy(env, config, tenantId, input, input.topUp) : null;

  const recorded = await tenant.recordWatch(
    tenantId,
    { id: newId('w'), ...position, label: input.label ?? '', thresholds: input.thresholds ?? DEFAULT_THRESHOLDS_INPUT, channels: input.channels, topUp, risk: input.risk ?? null },
    config.maxWatchesPerTenant,
  );
  if (!recorded.ok && recorded.reason === 'quota') throw watchQuotaExceeded(recorded.limit);
  // 'exists': a concurrent create of the same position won the race; finish whichever it left.
  if (!recorded.ok && recorded.watch.synced) throw new AppError('watch_exists', `this account is already watched on this market as ${recorded.watch.id}; PATCH it instead`, { status: 409 });
  return finishCreate(env, config, tenantId, recorded.watch);
}

function watchQuotaExceeded(limit: number): AppError {
  return new AppError('quota_exceeded', `this tenant has reached its limit of ${limit} watches (MAX_WATCHES_PER_TENANT); delete watches it no longer needs, or ask the operator to raise the limit`, { status: 409 });
}

async function finishCreate(env: Env, config: AppConfig, tenantId: string, watch: WatchRecord): Promise<WatchRecord> {
  const shard = await placeWatch(env, config.shardSize, tenantId, watch);
  await tenantStub(env, tenantId).markWatchSynced(watch.id, shard);
  return { ...publicRecord(watch), shard };
}

/** The record without the tenant's bookkeeping flags. */
function publicRecord(watch: WatchRecord & { synced?: boolean; deleting?: boolean }): WatchRecord {
  const { synced: _synced, deleting: _deleting, ...record } = watch;
  return record;
}

const UNKNOWN_GLANCE: WatchGlance = { level: null, healthFactor: null, observedAt: null, monitor: null, liquidationProbability24h: null };

/**
 * One page of the tenant's watches, each with its level, health factor and read time: one
 * call per shard the page touches (a page holds watches of few markets), never per watch. A
 * shard that does not answer leaves its watches' glance null (logged), never fails the list.
 */
export async function listWatchesAtAGlance(env: Env, tenantId: string, limit: number, cursor: PageKey | null): Promise<Page<WatchView & WatchGlance>> {
  const page = await tenantStub(env, tenantId).listWatchesPage(limit, cursor);
  const byShard = new Map<string, string[]>();
  for (const watch of page.data) if (watch.shard) byShard.set(watch.shard, [...(byShard.get(watch.shard) ?? []), watch.id]);
  const glances = new Map<string, WatchGlance>();
  await Promise.all(
    [...byShard].map(async ([shard, ids]) => {
      try {
        for (const [id, glance] of Object.entries(await shardStub(env, shard).watchGlances(ids))) glances.set(id, glance);
      } catch (error) {
        console.warn('watch list: a shard did not answer; its watches are listed without their level', error instanceof Error ? error.name : 'unknown');
      }
    }),
  );
  return { data: page.data.map((watch) => ({ ...publicWatch(watch), ...(glances.get(watch.id) ?? UNKNOWN_GLANCE) })), next: page.next };
}

export async function getWatchWithStatus(env: Env, tenantId: string, id: string): Promise<WatchWithStatus> {
  const watch = await tenantStub(env, tenantId).getWatch(id);
  if (!watch) throw notFound(id);
  // A watch whose create is still being finished has no shard yet: nothing polled so far.
  const status = watch.shard ? await shardStub(env, watch.shard).watchStatus(watch.id) : null;
  const topUpState = await topUpStateOf(env, watch);
  // The figures were computed under the settings of their read; the settings shown are the current ones.
  const risk = status?.risk ? { ...status.risk, enabled: watch.risk.enabled, levels: watch.risk.levels } : riskWithoutFigures(watch.risk);
  return { ...publicWatch(watch), level: status?.level ?? null, position: status?.position ?? null, lastPolledAt: status?.lastPolledAt ?? null, lastError: status?.lastError ?? null, monitor: status?.monitor ?? null, topUpState, risk, conditions: status?.conditions ?? [] };
}

export async function updateWatch(env: Env, tenantId: string, id: string, patch: PatchWatchInput & { silencedUntil?: number | null }): Promise<WatchRecord> {
  if (patch.channels) await assertChannelsExist(env, tenantId, patch.channels);
  const topUp = await resolveTopUpPatch(env, tenantId, id, patch.topUp);
  const watch = await tenantStub(env, tenantId).updateWatch(id, { ...patch, topUp });
  if (!watch) throw notFound(id);
  // Not placed yet (its create is being finished): the placement sends these settings.
  if (watch.shard) await pushToShard(env, tenantId, watch);
  if (patch.topUp !== undefined) await forgetTopUpRequest(env, watch);
  return watch;
}

/**
 * Deletes a watch: the tenant marks it (gone from the API at once), the shard stops polling
 * it, the directory frees its slot (once per watch id), the tenant drops the record. A
 * DELETE sent again after a failure in the middle finishes the steps (204, not 404).
 */
export async function deleteWatch(env: Env, tenantId: string, id: string): Promise<WatchRecord> {
  const watch = await tenantStub(env, tenantId).beginDeleteWatch(id);
  if (!watch) throw notFound(id);
  await releaseWatch(env, tenantId, watch);
  if (watch.topUp) await forgetTopUpRequest(env, watch);
  return publicRecord(watch);
}

async function releaseWatch(env: Env, tenantId: string, watch: WatchRecord): Promise<void> {
  await unplaceWatch(env, watch);
  await tenantStub(env, tenantId).finishDeleteWatch(watch.id);
}

function executorOf(env: Env, watch: WatchRecord) {
  const config = parseConfig(env as unknown as Record<string, unknown>);
  return topUpStub(env, topUpObjectName(watch.chainId, config.topUp.signer));
}

/** The executor's record of a watch (spent, cooldown, recent actions); null when it cannot be asked. */
async function topUpStateOf(env: Env, watch: WatchRecord): Promise<TopUpWatchState | null> {
  if (!watch.topUp) return null;
  try {
    return await executorOf(env, watch).watchState(watch.id, watch.topUp, watch.chainId);
  } catch (error) {
    console.warn('topup: the executor did not answer for a watch\'s top-up state', error instanceof Error ? error.name : 'unknown');
    return null;
  }
}

/**
 * A changed, removed or deleted policy must not be acted on through a request made under
 * the old one. Dropping the waiting request saves work; safety does not depend on it: the
 * executor checks the policy version with the tenant before it acts and before every broadcast.
 */
async function forgetTopUpRequest(env: Env, watch: WatchRecord): Promise<void> {
  try {
    await executorOf(env, watch).dropRequest(watch.id);
  } catch (error) {
    console.warn('topup: could not drop a waiting request at the executor; its pre-send check refuses it', error instanceof Error ? error.name : 'unknown');
  }
}
