import { tenantStub } from '../durable/stubs';
import { AppError } from '../lib/errors';
import { newId } from '../lib/crypto';
import { dailyBudgetSpent } from './daily-budget';

import type { ChannelTestBody } from './event-body';
import type { DeliveryRecord } from '../watches/records';

/**
 * "Send test" for a channel, shared by POST /v1/channels/:id/test and the dashboard: a
 * channel.test event sent by the request itself, never queued behind the outbox backlog;
 * 409 while an earlier test of the channel is still being retried.
 */
export async function sendChannelTest(env: Env, tenantId: string, channelId: string): Promise<{ event: ChannelTestBody; delivery: DeliveryRecord }> {
  const tenant = tenantStub(env, tenantId);
  const channel = await tenant.getChannel(channelId);
  if (!channel) throw new AppError('not_found', `channel ${channelId} not found`, { status: 404 });
  if (channel.disabledAt) throw new AppError('channel_disabled', `channel ${channel.id} is disabled: ${channel.disabledReason}`, { status: 409 });
  if (channel.status === 'pending_confirmation') throw new AppError('channel_pending_confirmation', `channel ${channel.id} waits for its address to confirm (POST /v1/channels/${channel.id}/confirm)`, { status: 409 });
  const event: ChannelTestBody = {
    id: newId('evt'),
    type: 'channel.test',
    createdAt: new Date().toISOString(),
    channel: { id: channel.id, label: channel.label },
    message: 'marginwatch test event: this channel receives alerts.',
  };
  const sent = await tenant.sendChannelTest(channel.id, event.id, JSON.stringify(event));
  if (sent.outcome === 'not_found') throw new AppError('not_found', `channel ${channelId} not found`, { status: 404 });
  if (sent.outcome === 'budget_spent') throw dailyBudgetSpent('channel_test', sent.retryAt);
  if (sent.outcome === 'test_pending') {
    const { eventId, nextAttemptAt, lastError } = sent.delivery;
    throw new AppError('channel_test_pending', `an earlier test of channel ${channel.id} (${eventId}) is still being retried${nextAttemptAt ? `, next at ${nextAttemptAt}` : ''}${lastError ? ` (last error: ${lastError})` : ''}; see GET /v1/deliveries?status=pending`, { status: 409 });
  }
  return { event, delivery: sent.delivery };
}
