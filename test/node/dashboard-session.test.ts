import { describe, expect, it } from 'vitest';
import { csrfTokenOf, newSessionToken, sessionHash, tenantOfSessionToken } from '../../src/dashboard/session';
import { newTenantKey, tenantOfKey } from '../../src/api/api-keys';

const secret = { source: 'API_KEY_SECRET' as const, value: 'session-test-secret-0123456789abcdefghij' };
const tenantId = 't_0123456789abcdef';

describe('dashboard session tokens', () => {
  it('names their tenant when the tag is genuine', async () => {
    const token = await newSessionToken(secret, tenantId);
    expect(token).toMatch(/^mws_0123456789abcdef_[A-Za-z0-9_-]{43}$/);
    expect(await tenantOfSessionToken(secret, token)).toBe(tenantId);
  });

  it('refuses a token with another tenant spliced in, a changed byte, another deployment\'s secret, or another shape', async () => {
    const token = await newSessionToken(secret, tenantId);
    expect(await tenantOfSessionToken(secret, token.replace('0123456789abcdef', 'fedcba9876543210'))).toBeNull();
    const last = token.at(-2) === 'A' ? 'B' : 'A';
    expect(await tenantOfSessionToken(secret, `${token.slice(0, -2)}${last}${token.at(-1)}`)).toBeNull();
    expect(await tenantOfSessionToken({ ...secret, value: `${secret.value}x` }, token)).toBeNull();
    expect(await tenantOfSessionToken(secret, `${token}A`)).toBeNull();
  });

  it('is not an API key and an API key is not a session: the tags are bound to their purpose', async () => {
    const key = await newTenantKey(secret, tenantId);
    expect(await tenantOfSessionToken(secret, key.replace(/^mwk_/, 'mws_'))).toBeNull();
    const token = await newSessionToken(secret, tenantId);
    expect(await tenantOfKey(secret, token.replace(/^mws_/, 'mwk_'))).toBeNull();
  });

  it('derives a form token per session that differs from the stored hash and from other sessions', async () => {
    const one = await newSessionToken(secret, tenantId);
    const two = await newSessionToken(secret, tenantId);
    expect(await csrfTokenOf(one)).toBe(await csrfTokenOf(one));
    expect(await csrfTokenOf(one)).not.toBe(await csrfTokenOf(two));
    expect(await csrfTokenOf(one)).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(await sessionHash(one)).toMatch(/^[0-9a-f]{64}$/);
    expect(Buffer.from(await csrfTokenOf(one), 'base64url').toString('hex')).not.toBe(await sessionHash(one));
  });
});
