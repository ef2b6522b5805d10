import type { ConditionSeverity, ProtocolCondition, ProtocolFields } from './position';

/*
 * Protocol conditions: dangers a protocol reports about a position beside its health factor (a
 * Liquity branch under its critical ratio, shut down, a trove first in the redemption line). The
 * adapter says, at each read, which conditions hold; this machine keeps per watch which are
 * active and emits condition.raised when one starts and condition.cleared when it ends, once
 * per episode. Pure: the shard stores the state and records the effects with its alert events.
 */

/** One condition while its episode lasts: as last reported, and where the episode began. */
export type ActiveCondition = {
  code: string;
  severity: ConditionSeverity;
  title: string;
  message: string;
  facts: ProtocolFields;
  /** The block of the first observation it held on (decimal string): the episode's start. */
  sinceBlock: string;
  /** That block's time (ms). */
  since: number;
};

export type ConditionState = {
  /** Active conditions in the order they were raised. */
  active: ActiveCondition[];
  /** Highest block observed (decimal string); null before the first observation. */
  lastBlockNumber: string | null;
};

export type ConditionObservation = {
  conditions: readonly ProtocolCondition[];
  blockNumber: bigint;
  /** The block's time (ms). */
  observedAt: number;
};

export type ConditionEffect = {
  type: 'condition.raised' | 'condition.cleared';
  eventId: string;
  /** For condition.cleared: as it was last reported while active. */
  condition: ActiveCondition;
  /** The observation that raised or cleared it. */
  blockNumber: bigint;
  observedAt: number;
  at: number;
};

export function initialConditionState(): ConditionState {
  return { active: [], lastBlockNumber: null };
}

/** Stable across retried ticks: the watch, the condition and the block its episode began on. */
export function conditionEventId(watchId: string, code: string, sinceBlock: string, kind: 'raised' | 'cleared'): string {
  return `evt_${watchId}_cnd_${code}_${BigInt(sinceBlock).toString(36)}_${kind}`;
}

/**
 * One observation of a watch's conditions. Each block is judged once: a read from a block already
 * judged, or an older one, is ignored (a lagging RPC node must not end or reopen an episode, and
 * two reads of one block could only flap; an episode ending and starting again within one block
 * would also reuse its ids). Conditions that ended are cleared first, then new ones are raised in
 * the adapter's order.
 */
export function conditionStep(state: ConditionState, observation: ConditionObservation, input: { watchId: string; now: number }): { state: ConditionState; effects: ConditionEffect[] } {
  if (state.lastBlockNumber !== null && observation.blockNumber <= BigInt(state.lastBlockNumber)) return { state, effects: [] };
  const reported = new Map(observation.conditions.map((condition) => [condition.code, condition]));
  const blockNumber = observation.blockNumber.toString();
  const effect = (type: ConditionEffect['type'], condition: ActiveCondition): ConditionEffect => ({
    type,
    eventId: conditionEventId(input.watchId, condition.code, condition.sinceBlock, type === 'condition.raised' ? 'raised' : 'cleared'),
    condition,
    blockNumber: observation.blockNumber,
    observedAt: observation.observedAt,
    at: input.now,
  });

  const effects: ConditionEffect[] = [];
  const active: ActiveCondition[] = [];
  for (const open of state.active) {
    const now = reported.get(open.code);
    // Still held, or within its margin: the episode goes on with the newest figures.
    if (now) active.push({ ...open, severity: now.severity, title: now.title, message: now.message, facts: now.facts });
    else effects.push(effect('condition.cleared', open));
  }
  const open = new Set(state.active.map((condition) => condition.code));
  for (const condition of observation.conditions) {
    if (!condition.met || open.has(condition.code)) continue;
    open.add(condition.code);
    const started: ActiveCondition = { code: condition.code, severity: condition.severity, title: condition.title, message: condition.message, facts: condition.facts, sinceBlock: blockNumber, since: observation.observedAt };
    active.push(started);
    effects.push(effect('condition.raised', started));
  }
  return { state: { active, lastBlockNumber: blockNumber }, effects };
}
