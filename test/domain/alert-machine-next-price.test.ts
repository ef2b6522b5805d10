import { parseEther } from 'viem';
import { describe, expect, it } from 'vitest';
import { DEFAULT_ALERT_POLICY, DEFAULT_THRESHOLDS, initialAlertState, transition, type AlertEffect, type AlertPolicy, type AlertState } from '../../src/domain/alert-machine';

const MINUTE = 60_000;
const policy: AlertPolicy = { ...DEFAULT_ALERT_POLICY, watchId: 'w1', thresholds: DEFAULT_THRESHOLDS, silencedUntil: null };

/** Observations as [health factor now, health factor at the next price (undefined: none published)], one per minute and block. */
function replay(steps: Array<[string, string | undefined]>) {
  let state: AlertState = initialAlertState();
  const effects: AlertEffect[] = [];
  steps.forEach(([now, next], index) => {
    const observation = { healthFactor: parseEther(now), blockNumber: BigInt(index + 1), ...(next === undefined ? {} : { nextHealthFactor: parseEther(next) }) };
    const result = transition(state, observation, policy, index * MINUTE);
    state = result.state;
    effects.push(...result.effects);
  });
  return { state, lines: effects.map((effect) => `${effect.type} ${effect.previousLevel}→${effect.level} ${effect.trigger}`) };
}

describe('the next price in the alert machine', () => {
  it('a health factor at the next price under marginCall fires margin_call (with the same `for`) while the health factor now is fine, triggered by next_price', () => {
    const { lines, state } = replay([['1.6', '1.2'], ['1.6', '1.2']]);
    expect(lines).toEqual(['alert.triggered ok→margin_call next_price']);
    expect(state.trigger).toBe('next_price');
  });

  it('when the price takes effect the level holds with no new event; the health factor now names health_factor when it alone reaches a level', () => {
    const { lines } = replay([['1.6', '1.2'], ['1.6', '1.2'], ['1.2', '1.2'], ['1.2', undefined], ['1.05', undefined]]);
    expect(lines).toEqual(['alert.triggered ok→margin_call next_price', 'alert.escalated margin_call→critical health_factor']);
  });

  it('a next price below 1 raises the level to critical, never liquidatable: the position cannot be liquidated before the price takes effect', () => {
    const { lines, state } = replay([['1.3', '0.9']]);
    expect(lines).toEqual(['alert.triggered ok→critical next_price']);
    expect(state.level).toBe('critical');
  });

  it('leaving a level needs both health factors above its line with the hysteresis; a next price back up resolves it', () => {
    const { lines } = replay([
      ['1.6', '1.2'],
      ['1.6', '1.2'],
      ['1.6', '1.26'], // above 1.25 but under 1.275: stays margin_call
      ['1.6', '1.6'], // both clear every line with the margin: resolved
    ]);
    expect(lines).toEqual(['alert.triggered ok→margin_call next_price', 'alert.resolved margin_call→ok next_price']);
  });

  it('without a next price the events and state are exactly the health-factor-only ones', () => {
    const { lines, state } = replay([['1.6', undefined], ['1.2', undefined], ['1.2', undefined], ['1.6', undefined]]);
    expect(lines).toEqual(['alert.triggered ok→margin_call health_factor', 'alert.resolved margin_call→ok health_factor']);
    expect(state).not.toHaveProperty('trigger');
  });
});
