import { tenantStub } from '../durable/stubs';
import type { AppConfig, TelegramConfig } from '../config/env';

import { AppError } from '../lib/errors';
import { newId, randomBytes, sha256Hex, toBase64Url } from '../lib/crypto';
import { constantTimeEqual, deploymentTag, fromBase64Url } from '../api/api-keys';
import { updateWatch } from '../watches/service';
import { chatLink, setChatLink } from './chat-links';
import { botUsername, describeTelegramFailure } from './client';

/**
 * Linking a chat to a tenant: the API issues a one-time code (a t.me deep link), the
 * chat sends it back with /start, and the chat becomes one of the tenant's telegram
 * channels. The code proves the tenant agreed; sending it proves the chat did.
 *
 * A code names its tenant and carries a tag (`<16 hex tenant><16 random><16 tag>`, 48
 * characters of Telegram's start-parameter alphabet), so it is stored in, and looked up
 * in, its own tenant's object; a made-up code is refused without waking any object.
 */

export const LINK_CODE_TTL_MS = 60 * 60 * 1000;
/** Unused, unexpired codes a tenant may hold at once. */
export const MAX_PENDING_LINK_CODES = 20;

const CODE_PATTERN = /^([0-9a-f]{16})([A-Za-z0-9_-]{16})([A-Za-z0-9_-]{16})$/;
const TAG_LABEL = 'telegram link code';

export type IssuedLinkCode = { code: string; url: string; expiresAt: string };

export async function issueLinkCode(env: Env, config: AppConfig, telegram: TelegramConfig, tenantId: string, label: string, now = Date.now()): Promise<IssuedLinkCode> {
  let username: string;
  try {
    username = await botUsername(telegram);
  } catch (error) {
    // Without the username there is no t.me link to hand out.
    const failure = describeTelegramFailure(error, telegram.token);
    throw new AppError('telegram_unavailable', `could not ask Telegram for the bot's username (${failure.description}); set TELEGRAM_BOT_USERNAME or retry`, { status: 502, cause: error });
  }
  // 96 random bits, unguessable within the hour the code lives; only its hash is stored.
  const tenantHex = tenantId.slice(2);
  const random = randomBytes(12);
  const tag = await deploymentTag(config.apiKeySecret, TAG_LABEL, tagged(tenantHex, random), 12);
  const code = `${tenantHex}${toBase64Url(random)}${toBase64Url(tag)}`;
  const expiresAt = now + LINK_CODE_TTL_MS;
  const added = await tenantStub(env, tenantId).addTelegramLinkCode({ hash: await sha256Hex(code), label, expiresAt }, now, MAX_PENDING_LINK_CODES);
  if (!added) {
    throw new AppError('quota_exceeded', `this account already has ${MAX_PENDING_LINK_CODES} unused link codes; use one or wait for them to expire (an hour after issue)`, { status: 409 });
  }
  return { code, url: `https://t.me/${username}?start=${code}`, expiresAt: new Date(expiresAt).toISOString() };
}

function tagged(tenantHex: string, random: Uint8Array): Uint8Array {
  const prefix = new TextEncoder().encode(`${tenantHex}|`);
  const data = new Uint8Array(prefix.length + random.length);
  data.set(prefix);
  data.set(random, prefix.length);
  return data;
}

/** The tenant a code was issued for, when its tag is genuine; null otherwise (no I/O). */
async function tenantOfCode(config: AppConfig, code: string): Promise<string | null> {
  const match = CODE_PATTERN.exec(code);
  if (!match) return null;
  const expected = await deploymentTag(config.apiKeySecret, TAG_LABEL, tagged(match[1]!, fromBase64Url(match[2]!)), 12);
  return constantTimeEqual(expected, fromBase64Url(match[3]!)) ? `t_${match[1]}` : null;
}

export type RedeemResult = { status: 'linked'; tenantId: string; channelId: string; relinked: boolean } | { status: 'unknown' | 'used' | 'expired' } | { status: 'quota_exceeded'; limit: number };

export async function redeemLinkCode(env: Env, config: AppConfig, code: string, chat: { id: string; title: string }, now = Date.now()): Promise<RedeemResult> {
  const tenantId = await tenantOfCode(config, code);
  if (tenantId === null) return { status: 'unknown' };
  const tenant = tenantStub(env, tenantId);
  const hash = await sha256Hex(code);
  const check = await tenant.checkTelegramLinkCode(hash, now);
  if (check.status !== 'valid') return check;

  // The same tenant linking the same chat again keeps its working channel; a channel of its
  // that stopped (the chat blocked the bot, or linked to another account meanwhile) is replaced
  // and its watches move to the new one.
  const previous = await chatLink(env, chat.id);
  const previousChannel = previous && previous.tenantId === tenantId ? await tenant.getChannel(previous.channelId) : await tenant.telegramChannelOf(chat.id);
  if (previousChannel && previousChannel.disabledAt === null) {
    const claimed = await tenant.claimTelegramLinkCode(hash, now);
    if (claimed.status !== 'valid') return claimed;
    await setChatLink(env, chat.id, { tenantId, channelId: previousChannel.id }, now);
    return { status: 'linked', tenantId, channelId: previousChannel.id, relinked: true };
  }

  const created = await tenant.createChannelWithinQuota({ id: newId('ch'), target: { type: 'telegram', chatId: chat.id }, secret: null, label: check.label || chat.title }, config.maxChannelsPerTenant);
  if (!created.ok) return { status: 'quota_exceeded', limit: created.limit };
  const channel = created.channel;
  const claimed = await tenant.claimTelegramLinkCode(hash, now);
  if (claimed.status !== 'valid') {
    // Another chat used the code between check and claim: undo our channel.
    await tenant.deleteChannel(channel.id);
    return claimed;
  }
  await setChatLink(env, chat.id, { tenantId, channelId: channel.id }, now);
  // A chat is linked to one account at a time (its commands act for that one): the account it
  // left no longer reaches it, as if the chat had never linked to it.
  if (previous && previous.tenantId !== tenantId) {
    await tenantStub(env, previous.tenantId).disableChannel(previous.channelId, 'the chat linked itself to another marginwatch account (/start with another code); link it again to resume');
  }
  // A chat whose channel stopped and now links again: its watches move to the new channel,
  // so alerts resume without re-adding each watch.
  if (previousChannel) {
    for (const watch of await tenant.listWatches()) {
      if (!watch.channels.includes(previousChannel.id)) continue;
      await updateWatch(env, tenantId, watch.id, { channels: watch.channels.map((id) => (id === previousChannel.id ? channel.id : id)) });
    }
  }
  return { status: 'linked', tenantId, channelId: channel.id, relinked: previousChannel !== null };
}

/**
 * A telegram channel only reaches a chat that agreed: one that linked itself to this
 * tenant with /start <code>. A raw chat id the tenant merely knows is refused.
 */
export async function requireChatLinkedTo(env: Env, chatId: string, tenantId: string): Promise<void> {
  const link = await chatLink(env, chatId);
  if (link?.tenantId === tenantId) return;
  const message = 'this chat has not linked itself to your account: create a link code with POST /v1/telegram/link and send /start <code> from the chat (that creates its channel)';
  throw new AppError('telegram_chat_not_linked', message, { status: 400, issues: [{ path: 'chatId', message }] });
}
