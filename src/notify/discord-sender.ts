import { parseConfig } from '../config/env';
import type { OutgoingEvent, SendOutcome } from './channel';
import { renderDiscordMessage } from './discord-format';
import { eventMetaOf } from './event-meta';
import { answerText, commonOutcome, postJson, type HttpAnswer } from './http-send';
import { messageFor } from './render';
import { endpointFor } from './service-urls';

/**
 * What a Discord answer means (pure):
 * - 2xx (204 without ?wait) → delivered; 429 and 5xx → retry, not before Retry-After;
 * - 404 (Unknown Webhook: deleted) and 401 (Invalid Webhook Token: regenerated) → gone;
 * - 403 (Missing Access, e.g. the channel's permissions changed) → gone: nothing we send can fix it;
 * - other 4xx (400: a message Discord refused) → failed: sending it again cannot help.
 */
export function classifyDiscordAnswer(answer: HttpAnswer): SendOutcome {
  const response = commonOutcome('Discord', answer);
  if (response.kind !== 'answer') return response;
  const said = answerText('Discord', response);
  if (response.status === 401 || response.status === 403 || response.status === 404) return { kind: 'gone', status: response.status, reason: `${said} (the webhook was deleted or its token changed: create the channel again with a new webhook URL)` };
  return { kind: 'failed', reason: said };
}

/** Renders an outbox event for Discord and posts it to the channel's webhook (its URL is the channel's secret). */
export async function sendDiscordEvent(env: Env, webhookUrl: string, event: OutgoingEvent): Promise<SendOutcome> {
  const base = parseConfig(env as unknown as Record<string, unknown>).channelApiBases.discord;
  const body = JSON.parse(event.body) as unknown;
  return classifyDiscordAnswer(await postJson(endpointFor(webhookUrl, base), renderDiscordMessage(messageFor(body), eventMetaOf(body))));
}
