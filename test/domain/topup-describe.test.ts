import { describe, expect, it } from 'vitest';
import { POOL, ASSET, ACCOUNT, SIGNER, request, freshState, actionRow } from '../helpers/topup-fixtures';
import type { TopUpPlan } from '../../src/domain/topup-plan';
import { buildSteps, firstStepGasOnly, sizePlan, worstGasCost, type SendPlan } from '../../src/topup/steps';
import { describeStoredSteps, describeTransaction } from '../../src/topup/transaction-view';
import { describeCaps, executedMessage, readFailure, showHealthFactor, skipMessage, txTimeoutMessage, broadcastFailedMessage } from '../../src/topup/messages';
import { actionEventInput, refusalEventInput, skipEventInput } from '../../src/topup/event-input';
import { actionView, watchState } from '../../src/topup/watch-state';
import { storedStepsOf } from '../../src/topup/records';
import { AppError } from '../../src/lib/errors';
import { decodeFunctionData } from 'viem';
import { erc20ApproveAbi, type Step } from '../../src/topup/chain';
import { aavePoolAbi } from '../../src/protocols/aave-v3/abi';
import { topUpProtocolOf } from '../../src/protocols';

const aave = topUpProtocolOf({ protocol: 'aave-v3', market: POOL });
/** The decoded arguments of a step (an approval, or the Pool call). */
const argsOf = (step: Step) => decodeFunctionData({ abi: step.kind === 'approve' ? erc20ApproveAbi : aavePoolAbi, data: step.data }).args as readonly unknown[];

const WAD = 10n ** 18n;
const sendPlan = (amount: bigint, cappedBy: SendPlan['cappedBy'] = []): SendPlan => ({ action: 'send', amount, amountNeeded: amount, reachesTarget: true, cappedBy }) as unknown as SendPlan;

describe('buildSteps', () => {
  it('supply with enough allowance: one call', () => {
    const built = buildSteps(aave, request(), freshState({ wallet: { token: 10n, native: 1n, allowance: 100n } }), 50n, SIGNER);
    expect(built.steps.map((step) => step.kind)).toEqual(['supply']);
    expect(built).toMatchObject({ amount: 50n });
  });

  it('a short non-zero allowance is reset to zero, then approved for exactly the amount', () => {
    const built = buildSteps(aave, request(), freshState({ wallet: { token: 10n, native: 1n, allowance: 3n } }), 50n, SIGNER);
    expect(built.steps.map((step) => step.kind)).toEqual(['approve', 'approve', 'supply']);
    expect(built.steps.map((step) => argsOf(step)[1])).toEqual([0n, 50n, 50n]);
  });

  it('without a signer the allowance counts as zero', () => {
    expect(buildSteps(aave, request(), freshState({ wallet: { token: 10n, native: 1n, allowance: 100n } }), 50n, null).steps.map((step) => step.kind)).toEqual(['approve', 'supply']);
  });

  it('repay picks the larger rate mode and never repays more than it', () => {
    const built = buildSteps(aave, request({ mode: 'repay' }), freshState({ debt: { variable: 20n, stable: 30n } }), 50n, null);
    expect(built).toMatchObject({ amount: 30n });
    expect(argsOf(built.steps.at(-1)!)).toEqual([ASSET, 30n, 1n, ACCOUNT]);
  });

  it('the plan is resized to what is sent, capped by the debt', () => {
    expect(sizePlan(sendPlan(50n, ['per_action']), { amount: 30n })).toMatchObject({ amount: 30n, cappedBy: ['per_action', 'debt'], reachesTarget: false });
    expect(sizePlan(sendPlan(50n, ['debt']), { amount: 30n }).cappedBy).toEqual(['debt']);
    expect(sizePlan(sendPlan(50n), { amount: 50n })).toMatchObject({ amount: 50n, cappedBy: [], reachesTarget: true });
  });

  it('gas: first step only when unsimulated, worst cost with a default for the rest', () => {
    const steps = buildSteps(aave, request(), freshState(), 50n, null).steps;
    expect(firstStepGasOnly(steps, 100n)).toEqual([120n, null]);
    expect(worstGasCost([100n, null], { type: 'legacy', gasPrice: 2n })).toBe(200n + 1_000_000n);
  });
});

describe('transaction view', () => {
  it('describes a supply with its approval', () => {
    const built = buildSteps(aave, request(), freshState(), 25_000_000n, null);
    const view = describeTransaction(built, request(), SIGNER);
    expect(view).toMatchObject({
      from: SIGNER,
      to: POOL,
      function: 'supply',
      summary: `supply(WBTC ${ASSET}, 0.25 WBTC, onBehalfOf ${ACCOUNT}, referralCode 0)`,
      args: { asset: ASSET, amount: '25000000', onBehalfOf: ACCOUNT, referralCode: 0 },
      data: built.steps[1]!.data,
      approve: { to: ASSET, spender: POOL, amount: '25000000' },
    });
    expect(describeStoredSteps(storedStepsOf(built.steps), request(), SIGNER)).toEqual(view);
  });

  it('describes a repay by rate mode, without an approval when none is needed', () => {
    const built = buildSteps(aave, request({ mode: 'repay' }), freshState({ debt: { variable: 10n ** 8n, stable: 0n }, wallet: { token: 0n, native: 0n, allowance: 10n ** 9n } }), 10n ** 8n, SIGNER);
    const view = describeTransaction(built, request({ mode: 'repay' }), null);
    expect(view.summary).toBe(`repay(WBTC ${ASSET}, 1 WBTC, variable rate, onBehalfOf ${ACCOUNT})`);
    expect(view.args).toEqual({ asset: ASSET, amount: '100000000', interestRateMode: 2, onBehalfOf: ACCOUNT });
    expect(view.approve).toBeNull();
  });
});

describe('messages', () => {
  it('shows health factors to 4 decimals, ∞ without debt', () => {
    expect(showHealthFactor(null)).toBe('∞');
    expect(showHealthFactor(1_234_567_000_000_000_000n)).toBe('1.2345');
  });

  it('names the caps', () => {
    expect(describeCaps([])).toBe('the caps');
    expect(describeCaps(['per_action', 'debt'])).toBe('maxAmountPerAction, the debt of this asset');
  });

  it('skip messages add the amount and a short wallet on a dry run', () => {
    const plan = { action: 'skip', reason: 'dry_run', proposal: { amount: 50_000_000n, amountNeeded: 50_000_000n, reachesTarget: true, cappedBy: [] } } as unknown as Extract<TopUpPlan, { action: 'skip' }>;
    expect(skipMessage(plan, freshState({ wallet: { token: 10_000_000n, native: 0n, allowance: 0n } }), request().policy)).toBe(
      'dry run: nothing was sent; this is the transaction a live policy would send. It would send 0.5 WBTC. The executor wallet holds only 0.1 WBTC.',
    );
    const cooldown = { action: 'skip', reason: 'cooldown' } as unknown as Extract<TopUpPlan, { action: 'skip' }>;
    expect(skipMessage(cooldown, freshState(), request({ dryRun: true }).policy)).toBe('dry run: the health factor is still below the trigger; the next dry run waits for the cooldown since the last one.');
    expect(skipMessage(cooldown, freshState(), request().policy)).toBe('the health factor is still below the trigger, but the cooldown since the last top-up has not passed.');
  });

  it('the executed message says how the health factor moved and what capped it', () => {
    const base = { policy: request().policy, amount: 50_000_000n, before: (115n * WAD) / 100n, after: (16n * WAD) / 10n, reachesTarget: true, cappedBy: [] };
    expect(executedMessage(base)).toBe('supplied 0.5 WBTC on behalf of the account: health factor 1.15 → 1.6');
    expect(executedMessage({ ...base, policy: request({ mode: 'repay' }).policy, after: null, reachesTarget: false, cappedBy: ['per_day'] })).toBe(
      'repaid 0.5 WBTC on behalf of the account: health factor 1.15 → ∞ (target 1.5 not reachable within the 24-hour cap)',
    );
  });

  it('failure messages carry the minutes of their limits', () => {
    expect(broadcastFailedMessage('approve', 4, 'nonce too low')).toBe('the node refused the approve transaction (nonce 4): nonce too low; it is retried with the same nonce and given up after 5 minutes if no node takes it');
    expect(txTimeoutMessage('supply', 4, '0xabc')).toContain('has no receipt after 15 minutes');
  });

  it('read failures keep known codes and hide the rest', () => {
    expect(readFailure(new AppError('asset_not_in_market', 'no such reserve'))).toEqual({ code: 'asset_not_in_market', message: 'no such reserve' });
    expect(readFailure(new AppError('rpc_unavailable', 'down'))).toEqual({ code: 'rpc_unavailable', message: 'down' });
    expect(readFailure(new AppError('other', 'x'))).toEqual({ code: 'read_failed', message: 'x' });
    expect(readFailure(new Error('boom')).code).toBe('read_failed');
  });
});

describe('event inputs', () => {
  const trigger = { watchId: 'w_1', episode: 3, slot: 1 };
  const steps = buildSteps(aave, request(), freshState(), 50_000_000n, null);

  it('an action event is read from its row; extra fields win', () => {
    const row = actionRow({ steps: JSON.stringify(storedStepsOf(steps.steps)), capped_by: '["per_action"]', reaches_target: 0 });
    const createdAt = new Date(5_000);
    const input = actionEventInput(row, request(), 'topup.failed', { reason: 'tx_timeout', message: 'slow', blockNumber: 7n }, { createdAt, signer: SIGNER });
    expect(input).toMatchObject({
      type: 'topup.failed', trigger, createdAt, amount: 50_000_000n, amountNeeded: 50_000_000n, reachesTarget: false, cappedBy: ['per_action'],
      healthFactorBefore: 1_150_000_000_000_000_000n, blockNumber: 7n, reason: 'tx_timeout', message: 'slow',
    });
    expect(input.transaction).toEqual(describeTransaction(steps, request(), SIGNER));
  });

  it('a refusal without context has no amounts and an unread health factor', () => {
    const input = refusalEventInput(trigger, request(), { code: 'rpc_stale', message: 'lagging' }, new Date(1), undefined, null);
    expect(input).toMatchObject({ type: 'topup.failed', amount: null, amountNeeded: null, reachesTarget: null, cappedBy: [], blockNumber: null, reason: 'rpc_stale', transaction: null });
    expect(input.healthFactorBefore).toBeUndefined();
  });

  it('a refusal with context carries the plan and the state', () => {
    const input = refusalEventInput(trigger, request(), { code: 'gas_price_above_cap', message: 'gas' }, new Date(1), { plan: sendPlan(9n, ['per_day']), state: freshState({ block: 120n }) }, null);
    expect(input).toMatchObject({ amount: 9n, amountNeeded: 9n, reachesTarget: true, cappedBy: ['per_day'], blockNumber: 120n, healthFactorBefore: 1_150_000_000_000_000_000n });
  });

  it('a skip shows what would really go out and the wallet', () => {
    const plan = { action: 'skip', reason: 'dry_run', retryAt: 99, proposal: { amount: 60_000_000n, amountNeeded: 70_000_000n, reachesTarget: false, cappedBy: ['per_action'] } } as unknown as Extract<TopUpPlan, { action: 'skip' }>;
    const input = skipEventInput({ trigger, request: request(), plan, state: freshState({ wallet: { token: 1n, native: 0n, allowance: 0n } }), steps, signer: SIGNER, now: 10 });
    expect(input).toMatchObject({ type: 'topup.skipped', createdAt: new Date(10), amount: 50_000_000n, amountNeeded: 70_000_000n, cappedBy: ['per_action'], retryAt: 99, wallet: { address: SIGNER, balance: 1n } });
    expect(input.transaction).toEqual(describeTransaction(steps, request(), SIGNER));
    const noProposal = { action: 'skip', reason: 'no_balance' } as unknown as Extract<TopUpPlan, { action: 'skip' }>;
    expect(skipEventInput({ trigger, request: request(), plan: noProposal, state: freshState(), steps: null, signer: null, now: 10 })).toMatchObject({ amount: null, transaction: null, retryAt: null, wallet: { address: null, balance: null } });
  });
});

describe('watch state', () => {
  const now = 10 * 60_000;
  const tx = (kind: 'approve' | 'supply', hash: string) => ({ id: 1, nonce: 1, action_id: 'w_1:3:1', step_index: 0, kind, gas: '1', status: 'mined' as const, attempts: '[]', mined_hash: hash, block_number: '1', timeout_notified: 0, created_at: 0 });

  it('an action view names its hashes and health factors', () => {
    const view = actionView(actionRow({ hf_after: '1600000000000000000', finished_at: 2_000 }), [tx('approve', '0xa'), tx('supply', '0xb')], 8);
    expect(view).toEqual({
      id: 'w_1:3:1', status: 'confirmed', dryRun: false, mode: 'supply', asset: ASSET, amount: '0.5', reachesTarget: true, txHash: '0xb', approveTxHash: '0xa',
      healthFactorBefore: '1.15', healthFactorAfter: '1.6', error: null, createdAt: new Date(1_000).toISOString(), finishedAt: new Date(2_000).toISOString(),
    });
  });

  it('sums the window, the cooldown and the last failure', () => {
    const rows = [actionRow({ id: 'b', created_at: now - 60_000, status: 'in_flight' }), actionRow({ id: 'a', created_at: now - 120_000 })];
    const asked: string[] = [];
    const state = watchState({ rows, policy: request().policy, failure: { code: 'rpc_stale', message: 'lag', at: 5 }, executor: { chainId: 1, signer: SIGNER }, now, txsOf: (id) => (asked.push(id), []) });
    expect(state).toMatchObject({
      executor: { chainId: 1, signer: SIGNER }, spentLast24h: '1', remainingLast24h: '1', cooldownUntil: new Date(now - 60_000 + 600_000).toISOString(), inFlight: true,
      lastFailure: { code: 'rpc_stale', message: 'lag', at: new Date(5).toISOString() },
    });
    expect(state.recent.map((view) => view.id)).toEqual(['b', 'a']);
    expect(asked).toEqual(['b', 'a']);
  });

  it('without a policy: nothing spent, nothing left, no cooldown', () => {
    const state = watchState({ rows: [], policy: null, failure: undefined, executor: { chainId: 1, signer: null }, now, txsOf: () => [] });
    expect(state).toEqual({ executor: { chainId: 1, signer: null }, spentLast24h: '0', remainingLast24h: '0', cooldownUntil: null, inFlight: false, lastFailure: null, recent: [] });
  });
});
