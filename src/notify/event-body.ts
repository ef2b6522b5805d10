import type { Address } from 'viem';
import type { AlertEffect } from '../domain/alert-machine';
import type { ActiveCondition, ConditionEffect } from '../domain/conditions';
import type { PositionView, Recommendation } from '../domain/position-view';
import type { MonitorEffect, MonitorReason } from '../monitor/health';
import type { WatchRisk } from '../risk/watch-risk';

/** `market` is an address, or for morpho-blue the market id; `protocolAddress` (morpho-blue only) is the contract holding it. */
export type WatchRef = { id: string; label: string; chainId: number; protocol: string; market: Address; protocolAddress?: Address; account: Address };

/** The v1 webhook body of an alert event. Amounts and health factors are decimal strings. */
export type AlertEventBody = {
  id: string;
  type: AlertEffect['type'];
  createdAt: string;
  watch: WatchRef;
  level: AlertEffect['level'];
  previousLevel: AlertEffect['previousLevel'];
  /** Which rule set the level announced: the health factor, the health factor at the next price already published (Maker's OSM), or (risk-enabled watches) the 24 h liquidation probability. */
  trigger: AlertEffect['trigger'];
  position: PositionView;
  recommendation: Omit<Recommendation, 'reachesTarget'> | null;
  /** The position's risk figures at this read; null when it was read without its per-asset breakdown. */
  risk: WatchRisk | null;
  /**
   * Where the watched account names several positions (an Euler owner's sub-accounts, a Fluid
   * owner's position NFTs): the one this alert is about, each with alerts of its own; `position`
   * then shows that one. Absent for a watch on one position.
   */
  subPosition?: { id: string; account: Address };
};

export type ChannelTestBody = { id: string; type: 'channel.test'; createdAt: string; channel: { id: string; label: string }; message: string };

export function buildAlertEvent(input: {
  effect: AlertEffect;
  watch: WatchRef;
  position: PositionView;
  recommendation: Recommendation | undefined;
  risk: WatchRisk | null;
  createdAt: Date;
  subPosition?: { id: string; account: Address };
}): AlertEventBody {
  const { effect } = input;
  const recommends = effect.type !== 'alert.resolved' && input.recommendation;
  return {
    id: effect.eventId,
    type: effect.type,
    createdAt: input.createdAt.toISOString(),
    watch: input.watch,
    level: effect.level,
    previousLevel: effect.previousLevel,
    trigger: effect.trigger,
    position: input.position,
    recommendation: recommends
      ? {
          action: input.recommendation!.action,
          asset: input.recommendation!.asset,
          symbol: input.recommendation!.symbol,
          amount: input.recommendation!.amount,
          targetHealthFactor: input.recommendation!.targetHealthFactor,
        }
      : null,
    risk: input.risk,
    ...(input.subPosition ? { subPosition: input.subPosition } : {}),
  };
}

/** The v1 body of a monitor health event: the watch could not be seen (degraded) or is seen again (recovered). */
export type MonitorEventBody = {
  id: string;
  type: 'monitor.degraded' | 'monitor.recovered';
  createdAt: string;
  watch: WatchRef;
  monitor: {
    chainId: number;
    /** The last fresh observation before the episode. */
    since: string;
    reason: MonitorReason;
    /** monitor.degraded: the last error, URLs cut to their origin; null when the head was merely stale. */
    lastError?: string | null;
    /** monitor.recovered: the block it was seen on again. */
    blockNumber?: string;
    observedAt?: string;
  };
};

export function buildMonitorEvent(input: { effect: MonitorEffect; watch: WatchRef; seenAgain?: { blockNumber: string; observedAt: string } }): MonitorEventBody {
  const { effect } = input;
  const monitor: MonitorEventBody['monitor'] = { chainId: input.watch.chainId, since: new Date(effect.since).toISOString(), reason: effect.reason };
  if (effect.type === 'monitor.degraded') monitor.lastError = effect.lastError;
  else if (input.seenAgain) Object.assign(monitor, input.seenAgain);
  return { id: effect.eventId, type: effect.type, createdAt: new Date(effect.at).toISOString(), watch: input.watch, monitor };
}

/** The v1 body of a protocol condition event: a danger of the protocol's own began (raised) or ended (cleared). */
export type ConditionEventBody = {
  id: string;
  type: ConditionEffect['type'];
  createdAt: string;
  watch: WatchRef;
  /**
   * The condition as it stood (facts at the raise, or as last reported while it held), its
   * episode's start (`sinceBlock` and that block's time, ISO), and the read that raised or cleared it.
   */
  condition: Omit<ActiveCondition, 'since'> & { since: string; blockNumber: string; observedAt: string };
  /** The position at that read. */
  position: PositionView;
};

export function buildConditionEvent(input: { effect: ConditionEffect; watch: WatchRef; position: PositionView }): ConditionEventBody {
  const { effect } = input;
  const { condition } = effect;
  return {
    id: effect.eventId,
    type: effect.type,
    createdAt: new Date(effect.at).toISOString(),
    watch: input.watch,
    condition: {
      code: condition.code,
      severity: condition.severity,
      title: condition.title,
      message: condition.message,
      facts: condition.facts,
      sinceBlock: condition.sinceBlock,
      since: new Date(condition.since).toISOString(),
      blockNumber: effect.blockNumber.toString(),
      observedAt: new Date(effect.observedAt).toISOString(),
    },
    position: input.position,
  };
}
