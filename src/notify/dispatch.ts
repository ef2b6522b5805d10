import { AppError } from '../lib/errors';
import type { ChannelSender, SendOutcome, StoredChannel, OutgoingEvent } from './channel';
import { sendWebhook } from './webhook-sender';
import { sendTelegramEvent } from './telegram-sender';
import { sendEmailEvent } from './email-sender';

/** Routes an outgoing event to the sender of its channel's type. */
export function createChannelSender(env: Env): ChannelSender {
  return async (channel: StoredChannel, event: OutgoingEvent): Promise<SendOutcome> => {
    switch (channel.target.type) {
      case 'webhook':
        if (!channel.secret) throw new AppError('channel_misconfigured', `webhook channel ${channel.id} has no signing secret`, { status: 500 });
        return sendWebhook({ url: channel.target.url, secret: channel.secret, eventId: event.id, timestamp: new Date(), body: event.body });
      case 'telegram':
        return sendTelegramEvent(env, channel.target.chatId, event);
      case 'email':
        return sendEmailEvent(env, { id: channel.id, to: channel.target.to }, event);
      default:
        // Every known type is handled above; a stored row from a newer version may still carry another.
        return { kind: 'failed', reason: `channel type ${(channel.target as { type: string }).type} is not available in this deployment` };
    }
  };
}
