import { describe, expect, it } from 'vitest';
import { ageText, distanceText, eventSummary, healthFactorText, levelClass, levelName, percentText, risk24h, sortByHealthFactor } from '../../src/dashboard/present';
import { WatchesPage, type WatchRow } from '../../src/dashboard/views/watches';
import { RISK_OFF } from '../../src/risk/watch-risk';

const row = (id: string, label: string, healthFactor: string | null, observedAt: string | null) => ({ id, label, healthFactor, observedAt });
const seen = '2026-01-01T00:00:00.000Z';

describe('dashboard presentation', () => {
  it('sorts read watches by health factor ascending (as exact decimals), then read ones without debt, then unread ones', () => {
    const sorted = sortByHealthFactor([
      row('w1', 'never read', null, null),
      row('w2', 'no debt', null, seen),
      row('w3', 'safe', '2.2000', seen),
      row('w4', 'risky', '1.3500', seen),
      row('w5', 'a tie', '1.3500', seen),
      row('w6', 'long digits', '1.34999', seen),
      row('w7', 'big', '10.0000', seen),
    ]);
    expect(sorted.map((watch) => watch.id)).toEqual(['w6', 'w5', 'w4', 'w3', 'w7', 'w2', 'w1']);
  });

  it('names levels in words and maps unknown levels to the neutral colour', () => {
    expect(levelName('margin_call')).toBe('Margin call');
    expect(levelName(null)).toBe('Not read yet');
    expect(levelClass('margin_call')).toBe('level-margin-call');
    expect(levelClass('something_new')).toBe('level-unknown');
    expect(levelClass(null)).toBe('level-unknown');
    expect(levelName('constructor')).toBe('constructor');
    expect(levelClass('constructor')).toBe('level-unknown');
  });

  it('shows the distance to liquidation as the price fall 1 − 1/HF, floored to 0.01 %, and 0 at or below HF 1', () => {
    expect(distanceText('1.6500')).toBe('39.39 %');
    expect(distanceText('2')).toBe('50.00 %');
    expect(distanceText('0.9500')).toBe('0.00 %');
    expect(distanceText(null)).toBe('—');
  });

  it('tells "no debt" (read, no health factor) apart from "not read yet"', () => {
    expect(healthFactorText(null, seen)).toBe('∞ (no debt)');
    expect(healthFactorText(null, null)).toBe('—');
    expect(healthFactorText('1.2000', seen)).toBe('1.2000');
  });

  it("reads a watch page's 24 h liquidation probability from risk.liquidationProbability, null when unknown", () => {
    expect(risk24h({ risk: { liquidationProbability: { '1h': 0.001, '24h': 0.0375 } } })).toBe(0.0375);
    expect(risk24h({ risk: { liquidationProbability: { '1h': null, '24h': null } } })).toBeNull();
    expect(percentText(0.0375)).toBe('3.75 %');
    expect(percentText(0.00001)).toBe('< 0.01 %');
  });

  it('says how long ago in s, min, h or d', () => {
    const now = Date.parse(seen);
    expect(ageText(new Date(now - 12_000).toISOString(), now)).toBe('12 s ago');
    expect(ageText(new Date(now - 5 * 60_000).toISOString(), now)).toBe('5 min ago');
    expect(ageText(new Date(now - 3 * 3_600_000).toISOString(), now)).toBe('3 h ago');
    expect(ageText(new Date(now - 3 * 86_400_000).toISOString(), now)).toBe('3 d ago');
    expect(ageText(null, now)).toBe('—');
  });

  it('summarizes alert, monitor and test events in one line', () => {
    expect(eventSummary({ type: 'alert.escalated', previousLevel: 'warning', level: 'critical', position: { healthFactor: '1.0725' } })).toBe('Warning → Critical at HF 1.0725');
    expect(eventSummary({ type: 'monitor.degraded', monitor: { reason: 'stale' } })).toBe('not seen (stale)');
    expect(eventSummary({ type: 'channel.test', message: 'marginwatch test event' })).toBe('marginwatch test event');
    expect(eventSummary(null)).toBe('event');
  });

  it('lists watches with a 24 h risk column only when some watch has risk metrics', async () => {
    const base: WatchRow = {
      id: 'w_1', chainId: 1, protocol: 'aave-v3', market: '0x0000000000000000000000000000000000000001', protocolAddress: null,
      account: '0x00000000000000000000000000000000000000aa', label: 'main', thresholds: { warning: 1.5, marginCall: 1.25, critical: 1.1 },
      channels: [], silencedUntil: null, topUp: null, risk: RISK_OFF, createdAt: seen, level: 'warning', healthFactor: '1.4000', observedAt: seen, monitor: 'ok', liquidationProbability24h: null,
    };
    const render = async (watches: WatchRow[]) => String(await WatchesPage({ session: { csrfToken: 't', current: 'watches' }, watches, truncated: false, now: Date.parse(seen) }).toString());
    const without = await render([base]);
    expect(without).not.toContain('24 h risk');
    expect(without).toContain('<span class="badge level-warning">Warning</span>');
    // A row with a known 24 h probability (as GET /v1/watches items carry it).
    const withRisk = await render([{ ...base, liquidationProbability24h: 0.0125 }]);
    expect(withRisk).toContain('24 h risk');
    expect(withRisk).toContain('1.25 %');
  });
});
