/**
 * Alerts for a watch whose account names several positions (an Euler owner and its sub-accounts,
 * a Fluid owner and its position NFTs): each position runs its own alert machine, so a second
 * position falling while the first is already alerting is announced too, and each one resolves on
 * its own. The watch's level is the worst of them. Pure.
 *
 * A position that leaves the list (its debt repaid, or no longer the owner's) is observed as
 * debt-free: it cannot be liquidated, so its alert resolves. Its state is kept so that its event
 * ids go on from its own sequence if it comes back: ids are never reused.
 */
import type { Address } from 'viem';
import { initialAlertState, severity, transition, type AlertEffect, type AlertLevel, type AlertPolicy, type AlertState } from './alert-machine';

/** Per position id (the adapter's `SubPosition.id`): its account (named again when it resolves after leaving the list) and its alert state. Plain JSON, like `AlertState`. */
export type SubPositionAlertStates = Record<string, { account: Address; alert: AlertState }>;

/** One position at this read; the risk figures only where known (the position the snapshot shows in full). */
export type SubPositionReading = {
  id: string;
  account: Address;
  healthFactor: bigint | null;
  liquidationProbability?: number | null;
  nextHealthFactor?: bigint | null;
};

export type SubPositionEffect = { subPosition: { id: string; account: Address }; effect: AlertEffect };

export type SubPositionStepResult = { states: SubPositionAlertStates; effects: SubPositionEffect[]; level: AlertLevel };

/**
 * One read of every position. `policy` is the watch's; each position namespaces its event ids
 * under the watch's (`evt_<watch>_p<id>_<sequence>`). Probability levels apply only to readings that
 * carry a probability: the others follow their health factor alone (their breakdown was not read).
 */
export function subPositionAlertStep(
  previous: SubPositionAlertStates,
  readings: readonly SubPositionReading[],
  blockNumber: bigint,
  policy: AlertPolicy,
  now: number,
): SubPositionStepResult {
  const states: SubPositionAlertStates = { ...previous };
  const effects: SubPositionEffect[] = [];
  const present = new Set(readings.map((reading) => reading.id));
  const gone: SubPositionReading[] = Object.keys(previous)
    .filter((id) => !present.has(id))
    .sort()
    .map((id) => ({ id, account: previous[id]!.account, healthFactor: null, liquidationProbability: 0 }));
  for (const reading of [...readings, ...gone]) {
    const known = reading.liquidationProbability !== undefined && reading.liquidationProbability !== null;
    const positionPolicy: AlertPolicy = { ...policy, watchId: subPositionWatchId(policy.watchId, reading.id), probabilityLevels: known ? policy.probabilityLevels : null };
    const result = transition(previous[reading.id]?.alert ?? initialAlertState(), observationOf(reading, blockNumber), positionPolicy, now);
    states[reading.id] = { account: reading.account, alert: result.state };
    for (const effect of result.effects) effects.push({ subPosition: { id: reading.id, account: reading.account }, effect });
  }
  return { states, effects, level: worstLevel(Object.values(states).map((state) => state.alert)) };
}

/**
 * The states to start from when a watch first runs per position with an alert already open
 * (a watch created before positions had their own): the position the watch's figures showed
 * takes the watch's state over, so it is not announced a second time.
 */
export function adoptWatchState(watchState: AlertState, shown: { id: string; account: Address } | undefined): SubPositionAlertStates {
  if (watchState.level === 'ok' || shown === undefined) return {};
  return { [shown.id]: { account: shown.account, alert: { ...watchState, sequence: 0 } } };
}

/** The alert-machine id a position's events are numbered under. */
export function subPositionWatchId(watchId: string, positionId: string): string {
  return `${watchId}_p${positionId}`;
}

function observationOf(reading: SubPositionReading, blockNumber: bigint) {
  return {
    healthFactor: reading.healthFactor,
    blockNumber,
    ...(reading.liquidationProbability !== undefined ? { liquidationProbability: reading.liquidationProbability } : {}),
    ...(reading.nextHealthFactor !== undefined ? { nextHealthFactor: reading.nextHealthFactor } : {}),
  };
}

function worstLevel(states: readonly AlertState[]): AlertLevel {
  return states.reduce<AlertLevel>((worst, state) => (severity(state.level) > severity(worst) ? state.level : worst), 'ok');
}
