import type { WatchRef } from '../notify/event-body';
import type { StoredTopUpPolicy } from '../config/topup-policy';
import type { ObservedPosition } from './observed-position';

/** What a shard hands over when a watch with a policy is below its trigger. */
export type TopUpRequest = {
  watch: WatchRef;
  tenantId: string;
  policy: StoredTopUpPolicy;
  /** Increments each time the health factor falls below the trigger (kept by the shard). */
  episode: number;
  /** The block and health factor (WAD, decimal string; null = no debt) the shard saw. */
  observedBlock: string;
  observedHealthFactor: string | null;
  /** The position as the shard read it, with its breakdown: what a dry run is planned on. Absent on older requests. */
  observed?: ObservedPosition | null;
};

/** The request as stored (JSON) in a `requests` or `actions` row. */
export function parseRequest(body: string): TopUpRequest {
  return JSON.parse(body) as TopUpRequest;
}
