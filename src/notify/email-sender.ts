import type { EmailOptions } from 'worker-mailer';
import { parseConfig, type EmailConfig } from '../config/env';
import type { OutgoingEvent, SendOutcome } from './channel';
import { sendViaBinding } from './email-cloudflare';
import { renderEmail } from './email-format';
import { emailHeaders } from './email-headers';
import { sendSmtp } from './email-smtp';
import { messageFor } from './render';

/**
 * The email of one outbox event to one address: the event's MessageModel (what Telegram
 * says too) as text + HTML, with headers that stay the same across retries where it
 * matters (Message-ID, X-Marginwatch-Event-Id).
 */
export function buildEmail(input: { config: EmailConfig; to: string; channelId: string; event: OutgoingEvent; now: Date }): EmailOptions {
  const body = JSON.parse(input.event.body) as { level?: unknown };
  const rendered = renderEmail(messageFor(body), typeof body.level === 'string' ? body.level : undefined);
  const headers = emailHeaders({ from: input.config.from, to: input.to, subject: rendered.subject, eventId: input.event.id, channelId: input.channelId, date: input.now });
  return {
    from: { email: input.config.from.address, ...(input.config.from.name ? { name: input.config.from.name } : {}) },
    to: { email: input.to },
    subject: rendered.subject,
    text: rendered.text,
    html: rendered.html,
    headers,
  };
}

/** Renders an outbox event and sends it by the configured path. */
export async function sendEmailEvent(env: Env, channel: { id: string; to: string }, event: OutgoingEvent): Promise<SendOutcome> {
  const config = parseConfig(env as unknown as Record<string, unknown>).email;
  // Retried, not dead-lettered: configuring email resumes delivery of what is waiting.
  if (!config) return { kind: 'retry', reason: 'email is not configured in this deployment (set EMAIL_TRANSPORT, EMAIL_FROM and SMTP_HOST, or the SEND_EMAIL binding)' };
  // Date is the time of this attempt: a retried alert must sort as new in the inbox.
  const message = buildEmail({ config, to: channel.to, channelId: channel.id, event, now: new Date() });
  if (config.transport === 'smtp') return sendSmtp(config.smtp, message);
  const binding = (env as unknown as { SEND_EMAIL?: SendEmail }).SEND_EMAIL;
  if (!binding) return { kind: 'retry', reason: 'EMAIL_TRANSPORT=cloudflare needs a [[send_email]] binding named SEND_EMAIL in wrangler.toml' };
  return sendViaBinding(binding, { from: config.from.address, to: channel.to }, message);
}
