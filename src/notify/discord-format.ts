import { cleanText, LEVEL_ACCENTS, NEUTRAL_ACCENT } from './email-format';
import type { EventMeta } from './event-meta';
import type { MessageModel } from './render';
import { cutText } from './text-limits';

/**
 * The Discord rendering of a MessageModel (pure): one embed, as "Execute Webhook" takes it
 * (https://discord.com/developers/docs/resources/webhook#execute-webhook), within Discord's
 * limits: title 256, description 4096, 25 fields (name 256, value 1024), footer 2048, and
 * 6000 characters across the embed. No mentions are parsed, so a label such as "@everyone"
 * can never ping a server.
 */

export const DISCORD_LIMITS = { title: 256, description: 4096, fields: 25, fieldName: 256, fieldValue: 1024, footer: 2048, embedTotal: 6000, content: 2000 } as const;

export type DiscordEmbed = {
  title: string;
  description: string;
  url?: string;
  color: number;
  fields: Array<{ name: string; value: string; inline: boolean }>;
  footer: { text: string };
  timestamp?: string;
};
export type DiscordMessage = { content: string; embeds: [DiscordEmbed]; allowed_mentions: { parse: [] } };

const SEVERITY_ACCENTS: Record<EventMeta['severity'], string> = { info: NEUTRAL_ACCENT, warning: '#b7791f', error: '#c05621', critical: '#c53030' };

function colorOf(meta: EventMeta): number {
  const accent = (meta.level && LEVEL_ACCENTS[meta.level]) || SEVERITY_ACCENTS[meta.severity];
  return Number.parseInt(accent.slice(1), 16);
}

function embedLength(embed: DiscordEmbed): number {
  const count = (text: string) => Array.from(text).length;
  return count(embed.title) + count(embed.description) + count(embed.footer.text) + embed.fields.reduce((sum, field) => sum + count(field.name) + count(field.value), 0);
}

export function renderDiscordMessage(model: MessageModel, meta: EventMeta): DiscordMessage {
  const text = (value: string, max: number) => cutText(cleanText(value, { multiline: true }).trim(), max) || '-';
  const description = [model.headline, model.action ? `→ ${model.action}` : ''].filter(Boolean).join('\n\n');
  const embed: DiscordEmbed = {
    title: text(model.title, DISCORD_LIMITS.title),
    description: text(description, DISCORD_LIMITS.description),
    color: colorOf(meta),
    fields: model.facts.slice(0, DISCORD_LIMITS.fields).map((fact) => ({ name: text(fact.label, DISCORD_LIMITS.fieldName), value: text(fact.value, DISCORD_LIMITS.fieldValue), inline: true })),
    footer: { text: text(model.footer, DISCORD_LIMITS.footer) },
  };
  if (model.link && model.link.url.startsWith('https://')) embed.url = model.link.url;
  if (meta.createdAt) embed.timestamp = meta.createdAt;
  // Over the embed total, the last facts go first (the model puts the health factor first).
  while (embedLength(embed) > DISCORD_LIMITS.embedTotal && embed.fields.length > 0) embed.fields.pop();
  if (embedLength(embed) > DISCORD_LIMITS.embedTotal) embed.description = text(embed.description, Math.max(1, DISCORD_LIMITS.embedTotal - embedLength({ ...embed, description: '' })));
  // The content line is what a phone's notification shows; the embed carries the numbers.
  return { content: text(`${model.title} — ${model.headline}`, DISCORD_LIMITS.content), embeds: [embed], allowed_mentions: { parse: [] } };
}
