import { parseConfig } from '../config/env';
import type { OutgoingEvent, SendOutcome } from './channel';
import { answerText, commonOutcome, postJson, type HttpAnswer } from './http-send';
import { messageFor } from './render';
import { endpointFor } from './service-urls';
import { renderSlackMessage } from './slack-format';

/**
 * Slack's documented incoming-webhook errors (https://api.slack.com/messaging/webhooks#handling_errors)
 * that mean this webhook can never post again: it was removed or its app uninstalled
 * (no_service, invalid_token), its channel deleted or archived, its workspace gone, or
 * posting there is forbidden. The body of such an answer is the bare code.
 */
const SLACK_GONE_CODES = new Set(['no_service', 'no_service_id', 'invalid_token', 'no_team', 'team_disabled', 'channel_not_found', 'channel_is_archived', 'action_prohibited', 'posting_to_general_channel_denied']);

/**
 * What a Slack answer means (pure): 200 "ok" → delivered; 429 and 5xx → retry (Retry-After);
 * a gone code (above) → gone; any other 4xx (invalid_payload, too_many_attachments) →
 * failed: the message was refused, sending it again cannot help.
 */
export function classifySlackAnswer(answer: HttpAnswer): SendOutcome {
  const response = commonOutcome('Slack', answer);
  if (response.kind !== 'answer') return response;
  const said = answerText('Slack', response);
  if (SLACK_GONE_CODES.has(response.text.trim())) return { kind: 'gone', status: response.status, reason: `${said} (the webhook can no longer post: add a new one and create the channel again)` };
  if (response.status === 404 || response.status === 410) return { kind: 'gone', status: response.status, reason: said };
  return { kind: 'failed', reason: said };
}

/** Renders an outbox event for Slack and posts it to the channel's incoming webhook (its URL is the channel's secret). */
export async function sendSlackEvent(env: Env, webhookUrl: string, event: OutgoingEvent): Promise<SendOutcome> {
  const base = parseConfig(env as unknown as Record<string, unknown>).channelApiBases.slack;
  return classifySlackAnswer(await postJson(endpointFor(webhookUrl, base), renderSlackMessage(messageFor(JSON.parse(event.body) as unknown))));
}
