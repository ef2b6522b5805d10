import { directoryStub, shardStub, tenantStub } from '../../src/durable/stubs';
import { runInDurableObject } from 'cloudflare:test';
import { expect } from 'vitest';

import { type Shard } from '../../src/durable/shard';

import { api, control, newTenant, swapObjectEnv, tenantIdOf, testEnv, withObjectEnv } from './helpers';

/* Shared steps of the monitor tests: a watch on the real Aave market, its shard, and the shard's RPC swapped for a misbehaving one. */

export const ANVIL_URL = (JSON.parse(testEnv.RPC_URLS) as Record<string, string>)['31337']!;
export const proxy = (mode: string) => `${testEnv.TEST_CONTROL_URL}/rpc/${mode}`;

export type Received = { id: string; verified: boolean; path: string; status: number | null; body: any };

export async function receivedAt(path: string): Promise<Received[]> {
  const events = (await control('/receiver/events', {}, 'GET')) as Received[];
  return events.filter((event) => event.path === path);
}

/** A tenant with a signed webhook channel at `path` and one watch on a fresh healthy Aave position. */
export async function watchedPosition(path: string, options: { key?: string } = {}) {
  const key = options.key ?? (await newTenant(path));
  const channel = await api('POST', '/v1/channels', { token: key, body: { type: 'webhook', url: `${testEnv.TEST_RECEIVER_URL}${path.slice(1)}`, label: path } });
  await control('/receiver/secret', { path, secret: channel.body.secret });
  const { account } = await control('/open', { collateral: 'WETH', collateralAmount: '10', debt: 'USDC', debtAmount: '5000' });
  const watch = await api('POST', '/v1/watches', { token: key, body: { chainId: 31337, protocol: 'aave-v3', market: testEnv.TEST_MARKET, account, label: `monitor ${path}`, channels: [channel.body.id] } });
  expect(watch.status).toBe(201);
  return { key, tenant: tenantStub(testEnv, tenantIdOf(key)), watchId: watch.body.id as string, account: account as string };
}

/** The shard of the Aave test market (one in this file: storage is per test file). */
export async function aaveShard(): Promise<DurableObjectStub<Shard>> {
  const shards = await directoryStub(testEnv).listShards();
  const shard = shards.find((entry) => entry.name.includes(':aave-v3:'));
  if (!shard) throw new Error('no Aave shard yet');
  return shardStub(testEnv, shard.name);
}

/** The running shard instance sees other settings (its RPC endpoints) until restored. */
export async function swapShardEnv(overrides: Record<string, string>): Promise<() => Promise<void>> {
  return swapObjectEnv(await aaveShard(), overrides);
}

export async function withShardEnv<T>(overrides: Record<string, string>, fn: () => Promise<T>): Promise<T> {
  return withObjectEnv(await aaveShard(), overrides, fn);
}

export async function tick() {
  return (await aaveShard()).tick();
}

/** Time passes for the monitor: the watch's last fresh observation becomes `ms` older. */
export async function ageMonitor(watchId: string, ms: number) {
  await runInDurableObject(await aaveShard(), (_instance, state) => {
    state.storage.sql.exec(`UPDATE watches SET monitor = json_set(monitor, '$.lastFreshAt', json_extract(monitor, '$.lastFreshAt') - ?) WHERE watch_id = ?`, ms, watchId);
  });
}

export async function watchStatus(key: string, watchId: string) {
  const response = await api('GET', `/v1/watches/${watchId}`, { token: key });
  expect(response.status).toBe(200);
  return response.body;
}

export async function deleteWatch(key: string, watchId: string) {
  expect((await api('DELETE', `/v1/watches/${watchId}`, { token: key })).status).toBe(204);
}
