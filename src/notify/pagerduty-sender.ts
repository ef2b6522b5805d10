import { parseConfig } from '../config/env';
import type { OutgoingEvent, SendOutcome } from './channel';
import { eventMetaOf } from './event-meta';
import { answerText, commonOutcome, postJson, type HttpAnswer } from './http-send';
import { renderPagerDutyRequest } from './pagerduty-format';
import { messageFor } from './render';

export const PAGERDUTY_EVENTS_HOSTS = { us: 'https://events.pagerduty.com', eu: 'https://events.eu.pagerduty.com' } as const;

/**
 * What a PagerDuty Events API answer means (pure): 202 → delivered; 429 (too many events
 * for this key) and 5xx → retry with backoff; 401/403/404 (the integration is gone) → gone;
 * 400 (an event PagerDuty calls invalid) → failed, with PagerDuty's reason.
 */
export function classifyPagerDutyAnswer(answer: HttpAnswer): SendOutcome {
  const response = commonOutcome('PagerDuty', answer);
  if (response.kind !== 'answer') return response;
  const said = answerText('PagerDuty', response);
  if ([401, 403, 404].includes(response.status)) return { kind: 'gone', status: response.status, reason: `${said} (check the integration's routing key, then create the channel again)` };
  return { kind: 'failed', reason: said };
}

/** Sends an outbox event to PagerDuty with the channel's routing key (its secret). */
export async function sendPagerDutyEvent(env: Env, target: { region: 'us' | 'eu' }, routingKey: string, event: OutgoingEvent): Promise<SendOutcome> {
  const base = parseConfig(env as unknown as Record<string, unknown>).channelApiBases.pagerduty ?? PAGERDUTY_EVENTS_HOSTS[target.region];
  const body = JSON.parse(event.body) as unknown;
  const request = renderPagerDutyRequest(messageFor(body), eventMetaOf(body), routingKey);
  return classifyPagerDutyAnswer(await postJson(`${base.replace(/\/+$/, '')}${request.path}`, request.body));
}
