import { AppError } from '../lib/errors';
import type { ChannelSender, SendOutcome, StoredChannel, OutgoingEvent } from './channel';
import { sendWebhook } from './webhook-sender';

/** Routes an outgoing event to the sender of its channel's type. */
export function createChannelSender(_env: Env): ChannelSender {
  return async (channel: StoredChannel, event: OutgoingEvent): Promise<SendOutcome> => {
    switch (channel.target.type) {
      case 'webhook':
        if (!channel.secret) throw new AppError('channel_misconfigured', `webhook channel ${channel.id} has no signing secret`, { status: 500 });
        return sendWebhook({ url: channel.target.url, secret: channel.secret, eventId: event.id, timestamp: new Date(), body: event.body });
      default:
        return { kind: 'failed', reason: `channel type ${channel.target.type} is not available in this deployment` };
    }
  };
}
