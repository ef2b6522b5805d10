import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { experimental_readRawConfig, getPlatformProxy } from 'wrangler';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { assignmentsOf } from '../../tools/lib/dev-vars';
import { environmentWithout, widenRequiredSecrets, writeLocalWranglerConfig } from '../../tools/lib/local-wrangler-config';

// wrangler.toml requires ADMIN_TOKEN alone; the local copy (npm run dev, the demo, the end-to-end
// tests) requires every name its env file sets. Both read by wrangler itself: the bindings come
// from getPlatformProxy, which loads secrets the way `wrangler dev` does.
const REPO_ROOT = resolve(import.meta.dirname, '../..');
const TELEGRAM_BOT_TOKEN = '123456789:AAbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb';

async function secretsSeenBy(configPath: string, envFile: string): Promise<Record<string, unknown>> {
  // With a [secrets] table wrangler lets the process environment override the file: keep the
  // names out of it, as npm run dev does (the workers project's config sets ADMIN_TOKEN there).
  for (const name of ['ADMIN_TOKEN', 'TELEGRAM_BOT_TOKEN', 'RPC_URLS']) vi.stubEnv(name, undefined);
  const proxy = await getPlatformProxy<Record<string, unknown>>({ configPath, envFiles: [envFile], persist: false, remoteBindings: false });
  try {
    return { ADMIN_TOKEN: proxy.env.ADMIN_TOKEN, TELEGRAM_BOT_TOKEN: proxy.env.TELEGRAM_BOT_TOKEN, RPC_URLS: proxy.env.RPC_URLS };
  } finally {
    await proxy.dispose();
    vi.unstubAllEnvs();
  }
}

describe('local wrangler config', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'marginwatch-local-config-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('wrangler.toml requires exactly the secrets .dev.vars.example leaves uncommented (ADMIN_TOKEN), the ones the Deploy button asks for', () => {
    const { rawConfig } = experimental_readRawConfig({ config: join(REPO_ROOT, 'wrangler.toml') });
    const example = assignmentsOf(readFileSync(join(REPO_ROOT, '.dev.vars.example'), 'utf8')).map(({ name }) => name);
    expect(rawConfig.secrets?.required).toEqual(['ADMIN_TOKEN']);
    expect(example).toEqual(rawConfig.secrets?.required);
  });

  it('widens the required secrets (the config\'s first, no repeats, no [vars] names) and makes main and the assets folder absolute', () => {
    const raw = { name: 'w', main: 'src/index.ts', assets: { directory: './public', binding: 'ASSETS' }, vars: { RPC_URLS: '{}' }, secrets: { required: ['ADMIN_TOKEN'] } };
    expect(widenRequiredSecrets(raw, '/repo', ['SMTP_PASSWORD', 'ADMIN_TOKEN', 'RPC_URLS', 'TELEGRAM_BOT_TOKEN'])).toEqual({
      name: 'w',
      main: '/repo/src/index.ts',
      assets: { directory: '/repo/public', binding: 'ASSETS' },
      vars: { RPC_URLS: '{}' },
      secrets: { required: ['ADMIN_TOKEN', 'SMTP_PASSWORD', 'TELEGRAM_BOT_TOKEN'] },
    });
  });

  it('plain wrangler.toml drops an optional secret of the env file; the local copy, written elsewhere, loads it and an env file value for a [vars] name overrides it (real wrangler)', async () => {
    const envFile = join(dir, 'local.env');
    const rpcUrls = '{"1":"https://rpc.example"}';
    writeFileSync(envFile, `ADMIN_TOKEN=${'a'.repeat(64)}\nTELEGRAM_BOT_TOKEN=${TELEGRAM_BOT_TOKEN}\nRPC_URLS='${rpcUrls}'\n`, { mode: 0o600 });
    const plain = await secretsSeenBy(join(REPO_ROOT, 'wrangler.toml'), envFile);
    expect(plain).toEqual({ ADMIN_TOKEN: 'a'.repeat(64), TELEGRAM_BOT_TOKEN: undefined, RPC_URLS: rpcUrls });

    const localConfig = writeLocalWranglerConfig({ configPath: join(REPO_ROOT, 'wrangler.toml'), outPath: join(dir, 'nested', 'wrangler.json'), secretNames: ['ADMIN_TOKEN', 'TELEGRAM_BOT_TOKEN', 'RPC_URLS'] });
    const config = JSON.parse(readFileSync(localConfig, 'utf8')) as { main: string; assets: { directory: string } };
    expect(existsSync(config.main) && existsSync(config.assets.directory)).toBe(true);
    const local = await secretsSeenBy(localConfig, envFile);
    // A [vars] name set in the env file overrides the var, as with plain wrangler.toml.
    expect(local).toEqual({ ADMIN_TOKEN: 'a'.repeat(64), TELEGRAM_BOT_TOKEN, RPC_URLS: rpcUrls });
  }, 60_000);

  it('keeps the env file\'s names out of the child\'s environment, so a shell export cannot replace the file\'s value', () => {
    expect(environmentWithout({ PATH: '/bin', ADMIN_TOKEN: 'from-shell', HOME: '/h' }, ['ADMIN_TOKEN', 'SMTP_HOST'])).toEqual({ PATH: '/bin', HOME: '/h' });
  });
});
