import { parseEther, type Address } from 'viem';
import { describe, expect, it } from 'vitest';
import { DEFAULT_ALERT_POLICY, DEFAULT_THRESHOLDS, initialAlertState, transition, type AlertPolicy } from '../../src/domain/alert-machine';
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
      'a alert.triggered ok→warning evt_w1_pa_000001',
      'a alert.escalated warning→margin_call evt_w1_pa_000002',
      'b alert.triggered ok→warning evt_w1_pb_000001',
      'a alert.resolved margin_call→ok evt_w1_pa_000003',
      'b alert.resolved warning→ok evt_w1_pb_000002',
    ]);
    expect(levels).toEqual(['ok', 'warning', 'warning', 'margin_call', 'warning', 'ok']);
  });

  it('a position that leaves the list (debt repaid) resolves at once, naming its account; back later, its ids go on from its own sequence', () => {
    const { lines, states } = replay([{ a: '1.05', b: '2.0' }, { b: '2.0' }, { a: '1.05', b: '2.0' }]);
    expect(lines).toEqual([
      'a alert.triggered ok→critical evt_w1_pa_000001',
      'a alert.resolved critical→ok evt_w1_pa_000002',
      'a alert.triggered ok→critical evt_w1_pa_000003',
    ]);
    expect(states.a!.account).toBe(ACCOUNT_A);
  });

  it('a position that left the list while a probability level held it resolves too: without debt it cannot be liquidated', () => {
    const risky: AlertPolicy = { ...policy, probabilityLevels: { warning: 0.01, marginCall: 0.05, critical: 0.2 } };
    const { lines } = replay([{ a: '1.6' }, {}], { policy: risky, extra: () => ({ a: { liquidationProbability: 0.3 } }) });
    expect(lines).toEqual(['a alert.triggered ok→critical evt_w1_pa_000001', 'a alert.resolved critical→ok evt_w1_pa_000002']);
  });

  it('probability levels count only for a position read with its probability; the others follow their health factor', () => {
    const risky: AlertPolicy = { ...policy, probabilityLevels: { warning: 0.01, marginCall: 0.05, critical: 0.2 } };
    const { lines } = replay([{ a: '1.6', b: '1.6' }], { policy: risky, extra: () => ({ a: { liquidationProbability: 0.3 } }) });
    expect(lines).toEqual(['a alert.triggered ok→critical evt_w1_pa_000001']);
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
    const start = adoptWatchState(watch, { id: 'a', account: ACCOUNT_A });
    const { lines } = replay([{ a: '1.2', b: '2.0' }, { a: '2.0', b: '2.0' }], { start });
    expect(lines).toEqual(['a alert.resolved margin_call→ok evt_w1_pa_000001']);
    expect(adoptWatchState(initialAlertState(), { id: 'a', account: ACCOUNT_A })).toEqual({});
  });
});
