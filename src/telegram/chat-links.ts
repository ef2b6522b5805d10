import { directoryStub } from '../durable/stubs';
import { type Directory } from '../durable/directory';
import { sha256Hex } from '../lib/crypto';

/**
 * Which tenant channel a Telegram chat is, spread over PARTITIONS Directory instances by
 * a hash of the chat id: every update reads one small partition, never one object that
 * serves every chat. Changing PARTITIONS would move chats: it is a constant on purpose.
 */
export const CHAT_LINK_PARTITIONS = 32;

export type ChatLink = { tenantId: string; channelId: string };

export async function chatLinkPartition(chatId: string): Promise<number> {
  return Number.parseInt((await sha256Hex(`telegram-chat|${chatId}`)).slice(0, 8), 16) % CHAT_LINK_PARTITIONS;
}

async function partitionStub(env: Env, chatId: string): Promise<DurableObjectStub<Directory>> {
  const namespace = env.DIRECTORY as unknown as DurableObjectNamespace<Directory>;
  return namespace.get(namespace.idFromName(`telegram-chats#${await chatLinkPartition(chatId)}`));
}

/**
 * The chat's link. A chat linked before partitioning is found in the original directory
 * instance once, and moved into its partition on that first read.
 */
export async function chatLink(env: Env, chatId: string): Promise<ChatLink | null> {
  const partition = await partitionStub(env, chatId);
  const link = await partition.telegramChat(chatId);
  if (link) return link;
  const legacy = directoryStub(env);
  const old = await legacy.telegramChat(chatId);
  if (!old) return null;
  await partition.linkTelegramChat(chatId, old.tenantId, old.channelId, Date.now());
  await legacy.unlinkTelegramChat(chatId, old.channelId);
  return old;
}

export async function setChatLink(env: Env, chatId: string, link: ChatLink, now = Date.now()): Promise<void> {
  await (await partitionStub(env, chatId)).linkTelegramChat(chatId, link.tenantId, link.channelId, now);
}

/** Forgets a chat's link if it still points at `channelId` (a newer link wins). */
export async function removeChatLink(env: Env, chatId: string, channelId: string): Promise<void> {
  await (await partitionStub(env, chatId)).unlinkTelegramChat(chatId, channelId);
}
