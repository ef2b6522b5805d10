import { topUpStub } from '../../src/durable/stubs';
import { describe, expect, it } from 'vitest';
import { runInDurableObject } from 'cloudflare:test';

import { RequestQueue } from '../../src/topup/request-queue';
import { REQUEST_TTL_MS } from '../../src/topup/schedule';
import type { TopUpRequest } from '../../src/topup/request';
import { testEnv } from './helpers';

/* The executor's request queue on real Durable Object SQLite storage, with a clock the test moves. */

function request(watchId: string, tenantId: string, episode = 1): TopUpRequest {
  return {
    watch: { id: watchId, label: '', chainId: 31337, protocol: 'aave-v3', market: '0x0000000000000000000000000000000000000001', account: '0x0000000000000000000000000000000000000002' },
    tenantId,
    policy: { enabled: true, mode: 'supply', asset: '0x0000000000000000000000000000000000000003', symbol: 'X', decimals: 18, triggerHealthFactor: 1.2, targetHealthFactor: 1.5, maxAmountPerAction: '1', maxAmountPerDay: '1', cooldownSeconds: 60, dryRun: true },
    episode,
    observedBlock: '1',
    observedHealthFactor: null,
  };
}

async function withQueue<T>(name: string, fn: (queue: RequestQueue, clock: { now: number }) => T): Promise<T> {
  return runInDurableObject(topUpStub(testEnv, name), (_instance, state) => {
    const clock = { now: 1_000_000 };
    return fn(new RequestQueue(state.storage.sql, () => clock.now), clock);
  });
}

describe('executor request queue', () => {
  it('keeps the latest request per watch and serves tenants in turns, oldest first', async () => {
    await withQueue('queue-order', (queue, clock) => {
      queue.add([request('a1', 'A'), request('a2', 'A'), request('a3', 'A')]);
      clock.now += 1;
      queue.add([request('b1', 'B')]);
      clock.now += 1;
      queue.add([request('a1', 'A', 2)]); // newer for a1: replaces it, now the newest of A
      expect(queue.waiting().map(({ request }) => `${request.watch.id}:${request.episode}`)).toEqual(['a2:1', 'b1:1', 'a3:1', 'a1:2']);
      expect(queue.size()).toBe(4);
    });
  });

  it('drops a watch\'s or a tenant\'s requests, and expired ones after the TTL', async () => {
    await withQueue('queue-drop', (queue, clock) => {
      queue.add([request('a1', 'A'), request('a2', 'A'), request('b1', 'B'), request('c1', 'C')]);
      queue.dropWatch('c1');
      expect(queue.dropTenant('A')).toBe(2);
      expect(queue.waiting().map(({ request }) => request.watch.id)).toEqual(['b1']);
      clock.now += REQUEST_TTL_MS + 1;
      expect(queue.waiting()).toEqual([]);
    });
  });

  it('done() removes the request handled, never a newer one that arrived meanwhile', async () => {
    await withQueue('queue-done', (queue, clock) => {
      queue.add([request('a1', 'A')]);
      const [first] = queue.waiting();
      clock.now += 5;
      queue.add([request('a1', 'A', 2)]);
      queue.done(first!.row);
      expect(queue.waiting().map(({ request }) => request.episode)).toEqual([2]);
    });
  });
});

describe('executor outbox to tenants', () => {
  it('keeps one event per id until the tenant confirms, prunes delivered ones after the retention, and queues budget releases', async () => {
    const { TenantOutbox } = await import('../../src/topup/tenant-outbox');
    const { NOTICE_RETENTION_MS } = await import('../../src/topup/schedule');
    await runInDurableObject(topUpStub(testEnv, 'outbox'), (_instance, state) => {
      const clock = { now: 1_000_000 };
      const outbox = new TenantOutbox(state.storage.sql, () => clock.now);
      const body = (id: string) => ({ id, type: 'topup.skipped', createdAt: '', watch: {}, topUp: {} }) as never;
      outbox.add('A', 'w1', body('e1'));
      outbox.add('A', 'w1', body('e1')); // the same decision again: nothing new
      outbox.add('B', 'w2', body('e2'));
      expect(outbox.has('e1')).toBe(true);
      expect([...outbox.undelivered()].map(([tenant, rows]) => [tenant, rows.map((row) => row.event_id)])).toEqual([['A', ['e1']], ['B', ['e2']]]);
      outbox.delivered(outbox.undelivered().get('A')!);
      expect(outbox.undeliveredCount()).toBe(1);
      clock.now += NOTICE_RETENTION_MS + 1;
      outbox.prune();
      expect(outbox.has('e1')).toBe(false); // delivered and old: gone
      expect(outbox.has('e2')).toBe(true); // never delivered: kept
      outbox.addRelease('w1:1:1', 'A');
      outbox.addRelease('w1:1:1', 'A');
      expect(outbox.releases()).toEqual([{ action_id: 'w1:1:1', tenant_id: 'A' }]);
      outbox.released('w1:1:1');
      expect(outbox.releases()).toEqual([]);
    });
  });
});
