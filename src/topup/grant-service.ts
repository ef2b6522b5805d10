import { tenantStub, topUpStub } from '../durable/stubs';
import type { AppConfig } from '../config/env';
import type { TopUpGrantInput } from '../config/api-schemas';

import { AppError } from '../lib/errors';
import type { TopUpGrantView } from './authorization';
import { topUpObjectName } from './signer';

/**
 * The owner sets a tenant's grant. A revocation also drops the tenant's waiting requests
 * at every chain's executor; what is already in flight stops at its next pre-broadcast
 * check, which asks the tenant (already revoked here) first.
 */
export async function setTopUpGrant(env: Env, config: AppConfig, tenantId: string, input: TopUpGrantInput): Promise<TopUpGrantView> {
  const tenant = tenantStub(env, tenantId);
  if (input.enabled && input.maxUsdPerDay === undefined && (await tenant.topUpGrant()).maxUsdPerDay === null) {
    throw new AppError('validation_failed', 'maxUsdPerDay: is required the first time live top-ups are granted', { status: 400, issues: [{ path: 'maxUsdPerDay', message: 'is required when enabling a grant for the first time' }] });
  }
  const grant = await tenant.setTopUpGrant(input);
  if (!input.enabled) {
    await Promise.all(
      [...config.chains.keys()].map(async (chainId) => {
        try {
          await topUpStub(env, topUpObjectName(chainId, config.topUp.signer)).dropTenantRequests(tenantId);
        } catch (error) {
          // Not a hole: the executor asks the tenant before it acts and before every broadcast.
          console.warn('topup: could not drop the revoked tenant\'s requests at the executor; its pre-send check refuses them', chainId, error instanceof Error ? error.name : 'unknown');
        }
      }),
    );
  }
  return grant;
}
