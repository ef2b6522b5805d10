import { EmailMessage } from 'cloudflare:email';
import { Email, type EmailOptions } from 'worker-mailer';
import type { SendOutcome } from './channel';

/**
 * One email through Cloudflare's send_email binding (Email Routing: the recipient must be
 * a verified destination address of the account, the sender an address on a domain with
 * Email Routing on). The binding takes a complete MIME message; worker-mailer's builder
 * makes the same message the SMTP path sends, so both paths are one format. (Not mimetext,
 * which Cloudflare's examples use: with @babel/runtime-corejs3 it adds ~159 KiB / ~30 KiB
 * gzip to the Worker, against nothing here beyond the SMTP client already bundled.)
 *
 * Every refusal is a retry: the binding reports problems as exceptions with prose only
 * (an unverified destination, a sender outside the allowed list, a service hiccup), and
 * the fixable ones are fixed in the dashboard while the outbox keeps the alert.
 */
export async function sendViaBinding(binding: SendEmail, envelope: { from: string; to: string }, options: EmailOptions): Promise<SendOutcome> {
  try {
    await binding.send(new EmailMessage(envelope.from, envelope.to, rawMime(options)));
    return { kind: 'delivered', status: 250 };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const flat = message.replace(/[\s\u0000-\u001f\u007f]+/g, ' ').trim().slice(0, 300);
    return { kind: 'retry', reason: `send_email binding SEND_EMAIL refused the message: ${flat || 'no reason given'}` };
  }
}

/**
 * The message as RFC 5322 text. worker-mailer builds it for SMTP DATA: dot-stuffed (a line
 * starting with "." gets a second one) and ending with the "\r\n.\r\n" terminator; the
 * binding wants the message itself, so both are undone exactly.
 */
export function rawMime(options: EmailOptions): string {
  const data = new Email(options).getEmailData();
  const message = data.endsWith('\r\n.\r\n') ? data.slice(0, -'\r\n.\r\n'.length) : data;
  return message.replace(/\r\n\.\./g, '\r\n.');
}
