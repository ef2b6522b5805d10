import { tenantStub } from '../../durable/stubs';
import { Hono } from 'hono';
import type { AuthVariables } from '../auth';
import { parseJsonBody, parseValue } from '../validate';
import { listPageSchema } from '../page-query';
import { encodePageCursor } from '../../lib/page-cursor';
import type { ChannelTarget } from '../../notify/channel';
import type { AppConfig } from '../../config/env';
import { createChannelSchema } from '../../config/api-schemas';
import { parseWebhookUrl } from '../../lib/safe-url';
import { AppError } from '../../lib/errors';
import { newId } from '../../lib/crypto';
import { generateWebhookSecret } from '../../notify/webhook-sender';

import { sendChannelTest } from '../../notify/channel-test';
import { channelQuotaExceeded, createPendingEmailChannel } from './email-confirm';
import { requireChatLinkedTo } from '../../telegram/link';
import { serviceChannel } from './service-channels';

type App = { Bindings: Env; Variables: AuthVariables };

const notFound = (id: string) => new AppError('not_found', `channel ${id} not found`, { status: 404 });

/** Stores a new channel within the tenant's MAX_CHANNELS_PER_TENANT. */
async function createChannel(env: Env, config: AppConfig, tenantId: string, channel: { target: ChannelTarget; secret: string | null; label: string }) {
  const created = await tenantStub(env, tenantId).createChannelWithinQuota({ id: newId('ch'), ...channel }, config.maxChannelsPerTenant);
  if (!created.ok) throw channelQuotaExceeded(created.limit);
  return created.channel;
}

export const channelRoutes = new Hono<App>()
  .post('/', async (c) => {
    const input = await parseJsonBody(c, createChannelSchema);
    if (input.type === 'telegram') {
      // No secret for telegram: nothing is signed, the bot token authenticates us to Telegram.
      if (!c.get('config').telegram) {
        throw new AppError('telegram_not_configured', 'this deployment has no Telegram bot (TELEGRAM_BOT_TOKEN is not set)', { status: 400, issues: [{ path: 'type', message: 'telegram is not configured in this deployment' }] });
      }
      await requireChatLinkedTo(c.env, input.chatId, c.get('tenantId'));
      const channel = await createChannel(c.env, c.get('config'), c.get('tenantId'), { target: { type: 'telegram', chatId: input.chatId }, secret: null, label: input.label ?? '' });
      return c.json(channel, 201);
    }
    if (input.type === 'email') {
      // No secret for email either: nothing is signed; the deployment's SMTP login or binding sends it.
      if (!c.get('config').email) {
        throw new AppError('email_not_configured', 'this deployment does not send email (EMAIL_TRANSPORT / SMTP_HOST and EMAIL_FROM are not set)', { status: 400, issues: [{ path: 'type', message: 'email is not configured in this deployment' }] });
      }
      // Pending until the address confirms with the code mailed to it (src/api/routes/email-confirm.ts).
      return c.json(await createPendingEmailChannel(c.env, c.get('config').email!, c.get('tenantId'), { to: input.to, label: input.label ?? '', maxChannels: c.get('config').maxChannelsPerTenant }), 201);
    }
    if (input.type !== 'webhook') {
      // Discord, Slack, ntfy, PagerDuty: their credential is stored as the secret and never shown again.
      const channel = await createChannel(c.env, c.get('config'), c.get('tenantId'), { ...serviceChannel(input, c.get('config')), label: input.label ?? '' });
      return c.json(channel, 201);
    }
    const url = parseWebhookUrl(input.url, { allowPrivate: c.get('config').allowPrivateWebhookUrls });
    if (!url.ok) throw url.error;
    const secret = generateWebhookSecret();
    const channel = await createChannel(c.env, c.get('config'), c.get('tenantId'), { target: { type: 'webhook', url: url.url.toString() }, secret, label: input.label ?? '' });
    // The signing secret is shown once, here, and never again.
    return c.json({ ...channel, secret }, 201);
  })
  .get('/', async (c) => {
    const query = parseValue(listPageSchema, c.req.query());
    const page = await tenantStub(c.env, c.get('tenantId')).listChannelsPage(query.limit, query.cursor ?? null);
    return c.json({ data: page.data, nextCursor: page.next ? encodePageCursor(page.next) : null });
  })
  .get('/:id', async (c) => {
    const channel = await tenantStub(c.env, c.get('tenantId')).getChannel(c.req.param('id'));
    if (!channel) throw notFound(c.req.param('id'));
    return c.json(channel);
  })
  .delete('/:id', async (c) => {
    const deleted = await tenantStub(c.env, c.get('tenantId')).deleteChannel(c.req.param('id'));
    if (!deleted) throw notFound(c.req.param('id'));
    return c.body(null, 204);
  })
  // Sent by this request directly, never queued behind the tenant's outbox backlog.
  .post('/:id/test', async (c) => c.json(await sendChannelTest(c.env, c.get('tenantId'), c.req.param('id')), 202));
