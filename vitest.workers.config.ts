import { defineConfig } from 'vitest/config';
import { cloudflareTest } from '@cloudflare/vitest-plugin';

// Tests inside workerd: routes, Durable Objects, alarms, cron. globalSetup (Node) starts
// a local anvil with real Aave v3 and a webhook receiver, and passes their URLs in.
export default defineConfig({
  plugins: [
    cloudflareTest(({ inject }) => ({
      wrangler: { configPath: './wrangler.toml' },
      miniflare: {
        bindings: {
          RPC_URLS: JSON.stringify({ '31337': inject<string>('rpcUrl') }),
          ADMIN_TOKEN: 'test-admin-token-0123456789',
          ALLOW_PRIVATE_WEBHOOK_URLS: 'true',
          POLL_INTERVAL_SECONDS: '2',
          TEST_MARKET: inject<string>('market'),
          TEST_RECEIVER_URL: inject<string>('receiverUrl'),
          TEST_CONTROL_URL: inject<string>('controlUrl'),
          // Provided by test/workers/telegram-setup.ts and email-setup.ts (real servers on loopback).
          ...(inject<Record<string, string> | undefined>('telegramBindings') ?? {}),
          ...(inject<Record<string, string> | undefined>('emailBindings') ?? {}),
        },
      },
    })),
  ],
  test: {
    name: 'workers',
    include: ['test/workers/**/*.test.ts'],
    globalSetup: ['test/workers/global-setup.ts', 'test/workers/telegram-setup.ts', 'test/workers/email-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
