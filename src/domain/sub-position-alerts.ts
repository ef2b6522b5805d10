/**
 * Alerts for a watch whose account names several positions (an Euler owner and its sub-accounts,
 * a Fluid owner and its position NFTs): each position runs its own alert machine, so a second
 * position falling while the first is already alerting is announced too, and each one resolves on
 * its own. The watch's level is the worst of them. Pure.
 *
 * A position that leaves the list (its debt repaid, or no longer the owner's) is observed as
 * debt-free: it cannot be liquidated, so its alert resolves, and its state is dropped.
 */
import type { Address } from 'viem';
import { compareHealthFactors } from './position';
import { initialAlertState, severity, transition, type AlertEffect, type AlertLevel, type AlertPolicy, type AlertState } from './alert-machine';

/**
 * Per position id (the adapter's `SubPosition.id`): its account (named again when it resolves
 * after leaving the list), its alert state, and the block its state began at (`epoch`, a decimal
 * string), which namespaces its event ids. Plain JSON, like `AlertState`.
 */
export type SubPositionAlertStates = Record<string, { account: Address; alert: AlertState; epoch: string }>;

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
 * Positions judged per read: the riskiest this many, and any other one still alerting. An
 * account can hold any number of positions (anyone may open a Liquity trove for any owner, or
 * send a Fluid position NFT), so the state a watch keeps is bounded; Euler's 256 sub-accounts fit.
 */
export const MAX_POSITIONS_JUDGED = 256;

/**
 * One read of every position. `policy` is the watch's; each position numbers its events under
 * the watch's id, its own and its epoch (`evt_<watch>_p<id>_<epoch in base 36>_<sequence>`), so a state
 * dropped and begun again never repeats an id. Probability levels apply only to readings that
 * carry a probability: the others follow their health factor alone (their breakdown was not read).
 * A position neither among the riskiest judged nor alerting keeps no state.
 */
export function subPositionAlertStep(
  previous: SubPositionAlertStates,
  readings: readonly SubPositionReading[],
  blockNumber: bigint,
  policy: AlertPolicy,
  now: number,
): SubPositionStepResult {
  const judged = new Set([...readings].sort((a, b) => compareHealthFactors(a.healthFactor, b.healthFactor)).slice(0, MAX_POSITIONS_JUDGED).map((reading) => reading.id));
  for (const reading of readings) if (previous[reading.id] && previous[reading.id]!.alert.level !== 'ok') judged.add(reading.id);
  const present = new Set(readings.map((reading) => reading.id));
  const gone: SubPositionReading[] = Object.keys(previous)
    .filter((id) => !present.has(id))
    .sort()
    .map((id) => ({ id, account: previous[id]!.account, healthFactor: null, liquidationProbability: 0 }));
  const states: SubPositionAlertStates = {};
  const effects: SubPositionEffect[] = [];
  for (const reading of [...readings.filter((each) => judged.has(each.id)), ...gone]) {
    const known = reading.liquidationProbability !== undefined && reading.liquidationProbability !== null;
    const before = previous[reading.id] ?? { account: reading.account, alert: initialAlertState(), epoch: blockNumber.toString() };
    const positionPolicy: AlertPolicy = { ...policy, watchId: subPositionWatchId(policy.watchId, reading.id, before.epoch), probabilityLevels: known ? policy.probabilityLevels : null };
    const result = transition(before.alert, observationOf(reading, blockNumber), positionPolicy, now);
    // A position gone from the list keeps its state only while it still alerts (a stale read changes nothing).
    if (present.has(reading.id) || result.state.level !== 'ok') states[reading.id] = { account: reading.account, alert: result.state, epoch: before.epoch };
    for (const effect of result.effects) effects.push({ subPosition: { id: reading.id, account: reading.account }, effect });
  }
  return { states, effects, level: worstLevel(Object.values(states).map((state) => state.alert)) };
}

/**
 * The states to start from when a watch first runs per position with an alert already open
 * (a watch created before positions had their own): the position the watch's figures showed
 * takes the watch's state over, so it is not announced a second time.
 */
export function adoptWatchState(watchState: AlertState, shown: { id: string; account: Address } | undefined, blockNumber: bigint): SubPositionAlertStates {
  if (watchState.level === 'ok' || shown === undefined) return {};
  return { [shown.id]: { account: shown.account, alert: { ...watchState, sequence: 0 }, epoch: blockNumber.toString() } };
}

/** The alert-machine id a position's events are numbered under. */
export function subPositionWatchId(watchId: string, positionId: string, epoch: string): string {
  // The block in base 36, as condition event ids name theirs.
  return `${watchId}_p${positionId}_${BigInt(epoch).toString(36)}`;
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
