import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { runInDurableObject } from 'cloudflare:test';
import { formatUnits, parseUnits, type Address } from 'viem';
import { ADMIN, api, control, grantTopUps, newTenant, tenantIdOf, testEnv } from './helpers';
import { ANVIL_URL, SIGNER, age, executor, executorRows, loadMarket, market, proxy, sent, setWbtc, setup, supplyPolicy, swapExecutorEnv, tick, topUpEvents, withExecutorEnv } from './topup-helpers';

/*
 * Money safety, tried as an attacker with a tenant key would and as a flaky world would,
 * against the local chain's real Aave v3 Pool: the owner's grant, trusted markets, the
 * checks made immediately before every broadcast, and one tenant not stalling another.
 */

async function wbtcBalance(address: Address): Promise<bigint> {
  return BigInt((await control('/topup/balance', { symbol: 'WBTC', address })).balance as string);
}

async function suppliedWbtc(account: Address): Promise<bigint> {
  return BigInt((await control('/topup/balance', { symbol: 'WBTC', address: account, aToken: true })).balance as string);
}

async function grantOf(key: string) {
  return (await api('GET', `/v1/admin/tenants/${tenantIdOf(key)}/topup`, { token: ADMIN })).body;
}

const ATTACK_POLICY = { mode: 'supply', triggerHealthFactor: 99, targetHealthFactor: 100, maxAmountPerAction: '1000000', maxAmountPerDay: '1000000', cooldownSeconds: 0, dryRun: false };

describe('money safety: the executor wallet spends only what the owner granted', () => {
  beforeAll(async () => {
    await loadMarket();
    await control('/topup/mint', { symbol: 'WBTC', to: SIGNER, amount: '10' });
    await control('/topup/mint', { symbol: 'USDC', to: SIGNER, amount: '100000' });
  });

  beforeEach(async () => {
    await setWbtc('60000');
  });

  it('a dry run costs one read of the chain (the shard\'s observation plus one Multicall3 call) and runs at most once a minute per watch', async () => {
    const { tenant } = await setup('/ts-dry-cost', supplyPolicy({ dryRun: true, cooldownSeconds: 0 }));
    await tick();
    await setWbtc('45000');
    await withExecutorEnv({ RPC_URLS: JSON.stringify({ '31337': proxy('count/dry-run') }) }, async () => {
      await tick();
      await tick();
    });
    const counts = (await control('/topup/rpc-counts', { label: 'dry-run' })) as Record<string, number>;
    // One eth_call (the policy asset's Multicall3 batch; the market's static facts are cached),
    // and the chain id check every new client makes once. The second tick is inside the
    // dry run's minimum cooldown (60 s): no read at all.
    expect(counts).toEqual({ eth_chainId: 1, eth_call: 1 });
    const events = await topUpEvents(tenant, '/ts-dry-cost');
    expect(events.map((event) => event.body.topUp.reason)).toEqual(['dry_run']);
  });

  it('the attack with a plain tenant key: a live policy is 403 topup_not_permitted, and nothing leaves the wallet', async () => {
    const key = await newTenant('attacker');
    const { account } = await control('/open', { collateral: 'WBTC', collateralAmount: '0.1', debt: 'USDC', debtAmount: '1000' });
    const nonceBefore = await sent();
    const walletBefore = await wbtcBalance(SIGNER);
    const live = await api('POST', '/v1/watches', { token: key, body: { chainId: 31337, protocol: 'aave-v3', market: testEnv.TEST_MARKET, account, topUp: { ...ATTACK_POLICY, asset: market.reserves.WBTC.asset } } });
    expect(live.status).toBe(403);
    expect(live.body.error.code).toBe('topup_not_permitted');
    // A dry run needs no grant; turning it live later is refused the same way.
    const dry = await api('POST', '/v1/watches', { token: key, body: { chainId: 31337, protocol: 'aave-v3', market: testEnv.TEST_MARKET, account, topUp: { ...ATTACK_POLICY, asset: market.reserves.WBTC.asset, dryRun: true } } });
    expect(dry.status).toBe(201);
    const patched = await api('PATCH', `/v1/watches/${dry.body.id}`, { token: key, body: { topUp: { ...ATTACK_POLICY, asset: market.reserves.WBTC.asset } } });
    expect(patched.status).toBe(403);
    expect(patched.body.error.code).toBe('topup_not_permitted');
    // A tenant cannot grant itself, nor see the owner's wallet.
    expect((await api('PUT', `/v1/admin/tenants/${tenantIdOf(key)}/topup`, { token: key, body: { enabled: true, maxUsdPerDay: '1000000' } })).status).toBe(401);
    expect((await api('GET', '/v1/topup/signer', { token: key })).status).toBe(401);
    await tick();
    expect(await sent()).toBe(nonceBefore);
    expect(await wbtcBalance(SIGNER)).toBe(walletBefore);
    expect(await suppliedWbtc(account)).toBe(parseUnits('0.1', 8));
  });

  it('with a grant, a market of the attacker\'s own that answers every Pool call is 400 market_not_trusted', async () => {
    const key = await newTenant('attacker-with-grant');
    await grantTopUps(key, '1000');
    const impostor = (await control('/topup/impostor-market')) as { pool: Address; reserves: Record<string, { asset: Address }> };
    const account = '0x000000000000000000000000000000000000dEaD';
    const nonceBefore = await sent();
    const live = await api('POST', '/v1/watches', { token: key, body: { chainId: 31337, protocol: 'aave-v3', market: impostor.pool, account, topUp: { ...ATTACK_POLICY, asset: impostor.reserves.WBTC!.asset } } });
    expect(live.status, JSON.stringify(live.body)).toBe(400);
    expect(live.body.error).toMatchObject({ code: 'market_not_trusted', issues: [{ path: 'market' }] });
    expect(live.body.error.message).toContain('TOPUP_TRUSTED_MARKETS');
    // Watching it (and a dry run) stays possible: only money is refused.
    const dry = await api('POST', '/v1/watches', { token: key, body: { chainId: 31337, protocol: 'aave-v3', market: impostor.pool, account, topUp: { ...ATTACK_POLICY, asset: impostor.reserves.WBTC!.asset, dryRun: true } } });
    expect(dry.status).toBe(201);
    await tick();
    expect(await sent()).toBe(nonceBefore);
  });

  it('a live policy whose market is no longer trusted by the executor is skipped with market_not_trusted, nothing sent', async () => {
    const { key, tenant, watchId } = await setup('/ts-untrusted', supplyPolicy());
    await tick();
    const before = await sent();
    await setWbtc('45000');
    await withExecutorEnv({ TOPUP_TRUSTED_MARKETS: '{}' }, () => tick());
    expect((await sent()) - before).toBe(0);
    const events = await topUpEvents(tenant, '/ts-untrusted');
    expect(events.map((event) => [event.body.type, event.body.topUp.reason])).toEqual([['topup.skipped', 'market_not_trusted']]);
    await api('DELETE', `/v1/watches/${watchId}`, { token: key });
  });

  it('revoking the grant: existing live policies are skipped with not_permitted, nothing sent; GET shows it', async () => {
    const { key, tenant, account } = await setup('/ts-revoked', supplyPolicy(), {}, '100000');
    await tick();
    const revoked = await api('PUT', `/v1/admin/tenants/${tenantIdOf(key)}/topup`, { token: ADMIN, body: { enabled: false } });
    expect(revoked.status).toBe(200);
    expect(revoked.body).toMatchObject({ tenantId: tenantIdOf(key), enabled: false, maxUsdPerDay: '100000', spentUsdLast24h: '0' });
    const before = await sent();
    const supplied = await suppliedWbtc(account);
    await setWbtc('45000');
    await tick();
    await tick();
    expect((await sent()) - before).toBe(0);
    expect(await suppliedWbtc(account)).toBe(supplied);
    const events = await topUpEvents(tenant, '/ts-revoked');
    expect(events.map((event) => [event.body.type, event.body.topUp.reason])).toEqual([['topup.skipped', 'not_permitted']]);
    // The tenant sees its own grant, not others'.
    expect((await api('GET', '/v1/topup/grant', { token: key })).body).toMatchObject({ tenantId: tenantIdOf(key), enabled: false });
  });

  it('admin grant routes: validation, unknown tenants, and the admin token only', async () => {
    const key = await newTenant('grant-routes');
    const path = `/v1/admin/tenants/${tenantIdOf(key)}/topup`;
    expect((await api('PUT', path, { token: ADMIN, body: { enabled: true } })).body.error.issues[0].path).toBe('maxUsdPerDay');
    for (const bad of [{ enabled: true, maxUsdPerDay: '-5' }, { enabled: true, maxUsdPerDay: 5000 }, { enabled: true, maxUsdPerDay: '1e9' }, { enabled: 'yes' }, { enabled: true, maxUsdPerDay: '5', extra: 1 }]) {
      const response = await api('PUT', path, { token: ADMIN, body: bad });
      expect(response.status, JSON.stringify(bad)).toBe(400);
    }
    expect((await api('PUT', '/v1/admin/tenants/t_0000000000000000/topup', { token: ADMIN, body: { enabled: true, maxUsdPerDay: '5' } })).status).toBe(404);
    expect((await api('GET', '/v1/admin/tenants/nope/topup', { token: ADMIN })).body.error.issues[0].path).toBe('tenantId');
    const granted = await api('PUT', path, { token: ADMIN, body: { enabled: true, maxUsdPerDay: '5000' } });
    expect(granted.body).toMatchObject({ enabled: true, maxUsdPerDay: '5000', spentUsdLast24h: '0', remainingUsdLast24h: '5000' });
    expect((await api('GET', path, { token: key })).status).toBe(401);
  });

  it('a grant of $20,000 a day: a crash triggering three watches moves at most $20,000 (capped, then refused), re-creating a watch resets nothing, another tenant still lands', async () => {
    // Each 1 WBTC / 30,000 USDC position needs ~0.28 WBTC (~$12,700 at $45,000) to get back to 1.5.
    const first = await setup('/ts-budget', supplyPolicy({ cooldownSeconds: 0 }), {}, '20000');
    const watches = [first.watchId];
    for (let index = 0; index < 2; index++) {
      const { account } = await control('/open', { collateral: 'WBTC', collateralAmount: '1', debt: 'USDC', debtAmount: '30000' });
      const created = await api('POST', '/v1/watches', { token: first.key, body: { chainId: 31337, protocol: 'aave-v3', market: testEnv.TEST_MARKET, account, label: `budget ${index}`, channels: [first.channelId], topUp: supplyPolicy({ cooldownSeconds: 0 }) } });
      expect(created.status).toBe(201);
      watches.push(created.body.id as string);
    }
    const other = await setup('/ts-budget-other', supplyPolicy(), {}, '20000');
    await tick();
    await setWbtc('45000');
    for (let round = 0; round < 3; round++) await tick();

    const events = await topUpEvents(first.tenant, '/ts-budget');
    const executed = events.filter((event) => event.body.type === 'topup.executed');
    const movedUsd = executed.reduce((sum, event) => sum + Number(event.body.topUp.amount) * 45_000, 0);
    expect(executed.length).toBeGreaterThanOrEqual(2);
    expect(movedUsd).toBeLessThanOrEqual(20_000);
    expect(movedUsd).toBeGreaterThan(19_990);
    expect(executed.some((event) => event.body.topUp.cappedBy.includes('tenant_budget'))).toBe(true);
    expect(events.some((event) => event.body.type === 'topup.skipped' && event.body.topUp.reason === 'tenant_budget_reached')).toBe(true);
    const grant = await grantOf(first.key);
    expect(Number(grant.spentUsdLast24h)).toBeCloseTo(movedUsd, 0);
    expect(Number(grant.remainingUsdLast24h)).toBeLessThan(1);

    // Deleting and re-creating a watch does not give the budget back.
    const toRecreate = executed[0]!.body.watch as { id: string; account: Address };
    expect((await api('DELETE', `/v1/watches/${toRecreate.id}`, { token: first.key })).status).toBe(204);
    await setWbtc('40000');
    const again = await api('POST', '/v1/watches', { token: first.key, body: { chainId: 31337, protocol: 'aave-v3', market: testEnv.TEST_MARKET, account: toRecreate.account, channels: [first.channelId], topUp: supplyPolicy({ cooldownSeconds: 0 }) } });
    expect(again.status).toBe(201);
    const nonce = await sent();
    await tick();
    await tick();
    expect(await sent()).toBe(nonce);

    // The other tenant's own grant is untouched: its top-up landed.
    const otherEvents = await topUpEvents(other.tenant, '/ts-budget-other');
    expect(otherEvents.some((event) => event.body.type === 'topup.executed')).toBe(true);
  });

  describe('between the approval and the supply', () => {
    beforeEach(async () => {
      await control('/topup/reset-allowances', { owner: SIGNER });
    });

    // The approval is accepted by the executor's RPC but never reaches a block (a node that
    // drops it); the change happens; then the node works again: the recorded approval is
    // sent again and lands, and the supply that should follow is checked and never sent.
    it.each([
      ['the watch is deleted', 'watch_deleted', async (key: string, watchId: string) => expect((await api('DELETE', `/v1/watches/${watchId}`, { token: key })).status).toBe(204)],
      ['the grant is revoked', 'not_permitted', async (key: string) => expect((await api('PUT', `/v1/admin/tenants/${tenantIdOf(key)}/topup`, { token: ADMIN, body: { enabled: false } })).status).toBe(200)],
      ['the policy is patched', 'policy_changed', async (key: string, watchId: string) => expect((await api('PATCH', `/v1/watches/${watchId}`, { token: key, body: { topUp: supplyPolicy({ dryRun: true }) } })).status).toBe(200)],
    ])('%s: the supply is never sent (%s)', async (_name, reason, change) => {
      const path = `/ts-between-${reason}`;
      const { key, watchId, account } = await setup(path, supplyPolicy());
      await tick();
      const before = await sent();
      const supplied = await suppliedWbtc(account);
      await setWbtc('45000');
      const restore = await swapExecutorEnv({ RPC_URLS: JSON.stringify({ '31337': proxy(`swallow-to/${market.reserves.WBTC.asset}`) }) });
      await tick();
      await restore();
      const inFlight = await executorRows(watchId);
      expect(inFlight.txs.map((tx) => [tx.kind, tx.status])).toEqual([['approve', 'pending']]);
      await change(key, watchId);
      await executor().processNow();
      await tick();
      const rows = await executorRows(watchId);
      expect(rows.txs.map((tx) => [tx.kind, tx.status])).toEqual([['approve', 'mined']]);
      // (A patch to a dry run may add its own dry-run row after the stopped live action.)
      expect([rows.actions[0]!.status, rows.actions[0]!.error?.split(':')[0]]).toEqual(['failed', reason]);
      expect((await sent()) - before).toBe(1);
      expect(await suppliedWbtc(account)).toBe(supplied);
    });
  });

  it('a stuck action of tenant A does not delay tenant B past A\'s timeout; dry runs go on meanwhile', async () => {
    // A: 1 WBTC / 33,000 USDC triggers at $50,000; B (repays USDC) and C (dry run) trigger at $45,000.
    const a = await setup('/ts-stall-a', supplyPolicy(), { debtAmount: '33000' });
    const b = await setup('/ts-stall-b', supplyPolicy({ mode: 'repay', asset: market.reserves.USDC.asset, maxAmountPerAction: '20000', maxAmountPerDay: '20000' }));
    const c = await setup('/ts-stall-c', supplyPolicy({ dryRun: true }));
    await control('/topup/reset-allowances', { owner: SIGNER });
    await tick();
    const before = await sent();
    // A's transactions never reach a block, and fees sit at the cap so no replacement can be priced: only A's timeout frees the queue.
    const fees = await feeCapNow();
    const restore = await swapExecutorEnv({ RPC_URLS: JSON.stringify({ '31337': proxy(`swallow-to/${market.reserves.WBTC.asset}`) }), TOPUP_MAX_GAS_GWEI: fees });
    try {
      await setWbtc('50000');
      await tick();
      expect((await executorRows(a.watchId)).txs.map((tx) => tx.status)).toEqual(['pending']);
      await setWbtc('45000');
      await tick();
      await tick();
      expect((await executorRows(b.watchId)).actions).toEqual([]);
      const dryRuns = await topUpEvents(c.tenant, '/ts-stall-c');
      expect(dryRuns.map((event) => event.body.topUp.reason)).toContain('dry_run');

      // A's timeout passes (its approval was signed minutes ago and no node has it): A gives way, B lands in the same pass.
      await ageTransactions(a.watchId, 6 * 60_000);
      await age(a.watchId, 6 * 60_000);
      await tick();
    } finally {
      await restore();
    }
    expect((await executorRows(a.watchId)).actions.map((action) => action.status)).toEqual(['failed']);
    const bEvents = await topUpEvents(b.tenant, '/ts-stall-b');
    expect(bEvents.map((event) => event.body.type)).toContain('topup.executed');
    expect((await sent()) - before).toBe(2); // B's approval and repay; A's approval never landed
  });
});

/** The fee cap that the current fee market just meets: new transactions pass, no replacement fits under it. */
async function feeCapNow(): Promise<string> {
  const rpc = async (method: string, params: unknown[] = []) =>
    ((await (await fetch(ANVIL_URL, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }) })).json()) as { result: string }).result;
  const block = (await rpc('eth_getBlockByNumber', ['latest', false])) as unknown as { baseFeePerGas: string };
  const tip = BigInt(await rpc('eth_maxPriorityFeePerGas'));
  const base = BigInt(block.baseFeePerGas);
  return formatUnits(base * 2n + tip, 9);
}

/** The executor's transactions of a watch become `ms` older (signed and broadcast earlier). */
async function ageTransactions(watchId: string, ms: number) {
  await runInDurableObject(executor(), (_instance, state) => {
    const rows = state.storage.sql.exec<{ id: number; attempts: string }>('SELECT t.id, t.attempts FROM txs t JOIN actions a ON a.id = t.action_id WHERE a.watch_id = ?', watchId).toArray();
    for (const row of rows) {
      const attempts = (JSON.parse(row.attempts) as Array<{ signedAt: number; broadcastAt: number | null }>).map((attempt) => ({ ...attempt, signedAt: attempt.signedAt - ms, broadcastAt: attempt.broadcastAt === null ? null : attempt.broadcastAt - ms }));
      state.storage.sql.exec('UPDATE txs SET attempts = ?, created_at = created_at - ? WHERE id = ?', JSON.stringify(attempts), ms, row.id);
    }
  });
}
