import { decimalToWad, distanceToLiquidation, formatWad } from '../domain/risk';
import type { WatchRisk } from '../risk/watch-risk';

/**
 * How the dashboard shows watches: order, level names, distances, risk and ages. Pure
 * functions of what the JSON API returns, so the pages say exactly what the API says.
 */

export type ListedWatch = { id: string; label: string; healthFactor: string | null; observedAt: string | null };

/**
 * Most at risk first: read watches by health factor ascending, then read watches without
 * debt (no health factor: infinitely safe), then watches not read yet; ties by label, then id.
 */
export function sortByHealthFactor<T extends ListedWatch>(watches: readonly T[]): T[] {
  const rank = (watch: T) => (watch.observedAt === null ? 2 : watch.healthFactor === null ? 1 : 0);
  return [...watches].sort((a, b) => {
    const byRank = rank(a) - rank(b);
    if (byRank !== 0) return byRank;
    if (rank(a) === 0) {
      const diff = decimalToWad(a.healthFactor!) - decimalToWad(b.healthFactor!);
      if (diff !== 0n) return diff < 0n ? -1 : 1;
    }
    return a.label.localeCompare(b.label) || a.id.localeCompare(b.id);
  });
}

const LEVEL_NAMES: Record<string, string> = {
  ok: 'OK',
  warning: 'Warning',
  margin_call: 'Margin call',
  critical: 'Critical',
  liquidatable: 'Liquidatable',
};

/** The level as words (colour is never the only sign); "Not read yet" before the first observation. */
export function levelName(level: string | null): string {
  if (level === null) return 'Not read yet';
  return Object.hasOwn(LEVEL_NAMES, level) ? LEVEL_NAMES[level]! : level;
}

/** The CSS class of a level's colour; unknown levels look like "not read". */
export function levelClass(level: string | null): string {
  return level !== null && Object.hasOwn(LEVEL_NAMES, level) ? `level-${level.replace('_', '-')}` : 'level-unknown';
}

/** "23.45 %": how far collateral prices may fall before HF 1; "—" when there is no debt or nothing was read. */
export function distanceText(healthFactor: string | null): string {
  if (healthFactor === null) return '—';
  const distance = distanceToLiquidation(decimalToWad(healthFactor));
  return distance === null ? '—' : `${formatWad(distance * 100n, 2)} %`;
}

/** "1.6500", or "∞ (no debt)" for a read position without debt, "—" before the first read. */
export function healthFactorText(healthFactor: string | null, observedAt: string | null): string {
  if (observedAt === null) return '—';
  return healthFactor ?? '∞ (no debt)';
}

/** The 24 h liquidation probability on a watch page (a fraction); null when unknown, so it is left out. */
export function risk24h(watch: { risk: Pick<WatchRisk, 'liquidationProbability'> }): number | null {
  return watch.risk.liquidationProbability['24h'];
}

export function percentText(fraction: number): string {
  const percent = fraction * 100;
  return percent > 0 && percent < 0.01 ? '< 0.01 %' : `${percent.toFixed(2)} %`;
}

/** "12 s ago", "5 min ago", "3 h ago", "2 d ago"; "—" for never. */
export function ageText(at: string | null, now: number): string {
  if (at === null) return '—';
  const seconds = Math.max(0, Math.round((now - Date.parse(at)) / 1000));
  if (seconds < 90) return `${seconds} s ago`;
  if (seconds < 90 * 60) return `${Math.round(seconds / 60)} min ago`;
  if (seconds < 36 * 3600) return `${Math.round(seconds / 3600)} h ago`;
  return `${Math.round(seconds / 86_400)} d ago`;
}

/** Short form of an address or id for narrow screens: 0x1234…abcd. */
export function shortHex(value: string): string {
  return value.length > 14 ? `${value.slice(0, 6)}…${value.slice(-4)}` : value;
}

/** One line for the alert log: "ok → warning at HF 1.4437", "monitor degraded (stale)", "raised: Branch shut down", a top-up's message. */
export function eventSummary(body: unknown): string {
  const event = (body ?? {}) as {
    type?: string;
    level?: string;
    previousLevel?: string;
    position?: { healthFactor?: string | null } | null;
    monitor?: { reason?: string };
    condition?: { title?: string };
    topUp?: { message?: string };
    message?: string;
  };
  if (event.type?.startsWith('alert.') && event.level !== undefined) {
    const hf = event.position ? ` at HF ${event.position.healthFactor ?? '∞'}` : '';
    return `${levelName(event.previousLevel ?? null)} → ${levelName(event.level)}${hf}`;
  }
  if (event.type?.startsWith('monitor.')) return `${event.type === 'monitor.degraded' ? 'not seen' : 'seen again'}${event.monitor?.reason ? ` (${event.monitor.reason})` : ''}`;
  if (event.type?.startsWith('condition.') && event.condition?.title) return `${event.type === 'condition.raised' ? 'raised' : 'cleared'}: ${event.condition.title}`;
  if (event.topUp?.message) return event.topUp.message;
  return event.message ?? event.type ?? 'event';
}
