import type { OutgoingEvent, SendOutcome } from './channel';
import { eventMetaOf } from './event-meta';
import { answerText, commonOutcome, postJson, type HttpAnswer } from './http-send';
import { renderNtfyMessage } from './ntfy-format';
import { messageFor } from './render';

/**
 * What an ntfy answer means (pure): 2xx → delivered; 429 and 5xx → retry (Retry-After);
 * 401/403 (the token is wrong or revoked, or the topic is reserved by someone else) and
 * 404/410 (no ntfy server at that URL) → gone, since nothing we send changes them; any other
 * 4xx (400, 413 too large) → failed.
 */
export function classifyNtfyAnswer(answer: HttpAnswer): SendOutcome {
  const response = commonOutcome('ntfy', answer);
  if (response.kind !== 'answer') return response;
  const said = answerText('ntfy', response);
  if ([401, 403, 404, 410].includes(response.status)) return { kind: 'gone', status: response.status, reason: `${said} (check the server, topic and access token, then create the channel again)` };
  return { kind: 'failed', reason: said };
}

/** Publishes an outbox event to the channel's topic; `token` (the channel's secret) is an ntfy access token, or null for an open topic. */
export async function sendNtfyEvent(target: { server: string; topic: string }, token: string | null, event: OutgoingEvent): Promise<SendOutcome> {
  const body = JSON.parse(event.body) as unknown;
  const publish = renderNtfyMessage(messageFor(body), eventMetaOf(body), target.topic);
  // JSON publishing goes to the server's root; the topic is in the body.
  return classifyNtfyAnswer(await postJson(`${target.server}/`, publish, token ? { headers: { authorization: `Bearer ${token}` } } : {}));
}
