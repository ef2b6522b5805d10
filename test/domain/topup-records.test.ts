import { describe, expect, it } from 'vitest';
import { POOL, ASSET, ACCOUNT, request, actionRow } from '../helpers/topup-fixtures';
import type { Hex } from 'viem';
import { encodeFunctionData } from 'viem';
import { approveStep } from '../../src/topup/chain';
import { aavePoolAbi } from '../../src/protocols/aave-v3/abi';
import type { Fees } from '../../src/topup/guards';
import { feesOf, newAttempt, parseAttempts, stepOf, storedFees, storedStepsOf, strandedAmount, strandedNotes, txHashOf, withBroadcastOutcome, type TxRow } from '../../src/topup/records';
import { parseRequest } from '../../src/topup/request';

const H1 = `0x${'1'.repeat(64)}` as Hex;
const H2 = `0x${'2'.repeat(64)}` as Hex;

function txRow(overrides: Partial<TxRow> = {}): TxRow {
  return { id: 1, nonce: 7, action_id: 'w_1:3:1', step_index: 0, kind: 'supply', gas: '210000', status: 'pending', attempts: '[]', mined_hash: null, block_number: null, timeout_notified: 0, created_at: 0, ...overrides };
}

describe('stored fees', () => {
  it.each<[string, Fees]>([
    ['eip1559', { type: 'eip1559', maxFeePerGas: 30_000_000_000n, maxPriorityFeePerGas: 1_000_000_000n }],
    ['legacy', { type: 'legacy', gasPrice: 20_000_000_000n }],
  ])('%s fees round-trip through decimal strings', (_name, fees) => {
    const stored = storedFees(fees);
    expect(JSON.parse(JSON.stringify(stored))).toEqual(stored);
    expect(feesOf(stored)).toEqual(fees);
  });

  it('stores decimal strings, not numbers', () => {
    expect(storedFees({ type: 'legacy', gasPrice: 5n })).toEqual({ type: 'legacy', gasPrice: '5' });
  });
});

describe('stored steps', () => {
  const steps = [approveStep(ASSET, POOL, 5n), { kind: 'supply' as const, to: POOL, data: encodeFunctionData({ abi: aavePoolAbi, functionName: 'supply', args: [ASSET, 5n, ACCOUNT, 0] }) }];

  it('drops the decoded args and keeps gas as a string, null when unmeasured', () => {
    expect(storedStepsOf(steps)).toEqual([
      { kind: 'approve', to: ASSET, data: steps[0]!.data, gas: null },
      { kind: 'supply', to: POOL, data: steps[1]!.data, gas: null },
    ]);
    expect(storedStepsOf(steps, [60_000n, null]).map((step) => step.gas)).toEqual(['60000', null]);
  });

  it('stepOf gives the call of the transaction row\'s step', () => {
    const action = actionRow({ steps: JSON.stringify(storedStepsOf(steps)) });
    expect(stepOf(action, { step_index: 1 })).toEqual({ to: POOL, data: steps[1]!.data });
  });
});

describe('attempts', () => {
  const fees: Fees = { type: 'legacy', gasPrice: 7n };

  it('a new attempt is signed, not broadcast', () => {
    expect(newAttempt({ hash: H1, raw: '0x01' }, fees, 123)).toEqual({ hash: H1, raw: '0x01', fees: { type: 'legacy', gasPrice: '7' }, signedAt: 123, broadcastAt: null, broadcastError: null });
  });

  it('an accepted broadcast stamps the time and clears the error of that attempt only', () => {
    const attempts = [{ ...newAttempt({ hash: H1, raw: '0x01' }, fees, 1), broadcastError: 'nonce too low' }, newAttempt({ hash: H2, raw: '0x02' }, fees, 2)];
    const after = withBroadcastOutcome(attempts, H1, { accepted: true, message: null }, 50);
    expect(after[0]).toMatchObject({ broadcastAt: 50, broadcastError: null });
    expect(after[1]).toEqual(attempts[1]);
  });

  it('a refused broadcast keeps the earlier time and records why', () => {
    const attempts = [{ ...newAttempt({ hash: H1, raw: '0x01' }, fees, 1), broadcastAt: 10 }];
    expect(withBroadcastOutcome(attempts, H1, { accepted: false, message: 'insufficient funds' }, 50)[0]).toMatchObject({ broadcastAt: 10, broadcastError: 'insufficient funds' });
  });

  it('txHashOf prefers the mined hash, else the latest attempt', () => {
    const attempts = JSON.stringify([newAttempt({ hash: H1, raw: '0x01' }, fees, 1), newAttempt({ hash: H2, raw: '0x02' }, fees, 2)]);
    expect(txHashOf(undefined)).toBeNull();
    expect(txHashOf(txRow({ attempts }))).toBe(H2);
    expect(txHashOf(txRow({ attempts, mined_hash: H1 }))).toBe(H1);
    expect(txHashOf(txRow())).toBeNull();
    expect(parseAttempts(txRow({ attempts }))).toHaveLength(2);
  });
});

describe('parseRequest', () => {
  it('reads back the stored request', () => {
    expect(parseRequest(JSON.stringify(request()))).toEqual(request());
  });
});

describe('money a mined step leaves outside the position', () => {
  const join = { kind: 'join' as const, to: POOL, data: '0x01' as Hex, ifLaterFails: '1 WETH sits in the executor\'s Vat balance', strands: 10n ** 18n };
  const steps = storedStepsOf([approveStep(ASSET, POOL, 1n), join, { kind: 'supply', to: POOL, data: '0x02' }]);

  it('keeps the note of a preparing step through storage, and none for steps without one', () => {
    expect(JSON.parse(JSON.stringify(steps)).map((step: { ifLaterFails?: string }) => step.ifLaterFails ?? null)).toEqual([null, join.ifLaterFails, null]);
  });

  it('names it only when the failure comes after that step was mined', () => {
    expect(strandedNotes(steps, 0)).toEqual([]);
    expect(strandedNotes(steps, 1)).toEqual([]);
    expect(strandedNotes(steps, 2)).toEqual([join.ifLaterFails]);
  });

  it('counts the amount a mined join left in the held balance, through storage, only once that join was mined', () => {
    const stored = JSON.parse(JSON.stringify(steps));
    expect(strandedAmount(stored, 0)).toBe(0n);
    expect(strandedAmount(stored, 1)).toBe(0n);
    expect(strandedAmount(stored, 2)).toBe(10n ** 18n);
  });
});
