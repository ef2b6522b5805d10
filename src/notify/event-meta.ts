/**
 * What a channel needs to know about an event beside its message (pure): its type, alert
 * level and watch, and how severe it is, so that each service can pick its own colour,
 * priority or incident action from one place.
 */
export type Severity = 'info' | 'warning' | 'error' | 'critical';

export type EventMeta = {
  id: string;
  type: string;
  /** The alert level after an alert event (`ok` once resolved); null for other events. */
  level: string | null;
  watch: { id: string; chainId: number; protocol: string; account: string } | null;
  severity: Severity;
  createdAt: string | null;
  /** condition.raised / condition.cleared: which condition, and its own severity; null for other events. */
  condition: { code: string; severity: string } | null;
  /** An alert about one of the positions of an account that names several: its id; null otherwise. */
  subPositionId: string | null;
};

const LEVEL_SEVERITY: Record<string, Severity> = { ok: 'info', warning: 'warning', margin_call: 'error', critical: 'critical', liquidatable: 'critical' };

/** A condition's own severity while raised; its end is news, not an alarm. */
const CONDITION_SEVERITY: Record<string, Severity> = { info: 'info', warning: 'warning', critical: 'critical' };

export function severityOf(type: string, level: string | null, conditionSeverity?: string): Severity {
  if (type.startsWith('alert.')) return (level && LEVEL_SEVERITY[level]) || 'warning';
  if (type === 'condition.raised') return (conditionSeverity && CONDITION_SEVERITY[conditionSeverity]) || 'warning';
  if (type === 'monitor.degraded' || type === 'topup.failed') return 'error';
  return 'info';
}

export function eventMetaOf(body: unknown): EventMeta {
  const event = (typeof body === 'object' && body !== null ? body : {}) as {
    id?: unknown;
    type?: unknown;
    level?: unknown;
    createdAt?: unknown;
    watch?: { id?: unknown; chainId?: unknown; protocol?: unknown; account?: unknown };
    condition?: { code?: unknown; severity?: unknown };
    subPosition?: { id?: unknown };
  };
  const type = typeof event.type === 'string' ? event.type : 'event';
  const level = type.startsWith('alert.') && typeof event.level === 'string' ? event.level : null;
  const watch = event.watch && typeof event.watch.id === 'string'
    ? { id: event.watch.id, chainId: Number(event.watch.chainId), protocol: String(event.watch.protocol), account: String(event.watch.account) }
    : null;
  const condition = type.startsWith('condition.') && typeof event.condition?.code === 'string' ? { code: event.condition.code, severity: String(event.condition.severity) } : null;
  const subPositionId = type.startsWith('alert.') && typeof event.subPosition?.id === 'string' ? event.subPosition.id : null;
  return { id: typeof event.id === 'string' ? event.id : '', type, level, watch, severity: severityOf(type, level, condition?.severity), createdAt: typeof event.createdAt === 'string' ? event.createdAt : null, condition, subPositionId };
}
