import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A local Telegram Bot API stand-in on 127.0.0.1 for tests. It enforces the rules of the
 * real API that marginwatch depends on, so a test passing here means Telegram would have
 * accepted the same requests:
 *
 * - the token in the path (`/bot<token>/<method>`): a wrong one is 401 Unauthorized;
 * - parameters from the query string, JSON, urlencoded or multipart form bodies;
 * - `sendMessage`: unknown chat → 400 "chat not found"; a chat marked blocked → 403
 *   "Forbidden: bot was blocked by the user"; flood control per chat (a token bucket,
 *   1 message/s sustained with a burst, configurable per chat) → 429 with
 *   `parameters.retry_after`; MarkdownV2 parsed by the rules Telegram documents (entities
 *   balanced, reserved characters escaped) → 400 "can't parse entities: …"; more than
 *   4096 characters after parsing → 400 "message is too long"; scripted failures on demand;
 * - `getChatMember`: "administrator" for a group's `admins` (default: the default group sender), else "member";
 * - `getMe`, `setWebhook` (https only, secret_token alphabet checked), `deleteWebhook`,
 *   `getWebhookInfo`, `setMyCommands` (command names and descriptions checked),
 *   `getMyCommands`.
 *
 * It records every request and, per chat, the messages a phone would show (text after
 * MarkdownV2 parsing, with entities). It builds updates the way Telegram does (message
 * with chat, from, text and a bot_command entity) and can POST them to the registered
 * webhook with `X-Telegram-Bot-Api-Secret-Token`.
 *
 * Tests inside workerd cannot reach Node objects, so everything is also available over a
 * small JSON control API under `/control/` (see `controlRoutes`).
 */

// ── MarkdownV2 ──────────────────────────────────────────────────────────────

export type ParsedEntity = { type: string; offset: number; length: number; url?: string; language?: string; custom_emoji_id?: string };
export type MarkdownV2Result = { ok: true; text: string; entities: ParsedEntity[] } | { ok: false; error: string };

const RESERVED = '_*[]()~`>#+-=|{}.!';
const ENTITY_NAMES: Record<string, string> = {
  bold: 'Bold',
  italic: 'Italic',
  underline: 'Underline',
  strikethrough: 'Strikethrough',
  spoiler: 'Spoiler',
  code: 'Code',
  pre: 'Pre',
  text_link: 'TextUrl',
  custom_emoji: 'CustomEmoji',
};

type OpenEntity = { type: string; start: number; source: number; language?: string };

/** UTF-8 byte offset of a string index, as Telegram reports positions. */
function byteOffset(text: string, index: number): number {
  return Buffer.byteLength(text.slice(0, index), 'utf8');
}

function escapable(character: string | undefined): boolean {
  if (character === undefined) return false;
  const code = character.charCodeAt(0);
  return code >= 1 && code <= 126;
}

/**
 * Parses MarkdownV2 as the Bot API documents it
 * (https://core.telegram.org/bots/api#markdownv2-style): any character with code 1–126
 * can be escaped with `\`; outside entities the characters `_*[]()~`>#+-=|{}.!` must be
 * escaped unless they open or close an entity; inside `code`/`pre` only "`" and `\`
 * matter; inside the (...) of a link only `)` and `\`. `>` at the start of a line opens a
 * blockquote. Every entity must be closed. Returns the text a phone shows and its
 * entities (offsets in UTF-16 code units), or Telegram's error text.
 */
export function parseMarkdownV2(source: string): MarkdownV2Result {
  let text = '';
  const entities: ParsedEntity[] = [];
  const stack: OpenEntity[] = [];
  let quoteStart: number | null = null;
  let index = 0;
  const fail = (error: string): MarkdownV2Result => ({ ok: false, error });

  const closeQuote = () => {
    if (quoteStart !== null && text.length > quoteStart) entities.push({ type: 'blockquote', offset: quoteStart, length: text.length - quoteStart });
    quoteStart = null;
  };

  while (index < source.length) {
    const character = source[index]!;
    const next = source[index + 1];
    const top = stack[stack.length - 1];
    const inCode = top !== undefined && (top.type === 'code' || top.type === 'pre');

    if (character === '\\' && escapable(next)) {
      text += next;
      index += 2;
      continue;
    }
    if (character === '\n' && quoteStart !== null && source[index + 1] !== '>') {
      // A blockquote runs over consecutive lines that start with '>'.
      text += '\n';
      index += 1;
      closeQuote();
      continue;
    }
    const reserved = inCode ? '`' : RESERVED;
    if (!reserved.includes(character)) {
      text += character;
      index += 1;
      continue;
    }

    let closes = false;
    if (top) {
      switch (top.type) {
        case 'bold':
          closes = character === '*';
          break;
        case 'italic':
          closes = character === '_' && next !== '_';
          break;
        case 'underline':
          closes = character === '_' && next === '_';
          break;
        case 'strikethrough':
          closes = character === '~';
          break;
        case 'spoiler':
          closes = character === '|' && next === '|';
          break;
        case 'code':
          closes = character === '`';
          break;
        case 'pre':
          closes = character === '`' && next === '`' && source[index + 2] === '`';
          break;
        case 'text_link':
        case 'custom_emoji':
          closes = character === ']';
          break;
      }
    }

    if (!closes) {
      const atLineStart = index === 0 || source[index - 1] === '\n';
      let type: string;
      let width = 1;
      let language: string | undefined;
      switch (character) {
        case '_':
          if (next === '_') {
            type = 'underline';
            width = 2;
          } else type = 'italic';
          break;
        case '*':
          if (atLineStart && next === '*' && source[index + 2] === '>' && stack.length === 0) {
            // "**>" opens an expandable blockquote.
            if (quoteStart === null) quoteStart = text.length;
            index += 3;
            continue;
          }
          type = 'bold';
          break;
        case '~':
          type = 'strikethrough';
          break;
        case '|':
          if (next !== '|') return fail(`Character '|' is reserved and must be escaped with the preceding '\\'`);
          type = 'spoiler';
          width = 2;
          break;
        case '[':
          type = 'text_link';
          break;
        case '!':
          if (next !== '[') return fail(`Character '!' is reserved and must be escaped with the preceding '\\'`);
          type = 'custom_emoji';
          width = 2;
          break;
        case '`':
          if (next === '`' && source[index + 2] === '`') {
            type = 'pre';
            width = 3;
            const newline = source.indexOf('\n', index + 3);
            const candidate = newline === -1 ? '' : source.slice(index + 3, newline);
            if (newline !== -1 && /^[^\s`\\]+$/.test(candidate)) {
              language = candidate;
              width += candidate.length + 1;
            }
          } else type = 'code';
          break;
        case '>':
          if (atLineStart && stack.length === 0) {
            if (quoteStart === null) quoteStart = text.length;
            index += 1;
            continue;
          }
          return fail(`Character '>' is reserved and must be escaped with the preceding '\\'`);
        default:
          return fail(`Character '${character}' is reserved and must be escaped with the preceding '\\'`);
      }
      if (stack.some((entity) => entity.type === type)) return fail(`Can't find end of ${ENTITY_NAMES[type]} entity at byte offset ${byteOffset(source, stack.find((entity) => entity.type === type)!.source)}`);
      stack.push({ type, start: text.length, source: index, ...(language ? { language } : {}) });
      index += width;
      continue;
    }

    const entity = stack.pop()!;
    const found: ParsedEntity = { type: entity.type, offset: entity.start, length: text.length - entity.start };
    switch (entity.type) {
      case 'text_link':
      case 'custom_emoji': {
        index += 1;
        let url = '';
        if (source[index] === '(') {
          index += 1;
          while (index < source.length && source[index] !== ')') {
            if (source[index] === '\\' && escapable(source[index + 1])) {
              url += source[index + 1];
              index += 2;
              continue;
            }
            url += source[index];
            index += 1;
          }
          if (source[index] !== ')') return fail(`Can't find end of a URL at byte offset ${byteOffset(source, entity.source)}`);
          index += 1;
        } else if (entity.type === 'text_link') {
          url = text.slice(entity.start);
        }
        if (entity.type === 'custom_emoji') {
          const match = /^tg:\/\/emoji\?id=(\d+)$/.exec(url);
          if (!match) return fail('Custom emoji entity must contain a tg://emoji URL');
          found.custom_emoji_id = match[1]!;
        } else {
          // Telegram silently drops links whose URL it does not accept.
          if (!URL.canParse(url)) continue;
          found.url = url;
        }
        break;
      }
      case 'pre':
        index += 3;
        if (entity.language) found.language = entity.language;
        break;
      case 'underline':
      case 'spoiler':
        index += 2;
        break;
      default:
        index += 1;
    }
    // Empty entities are dropped, like Telegram does.
    if (found.length > 0) entities.push(found);
  }
  const open = stack[stack.length - 1];
  if (open) return fail(`Can't find end of ${ENTITY_NAMES[open.type]} entity at byte offset ${byteOffset(source, open.source)}`);
  closeQuote();
  entities.sort((a, b) => a.offset - b.offset || b.length - a.length);
  return { ok: true, text, entities };
}

// ── The server ──────────────────────────────────────────────────────────────

export const MAX_MESSAGE_LENGTH = 4096;

export type RecordedMessage = {
  message_id: number;
  date: number;
  chatId: string;
  /** What a phone shows: the text after parsing. */
  text: string;
  entities: ParsedEntity[];
  /** The text as sent, before parsing. */
  raw: string;
  parse_mode: string | null;
  at: number;
};

export type RecordedRequest = { method: string; chatId: string | null; ok: boolean; errorCode: number | null; description: string | null; at: number };

export type StandInChat = {
  id: string;
  type: 'private' | 'group' | 'supergroup';
  title: string;
  blocked: boolean;
  /** Flood control: a token bucket of `burst` messages refilled at `perSecond`. */
  burst: number;
  perSecond: number;
  tokens: number;
  refilledAt: number;
  messages: RecordedMessage[];
  /** Group administrators' user ids (getChatMember answers "administrator" for them). */
  admins: number[];
};

type Scripted = { method: string; chatId: string | null; errorCode: number; description: string; retryAfter?: number };
type ApiAnswer = { status: number; body: Record<string, unknown> };

export type TelegramStandInOptions = {
  token?: string;
  username?: string;
  /** Default flood control for every chat. */
  burst?: number;
  perSecond?: number;
};

export type TelegramStandIn = {
  /** The Bot API base URL (TELEGRAM_API_BASE). */
  url: string;
  /** The control API base URL, `${url}/control`. */
  controlUrl: string;
  token: string;
  username: string;
  chats: Map<string, StandInChat>;
  requests: RecordedRequest[];
  webhook(): { url: string; secretToken: string | null; allowedUpdates: string[] | null } | null;
  commands(): Array<{ command: string; description: string }>;
  chat(id: string, patch?: Partial<Pick<StandInChat, 'type' | 'title' | 'blocked' | 'burst' | 'perSecond' | 'admins'>>): StandInChat;
  script(entry: Scripted, times?: number): void;
  buildUpdate(input: UpdateInput): { update: Record<string, unknown>; headers: Record<string, string> };
  /** POSTs an update to the registered webhook, as Telegram does. */
  deliverUpdate(input: UpdateInput): Promise<{ status: number; body: string }>;
  stop(): Promise<void>;
};

export type UpdateInput = { chatId: string; text: string; chatType?: StandInChat['type']; firstName?: string; title?: string; userId?: number };

/** Who sends group messages unless a test says otherwise; an administrator of every group. */
const DEFAULT_GROUP_USER_ID = 424242;

function apiError(status: number, description: string, parameters?: Record<string, unknown>): ApiAnswer {
  return { status, body: { ok: false, error_code: status, description, ...(parameters ? { parameters } : {}) } };
}

function apiOk(result: unknown, description?: string): ApiAnswer {
  return { status: 200, body: { ok: true, result, ...(description ? { description } : {}) } };
}

async function readBody(request: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** Parameters as the Bot API accepts them: query string, JSON, urlencoded or multipart. */
function parseParams(request: IncomingMessage, body: Buffer): Record<string, unknown> | null {
  const params: Record<string, unknown> = {};
  const query = new URL(request.url ?? '/', 'http://stand-in').searchParams;
  for (const [key, value] of query) params[key] = value;
  const type = (request.headers['content-type'] ?? '').toLowerCase();
  if (body.length === 0) return params;
  if (type.includes('application/json')) {
    try {
      const json = JSON.parse(body.toString('utf8')) as unknown;
      if (typeof json !== 'object' || json === null || Array.isArray(json)) return null;
      return { ...params, ...(json as Record<string, unknown>) };
    } catch {
      return null;
    }
  }
  if (type.includes('application/x-www-form-urlencoded')) {
    for (const [key, value] of new URLSearchParams(body.toString('utf8'))) params[key] = value;
    return params;
  }
  if (type.includes('multipart/form-data')) {
    const boundary = /boundary="?([^";]+)"?/.exec(type)?.[1] ?? /boundary="?([^";]+)"?/i.exec(request.headers['content-type'] ?? '')?.[1];
    if (!boundary) return null;
    for (const part of body.toString('utf8').split(`--${boundary}`)) {
      const split = part.indexOf('\r\n\r\n');
      if (split === -1) continue;
      const name = /name="([^"]+)"/.exec(part.slice(0, split))?.[1];
      if (name) params[name] = part.slice(split + 4).replace(/\r\n$/, '');
    }
    return params;
  }
  return params;
}

/** Form values arrive as strings; structured parameters are JSON-serialized in them. */
function structured(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  try {
    return JSON.parse(value) as unknown;
  } catch {
    return value;
  }
}

export async function startTelegramStandIn(options: TelegramStandInOptions = {}): Promise<TelegramStandIn> {
  const token = options.token ?? '123456789:STAND-IN_test_token_abcdefghijklmnop';
  const botId = Number(token.split(':')[0]);
  const username = options.username ?? 'marginwatch_test_bot';
  const defaultBurst = options.burst ?? 20;
  const defaultPerSecond = options.perSecond ?? 1;
  const chats = new Map<string, StandInChat>();
  const requests: RecordedRequest[] = [];
  const scripted: Scripted[] = [];
  let webhook: { url: string; secretToken: string | null; allowedUpdates: string[] | null } | null = null;
  let commands: Array<{ command: string; description: string }> = [];
  let nextUpdateId = 100_000;
  let nextMessageId = 1;

  function chat(id: string, patch: Partial<Pick<StandInChat, 'type' | 'title' | 'blocked' | 'burst' | 'perSecond' | 'admins'>> = {}): StandInChat {
    let state = chats.get(id);
    if (!state) {
      state = {
        id,
        type: id.startsWith('-') ? 'group' : 'private',
        title: `chat ${id}`,
        blocked: false,
        burst: defaultBurst,
        perSecond: defaultPerSecond,
        tokens: defaultBurst,
        refilledAt: Date.now(),
        messages: [],
        // The default group sender (see buildUpdate) administers its group.
        admins: [DEFAULT_GROUP_USER_ID],
      };
      chats.set(id, state);
    }
    Object.assign(state, patch);
    if (patch.burst !== undefined) state.tokens = Math.min(state.tokens, patch.burst);
    return state;
  }

  /** Takes one message from the chat's bucket; the seconds to wait when it is empty. */
  function flood(state: StandInChat, now: number): number | null {
    state.tokens = Math.min(state.burst, state.tokens + ((now - state.refilledAt) / 1000) * state.perSecond);
    state.refilledAt = now;
    if (state.tokens >= 1) {
      state.tokens -= 1;
      return null;
    }
    return Math.max(1, Math.ceil((1 - state.tokens) / state.perSecond));
  }

  function takeScripted(method: string, chatId: string | null): Scripted | undefined {
    const index = scripted.findIndex((entry) => entry.method.toLowerCase() === method.toLowerCase() && (entry.chatId === null || entry.chatId === chatId));
    return index === -1 ? undefined : scripted.splice(index, 1)[0];
  }

  function sendMessage(params: Record<string, unknown>): ApiAnswer {
    const chatId = params.chat_id === undefined || params.chat_id === '' ? null : String(params.chat_id);
    if (chatId === null) return apiError(400, 'Bad Request: chat_id is empty');
    const rawText = params.text === undefined ? '' : String(params.text);
    if (rawText.trim() === '') return apiError(400, 'Bad Request: message text is empty');
    const state = chats.get(chatId);
    if (!state) return apiError(400, 'Bad Request: chat not found');
    if (state.blocked) return apiError(403, state.type === 'private' ? 'Forbidden: bot was blocked by the user' : 'Forbidden: bot was kicked from the group chat');
    const script = takeScripted('sendMessage', chatId);
    if (script) return apiError(script.errorCode, script.description, script.retryAfter === undefined ? undefined : { retry_after: script.retryAfter });
    const now = Date.now();
    const wait = flood(state, now);
    if (wait !== null) return apiError(429, `Too Many Requests: retry after ${wait}`, { retry_after: wait });
    const parseMode = params.parse_mode === undefined || params.parse_mode === '' ? null : String(params.parse_mode);
    let text = rawText;
    let entities: ParsedEntity[] = [];
    if (parseMode !== null) {
      if (parseMode !== 'MarkdownV2') return apiError(400, `Bad Request: unsupported parse_mode ${parseMode} (the stand-in knows MarkdownV2)`);
      const parsed = parseMarkdownV2(rawText);
      if (!parsed.ok) {
        state.tokens += 1; // a refused message does not count against flood control
        return apiError(400, `Bad Request: can't parse entities: ${parsed.error}`);
      }
      text = parsed.text;
      entities = parsed.entities;
    }
    if (text.length > MAX_MESSAGE_LENGTH) {
      state.tokens += 1;
      return apiError(400, 'Bad Request: message is too long');
    }
    if (text.trim() === '') return apiError(400, 'Bad Request: message text is empty');
    const message: RecordedMessage = { message_id: nextMessageId++, date: Math.floor(now / 1000), chatId, text, entities, raw: rawText, parse_mode: parseMode, at: now };
    state.messages.push(message);
    return apiOk({
      message_id: message.message_id,
      date: message.date,
      chat: chatObject(state),
      from: { id: botId, is_bot: true, first_name: 'marginwatch', username },
      text,
      ...(entities.length > 0 ? { entities } : {}),
    });
  }

  function chatObject(state: StandInChat): Record<string, unknown> {
    const id = Number(state.id);
    return state.type === 'private' ? { id, type: 'private', first_name: state.title } : { id, type: state.type, title: state.title };
  }

  function setWebhook(params: Record<string, unknown>): ApiAnswer {
    const url = params.url === undefined ? '' : String(params.url);
    if (url === '') {
      webhook = null;
      return apiOk(true, 'Webhook was deleted');
    }
    if (!URL.canParse(url)) return apiError(400, 'Bad Request: bad webhook: Failed to resolve host: Name or service not known');
    const parsed = new URL(url);
    // Telegram only calls https; loopback http is allowed here for a local worker.
    const loopback = parsed.hostname === '127.0.0.1' || parsed.hostname === 'localhost';
    if (parsed.protocol !== 'https:' && !(loopback && parsed.protocol === 'http:')) return apiError(400, 'Bad Request: bad webhook: An HTTPS URL must be provided for webhook');
    const secretToken = params.secret_token === undefined ? null : String(params.secret_token);
    if (secretToken !== null && !/^[A-Za-z0-9_-]{1,256}$/.test(secretToken)) return apiError(400, 'Bad Request: secret token contains unallowed characters');
    const allowed = structured(params.allowed_updates);
    webhook = { url, secretToken, allowedUpdates: Array.isArray(allowed) ? allowed.map(String) : null };
    return apiOk(true, 'Webhook was set');
  }

  function setMyCommands(params: Record<string, unknown>): ApiAnswer {
    const list = structured(params.commands);
    if (!Array.isArray(list)) return apiError(400, 'Bad Request: parameter "commands" is required');
    if (list.length > 100) return apiError(400, 'Bad Request: too many commands');
    const parsed: Array<{ command: string; description: string }> = [];
    for (const entry of list as Array<Record<string, unknown>>) {
      const command = String(entry?.command ?? '');
      const description = String(entry?.description ?? '');
      if (!/^[a-z0-9_]{1,32}$/.test(command)) return apiError(400, 'Bad Request: BOT_COMMAND_INVALID');
      if (description.trim().length < 1 || description.length > 256) return apiError(400, 'Bad Request: BOT_COMMAND_DESCRIPTION_INVALID');
      parsed.push({ command, description });
    }
    commands = parsed;
    return apiOk(true);
  }

  function callMethod(method: string, params: Record<string, unknown>): ApiAnswer {
    const chatId = params.chat_id === undefined ? null : String(params.chat_id);
    switch (method.toLowerCase()) {
      case 'getme':
        return apiOk({ id: botId, is_bot: true, first_name: 'marginwatch test', username, can_join_groups: true, can_read_all_group_messages: false, supports_inline_queries: false, can_connect_to_business: false, has_main_web_app: false });
      case 'sendmessage':
        return sendMessage(params);
      case 'setwebhook': {
        const script = takeScripted(method, chatId);
        return script ? apiError(script.errorCode, script.description) : setWebhook(params);
      }
      case 'deletewebhook':
        webhook = null;
        return apiOk(true, 'Webhook was deleted');
      case 'getwebhookinfo':
        return apiOk({ url: webhook?.url ?? '', has_custom_certificate: false, pending_update_count: 0, ...(webhook?.allowedUpdates ? { allowed_updates: webhook.allowedUpdates } : {}) });
      case 'setmycommands': {
        const script = takeScripted(method, chatId);
        return script ? apiError(script.errorCode, script.description) : setMyCommands(params);
      }
      case 'getmycommands':
        return apiOk(commands);
      case 'getchatmember': {
        const state = chatId === null ? undefined : chats.get(chatId);
        if (!state) return apiError(400, 'Bad Request: chat not found');
        const userId = Number(params.user_id);
        if (!Number.isSafeInteger(userId)) return apiError(400, 'Bad Request: invalid user_id specified');
        const user = { id: userId, is_bot: false, first_name: 'Test' };
        if (state.type === 'private') return apiOk({ status: 'member', user });
        return apiOk(state.admins.includes(userId) ? { status: 'administrator', user, can_be_edited: false, is_anonymous: false, can_manage_chat: true } : { status: 'member', user });
      }
      default:
        return apiError(404, 'Not Found');
    }
  }

  function buildUpdate(input: UpdateInput): { update: Record<string, unknown>; headers: Record<string, string> } {
    const state = chat(input.chatId, { ...(input.chatType ? { type: input.chatType } : {}), ...(input.title ?? input.firstName ? { title: (input.title ?? input.firstName)! } : {}) });
    const userId = input.userId ?? (state.type === 'private' ? Number(state.id) : DEFAULT_GROUP_USER_ID);
    const command = /^\/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{1,64})?/.exec(input.text);
    const update = {
      update_id: nextUpdateId++,
      message: {
        message_id: nextMessageId++,
        date: Math.floor(Date.now() / 1000),
        chat: chatObject(state),
        from: { id: userId, is_bot: false, first_name: input.firstName ?? 'Test', language_code: 'en' },
        text: input.text,
        ...(command ? { entities: [{ type: 'bot_command', offset: 0, length: command[0].length }] } : {}),
      },
    };
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (webhook?.secretToken) headers['x-telegram-bot-api-secret-token'] = webhook.secretToken;
    return { update, headers };
  }

  async function deliverUpdate(input: UpdateInput): Promise<{ status: number; body: string }> {
    if (!webhook) throw new Error('no webhook is set: call setWebhook first');
    const { update, headers } = buildUpdate(input);
    const response = await fetch(webhook.url, { method: 'POST', headers, body: JSON.stringify(update) });
    return { status: response.status, body: await response.text() };
  }

  function script(entry: Scripted, times = 1): void {
    for (let count = 0; count < times; count++) scripted.push({ ...entry });
  }

  /** The JSON control API used by tests inside workerd. */
  async function control(method: string, path: string, body: Record<string, unknown>, query: URLSearchParams): Promise<{ status: number; body: unknown }> {
    const chatPath = /^\/control\/chats\/(-?\d+)(\/messages)?$/.exec(path);
    if (method === 'GET' && chatPath?.[2]) return { status: 200, body: chats.get(chatPath[1]!)?.messages ?? [] };
    if (method === 'GET' && chatPath) {
      const state = chats.get(chatPath[1]!);
      return state ? { status: 200, body: { ...state, messages: state.messages.length } } : { status: 404, body: { error: 'no such chat' } };
    }
    if (method === 'POST' && chatPath && !chatPath[2]) {
      const patch: Partial<Pick<StandInChat, 'type' | 'title' | 'blocked' | 'burst' | 'perSecond' | 'admins'>> = {};
      if (typeof body.type === 'string') patch.type = body.type as StandInChat['type'];
      if (typeof body.title === 'string') patch.title = body.title;
      if (typeof body.blocked === 'boolean') patch.blocked = body.blocked;
      if (typeof body.burst === 'number') patch.burst = body.burst;
      if (typeof body.perSecond === 'number') patch.perSecond = body.perSecond;
      if (Array.isArray(body.admins)) patch.admins = body.admins.map(Number);
      const state = chat(chatPath[1]!, patch);
      return { status: 200, body: { ...state, messages: state.messages.length } };
    }
    if (method === 'GET' && path === '/control/requests') {
      const wanted = query.get('method')?.toLowerCase();
      const chatId = query.get('chatId');
      return { status: 200, body: requests.filter((entry) => (!wanted || entry.method.toLowerCase() === wanted) && (!chatId || entry.chatId === chatId)) };
    }
    if (method === 'GET' && path === '/control/state') return { status: 200, body: { webhook, commands, username, botId } };
    if (method === 'POST' && path === '/control/script') {
      script(
        {
          method: String(body.method ?? 'sendMessage'),
          chatId: body.chatId === undefined ? null : String(body.chatId),
          errorCode: Number(body.errorCode ?? 500),
          description: String(body.description ?? 'Internal Server Error'),
          ...(body.retryAfter === undefined ? {} : { retryAfter: Number(body.retryAfter) }),
        },
        Number(body.times ?? 1),
      );
      return { status: 200, body: { ok: true } };
    }
    if (method === 'POST' && path === '/control/updates') {
      const input: UpdateInput = {
        chatId: String(body.chatId),
        text: String(body.text ?? ''),
        ...(typeof body.chatType === 'string' ? { chatType: body.chatType as StandInChat['type'] } : {}),
        ...(typeof body.firstName === 'string' ? { firstName: body.firstName } : {}),
        ...(typeof body.title === 'string' ? { title: body.title } : {}),
        ...(typeof body.userId === 'number' ? { userId: body.userId } : {}),
      };
      if (body.deliver === true) return { status: 200, body: await deliverUpdate(input) };
      return { status: 200, body: { ...buildUpdate(input), webhookUrl: webhook?.url ?? null } };
    }
    return { status: 404, body: { error: `no control route ${method} ${path}` } };
  }

  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    const reply = (status: number, value: unknown) => {
      response.writeHead(status, { 'content-type': 'application/json' });
      response.end(JSON.stringify(value));
    };
    const url = new URL(request.url ?? '/', 'http://stand-in');
    readBody(request)
      .then(async (raw) => {
        if (url.pathname.startsWith('/control/')) {
          let body: Record<string, unknown> = {};
          if (raw.length > 0) body = JSON.parse(raw.toString('utf8')) as Record<string, unknown>;
          const answer = await control(request.method ?? 'GET', url.pathname, body, url.searchParams);
          return reply(answer.status, answer.body);
        }
        const match = /^\/bot([^/]*)\/([A-Za-z]+)$/.exec(url.pathname);
        if (!match) return reply(404, { ok: false, error_code: 404, description: 'Not Found' });
        const [, givenToken, method = ''] = match;
        if (givenToken !== token) {
          requests.push({ method, chatId: null, ok: false, errorCode: 401, description: 'Unauthorized', at: Date.now() });
          return reply(401, { ok: false, error_code: 401, description: 'Unauthorized' });
        }
        const params = parseParams(request, raw);
        if (params === null) return reply(400, { ok: false, error_code: 400, description: 'Bad Request: invalid request body' });
        const answer = callMethod(method, params);
        requests.push({
          method,
          chatId: params.chat_id === undefined ? null : String(params.chat_id),
          ok: answer.body.ok === true,
          errorCode: answer.body.ok === true ? null : (answer.body.error_code as number),
          description: answer.body.ok === true ? null : String(answer.body.description),
          at: Date.now(),
        });
        return reply(answer.status, answer.body);
      })
      .catch((error: unknown) => reply(500, { ok: false, error_code: 500, description: `Internal Server Error: ${error instanceof Error ? error.message : String(error)}` }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const base = `http://127.0.0.1:${port}`;

  return {
    url: base,
    controlUrl: `${base}/control`,
    token,
    username,
    chats,
    requests,
    webhook: () => webhook,
    commands: () => commands,
    chat,
    script,
    buildUpdate,
    deliverUpdate,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
