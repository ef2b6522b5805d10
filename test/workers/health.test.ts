import { describe, expect, it } from 'vitest';
import { api } from './helpers';

describe('GET /health', () => {
  it('answers without auth', async () => {
    const response = await api('GET', '/health');
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ ok: true, chains: [31337] });
  });
});
