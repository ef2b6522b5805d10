import type { Address } from 'viem';
import { watchAccount } from '../config/api-schemas';
import { SUPPORTED_PROTOCOLS, parseMarket, type ProtocolName } from '../protocols';

/**
 * Bot command parsing (pure): message text in, a typed command or a usage problem out.
 * Every problem carries the command's usage line, so a user never gets silence.
 */

export type BotCommand =
  | { name: 'start'; code: string | null }
  | { name: 'watch'; chainId: number; protocol: ProtocolName; market: Address; account: Address; label: string }
  | { name: 'list' }
  | { name: 'status'; watch: string | null }
  | { name: 'mute'; watch: string; durationMs: number | null }
  | { name: 'unwatch'; watch: string }
  | { name: 'help' };

export type CommandName = BotCommand['name'];

export type ParsedMessage =
  | { kind: 'command'; command: BotCommand }
  /** A known command with bad arguments: say what is wrong and show the usage line. */
  | { kind: 'usage'; name: CommandName; problem: string }
  | { kind: 'unknown'; name: string }
  /** Plain text, or a command addressed to another bot in a group. */
  | { kind: 'ignore' };

export const COMMANDS: Array<{ name: CommandName; usage: string; description: string }> = [
  { name: 'start', usage: '/start <link code>', description: 'Link this chat to your marginwatch account' },
  { name: 'watch', usage: '/watch <chain id> <protocol> <market> <account address or position id> [label]', description: 'Watch a lending position' },
  { name: 'list', usage: '/list', description: 'List the positions this chat watches' },
  { name: 'status', usage: '/status [watch id]', description: 'Health factor, collateral, debt, liquidation price' },
  { name: 'mute', usage: '/mute <watch id> <duration: 30m, 2h, 1d, or off>', description: 'Mute alerts for a while' },
  { name: 'unwatch', usage: '/unwatch <watch id>', description: 'Stop watching a position' },
  { name: 'help', usage: '/help', description: 'How to use this bot' },
];

export function usageOf(name: CommandName): string {
  return COMMANDS.find((command) => command.name === name)!.usage;
}

/** Deep-link start parameters allow 1–64 of these (Telegram's rule). */
const LINK_CODE = /^[A-Za-z0-9_-]{1,64}$/;
/** A watch id (`w_` + 20 hex) or a unique start of one, at least 4 hex characters. */
const WATCH_REF = /^(?:w_)?([0-9a-f]{4,20})$/i;
const MAX_LABEL = 100;
export const MAX_MUTE_MS = 30 * 86_400_000;

/**
 * Parses the text of a message. `botUsername` lets `/cmd@ThisBot` through and ignores
 * `/cmd@OtherBot` (groups with several bots).
 */
export function parseMessage(text: string, botUsername?: string): ParsedMessage {
  const trimmed = text.trim();
  const head = /^\/([A-Za-z0-9_]{1,32})(?:@([A-Za-z0-9_]{1,64}))?(?=\s|$)/.exec(trimmed);
  if (!head) return { kind: 'ignore' };
  const [, rawName = '', addressee] = head;
  if (addressee && botUsername && addressee.toLowerCase() !== botUsername.toLowerCase()) return { kind: 'ignore' };
  const name = rawName.toLowerCase();
  const rest = trimmed.slice(head[0].length).trim();
  const args = rest === '' ? [] : rest.split(/\s+/);
  switch (name) {
    case 'start':
      return parseStart(args);
    case 'watch':
      return parseWatch(args, rest);
    case 'list':
      return args.length === 0 ? ok({ name: 'list' }) : usage('list', '/list takes no arguments');
    case 'status':
      if (args.length === 0) return ok({ name: 'status', watch: null });
      if (args.length > 1) return usage('status', 'give at most one watch id');
      return withWatchRef('status', args[0]!, (watch) => ok({ name: 'status', watch }));
    case 'mute':
      return parseMute(args);
    case 'unwatch':
      if (args.length !== 1) return usage('unwatch', args.length === 0 ? 'which watch? give its id (see /list)' : 'give exactly one watch id');
      return withWatchRef('unwatch', args[0]!, (watch) => ok({ name: 'unwatch', watch }));
    case 'help':
      return ok({ name: 'help' });
    default:
      return { kind: 'unknown', name };
  }
}

function ok(command: BotCommand): ParsedMessage {
  return { kind: 'command', command };
}

function usage(name: CommandName, problem: string): ParsedMessage {
  return { kind: 'usage', name, problem };
}

function withWatchRef(name: CommandName, value: string, then: (watch: string) => ParsedMessage): ParsedMessage {
  const match = WATCH_REF.exec(value);
  if (!match) return usage(name, `"${clip(value)}" is not a watch id; ids look like w_3f9a… (see /list)`);
  return then(match[1]!.toLowerCase());
}

function parseStart(args: string[]): ParsedMessage {
  if (args.length === 0) return ok({ name: 'start', code: null });
  if (args.length > 1 || !LINK_CODE.test(args[0]!)) return usage('start', 'the link code is the part after ?start= in the link the API gave you');
  return ok({ name: 'start', code: args[0]! });
}

function parseWatch(args: string[], rest: string): ParsedMessage {
  if (args.length < 4) return usage('watch', `needs 4 values, got ${args.length}`);
  const [chain = '', protocol = '', market = '', account = ''] = args;
  if (!/^[1-9][0-9]{0,15}$/.test(chain)) return usage('watch', `chain must be a chain id number such as 1 (Ethereum) or 8453 (Base), not "${clip(chain)}"`);
  const protocolName = protocol.toLowerCase();
  if (!(SUPPORTED_PROTOCOLS as readonly string[]).includes(protocolName)) return usage('watch', `protocol must be one of: ${SUPPORTED_PROTOCOLS.join(', ')}`);
  const parsedMarket = parseMarket(protocolName as ProtocolName, market);
  if (!parsedMarket.ok) return usage('watch', `market ${parsedMarket.message}`);
  // The same reading as the API: an address, or the protocol's own account form (a Liquity trove id, a Fluid position id).
  const parsedAccount = watchAccount(protocolName as ProtocolName, account);
  if (!parsedAccount.ok) return usage('watch', `account ${parsedAccount.message}`);
  // The label is everything after the fourth value, spaces kept.
  const label = rest.replace(/^(\S+\s+){4}/, '').trim();
  const finalLabel = args.length > 4 ? label : '';
  if (finalLabel.length > MAX_LABEL) return usage('watch', `the label must be at most ${MAX_LABEL} characters`);
  return ok({ name: 'watch', chainId: Number(chain), protocol: protocolName as ProtocolName, market: parsedMarket.market, account: parsedAccount.account, label: finalLabel });
}

function parseMute(args: string[]): ParsedMessage {
  if (args.length !== 2) return usage('mute', args.length < 2 ? 'needs a watch id and a duration' : 'needs exactly a watch id and a duration');
  return withWatchRef('mute', args[0]!, (watch) => {
    const value = args[1]!.toLowerCase();
    if (value === 'off' || value === '0') return ok({ name: 'mute', watch, durationMs: null });
    const durationMs = parseDuration(value);
    if (durationMs === null) return usage('mute', `"${clip(args[1]!)}" is not a duration; use minutes, hours or days like 30m, 2h, 1d or 1h30m`);
    if (durationMs < 60_000) return usage('mute', 'mute for at least 1 minute');
    if (durationMs > MAX_MUTE_MS) return usage('mute', 'mute for at most 30 days');
    return ok({ name: 'mute', watch, durationMs });
  });
}

const UNIT_MS: Record<string, number> = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 7 * 86_400_000 };

/** "30m", "2h", "1d", "1w", "1h30m" → milliseconds; anything else → null. */
export function parseDuration(text: string): number | null {
  const value = text.trim().toLowerCase();
  if (!/^(\d{1,4}[mhdw])+$/.test(value)) return null;
  let total = 0;
  for (const [, amount, unit] of value.matchAll(/(\d{1,4})([mhdw])/g)) total += Number(amount) * UNIT_MS[unit!]!;
  return total;
}

/** Keeps echoed user input short in a reply. */
function clip(value: string): string {
  return value.length > 24 ? `${value.slice(0, 24)}…` : value;
}
