import { parseEther, type Address } from 'viem';
import { describe, expect, it } from 'vitest';
import { DEFAULT_ALERT_POLICY, DEFAULT_THRESHOLDS, initialAlertState, transition, type AlertPolicy } from '../../src/domain/alert-machine';
import { MAX_SUB_POSITIONS_SHOWN, positionView, withSubPositionLevels } from '../../src/domain/position-view';
import { subPositionSnapshot, type PositionSnapshot, type SubPosition } from '../../src/domain/position';
import { adoptWatchState, subPositionAlertStep, type SubPositionAlertStates, type SubPositionReading } from '../../src/domain/sub-position-alerts';

const MINUTE = 60_000;
const policy: AlertPolicy = { ...DEFAULT_ALERT_POLICY, watchId: 'w1', thresholds: DEFAULT_THRESHOLDS, silencedUntil: null };
const ACCOUNT_A = '0x00000000000000000000000000000000000000a0' as Address;
const ACCOUNT_B = '0x00000000000000000000000000000000000000b0' as Address;

type Read = Record<string, string | null>;

/** Reads, one per minute and block: each maps a position id to its health factor (null: no debt); a position missing from a read left the list. */
function replay(reads: Read[], options: { start?: SubPositionAlertStates; policy?: AlertPolicy; extra?: (read: Read) => Partial<Record<string, Partial<SubPositionReading>>> } = {}) {
  let states = options.start ?? {};
  const lines: string[] = [];
  const levels: string[] = [];
  reads.forEach((read, index) => {
    const readings: SubPositionReading[] = Object.entries(read).map(([id, hf]) => ({
      id,
      account: id === 'a' ? ACCOUNT_A : ACCOUNT_B,
      healthFactor: hf === null ? null : parseEther(hf),
      ...(options.extra?.(read)[id] ?? {}),
    }));
    const result = subPositionAlertStep(states, readings, BigInt(index + 1), options.policy ?? policy, index * MINUTE);
    states = result.states;
    levels.push(result.level);
    for (const { subPosition, effect } of result.effects) lines.push(`${subPosition.id} ${effect.type} ${effect.previousLevel}→${effect.level} ${effect.eventId}`);
  });
  return { states, lines, levels };
}

describe('alerts per position of an account that names several', () => {
  it('a second position falling while the first already alerts is announced on its own, and each resolves on its own; the watch level is the worst', () => {
    const { lines, levels } = replay([
      { a: '1.4', b: '2.0' },
      { a: '1.4', b: '2.0' },
      { a: '1.2', b: '1.4' },
      { a: '1.2', b: '1.4' },
      { a: '1.8', b: '1.4' },
      { a: '1.8', b: '1.8' },
    ]);
    expect(lines).toEqual([
      'a alert.triggered ok→warning evt_w1_pa_1_000001',
      'a alert.escalated warning→margin_call evt_w1_pa_1_000002',
      'b alert.triggered ok→warning evt_w1_pb_1_000001',
      'a alert.resolved margin_call→ok evt_w1_pa_1_000003',
      'b alert.resolved warning→ok evt_w1_pb_1_000002',
    ]);
    expect(levels).toEqual(['ok', 'warning', 'warning', 'margin_call', 'warning', 'ok']);
  });

  it('a position that leaves the list (debt repaid) resolves at once and its state is dropped; back later, it starts a new epoch whose ids differ from the old ones', () => {
    const { lines, states } = replay([{ a: '1.05', b: '2.0' }, { b: '2.0' }, { a: '1.05', b: '2.0' }]);
    expect(lines).toEqual([
      'a alert.triggered ok→critical evt_w1_pa_1_000001',
      'a alert.resolved critical→ok evt_w1_pa_1_000002',
      'a alert.triggered ok→critical evt_w1_pa_3_000001',
    ]);
    expect(states.a).toMatchObject({ account: ACCOUNT_A, epoch: '3' });
  });

  it('judges the 256 riskiest positions and any other still alerting; the rest keep no state', () => {
    const many = (first: string, rest: string): Read => Object.fromEntries(Array.from({ length: 300 }, (_, index) => [`p${index}`, index === 299 ? first : rest]));
    // p299 is the riskiest at first, then the healthiest of 300, still alerting (margin call relaxed to warning, silently).
    const { states, lines } = replay([many('1.2', '3.0'), many('1.2', '3.0'), many('1.52', '1.51')]);
    expect(lines).toEqual(['p299 alert.triggered ok→margin_call evt_w1_pp299_1_000001']);
    expect(Object.keys(states)).toHaveLength(257);
    expect(states.p299!.alert.level).toBe('warning');
    const calm = replay([many('3.0', '3.0')]);
    expect(Object.keys(calm.states)).toHaveLength(256);
  });

  it('a position that left the list while a probability level held it resolves too: without debt it cannot be liquidated', () => {
    const risky: AlertPolicy = { ...policy, probabilityLevels: { warning: 0.01, marginCall: 0.05, critical: 0.2 } };
    const { lines } = replay([{ a: '1.6' }, {}], { policy: risky, extra: () => ({ a: { liquidationProbability: 0.3 } }) });
    expect(lines).toEqual(['a alert.triggered ok→critical evt_w1_pa_1_000001', 'a alert.resolved critical→ok evt_w1_pa_1_000002']);
  });

  it('probability levels count only for a position read with its probability; the others follow their health factor', () => {
    const risky: AlertPolicy = { ...policy, probabilityLevels: { warning: 0.01, marginCall: 0.05, critical: 0.2 } };
    const { lines } = replay([{ a: '1.6', b: '1.6' }], { policy: risky, extra: () => ({ a: { liquidationProbability: 0.3 } }) });
    expect(lines).toEqual(['a alert.triggered ok→critical evt_w1_pa_1_000001']);
  });

  it('an older block than the last one judged changes nothing, whichever position it shows', () => {
    const first = subPositionAlertStep({}, [{ id: 'a', account: ACCOUNT_A, healthFactor: parseEther('1.05') }], 10n, policy, 0);
    const stale = subPositionAlertStep(first.states, [{ id: 'a', account: ACCOUNT_A, healthFactor: parseEther('3') }], 9n, policy, MINUTE);
    expect(stale.effects).toEqual([]);
    expect(stale.level).toBe('critical');
  });

  it('a watch whose alert was open before it ran per position hands that alert to the position it showed: no second announcement, and it resolves under that position', () => {
    const watch = transition(initialAlertState(), { healthFactor: parseEther('1.2'), blockNumber: 1n }, { ...policy, forObservations: { ...policy.forObservations, margin_call: 0 } }, 0).state;
    expect(watch.level).toBe('margin_call');
    const start = adoptWatchState(watch, { id: 'a', account: ACCOUNT_A }, 1n);
    const { lines } = replay([{ a: '1.2', b: '2.0' }, { a: '2.0', b: '2.0' }], { start });
    expect(lines).toEqual(['a alert.resolved margin_call→ok evt_w1_pa_1_000001']);
    expect(adoptWatchState(initialAlertState(), { id: 'a', account: ACCOUNT_A }, 1n)).toEqual({});
  });
});

describe('the view of an account with several positions', () => {
  const sub = (index: number, hf: string): SubPosition => ({ id: String(index), account: ACCOUNT_A, healthFactor: parseEther(hf), collateralBase: 2000n * 10n ** 6n, debtBase: 1000n * 10n ** 6n, liquidationThresholdBps: 8500n });
  const snapshot = (subPositions: SubPosition[]): PositionSnapshot => ({
    chainId: 1, protocol: 'fluid', market: ACCOUNT_B, account: ACCOUNT_A, blockNumber: 7n, blockTimestamp: 1_700_000_000n, baseDecimals: 6, baseUsdPrice: 10n ** 6n,
    collateralBase: 0n, debtBase: 0n, liquidationThresholdBps: 8500n, ltvBps: 8000n, healthFactor: null, protocolFields: { nftId: '9' }, subPositions,
  });

  it('lists at most the 256 riskiest positions, in their own order, with the count of all of them', () => {
    const many = Array.from({ length: 300 }, (_, index) => sub(index, index % 2 === 0 ? '1.3' : '2.0'));
    const view = positionView(snapshot(many), new Date(0));
    expect(view.subPositions).toHaveLength(MAX_SUB_POSITIONS_SHOWN);
    expect(view.subPositionCount).toBe(300);
    expect(view.subPositions!.slice(0, 3).map((position) => position.id)).toEqual(['0', '1', '2']);
    expect(view.subPositions!.filter((position) => position.healthFactor === '1.3000')).toHaveLength(150);
    expect(positionView(snapshot([sub(1, '1.3')]), new Date(0))).not.toHaveProperty('subPositionCount');
  });

  it('a position of its own shows its figures without the breakdown or the shown position\'s own fields, and each listed position carries its level', () => {
    const whole = snapshot([sub(1, '1.3'), sub(2, '2.0')]);
    const view = withSubPositionLevels(positionView(subPositionSnapshot(whole, sub(2, '2.0')), new Date(0)), new Map([['1', 'margin_call' as const]]));
    expect(view).toMatchObject({ healthFactor: '2.0000', collateral: { base: '2000', usd: '2000' }, debt: { base: '1000', usd: '1000' }, liquidationThreshold: '0.85', liquidationPrices: [] });
    expect(view).not.toHaveProperty('nftId');
    expect(view.subPositions!.map((position) => [position.id, position.level])).toEqual([['1', 'margin_call'], ['2', undefined]]);
  });
});
