import type { MessageModel } from './render';

/**
 * Telegram MarkdownV2 rendering of a MessageModel (pure).
 *
 * Telegram rejects a whole message ("can't parse entities") when one reserved character
 * is left unescaped, so every piece of text that is not our own markup goes through
 * `escapeMarkdownV2`, and URLs inside `(...)` through `escapeMarkdownV2Url`.
 */

/** Telegram's limit for one message's text. */
export const TELEGRAM_MAX_MESSAGE_LENGTH = 4096;

/**
 * The characters MarkdownV2 reserves outside entities (per the Bot API docs), plus the
 * backslash: an unescaped `\` would escape the character after it and vanish.
 */
const RESERVED = /[_*[\]()~`>#+\-=|{}.!\\]/g;

export function escapeMarkdownV2(text: string): string {
  return text.replace(RESERVED, '\\$&');
}

/** Inside the (...) of an inline link only `)` and `\` must be escaped. */
export function escapeMarkdownV2Url(url: string): string {
  return url.replace(/[)\\]/g, '\\$&');
}

const LINK_PRIORITY = 1_000_000;

type Segment = { text: string; style?: 'bold' | 'italic' } | { link: { text: string; url: string } };
type Line = { segments: Segment[]; /** lower is kept longer when trimming */ priority: number };

function renderSegment(segment: Segment): string {
  if ('link' in segment) return `[${escapeMarkdownV2(segment.link.text)}](${escapeMarkdownV2Url(segment.link.url)})`;
  const text = escapeMarkdownV2(segment.text);
  // An empty styled segment would render as "**", which Telegram accepts but shows nothing.
  if (text === '' || !segment.style) return text;
  return segment.style === 'bold' ? `*${text}*` : `_${text}_`;
}

function renderLines(lines: Line[]): string {
  return lines
    .map((line) => line.segments.map(renderSegment).join(''))
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}

function linesOf(model: MessageModel): Line[] {
  const lines: Line[] = [{ segments: [{ text: model.title, style: 'bold' }], priority: 0 }];
  if (model.headline) lines.push({ segments: [{ text: model.headline }], priority: 0 });
  if (model.facts.length > 0) {
    lines.push({ segments: [], priority: 0 });
    model.facts.forEach((fact, index) => {
      // Values in bold: the numbers are what a reader scans for. The model already puts
      // the health factor first.
      lines.push({ segments: [{ text: `${fact.label}: ` }, { text: fact.value, style: 'bold' }], priority: index === 0 ? 1 : 3 + index });
    });
  }
  if (model.action) {
    lines.push({ segments: [], priority: 2 });
    lines.push({ segments: [{ text: `→ ${model.action}` }], priority: 2 });
  }
  // The footer, then the link, go first when trimming; then facts from the last one.
  if (model.link) lines.push({ segments: [{ link: model.link }], priority: LINK_PRIORITY });
  if (model.footer) lines.push({ segments: [{ text: model.footer, style: 'italic' }], priority: LINK_PRIORITY + 1 });
  return lines;
}

/**
 * Renders a message as MarkdownV2 no longer than `limit` characters. When too long, the
 * least important lines go first (footer, explorer link, later facts); if the title or
 * headline alone are too long (an absurd label), their text is cut with "…". Cuts happen
 * on the raw text, before escaping, so an escape sequence or entity is never split.
 */
export function renderTelegramMessage(model: MessageModel, limit = TELEGRAM_MAX_MESSAGE_LENGTH): string {
  let lines = linesOf(model);
  let text = renderLines(lines);
  while (text.length > limit) {
    const worst = Math.max(...lines.map((line) => line.priority));
    if (worst <= 1) break;
    const index = lines.map((line) => line.priority).lastIndexOf(worst);
    lines = lines.filter((_, position) => position !== index);
    text = renderLines(lines);
  }
  while (text.length > limit) {
    // Cut the longest piece of plain text to the most that still fits (escaping makes
    // the rendered length grow unevenly, hence the search), whole code points only.
    let longest: { text: string } | undefined;
    for (const line of lines) for (const segment of line.segments) if (!('link' in segment) && (!longest || segment.text.length > longest.text.length)) longest = segment;
    if (!longest || longest.text === '') return text.slice(0, limit);
    const target = longest;
    const characters = Array.from(target.text);
    const fits = (keep: number) => {
      target.text = `${characters.slice(0, keep).join('')}…`;
      return renderLines(lines).length <= limit;
    };
    if (!fits(0)) {
      target.text = '';
      text = renderLines(lines);
      continue;
    }
    let low = 0;
    let high = characters.length - 1;
    while (low < high) {
      const middle = Math.ceil((low + high) / 2);
      if (fits(middle)) low = middle;
      else high = middle - 1;
    }
    fits(low);
    text = renderLines(lines);
  }
  return text;
}
