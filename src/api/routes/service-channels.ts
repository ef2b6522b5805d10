import type { CreateChannelInput } from '../../config/api-schemas';
import type { AppConfig } from '../../config/env';
import { AppError } from '../../lib/errors';
import type { ChannelTarget } from '../../notify/channel';
import { parseNtfyServer } from '../../notify/service-urls';

type ServiceInput = Extract<CreateChannelInput, { type: 'discord' | 'slack' | 'ntfy' | 'pagerduty' }>;

/**
 * A hosted-service channel as stored: what may be shown (the target) apart from its
 * credential (the secret), which no response ever carries.
 */
export function serviceChannel(input: ServiceInput, config: AppConfig): { target: ChannelTarget; secret: string | null } {
  switch (input.type) {
    case 'discord':
    case 'slack':
      return { target: { type: input.type, url: input.url.masked }, secret: input.url.url };
    case 'ntfy': {
      const server = parseNtfyServer(input.server, { allowPrivate: config.allowPrivateWebhookUrls });
      if (!server.ok) throw new AppError('invalid_ntfy_server', `server: ${server.message}`, { status: 400, issues: [{ path: 'server', message: server.message }] });
      return { target: { type: 'ntfy', server: server.url, topic: input.topic, tokenSet: input.token !== undefined }, secret: input.token ?? null };
    }
    case 'pagerduty': {
      const routingKey = (input.routingKey ?? input.routing_key)!; // the schema requires exactly one of the two
      return { target: { type: 'pagerduty', region: input.region, routingKeyHint: `…${routingKey.slice(-4)}` }, secret: routingKey };
    }
  }
}
