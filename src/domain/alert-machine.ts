/**
 * The alert state machine of one watched position: a pure function from
 * (persisted state, one health-factor observation, policy, clock) to
 * (next state, notifications to send).
 *
 * Semantics follow Prometheus Alertmanager, adapted to health factors:
 * - `for`: a level only fires after enough consecutive observations confirm it, so a
 *   single noisy price tick does not page anyone;
 * - hysteresis: leaving a level needs the HF to clear its threshold by a margin, so a
 *   position hovering on a threshold does not flap between fired and resolved;
 * - repeat interval: a persisting alert is re-sent as a reminder, more often the
 *   closer the position is to liquidation;
 * - silences: effects are still produced (for history) but flagged as not to be sent.
 *
 * Purity matters here: the caller persists the returned state and delivers the effects
 * afterwards; if delivery fails and the step is retried from the same persisted state,
 * the same effects with the same event ids come out, so receivers can de-duplicate.
 */
import { BPS, WAD } from './position';

export type AlertLevel = 'ok' | 'warning' | 'margin_call' | 'critical' | 'liquidatable';

/** The levels at which an alert is firing. */
export type FiringLevel = Exclude<AlertLevel, 'ok'>;

export type AlertEventType = 'alert.triggered' | 'alert.escalated' | 'alert.reminder' | 'alert.resolved';

/**
 * Health-factor thresholds in WAD. Precondition (validated where policies are configured):
 * warning > marginCall > critical > 1 WAD.
 */
export type AlertThresholds = {
  warning: bigint;
  marginCall: bigint;
  critical: bigint;
};

/**
 * 24 h liquidation probabilities (fractions) at which a risk-enabled watch fires each level.
 * Precondition (validated where policies are configured): 0 < warning < marginCall < critical < 1.
 */
export type ProbabilityLevels = {
  warning: number;
  marginCall: number;
  critical: number;
};

/**
 * Which rule set the level an alert announces: the health factor now, the 24 h liquidation
 * probability, or the health factor at the next price already published (`nextHealthFactor`).
 */
export type AlertTrigger = 'health_factor' | 'liquidation_probability' | 'next_price';

/**
 * Leaving a probability level needs the probability under its threshold × (1 − this), a quarter
 * of it: about the next level down (the default levels are 4–5× apart). The estimate moves by
 * factors with every hour's price and volatility, so a margin like the health factor's 2 % made a
 * level left and reached again a new alert; in the backtest on 2017–2020 (README "Risk") 0.2 gave
 * the risk rule more false alarms than the health-factor lines alone, 0.75 fewer.
 */
export const PROBABILITY_HYSTERESIS = 0.75;

export type AlertPolicy = {
  /** Identifies the watch; it namespaces the event ids. */
  watchId: string;
  thresholds: AlertThresholds;
  /** With risk enabled: the watch's level is the worse of its health-factor and its probability level. Absent or null: health factor only. */
  probabilityLevels?: ProbabilityLevels | null;
  /**
   * Additional consecutive confirming observations needed before a level fires
   * (0 = fire on the first observation at that severity). Non-negative integers.
   */
  forObservations: Readonly<Record<FiringLevel, number>>;
  /** Margin above a level's upper threshold the HF must reach to leave it (200 = 2%). Non-negative integer. */
  hysteresisBps: number;
  /** Milliseconds between reminders while a level persists; null = never remind. */
  repeatIntervalMs: Readonly<Record<FiringLevel, number | null>>;
  /**
   * Per level: null keeps the reminder interval fixed; a number doubles the interval after
   * every reminder sent at that level, up to this many milliseconds.
   */
  repeatBackoffCapMs: Readonly<Record<FiringLevel, number | null>>;
  /** Epoch milliseconds until which notifications are muted; null = not silenced. */
  silencedUntil: number | null;
};

/** The parts of a policy that have sensible defaults; a watch supplies the rest. */
export type AlertPolicyDefaults = Omit<AlertPolicy, 'watchId' | 'thresholds' | 'silencedUntil'>;

export type AlertObservation = {
  /** WAD; null when the account has no debt (infinitely healthy). */
  healthFactor: bigint | null;
  blockNumber: bigint;
  /** 24 h liquidation probability; absent or null when unknown (then only the health factor counts). */
  liquidationProbability?: number | null;
  /**
   * The health factor at the next price, where the protocol publishes it ahead (WAD; null without
   * debt; absent when none is published). It raises the level up to critical, never to
   * liquidatable: until the price takes effect the position cannot be liquidated.
   */
  nextHealthFactor?: bigint | null;
};

/**
 * Persisted per watch. Holds only strings, numbers and null, so `JSON.stringify` /
 * `JSON.parse` round-trips it unchanged; that is why the block number is a decimal string.
 */
export type AlertState = {
  level: AlertLevel;
  /** Per level: consecutive observations (up to the latest) whose raw severity was at least that level. */
  consecutive: Record<FiringLevel, number>;
  /** When the last notification was actually sent (not silenced); null when none since the alert last resolved. */
  lastNotifiedAt: number | null;
  /** The level that notification announced; tells whether the receiver already knows the current level. */
  lastNotifiedLevel: FiringLevel | null;
  /** Highest block observed, as a decimal string; null before the first observation. */
  lastBlockNumber: string | null;
  /**
   * Reminders sent for the current level since it was last announced (drives the reminder
   * backoff). Optional: states persisted before it existed read as 0.
   */
  remindersSent?: number;
  /** The rule that set the current level when it was last raised; absent in states from before risk levels (health_factor). */
  trigger?: AlertTrigger;
  /** Number of effects ever produced; the last one used in an event id. */
  sequence: number;
};

export type AlertEffect = {
  kind: 'notify';
  eventId: string;
  type: AlertEventType;
  /** The level after this observation. */
  level: AlertLevel;
  /** The level before this observation (equal to `level` for most reminders). */
  previousLevel: AlertLevel;
  healthFactor: bigint | null;
  blockNumber: bigint;
  at: number;
  /** True while a silence is active: record it in history but do not send it. */
  silenced: boolean;
  /** The rule that set the level announced (for a resolution: the one that had set the level resolved). */
  trigger: AlertTrigger;
};

export type TransitionResult = {
  state: AlertState;
  effects: AlertEffect[];
};

export const DEFAULT_THRESHOLDS: Readonly<AlertThresholds> = Object.freeze({
  warning: (WAD * 150n) / 100n,
  marginCall: (WAD * 125n) / 100n,
  critical: (WAD * 110n) / 100n,
});

export const DEFAULT_ALERT_POLICY: Readonly<AlertPolicyDefaults> = Object.freeze({
  // Early levels wait for a second observation to filter price noise; near liquidation
  // every observation counts because waiting costs money.
  forObservations: Object.freeze({ warning: 1, margin_call: 1, critical: 0, liquidatable: 0 }),
  hysteresisBps: 200,
  // A warning is informational: one notice is enough.
  repeatIntervalMs: Object.freeze({ warning: null, margin_call: 3_600_000, critical: 900_000, liquidatable: 300_000 }),
  // A position left liquidatable is often dust nobody will rescue: 5 min, 10, 20, ... up to a
  // day, instead of a page every 5 minutes forever. Levels above it can still be rescued by
  // acting, so their reminders keep their fixed interval.
  repeatBackoffCapMs: Object.freeze({ warning: null, margin_call: null, critical: null, liquidatable: 86_400_000 }),
});

const SEVERITY: Readonly<Record<AlertLevel, number>> = {
  ok: 0,
  warning: 1,
  margin_call: 2,
  critical: 3,
  liquidatable: 4,
};

/** Firing levels, most severe first. */
const FIRING_LEVELS_MOST_SEVERE_FIRST: readonly FiringLevel[] = ['liquidatable', 'critical', 'margin_call', 'warning'];

/** Orders levels: ok is 0, liquidatable is 4. */
export function severity(level: AlertLevel): number {
  return SEVERITY[level];
}

export function initialAlertState(): AlertState {
  return {
    level: 'ok',
    consecutive: { warning: 0, margin_call: 0, critical: 0, liquidatable: 0 },
    lastNotifiedAt: null,
    lastNotifiedLevel: null,
    lastBlockNumber: null,
    remindersSent: 0,
    sequence: 0,
  };
}

/** The raw level of one health factor, before any confirmation or hysteresis. */
export function levelFromHealthFactor(healthFactor: bigint | null, thresholds: AlertThresholds): AlertLevel {
  if (healthFactor === null) return 'ok';
  return classify((boundary) => healthFactor < boundary, thresholds);
}

/**
 * Whether an account deserves faster polling: its HF is below warning, or within
 * `marginBps` above any threshold. Every other threshold (marginCall, critical, 1.0)
 * lies below warning, so both conditions reduce to "below warning × (1 + margin)".
 */
export function isNearThreshold(healthFactor: bigint | null, thresholds: AlertThresholds, marginBps: number): boolean {
  if (healthFactor === null) return false;
  return isBelowScaled(healthFactor, thresholds.warning, marginBps);
}

/**
 * One step of the machine. Observations from an older block than the last one seen are
 * ignored entirely: a lagging RPC node behind a load balancer must not flip levels back.
 *
 * An observation at the same block as the last one shows the same chain state again (a
 * shard polled twice in a block, e.g. when another watch of it was added): it may start a
 * streak or break one, but never extends one, so a block counts at most once toward `for`.
 * Reminders are driven by the clock, so they still come while the chain stands still.
 */
export function transition(state: AlertState, observation: AlertObservation, policy: AlertPolicy, now: number): TransitionResult {
  if (isStale(state, observation)) return { state, effects: [] };

  const healthFactorLevel = levelFromHealthFactor(observation.healthFactor, policy.thresholds);
  const nextHealthFactor = observation.nextHealthFactor;
  const nextPriceLevel = nextHealthFactor === undefined ? 'ok' : belowLiquidatable(levelFromHealthFactor(nextHealthFactor, policy.thresholds));
  const probability = probabilityOf(observation, policy);
  const rawLevel = worse(worse(healthFactorLevel, nextPriceLevel), levelFromProbability(probability, policy.probabilityLevels));
  const consecutive = countConsecutive(state.consecutive, rawLevel, isNewBlock(state, observation));
  const confirmed = confirmedLevel(consecutive, policy.forObservations);
  const level = nextLevel(state.level, confirmed, { now: observation.healthFactor, next: nextHealthFactor }, probability, policy, state.trigger);
  const silenced = isSilenced(policy, now);
  // A level raised now is the health factor's doing when it alone reaches it; else the next price's; otherwise the probability's.
  const raised = severity(level) > severity(state.level);
  const trigger: AlertTrigger = raised
    ? severity(healthFactorLevel) >= severity(level)
      ? 'health_factor'
      : severity(nextPriceLevel) >= severity(level)
        ? 'next_price'
        : 'liquidation_probability'
    : (state.trigger ?? 'health_factor');

  const advanced: AlertState = {
    ...state,
    level,
    consecutive,
    lastBlockNumber: observation.blockNumber.toString(),
    // Each level has its own reminder schedule, starting afresh when the level changes.
    remindersSent: level === state.level ? (state.remindersSent ?? 0) : 0,
    ...(policy.probabilityLevels || state.trigger || trigger !== 'health_factor' ? { trigger: level === 'ok' ? 'health_factor' : trigger } : {}),
  };

  const type = levelChangeEvent(state.level, level) ?? (isReminderDue(advanced, policy, now, silenced) ? 'alert.reminder' : null);
  if (type === null) return { state: advanced, effects: [] };

  const sequence = state.sequence + 1;
  const effect: AlertEffect = {
    kind: 'notify',
    eventId: eventId(policy.watchId, sequence),
    type,
    level,
    previousLevel: state.level,
    healthFactor: observation.healthFactor,
    blockNumber: observation.blockNumber,
    at: now,
    silenced,
    trigger,
  };
  return { state: { ...advanced, sequence, ...notificationRecord(advanced, type, silenced, now) }, effects: [effect] };
}

/** Whether the observation is from a block after the last one counted. */
function isNewBlock(state: AlertState, observation: AlertObservation): boolean {
  return state.lastBlockNumber === null || observation.blockNumber > BigInt(state.lastBlockNumber);
}

/** Stable across retries: derived only from the watch and the persisted sequence. */
function eventId(watchId: string, sequence: number): string {
  return `evt_${watchId}_${sequence.toString(36).padStart(6, '0')}`;
}

function isStale(state: AlertState, observation: AlertObservation): boolean {
  return state.lastBlockNumber !== null && observation.blockNumber < BigInt(state.lastBlockNumber);
}

function isSilenced(policy: AlertPolicy, now: number): boolean {
  return policy.silencedUntil !== null && now < policy.silencedUntil;
}

/** The probability that counts: only with risk levels set, never a made-up 0 for an unknown one. */
function probabilityOf(observation: AlertObservation, policy: AlertPolicy): number | null {
  if (!policy.probabilityLevels) return null;
  const probability = observation.liquidationProbability;
  return probability === undefined || probability === null || !Number.isFinite(probability) ? null : probability;
}

/** The raw level of one 24 h liquidation probability (ok when unknown or without levels); never liquidatable, which only the health factor says. */
export function levelFromProbability(probability: number | null, levels: ProbabilityLevels | null | undefined, scale = 1): AlertLevel {
  if (probability === null || !levels) return 'ok';
  if (probability >= levels.critical * scale) return 'critical';
  if (probability >= levels.marginCall * scale) return 'margin_call';
  if (probability >= levels.warning * scale) return 'warning';
  return 'ok';
}

function worse(a: AlertLevel, b: AlertLevel): AlertLevel {
  return severity(a) >= severity(b) ? a : b;
}

/** Only the health factor in effect makes a position liquidatable: a level from a price still to come stops at critical. */
function belowLiquidatable(level: AlertLevel): AlertLevel {
  return level === 'liquidatable' ? 'critical' : level;
}

/**
 * Maps a health factor to a level given a "below this boundary" test, so the plain and
 * the hysteresis-scaled classifications share one ladder and stay consistent.
 */
function classify(isBelow: (boundary: bigint) => boolean, thresholds: AlertThresholds): AlertLevel {
  if (isBelow(WAD)) return 'liquidatable';
  if (isBelow(thresholds.critical)) return 'critical';
  if (isBelow(thresholds.marginCall)) return 'margin_call';
  if (isBelow(thresholds.warning)) return 'warning';
  return 'ok';
}

/** `value < boundary × (1 + bps)`, cross-multiplied so no rounding creeps into the comparison. */
function isBelowScaled(value: bigint, boundary: bigint, bps: number): boolean {
  return value * BPS < boundary * (BPS + BigInt(bps));
}

/**
 * A less severe observation breaks the streaks of every level above it. An observation at
 * an already counted block (`newBlock` false) starts a streak at 1 but never lengthens one.
 */
function countConsecutive(previous: AlertState['consecutive'], rawLevel: AlertLevel, newBlock: boolean): AlertState['consecutive'] {
  const next = { ...previous };
  for (const level of FIRING_LEVELS_MOST_SEVERE_FIRST) {
    if (severity(rawLevel) < severity(level)) next[level] = 0;
    else next[level] = newBlock ? previous[level] + 1 : Math.max(previous[level], 1);
  }
  return next;
}

/** The most severe level whose streak covers its first observation plus `for` confirmations. */
function confirmedLevel(consecutive: AlertState['consecutive'], forObservations: AlertPolicy['forObservations']): AlertLevel {
  for (const level of FIRING_LEVELS_MOST_SEVERE_FIRST) {
    if (consecutive[level] >= forObservations[level] + 1) return level;
  }
  return 'ok';
}

/**
 * Worsening follows the confirmed level at once. Improving is judged on the HF with
 * every threshold raised by the hysteresis margin: that relaxed level drops below the
 * current one exactly when the HF clears the current level's upper threshold × (1 + h),
 * and it lands wherever the HF now sits, never above the current level. Where a next
 * price is published, the HF at it must clear the thresholds too.
 */
function nextLevel(
  current: AlertLevel,
  confirmed: AlertLevel,
  healthFactors: { now: bigint | null; next: bigint | null | undefined },
  probability: number | null,
  policy: AlertPolicy,
  trigger: AlertTrigger | undefined,
): AlertLevel {
  if (severity(confirmed) > severity(current)) return confirmed;
  if (current === 'ok') return 'ok';
  // With risk levels, leaving also needs the probability under each threshold × (1 − PROBABILITY_HYSTERESIS);
  // a level the probability raised holds while the probability is unknown (unknown is not safe).
  const heldByUnknown = policy.probabilityLevels && probability === null && trigger === 'liquidation_probability';
  const relaxedProbability = heldByUnknown ? current : levelFromProbability(probability, policy.probabilityLevels, 1 - PROBABILITY_HYSTERESIS);
  if (healthFactors.now === null && (healthFactors.next === null || healthFactors.next === undefined)) return relaxedProbability;
  const relaxedAt = (healthFactor: bigint | null | undefined): AlertLevel =>
    healthFactor === null || healthFactor === undefined ? 'ok' : classify((boundary) => isBelowScaled(healthFactor, boundary, policy.hysteresisBps), policy.thresholds);
  const relaxed = worse(worse(relaxedAt(healthFactors.now), belowLiquidatable(relaxedAt(healthFactors.next))), relaxedProbability);
  return severity(relaxed) < severity(current) ? relaxed : current;
}

/** A downgrade that stays non-ok is silent: the receiver acts on the worst news it got until it resolves. */
function levelChangeEvent(previous: AlertLevel, next: AlertLevel): AlertEventType | null {
  if (severity(next) > severity(previous)) return previous === 'ok' ? 'alert.triggered' : 'alert.escalated';
  if (next === 'ok' && previous !== 'ok') return 'alert.resolved';
  return null;
}

/**
 * Reminders are skipped (not deferred) while silenced, and lastNotifiedAt only tracks
 * notifications actually sent, so reminders resume on the schedule of the last real one.
 *
 * One addition to the repeat interval: if the receiver has never been told about the
 * current level (it fired or escalated inside a silence), a reminder is owed as soon as
 * the silence ends, even for levels without repeats; otherwise a position could reach
 * liquidatable during a maintenance silence and nobody would hear of it until the next
 * scheduled reminder, or never for a warning.
 */
function isReminderDue(state: AlertState, policy: AlertPolicy, now: number, silenced: boolean): boolean {
  if (state.level === 'ok' || silenced) return false;
  if (state.lastNotifiedLevel === null || state.lastNotifiedAt === null) return true;
  if (severity(state.level) > severity(state.lastNotifiedLevel)) return true;
  const interval = reminderIntervalMs(policy, state.level, state.remindersSent ?? 0);
  return interval !== null && now - state.lastNotifiedAt >= interval;
}

/**
 * The wait before the next reminder at `level` after `remindersSent` reminders: the level's
 * repeat interval, doubled per reminder already sent up to the level's cap when it backs off.
 */
export function reminderIntervalMs(policy: Pick<AlertPolicy, 'repeatIntervalMs' | 'repeatBackoffCapMs'>, level: FiringLevel, remindersSent: number): number | null {
  const base = policy.repeatIntervalMs[level];
  const cap = policy.repeatBackoffCapMs[level];
  if (base === null || cap === null) return base;
  // 2^40 × any interval is far past every cap: stop doubling before numbers lose meaning.
  return Math.min(cap, base * 2 ** Math.min(remindersSent, 40));
}

/** What the receiver has been told; a resolution closes the alert, so the next one starts afresh. */
function notificationRecord(
  state: AlertState,
  type: AlertEventType,
  silenced: boolean,
  now: number,
): Pick<AlertState, 'lastNotifiedAt' | 'lastNotifiedLevel' | 'remindersSent'> {
  if (type === 'alert.resolved' || state.level === 'ok') return { lastNotifiedAt: null, lastNotifiedLevel: null, remindersSent: 0 };
  if (silenced) return { lastNotifiedAt: state.lastNotifiedAt, lastNotifiedLevel: state.lastNotifiedLevel, remindersSent: state.remindersSent ?? 0 };
  // A reminder that announces the level for the first time (after a silence) restarts the schedule.
  const repeats = type === 'alert.reminder' && state.lastNotifiedLevel === state.level;
  return { lastNotifiedAt: now, lastNotifiedLevel: state.level, remindersSent: repeats ? (state.remindersSent ?? 0) + 1 : 0 };
}
