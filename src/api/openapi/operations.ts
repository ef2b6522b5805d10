import { z } from 'zod';
import {
  confirmChannelSchema,
  createChannelSchema,
  createKeySchema,
  createWatchSchema,
  deliveriesQuerySchema,
  listKeysQuerySchema,
  marketsQuerySchema,
  paginationSchema,
  patchWatchSchema,
  rotateKeySchema,
  silenceSchema,
  telegramLinkSchema,
  telegramSetupSchema,
  telegramUpdateSchema,
  tenantIdSchema,
  topUpGrantSchema,
} from '../../config/api-schemas';
import { listPageSchema } from '../page-query';
import * as responses from '../response-schemas';

/*
 * Every route of the HTTP API, described by the zod schemas its handler parses with (request)
 * and answers with (response). src/api/openapi/document.ts turns this table into the OpenAPI
 * document; test/workers/openapi.test.ts checks that the app has exactly these routes.
 */

/** Who may call: a tenant's API key, the deployment's ADMIN_TOKEN, Telegram (its webhook secret), or anyone. */
export type Auth = 'apiKey' | 'adminToken' | 'telegramSecret' | 'none';

/** A schema that gets a name under components/schemas. */
export type Named = { name: string; schema: z.ZodType };

export type Operation = {
  method: 'get' | 'post' | 'put' | 'patch' | 'delete';
  /** As hono writes it: `/v1/watches/:id`. */
  path: string;
  tag: string;
  summary: string;
  description?: string;
  auth: Auth;
  pathParams?: Record<string, z.ZodType>;
  query?: z.ZodObject;
  body?: Named & { optional?: boolean };
  success: { status: number; description: string; body?: Named; contentType?: string };
  /** Error statuses this route answers beyond those its auth, body, query and path imply. */
  errors?: number[];
  /** A status whose body is not the plain error shape. */
  errorBodies?: Record<number, Named>;
};

const named = (name: string, schema: z.ZodType): Named => ({ name, schema });

// Ids are opaque to clients; the patterns say what the API hands out.
const idParam = (pattern: RegExp, description: string) => ({ id: z.string().regex(pattern).meta({ description }) });
const watchId = idParam(/^w_[0-9a-f]{20}$/, 'a watch id from POST /v1/watches');
const channelId = idParam(/^ch_[0-9a-f]{20}$/, 'a channel id from POST /v1/channels');
const keyId = idParam(/^key_[0-9a-f]{16}_[0-9a-f]{16}$/, 'an API key id from POST /v1/keys');

export const OPERATIONS: readonly Operation[] = [
  {
    method: 'get', path: '/health', tag: 'Service', auth: 'none',
    summary: 'Service and chain health',
    description: '200 while the worker runs, with `ok: false` when a chain\'s newest good block is too old (MONITOR_DEGRADED_AFTER_SECONDS). Rate limited per client IP.',
    success: { status: 200, description: 'The worker is up; `ok` says whether every chain is fresh', body: named('Health', responses.healthSchema) },
    errors: [429, 503],
    errorBodies: { 503: named('HealthMisconfigured', responses.healthMisconfiguredSchema) },
  },

  { method: 'post', path: '/v1/keys', tag: 'API keys', auth: 'adminToken', summary: 'Issue an API key (a new tenant, or another key for `tenantId`)', body: named('CreateKeyRequest', createKeySchema), success: { status: 201, description: 'The key, shown once', body: named('IssuedKey', responses.issuedKeySchema) } },
  { method: 'get', path: '/v1/keys', tag: 'API keys', auth: 'adminToken', summary: 'List a tenant\'s API keys (never the keys themselves)', query: listKeysQuerySchema, success: { status: 200, description: 'The tenant\'s keys', body: named('KeyList', responses.keyListSchema) }, errors: [404] },
  { method: 'delete', path: '/v1/keys/:id', tag: 'API keys', auth: 'adminToken', summary: 'Revoke an API key', pathParams: keyId, success: { status: 204, description: 'Revoked' } },
  { method: 'post', path: '/v1/keys/rotate', tag: 'API keys', auth: 'apiKey', summary: 'Replace the calling key with a new one; the old one works for `graceSeconds` more', description: 'A key already replaced by a rotation (in its grace) cannot rotate (409 `key_rotated_out`); at most 5 rotated keys work at once (409 `too_many_keys_in_grace`).', body: { ...named('RotateKeyRequest', rotateKeySchema), optional: true }, success: { status: 201, description: 'The new key, shown once', body: named('RotatedKey', responses.rotatedKeySchema) }, errors: [409] },

  { method: 'get', path: '/v1/markets', tag: 'Markets', auth: 'apiKey', summary: 'Built-in markets of known deployments (a watch may name one by its `key`)', query: marketsQuerySchema, success: { status: 200, description: 'The presets', body: named('MarketList', responses.marketListSchema) } },

  {
    method: 'post', path: '/v1/channels', tag: 'Channels', auth: 'apiKey', summary: 'Create a channel (webhook, Telegram chat, email address)',
    description: 'A webhook answers with its signing secret, once. An email channel stays `pending_confirmation` until the code mailed to it is confirmed; a tenant has at most 20 confirmation mails sent in 24 h, resends included (then 429 `confirmation_mail_limit`).',
    body: named('CreateChannelRequest', createChannelSchema),
    success: { status: 201, description: 'The channel', body: named('CreatedChannel', responses.createdChannelSchema) },
    errors: [409],
  },
  { method: 'get', path: '/v1/channels', tag: 'Channels', auth: 'apiKey', summary: 'List channels, oldest first, a page at a time', query: listPageSchema, success: { status: 200, description: 'One page', body: named('ChannelList', responses.channelListSchema) } },
  { method: 'get', path: '/v1/channels/:id', tag: 'Channels', auth: 'apiKey', summary: 'Get a channel', pathParams: channelId, success: { status: 200, description: 'The channel', body: named('Channel', responses.channelSchema) } },
  { method: 'delete', path: '/v1/channels/:id', tag: 'Channels', auth: 'apiKey', summary: 'Delete a channel', pathParams: channelId, success: { status: 204, description: 'Deleted' } },
  { method: 'post', path: '/v1/channels/:id/test', tag: 'Channels', auth: 'apiKey', summary: 'Send a `channel.test` event now', description: 'A failed test is retried like any delivery; while it is, another test of the channel is 409 `channel_test_pending`. At most 200 tests per tenant in 24 h (then 429 `channel_test_limit`).', pathParams: channelId, success: { status: 202, description: 'The event and how its delivery went', body: named('ChannelTest', responses.channelTestSchema) }, errors: [409] },
  { method: 'post', path: '/v1/channels/:id/confirm', tag: 'Channels', auth: 'apiKey', summary: 'Confirm an email channel with the code mailed to it', pathParams: channelId, body: named('ConfirmChannelRequest', confirmChannelSchema), success: { status: 200, description: 'The channel, now active', body: named('Channel', responses.channelSchema) }, errors: [409, 410] },
  { method: 'post', path: '/v1/channels/:id/confirm/resend', tag: 'Channels', auth: 'apiKey', summary: 'Mail a new confirmation code', pathParams: channelId, success: { status: 202, description: 'The new mail', body: named('ConfirmationResent', responses.confirmationResentSchema) }, errors: [400, 409] },

  {
    method: 'post', path: '/v1/watches', tag: 'Watches', auth: 'apiKey', summary: 'Watch an account on a market',
    description: 'The market is checked on the chain first. Sent again after a failure, the same create finishes the first one.',
    body: named('CreateWatchRequest', createWatchSchema),
    success: { status: 201, description: 'The watch; its first read follows', body: named('CreatedWatch', responses.createdWatchSchema) },
    errors: [403, 409, 502],
  },
  { method: 'get', path: '/v1/watches', tag: 'Watches', auth: 'apiKey', summary: 'List watches with their level and health factor, a page at a time', query: listPageSchema, success: { status: 200, description: 'One page', body: named('WatchList', responses.watchListSchema) } },
  { method: 'get', path: '/v1/watches/:id', tag: 'Watches', auth: 'apiKey', summary: 'Get a watch with its position, level, monitor and top-up state', pathParams: watchId, success: { status: 200, description: 'The watch', body: named('WatchWithStatus', responses.watchWithStatusSchema) } },
  { method: 'patch', path: '/v1/watches/:id', tag: 'Watches', auth: 'apiKey', summary: 'Change a watch\'s label, thresholds, channels, top-up policy or risk settings', pathParams: watchId, body: named('PatchWatchRequest', patchWatchSchema), success: { status: 200, description: 'The watch', body: named('Watch', responses.watchSchema) }, errors: [403, 502] },
  { method: 'delete', path: '/v1/watches/:id', tag: 'Watches', auth: 'apiKey', summary: 'Stop watching', pathParams: watchId, success: { status: 204, description: 'Deleted' } },
  { method: 'get', path: '/v1/watches/:id/alerts', tag: 'Watches', auth: 'apiKey', summary: 'A watch\'s events, newest first, with each delivery', pathParams: watchId, query: paginationSchema, success: { status: 200, description: 'One page', body: named('EventList', responses.eventListSchema) } },
  { method: 'post', path: '/v1/watches/:id/silence', tag: 'Watches', auth: 'apiKey', summary: 'Mute a watch\'s alerts until a time (at most 30 days ahead)', pathParams: watchId, body: named('SilenceRequest', silenceSchema), success: { status: 200, description: 'The watch', body: named('Watch', responses.watchSchema) } },
  { method: 'delete', path: '/v1/watches/:id/silence', tag: 'Watches', auth: 'apiKey', summary: 'Unmute a watch', pathParams: watchId, success: { status: 200, description: 'The watch', body: named('Watch', responses.watchSchema) } },

  { method: 'get', path: '/v1/deliveries', tag: 'Deliveries', auth: 'apiKey', summary: 'Delivery records by status; `dead` lists dead letters', query: deliveriesQuerySchema, success: { status: 200, description: 'The deliveries', body: named('DeliveryList', responses.deliveryListSchema) } },

  { method: 'get', path: '/v1/topup/grant', tag: 'Auto-top-up', auth: 'apiKey', summary: 'The owner\'s grant of live top-ups to this tenant', success: { status: 200, description: 'The grant and its 24 h budget', body: named('TopUpGrant', responses.topUpGrantViewSchema) } },
  { method: 'get', path: '/v1/topup/signer', tag: 'Auto-top-up', auth: 'adminToken', summary: 'The executor wallet: address and balance per chain (never the key)', success: { status: 200, description: 'The wallet', body: named('TopUpSigner', responses.topUpSignerSchema) } },
  { method: 'put', path: '/v1/admin/tenants/:tenantId/topup', tag: 'Auto-top-up', auth: 'adminToken', summary: 'Grant or revoke live top-ups for a tenant, with a USD budget per rolling 24 h', pathParams: { tenantId: tenantIdSchema }, body: named('TopUpGrantRequest', topUpGrantSchema), success: { status: 200, description: 'The grant', body: named('TopUpGrant', responses.topUpGrantViewSchema) }, errors: [400] },
  { method: 'get', path: '/v1/admin/tenants/:tenantId/topup', tag: 'Auto-top-up', auth: 'adminToken', summary: 'A tenant\'s top-up grant', pathParams: { tenantId: tenantIdSchema }, success: { status: 200, description: 'The grant', body: named('TopUpGrant', responses.topUpGrantViewSchema) }, errors: [400] },

  { method: 'post', path: '/v1/telegram/link', tag: 'Telegram', auth: 'apiKey', summary: 'A one-time code (and t.me link) that links a Telegram chat to this tenant', body: { ...named('TelegramLinkRequest', telegramLinkSchema), optional: true }, success: { status: 201, description: 'The code, valid for an hour', body: named('TelegramLinkCode', responses.issuedLinkCodeSchema) }, errors: [400, 409, 502] },
  { method: 'post', path: '/v1/admin/telegram/setup', tag: 'Telegram', auth: 'adminToken', summary: 'Register the bot\'s webhook with Telegram and publish its commands', body: named('TelegramSetupRequest', telegramSetupSchema), success: { status: 200, description: 'What Telegram now knows', body: named('TelegramSetup', responses.telegramSetupResultSchema) }, errors: [502] },
  {
    method: 'post', path: '/telegram/webhook', tag: 'Telegram', auth: 'telegramSecret', summary: 'Updates from Telegram (called by Telegram, not by clients)',
    body: named('TelegramUpdate', telegramUpdateSchema),
    success: { status: 200, description: 'Handled', body: named('TelegramUpdateAck', responses.telegramUpdateAckSchema) },
    errors: [404],
  },

  { method: 'get', path: '/openapi.json', tag: 'Service', auth: 'none', summary: 'This document', success: { status: 200, description: 'The OpenAPI 3.1 document' } },
  { method: 'get', path: '/docs', tag: 'Service', auth: 'none', summary: 'The API reference page (its viewer is served from the Worker\'s static assets)', success: { status: 200, description: 'An HTML page', contentType: 'text/html' } },
];
