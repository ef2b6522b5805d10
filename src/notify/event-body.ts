import type { Address } from 'viem';
import type { AlertEffect } from '../domain/alert-machine';
import type { PositionView, Recommendation } from '../domain/position-view';

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
  position: PositionView;
  recommendation: Omit<Recommendation, 'reachesTarget'> | null;
};

export type ChannelTestBody = { id: string; type: 'channel.test'; createdAt: string; channel: { id: string; label: string }; message: string };

export function buildAlertEvent(input: { effect: AlertEffect; watch: WatchRef; position: PositionView; recommendation: Recommendation | undefined; createdAt: Date }): AlertEventBody {
  const { effect } = input;
  const recommends = effect.type !== 'alert.resolved' && input.recommendation;
  return {
    id: effect.eventId,
    type: effect.type,
    createdAt: input.createdAt.toISOString(),
    watch: input.watch,
    level: effect.level,
    previousLevel: effect.previousLevel,
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
  };
}
