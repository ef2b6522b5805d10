import { redactUrlsInText } from '../lib/redact-text';

/*
 * Silence must never mean "fine": a watch that has not been seen on a fresh block for too
 * long gets a monitor.degraded event, and monitor.recovered when it is seen again, once per
 * episode. Pure: the shard stores the state and records the effects with its alert events.
 */

export type MonitorReason = 'stale' | 'erroring' | 'wrong_chain';

export type MonitorState = {
  /** When the watch was last read on a fresh block (ms); its creation before the first read. */
  lastFreshAt: number;
  degraded: { since: number; reason: MonitorReason; lastError: string | null } | null;
};

export type MonitorObservation = { fresh: true } | { fresh: false; reason: MonitorReason; error: string | null };

export type MonitorEffect =
  | { type: 'monitor.degraded'; eventId: string; since: number; reason: MonitorReason; lastError: string | null; at: number }
  | { type: 'monitor.recovered'; eventId: string; since: number; reason: MonitorReason; at: number };

export function initialMonitorState(now: number): MonitorState {
  return { lastFreshAt: now, degraded: null };
}

const MAX_ERROR_CHARS = 300;

/** Error text fit for a tenant's channel: URLs cut to their origin (RPC URLs carry keys), bounded. */
export function redactErrorText(text: string | null): string | null {
  if (text === null) return null;
  return redactUrlsInText(text).slice(0, MAX_ERROR_CHARS);
}

/** Stable across retried ticks: the watch and the start of the episode (its last fresh observation). */
function monitorEventId(watchId: string, since: number, kind: 'degraded' | 'recovered'): string {
  return `evt_${watchId}_mon_${since.toString(36)}_${kind}`;
}

export function monitorStep(
  state: MonitorState,
  observation: MonitorObservation,
  input: { watchId: string; now: number; degradedAfterMs: number },
): { state: MonitorState; effect: MonitorEffect | null } {
  const { now } = input;
  if (observation.fresh) {
    const recovered: MonitorState = { lastFreshAt: now, degraded: null };
    if (!state.degraded) return { state: recovered, effect: null };
    const { since, reason } = state.degraded;
    return { state: recovered, effect: { type: 'monitor.recovered', eventId: monitorEventId(input.watchId, since, 'recovered'), since, reason, at: now } };
  }
  const lastError = redactErrorText(observation.error);
  if (state.degraded) return { state: { ...state, degraded: { ...state.degraded, reason: observation.reason, lastError } }, effect: null };
  if (now - state.lastFreshAt <= input.degradedAfterMs) return { state, effect: null };
  const since = state.lastFreshAt;
  return {
    state: { ...state, degraded: { since, reason: observation.reason, lastError } },
    effect: { type: 'monitor.degraded', eventId: monitorEventId(input.watchId, since, 'degraded'), since, reason: observation.reason, lastError, at: now },
  };
}

/** Why a whole tick failed, from its error code. */
export function reasonOfErrorCode(code: string | undefined): MonitorReason {
  if (code === 'rpc_wrong_chain') return 'wrong_chain';
  if (code === 'stale_block') return 'stale';
  return 'erroring';
}
