import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/env';
import { buildMonitorEvent } from '../../src/notify/event-body';
import { messageFor } from '../../src/notify/render';
import { renderTelegramMessage } from '../../src/notify/telegram-format';
import { emailText } from '../../src/notify/email-format';

const watch = { id: 'w_1', label: 'main vault', chainId: 1, protocol: 'aave-v3', market: '0x87870Bca3F3fD6335C3F4ce8392D69350B4fA4E2', account: '0x1111111111111111111111111111111111111111' } as const;
const since = Date.parse('2026-11-30T10:00:00.000Z');

describe('monitor events: body and rendering', () => {
  it('a degraded event carries chain, since, reason and the redacted last error, and renders for Telegram and email', () => {
    const body = buildMonitorEvent({ watch, effect: { type: 'monitor.degraded', eventId: 'evt_w_1_mon_x_degraded', since, reason: 'erroring', lastError: 'rpc_unavailable: https://eth.example/… HTTP 500', at: since + 400_000 } });
    expect(body).toEqual({
      id: 'evt_w_1_mon_x_degraded',
      type: 'monitor.degraded',
      createdAt: '2026-11-30T10:06:40.000Z',
      watch,
      monitor: { chainId: 1, since: '2026-11-30T10:00:00.000Z', reason: 'erroring', lastError: 'rpc_unavailable: https://eth.example/… HTTP 500' },
    });
    const model = messageFor(body);
    expect(model.title).toBe('MONITOR DEGRADED · main vault');
    expect(model.facts).toContainEqual({ label: 'Why', value: 'reading the position keeps failing' });
    expect(renderTelegramMessage(model)).toContain('MONITOR DEGRADED');
    expect(emailText(model)).toContain('2026-11-30T10:00:00.000Z');
  });

  it('a recovered event names the block it was seen on again', () => {
    const body = buildMonitorEvent({ watch, effect: { type: 'monitor.recovered', eventId: 'evt_w_1_mon_x_recovered', since, reason: 'stale', at: since + 900_000 }, seenAgain: { blockNumber: '123', observedAt: '2026-11-30T10:14:59.000Z' } });
    expect(body.monitor).toEqual({ chainId: 1, since: '2026-11-30T10:00:00.000Z', reason: 'stale', blockNumber: '123', observedAt: '2026-11-30T10:14:59.000Z' });
    const model = messageFor(body);
    expect(model.title).toBe('MONITOR RECOVERED · main vault');
    expect(model.facts).toContainEqual({ label: 'Seen again at', value: 'block 123 (2026-11-30T10:14:59.000Z)' });
  });
});

describe('monitor settings', () => {
  const valid = { RPC_URLS: '{"1":"https://a.example"}', ADMIN_TOKEN: 'x'.repeat(32) };
  const issuesOf = (env: Record<string, unknown>) => {
    try {
      parseConfig(env);
    } catch (error) {
      return (error as { issues: Array<{ path: string; message: string }> }).issues;
    }
    throw new Error('expected parseConfig to throw');
  };

  it('defaults MONITOR_DEGRADED_AFTER_SECONDS to 300 and leaves the heartbeat off', () => {
    expect(parseConfig(valid)).toMatchObject({ monitorDegradedAfterSeconds: 300, heartbeatUrl: undefined });
    expect(parseConfig({ ...valid, MONITOR_DEGRADED_AFTER_SECONDS: '600', HEARTBEAT_URL: 'https://hc-ping.example/abc' })).toMatchObject({ monitorDegradedAfterSeconds: 600, heartbeatUrl: 'https://hc-ping.example/abc' });
  });

  it('takes an http or loopback HEARTBEAT_URL only with ALLOW_PRIVATE_WEBHOOK_URLS=true, and names the setting otherwise', () => {
    expect(issuesOf({ ...valid, HEARTBEAT_URL: 'http://hc-ping.example/abc' })).toEqual([{ path: 'HEARTBEAT_URL', message: expect.stringContaining('must use https') }]);
    expect(issuesOf({ ...valid, HEARTBEAT_URL: 'https://127.0.0.1/ping' })).toEqual([{ path: 'HEARTBEAT_URL', message: expect.stringContaining('loopback') }]);
    expect(parseConfig({ ...valid, HEARTBEAT_URL: 'http://127.0.0.1:9/ping', ALLOW_PRIVATE_WEBHOOK_URLS: 'true' }).heartbeatUrl).toBe('http://127.0.0.1:9/ping');
    expect(issuesOf({ ...valid, MONITOR_DEGRADED_AFTER_SECONDS: '5' })).toEqual([{ path: 'MONITOR_DEGRADED_AFTER_SECONDS', message: 'must be at least 30' }]);
  });
});
