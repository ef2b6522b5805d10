import { tenantStub } from '../../durable/stubs';
import { Hono } from 'hono';
import type { AuthVariables } from '../auth';
import { parseJsonBody } from '../validate';
import type { EmailConfig } from '../../config/env';
import { confirmChannelSchema } from '../../config/api-schemas';
import { AppError } from '../../lib/errors';
import { newId } from '../../lib/crypto';

import type { ChannelRecord } from '../../watches/records';
import type { SendOutcome } from '../../notify/channel';
import { dailyBudgetSpent } from '../../notify/daily-budget';
import { CONFIRMATION_TTL_MS, confirmationHash, newConfirmationCode, sendConfirmationEmail } from '../../notify/email-confirmation';

type App = { Bindings: Env; Variables: AuthVariables };

/** What the API says about the confirmation mail: sent, or why not (the tenant can resend). */
type ConfirmationView = { sentTo: string; expiresAt: string; sent: boolean; error: string | null };

export function channelQuotaExceeded(limit: number): AppError {
  return new AppError('quota_exceeded', `this tenant has reached its limit of ${limit} channels (MAX_CHANNELS_PER_TENANT); delete channels it no longer needs, or ask the operator to raise the limit`, { status: 409 });
}

/** A tenant cannot make the deployment mail more strangers than this at once, nor one address more often than this. */
export const MAX_PENDING_CONFIRMATIONS = 10;
export const RESEND_INTERVAL_MS = 60_000;

/** Creates an email channel in `pending_confirmation` and mails its one-time code to the address. */
export async function createPendingEmailChannel(env: Env, config: EmailConfig, tenantId: string, input: { to: string; label: string; maxChannels: number }): Promise<ChannelRecord & { confirmation: ConfirmationView }> {
  const tenant = tenantStub(env, tenantId);
  if ((await tenant.pendingConfirmations(Date.now())) >= MAX_PENDING_CONFIRMATIONS) {
    throw new AppError('quota_exceeded', `${MAX_PENDING_CONFIRMATIONS} email channels already wait for their address to confirm; confirm or delete some first`, { status: 409 });
  }
  const id = newId('ch');
  const code = newConfirmationCode();
  const expiresAt = Date.now() + CONFIRMATION_TTL_MS;
  const created = await tenant.createEmailChannelWithinQuota({ id, target: { type: 'email', to: input.to }, secret: null, label: input.label, confirmation: { hash: await confirmationHash(id, code), expiresAt } }, input.maxChannels);
  if (!created.ok) throw created.reason === 'quota' ? channelQuotaExceeded(created.limit) : dailyBudgetSpent('confirmation_mail', created.retryAt);
  const channel = created.channel;
  return { ...channel, confirmation: await mailCode(env, config, { id, to: input.to, label: input.label }, code, expiresAt) };
}

async function mailCode(env: Env, config: EmailConfig, channel: { id: string; to: string; label: string }, code: string, expiresAt: number): Promise<ConfirmationView> {
  let outcome: SendOutcome;
  try {
    outcome = await sendConfirmationEmail(env, config, channel, code, new Date(expiresAt));
  } catch (error) {
    outcome = { kind: 'retry', reason: error instanceof Error ? `${error.name}: ${error.message.slice(0, 160)}` : 'send failed' };
  }
  const error = outcome.kind === 'delivered' ? null : outcome.reason;
  // The channel stays pending either way; the tenant sees why and can resend.
  if (error !== null) console.warn('confirmation email not sent', channel.id, error);
  return { sentTo: channel.to, expiresAt: new Date(expiresAt).toISOString(), sent: error === null, error };
}

const notFound = (id: string) => new AppError('not_found', `channel ${id} not found`, { status: 404 });
const notPending = (id: string) => new AppError('not_pending', `channel ${id} has nothing to confirm`, { status: 409 });

/** `POST /v1/channels/:id/confirm {code}` and `POST /v1/channels/:id/confirm/resend` (tenant). */
export const emailConfirmRoutes = new Hono<App>()
  .post('/:id/confirm', async (c) => {
    const id = c.req.param('id');
    const { code } = await parseJsonBody(c, confirmChannelSchema);
    const tenant = tenantStub(c.env, c.get('tenantId'));
    const result = await tenant.confirmChannel(id, await confirmationHash(id, code), Date.now());
    if (result === 'not_found') throw notFound(id);
    if (result === 'not_pending') throw notPending(id);
    if (result === 'expired') throw new AppError('confirmation_expired', 'the code has expired; send a new one with POST /v1/channels/:id/confirm/resend', { status: 410 });
    if (result === 'wrong_code') throw new AppError('wrong_code', 'the code does not match the one mailed to this channel\'s address', { status: 400, issues: [{ path: 'code', message: 'does not match' }] });
    return c.json(await tenant.getChannel(id));
  })
  .post('/:id/confirm/resend', async (c) => {
    const id = c.req.param('id');
    const config = c.get('config').email;
    if (!config) throw new AppError('email_not_configured', 'this deployment does not send email (EMAIL_TRANSPORT / SMTP_HOST and EMAIL_FROM are not set)', { status: 400 });
    const tenant = tenantStub(c.env, c.get('tenantId'));
    const channel = await tenant.getChannel(id);
    if (!channel) throw notFound(id);
    if (channel.status !== 'pending_confirmation' || !channel.to) throw notPending(id);
    const code = newConfirmationCode();
    const now = Date.now();
    const expiresAt = now + CONFIRMATION_TTL_MS;
    const renewed = await tenant.renewChannelConfirmation(id, { hash: await confirmationHash(id, code), expiresAt }, now, { ttlMs: CONFIRMATION_TTL_MS, minIntervalMs: RESEND_INTERVAL_MS });
    if (renewed.status === 'not_pending') throw notPending(id);
    if (renewed.status === 'mail_budget') throw dailyBudgetSpent('confirmation_mail', renewed.retryAt);
    if (renewed.status === 'too_soon') {
      const wait = Math.ceil(renewed.waitMs / 1000);
      throw new AppError('resend_too_soon', `a code was mailed to this address less than a minute ago; retry in ${wait} s`, { status: 429, retryAfterSeconds: wait });
    }
    return c.json({ confirmation: await mailCode(c.env, config, { id, to: channel.to, label: channel.label }, code, expiresAt) }, 202);
  });
