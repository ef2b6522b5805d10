import type { EmailOptions } from 'worker-mailer';
import type { EmailConfig } from '../config/env';
import { randomBytes, sha256Hex } from '../lib/crypto';
import type { SendOutcome } from './channel';
import { renderEmail } from './email-format';
import { emailHeaders } from './email-headers';
import { emailOptions, sendEmailMessage } from './email-sender';

/**
 * Email channels reach only addresses that agreed: a new email channel waits in
 * `pending_confirmation` (it receives nothing) until the tenant enters the one-time code
 * mailed to the address (`POST /v1/channels/:id/confirm`). Only the code's hash is stored.
 */

export const CONFIRMATION_TTL_MS = 24 * 60 * 60 * 1000;

/** No 0/O or 1/I: the code is typed by a person. 32 symbols, 10 of them: 50 bits. */
const ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789';
const CODE_LENGTH = 10;

export function newConfirmationCode(): string {
  // 256 is a multiple of 32, so `byte % 32` is uniform.
  const chars = Array.from(randomBytes(CODE_LENGTH), (byte) => ALPHABET[byte % ALPHABET.length]!);
  return `${chars.slice(0, 5).join('')}-${chars.slice(5).join('')}`;
}

/** What a person may type: any case, with or without the dash and spaces. */
export function normalizeConfirmationCode(input: string): string {
  return input.toUpperCase().replace(/[\s-]/g, '');
}

/** Bound to its channel, so a code never confirms another channel. */
export function confirmationHash(channelId: string, code: string): Promise<string> {
  return sha256Hex(`email-confirmation|${channelId}|${normalizeConfirmationCode(code)}`);
}

export function buildConfirmationEmail(input: { config: EmailConfig; to: string; channelId: string; label: string; code: string; expiresAt: Date; now: Date }): EmailOptions {
  const rendered = renderEmail({
    title: 'Confirm marginwatch alerts to this address',
    headline: `Confirmation code: ${input.code}`,
    facts: [
      { label: 'Channel', value: input.label || input.channelId },
      { label: 'Code valid until', value: `${input.expiresAt.toISOString().slice(0, 16).replace('T', ' ')} UTC` },
    ],
    action: 'If you asked for margin-call alerts at this address, give this code to the marginwatch account that added it (POST /v1/channels/:id/confirm). If you did not, ignore this mail: nothing more will be sent here.',
    link: null,
    footer: 'marginwatch sends alerts only to addresses that confirmed.',
  });
  const headers = emailHeaders({ from: input.config.from, to: input.to, subject: rendered.subject, eventId: `confirm_${input.now.getTime()}`, channelId: input.channelId, date: input.now });
  return emailOptions(input.config, input.to, rendered, { ...headers, 'X-Marginwatch-Confirmation': input.channelId });
}

export function sendConfirmationEmail(env: Env, config: EmailConfig, channel: { id: string; to: string; label: string }, code: string, expiresAt: Date): Promise<SendOutcome> {
  return sendEmailMessage(env, config, channel.to, buildConfirmationEmail({ config, to: channel.to, channelId: channel.id, label: channel.label, code, expiresAt, now: new Date() }));
}
