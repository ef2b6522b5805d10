import { cleanText } from './email-format';
import type { EventMeta } from './event-meta';
import type { MessageModel } from './render';
import { cutText, cutToBytes } from './text-limits';

/**
 * The ntfy rendering of a MessageModel (pure), as ntfy's JSON publishing takes it
 * (https://docs.ntfy.sh/publish/#publish-as-json): title, plain-text message, priority by
 * alert level (1 min … 5 max/urgent), tags (names of emojis show as the emoji), and the
 * explorer link as the notification's click action. JSON, not headers, because titles carry
 * non-Latin-1 characters ("·", "—") that HTTP headers cannot. ntfy.sh turns messages over
 * 4096 bytes into attachments, so the message stays under that.
 */

export const NTFY_MESSAGE_MAX_BYTES = 4096;
const NTFY_TITLE_MAX_CHARS = 250;

export type NtfyPublish = { topic: string; title: string; message: string; priority: 1 | 2 | 3 | 4 | 5; tags: string[]; click?: string };

const LEVEL_PRIORITY: Record<string, NtfyPublish['priority']> = { ok: 3, warning: 3, margin_call: 4, critical: 5, liquidatable: 5 };
const LEVEL_TAGS: Record<string, string[]> = { ok: ['white_check_mark'], warning: ['warning'], margin_call: ['warning'], critical: ['rotating_light'], liquidatable: ['skull'] };

export function ntfyPriority(meta: EventMeta): NtfyPublish['priority'] {
  if (meta.level) return LEVEL_PRIORITY[meta.level] ?? 4;
  return meta.severity === 'error' || meta.severity === 'critical' ? 4 : 3;
}

function tagsOf(meta: EventMeta): string[] {
  if (meta.level) return LEVEL_TAGS[meta.level] ?? ['warning'];
  if (meta.type === 'monitor.degraded' || meta.type === 'topup.failed') return ['warning'];
  if (meta.type === 'condition.raised') return meta.severity === 'critical' ? ['rotating_light'] : ['warning'];
  if (meta.type === 'condition.cleared') return ['white_check_mark'];
  return [];
}

export function renderNtfyMessage(model: MessageModel, meta: EventMeta, topic: string): NtfyPublish {
  const line = (text: string) => cleanText(text).trim();
  const lines = [line(model.headline), ''];
  for (const fact of model.facts) lines.push(`${line(fact.label)}: ${line(fact.value)}`);
  if (model.action) lines.push('', `→ ${line(model.action)}`);
  lines.push('', line(model.footer));
  const publish: NtfyPublish = {
    topic,
    title: cutText(line(model.title), NTFY_TITLE_MAX_CHARS),
    message: cutToBytes(lines.join('\n').trim(), NTFY_MESSAGE_MAX_BYTES),
    priority: ntfyPriority(meta),
    tags: tagsOf(meta),
  };
  if (model.link && model.link.url.startsWith('https://')) publish.click = model.link.url;
  return publish;
}
