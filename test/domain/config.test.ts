import { describe, expect, it } from 'vitest';
import { CANONICAL_MULTICALL3, parseConfig } from '../../src/config/env';

const valid = { RPC_URLS: '{"1":["https://a.example/v2/k","https://b.example"],"31337":"http://127.0.0.1:8545"}', ADMIN_TOKEN: 'x'.repeat(32) };

function errorOf(env: Record<string, unknown>) {
  try {
    parseConfig(env);
  } catch (error) {
    return error as { code: string; message: string; issues: Array<{ path: string; message: string }> };
  }
  throw new Error('expected parseConfig to throw');
}

describe('parseConfig', () => {
  it('parses chains, defaults and booleans', () => {
    const config = parseConfig({ ...valid, ALLOW_PRIVATE_WEBHOOK_URLS: 'true', POLL_INTERVAL_SECONDS: '5' });
    expect(config.chains.get(1)).toEqual({ chainId: 1, rpcUrls: ['https://a.example/v2/k', 'https://b.example'], multicall3: CANONICAL_MULTICALL3 });
    expect(config.chains.get(31337)!.rpcUrls).toEqual(['http://127.0.0.1:8545']);
    expect(config).toMatchObject({ pollIntervalSeconds: 5, allowPrivateWebhookUrls: true, readBatchSize: 300, shardSize: 300 });
    expect(parseConfig(valid).allowPrivateWebhookUrls).toBe(false);
  });

  it('takes a per-chain Multicall3 address', () => {
    const config = parseConfig({ ...valid, MULTICALL3_ADDRESSES: '{"1":"0x1111111111111111111111111111111111111111"}' });
    expect(config.chains.get(1)!.multicall3).toBe('0x1111111111111111111111111111111111111111');
    expect(config.chains.get(31337)!.multicall3).toBe(CANONICAL_MULTICALL3);
  });

  it.each([
    [{ RPC_URLS: undefined }, 'RPC_URLS', 'is required'],
    [{ RPC_URLS: 'not json' }, 'RPC_URLS', 'valid JSON'],
    [{ RPC_URLS: '{}' }, 'RPC_URLS', 'at least one chain'],
    [{ RPC_URLS: '{"mainnet":"https://x.example"}' }, 'RPC_URLS.mainnet', 'chain ids'],
    [{ RPC_URLS: '{"1":"ws://x.example"}' }, 'RPC_URLS.1', 'http(s) URL'],
    [{ RPC_URLS: '{"1":[]}' }, 'RPC_URLS.1', 'at least one URL'],
    [{ ADMIN_TOKEN: undefined }, 'ADMIN_TOKEN', 'is required'],
    [{ ADMIN_TOKEN: 'short' }, 'ADMIN_TOKEN', 'at least 32'],
    [{ ADMIN_TOKEN: 'x'.repeat(31) }, 'ADMIN_TOKEN', 'at least 32'],
    [{ API_KEY_SECRET: 'x'.repeat(31) }, 'API_KEY_SECRET', 'at least 32'],
    [{ POLL_INTERVAL_SECONDS: '0' }, 'POLL_INTERVAL_SECONDS', 'at least 1'],
    [{ POLL_INTERVAL_SECONDS: 'fast' }, 'POLL_INTERVAL_SECONDS', 'whole number'],
    [{ ALLOW_PRIVATE_WEBHOOK_URLS: 'yes' }, 'ALLOW_PRIVATE_WEBHOOK_URLS', ''],
    [{ MULTICALL3_ADDRESSES: '{"1":"0x12"}' }, 'MULTICALL3_ADDRESSES.1', '20-byte'],
  ])('%j → names %s', (override, path, message) => {
    const error = errorOf({ ...valid, ...override });
    expect(error.code).toBe('invalid_config');
    const issue = error.issues.find((entry) => entry.path === path);
    expect(issue, JSON.stringify(error.issues)).toBeDefined();
    expect(issue!.message).toContain(message);
    expect(error.message).toContain(path);
  });

  it('never puts a setting value in the error (values may be secrets)', () => {
    const error = errorOf({ ...valid, ADMIN_TOKEN: 'sekret' });
    expect(JSON.stringify(error.issues) + error.message).not.toContain('sekret');
  });
});

describe('redactUrlsInText', () => {
  it('cuts every URL in a message down to its origin', async () => {
    const { redactUrlsInText } = await import('../../src/lib/redact-text');
    expect(redactUrlsInText('request to https://eth.example.com/v2/SECRETKEY?x=1 failed; also http://127.0.0.1:8545')).toBe(
      'request to https://eth.example.com/… failed; also http://127.0.0.1:8545',
    );
  });

  it('keeps the punctuation that follows a URL outside it, so the URL is still recognised', async () => {
    const { redactUrlsInText } = await import('../../src/lib/redact-text');
    expect(redactUrlsInText('failed for eth_call: http://127.0.0.1:40325: unreachable; https://rpc.example/v2/KEY, then')).toBe(
      'failed for eth_call: http://127.0.0.1:40325: unreachable; https://rpc.example/…, then',
    );
  });
});
