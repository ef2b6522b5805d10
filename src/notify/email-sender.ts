import type { EmailOptions } from 'worker-mailer';
import { parseConfig, type EmailConfig } from '../config/env';
import type { OutgoingEvent, SendOutcome } from './channel';
import { sendViaBinding } from './email-cloudflare';
import { renderEmail, type RenderedEmail } from './email-format';
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
  return emailOptions(input.config, input.to, rendered, headers);
}

/** A rendered email with its headers, as worker-mailer (and the binding path) take it. */
export function emailOptions(config: EmailConfig, to: string, rendered: RenderedEmail, headers: Record<string, string>): EmailOptions {
  return {
    from: { email: config.from.address, ...(config.from.name ? { name: config.from.name } : {}) },
    to: { email: to },
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
  return sendEmailMessage(env, config, channel.to, buildEmail({ config, to: channel.to, channelId: channel.id, event, now: new Date() }));
}

/** Sends one built message by the configured path (SMTP or the SEND_EMAIL binding). */
export async function sendEmailMessage(env: Env, config: EmailConfig, to: string, message: EmailOptions): Promise<SendOutcome> {
  if (config.transport === 'smtp') return sendSmtp(config.smtp, message);
  const binding = (env as unknown as { SEND_EMAIL?: SendEmail }).SEND_EMAIL;
  if (!binding) return { kind: 'retry', reason: 'EMAIL_TRANSPORT=cloudflare needs a [[send_email]] binding named SEND_EMAIL in wrangler.toml' };
  return sendViaBinding(binding, { from: config.from.address, to }, message);
}
