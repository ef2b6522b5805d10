import { tenantStub } from '../durable/stubs';
import { Bot, BotError, GrammyError, type Context } from 'grammy';
import type { Update } from 'grammy/types';
import type { AppConfig, TelegramConfig } from '../config/env';

import type { WatchRecord } from '../watches/records';
import { isAppError } from '../lib/errors';
import { createWatch, deleteWatch, getWatchWithStatus, updateWatch } from '../watches/service';
import { describeTelegramFailure, getBotInfo, redactToken, telegramApi } from './client';
import { redactUrlsInText } from '../lib/redact-text';
import { parseMessage, type BotCommand } from './commands';
import { redeemLinkCode } from './link';
import { resolveProtocolAddress } from '../protocols';
import { chatLink, removeChatLink } from './chat-links';
import * as replies from './replies';

/**
 * The bot: one webhook update in, at most one plain-text reply out. Commands act through
 * the same watch service as the HTTP API, as the tenant the chat is linked to, and only on
 * the watches that notify this chat.
 */

/** `senderIsAdmin`: whether the sender may change things in a group (asked of Telegram only when a command needs it). */
type Chat = { id: string; type: string; title: string; senderIsAdmin: () => Promise<boolean> };
type Link = { tenantId: string; channelId: string };

/** At most this many watches are read for /list and /status (each is one shard call). */
const MAX_LISTED = 50;
/**
 * A reply refused with 429 is sent again after `retry_after` when that is this short:
 * the user is waiting for it, and Telegram's webhook timeout leaves room. Longer waits
 * are given up (logged), since holding the webhook open would delay the next updates.
 */
const MAX_REPLY_WAIT_SECONDS = 3;

export async function handleTelegramUpdate(env: Env, config: AppConfig, telegram: TelegramConfig, update: Update): Promise<void> {
  // If getMe fails (Telegram unreachable) this throws: the webhook answers 500 and
  // Telegram delivers the update again later, when a reply can be sent.
  const botInfo = await getBotInfo(telegram);
  const bot = new Bot(telegram.token, { botInfo, client: { apiRoot: telegram.apiBase, timeoutSeconds: 10 } });
  bot.on('message:text', async (ctx) => {
    const chat = chatOf(ctx, telegram);
    const reply = await answer(env, config, chat, ctx.message.text, botInfo.username);
    if (reply !== null) await replyHonouringFlood(ctx, reply);
  });
  try {
    await bot.handleUpdate(update);
  } catch (error) {
    // A reply Telegram refused (chat blocked, flood limit) or a failure that escaped
    // `answer`: logged without the token; the webhook still answers 200 so Telegram does
    // not redeliver the update and run the command twice.
    const cause = error instanceof BotError ? error.error : error;
    console.error('telegram update failed', describeTelegramFailure(cause, telegram.token).description);
  }
}

async function replyHonouringFlood(ctx: Context, text: string): Promise<void> {
  const send = () => ctx.reply(replies.clampReply(text), { link_preview_options: { is_disabled: true } });
  try {
    await send();
  } catch (error) {
    const wait = error instanceof GrammyError && error.error_code === 429 ? error.parameters.retry_after : undefined;
    if (wait === undefined || wait > MAX_REPLY_WAIT_SECONDS) throw error;
    await new Promise((resolve) => setTimeout(resolve, wait * 1000));
    await send();
  }
}

function chatOf(ctx: Context, telegram: TelegramConfig): Chat {
  const chat = ctx.chat!;
  const title = chat.type === 'private' ? [chat.first_name, chat.last_name].filter(Boolean).join(' ') || (chat.username ?? '') : (chat.title ?? '');
  const senderIsAdmin = async () => {
    if (chat.type === 'private') return true;
    // An anonymous administrator posts as the group itself.
    if (ctx.message?.sender_chat?.id === chat.id) return true;
    const userId = ctx.from?.id;
    if (userId === undefined) return false;
    const member = await telegramApi(telegram).getChatMember(chat.id, userId);
    return member.status === 'creator' || member.status === 'administrator';
  };
  return { id: String(chat.id), type: chat.type, title: title.slice(0, 100), senderIsAdmin };
}

/** Commands that change something: in a group, only its administrators may run them. */
function changesSomething(command: BotCommand): boolean {
  return (command.name === 'start' && command.code !== null) || command.name === 'watch' || command.name === 'mute' || command.name === 'unwatch';
}

/** The reply to one message, or null to stay quiet (plain chatter in a group). */
export async function answer(env: Env, config: AppConfig, chat: Chat, text: string, botUsername: string): Promise<string | null> {
  const parsed = parseMessage(text, botUsername);
  switch (parsed.kind) {
    case 'ignore':
      return chat.type === 'private' ? 'Send /help to see what I can do.' : null;
    case 'unknown':
      return replies.unknownCommandText(parsed.name);
    case 'usage':
      return replies.usageText(parsed.name, parsed.problem);
    case 'command':
      try {
        return await run(env, config, chat, parsed.command);
      } catch (error) {
        // Bad input the service refused (unknown chain, not an Aave pool…) is the user's
        // to fix and its message says how; anything else is ours, and says nothing inside.
        if (isAppError(error) && error.status < 500) return `${error.message}.`;
        const detail = error instanceof Error ? `${error.name}: ${error.message}` : 'unknown error';
        console.error('telegram command failed', parsed.command.name, redactToken(redactUrlsInText(detail.slice(0, 300))));
        return isAppError(error) && error.status === 502
          ? 'I could not reach that chain right now; nothing was changed. Please try again in a minute.'
          : replies.internalErrorText();
      }
  }
}

async function run(env: Env, config: AppConfig, chat: Chat, command: BotCommand): Promise<string> {
  if (command.name === 'help') return replies.helpText();
  if (changesSomething(command) && !(await chat.senderIsAdmin())) return replies.adminsOnlyText(command.name);
  if (command.name === 'start') {
    if (command.code === null) return (await linkOf(env, chat)) ? replies.linkedText(true) : replies.notLinkedText();
    const result = await redeemLinkCode(env, config, command.code, chat);
    if (result.status === 'linked') return replies.linkedText(result.relinked);
    if (result.status === 'quota_exceeded') return replies.channelQuotaText(result.limit);
    return replies.linkCodeProblemText(result.status);
  }
  const link = await linkOf(env, chat);
  if (!link) return replies.notLinkedText();
  const now = new Date();

  switch (command.name) {
    case 'watch': {
      const tenant = tenantStub(env, link.tenantId);
      const protocolAddress = resolveProtocolAddress(command.protocol, command.chainId, undefined);
      const existing = await tenant.findWatchAt({ chainId: command.chainId, protocol: command.protocol, market: command.market, protocolAddress, account: command.account });
      if (existing) {
        // A chat only ever sees the watches that notify it: one watched through other
        // channels (set up through the API) is not attached here, nor named.
        if (!existing.channels.includes(link.channelId)) return replies.watchedElsewhereText();
        return replies.watchCreatedText(existing, true);
      }
      const watch = await createWatch(env, config, link.tenantId, {
        chainId: command.chainId,
        protocol: command.protocol,
        market: command.market,
        account: command.account,
        label: command.label || undefined,
        channels: [link.channelId],
      });
      return replies.watchCreatedText(watch, false);
    }
    case 'list': {
      const watches = await chatWatches(env, link);
      return replies.listText(await Promise.all(watches.slice(0, MAX_LISTED).map((watch) => summary(env, link, watch))), now);
    }
    case 'status': {
      if (command.watch === null) {
        const watches = await chatWatches(env, link);
        if (watches.length === 0) return replies.listText([], now);
        return replies.statusOverviewText(await Promise.all(watches.slice(0, MAX_LISTED).map((watch) => summary(env, link, watch))), now);
      }
      const found = await findWatch(env, link, command.watch);
      if (typeof found === 'string') return found;
      return replies.statusText(await summary(env, link, found), now);
    }
    case 'mute': {
      const found = await findWatch(env, link, command.watch);
      if (typeof found === 'string') return found;
      const until = command.durationMs === null ? null : new Date(now.getTime() + command.durationMs);
      await updateWatch(env, link.tenantId, found.id, { silencedUntil: until === null ? null : until.getTime() });
      return replies.mutedText(found, until);
    }
    case 'unwatch': {
      const found = await findWatch(env, link, command.watch);
      if (typeof found === 'string') return found;
      const others = found.channels.filter((id) => id !== link.channelId);
      // A watch that also notifies other channels (set up through the API) keeps running
      // for them; this chat only stops getting its alerts.
      if (others.length > 0) await updateWatch(env, link.tenantId, found.id, { channels: others });
      else await deleteWatch(env, link.tenantId, found.id);
      return replies.unwatchedText(found);
    }
  }
}

/** The chat's link, if its channel still exists (a channel deleted through the API unlinks). */
async function linkOf(env: Env, chat: Chat): Promise<Link | null> {
  const link = await chatLink(env, chat.id);
  if (!link) return null;
  if (!(await tenantStub(env, link.tenantId).getChannel(link.channelId))) {
    await removeChatLink(env, chat.id, link.channelId);
    return null;
  }
  return link;
}

async function chatWatches(env: Env, link: Link): Promise<WatchRecord[]> {
  return (await tenantStub(env, link.tenantId).listWatches()).filter((watch) => watch.channels.includes(link.channelId));
}

/** A watch of this chat by full id or unique start of its hex part; a reply text when none or several match. */
async function findWatch(env: Env, link: Link, ref: string): Promise<WatchRecord | string> {
  const watches = await chatWatches(env, link);
  const exact = watches.find((watch) => watch.id === `w_${ref}`);
  if (exact) return exact;
  const matches = watches.filter((watch) => watch.id.slice(2).startsWith(ref));
  if (matches.length === 1) return matches[0]!;
  if (matches.length === 0) return replies.watchNotFoundText(`w_${ref}`);
  return replies.ambiguousWatchText(ref, matches.map((watch) => watch.id));
}

async function summary(env: Env, link: Link, watch: WatchRecord): Promise<replies.WatchSummary> {
  const status = await getWatchWithStatus(env, link.tenantId, watch.id);
  return {
    id: status.id,
    label: status.label,
    chainId: status.chainId,
    protocol: status.protocol,
    market: status.market,
    account: status.account,
    silencedUntil: status.silencedUntil,
    level: status.level,
    position: status.position,
    lastPolledAt: status.lastPolledAt,
    lastError: status.lastError,
    monitor: status.monitor,
    risk: status.risk,
    conditions: status.conditions,
  };
}
