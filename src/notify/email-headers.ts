import type { Mailbox } from '../config/env';
import { cleanText } from './email-format';

/**
 * Message headers (pure): RFC 5322 fields with RFC 2047 encoded words for anything that is
 * not plain ASCII. worker-mailer writes header values given to it verbatim, so every
 * value built here is already safe on the wire: no CR/LF except our own folding, no
 * line longer than 78 characters, and user text (labels) never able to start a header.
 */

export type EmailHeaderInput = {
  from: Mailbox;
  to: string;
  subject: string;
  eventId: string;
  channelId: string;
  date: Date;
};

/** Printable ASCII minus "=", "?" and "_" (which Q-encoding gives a meaning) stays as is in our encoded words. */
const Q_SAFE = /^[A-Za-z0-9!*+\-/]$/;
const MAX_LINE = 76;

/**
 * `value` as it may follow "<name>: ": unchanged when it is short printable ASCII, else as
 * UTF-8 Q encoded words, each at most 75 characters, folded so no line exceeds 76.
 */
export function encodeHeaderValue(name: string, value: string): string {
  const flat = cleanText(value);
  if (/^[\x20-\x7e]*$/.test(flat) && !flat.includes('=?') && name.length + 2 + flat.length <= 78) return flat;
  const words: string[] = [];
  let budget = MAX_LINE - (name.length + 2);
  let current = '';
  for (const char of flat) {
    const encoded = Q_SAFE.test(char) ? char : char === ' ' ? '_' : utf8Hex(char);
    // "=?UTF-8?Q?" + payload + "?=": 12 characters of wrapping per word.
    if (current && 12 + current.length + encoded.length > Math.min(75, budget)) {
      words.push(`=?UTF-8?Q?${current}?=`);
      current = '';
      budget = MAX_LINE - 1; // continuation lines start with one space
    }
    current += encoded;
  }
  words.push(`=?UTF-8?Q?${current}?=`);
  return words.join('\r\n ');
}

function utf8Hex(char: string): string {
  let out = '';
  for (const byte of new TextEncoder().encode(char)) out += `=${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  return out;
}

/** `"Display Name" <address>`, or the bare address without a name. */
export function formatMailbox(name: string | undefined, address: string): string {
  if (!name) return address;
  const flat = cleanText(name).trim();
  if (/^[\x20-\x7e]*$/.test(flat) && flat.length <= 60 && !flat.includes('=?')) return `"${flat.replace(/[\\"]/g, '\\$&')}" <${address}>`;
  return `${encodeHeaderValue('From', flat)} <${address}>`;
}

/**
 * The Message-ID of one event sent to one channel: the same on every retry, so a receiver
 * (or a mail server that saw the first attempt half-succeed) can drop the duplicate, and
 * different per channel, because two recipients get two messages.
 */
export function messageIdFor(eventId: string, channelId: string, fromAddress: string): string {
  const atext = (text: string) => text.replace(/[^A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]/g, '-');
  const domain = fromAddress.slice(fromAddress.lastIndexOf('@') + 1) || 'marginwatch.invalid';
  return `<${atext(eventId)}.${atext(channelId)}@${domain}>`;
}

/** RFC 5322 date-time in UTC: "Tue, 25 Nov 2026 03:12:09 +0000". */
export function formatEmailDate(date: Date): string {
  return date.toUTCString().replace(/GMT$/, '+0000');
}

/** The headers of one alert email, in the order they are written. */
export function emailHeaders(input: EmailHeaderInput): Record<string, string> {
  return {
    From: formatMailbox(input.from.name ?? 'marginwatch', input.from.address),
    To: input.to,
    Subject: encodeHeaderValue('Subject', input.subject),
    Date: formatEmailDate(input.date),
    'Message-ID': messageIdFor(input.eventId, input.channelId, input.from.address),
    'X-Marginwatch-Event-Id': input.eventId.replace(/[^\x21-\x7e]/g, '-'),
    // RFC 3834: machine-sent, so vacation responders and ticket systems do not answer it.
    'Auto-Submitted': 'auto-generated',
  };
}
