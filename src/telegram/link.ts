import type { TelegramConfig } from '../config/env';
import { directoryStub } from '../durable/directory';
import { tenantStub } from '../durable/tenant';
import { AppError } from '../lib/errors';
import { newId, randomBytes, sha256Hex, toBase64Url } from '../lib/crypto';
import { updateWatch } from '../watches/service';
import { botUsername, describeTelegramFailure } from './client';

/**
 * Linking a chat to a tenant: the API issues a one-time code (a t.me deep link), the
 * chat sends it back with /start, and the chat becomes one of the tenant's telegram
 * channels. The code proves the tenant agreed; sending it proves the chat did.
 */

export const LINK_CODE_TTL_MS = 60 * 60 * 1000;

export type IssuedLinkCode = { code: string; url: string; expiresAt: string };

export async function issueLinkCode(env: Env, config: TelegramConfig, tenantId: string, label: string, now = Date.now()): Promise<IssuedLinkCode> {
  let username: string;
  try {
    username = await botUsername(config);
  } catch (error) {
    // Without the username there is no t.me link to hand out.
    const failure = describeTelegramFailure(error, config.token);
    throw new AppError('telegram_unavailable', `could not ask Telegram for the bot's username (${failure.description}); set TELEGRAM_BOT_USERNAME or retry`, { status: 502 });
  }
  // 144 random bits in 24 URL-safe characters: unguessable within the hour it lives, and
  // inside Telegram's 64-character start parameter. Only its hash is stored.
  const code = toBase64Url(randomBytes(18));
  const expiresAt = now + LINK_CODE_TTL_MS;
  await directoryStub(env).addTelegramLinkCode(await sha256Hex(code), tenantId, label, expiresAt);
  return { code, url: `https://t.me/${username}?start=${code}`, expiresAt: new Date(expiresAt).toISOString() };
}

export type RedeemResult = { status: 'linked'; tenantId: string; channelId: string; relinked: boolean } | { status: 'unknown' | 'used' | 'expired' };

export async function redeemLinkCode(env: Env, code: string, chat: { id: string; title: string }, now = Date.now()): Promise<RedeemResult> {
  const directory = directoryStub(env);
  const hash = await sha256Hex(code);
  const check = await directory.peekTelegramLinkCode(hash, now);
  if (check.status !== 'valid') return check;
  const tenant = tenantStub(env, check.tenantId);

  // The same tenant linking the same chat again keeps its working channel.
  const previous = await directory.telegramChat(chat.id);
  const previousChannel = previous && previous.tenantId === check.tenantId ? await tenant.getChannel(previous.channelId) : null;
  if (previousChannel && previousChannel.disabledAt === null) {
    const claimed = await directory.claimTelegramLinkCode(hash, chat.id, previousChannel.id, now);
    return claimed.status === 'valid' ? { status: 'linked', tenantId: check.tenantId, channelId: previousChannel.id, relinked: true } : claimed;
  }

  const channel = await tenant.createChannel({ id: newId('ch'), target: { type: 'telegram', chatId: chat.id }, secret: null, label: check.label || chat.title });
  const claimed = await directory.claimTelegramLinkCode(hash, chat.id, channel.id, now);
  if (claimed.status !== 'valid') {
    // Another chat used the code between peek and claim: undo our channel.
    await tenant.deleteChannel(channel.id);
    return claimed;
  }
  // A chat that blocked the bot (channel disabled) and now links again: its watches move
  // to the new channel, so alerts resume without re-adding each watch.
  if (previousChannel) {
    for (const watch of await tenant.listWatches()) {
      if (!watch.channels.includes(previousChannel.id)) continue;
      await updateWatch(env, check.tenantId, watch.id, { channels: watch.channels.map((id) => (id === previousChannel.id ? channel.id : id)) });
    }
  }
  return { status: 'linked', tenantId: check.tenantId, channelId: channel.id, relinked: previousChannel !== null };
}

/**
 * A telegram channel only reaches a chat that agreed: one that linked itself to this
 * tenant with /start <code>. A raw chat id the tenant merely knows is refused.
 */
export async function requireChatLinkedTo(env: Env, chatId: string, tenantId: string): Promise<void> {
  const link = await directoryStub(env).telegramChat(chatId);
  if (link?.tenantId === tenantId) return;
  const message = 'this chat has not linked itself to your account: create a link code with POST /v1/telegram/link and send /start <code> from the chat (that creates its channel)';
  throw new AppError('telegram_chat_not_linked', message, { status: 400, issues: [{ path: 'chatId', message }] });
}
