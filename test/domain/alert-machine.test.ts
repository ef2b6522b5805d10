import fc from 'fast-check';
import { parseEther } from 'viem';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_ALERT_POLICY,
  DEFAULT_THRESHOLDS,
  initialAlertState,
  isNearThreshold,
  levelFromHealthFactor,
  severity,
  transition,
  type AlertEffect,
  type AlertLevel,
  type AlertPolicy,
  type AlertState,
} from '../../src/domain/alert-machine';
import { WAD } from '../../src/domain/position';

const MINUTE = 60_000;

/** Health factors are written as decimal strings ("1.2749") so boundaries are exact. */
const wad = (decimal: string): bigint => parseEther(decimal);

const basePolicy: AlertPolicy = {
  ...DEFAULT_ALERT_POLICY,
  watchId: 'w1',
  thresholds: DEFAULT_THRESHOLDS,
  silencedUntil: null,
};

/**
 * One observation in a scenario: HF (null = no debt), time in minutes, and optionally the
 * block (defaults to a fresh, increasing block) and the silence in force at that moment.
 */
type Step = { hf: string | null; min: number; block?: number; silencedUntilMin?: number };

type Scenario = {
  name: string;
  policy?: Partial<AlertPolicy>;
  steps: Array<Step | [hf: string | null, min: number]>;
  /** One line per effect: "<minute> <type> <previous>→<level>", suffixed " (silenced)" when muted. */
  expected: string[];
  /** Level after the last step, when the scenario is about a silent change. */
  finalLevel?: AlertLevel;
};

function toStep(step: Step | [string | null, number]): Step {
  return Array.isArray(step) ? { hf: step[0], min: step[1] } : step;
}

function replay(steps: Scenario['steps'], policyOverrides: Partial<AlertPolicy> = {}, start: AlertState = initialAlertState()) {
  let state = start;
  const effects: AlertEffect[] = [];
  steps.map(toStep).forEach((step, index) => {
    const policy: AlertPolicy = {
      ...basePolicy,
      ...policyOverrides,
      silencedUntil: step.silencedUntilMin === undefined ? (policyOverrides.silencedUntil ?? null) : step.silencedUntilMin * MINUTE,
    };
    const observation = {
      healthFactor: step.hf === null ? null : wad(step.hf),
      blockNumber: BigInt(step.block ?? 1000 + index),
    };
    const result = transition(state, observation, policy, step.min * MINUTE);
    state = result.state;
    effects.push(...result.effects);
  });
  return { state, effects };
}

function describeEffect(effect: AlertEffect): string {
  const type = effect.type.replace('alert.', '');
  return `${effect.at / MINUTE} ${type} ${effect.previousLevel}→${effect.level}${effect.silenced ? ' (silenced)' : ''}`;
}

function runScenarios(scenarios: Scenario[]) {
  it.each(scenarios)('$name', ({ steps, policy, expected, finalLevel }) => {
    const { state, effects } = replay(steps, policy);
    expect(effects.map(describeEffect)).toEqual(expected);
    if (finalLevel !== undefined) expect(state.level).toBe(finalLevel);
  });
}

describe('levelFromHealthFactor', () => {
  it.each([
    [null, 'ok'],
    ['10', 'ok'],
    ['1.5', 'ok'],
    ['1.499999999999999999', 'warning'],
    ['1.25', 'warning'],
    ['1.249999999999999999', 'margin_call'],
    ['1.1', 'margin_call'],
    ['1.099999999999999999', 'critical'],
    ['1', 'critical'],
    ['0.999999999999999999', 'liquidatable'],
    ['0', 'liquidatable'],
  ] as const)('%s → %s', (hf, level) => {
    expect(levelFromHealthFactor(hf === null ? null : wad(hf), DEFAULT_THRESHOLDS)).toBe(level);
  });

  it('uses the thresholds it is given', () => {
    const thresholds = { warning: wad('2'), marginCall: wad('1.8'), critical: wad('1.6') };
    expect(levelFromHealthFactor(wad('1.9'), thresholds)).toBe('warning');
    expect(levelFromHealthFactor(wad('1.7'), thresholds)).toBe('margin_call');
  });
});

describe('severity', () => {
  it('orders ok < warning < margin_call < critical < liquidatable', () => {
    const ordered: AlertLevel[] = ['ok', 'warning', 'margin_call', 'critical', 'liquidatable'];
    const sorted = [...ordered].reverse().sort((a, b) => severity(a) - severity(b));
    expect(sorted).toEqual(ordered);
  });
});

describe('isNearThreshold', () => {
  it.each([
    [null, 500, false],
    ['2', 500, false],
    ['1.575', 500, false],
    ['1.574999999999999999', 500, true],
    ['1.51', 0, false],
    ['1.49', 0, true],
    ['1.2', 500, true],
    ['0.9', 500, true],
  ] as const)('HF %s with margin %i bps → %s', (hf, marginBps, near) => {
    expect(isNearThreshold(hf === null ? null : wad(hf), DEFAULT_THRESHOLDS, marginBps)).toBe(near);
  });
});

describe('defaults', () => {
  it('match the documented policy', () => {
    expect(DEFAULT_THRESHOLDS).toEqual({ warning: wad('1.5'), marginCall: wad('1.25'), critical: wad('1.1') });
    expect(DEFAULT_ALERT_POLICY).toEqual({
      forObservations: { warning: 1, margin_call: 1, critical: 0, liquidatable: 0 },
      hysteresisBps: 200,
      repeatIntervalMs: { warning: null, margin_call: 3_600_000, critical: 900_000, liquidatable: 300_000 },
      repeatBackoffCapMs: { warning: null, margin_call: null, critical: null, liquidatable: 86_400_000 },
    });
  });

  it('initial state is ok and survives a JSON round trip', () => {
    const state = initialAlertState();
    expect(state.level).toBe('ok');
    expect(JSON.parse(JSON.stringify(state))).toEqual(state);
  });
});

describe('confirmation (`for`)', () => {
  runScenarios([
    { name: 'warning with for=1 fires on the second consecutive observation', steps: [['1.4', 0], ['1.4', 1]], expected: ['1 triggered ok→warning'] },
    { name: 'a single observation below warning does not fire', steps: [['1.4', 0], ['1.6', 1]], expected: [], finalLevel: 'ok' },
    { name: 'a flap in between restarts the count', steps: [['1.4', 0], ['1.6', 1], ['1.4', 2], ['1.6', 3], ['1.4', 4]], expected: [] },
    { name: 'critical (for=0) fires at once', steps: [['1.6', 0], ['1.05', 1]], expected: ['1 triggered ok→critical'] },
    { name: 'ok straight to liquidatable: one triggered event at liquidatable', steps: [['1.6', 0], ['0.9', 1]], expected: ['1 triggered ok→liquidatable'] },
    {
      name: 'a deeper observation also confirms the shallower levels',
      steps: [['1.2', 0], ['1.2', 1]],
      expected: ['1 triggered ok→margin_call'],
    },
    {
      name: 'a pending margin call is confirmed only by consecutive margin-call observations',
      steps: [['1.2', 0], ['1.4', 1], ['1.2', 2], ['1.2', 3]],
      expected: ['1 triggered ok→warning', '3 escalated warning→margin_call'],
    },
    {
      name: 'escalation warning → margin_call → critical',
      steps: [['1.4', 0], ['1.4', 1], ['1.2', 2], ['1.2', 3], ['1.05', 4]],
      expected: ['1 triggered ok→warning', '3 escalated warning→margin_call', '4 escalated margin_call→critical'],
    },
    {
      name: 'for=3 needs four consecutive observations',
      policy: { forObservations: { ...DEFAULT_ALERT_POLICY.forObservations, warning: 3 } },
      steps: [['1.4', 0], ['1.4', 1], ['1.4', 2], ['1.4', 3]],
      expected: ['3 triggered ok→warning'],
    },
    {
      name: 'no event while the level holds',
      steps: [['1.4', 0], ['1.4', 1], ['1.45', 2], ['1.3', 3]],
      expected: ['1 triggered ok→warning'],
    },
  ]);
});

describe('hysteresis (2%)', () => {
  runScenarios([
    {
      name: 'HF above warning but below warning × 1.02 keeps the warning',
      steps: [['1.4', 0], ['1.4', 1], ['1.52', 2], ['1.529999999999999999', 3]],
      expected: ['1 triggered ok→warning'],
      finalLevel: 'warning',
    },
    {
      name: 'HF at warning × 1.02 resolves',
      steps: [['1.4', 0], ['1.4', 1], ['1.53', 2]],
      expected: ['1 triggered ok→warning', '2 resolved warning→ok'],
    },
    {
      name: 'critical holds just above its threshold, downgrades silently, then resolves from margin_call',
      steps: [['1.05', 0], ['1.11', 1], ['1.13', 2], ['1.6', 3]],
      expected: ['0 triggered ok→critical', '3 resolved margin_call→ok'],
    },
    {
      name: 'silent downgrade lands where the HF sits with scaled thresholds',
      steps: [['1.05', 0], ['1.3', 1]],
      expected: ['0 triggered ok→critical'],
      finalLevel: 'warning',
    },
    {
      name: 'a downgrade is silent and a re-worsening escalates again',
      steps: [['1.05', 0], ['1.2', 1], ['1.05', 2]],
      expected: ['0 triggered ok→critical', '2 escalated margin_call→critical'],
    },
    {
      name: 'liquidatable holds until HF ≥ 1.02',
      steps: [['0.9', 0], ['1.01', 1], ['1.02', 2]],
      expected: ['0 triggered ok→liquidatable'],
      finalLevel: 'critical',
    },
    {
      name: 'hysteresis 0 resolves exactly at the threshold',
      policy: { hysteresisBps: 0 },
      steps: [['1.4', 0], ['1.4', 1], ['1.5', 2]],
      expected: ['1 triggered ok→warning', '2 resolved warning→ok'],
    },
    {
      name: 'an unconfirmed margin-call observation does not move a firing warning',
      steps: [['1.4', 0], ['1.4', 1], ['1.2', 2], ['1.4', 3]],
      expected: ['1 triggered ok→warning'],
      finalLevel: 'warning',
    },
  ]);

  it('null HF resolves at once from any level', () => {
    for (const hf of ['1.4', '1.2', '1.05', '0.5']) {
      const { effects, state } = replay([[hf, 0], [hf, 1], [null, 2]]);
      expect(effects.at(-1)?.type).toBe('alert.resolved');
      expect(effects.at(-1)?.healthFactor).toBeNull();
      expect(state.level).toBe('ok');
      expect(state.consecutive).toEqual(initialAlertState().consecutive);
    }
  });

  it('null HF resets a pending confirmation', () => {
    expect(replay([['1.4', 0], [null, 1], ['1.4', 2]]).effects).toEqual([]);
  });
});

describe('reminders', () => {
  runScenarios([
    {
      name: 'margin_call reminds every hour after the last notification',
      steps: [['1.2', 0], ['1.2', 1], ['1.2', 30], ['1.2', 60], ['1.2', 61], ['1.2', 100], ['1.2', 121]],
      expected: ['1 triggered ok→margin_call', '61 reminder margin_call→margin_call', '121 reminder margin_call→margin_call'],
    },
    {
      name: 'critical reminds every 15 minutes',
      steps: [['1.05', 0], ['1.05', 14], ['1.05', 15], ['1.05', 29], ['1.05', 31]],
      expected: ['0 triggered ok→critical', '15 reminder critical→critical', '31 reminder critical→critical'],
    },
    {
      name: 'liquidatable reminds after 5 minutes, then 10, then 20: the interval doubles after each reminder',
      steps: [['0.9', 0], ['0.9', 4], ['0.9', 5], ['0.9', 10], ['0.9', 14], ['0.9', 15], ['0.9', 34], ['0.9', 35]],
      expected: ['0 triggered ok→liquidatable', '5 reminder liquidatable→liquidatable', '15 reminder liquidatable→liquidatable', '35 reminder liquidatable→liquidatable'],
    },
    {
      name: 'a liquidatable position left alone for days is reminded at most once a day after the backoff reaches its cap',
      // Polled every 10 minutes: waits of 5, 10, 20, ... 1280 minutes, then 1440 (a day) from there on.
      steps: Array.from({ length: 600 }, (_, index): [string, number] => ['0.9', index * 10]),
      expected: [
        '0 triggered ok→liquidatable',
        ...[10, 20, 40, 80, 160, 320, 640, 1280, 2560, 4000, 5440].map((minute) => `${minute} reminder liquidatable→liquidatable`),
      ],
    },
    {
      name: 'the reminder backoff starts afresh when the position recovers and falls back',
      steps: [['0.9', 0], ['0.9', 5], ['0.9', 15], ['1.6', 16], ['0.9', 17], ['0.9', 22]],
      expected: [
        '0 triggered ok→liquidatable',
        '5 reminder liquidatable→liquidatable',
        '15 reminder liquidatable→liquidatable',
        '16 resolved liquidatable→ok',
        '17 triggered ok→liquidatable',
        '22 reminder liquidatable→liquidatable',
      ],
    },
    {
      name: 'critical keeps its fixed 15-minute reminders (no backoff)',
      steps: [['1.05', 0], ['1.05', 15], ['1.05', 30], ['1.05', 45]],
      expected: ['0 triggered ok→critical', '15 reminder critical→critical', '30 reminder critical→critical', '45 reminder critical→critical'],
    },
    {
      name: 'warning never reminds',
      steps: [['1.4', 0], ['1.4', 1], ['1.4', 600], ['1.4', 6000]],
      expected: ['1 triggered ok→warning'],
    },
    {
      name: 'an escalation restarts the reminder clock',
      steps: [['1.2', 0], ['1.2', 1], ['1.05', 50], ['1.05', 61], ['1.05', 65]],
      expected: ['1 triggered ok→margin_call', '50 escalated margin_call→critical', '65 reminder critical→critical'],
    },
    {
      name: 'after a silent downgrade reminders follow the new level',
      steps: [['1.05', 0], ['1.2', 10], ['1.2', 15], ['1.2', 59], ['1.2', 60]],
      expected: ['0 triggered ok→critical', '60 reminder margin_call→margin_call'],
    },
    {
      name: 'a silent downgrade to warning stops reminders',
      steps: [['1.05', 0], ['1.4', 10], ['1.4', 500]],
      expected: ['0 triggered ok→critical'],
    },
  ]);
});

describe('silences', () => {
  runScenarios([
    {
      name: 'effects during a silence are produced but flagged',
      steps: [
        { hf: '1.05', min: 0, silencedUntilMin: 60 },
        { hf: '0.9', min: 1, silencedUntilMin: 60 },
        { hf: '1.6', min: 2, silencedUntilMin: 60 },
      ],
      expected: ['0 triggered ok→critical (silenced)', '1 escalated critical→liquidatable (silenced)', '2 resolved liquidatable→ok (silenced)'],
    },
    {
      name: 'the silence ends at silencedUntil',
      steps: [{ hf: '1.05', min: 30, silencedUntilMin: 30 }],
      expected: ['30 triggered ok→critical'],
    },
    {
      name: 'no reminders while silenced; they resume on the schedule of the last real notification',
      steps: [
        ['1.05', 0],
        { hf: '1.05', min: 5, silencedUntilMin: 12 },
        { hf: '1.05', min: 10, silencedUntilMin: 12 },
        { hf: '1.05', min: 13, silencedUntilMin: 12 },
        { hf: '1.05', min: 15, silencedUntilMin: 12 },
        ['1.05', 29],
        ['1.05', 30],
      ],
      expected: ['0 triggered ok→critical', '15 reminder critical→critical', '30 reminder critical→critical'],
    },
    {
      name: 'a reminder overdue at the end of a long silence comes at once',
      steps: [
        ['1.05', 0],
        { hf: '1.05', min: 15, silencedUntilMin: 40 },
        { hf: '1.05', min: 30, silencedUntilMin: 40 },
        ['1.05', 41],
        ['1.05', 55],
        ['1.05', 56],
      ],
      expected: ['0 triggered ok→critical', '41 reminder critical→critical', '56 reminder critical→critical'],
    },
    {
      name: 'a level first reached inside a silence is announced when the silence ends',
      steps: [
        ['1.4', 0],
        ['1.4', 1],
        { hf: '1.05', min: 2, silencedUntilMin: 10 },
        { hf: '1.05', min: 5, silencedUntilMin: 10 },
        ['1.05', 10],
        ['1.05', 20],
        ['1.05', 25],
      ],
      expected: ['1 triggered ok→warning', '2 escalated warning→critical (silenced)', '10 reminder critical→critical', '25 reminder critical→critical'],
    },
    {
      name: 'a warning triggered inside a silence is announced once after it',
      steps: [
        { hf: '1.4', min: 0, silencedUntilMin: 10 },
        { hf: '1.4', min: 1, silencedUntilMin: 10 },
        ['1.4', 11],
        ['1.4', 500],
      ],
      expected: ['1 triggered ok→warning (silenced)', '11 reminder warning→warning'],
    },
  ]);
});

describe('stale and repeated blocks', () => {
  runScenarios([
    {
      name: 'an observation from an older block is ignored',
      steps: [
        { hf: '1.05', min: 0, block: 10 },
        { hf: '1.6', min: 1, block: 9 },
        { hf: '1.6', min: 2, block: 11 },
      ],
      expected: ['0 triggered ok→critical', '2 resolved critical→ok'],
    },
    {
      name: 'a stale observation does not remind either',
      steps: [
        { hf: '1.05', min: 0, block: 10 },
        { hf: '1.05', min: 20, block: 9 },
        { hf: '1.05', min: 21, block: 10 },
      ],
      expected: ['0 triggered ok→critical', '21 reminder critical→critical'],
    },
    {
      name: 'a stale observation does not count towards confirmation',
      steps: [
        { hf: '1.4', min: 0, block: 10 },
        { hf: '1.4', min: 1, block: 5 },
        { hf: '1.6', min: 2, block: 11 },
      ],
      expected: [],
    },
    {
      name: 'a second poll at the same block does not confirm a pending warning',
      steps: [
        { hf: '1.4', min: 0, block: 10 },
        { hf: '1.4', min: 1, block: 10 },
        { hf: '1.4', min: 2, block: 10 },
      ],
      expected: [],
      finalLevel: 'ok',
    },
    {
      name: 'the next block confirms the warning that a same-block poll did not',
      steps: [
        { hf: '1.4', min: 0, block: 10 },
        { hf: '1.4', min: 1, block: 10 },
        { hf: '1.4', min: 2, block: 11 },
      ],
      expected: ['2 triggered ok→warning'],
    },
    {
      name: 'a same-block observation at a level needing no confirmation fires at once',
      steps: [
        { hf: '1.6', min: 0, block: 10 },
        { hf: '1.05', min: 1, block: 10 },
      ],
      expected: ['1 triggered ok→critical'],
    },
    {
      name: 'a same-block observation can break a streak: the next block starts it again',
      steps: [
        { hf: '1.4', min: 0, block: 10 },
        { hf: '1.6', min: 1, block: 10 },
        { hf: '1.4', min: 2, block: 11 },
      ],
      expected: [],
    },
    {
      name: 'reminders still come while the chain stands still (same block)',
      steps: [
        { hf: '1.05', min: 0, block: 10 },
        { hf: '1.05', min: 15, block: 10 },
      ],
      expected: ['0 triggered ok→critical', '15 reminder critical→critical'],
    },
  ]);

  it('returns the very same state for a stale observation', () => {
    const { state } = replay([{ hf: '1.4', min: 0, block: 10 }]);
    const result = transition(state, { healthFactor: wad('0.5'), blockNumber: 9n }, basePolicy, 5 * MINUTE);
    expect(result).toEqual({ state, effects: [] });
  });

  it('records the highest block as a decimal string', () => {
    expect(replay([{ hf: '1.4', min: 0, block: 123456789 }]).state.lastBlockNumber).toBe('123456789');
  });
});

describe('event ids', () => {
  const steps: Scenario['steps'] = [['1.4', 0], ['1.4', 1], ['1.2', 2], ['1.2', 3], ['1.6', 4], ['0.9', 5], ['0.9', 10]];

  it('are namespaced by watch and numbered in base36', () => {
    const { effects, state } = replay(steps);
    expect(effects.map((effect) => effect.eventId)).toEqual([
      'evt_w1_000001',
      'evt_w1_000002',
      'evt_w1_000003',
      'evt_w1_000004',
      'evt_w1_000005',
    ]);
    expect(state.sequence).toBe(5);
  });

  it.each([
    [9, 'evt_w1_00000a'],
    [35, 'evt_w1_000010'],
  ])('after sequence %i the next id is %s', (sequence, expectedId) => {
    const { effects } = replay([['0.9', 0]], {}, { ...initialAlertState(), sequence });
    expect(effects[0]?.eventId).toBe(expectedId);
  });

  it('a retry from the same persisted state yields the same effects and ids', () => {
    const { state } = replay([['1.4', 0]]);
    const persisted = JSON.stringify(state);
    const retry = () => transition(JSON.parse(persisted) as AlertState, { healthFactor: wad('1.4'), blockNumber: 2000n }, basePolicy, MINUTE);
    const first = retry();
    expect(first.effects).toHaveLength(1);
    expect(retry()).toEqual(first);
  });

  it('replays deterministically', () => {
    expect(replay(steps)).toEqual(replay(steps));
  });
});

describe('properties', () => {
  const healthFactorArb = fc.oneof(
    fc.constant(null),
    fc.bigInt({ min: 0n, max: 2n * WAD }),
    // Values at and just around every boundary, where off-by-one and hysteresis bugs live.
    fc
      .tuple(
        fc.constantFrom(WAD, wad('1.02'), wad('1.1'), wad('1.122'), wad('1.25'), wad('1.275'), wad('1.5'), wad('1.53')),
        fc.bigInt({ min: -2n, max: 2n }),
      )
      .map(([boundary, delta]) => boundary + delta),
  );

  const stepArb = fc.record({
    healthFactor: healthFactorArb,
    blockDelta: fc.integer({ min: -3, max: 5 }),
    elapsedMs: fc.integer({ min: 0, max: 2 * 3_600_000 }),
    silencedUntil: fc.option(fc.integer({ min: 0, max: 48 * 3_600_000 }), { nil: null }),
  });

  const policyArb = fc.record({
    forObservations: fc.record({
      warning: fc.nat(3),
      margin_call: fc.nat(3),
      critical: fc.nat(3),
      liquidatable: fc.nat(3),
    }),
    hysteresisBps: fc.nat(1000),
    repeatIntervalMs: fc.record({
      warning: fc.option(fc.integer({ min: 1, max: 3_600_000 }), { nil: null }),
      margin_call: fc.option(fc.integer({ min: 1, max: 3_600_000 }), { nil: null }),
      critical: fc.option(fc.integer({ min: 1, max: 3_600_000 }), { nil: null }),
      liquidatable: fc.option(fc.integer({ min: 1, max: 3_600_000 }), { nil: null }),
    }),
  });

  function sequenceOf(eventId: string): number {
    return Number.parseInt(eventId.slice('evt_w1_'.length), 36);
  }

  it('every sequence of observations produces well-formed events', () => {
    fc.assert(
      fc.property(policyArb, fc.array(stepArb, { maxLength: 60 }), (policyParts, steps) => {
        let state = initialAlertState();
        let block = 100n;
        let now = 1_700_000_000_000;
        const seenIds = new Set<string>();
        let lastSequence = 0;

        for (const step of steps) {
          block += BigInt(step.blockDelta);
          now += step.elapsedMs;
          const policy: AlertPolicy = { ...basePolicy, ...policyParts, silencedUntil: step.silencedUntil };
          const before = state;
          const { state: after, effects } = transition(before, { healthFactor: step.healthFactor, blockNumber: block }, policy, now);

          // At most one notification per observation, and the counter accounts for it.
          expect(effects.length).toBeLessThanOrEqual(1);
          expect(after.sequence).toBe(before.sequence + effects.length);
          // The state stays JSON-friendly.
          expect(JSON.parse(JSON.stringify(after))).toEqual(after);

          const stale = before.lastBlockNumber !== null && block < BigInt(before.lastBlockNumber);
          if (stale) expect(after).toBe(before);

          for (const effect of effects) {
            expect(seenIds.has(effect.eventId)).toBe(false);
            seenIds.add(effect.eventId);
            expect(sequenceOf(effect.eventId)).toBeGreaterThan(lastSequence);
            lastSequence = sequenceOf(effect.eventId);

            expect(effect.previousLevel).toBe(before.level);
            expect(effect.level).toBe(after.level);
            expect(effect.silenced).toBe(step.silencedUntil !== null && now < step.silencedUntil);
            switch (effect.type) {
              case 'alert.triggered':
                expect(before.level).toBe('ok');
                expect(effect.level).not.toBe('ok');
                break;
              case 'alert.escalated':
                expect(before.level).not.toBe('ok');
                expect(severity(effect.level)).toBeGreaterThan(severity(before.level));
                break;
              case 'alert.resolved':
                // Only an alert that was triggered can resolve.
                expect(before.level).not.toBe('ok');
                expect(effect.level).toBe('ok');
                break;
              case 'alert.reminder':
                expect(effect.level).not.toBe('ok');
                expect(effect.silenced).toBe(false);
                break;
            }
          }

          // Safety: a level that needs no confirmation is never under-reported.
          if (!stale) {
            const raw = levelFromHealthFactor(step.healthFactor, policy.thresholds);
            if (raw !== 'ok' && policy.forObservations[raw] === 0) {
              expect(severity(after.level)).toBeGreaterThanOrEqual(severity(raw));
            }
          }
          // Level changes always come with the matching event, except silent downgrades.
          if (severity(after.level) > severity(before.level)) expect(effects[0]?.type).toMatch(/triggered|escalated/);
          if (after.level === 'ok' && before.level !== 'ok') expect(effects[0]?.type).toBe('alert.resolved');
          state = after;
        }
      }),
      { numRuns: 500 },
    );
  });
});
