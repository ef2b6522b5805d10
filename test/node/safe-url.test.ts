import { describe, expect, it } from 'vitest';
import { parseWebhookUrl } from '../../src/lib/safe-url';

const strict = { allowPrivate: false };
const dev = { allowPrivate: true };

describe('parseWebhookUrl', () => {
  it.each([
    'https://example.com/hooks/marginwatch',
    'https://hooks.example.com:8443/a?b=c',
    'https://93.184.216.34/hook',
    'https://[2606:4700:4700::1111]/hook',
    'https://[2001:4860:4860::8888]/', // just outside 2001::/23
    'https://192.0.1.1/', // just outside 192.0.0.0/24 and 192.0.2.0/24
    'https://172.32.0.1/', // just outside 172.16/12
    'https://100.128.0.1/', // just outside 100.64/10
    'https://198.20.0.1/', // just outside 198.18/15
    'https://localhost.example.com/', // "localhost" only as the last label counts
    '  https://example.com/padded  ',
  ])('accepts %s', (raw) => {
    const result = parseWebhookUrl(raw, strict);
    expect(result.ok).toBe(true);
  });

  it('returns the parsed URL', () => {
    const result = parseWebhookUrl('https://Example.COM/x', strict);
    expect(result.ok && result.url.href).toBe('https://example.com/x');
  });

  // [url, substring expected in the message]
  const refused: Array<[string, string]> = [
    ['http://example.com/hook', 'must use https'],
    ['http://127.0.0.1/', 'must use https'],
    ['http://[::1]/', 'must use https'],
    ['http://0x7f000001/', 'must use https'],
    ['http://2130706433/', 'must use https'],
    ['https://127.0.0.1/', 'loopback'],
    ['https://127.255.0.9:8787/x', 'loopback'],
    ['https://[::1]/', 'loopback'],
    ['https://0x7f000001/', 'loopback'],
    ['https://2130706433/', 'loopback'],
    ['https://0177.0.0.1/', 'loopback'],
    ['https://127.1/', 'loopback'],
    ['https://10.1.2.3/', 'private'],
    ['https://172.16.0.1/', 'private'],
    ['https://172.31.255.255/', 'private'],
    ['https://192.168.1.1/', 'private'],
    ['https://100.64.0.1/', 'carrier-grade NAT'],
    ['https://169.254.169.254/latest/meta-data/', 'link-local'],
    ['https://198.18.0.1/', 'benchmarking'],
    ['https://0.0.0.0/', 'unspecified'],
    ['https://0/', 'unspecified'],
    ['https://224.0.0.1/', 'multicast'],
    ['https://240.0.0.1/', 'reserved'],
    ['https://255.255.255.255/', 'broadcast'],
    ['https://[::]/', 'unspecified'],
    ['https://[fc00::1]/', 'unique-local'],
    ['https://[fd12:3456::1]/', 'unique-local'],
    ['https://[fe80::1]/', 'link-local'],
    ['https://[ff02::1]/', 'multicast'],
    ['https://[::ffff:127.0.0.1]/', 'loopback'],
    ['https://[::ffff:10.0.0.1]/', 'private'],
    ['https://[::ffff:a9fe:a9fe]/', 'link-local'],
    ['https://[64:ff9b::7f00:1]/', 'loopback'],
    ['https://[2002:c0a8:0101::1]/', 'private'],
    ['https://192.0.0.170/', 'IETF protocol-assignment'],
    ['https://192.0.2.10/', 'documentation'],
    ['https://198.51.100.1/', 'documentation'],
    ['https://203.0.113.99/', 'documentation'],
    ['https://192.88.99.1/', '6to4 relay'],
    ['https://192.31.196.1/', 'AS112'],
    ['https://[64:ff9b::808:808]/', 'NAT64'], // a public IPv4 through NAT64 still goes through a translator
    ['https://[64:ff9b:1::a00:1]/', 'local-use NAT64'],
    ['https://[100::1]/', 'discard-only'],
    ['https://[2001::1]/', 'Teredo'],
    ['https://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/', 'Teredo'],
    ['https://[2001:2::1]/', 'IETF protocol-assignment'],
    ['https://[2001:db8::1]/', 'documentation'],
    ['https://[2002:808:808::1]/', '6to4'],
    ['https://[3fff::1]/', 'documentation'],
    ['https://[5f00::1]/', 'SRv6'],
    ['https://localhost/', 'localhost'],
    ['https://LOCALHOST./', 'localhost'],
    ['https://api.localhost/', 'localhost'],
    ['https://printer.local/', '.local'],
    ['https://metadata.google.internal/', '.internal'],
    ['https://user:pw@x.com/', 'credentials'],
    ['https://user@x.com/', 'credentials'],
    ['ftp://example.com/file', 'must use https'],
    ['javascript:alert(1)', 'must use https'],
    ['/relative/path', 'absolute URL'],
    ['example.com/hook', 'absolute URL'],
    ['', 'required'],
    ['https://exa mple.com/', 'absolute URL'],
    [`https://example.com/${'a'.repeat(3000)}`, 'at most'],
  ];

  it.each(refused)('refuses %s', (raw, fragment) => {
    const result = parseWebhookUrl(raw, strict);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error.code).toBe('invalid_webhook_url');
    expect(result.error.status).toBe(400);
    expect(result.error.message).toContain(fragment);
    expect(result.error.issues).toEqual([{ path: 'url', message: result.error.message }]);
  });

  it('tells how to allow private addresses for local development', () => {
    const result = parseWebhookUrl('https://10.0.0.1/', strict);
    expect(!result.ok && result.error.message).toMatch(
      /loopback and private addresses are refused; set ALLOW_PRIVATE_WEBHOOK_URLS=true for local development/,
    );
  });

  const privateOnly = refused.filter(
    ([raw, fragment]) => !['credentials', 'absolute URL', 'required', 'at most'].includes(fragment) && !/^(ftp|javascript):/.test(raw),
  );

  it.each([...privateOnly.map(([raw]) => raw), 'http://127.0.0.1:8787/hook', 'http://[::1]:9000/', 'http://0x7f000001/', 'http://2130706433/'])(
    'allows %s with allowPrivate',
    (raw) => {
      const result = parseWebhookUrl(raw, dev);
      expect(result.ok).toBe(true);
    },
  );

  it.each([
    ['https://user:pw@127.0.0.1/', 'credentials'],
    ['ftp://127.0.0.1/', 'must use https'],
    ['not a url', 'absolute URL'],
  ])('still refuses %s with allowPrivate', (raw, fragment) => {
    const result = parseWebhookUrl(raw, dev);
    expect(!result.ok && result.error.message).toContain(fragment);
  });
});
