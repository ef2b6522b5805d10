import { z } from 'zod';
import { getAddress, isAddress, type Address } from 'viem';
import { AppError } from '../lib/errors';

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

const addressSchema = z.string().refine((value) => isAddress(value, { strict: false }), 'must be a 0x-prefixed 20-byte address').transform((value) => getAddress(value));

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

export const envSchema = z.object({
  RPC_URLS: jsonSetting(rpcUrlsSchema),
  MULTICALL3_ADDRESSES: jsonSetting(withChainIdKeys(addressSchema)).optional(),
  ADMIN_TOKEN: z.string().min(16, 'must be at least 16 characters (use a long random value)'),
  POLL_INTERVAL_SECONDS: intSetting(1, 60, 12),
  ALLOW_PRIVATE_WEBHOOK_URLS: booleanSetting.optional().transform((value) => value ?? false),
  READ_BATCH_SIZE: intSetting(1, 2000, 300),
  SHARD_SIZE: intSetting(1, 5000, 250),
  RPC_TIMEOUT_MS: intSetting(100, 60_000, 8000),
});

export type AppConfig = {
  chains: Map<number, ChainConfig>;
  adminToken: string;
  pollIntervalSeconds: number;
  allowPrivateWebhookUrls: boolean;
  readBatchSize: number;
  shardSize: number;
  rpcTimeoutMs: number;
};

export type ChainConfig = { chainId: number; rpcUrls: string[]; multicall3: Address };

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
    chains.set(chainId, { chainId, rpcUrls, multicall3 });
  }
  return {
    chains,
    adminToken: settings.ADMIN_TOKEN,
    pollIntervalSeconds: settings.POLL_INTERVAL_SECONDS,
    allowPrivateWebhookUrls: settings.ALLOW_PRIVATE_WEBHOOK_URLS,
    readBatchSize: settings.READ_BATCH_SIZE,
    shardSize: settings.SHARD_SIZE,
    rpcTimeoutMs: settings.RPC_TIMEOUT_MS,
  };
}
