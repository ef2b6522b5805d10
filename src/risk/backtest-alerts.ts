/*
 * The backtest's alert policies, run through the product's own alert machine
 * (src/domain/alert-machine.ts `transition`) so that `for` confirmations, hysteresis, silent
 * downgrades and re-firing after a resolution are exactly what a watch would do, one
 * observation per hourly close. Pure.
 */
import {
  DEFAULT_ALERT_POLICY,
  initialAlertState,
  severity,
  transition,
  type AlertPolicy,
  type AlertState,
  type ProbabilityLevels,
} from '../domain/alert-machine';
import { WAD } from '../domain/position';

export type Levels = { warning: number; marginCall: number; critical: number };

/**
 * static: health-factor thresholds only (a watch without `risk`); risk: the product's rule with
 * `risk` enabled, the worse of the health-factor and the probability level; probabilityOnly: the
 * probability levels alone (health-factor thresholds pushed onto 1, kept only for comparison).
 * These three are always reported under these names (the `--json` contract); more may be added
 * by name (`BacktestOptions.extraPolicies`).
 */
export const BACKTEST_POLICIES = ['static', 'risk', 'probabilityOnly'] as const;
export type BacktestPolicy = (typeof BACKTEST_POLICIES)[number];

/**
 * What one backtest policy alerts on: health-factor thresholds (an alert when HF < level; null:
 * none, the probability alone) and 24 h probability levels (an alert when p ≥ level; null: none,
 * a watch without `risk`). With both, the level is the worse of the two, as a risk-enabled watch.
 */
export type PolicySpec = { healthFactor: Levels | null; probability: Levels | null };

/** The three reported policies at the given health-factor thresholds and probability levels. */
export function defaultPolicySpecs(staticLevels: Levels, probabilityLevels: ProbabilityLevels): Record<BacktestPolicy, PolicySpec> {
  return {
    static: { healthFactor: staticLevels, probability: null },
    risk: { healthFactor: staticLevels, probability: probabilityLevels },
    probabilityOnly: { healthFactor: null, probability: probabilityLevels },
  };
}

/**
 * A notification the position's owner received: a level raised (1 warning … 3 critical) or 0 for a
 * resolution; `reminder` when it repeated a level that persisted (the product's reminder interval,
 * at most one per hourly observation here).
 */
export type AlertRecord = { level: number; at: number; reminder?: true };

/** The alert-machine policy each backtest policy stands for. */
export function alertPolicyFor(policy: BacktestPolicy, staticLevels: Levels, probabilityLevels: ProbabilityLevels): AlertPolicy {
  return alertPolicyOf(policy, defaultPolicySpecs(staticLevels, probabilityLevels)[policy]);
}

/** The alert-machine policy of a policy spec, with the product's default `for`, hysteresis and reminders. */
export function alertPolicyOf(name: string, spec: PolicySpec): AlertPolicy {
  if (spec.healthFactor === null && spec.probability === null) throw new RangeError(`Backtest policy ${name} alerts on nothing: give health-factor thresholds, probability levels or both`);
  // Thresholds a hair above 1 never fire before the position is liquidated: the health factor is then out of the rule.
  const thresholds =
    spec.healthFactor === null
      ? { warning: WAD + 3n, marginCall: WAD + 2n, critical: WAD + 1n }
      : { warning: toWad(spec.healthFactor.warning), marginCall: toWad(spec.healthFactor.marginCall), critical: toWad(spec.healthFactor.critical) };
  return { ...DEFAULT_ALERT_POLICY, watchId: `backtest-${name}`, thresholds, probabilityLevels: spec.probability, silencedUntil: null };
}

/** One position's alert history under one policy, fed one observation per hourly close. */
export class AlertTrack {
  private state: AlertState = initialAlertState();
  readonly records: AlertRecord[] = [];
  private observations = 0n;

  constructor(private readonly policy: AlertPolicy) {}

  observe(healthFactor: number, probability: number | null, at: number): void {
    this.observations += 1n;
    const { state, effects } = transition(this.state, { healthFactor: toWad(healthFactor), blockNumber: this.observations, liquidationProbability: probability }, this.policy, at);
    this.state = state;
    for (const effect of effects) {
      if (effect.type === 'alert.triggered' || effect.type === 'alert.escalated') this.records.push({ level: severity(effect.level), at });
      else if (effect.type === 'alert.resolved') this.records.push({ level: 0, at });
      else if (effect.type === 'alert.reminder') this.records.push({ level: severity(effect.level), at, reminder: true });
    }
  }
}

function toWad(value: number): bigint {
  return BigInt(Math.round(value * 1e9)) * 10n ** 9n;
}
