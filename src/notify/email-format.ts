import type { MessageModel } from './render';

/**
 * The email rendering of a MessageModel (pure): a subject, a plain-text part and an HTML
 * part that say what the Telegram message says. Every string of the model may carry
 * user-controlled text (watch and channel labels), so the HTML escapes all of it, not
 * only the fields known to be labels today.
 */

export type RenderedEmail = { subject: string; text: string; html: string };

/** Alert level → accent colour of the HTML part. Anything else (tests, unknown) is grey. */
export const LEVEL_ACCENTS: Record<string, string> = {
  ok: '#2f855a',
  warning: '#b7791f',
  margin_call: '#c05621',
  critical: '#c53030',
  liquidatable: '#742a2a',
};
export const NEUTRAL_ACCENT = '#4a5568';

/** Long enough for "LIQUIDATABLE · <100-character label> — <headline>", short enough for any client. */
const MAX_SUBJECT_CHARS = 200;

/**
 * Control characters (a label with CR/LF, NUL, ESC) and bidirectional overrides (which
 * can make "evil" render as "live" in a subject) become spaces; tabs and newlines inside
 * multi-line texts are kept where the caller allows them.
 */
export function cleanText(text: string, { multiline = false } = {}): string {
  const controls = multiline ? /[\u0000-\u0008\u000b-\u001f\u007f\u202a-\u202e\u2066-\u2069]/g : /[\u0000-\u001f\u007f\u202a-\u202e\u2066-\u2069]/g;
  return text.replace(controls, ' ');
}

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
}

/** "CRITICAL · main vault — Health factor 1.0725 — collateral can fall 6.75% …", on one line. */
export function emailSubject(model: MessageModel): string {
  const title = cleanText(model.title).replace(/\s+/g, ' ').trim();
  const headline = cleanText(model.headline).replace(/\s+/g, ' ').trim();
  const subject = headline ? `${title} — ${headline}` : title;
  // Counted and cut in code points, never inside a surrogate pair.
  const chars = Array.from(subject);
  return chars.length <= MAX_SUBJECT_CHARS ? subject : `${chars.slice(0, MAX_SUBJECT_CHARS - 1).join('')}…`;
}

export function emailText(model: MessageModel): string {
  const line = (text: string) => cleanText(text);
  const lines = [line(model.title), line(model.headline), ''];
  for (const fact of model.facts) lines.push(`${line(fact.label)}: ${line(fact.value)}`);
  if (model.facts.length > 0) lines.push('');
  if (model.action) lines.push(`What to do: ${line(model.action)}`, '');
  if (model.link && isWebUrl(model.link.url)) lines.push(`${line(model.link.text)}: ${model.link.url}`, '');
  // "-- " (with the space) is the signature separator mail clients fold away.
  lines.push('-- ', line(model.footer), '');
  return lines.join('\n');
}

export function emailHtml(model: MessageModel, level?: string): string {
  const accent = (level && LEVEL_ACCENTS[level]) || NEUTRAL_ACCENT;
  const e = (text: string) => escapeHtml(cleanText(text));
  const rows = model.facts
    .map((fact) => `<tr><td style="padding:4px 16px 4px 0;color:#555555;vertical-align:top;">${e(fact.label)}</td><td style="padding:4px 0;font-weight:600;">${e(fact.value)}</td></tr>`)
    .join('\n');
  const parts = [
    '<!DOCTYPE html>',
    '<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${e(model.title)}</title></head>`,
    '<body style="margin:0;padding:0;background:#f4f4f5;">',
    '<div style="max-width:600px;margin:0 auto;padding:24px 16px;font-family:-apple-system,BlinkMacSystemFont,\'Segoe UI\',Roboto,Helvetica,Arial,sans-serif;color:#1a1a1a;">',
    `<div style="background:#ffffff;border-left:6px solid ${accent};padding:16px 20px;">`,
    `<h1 style="margin:0 0 8px;font-size:20px;line-height:1.3;color:${accent};">${e(model.title)}</h1>`,
    `<p style="margin:0 0 16px;font-size:15px;line-height:1.4;">${e(model.headline)}</p>`,
  ];
  if (rows) parts.push(`<table role="presentation" style="border-collapse:collapse;font-size:14px;line-height:1.4;">\n${rows}\n</table>`);
  if (model.action) parts.push(`<p style="margin:16px 0 0;padding:12px;background:#fffbea;border:1px solid #f6e05e;font-size:14px;"><strong>What to do:</strong> ${e(model.action)}</p>`);
  if (model.link && isWebUrl(model.link.url)) {
    parts.push(`<p style="margin:16px 0 0;font-size:14px;"><a href="${escapeHtml(model.link.url)}" style="color:#2b6cb0;">${e(model.link.text)}</a></p>`);
  }
  parts.push('</div>', `<p style="margin:12px 0 0;font-size:12px;color:#777777;">${e(model.footer)}</p>`, '</div>', '</body></html>', '');
  return parts.join('\n');
}

/** `level` (the event's alert level, when it has one) only picks the accent colour. */
export function renderEmail(model: MessageModel, level?: string): RenderedEmail {
  return { subject: emailSubject(model), text: emailText(model), html: emailHtml(model, level) };
}

/** Links come from our own explorer table, but an href is only ever http(s): never javascript: or data:. */
function isWebUrl(url: string): boolean {
  try {
    const parsed = new URL(url);
    return parsed.protocol === 'https:' || parsed.protocol === 'http:';
  } catch {
    return false;
  }
}
