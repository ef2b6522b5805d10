import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test';
import { parseUnits, type Address } from 'viem';
import { ADMIN, control, grantTopUps, newTenant, testEnv } from './helpers';
import {
  ANVIL_URL, KEY, SIGNER, WAD, age, call, consoleLines, executor, executorRows, healthFactor, loadMarket, market, proxy, receivedAt, responses, sent, setWbtc, setup,
  supplyPolicy, swapExecutorEnv, tick, topUpEvents, withExecutorEnv, type PolicyInput, type Received,
} from './topup-helpers';

/*
 * The auto-top-up executor against the local chain's real Aave v3 Pool. Positions use WBTC
 * collateral and USDC debt so WETH price moves made by other test files do not touch them.
 * 1 WBTC at $60,000 (liquidation threshold 78%) against 30,000 USDC: health factor 1.56;
 * at $45,000 it is 1.17 and at $40,000 1.04.
 */

describe('auto-top-up executor on real Aave v3', () => {
  beforeAll(async () => {
    await loadMarket();
    // The executor's stock of the assets it tops up with (anvil account 5 already has ether for gas).
    await control('/topup/mint', { symbol: 'WBTC', to: SIGNER, amount: '10' });
    await control('/topup/mint', { symbol: 'USDC', to: SIGNER, amount: '100000' });
    for (const level of ['log', 'info', 'warn', 'error', 'debug'] as const) {
      const original = console[level].bind(console);
      vi.spyOn(console, level).mockImplementation((...args: unknown[]) => {
        consoleLines.push(args.map((arg) => (arg instanceof Error ? `${arg.name}: ${arg.message} ${arg.stack ?? ''}` : typeof arg === 'string' ? arg : JSON.stringify(arg, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)))).join(' '));
        original(...args);
      });
    }
  });

  beforeEach(async () => {
    await setWbtc('60000');
  });

  afterAll(() => {
    vi.restoreAllMocks();
  });

  it('supply mode: the trigger is crossed, the executor supplies through the Pool, HF reaches the target', async () => {
    const { key, tenant, watchId, account } = await setup('/tu-supply', supplyPolicy());
    await tick();
    const before = await sent();
    expect(await healthFactor(account)).toBeGreaterThan((12n * WAD) / 10n);

    await setWbtc('45000');
    const summary = await tick();
    expect(summary.error).toBeNull();

    const hf = await healthFactor(account);
    expect(hf).toBeGreaterThanOrEqual((15n * WAD) / 10n);
    // An exact-amount approval, then the supply: two transactions, no more.
    expect((await sent()) - before).toBe(2);
    const allowance = await control('/topup/balance', { symbol: 'WBTC', address: SIGNER });
    expect(allowance.allowance).toBe('0');

    await tenant.deliverDue();
    const events = await receivedAt('/tu-supply');
    expect(events.map((event) => event.body.type)).toContain('topup.executed');
    const executed = events.find((event) => event.body.type === 'topup.executed')!;
    expect(executed.verified).toBe(true);
    expect(executed.body.topUp).toMatchObject({ mode: 'supply', symbol: 'WBTC', dryRun: false, reachesTarget: true, targetReached: true, cappedBy: [] });
    expect(executed.body.topUp.txHash).toMatch(/^0x[0-9a-f]{64}$/);
    expect(executed.body.topUp.approveTxHash).toMatch(/^0x[0-9a-f]{64}$/);
    expect(Number(executed.body.topUp.healthFactorBefore)).toBeLessThan(1.2);
    expect(Number(executed.body.topUp.healthFactorAfter)).toBeGreaterThanOrEqual(1.5);
    expect(executed.body.topUp.transaction).toMatchObject({ function: 'supply', to: market.pool, args: { onBehalfOf: account } });
    expect(executed.body.id).toMatch(/^evt_topup_/);
    // The amount in the event is what reached the Pool on the account's behalf.
    const aToken = await control('/topup/balance', { symbol: 'WBTC', address: account, aToken: true });
    expect(BigInt(aToken.balance)).toBeGreaterThanOrEqual(parseUnits('1', 8) + parseUnits(executed.body.topUp.amount, 8) - 1n);

    const read = await call('GET', `/v1/watches/${watchId}`, { token: key });
    expect(read.body.topUp).toMatchObject({ mode: 'supply', symbol: 'WBTC', decimals: 8, dryRun: false, maxAmountPerAction: '1' });
    expect(read.body.topUpState).toMatchObject({ inFlight: false, spentLast24h: executed.body.topUp.amount });
    expect(read.body.topUpState.recent[0]).toMatchObject({ status: 'confirmed', txHash: executed.body.topUp.txHash });
    expect(read.body.topUpState.cooldownUntil).not.toBeNull();
  });

  it('repay mode: the executor repays the account debt through the Pool on its behalf', async () => {
    const { tenant, account } = await setup('/tu-repay', supplyPolicy({ mode: 'repay', asset: market.reserves.USDC.asset, maxAmountPerAction: '20000', maxAmountPerDay: '50000' }));
    await tick();
    const before = await sent();
    await setWbtc('45000');
    await tick();

    expect(await healthFactor(account)).toBeGreaterThanOrEqual((15n * WAD) / 10n);
    expect((await sent()) - before).toBe(2);
    const [executed] = await topUpEvents(tenant, '/tu-repay');
    expect(executed!.body.type).toBe('topup.executed');
    expect(executed!.body.topUp).toMatchObject({ mode: 'repay', symbol: 'USDC', reachesTarget: true, targetReached: true });
    expect(executed!.body.topUp.transaction).toMatchObject({ function: 'repay', args: { interestRateMode: 2, onBehalfOf: account } });
    // About 6,600 USDC brings 30,000 of debt under 45,000 × 0.78 / 1.5 = 23,400.
    expect(Number(executed!.body.topUp.amount)).toBeGreaterThan(6500);
    expect(Number(executed!.body.topUp.amount)).toBeLessThan(6700);
  });

  it('caps: a crash beyond the per-action cap sends the capped amount and says so; cooldown holds; the day cap stops the next one', async () => {
    const { tenant, watchId, account } = await setup('/tu-caps', supplyPolicy({ maxAmountPerAction: '0.1', maxAmountPerDay: '0.1' }));
    await tick();
    const before = await sent();
    await setWbtc('40000'); // HF 1.04: about 0.5 WBTC would be needed
    await tick();

    expect((await sent()) - before).toBe(2);
    let events = await topUpEvents(tenant, '/tu-caps');
    expect(events.map((event) => event.body.type)).toEqual(['topup.executed']);
    expect(events[0]!.body.topUp).toMatchObject({ amount: '0.1', reachesTarget: false, targetReached: false, cappedBy: ['per_action'] });
    expect(Number(events[0]!.body.topUp.amountNeeded)).toBeGreaterThan(0.4);
    const after = await healthFactor(account);
    expect(after).toBeLessThan((12n * WAD) / 10n); // still below the trigger: only the cap held it back
    const supplied = (await control('/topup/balance', { symbol: 'WBTC', address: account, aToken: true })).balance as string;

    // Still below the trigger, same episode: the cooldown holds, told once.
    await tick();
    await tick();
    expect((await sent()) - before).toBe(2);
    events = await topUpEvents(tenant, '/tu-caps');
    const cooldown = events.filter((event) => event.body.topUp.reason === 'cooldown');
    expect(cooldown).toHaveLength(1);
    expect(cooldown[0]!.body.type).toBe('topup.skipped');
    expect(cooldown[0]!.body.topUp.retryAt).not.toBeNull();
    expect(cooldown[0]!.body.topUp.transaction).toMatchObject({ function: 'supply', args: { onBehalfOf: account } });

    // The cooldown passes; the 24-hour cap (0.1, all spent) now stops it.
    await age(watchId, 601_000);
    await tick();
    await tick();
    expect((await sent()) - before).toBe(2);
    events = await topUpEvents(tenant, '/tu-caps');
    const capped = events.filter((event) => event.body.topUp.reason === 'day_cap_reached');
    expect(capped).toHaveLength(1);
    expect(capped[0]!.body.type).toBe('topup.skipped');
    // Nothing more was supplied (the health factor itself moves with accrued interest).
    expect((await control('/topup/balance', { symbol: 'WBTC', address: account, aToken: true })).balance).toBe(supplied);
  });

  it('double fire: overlapping ticks, the alarm and a manual pass produce exactly one top-up', async () => {
    const { tenant, account } = await setup('/tu-overlap', supplyPolicy());
    await tick();
    const before = await sent();
    const aTokenBefore = BigInt((await control('/topup/balance', { symbol: 'WBTC', address: account, aToken: true })).balance);
    await setWbtc('45000');
    await control('/mine');
    const stub = executor();
    await Promise.all([tick(), tick(), stub.processNow(), runDurableObjectAlarm(stub), tick()]);
    await Promise.all([runDurableObjectAlarm(stub), stub.processNow()]);

    expect((await sent()) - before).toBe(2);
    const events = await topUpEvents(tenant, '/tu-overlap');
    const executed = events.filter((event) => event.body.type === 'topup.executed');
    expect(executed).toHaveLength(1);
    const aTokenAfter = BigInt((await control('/topup/balance', { symbol: 'WBTC', address: account, aToken: true })).balance);
    const amount = parseUnits(executed[0]!.body.topUp.amount, 8);
    expect(aTokenAfter - aTokenBefore).toBeGreaterThanOrEqual(amount - 1n);
    expect(aTokenAfter - aTokenBefore).toBeLessThanOrEqual(amount + 1n);
  });

  it('restart between intent and receipt: a new instance of the crashed executor resumes the recorded transaction instead of sending another', async () => {
    const { tenant, watchId, account } = await setup('/tu-restart', supplyPolicy());
    await tick();
    const before = await sent();
    await setWbtc('45000');

    // The node accepts the approval but it never reaches a block (dropped from the mempool).
    // This instance keeps seeing that node until it is gone, so only a restarted one can finish.
    await swapExecutorEnv({ RPC_URLS: JSON.stringify({ '31337': proxy('swallow') }) });
    await tick();
    await executor().processNow();
    let rows = await executorRows(watchId);
    expect(rows.actions).toEqual([expect.objectContaining({ status: 'in_flight' })]);
    expect(rows.txs).toHaveLength(1);
    const intent = rows.txs[0]!;
    expect(intent).toMatchObject({ kind: 'approve', status: 'pending' });
    const recordedHash = (JSON.parse(intent.attempts) as Array<{ hash: string }>)[0]!.hash;
    expect((await sent()) - before).toBe(0);

    // The object crashes (memory and the swapped settings gone: a new instance sees the real
    // node); its alarm is retried and more ticks arrive.
    await runInDurableObject(executor(), (_instance, state) => state.abort('test: crash between intent and receipt')).catch(() => undefined);
    const afterRestart = await executorRows(watchId);
    expect(afterRestart.actions).toEqual([expect.objectContaining({ status: 'in_flight' })]);
    expect(afterRestart.txs.map((tx) => tx.nonce)).toEqual([intent.nonce]);
    await runDurableObjectAlarm(executor());
    await tick();
    await runDurableObjectAlarm(executor());

    rows = await executorRows(watchId);
    expect(rows.actions).toEqual([expect.objectContaining({ status: 'confirmed' })]);
    expect(rows.txs.map((tx) => [tx.kind, tx.status])).toEqual([['approve', 'mined'], ['supply', 'mined']]);
    // The same signed bytes went out after the restart: the mined approval is the recorded one.
    expect(rows.txs[0]!.mined_hash).toBe(recordedHash);
    expect(rows.txs[0]!.nonce).toBe(intent.nonce);
    expect((await sent()) - before).toBe(2);
    expect(await healthFactor(account)).toBeGreaterThanOrEqual((15n * WAD) / 10n);
    const events = await topUpEvents(tenant, '/tu-restart');
    expect(events.filter((event) => event.body.type === 'topup.executed')).toHaveLength(1);
  });

  it('a stuck transaction is replaced with a higher fee under the same nonce, and only one lands', async () => {
    const { tenant, watchId, account } = await setup('/tu-stuck', supplyPolicy());
    await tick();
    const before = await sent();
    await setWbtc('45000');
    await withExecutorEnv({ RPC_URLS: JSON.stringify({ '31337': proxy('swallow') }) }, async () => {
      await tick();
      // A minute and more passes without a receipt.
      await runInDurableObject(executor(), (_instance, state) => {
        const tx = state.storage.sql.exec<{ id: number; attempts: string }>("SELECT t.id, t.attempts FROM txs t JOIN actions a ON a.id = t.action_id WHERE a.watch_id = ? AND t.status = 'pending'", watchId).one();
        const attempts = (JSON.parse(tx.attempts) as Array<{ signedAt: number }>).map((attempt) => ({ ...attempt, signedAt: attempt.signedAt - 90_000 }));
        state.storage.sql.exec('UPDATE txs SET attempts = ? WHERE id = ?', JSON.stringify(attempts), tx.id);
      });
      await executor().processNow();
    });
    let rows = await executorRows(watchId);
    expect(rows.txs).toHaveLength(1);
    const attempts = JSON.parse(rows.txs[0]!.attempts) as Array<{ hash: string; fees: { maxFeePerGas: string; maxPriorityFeePerGas: string } }>;
    expect(attempts).toHaveLength(2);
    expect(attempts[1]!.hash).not.toBe(attempts[0]!.hash);
    expect(BigInt(attempts[1]!.fees.maxFeePerGas) * 1000n).toBeGreaterThanOrEqual(BigInt(attempts[0]!.fees.maxFeePerGas) * 1125n);
    expect(BigInt(attempts[1]!.fees.maxPriorityFeePerGas) * 1000n).toBeGreaterThanOrEqual(BigInt(attempts[0]!.fees.maxPriorityFeePerGas) * 1125n);
    expect((await sent()) - before).toBe(0);

    // The network works again: the replacement lands, the original (same nonce) never can.
    await executor().processNow();
    rows = await executorRows(watchId);
    expect(rows.txs.map((tx) => [tx.kind, tx.status])).toEqual([['approve', 'mined'], ['supply', 'mined']]);
    expect(rows.txs[0]!.mined_hash).toBe(attempts[1]!.hash);
    expect((await sent()) - before).toBe(2);
    expect(await healthFactor(account)).toBeGreaterThanOrEqual((15n * WAD) / 10n);
    expect((await topUpEvents(tenant, '/tu-stuck')).filter((event) => event.body.type === 'topup.executed')).toHaveLength(1);
  });

  describe('refusals: a clear event, nothing sent', () => {
    async function refused(path: string, overrides: Record<string, string> | null, expected: { type: string; reason: string }, policy: PolicyInput = supplyPolicy(), prepare?: () => Promise<void>) {
      const { tenant, account } = await setup(path, policy);
      await tick();
      const before = await sent();
      const hfBefore = await healthFactor(account);
      await setWbtc('45000');
      await prepare?.();
      if (overrides) await withExecutorEnv(overrides, () => tick());
      else await tick();
      expect((await sent()) - before).toBe(0);
      const events = await topUpEvents(tenant, path);
      expect(events.map((event) => [event.body.type, event.body.topUp.reason])).toEqual([[expected.type, expected.reason]]);
      expect(await healthFactor(account)).toBeLessThan(hfBefore);
      return events[0]!.body;
    }

    it('a lagging RPC (behind the block the trigger was seen at)', async () => {
      const body = await refused('/tu-stale', { RPC_URLS: JSON.stringify({ '31337': proxy('lag/3') }) }, { type: 'topup.failed', reason: 'rpc_stale' });
      expect(body.topUp.message).toMatch(/behind block \d+/);
    });

    it('RPC endpoints that disagree on the account', async () => {
      const body = await refused('/tu-disagree', { RPC_URLS: JSON.stringify({ '31337': [proxy('lag/3'), ANVIL_URL] }) }, { type: 'topup.failed', reason: 'rpc_disagree' });
      expect(body.topUp.message).toContain('disagree');
    });

    it('an RPC serving another chain id', async () => {
      const body = await refused('/tu-chain', { RPC_URLS: JSON.stringify({ '31337': proxy('chain/1') }) }, { type: 'topup.failed', reason: 'wrong_chain' });
      expect(body.topUp.message).toContain('serves chain 1');
    });

    it('gas above TOPUP_MAX_GAS_GWEI', async () => {
      const body = await refused('/tu-gas', { TOPUP_MAX_GAS_GWEI: '0.000000001' }, { type: 'topup.failed', reason: 'gas_price_above_cap' });
      expect(body.topUp.message).toContain('TOPUP_MAX_GAS_GWEI');
      expect(body.topUp.transaction).toMatchObject({ function: 'supply' });
    });

    it('an empty executor wallet', async () => {
      // The executor holds no WETH: a policy topping up with WETH has nothing to send.
      const body = await refused('/tu-balance', null, { type: 'topup.skipped', reason: 'no_balance' }, supplyPolicy({ asset: market.reserves.WETH.asset, maxAmountPerAction: '100', maxAmountPerDay: '100' }));
      expect(body.topUp.wallet).toMatchObject({ address: SIGNER, balance: '0' });
      expect(Number(body.topUp.amount)).toBeGreaterThan(0);
    });

    it('a simulated revert, reported with its decoded reason', async () => {
      try {
        const body = await refused('/tu-revert', null, { type: 'topup.failed', reason: 'simulation_reverted' }, supplyPolicy(), () => control('/topup/freeze', { symbol: 'WBTC', frozen: true }));
        expect(body.topUp.message).toContain('RESERVE_FROZEN');
        expect(body.topUp.transaction).toMatchObject({ function: 'supply', approve: { spender: market.pool } });
      } finally {
        await control('/topup/freeze', { symbol: 'WBTC', frozen: false });
      }
    });
  });

  it('dry run is the default: nothing is sent, the event shows the exact transaction it would send', async () => {
    const policy = supplyPolicy();
    delete policy.dryRun;
    const { key, tenant, watchId, account } = await setup('/tu-dry', policy);
    const read = await call('GET', `/v1/watches/${watchId}`, { token: key });
    expect(read.body.topUp.dryRun).toBe(true);
    await tick();
    const before = await sent();
    await setWbtc('45000');
    const hf = await healthFactor(account);
    await tick();
    await tick();

    expect((await sent()) - before).toBe(0);
    // Nothing was supplied: the HF did not rise (interest may lower it by a hair meanwhile).
    const after = await healthFactor(account);
    expect(after <= hf && hf - after < 10n ** 12n).toBe(true);
    const events = await topUpEvents(tenant, '/tu-dry');
    const dry = events.filter((event) => event.body.topUp.reason === 'dry_run');
    expect(dry).toHaveLength(1);
    expect(dry[0]!.body.type).toBe('topup.skipped');
    expect(dry[0]!.body.topUp).toMatchObject({ dryRun: true, reachesTarget: true, healthFactorAfter: null, txHash: null });
    const tx = dry[0]!.body.topUp.transaction;
    expect(tx).toMatchObject({ from: SIGNER, to: market.pool, function: 'supply', args: { asset: market.reserves.WBTC.asset, onBehalfOf: account, referralCode: 0 } });
    expect(tx.data).toMatch(/^0x617ba037/); // supply(address,uint256,address,uint16)
    expect(tx.approve).toMatchObject({ to: market.reserves.WBTC.asset, spender: market.pool, amount: tx.args.amount });
    expect(BigInt(tx.args.amount)).toBe(parseUnits(dry[0]!.body.topUp.amount, 8));
    const state = await call('GET', `/v1/watches/${watchId}`, { token: key });
    expect(state.body.topUpState.recent[0]).toMatchObject({ status: 'dry_run', dryRun: true, txHash: null });
    expect(state.body.topUpState.spentLast24h).toBe(dry[0]!.body.topUp.amount);
  });

  describe('the topUp policy in the API', () => {
    let key: string;
    let account: string;
    beforeAll(async () => {
      key = await newTenant('/tu-api');
      await grantTopUps(key, '10000000');
      account = (await control('/open', { collateral: 'WBTC', collateralAmount: '1', debt: 'USDC', debtAmount: '1000' })).account as string;
    });
    const create = (topUp: unknown) =>
      call('POST', '/v1/watches', { token: key, body: { chainId: 31337, protocol: 'aave-v3', market: testEnv.TEST_MARKET, account, topUp } });

    it.each([
      [{ triggerHealthFactor: 1.5, targetHealthFactor: 1.5 }, 'topUp.targetHealthFactor'],
      [{ triggerHealthFactor: 1, targetHealthFactor: 1.5 }, 'topUp.triggerHealthFactor'],
      [{ mode: 'borrow' }, 'topUp.mode'],
      [{ maxAmountPerAction: '0' }, 'topUp.maxAmountPerAction'],
      [{ maxAmountPerAction: '-1' }, 'topUp.maxAmountPerAction'],
      [{ maxAmountPerAction: 1.5 }, 'topUp.maxAmountPerAction'],
      [{ maxAmountPerDay: '1e3' }, 'topUp.maxAmountPerDay'],
      [{ cooldownSeconds: -1 }, 'topUp.cooldownSeconds'],
      [{ asset: 'nope' }, 'topUp.asset'],
      [{ extra: true }, 'topUp'],
    ])('refuses %j (400 at %s)', async (patch, path) => {
      const response = await create({ ...supplyPolicy(), ...patch });
      expect(response.status).toBe(400);
      expect(response.body.error.issues.map((issue: { path: string }) => issue.path)).toContain(path);
    });

    it('checks the asset against the market and the amounts against its decimals', async () => {
      const notReserve = await create(supplyPolicy({ asset: '0x000000000000000000000000000000000000dEaD' }));
      expect(notReserve.status).toBe(400);
      expect(notReserve.body.error.issues[0]).toMatchObject({ path: 'topUp.asset' });
      expect(notReserve.body.error.message).toContain('not a reserve');
      const tooPrecise = await create(supplyPolicy({ maxAmountPerAction: '0.123456789' })); // WBTC has 8 decimals
      expect(tooPrecise.status).toBe(400);
      expect(tooPrecise.body.error.issues[0]).toMatchObject({ path: 'topUp.maxAmountPerAction' });
      expect(tooPrecise.body.error.message).toContain('8');
    });

    it('creates, shows, replaces and removes a policy', async () => {
      const created = await create(supplyPolicy({ maxAmountPerAction: '0.50', dryRun: undefined }));
      expect(created.status).toBe(201);
      expect(created.body.topUp).toEqual({
        enabled: true, mode: 'supply', asset: market.reserves.WBTC.asset, symbol: 'WBTC', decimals: 8,
        triggerHealthFactor: 1.2, targetHealthFactor: 1.5, maxAmountPerAction: '0.5', maxAmountPerDay: '2', cooldownSeconds: 600, dryRun: true, version: 1,
      });
      const id = created.body.id as string;
      const replaced = await call('PATCH', `/v1/watches/${id}`, { token: key, body: { topUp: supplyPolicy({ mode: 'repay', asset: market.reserves.USDC.asset, maxAmountPerAction: '100', maxAmountPerDay: '1000' }) } });
      expect(replaced.status).toBe(200);
      expect(replaced.body.topUp).toMatchObject({ mode: 'repay', symbol: 'USDC', decimals: 6, dryRun: false, version: 2 });
      const shown = await call('GET', `/v1/watches/${id}`, { token: key });
      expect(shown.body.topUp).toMatchObject({ mode: 'repay' });
      expect(shown.body.topUpState).toMatchObject({ executor: { chainId: 31337, signer: SIGNER }, spentLast24h: '0', remainingLast24h: '1000', inFlight: false, recent: [] });
      const removed = await call('PATCH', `/v1/watches/${id}`, { token: key, body: { topUp: null } });
      expect(removed.status).toBe(200);
      expect(removed.body.topUp).toBeNull();
      expect((await call('GET', `/v1/watches/${id}`, { token: key })).body).toMatchObject({ topUp: null, topUpState: null });
      await call('DELETE', `/v1/watches/${id}`, { token: key });
    });

    it('GET /v1/topup/signer (admin token only) shows the executor address and its native balance, never the key', async () => {
      expect((await call('GET', '/v1/topup/signer')).status).toBe(401);
      // The wallet is the owner's: a tenant key does not see it.
      expect((await call('GET', '/v1/topup/signer', { token: key })).status).toBe(401);
      const signer = await call('GET', '/v1/topup/signer', { token: ADMIN });
      expect(signer.status).toBe(200);
      expect(signer.body).toMatchObject({ address: SIGNER, configured: true, maxGasGwei: '50' });
      expect(signer.body.chains).toEqual([{ chainId: 31337, balanceNative: expect.stringMatching(/^\d+(\.\d+)?$/), error: null, held: expect.any(Array), usdFeeds: expect.any(Array) }]);
      expect(Number(signer.body.chains[0].balanceNative)).toBeGreaterThan(0);
    });
  });

  it('the key never appears in a log line, a response, a delivered event or stored state', async () => {
    const forms = [KEY.toLowerCase(), KEY.slice(2).toLowerCase(), KEY.slice(2).toUpperCase()];
    const leaks = (text: string) => forms.some((form) => text.toLowerCase().includes(form.toLowerCase()));
    expect(responses.length).toBeGreaterThan(10);
    for (const response of responses) expect(leaks(JSON.stringify(response.body))).toBe(false);
    for (const line of consoleLines) expect(leaks(line)).toBe(false);
    const events = (await control('/receiver/events', {}, 'GET')) as Received[];
    expect(events.some((event) => String(event.body?.type).startsWith('topup.'))).toBe(true);
    expect(leaks(JSON.stringify(events))).toBe(false);
    const stored = await runInDurableObject(executor(), (_instance, state) =>
      ['meta', 'requests', 'actions', 'txs', 'notices', 'failures'].map((table) => JSON.stringify(state.storage.sql.exec(`SELECT * FROM ${table}`).toArray())).join('\n'),
    );
    expect(stored).toContain('evt_topup_'); // the scan saw real records
    expect(leaks(stored)).toBe(false);
  });
});
