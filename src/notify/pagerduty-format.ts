import { cleanText } from './email-format';
import type { EventMeta } from './event-meta';
import type { MessageModel } from './render';
import { cutText } from './text-limits';

/**
 * The PagerDuty rendering of an event (pure), for Events API v2
 * (https://developer.pagerduty.com/docs/events-api-v2/overview/):
 * - alerts: one incident per watch (`dedup_key` = the watch id), so a warning that escalates
 *   to a margin call updates the same incident (its severity follows the level), and
 *   alert.resolved resolves it; where the watched account names several positions (an Euler
 *   owner, a Fluid owner), one incident per position (`<watch id>/position/<id>`), as each alerts
 *   and resolves on its own;
 * - monitor.degraded / monitor.recovered: a second incident per watch (`<watch id>/monitor`),
 *   triggered and resolved the same way, apart from the position's own;
 * - condition.raised / condition.cleared: one incident per watch and condition
 *   (`<watch id>/condition/<code>`), triggered at the condition's severity and resolved when it ends;
 * - top-up events: change events (/v2/change/enqueue), on the service's timeline without paging;
 * - a channel test: an incident of severity info with a key of its own, as PagerDuty's own tests do.
 */

export const PAGERDUTY_SUMMARY_MAX = 1024;
export const PAGERDUTY_ENQUEUE_PATH = '/v2/enqueue';
export const PAGERDUTY_CHANGE_PATH = '/v2/change/enqueue';

export type PagerDutyLink = { href: string; text: string };
export type PagerDutyAlertEvent = {
  routing_key: string;
  event_action: 'trigger' | 'resolve';
  dedup_key: string;
  payload?: { summary: string; source: string; severity: EventMeta['severity']; timestamp?: string; component?: string; group?: string; class: string; custom_details: Record<string, string> };
  links?: PagerDutyLink[];
  client: string;
};
export type PagerDutyChangeEvent = { routing_key: string; payload: { summary: string; source: string; timestamp?: string; custom_details: Record<string, string> }; links?: PagerDutyLink[] };
export type PagerDutyRequest = { path: typeof PAGERDUTY_ENQUEUE_PATH; body: PagerDutyAlertEvent } | { path: typeof PAGERDUTY_CHANGE_PATH; body: PagerDutyChangeEvent };

/** Which incident an event belongs to and what it does to it; null for events that open none (change events). */
export function incidentOf(meta: EventMeta): { dedupKey: string; action: 'trigger' | 'resolve' } | null {
  const watchId = meta.watch?.id;
  if (meta.type.startsWith('alert.') && watchId) {
    return { dedupKey: meta.subPositionId === null ? watchId : `${watchId}/position/${meta.subPositionId}`, action: meta.level === 'ok' ? 'resolve' : 'trigger' };
  }
  if (meta.type.startsWith('monitor.') && watchId) return { dedupKey: `${watchId}/monitor`, action: meta.type === 'monitor.recovered' ? 'resolve' : 'trigger' };
  if (meta.type.startsWith('condition.') && watchId && meta.condition) return { dedupKey: `${watchId}/condition/${meta.condition.code}`, action: meta.type === 'condition.cleared' ? 'resolve' : 'trigger' };
  if (meta.type.startsWith('topup.')) return null;
  return { dedupKey: `${meta.type}/${meta.id}`, action: 'trigger' };
}

export function renderPagerDutyRequest(model: MessageModel, meta: EventMeta, routingKey: string): PagerDutyRequest {
  const line = (text: string) => cleanText(text).trim();
  const summary = cutText(model.headline ? `${line(model.title)} — ${line(model.headline)}` : line(model.title), PAGERDUTY_SUMMARY_MAX);
  // CAIP-10 names the account on its chain: the "affected system" of a position.
  const source = meta.watch ? `eip155:${meta.watch.chainId}:${meta.watch.account}` : 'marginwatch';
  const details: Record<string, string> = {};
  for (const fact of model.facts) details[line(fact.label)] = line(fact.value);
  if (model.action) details['What to do'] = line(model.action);
  details.Event = line(model.footer);
  const links = model.link && model.link.url.startsWith('https://') ? [{ href: model.link.url, text: line(model.link.text) }] : undefined;
  const timestamp = meta.createdAt ?? undefined;
  const incident = incidentOf(meta);
  if (!incident) return { path: PAGERDUTY_CHANGE_PATH, body: { routing_key: routingKey, payload: { summary, source, ...(timestamp ? { timestamp } : {}), custom_details: details }, ...(links ? { links } : {}) } };
  const body: PagerDutyAlertEvent = { routing_key: routingKey, event_action: incident.action, dedup_key: incident.dedupKey, client: 'marginwatch' };
  if (incident.action === 'trigger') {
    body.payload = {
      summary,
      source,
      severity: meta.severity,
      ...(timestamp ? { timestamp } : {}),
      ...(meta.watch ? { component: meta.watch.protocol, group: `chain ${meta.watch.chainId}` } : {}),
      class: meta.type,
      custom_details: details,
    };
  }
  if (links) body.links = links;
  return { path: PAGERDUTY_ENQUEUE_PATH, body };
}
