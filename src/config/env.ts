import { z } from 'zod';
import type { Address } from 'viem';
import { AppError } from '../lib/errors';
import { addressSetting, topUpKeySchema, topUpMaxGasSchema, trustedMarketIdSchema, type TopUpSettings, type TrustedMarketKey } from './topup-env';
import { usdPriceFeedsOfChain, type UsdPriceFeeds } from './usd-price-feeds';
import { parseWebhookUrl } from '../lib/safe-url';

/** The canonical Multicall3 deployment, present at this address on nearly every EVM chain. */
export const CANONICAL_MULTICALL3: Address = '0xcA11bde05977b3631167028862bE2a173976CA11';

const CHAIN_ID_KEY = /^[1-9][0-9]{0,15}$/;

/** zod reports a bad record key only as "Invalid key in record"; say what a key must be. */
function withChainIdKeys<T extends z.ZodType>(valueSchema: T) {
  return z.record(z.string(), valueSchema).superRefine((map, ctx) => {
    for (const key of Object.keys(map)) {
      if (!CHAIN_ID_KEY.test(key)) ctx.addIssue({ code: 'custom', path: [key], message: 'keys are chain ids, positive integers such as "1" or "31337"' });
    }
  });
}

const rpcUrl = z
  .string()
  .trim()
  .refine((value) => {
    try {
      const url = new URL(value);
      return url.protocol === 'https:' || url.protocol === 'http:';
    } catch {
      return false;
    }
  }, 'must be an http(s) URL');

/** JSON text parsed, then validated: settings arrive as strings from wrangler vars. */
function jsonSetting<T extends z.ZodType>(schema: T) {
  return z.string().transform((text, ctx) => {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      ctx.addIssue({ code: 'custom', message: 'must be valid JSON' });
      return z.NEVER;
    }
  }).pipe(schema);
}

const rpcUrlsSchema = withChainIdKeys(z.union([rpcUrl, z.array(rpcUrl).min(1, 'needs at least one URL')]))
  .refine((map) => Object.keys(map).length > 0, 'configure at least one chain, e.g. {"1":["https://..."]}')
  .transform((map) => {
    const chains = new Map<number, string[]>();
    for (const [id, urls] of Object.entries(map)) chains.set(Number(id), Array.isArray(urls) ? (urls as string[]) : [urls as string]);
    return chains;
  });

/** A market contract (Pool, Comet, vault, Vat, BorrowerOperations) or a Morpho Blue market id. */
const trustedMarketSchema = z.union([addressSetting, trustedMarketIdSchema], { error: 'must be a market contract address (0x + 40 hex digits) or a Morpho Blue market id (0x + 64 hex digits)' });

const booleanSetting = z
  .union([z.boolean(), z.enum(['true', 'false', '1', '0', ''])])
  .transform((value) => value === true || value === 'true' || value === '1');

function intSetting(min: number, max: number, fallback: number) {
  return z
    .union([z.number(), z.string().regex(/^\d+$/, 'must be a whole number')])
    .optional()
    .transform((value) => (value === undefined || value === '' ? fallback : Number(value)))
    .pipe(z.number().int().min(min, `must be at least ${min}`).max(max, `must be at most ${max}`));
}

/** An unset wrangler var can arrive as ""; treat it like a missing one. */
function optionalSetting<T extends z.ZodType>(schema: T) {
  return z.preprocess((value) => (value === '' ? undefined : value), schema.optional());
}

// Telegram (optional): the bot is enabled by TELEGRAM_BOT_TOKEN, and then needs the
// webhook secret, because an unprotected webhook would let anyone post fake updates.
const telegramSettings = {
  TELEGRAM_BOT_TOKEN: optionalSetting(z.string().trim().regex(/^\d{1,20}:[A-Za-z0-9_-]{20,}$/, 'must be the token BotFather gave you, digits:letters (e.g. 123456789:AA…)')),
  TELEGRAM_WEBHOOK_SECRET: optionalSetting(
    z.string().regex(/^[A-Za-z0-9_-]{16,256}$/, "must be 16–256 characters of A-Z, a-z, 0-9, _ and - (Telegram's secret_token alphabet)"),
  ),
  TELEGRAM_API_BASE: optionalSetting(rpcUrl.refine((value) => !/[?#]/.test(value), 'must be a base URL without query or fragment'))
    .transform((value) => (value ?? 'https://api.telegram.org').replace(/\/+$/, '')),
  TELEGRAM_BOT_USERNAME: optionalSetting(z.string().trim().regex(/^@?[A-Za-z][A-Za-z0-9_]{3,31}$/, 'must be the bot username, e.g. marginwatch_bot')),
};

function requireTelegramPair(settings: { TELEGRAM_BOT_TOKEN?: string | undefined; TELEGRAM_WEBHOOK_SECRET?: string | undefined }, ctx: z.RefinementCtx) {
  if (settings.TELEGRAM_BOT_TOKEN && !settings.TELEGRAM_WEBHOOK_SECRET) {
    ctx.addIssue({ code: 'custom', path: ['TELEGRAM_WEBHOOK_SECRET'], message: 'is required when TELEGRAM_BOT_TOKEN is set (it authenticates Telegram on /telegram/webhook)' });
  }
  if (settings.TELEGRAM_WEBHOOK_SECRET && !settings.TELEGRAM_BOT_TOKEN) {
    ctx.addIssue({ code: 'custom', path: ['TELEGRAM_BOT_TOKEN'], message: 'is required when TELEGRAM_WEBHOOK_SECRET is set' });
  }
}

// Email (optional): EMAIL_TRANSPORT picks the path — "smtp" (any provider, over Workers TCP
// sockets) or "cloudflare" (the send_email binding SEND_EMAIL, Email Routing). Unset, it is
// "smtp" when SMTP_HOST is set; otherwise email is off and email channels cannot be created.
const EMAIL_ADDRESS_MESSAGE = 'must be an email address such as alerts@example.com';
const SMTP_HOST_PATTERN = /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

/** "alerts@example.com" or "Display Name <alerts@example.com>"; the name may not carry quotes or angle brackets. */
const mailboxSetting = z
  .string()
  .trim()
  .transform((value, ctx) => {
    const named = /^([^"<>\r\n]*?)\s*<([^<>\s]+)>$/.exec(value);
    const address = named ? named[2]! : value;
    const name = named ? named[1]!.trim() : '';
    if (!z.email().safeParse(address).success || address.length > 254) {
      ctx.addIssue({ code: 'custom', message: `${EMAIL_ADDRESS_MESSAGE} or "Name <alerts@example.com>"` });
      return z.NEVER;
    }
    return { address, name: name || undefined };
  });

const emailSettings = {
  EMAIL_TRANSPORT: optionalSetting(z.enum(['smtp', 'cloudflare'], { error: 'must be "smtp" or "cloudflare"' })),
  EMAIL_FROM: optionalSetting(mailboxSetting),
  SMTP_HOST: optionalSetting(z.string().trim().regex(SMTP_HOST_PATTERN, 'must be a host name such as smtp.example.com, without scheme or port')),
  SMTP_PORT: optionalSetting(
    z.union([z.number(), z.string().regex(/^\d+$/, 'must be a whole number')]).transform(Number).pipe(z.number().int().min(1, 'must be at least 1').max(65535, 'must be at most 65535')),
  ),
  SMTP_SECURITY: optionalSetting(z.enum(['starttls', 'tls', 'none'], { error: 'must be "starttls" (port 587), "tls" (port 465) or "none" (local development only)' })),
  SMTP_USER: optionalSetting(z.string().max(512, 'must be at most 512 characters')),
  // A secret: checked for presence and length only, and never echoed.
  SMTP_PASSWORD: optionalSetting(z.string().max(1024, 'must be at most 1024 characters')),
  SMTP_ALLOW_INSECURE_AUTH: booleanSetting.optional().transform((value) => value ?? false),
  SMTP_TIMEOUT_MS: intSetting(1000, 60_000, 15_000),
  // The send_email binding itself: only its presence is checked (EMAIL_TRANSPORT=cloudflare needs it).
  SEND_EMAIL: z.unknown().optional(),
};

type EmailSettings = z.infer<z.ZodObject<typeof emailSettings>>;

/** The settings that only mean something once email is on: setting one without a transport is a mistake worth naming. */
const EMAIL_DEPENDENT_SETTINGS = ['EMAIL_FROM', 'SMTP_PORT', 'SMTP_SECURITY', 'SMTP_USER', 'SMTP_PASSWORD'] as const;

function emailTransportOf(settings: EmailSettings): 'smtp' | 'cloudflare' | undefined {
  return settings.EMAIL_TRANSPORT ?? (settings.SMTP_HOST ? 'smtp' : undefined);
}

function checkEmailSettings(settings: EmailSettings, ctx: z.RefinementCtx) {
  const issue = (path: string, message: string) => ctx.addIssue({ code: 'custom', path: [path], message });
  const transport = emailTransportOf(settings);
  if (transport === undefined) {
    const stray = EMAIL_DEPENDENT_SETTINGS.filter((key) => settings[key] !== undefined);
    if (stray.length > 0) issue('EMAIL_TRANSPORT', `is required when ${stray.join(', ')} ${stray.length === 1 ? 'is' : 'are'} set: "smtp" (with SMTP_HOST) or "cloudflare" (with the SEND_EMAIL binding)`);
    return;
  }
  if (!settings.EMAIL_FROM) issue('EMAIL_FROM', `is required when email is on (EMAIL_TRANSPORT=${transport}): the sender, e.g. alerts@example.com`);
  if (transport === 'cloudflare') {
    if (typeof settings.SEND_EMAIL !== 'object' || settings.SEND_EMAIL === null) {
      issue('SEND_EMAIL', 'EMAIL_TRANSPORT=cloudflare needs a [[send_email]] binding named SEND_EMAIL in wrangler.toml');
    }
    return;
  }
  if (!settings.SMTP_HOST) issue('SMTP_HOST', 'is required when EMAIL_TRANSPORT=smtp, e.g. smtp.example.com');
  if ((settings.SMTP_USER === undefined) !== (settings.SMTP_PASSWORD === undefined)) {
    issue(settings.SMTP_USER === undefined ? 'SMTP_USER' : 'SMTP_PASSWORD', 'SMTP_USER and SMTP_PASSWORD are set together (or neither, for a relay without authentication)');
  }
  // Cloudflare blocks outbound port 25 from Workers; say so instead of timing out later.
  if (settings.SMTP_PORT === 25) issue('SMTP_PORT', 'Cloudflare Workers cannot connect to port 25: use 587 (SMTP_SECURITY=starttls) or 465 (SMTP_SECURITY=tls)');
  if (settings.SMTP_SECURITY === 'none' && settings.SMTP_USER !== undefined && !settings.SMTP_ALLOW_INSECURE_AUTH) {
    issue('SMTP_SECURITY', 'is "none", so SMTP_USER and SMTP_PASSWORD would cross the network unencrypted: use "starttls" or "tls", or set SMTP_ALLOW_INSECURE_AUTH=true (local development only)');
  }
}

/** The validated email settings; the password stays inside, to be handed to the SMTP client only. */
function emailConfigFrom(settings: EmailSettings): EmailConfig | undefined {
  const transport = emailTransportOf(settings);
  if (transport === undefined || !settings.EMAIL_FROM) return undefined;
  if (transport === 'cloudflare') return { transport, from: settings.EMAIL_FROM };
  const security = settings.SMTP_SECURITY ?? 'starttls';
  return {
    transport,
    from: settings.EMAIL_FROM,
    smtp: {
      host: settings.SMTP_HOST!,
      port: settings.SMTP_PORT ?? (security === 'tls' ? 465 : 587),
      security,
      credentials: settings.SMTP_USER !== undefined && settings.SMTP_PASSWORD !== undefined ? { user: settings.SMTP_USER, password: settings.SMTP_PASSWORD } : undefined,
      allowInsecureAuth: settings.SMTP_ALLOW_INSECURE_AUTH,
      timeoutMs: settings.SMTP_TIMEOUT_MS,
    },
  };
}

export const envSchema = z.object({
  RPC_URLS: jsonSetting(rpcUrlsSchema),
  MULTICALL3_ADDRESSES: jsonSetting(withChainIdKeys(addressSetting)).optional(),
  ADMIN_TOKEN: z.string().min(32, 'must be at least 32 characters (use a long random value, e.g. `openssl rand -hex 32`)'),
  // The secret tenant API keys are tagged with (see src/api/api-keys.ts); unset, one derived from ADMIN_TOKEN.
  API_KEY_SECRET: optionalSetting(z.string().min(32, 'must be at least 32 characters (use a long random value, e.g. `openssl rand -hex 32`)')),
  POLL_INTERVAL_SECONDS: intSetting(1, 60, 12),
  ALLOW_PRIVATE_WEBHOOK_URLS: booleanSetting.optional().transform((value) => value ?? false),
  READ_BATCH_SIZE: intSetting(1, 2000, 300),
  // Equal to READ_BATCH_SIZE by default: a shard whose accounts fit one batch costs one RPC request a round.
  SHARD_SIZE: intSetting(1, 5000, 300),
  RPC_TIMEOUT_MS: intSetting(100, 60_000, 8000),
  // Bounds: history older than this is pruned; a tenant's watches and channels are capped.
  RETENTION_DAYS: intSetting(1, 3650, 90),
  MAX_WATCHES_PER_TENANT: intSetting(1, 1_000_000, 10_000),
  MAX_CHANNELS_PER_TENANT: intSetting(1, 10_000, 50),
  // A watch not seen on a fresh block for this long gets monitor.degraded.
  MONITOR_DEGRADED_AFTER_SECONDS: intSetting(30, 86_400, 300),
  // The dashboard's health-factor history keeps one point (the lowest) per this many seconds per watch.
  HF_HISTORY_BUCKET_SECONDS: intSetting(1, 86_400, 300),
  // The risk engine's price record: one bar per this many seconds, kept this many days.
  RISK_PRICE_BAR_SECONDS: intSetting(1, 3_600, 300),
  RISK_HISTORY_DAYS: intSetting(1, 365, 60),
  // A dead-man's switch pinged (GET) after every healthy cron run; checked like a webhook URL below.
  HEARTBEAT_URL: optionalSetting(z.string().trim()),
  // The executor's key (a secret) becomes its address here; see topup-env.ts.
  TOPUP_PRIVATE_KEY: topUpKeySchema,
  TOPUP_MAX_GAS_GWEI: topUpMaxGasSchema,
  // Markets the owner trusts beyond the built-in presets: {"<chainId>": ["0x<market contract>" | "0x<Morpho market id>", ...]}.
  TOPUP_TRUSTED_MARKETS: optionalSetting(jsonSetting(withChainIdKeys(z.preprocess((value) => (Array.isArray(value) ? value : [value]), z.array(trustedMarketSchema))))),
  // The owner's USD price feeds for markets whose values are not in dollars: {"<chainId>": {"0x<token>": "0x<feed>" | {"feed": "0x…", "maxAgeSeconds": n}}}.
  USD_PRICE_FEEDS: optionalSetting(jsonSetting(withChainIdKeys(usdPriceFeedsOfChain))),
  // Contracts a protocol needs beside the one a watch names, on chains without a built-in deployment:
  // {"<chainId>": {"maker": {"vat": "0x…", "spot": "0x…", "jug": "0x…", "dog": "0x…", "cdpManager": "0x…"}}} (cdpManager optional: for vault ids).
  PROTOCOL_CONTRACTS: optionalSetting(jsonSetting(withChainIdKeys(z.record(z.string().regex(/^[a-z0-9-]+$/, 'keys are protocol names such as "maker"'), z.record(z.string(), addressSetting))))),
  // Tests and local development only: Discord, Slack and PagerDuty requests go to stand-ins at these bases (same paths).
  CHANNEL_API_BASES: optionalSetting(jsonSetting(z.object({ discord: rpcUrl, slack: rpcUrl, pagerduty: rpcUrl }).partial().strict())),
  ...telegramSettings,
  ...emailSettings,
}).superRefine(requireTelegramPair).superRefine(checkEmailSettings).superRefine(checkHeartbeatUrl).superRefine(checkChannelApiBases);

/** Production talks to the real Discord, Slack and PagerDuty hosts only: an override needs the local-development switch. */
function checkChannelApiBases(settings: { CHANNEL_API_BASES?: unknown; ALLOW_PRIVATE_WEBHOOK_URLS: boolean }, ctx: z.RefinementCtx) {
  if (settings.CHANNEL_API_BASES !== undefined && !settings.ALLOW_PRIVATE_WEBHOOK_URLS) {
    ctx.addIssue({ code: 'custom', path: ['CHANNEL_API_BASES'], message: 'is for tests and local development only and needs ALLOW_PRIVATE_WEBHOOK_URLS=true; remove it in production' });
  }
}

/** The heartbeat URL follows the webhook rules: https, and loopback/private or http only with ALLOW_PRIVATE_WEBHOOK_URLS=true. */
function checkHeartbeatUrl(settings: { HEARTBEAT_URL?: string | undefined; ALLOW_PRIVATE_WEBHOOK_URLS: boolean }, ctx: z.RefinementCtx) {
  if (settings.HEARTBEAT_URL === undefined) return;
  const parsed = parseWebhookUrl(settings.HEARTBEAT_URL, { allowPrivate: settings.ALLOW_PRIVATE_WEBHOOK_URLS });
  if (!parsed.ok) ctx.addIssue({ code: 'custom', path: ['HEARTBEAT_URL'], message: `follows the webhook URL rules: ${parsed.error.message}` });
}

export type AppConfig = {
  chains: Map<number, ChainConfig>;
  adminToken: string;
  /** What tenant API keys are tagged with: API_KEY_SECRET, or ADMIN_TOKEN when that is unset (a key is derived from it). */
  apiKeySecret: { source: 'API_KEY_SECRET' | 'ADMIN_TOKEN'; value: string };
  pollIntervalSeconds: number;
  allowPrivateWebhookUrls: boolean;
  readBatchSize: number;
  shardSize: number;
  rpcTimeoutMs: number;
  /** Events, deliveries and executor actions older than this many days are pruned. */
  retentionDays: number;
  maxWatchesPerTenant: number;
  maxChannelsPerTenant: number;
  monitorDegradedAfterSeconds: number;
  hfHistoryBucketSeconds: number;
  /** Oracle price bars for volatility: their width and how long they are kept. */
  riskHistory: { barSeconds: number; windowDays: number };
  /** Pinged after each cron run in which every shard answered and no chain is degraded. */
  heartbeatUrl: string | undefined;
  /** Auto-top-up executor: its signer's address (never the key) and gas price cap. */
  topUp: TopUpSettings;
  /** USD_PRICE_FEEDS: per chain, by token (lowercase address), the owner's USD price feed for markets whose values are in that token. */
  usdPriceFeeds: ReadonlyMap<number, UsdPriceFeeds>;
  /** Present when TELEGRAM_BOT_TOKEN is set. */
  telegram: TelegramConfig | undefined;
  /** Present when email is on (EMAIL_TRANSPORT, or SMTP_HOST, is set). */
  email: EmailConfig | undefined;
  /** Stand-in bases for the hosted channel services (CHANNEL_API_BASES, local development only); empty in production. */
  channelApiBases: ChannelApiBases;
};

export type ChannelApiBases = { discord?: string | undefined; slack?: string | undefined; pagerduty?: string | undefined };

export type TelegramConfig = { token: string; webhookSecret: string; apiBase: string; botUsername: string | undefined };

export type Mailbox = { address: string; name: string | undefined };
export type SmtpConfig = {
  host: string;
  port: number;
  security: 'starttls' | 'tls' | 'none';
  credentials: { user: string; password: string } | undefined;
  allowInsecureAuth: boolean;
  timeoutMs: number;
};
export type EmailConfig = { transport: 'smtp'; from: Mailbox; smtp: SmtpConfig } | { transport: 'cloudflare'; from: Mailbox };

/** Per protocol, its named contracts on one chain (PROTOCOL_CONTRACTS), e.g. maker → { vat, spot, jug, dog }. */
export type ProtocolContracts = Readonly<Record<string, Readonly<Record<string, Address>>>>;

export type ChainConfig = { chainId: number; rpcUrls: string[]; multicall3: Address; protocolContracts?: ProtocolContracts };

function byChainId<T>(map: Record<string, T> | undefined): ReadonlyMap<number, T> {
  return new Map(Object.entries(map ?? {}).map(([chainId, value]) => [Number(chainId), value]));
}

/**
 * Parses the Worker's env (vars and secrets). A missing or bad setting throws an
 * AppError naming the setting and the reason, never its value (values may be secrets).
 */
export function parseConfig(env: Record<string, unknown>): AppConfig {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((issue) => ({
      path: issue.path.map(String).join('.'),
      message: issue.message === 'Invalid input: expected string, received undefined' ? 'is required but not set' : issue.message,
    }));
    const summary = issues.map((issue) => `${issue.path}: ${issue.message}`).join('; ');
    throw new AppError('invalid_config', `invalid configuration: ${summary}`, { status: 503, issues });
  }
  const settings = parsed.data;
  const chains = new Map<number, ChainConfig>();
  for (const [chainId, rpcUrls] of settings.RPC_URLS) {
    const multicall3 = settings.MULTICALL3_ADDRESSES?.[String(chainId)] ?? CANONICAL_MULTICALL3;
    const protocolContracts = settings.PROTOCOL_CONTRACTS?.[String(chainId)];
    chains.set(chainId, { chainId, rpcUrls, multicall3, ...(protocolContracts ? { protocolContracts } : {}) });
  }
  return {
    chains,
    adminToken: settings.ADMIN_TOKEN,
    apiKeySecret: settings.API_KEY_SECRET ? { source: 'API_KEY_SECRET', value: settings.API_KEY_SECRET } : { source: 'ADMIN_TOKEN', value: settings.ADMIN_TOKEN },
    pollIntervalSeconds: settings.POLL_INTERVAL_SECONDS,
    allowPrivateWebhookUrls: settings.ALLOW_PRIVATE_WEBHOOK_URLS,
    readBatchSize: settings.READ_BATCH_SIZE,
    shardSize: settings.SHARD_SIZE,
    rpcTimeoutMs: settings.RPC_TIMEOUT_MS,
    retentionDays: settings.RETENTION_DAYS,
    maxWatchesPerTenant: settings.MAX_WATCHES_PER_TENANT,
    maxChannelsPerTenant: settings.MAX_CHANNELS_PER_TENANT,
    monitorDegradedAfterSeconds: settings.MONITOR_DEGRADED_AFTER_SECONDS,
    hfHistoryBucketSeconds: settings.HF_HISTORY_BUCKET_SECONDS,
    riskHistory: { barSeconds: settings.RISK_PRICE_BAR_SECONDS, windowDays: settings.RISK_HISTORY_DAYS },
    heartbeatUrl: settings.HEARTBEAT_URL,
    topUp: { signer: settings.TOPUP_PRIVATE_KEY, maxGasWei: settings.TOPUP_MAX_GAS_GWEI, trustedMarkets: byChainId<readonly TrustedMarketKey[]>(settings.TOPUP_TRUSTED_MARKETS) },
    usdPriceFeeds: byChainId<UsdPriceFeeds>(settings.USD_PRICE_FEEDS),
    telegram:
      settings.TELEGRAM_BOT_TOKEN && settings.TELEGRAM_WEBHOOK_SECRET
        ? { token: settings.TELEGRAM_BOT_TOKEN, webhookSecret: settings.TELEGRAM_WEBHOOK_SECRET, apiBase: settings.TELEGRAM_API_BASE, botUsername: settings.TELEGRAM_BOT_USERNAME?.replace(/^@/, '') }
        : undefined,
    email: emailConfigFrom(settings),
    channelApiBases: settings.CHANNEL_API_BASES ?? {},
  };
}
