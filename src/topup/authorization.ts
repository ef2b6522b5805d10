import type { StoredTopUpPolicy } from '../config/topup-policy';
import { formatUsd, type BudgetSummary, type TopUpGrant } from '../domain/topup-budget';

/*
 * The tenant's word on a live top-up, asked by the executor before it plans an action and
 * again immediately before every transaction it broadcasts: does the watch still exist, is
 * its policy still live and the version that planned the action, is the owner's grant on,
 * and (before the first transaction) does the budget hold the action's USD value. The
 * tenant's storage is the source of truth; a request made from an older poll cannot
 * outrun a deletion, a PATCH or a revocation. Pure: the Tenant object supplies the facts.
 */

export type TopUpStopReason = 'watch_deleted' | 'policy_changed' | 'not_permitted' | 'tenant_budget_reached';

export type TopUpAuthorizationRequest = {
  watchId: string;
  policyVersion: number;
  /** With `reserveUsd`: the action whose USD value is booked against the budget (idempotent by id). */
  actionId?: string;
  /** USD units (10^-8) as a decimal integer string. */
  reserveUsd?: string;
};

export type TopUpAuthorization = { ok: true; remainingUsd: bigint } | { ok: false; reason: TopUpStopReason; message: string };

export type TopUpGrantView = {
  enabled: boolean;
  /** USD per rolling 24 hours; null when never granted. */
  maxUsdPerDay: string | null;
  spentUsdLast24h: string;
  remainingUsdLast24h: string;
  updatedAt: string | null;
};

/** The policy version a stored policy carries (policies stored before versions count as 0). */
export function policyVersionOf(policy: StoredTopUpPolicy | null | undefined): number {
  return policy?.version ?? 0;
}

export function decideAuthorization(
  request: TopUpAuthorizationRequest,
  facts: { watchPolicy: StoredTopUpPolicy | null | undefined; grant: TopUpGrant | null; budget: BudgetSummary; alreadyReserved: boolean },
): TopUpAuthorization {
  const policy = facts.watchPolicy;
  if (policy === undefined) return { ok: false, reason: 'watch_deleted', message: `watch ${request.watchId} was deleted; nothing more is sent for it` };
  if (policy === null || !policy.enabled || policy.dryRun || policyVersionOf(policy) !== request.policyVersion) {
    return { ok: false, reason: 'policy_changed', message: 'the top-up policy was changed or removed after this action was planned; nothing more is sent under the old one' };
  }
  if (!facts.grant?.enabled) {
    return { ok: false, reason: 'not_permitted', message: 'the deployment owner has not granted (or has revoked) live top-ups for this tenant; nothing is sent. Dry runs still work' };
  }
  if (request.reserveUsd !== undefined && !facts.alreadyReserved) {
    const wanted = BigInt(request.reserveUsd);
    if (wanted > facts.budget.remaining) {
      return {
        ok: false,
        reason: 'tenant_budget_reached',
        message: `this action is worth $${formatUsd(wanted)} but only $${formatUsd(facts.budget.remaining)} of the tenant's $${formatUsd(facts.grant.maxUsdPerDay)} per 24 h is left`,
      };
    }
    return { ok: true, remainingUsd: facts.budget.remaining - wanted };
  }
  return { ok: true, remainingUsd: facts.budget.remaining };
}

export function grantView(grant: (TopUpGrant & { updatedAt: number }) | null, budget: BudgetSummary): TopUpGrantView {
  return {
    enabled: grant?.enabled ?? false,
    maxUsdPerDay: grant ? formatUsd(grant.maxUsdPerDay) : null,
    spentUsdLast24h: formatUsd(budget.spent),
    remainingUsdLast24h: formatUsd(budget.remaining),
    updatedAt: grant ? new Date(grant.updatedAt).toISOString() : null,
  };
}
