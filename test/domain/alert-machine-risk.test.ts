import { parseEther } from 'viem';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_ALERT_POLICY,
  DEFAULT_THRESHOLDS,
  initialAlertState,
  levelFromProbability,
  PROBABILITY_HYSTERESIS,
  transition,
  type AlertEffect,
  type AlertPolicy,
  type AlertState,
  type ProbabilityLevels,
} from '../../src/domain/alert-machine';

const MINUTE = 60_000;
const LEVELS: ProbabilityLevels = { warning: 0.01, marginCall: 0.05, critical: 0.2 };
const policy = (probabilityLevels: ProbabilityLevels | null): AlertPolicy => ({ ...DEFAULT_ALERT_POLICY, watchId: 'w1', thresholds: DEFAULT_THRESHOLDS, silencedUntil: null, probabilityLevels });

/** Observations as [health factor, 24 h probability (null: unknown)], one per minute and block. */
function replay(steps: Array<[string, number | null]>, levels: ProbabilityLevels | null, start: AlertState = initialAlertState()) {
  let state = start;
  const effects: AlertEffect[] = [];
  steps.forEach(([hf, probability], index) => {
    const result = transition(state, { healthFactor: parseEther(hf), blockNumber: BigInt(index + 1), liquidationProbability: probability }, policy(levels), index * MINUTE);
    state = result.state;
    effects.push(...result.effects);
  });
  return { state, lines: effects.map((effect) => `${effect.type} ${effect.previousLevel}→${effect.level} ${effect.trigger}`) };
}

describe('risk levels in the alert machine', () => {
  it('maps a probability to the level of the highest line it reaches, never liquidatable; unknown or without levels is ok', () => {
    expect(levelFromProbability(0.009, LEVELS)).toBe('ok');
    expect(levelFromProbability(0.01, LEVELS)).toBe('warning');
    expect(levelFromProbability(0.05, LEVELS)).toBe('margin_call');
    expect(levelFromProbability(0.99, LEVELS)).toBe('critical');
    expect(levelFromProbability(null, LEVELS)).toBe('ok');
    expect(levelFromProbability(0.5, null)).toBe('ok');
  });

  it('without risk levels a probability changes nothing: the same effects and state as a health-factor-only observation', () => {
    const steps: Array<[string, number | null]> = [['1.6', 0.3], ['1.6', 0.3], ['1.2', 0.9], ['1.2', 0.9], ['1.6', 0.3]];
    const withProbability = replay(steps, null);
    let state = initialAlertState();
    const plain: AlertEffect[] = [];
    steps.forEach(([hf], index) => {
      const result = transition(state, { healthFactor: parseEther(hf), blockNumber: BigInt(index + 1) }, policy(null), index * MINUTE);
      state = result.state;
      plain.push(...result.effects);
    });
    expect(withProbability.state).toEqual(state);
    expect(withProbability.lines).toEqual(plain.map((effect) => `${effect.type} ${effect.previousLevel}→${effect.level} health_factor`));
    expect(state).not.toHaveProperty('trigger');
  });

  it('the level is the worse of the two rules, with the same `for`: a probability over marginCall twice fires margin_call, triggered by the probability', () => {
    const { lines } = replay([['1.6', 0.06], ['1.6', 0.07]], LEVELS);
    expect(lines).toEqual(['alert.triggered ok→margin_call liquidation_probability']);
  });

  it('a health factor that alone reaches the level names health_factor as the trigger, even when the probability agrees', () => {
    const { lines } = replay([['1.05', 0.3]], LEVELS);
    expect(lines).toEqual(['alert.triggered ok→critical health_factor']);
  });

  it('leaving a probability level needs the probability under a quarter of its line; the resolution names the rule that raised the level', () => {
    expect(PROBABILITY_HYSTERESIS).toBe(0.75);
    const { lines, state } = replay(
      [
        ['1.6', 0.06],
        ['1.6', 0.06],
        ['1.6', 0.045], // under 5 %: stays margin_call
        ['1.6', 0.013], // not under 1.25 %: stays margin_call
        ['1.6', 0.0124], // under 1.25 %: down to warning, silently
        ['1.6', 0.0026], // not under 0.25 %: stays warning
        ['1.6', 0.0024], // under 0.25 %: resolved
      ],
      LEVELS,
    );
    expect(lines).toEqual(['alert.triggered ok→margin_call liquidation_probability', 'alert.resolved warning→ok liquidation_probability']);
    expect(state.level).toBe('ok');
  });

  it('an unknown probability raises nothing and resolves nothing: a level the probability raised holds until it is known again', () => {
    const raised = replay([['1.6', 0.06], ['1.6', 0.06]], LEVELS);
    const unknown = transition(raised.state, { healthFactor: parseEther('1.6'), blockNumber: 3n, liquidationProbability: null }, policy(LEVELS), 3 * MINUTE);
    expect(unknown.state.level).toBe('margin_call');
    expect(unknown.effects).toEqual([]);
    const known = transition(unknown.state, { healthFactor: parseEther('1.6'), blockNumber: 4n, liquidationProbability: 0.001 }, policy(LEVELS), 4 * MINUTE);
    expect(known.effects.map((effect) => effect.type)).toEqual(['alert.resolved']);
    // A level the health factor raised still follows the health factor alone.
    const hfOnly = replay([['1.2', null], ['1.2', null], ['1.6', null]], LEVELS);
    expect(hfOnly.lines).toEqual(['alert.triggered ok→margin_call health_factor', 'alert.resolved margin_call→ok health_factor']);
  });
});
