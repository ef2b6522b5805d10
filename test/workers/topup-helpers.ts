import { directoryStub, shardStub, tenantStub, topUpStub } from '../../src/durable/stubs';
import { expect } from 'vitest';
import { runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test';
import { privateKeyToAccount } from 'viem/accounts';
import type { Address, Hex } from 'viem';

import { topUpObjectName } from '../../src/topup/signer';
import { api, control, grantTopUps, newTenant, pollShards, swapObjectEnv, testEnv, withObjectEnv, type ApiResponse } from './helpers';

/*
 * Shared by the top-up test files: the executor's stub and records, a tick of shards plus
 * executor, positions with policies on the local chain's real Aave v3 Pool, and RPC
 * settings swapped for the executor alone.
 */

export type Env = typeof testEnv & { TOPUP_PRIVATE_KEY: string };
export const KEY = (testEnv as Env).TOPUP_PRIVATE_KEY as Hex;
export const SIGNER = privateKeyToAccount(KEY).address;
export const WAD = 10n ** 18n;

export type Market = { pool: Address; reserves: Record<'WETH' | 'WBTC' | 'USDC', { asset: Address; decimals: number; aToken: Address }> };
export let market: Market;

/** The local market's addresses (the control server's view); call in beforeAll. */
export async function loadMarket(): Promise<Market> {
  market = (await control('/topup/market', {}, 'GET')) as Market;
  return market;
}

// Every response and delivered event is checked for the key at the end.
export const responses: ApiResponse[] = [];
export const consoleLines: string[] = [];

export async function call(method: string, path: string, options: Parameters<typeof api>[2] = {}): Promise<ApiResponse> {
  const response = await api(method, path, options);
  responses.push(response);
  return response;
}

export function executor() {
  return topUpStub(testEnv, topUpObjectName(31337, SIGNER));
}

/** A block passes, every shard polls once (as their alarms would), then the executor takes its requests. */
export async function tick() {
  await control('/mine');
  for (const shard of await directoryStub(testEnv).listShards()) {
    const stub = shardStub(testEnv, shard.name);
    if (!(await runDurableObjectAlarm(stub))) await stub.tick();
  }
  return executor().processNow();
}

export async function sent(): Promise<number> {
  return (await control('/topup/nonce', { address: SIGNER })).pending as number;
}

export async function healthFactor(account: string): Promise<bigint> {
  return BigInt((await control('/account', { account })).healthFactor as string);
}

export type Received = { id: string; verified: boolean; path: string; status: number | null; body: any };

export async function receivedAt(path: string): Promise<Received[]> {
  const events = (await control('/receiver/events', {}, 'GET')) as Received[];
  return events.filter((event) => event.path === path && event.status === 200);
}

export type PolicyInput = Record<string, unknown>;

/**
 * A tenant with a webhook channel, a fresh WBTC/USDC position and a watch with `topUp`. The
 * owner grants the tenant `grantUsd` a day (default: generous, for tests about the executor
 * itself; null: no grant at all).
 */
export async function setup(path: string, topUp: PolicyInput, position: { collateralAmount?: string; debtAmount?: string } = {}, grantUsd: string | null = '10000000') {
  const key = await newTenant(path);
  if (grantUsd !== null) await grantTopUps(key, grantUsd);
  const channel = await call('POST', '/v1/channels', { token: key, body: { type: 'webhook', url: `${testEnv.TEST_RECEIVER_URL}${path.slice(1)}`, label: path } });
  await control('/receiver/secret', { path, secret: channel.body.secret });
  const { account } = await control('/open', { collateral: 'WBTC', collateralAmount: position.collateralAmount ?? '1', debt: 'USDC', debtAmount: position.debtAmount ?? '30000' });
  const watch = await call('POST', '/v1/watches', {
    token: key,
    body: { chainId: 31337, protocol: 'aave-v3', market: testEnv.TEST_MARKET, account, label: `topup ${path}`, channels: [channel.body.id], topUp },
  });
  expect(watch.status, JSON.stringify(watch.body)).toBe(201);
  const tenant = tenantStub(testEnv, `t_${key.slice(4, 20)}`);
  return { key, tenant, watchId: watch.body.id as string, account: account as Address, channelId: channel.body.id as string };
}

export function supplyPolicy(overrides: PolicyInput = {}): PolicyInput {
  return {
    enabled: true,
    mode: 'supply',
    asset: market.reserves.WBTC.asset,
    triggerHealthFactor: 1.2,
    targetHealthFactor: 1.5,
    maxAmountPerAction: '1',
    maxAmountPerDay: '2',
    cooldownSeconds: 600,
    dryRun: false,
    ...overrides,
  };
}

export async function setWbtc(price: string) {
  await control('/price', { symbol: 'WBTC', price });
}

export const ANVIL_URL = (JSON.parse(testEnv.RPC_URLS) as Record<string, string>)['31337']!;
export const proxy = (mode: string) => `${testEnv.TEST_CONTROL_URL}/rpc/${mode}`;

/**
 * Runs `fn` with the executor object seeing other settings (RPC endpoints that misbehave, a
 * lower gas cap). Only the executor changes: the shard still observes through the real node.
 */
export async function withExecutorEnv<T>(overrides: Record<string, string>, fn: () => Promise<T>): Promise<T> {
  return withObjectEnv(executor(), overrides, fn);
}

/** The running executor instance sees `overrides` until restored (or until it is evicted: a new instance reads the real env). */
export async function swapExecutorEnv(overrides: Record<string, string>): Promise<() => Promise<void>> {
  return swapObjectEnv(executor(), overrides);
}

export type TxRecord = { nonce: number; kind: string; status: string; attempts: string; mined_hash: string | null };

export async function executorRows(watchId: string) {
  return runInDurableObject(executor(), (_instance, state) => ({
    actions: state.storage.sql.exec<{ id: string; status: string; error: string | null }>('SELECT id, status, error FROM actions WHERE watch_id = ? ORDER BY created_at', watchId).toArray(),
    txs: state.storage.sql.exec<TxRecord>("SELECT t.* FROM txs t JOIN actions a ON a.id = t.action_id WHERE a.watch_id = ? ORDER BY t.id", watchId).toArray(),
  }));
}

/** Time passes for the executor's records: its last actions become `ms` older. */
export async function age(watchId: string, ms: number) {
  await runInDurableObject(executor(), (_instance, state) => {
    state.storage.sql.exec('UPDATE actions SET created_at = created_at - ? WHERE watch_id = ?', ms, watchId);
    state.storage.sql.exec('DELETE FROM failures WHERE watch_id = ?', watchId);
  });
}

export async function topUpEvents(tenant: ReturnType<typeof tenantStub>, path: string) {
  await tenant.deliverDue();
  return (await receivedAt(path)).filter((event) => String(event.body.type).startsWith('topup.'));
}

/**
 * The first event of `type` the receiver got at `path`, after letting the executor finish its
 * pass and the tenant deliver: an action's outcome is recorded when the executor sees its
 * receipt, which may be its next pass rather than the one that sent the transaction.
 */
export async function receivedEventually(tenant: ReturnType<typeof tenantStub>, path: string, type: string, timeoutMs = 15_000): Promise<Received> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    await executor().processNow();
    await tenant.deliverDue();
    const found = (await receivedAt(path)).find((event) => event.body.type === type);
    if (found) return found;
    if (Date.now() > deadline) throw new Error(`no ${type} event reached ${path} within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/**
 * Creates a watch and lets its shard see it, then moves the price (`movePrice`) and lets the
 * shard and the executor act. Returns the watch id and the signer's nonce before the move.
 */
export async function watchThenCrash(key: string, body: Record<string, unknown>, movePrice: () => Promise<unknown>) {
  const watch = await api('POST', '/v1/watches', { token: key, body: { chainId: 31337, ...body } });
  expect(watch.status, JSON.stringify(watch.body)).toBe(201);
  await pollShards();
  const before = (await control('/topup/nonce', { address: SIGNER })).pending as number;
  await movePrice();
  await pollShards();
  await executor().processNow();
  return { watchId: watch.body.id as string, before };
}
