import { z } from 'zod';
import { getAddress, isAddress } from 'viem';
import { SUPPORTED_PROTOCOLS, parseAccount, parseMarket } from '../protocols';
import { PRESET_KEY_PATTERN, presetByKey } from '../protocols/presets';
import { topUpPolicySchema } from './topup-policy';
import { parseDiscordWebhookUrl, parseSlackWebhookUrl, type ServiceUrl } from '../notify/service-urls';

/** Every request body of the v1 API, parsed here; handlers only see these types. */

const ZERO_ADDRESS = /^0x0{40}$/;

/**
 * Why an address is refused, or null: not 20 bytes of hex, mixed case that is not its
 * EIP-55 checksum (a typo the checksum exists to catch), or the zero address. All-lowercase
 * and all-uppercase carry no checksum and are accepted.
 */
export function addressProblem(value: string): string | null {
  if (!/^0x[0-9a-fA-F]{40}$/.test(value)) return 'must be a 0x-prefixed 20-byte hex address';
  if (ZERO_ADDRESS.test(value)) return 'must not be the zero address';
  const hex = value.slice(2);
  const mixedCase = hex !== hex.toLowerCase() && hex !== hex.toUpperCase();
  if (mixedCase && isAddress(value, { strict: true }) === false) return `has a wrong EIP-55 checksum (mixed case must match ${getAddress(value)}); check for a typo, or send it all lowercase`;
  return null;
}

/**
 * The documented pattern (GET /openapi.json) admits what is valid, so a client or a test
 * generating addresses from it gets accepted ones: all-lowercase or all-uppercase hex.
 * EIP-55 mixed case is accepted as well (a checksum is beyond a regex), the zero address is
 * not (left out of the pattern: generators do not implement lookahead).
 */
export const ADDRESS_DOC = {
  pattern: '^0x([0-9a-f]{40}|[0-9A-F]{40})$',
  description: 'a 0x-prefixed 20-byte address, not the zero address: lowercase, uppercase, or EIP-55 checksummed mixed case',
  examples: ['0x87870bca3f3fd6335c3f4ce8392d69350b4fa4e2'],
};

const address = z
  .string({ error: 'must be a 0x-prefixed address string' })
  .superRefine((value, ctx) => {
    const problem = addressProblem(value);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  })
  .transform((value) => getAddress(value))
  .meta(ADDRESS_DOC);

const healthFactorLevel = z
  .number({ error: 'must be a number such as 1.5' })
  .finite()
  .gt(1, 'must be greater than 1 (an account is liquidatable below 1)')
  .lte(100, 'must be at most 100');

export const thresholdsSchema = z
  .object({
    warning: healthFactorLevel.default(1.5),
    marginCall: healthFactorLevel.default(1.25),
    critical: healthFactorLevel.default(1.1),
  })
  .strict()
  .superRefine((value, ctx) => {
    if (!(value.warning > value.marginCall)) ctx.addIssue({ code: 'custom', path: ['warning'], message: 'must be greater than marginCall (thresholds strictly decrease: warning > marginCall > critical)' });
    if (!(value.marginCall > value.critical)) ctx.addIssue({ code: 'custom', path: ['marginCall'], message: 'must be greater than critical (thresholds strictly decrease: warning > marginCall > critical)' });
  });
export type ThresholdsInput = z.infer<typeof thresholdsSchema>;
export const DEFAULT_THRESHOLDS_INPUT: ThresholdsInput = { warning: 1.5, marginCall: 1.25, critical: 1.1 };

const probabilityLevel = z
  .number({ error: 'must be a probability such as 0.05 (5 %)' })
  .finite()
  .gt(0, 'must be greater than 0')
  .lt(1, 'must be less than 1');

/** 24 h liquidation probabilities at which a risk-enabled watch fires each level. */
export const riskLevelsSchema = z
  .object({
    warning: probabilityLevel.default(0.01),
    marginCall: probabilityLevel.default(0.05),
    critical: probabilityLevel.default(0.2),
  })
  .strict()
  .superRefine((value, ctx) => {
    if (!(value.warning < value.marginCall)) ctx.addIssue({ code: 'custom', path: ['warning'], message: 'must be less than marginCall (levels strictly increase: warning < marginCall < critical)' });
    if (!(value.marginCall < value.critical)) ctx.addIssue({ code: 'custom', path: ['marginCall'], message: 'must be less than critical (levels strictly increase: warning < marginCall < critical)' });
  });

/** Risk-based margin calls (opt-in): `{"enabled":true,"levels":{...}}`; `enabled` defaults to true when `risk` is sent. */
export const riskSettingsSchema = z
  .object({
    enabled: z.boolean({ error: 'must be true or false' }).default(true),
    levels: riskLevelsSchema.default({ warning: 0.01, marginCall: 0.05, critical: 0.2 }),
  })
  .strict();
export type RiskSettingsInput = z.infer<typeof riskSettingsSchema>;

const label = z.string().trim().max(100, 'must be at most 100 characters');
const channelIds = z.array(z.string().regex(/^ch_[0-9a-f]{20}$/, 'must be a channel id returned by POST /v1/channels')).max(20, 'at most 20 channels per watch');

export const createWatchSchema = z
  .object({
    chainId: z.number({ error: 'must be a chain id number such as 1' }).int('must be an integer').positive('must be positive'),
    protocol: z.enum(SUPPORTED_PROTOCOLS, { error: `must be one of: ${SUPPORTED_PROTOCOLS.join(', ')}` }),
    // An address, a morpho-blue market id, a maker ilk name, or a built-in preset's key (checked against the protocol below).
    market: z
      .string({ error: 'must be a 0x-prefixed market address or id, a maker ilk name, or a preset key such as "aave-v3:ethereum:core"' })
      .max(100, 'is too long')
      .regex(
        /^0x([0-9a-fA-F]{40}|[0-9a-fA-F]{64})$|^[a-z0-9-]+:[a-z0-9-]+:[a-z0-9.-]+$|^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$/,
        'must be a market address (0x + 40 hex), a morpho-blue market id (0x + 64 hex), a maker ilk name such as "ETH-A", or a preset key from GET /v1/markets such as "compound-v3:ethereum:usdc"',
      ),
    protocolAddress: address.optional(),
    // The borrower's address; for liquity-v2 also a trove id (checked against the protocol below).
    // Documented with the address pattern (valid for every protocol); liquity-v2 also takes a trove id.
    account: z
      .string({ error: 'must be the borrower address as a 0x-prefixed string (liquity-v2: or a trove id)' })
      .max(80, 'is too long')
      .meta({ ...ADDRESS_DOC, description: `${ADDRESS_DOC.description}; for liquity-v2 also a trove id (decimal, or 0x + 64 hex); for maker the urn or a CdpManager vault id ("cdp:12345")` }),
    label: label.optional(),
    thresholds: thresholdsSchema.optional(),
    channels: channelIds.default([]),
    topUp: topUpPolicySchema.optional(),
    risk: riskSettingsSchema.optional(),
  })
  .strict()
  .transform((value, ctx) => {
    const account = watchAccount(value.protocol, value.account);
    if (!account.ok) {
      ctx.addIssue({ code: 'custom', path: ['account'], message: account.message });
      return z.NEVER;
    }
    const marketProblem = /^0x[0-9a-fA-F]{40}$/.test(value.market) ? addressProblem(value.market) : null;
    if (marketProblem) {
      ctx.addIssue({ code: 'custom', path: ['market'], message: marketProblem });
      return z.NEVER;
    }
    if (PRESET_KEY_PATTERN.test(value.market)) {
      const preset = presetByKey(value.market);
      if (!preset) {
        ctx.addIssue({ code: 'custom', path: ['market'], message: `no built-in market "${value.market}"; GET /v1/markets lists them` });
        return z.NEVER;
      }
      if (preset.protocol !== value.protocol || preset.chainId !== value.chainId) {
        ctx.addIssue({ code: 'custom', path: ['market'], message: `"${preset.key}" is a ${preset.protocol} market on chain ${preset.chainId}, not ${value.protocol} on chain ${value.chainId}` });
        return z.NEVER;
      }
      return { ...value, account: account.account, market: preset.market, protocolAddress: value.protocolAddress ?? preset.protocolAddress ?? undefined };
    }
    const market = parseMarket(value.protocol, value.market);
    if (!market.ok) {
      ctx.addIssue({ code: 'custom', path: ['market'], message: market.message });
      return z.NEVER;
    }
    return { ...value, account: account.account, market: market.market };
  });
export type CreateWatchInput = z.infer<typeof createWatchSchema>;

/** A watch's account as its protocol names it: a checksummed address, or the protocol's own form (a Liquity trove id). */
export function watchAccount(protocol: (typeof SUPPORTED_PROTOCOLS)[number], text: string): { ok: true; account: `0x${string}` } | { ok: false; message: string } {
  const own = parseAccount(protocol, text);
  if (own) return own;
  const problem = addressProblem(text);
  return problem ? { ok: false, message: problem } : { ok: true, account: getAddress(text) };
}

export const patchWatchSchema = z
  .object({
    label: label.optional(),
    thresholds: thresholdsSchema.optional(),
    channels: channelIds.optional(),
    // A whole policy replaces the stored one; null removes it.
    topUp: topUpPolicySchema.nullable().optional(),
    // Whole settings replace the stored ones; null turns risk-based levels off.
    risk: riskSettingsSchema.nullable().optional(),
  })
  .strict()
  .refine((value) => Object.keys(value).length > 0, 'send at least one of: label, thresholds, channels, topUp, risk')
  .meta({ minProperties: 1 });
export type PatchWatchInput = z.infer<typeof patchWatchSchema>;

/** A hosted service's URL, checked by `parse` (pure, see src/notify/service-urls.ts). */
function serviceUrl(parse: (raw: string) => ServiceUrl) {
  return z
    .string({ error: 'must be an https URL string' })
    .max(2048, 'must be at most 2048 characters')
    .transform((value, ctx) => {
      const parsed = parse(value);
      if (!parsed.ok) {
        ctx.addIssue({ code: 'custom', message: parsed.message });
        return z.NEVER;
      }
      return parsed;
    });
}

const pagerDutyRoutingKey = z.string({ error: 'must be the integration key string' }).regex(/^[A-Za-z0-9]{32}$/, 'must be the 32-character integration key of an Events API v2 integration');

export const createChannelSchema = z.discriminatedUnion(
  'type',
  [
    z.object({ type: z.literal('webhook'), url: z.string({ error: 'must be an https URL string' }).max(2048, 'must be at most 2048 characters'), label: label.optional() }).strict(),
    // A chat id as Telegram gives it: an integer (negative for groups), sent as a string
    // because supergroup ids exceed what some JSON clients keep exact.
    z.object({ type: z.literal('telegram'), chatId: z.string({ error: 'must be the chat id as a string, e.g. "123456789" or "-1001234567890"' }).regex(/^-?[1-9][0-9]{0,15}$/, 'must be an integer chat id as a string, e.g. "123456789" or "-1001234567890"'), label: label.optional() }).strict(),
    // One recipient; no display name or list, so nothing in it can reach another header.
    z.object({ type: z.literal('email'), to: z.email({ error: 'must be an email address such as alerts@example.com' }).max(254, 'must be at most 254 characters'), label: label.optional() }).strict(),
    // Discord and Slack webhooks: their own hosts only; the URL (a credential) becomes the channel's secret.
    z.object({ type: z.literal('discord'), url: serviceUrl(parseDiscordWebhookUrl), label: label.optional() }).strict(),
    z.object({ type: z.literal('slack'), url: serviceUrl(parseSlackWebhookUrl), label: label.optional() }).strict(),
    // The server is checked in the route: whether private hosts are allowed is the deployment's setting.
    z.object({
      type: z.literal('ntfy'),
      server: z.string({ error: 'must be an https URL string such as https://ntfy.sh' }).max(2048, 'must be at most 2048 characters').default('https://ntfy.sh'),
      topic: z.string({ error: 'must be a topic name string' }).regex(/^[-_A-Za-z0-9]{1,64}$/, 'must be 1-64 characters of A-Z, a-z, 0-9, _ and - (ntfy topic names)'),
      token: z.string({ error: 'must be an ntfy access token string' }).regex(/^tk_[A-Za-z0-9]{20,64}$/, 'must be an ntfy access token (tk_ followed by letters and digits)').optional(),
      label: label.optional(),
    }).strict(),
    // `routing_key` is accepted too: it is the field's name in PagerDuty's own Events API.
    z.object({
      type: z.literal('pagerduty'),
      routingKey: pagerDutyRoutingKey.optional(),
      routing_key: pagerDutyRoutingKey.optional().meta({ description: 'the same as routingKey (PagerDuty\'s own name for it); give one of the two' }),
      region: z.enum(['us', 'eu'], { error: 'must be "us" (events.pagerduty.com) or "eu" (events.eu.pagerduty.com)' }).default('us'),
      label: label.optional(),
    }).strict().superRefine((input, context) => {
      if (input.routingKey === undefined && input.routing_key === undefined) context.addIssue({ code: 'custom', path: ['routingKey'], message: 'is required: the 32-character integration key of an Events API v2 integration' });
      if (input.routingKey !== undefined && input.routing_key !== undefined) context.addIssue({ code: 'custom', path: ['routing_key'], message: 'give routingKey or routing_key, not both' });
    }),
  ],
  { error: 'type must be one of "webhook", "telegram", "email", "discord", "slack", "ntfy", "pagerduty"' },
);
export type CreateChannelInput = z.infer<typeof createChannelSchema>;

/** `POST /v1/channels/:id/confirm`: the code mailed to an email channel's address. */
export const confirmChannelSchema = z
  .object({ code: z.string({ error: 'must be the code from the confirmation email, e.g. "ABCDE-FGHJK"' }).trim().min(1, 'must not be empty').max(32, 'must be at most 32 characters') })
  .strict();

/** The longest silence: an alerting service muted for longer is more likely forgotten than intended. */
export const MAX_SILENCE_MS = 30 * 86_400_000;

export const silenceSchema = z
  .object({
    until: z.iso
      .datetime({ offset: true, error: 'must be an ISO 8601 time such as 2026-12-01T08:00:00Z' })
      .refine((value) => Date.parse(value) <= Date.now() + MAX_SILENCE_MS, 'must be at most 30 days ahead'),
  })
  .strict();

export const tenantIdSchema = z.string().regex(/^t_[0-9a-f]{16}$/, 'must be a tenant id (t_ and 16 hex digits) as returned by POST /v1/keys');

export const createKeySchema = z
  .object({
    label: label.optional(),
    tenantId: tenantIdSchema.optional(),
  })
  .strict();

export const listKeysQuerySchema = z.object({ tenantId: tenantIdSchema }).strict();

/** `POST /v1/keys/rotate`: the old key works for `graceSeconds` more (default 0: it stops at once). */
export const rotateKeySchema = z
  .object({
    graceSeconds: z.number({ error: 'must be a number of seconds' }).int('must be an integer').min(0, 'must be at least 0').max(86_400, 'must be at most 86400 (a day)').default(0),
  })
  .strict();

/** `PUT /v1/admin/tenants/:tenantId/topup`: the owner's grant of live top-ups to one tenant. */
export const topUpGrantSchema = z
  .object({
    enabled: z.boolean({ error: 'must be true (grant) or false (revoke)' }),
    maxUsdPerDay: z
      .string({ error: 'must be a decimal string of US dollars such as "5000"' })
      .trim()
      .regex(/^\d{1,12}(\.\d{1,8})?$/, 'must be a decimal string of US dollars such as "5000" or "250.50" (at most 12 digits and 8 decimals)')
      .refine((value) => /[1-9]/.test(value), 'must be greater than 0')
      .optional(),
  })
  .strict();
export type TopUpGrantInput = z.infer<typeof topUpGrantSchema>;

export const marketsQuerySchema = z
  .object({ chainId: z.coerce.number({ error: 'must be a chain id number such as 1' }).int('must be an integer').positive('must be positive').optional() })
  .strict();

export const paginationSchema = z.object({
  limit: z.coerce.number().int('must be an integer').min(1, 'must be at least 1').max(200, 'must be at most 200').default(50),
  cursor: z.string().regex(/^\d+$/, 'must be a cursor returned as nextCursor').optional(),
});

/** `GET /v1/deliveries?status=&limit=&cursor=`; the cursor is the last delivery's event sequence and channel id. */
export const deliveriesQuerySchema = z.object({
  status: z.enum(['pending', 'delivered', 'dead'], { error: 'must be pending, delivered or dead' }).default('dead'),
  limit: z.coerce.number().int('must be an integer').min(1, 'must be at least 1').max(200, 'must be at most 200').default(50),
  cursor: z
    .string()
    .regex(/^\d{1,15}_ch_[0-9a-f]{20}$/, 'must be a cursor returned as nextCursor')
    .transform((value) => ({ seq: Number(value.slice(0, value.indexOf('_'))), channelId: value.slice(value.indexOf('_') + 1) }))
    .optional(),
});

/** `POST /v1/telegram/link`: the label the linked chat's channel gets (optional body). */
export const telegramLinkSchema = z.object({ label: z.string().trim().max(100, 'must be at most 100 characters').optional() }).strict();

/** `POST /v1/admin/telegram/setup`. */
export const telegramSetupSchema = z
  .object({
    url: z
      .string({ error: 'must be the https URL of this worker\'s /telegram/webhook' })
      .max(2048, 'must be at most 2048 characters')
      .refine((value) => URL.canParse(value), 'must be an absolute URL such as https://marginwatch.example.workers.dev/telegram/webhook')
      // Documented as https only, the one scheme Telegram calls; the route also takes http when ALLOW_PRIVATE_WEBHOOK_URLS is on, for a loopback stand-in.
      .meta({ format: 'uri', pattern: '^https://', description: "the https URL of this worker's /telegram/webhook" }),
  })
  .strict();

/** `POST /telegram/webhook`: only the envelope is checked here; grammY reads the rest of the update. */
export const telegramUpdateSchema = z.object({ update_id: z.number({ error: 'must be a number' }) }).passthrough();
