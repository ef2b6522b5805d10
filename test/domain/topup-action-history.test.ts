import { describe, expect, it } from 'vitest';
import { ASSET, actionRow } from '../helpers/topup-fixtures';
import { isStaleObservation, lastSeenBlock, minReadBlock, nextTrigger, pastAction } from '../../src/topup/action-history';

describe('pastAction', () => {
  it('maps a row to what the planner counts', () => {
    expect(pastAction(actionRow({ dry_run: 1, amount: '42', created_at: 9 }))).toEqual({ asset: ASSET, amount: 42n, at: 9, dryRun: true, spends: true });
  });

  it.each([
    ['tx_reverted: the supply transaction 0x… was mined but reverted', false],
    ['simulation_reverted: supply would revert', false],
    ['signer_not_configured: TOPUP_PRIVATE_KEY was removed', false],
    ['tx_dropped: given up', true],
    ['nonce_used_elsewhere: …', true],
  ])('a failed action with "%s" spends: %s', (error, spends) => {
    expect(pastAction(actionRow({ status: 'failed', error })).spends).toBe(spends);
  });

  it('only failed actions can be ruled out', () => {
    expect(pastAction(actionRow({ status: 'in_flight', error: 'tx_reverted: x' })).spends).toBe(true);
  });
});

describe('observations against the recorded actions', () => {
  const mined = actionRow({ block_before: '100', block_after: '105' });
  const dryRun = actionRow({ block_before: '110', block_after: null });

  it.each<[string, bigint, boolean]>([
    ['before our mined transaction', 104n, true],
    ['at the block of our mined transaction', 105n, false],
    ['at the block a dry run decided on', 110n, true],
    ['after the dry run', 111n, false],
  ])('an observation %s is stale: %s', (_name, block, stale) => {
    expect(isStaleObservation([block === 104n || block === 105n ? mined : dryRun], block)).toBe(stale);
  });

  it('no actions: nothing is stale, nothing seen', () => {
    expect(isStaleObservation([], 1n)).toBe(false);
    expect(lastSeenBlock([])).toBeNull();
  });

  it('the last seen block is the newest mined or decided block', () => {
    expect(lastSeenBlock([mined, dryRun, actionRow({ block_before: null })])).toBe(110n);
    expect(lastSeenBlock([mined])).toBe(105n);
  });

  it('a fresh read starts at the newer of the observation and our own block', () => {
    expect(minReadBlock(null, 100n)).toBe(100n);
    expect(minReadBlock(90n, 100n)).toBe(100n);
    expect(minReadBlock(120n, 100n)).toBe(120n);
  });
});

describe('nextTrigger', () => {
  it('takes the slot after the actions of the same episode', () => {
    const actions = [actionRow({ episode: 3, slot: 1 }), actionRow({ episode: 3, slot: 2 }), actionRow({ episode: 2, slot: 1 })];
    expect(nextTrigger('w_1', 3, actions)).toEqual({ watchId: 'w_1', episode: 3, slot: 3 });
    expect(nextTrigger('w_1', 4, actions)).toEqual({ watchId: 'w_1', episode: 4, slot: 1 });
  });

  it('takes the slot after the newest one even when older ones of the episode were pruned', () => {
    const actions = [actionRow({ episode: 3, slot: 7 }), actionRow({ episode: 3, slot: 9 }), actionRow({ episode: 2, slot: 12 })];
    expect(nextTrigger('w_1', 3, actions)).toEqual({ watchId: 'w_1', episode: 3, slot: 10 });
  });
});
