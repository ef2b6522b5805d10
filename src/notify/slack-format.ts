import { cleanText } from './email-format';
import type { MessageModel } from './render';
import { cutText } from './text-limits';

/**
 * The Slack rendering of a MessageModel (pure): Block Kit for an incoming webhook
 * (https://api.slack.com/messaging/webhooks), with `text` as the notification's fallback.
 * Limits kept: a header's plain text 150 characters, a section's text 3000, at most 10
 * fields per section of 2000 each, 50 blocks. Text that Slack reads as mrkdwn is escaped
 * (&, <, >), so a label cannot become a link or an @channel mention; the header is
 * plain_text, which Slack shows verbatim.
 */

export const SLACK_LIMITS = { header: 150, sectionText: 3000, fieldsPerSection: 10, field: 2000, blocks: 50, text: 3000 } as const;

type Text = { type: 'plain_text'; text: string; emoji?: boolean } | { type: 'mrkdwn'; text: string };
export type SlackBlock =
  | { type: 'header'; text: Text }
  | { type: 'section'; text?: Text; fields?: Text[] }
  | { type: 'context'; elements: Text[] };
export type SlackMessage = { text: string; blocks: SlackBlock[] };

export function escapeSlack(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

export function renderSlackMessage(model: MessageModel): SlackMessage {
  const plain = (text: string, max: number) => cutText(cleanText(text).trim(), max) || '-';
  const mrkdwn = (text: string, max: number): Text => ({ type: 'mrkdwn', text: cutText(escapeSlack(cleanText(text, { multiline: true }).trim()), max) || '-' });
  const blocks: SlackBlock[] = [{ type: 'header', text: { type: 'plain_text', text: plain(model.title, SLACK_LIMITS.header), emoji: true } }];
  if (model.headline) blocks.push({ type: 'section', text: mrkdwn(model.headline, SLACK_LIMITS.sectionText) });
  for (let start = 0; start < model.facts.length; start += SLACK_LIMITS.fieldsPerSection) {
    const fields = model.facts.slice(start, start + SLACK_LIMITS.fieldsPerSection).map((fact) => ({ type: 'mrkdwn' as const, text: cutText(`*${escapeSlack(cleanText(fact.label))}*\n${escapeSlack(cleanText(fact.value))}`, SLACK_LIMITS.field) }));
    blocks.push({ type: 'section', fields });
  }
  if (model.action) blocks.push({ type: 'section', text: mrkdwn(`→ ${model.action}`, SLACK_LIMITS.sectionText) });
  if (model.link && model.link.url.startsWith('https://')) {
    blocks.push({ type: 'section', text: { type: 'mrkdwn', text: `<${model.link.url.replace(/[|>]/g, encodeURIComponent)}|${escapeSlack(cleanText(model.link.text))}>` } });
  }
  if (model.footer) blocks.push({ type: 'context', elements: [mrkdwn(model.footer, SLACK_LIMITS.sectionText)] });
  // The top-level text is mrkdwn too (the notification's fallback): escaped like the sections.
  return { text: mrkdwn(model.headline ? `${model.title} — ${model.headline}` : model.title, SLACK_LIMITS.text).text, blocks: blocks.slice(0, SLACK_LIMITS.blocks) };
}
