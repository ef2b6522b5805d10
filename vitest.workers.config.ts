import { defineConfig } from 'vitest/config';
import { cloudflareTest } from '@cloudflare/vitest-plugin';
import { toHex } from 'viem';
import { mnemonicToAccount } from 'viem/accounts';

// The top-up executor signs with anvil's default account 5 (a well-known test key, funded with
// test ether on the local chain); derived here rather than written down.
const topUpKey = toHex(mnemonicToAccount('test test test test test test test test test test test junk', { addressIndex: 5 }).getHdKey().privateKey!);

const TEST_ADMIN_TOKEN = 'test-admin-token-0123456789abcdefghijklmnop';
// wrangler.toml requires ADMIN_TOKEN ([secrets]); the plugin reads the config the way `wrangler dev`
// does, from .dev.vars or the process environment, and warned once per test file that it was
// missing. The binding below is what the tests use; this only tells wrangler it is set.
process.env.ADMIN_TOKEN ??= TEST_ADMIN_TOKEN;

// Tests inside workerd: routes, Durable Objects, alarms, cron. globalSetup (Node) starts
// a local anvil with real Aave v3 and a webhook receiver, and passes their URLs in.
export default defineConfig({
  plugins: [
    cloudflareTest(({ inject }) => ({
      wrangler: { configPath: './wrangler.toml' },
      miniflare: {
        bindings: {
          RPC_URLS: JSON.stringify({ '31337': inject<string>('rpcUrl') }),
          ADMIN_TOKEN: TEST_ADMIN_TOKEN,
          ALLOW_PRIVATE_WEBHOOK_URLS: 'true',
          POLL_INTERVAL_SECONDS: '2',
          TOPUP_PRIVATE_KEY: topUpKey,
          TOPUP_MAX_GAS_GWEI: '50',
          // The local chain's market is no preset: the owner trusts it explicitly, as `npm start` does.
          // The Morpho contract is listed too, as an owner might: it trusts none of its markets (those go by id, in topUpTargets).
          TOPUP_TRUSTED_MARKETS: JSON.stringify({ '31337': [inject<string>('market'), inject<string>('comet'), inject<string>('morpho'), ...inject<string[]>('topUpTargets')] }),
          // The local Maker deployment has no built-in Spotter, Jug and Dog: the operator names them.
          PROTOCOL_CONTRACTS: inject<string>('protocolContracts'),
          // The owner's ETH / USD feed for the local Morpho WETH-loan market (values in WETH).
          USD_PRICE_FEEDS: inject<string>('usdPriceFeeds'),
          TEST_MARKET: inject<string>('market'),
          TEST_RECEIVER_URL: inject<string>('receiverUrl'),
          TEST_CONTROL_URL: inject<string>('controlUrl'),
          // Provided by test/workers/telegram-setup.ts, email-setup.ts and channels-setup.ts (real servers on loopback).
          ...(inject<Record<string, string> | undefined>('telegramBindings') ?? {}),
          ...(inject<Record<string, string> | undefined>('emailBindings') ?? {}),
          ...(inject<Record<string, string> | undefined>('channelBindings') ?? {}),
        },
      },
    })),
  ],
  test: {
    name: 'workers',
    // One shared chain: test files move prices, so they run one after another.
    fileParallelism: false,
    include: ['test/workers/**/*.test.ts'],
    globalSetup: ['test/workers/global-setup.ts', 'test/workers/telegram-setup.ts', 'test/workers/email-setup.ts', 'test/workers/channels-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
