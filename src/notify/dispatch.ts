import { AppError } from '../lib/errors';
import type { ChannelSender, SendOutcome, StoredChannel, OutgoingEvent } from './channel';
import { sendWebhook } from './webhook-sender';
import { sendTelegramEvent } from './telegram-sender';
import { sendEmailEvent } from './email-sender';
import { sendDiscordEvent } from './discord-sender';
import { sendSlackEvent } from './slack-sender';
import { sendNtfyEvent } from './ntfy-sender';
import { sendPagerDutyEvent } from './pagerduty-sender';

function requireSecret(channel: StoredChannel, what: string): string {
  if (!channel.secret) throw new AppError('channel_misconfigured', `${channel.target.type} channel ${channel.id} has no ${what}`, { status: 500 });
  return channel.secret;
}

/** Routes an outgoing event to the sender of its channel's type. */
export function createChannelSender(env: Env): ChannelSender {
  return async (channel: StoredChannel, event: OutgoingEvent): Promise<SendOutcome> => {
    switch (channel.target.type) {
      case 'webhook':
        return sendWebhook({ url: channel.target.url, secret: requireSecret(channel, 'signing secret'), eventId: event.id, timestamp: new Date(), body: event.body });
      case 'telegram':
        return sendTelegramEvent(env, channel.target.chatId, event);
      case 'email':
        return sendEmailEvent(env, { id: channel.id, to: channel.target.to }, event);
      case 'discord':
        return sendDiscordEvent(env, requireSecret(channel, 'webhook URL'), event);
      case 'slack':
        return sendSlackEvent(env, requireSecret(channel, 'webhook URL'), event);
      case 'ntfy':
        return sendNtfyEvent(channel.target, channel.secret, event);
      case 'pagerduty':
        return sendPagerDutyEvent(env, channel.target, requireSecret(channel, 'routing key'), event);
      default:
        // Every known type is handled above; a stored row from a newer version may still carry another.
        return { kind: 'failed', reason: `channel type ${(channel.target as { type: string }).type} is not available in this deployment` };
    }
  };
}
