import type { PositionView } from '../domain/position-view';
import { COMMANDS, usageOf, type CommandName } from './commands';
import type { WatchCondition, WatchMonitor } from '../watches/records';
import type { MonitorReason } from '../monitor/health';
import type { WatchRisk } from '../risk/watch-risk';
import { riskLine } from '../notify/render';
import { moneyText, valueText } from '../notify/money-text';

/**
 * The bot's answers, in plain words (pure). They go out as plain text (no parse_mode), so
 * labels and addresses need no escaping here.
 */

export type WatchSummary = {
  id: string;
  label: string;
  chainId: number;
  protocol: string;
  market: string;
  account: string;
  silencedUntil: string | null;
  level: string | null;
  position: PositionView | null;
  lastPolledAt: string | null;
  lastError: string | null;
  /** Absent or null: the monitor's state is unknown (e.g. an older shard). */
  monitor?: WatchMonitor | null;
  /** Absent or null: no risk figures. */
  risk?: WatchRisk | null;
  /** The protocol's own conditions active now (absent: none known). */
  conditions?: WatchCondition[];
};

const MONITOR_REASON_WORDS: Record<MonitorReason, string> = { stale: 'the RPC nodes are behind the chain', erroring: 'reads keep failing', wrong_chain: 'the RPC nodes serve another chain' };

const LEVEL_WORDS: Record<string, string> = { ok: 'OK', warning: 'WARNING', margin_call: 'MARGIN CALL', critical: 'CRITICAL', liquidatable: 'LIQUIDATABLE' };

export function helpText(): string {
  return [
    'marginwatch alerts you here before a lending position gets liquidated.',
    '',
    ...COMMANDS.map((command) => `${command.usage} — ${command.description}`),
    '',
    'Chain is a chain id (1 Ethereum, 10 Optimism, 137 Polygon, 8453 Base, 42161 Arbitrum). The market is the Aave v3 Pool address.',
    'Example: /watch 1 aave-v3 0x87870Bca3F3fD6335C3F4ce8392D69350B4fA4E2 0xYourAddress my vault',
  ].join('\n');
}

export function notLinkedText(): string {
  return [
    'This chat is not linked to a marginwatch account yet.',
    'Get a link with your API key: POST /v1/telegram/link (it answers a t.me link), open it, and press Start. Or send /start <code> here.',
  ].join('\n');
}

export function usageText(name: CommandName, problem: string): string {
  return `${capitalize(problem)}.\nUsage: ${usageOf(name)}`;
}

export function unknownCommandText(name: string): string {
  return `I don't know /${name}. Send /help for the list of commands.`;
}

export function linkCodeProblemText(status: 'unknown' | 'used' | 'expired'): string {
  const why = { unknown: 'That link code is not valid', used: 'That link code was already used', expired: 'That link code has expired' }[status];
  return `${why}. Ask for a new one with POST /v1/telegram/link and open the link it gives within an hour.`;
}

export function channelQuotaText(limit: number): string {
  return `This marginwatch account already has its limit of ${limit} channels, so this chat cannot be linked. Delete a channel it no longer needs (DELETE /v1/channels/:id) and send the link again.`;
}

export function linkedText(alreadyLinked: boolean): string {
  return [
    alreadyLinked ? 'This chat is linked again to your marginwatch account.' : 'Linked! This chat will receive marginwatch alerts.',
    'Watch a position with /watch <chain id> <protocol> <market> <account>, or add this chat to a watch through the API. /help lists every command.',
  ].join('\n');
}

export function watchCreatedText(watch: { id: string; label: string; chainId: number; protocol: string; account: string }, reused: boolean): string {
  const name = watch.label ? `"${watch.label}" ` : '';
  return reused
    ? `That position was already watched as ${name}${watch.id}; its alerts now come to this chat too.`
    : `Watching ${name}${shortAddress(watch.account)} on chain ${watch.chainId} (${watch.protocol}) as ${watch.id}.\nThe first reading arrives within a minute; see it with /status ${watch.id}.`;
}

export function unwatchedText(watch: { id: string; label: string }): string {
  return `Stopped watching ${watch.label ? `"${watch.label}" ` : ''}${watch.id}. No more alerts for it.`;
}

export function mutedText(watch: { id: string }, until: Date | null): string {
  return until === null ? `Alerts for ${watch.id} are on again.` : `Muted ${watch.id} until ${formatTime(until)}. Alerts are still recorded; /mute ${watch.id} off turns them back on.`;
}

export function watchNotFoundText(ref: string): string {
  return `No watch ${ref} in this chat. /list shows the ids.`;
}

export function ambiguousWatchText(ref: string, ids: string[]): string {
  return `"${ref}" matches several watches (${ids.join(', ')}); type more of the id.`;
}

export function listText(watches: WatchSummary[], now: Date): string {
  if (watches.length === 0) return 'This chat watches no positions yet. Add one with /watch <chain id> <protocol> <market> <account>.';
  const lines = watches.map((watch) => {
    const hf = watch.position ? `HF ${watch.position.healthFactor ?? '∞ (no debt)'}` : 'not polled yet';
    const level = watch.level && watch.position ? ` ${LEVEL_WORDS[watch.level] ?? watch.level}` : '';
    const muted = isMuted(watch, now) ? ` · muted until ${formatTime(new Date(watch.silencedUntil!))}` : '';
    return `• ${watch.id} ${watch.label ? `"${watch.label}" ` : ''}— ${hf}${level} · ${shortAddress(watch.account)} on chain ${watch.chainId}${muted}`;
  });
  return [`Watching ${watches.length} position${watches.length === 1 ? '' : 's'}:`, ...lines, '', 'Details: /status <id>'].join('\n');
}

export function statusText(watch: WatchSummary, now: Date): string {
  const title = `${watch.label || shortAddress(watch.account)} — ${watch.level && watch.position ? LEVEL_WORDS[watch.level] ?? watch.level : 'no reading yet'}`;
  const lines = [title, `Watch ${watch.id} · ${watch.protocol} on chain ${watch.chainId}`];
  const position = watch.position;
  if (!position) {
    lines.push('No reading yet: the position is read within a minute of /watch.');
  } else {
    lines.push(`Health factor: ${position.healthFactor ?? '∞ (no debt)'}`);
    lines.push(`Collateral: ${valueText(position.collateral, position.baseCurrency)}`);
    lines.push(`Debt: ${valueText(position.debt, position.baseCurrency)}`);
    const prices = position.liquidationPrices.filter((price) => price.price !== null);
    if (prices.length > 0) {
      for (const price of prices) lines.push(`Liquidation price: ${price.symbol} ${moneyText(price.price!, position.baseCurrency)} (now ${price.currentPrice === null ? '?' : moneyText(price.currentPrice, position.baseCurrency)})`);
    } else {
      lines.push('Liquidation price: computed once the position nears a threshold');
    }
    lines.push(`Distance to liquidation: ${position.distanceToLiquidation === null ? 'none (no debt)' : `${percent(position.distanceToLiquidation)} (a fall of all collateral prices by this much reaches HF 1)`}`);
    const risk = riskLine(watch.risk ?? null);
    if (risk) lines.push(`Risk: ${risk}${watch.risk?.enabled ? ' (risk-based levels on)' : ''}`);
    lines.push(`Read at block ${position.blockNumber}, ${formatTime(new Date(position.observedAt))}`);
    // An owner's positions each alert on their own: say where each stands.
    for (const sub of position.subPositions ?? []) {
      const level = sub.level === undefined ? '' : `${LEVEL_WORDS[sub.level] ?? sub.level}, `;
      lines.push(`Position ${sub.id.length > 16 ? `${sub.id.slice(0, 8)}…${sub.id.slice(-4)}` : sub.id}: ${level}health factor ${sub.healthFactor ?? '∞ (no debt)'}`);
    }
  }
  lines.push(`Account: ${watch.account}`);
  lines.push(`Market: ${watch.market}`);
  if (isMuted(watch, now)) lines.push(`Muted until ${formatTime(new Date(watch.silencedUntil!))}`);
  if (watch.monitor?.status === 'degraded') lines.push(`Not seen on a fresh block since ${formatTime(new Date(watch.monitor.since))} (${MONITOR_REASON_WORDS[watch.monitor.reason]}): alerts may be late until it recovers`);
  for (const condition of watch.conditions ?? []) lines.push(`${condition.severity === 'critical' ? 'CRITICAL' : 'Warning'}: ${condition.title}, since ${formatTime(new Date(condition.since))} (block ${condition.sinceBlock})`);
  if (watch.lastError) lines.push(`Last problem reading it: ${watch.lastError}`);
  return lines.join('\n');
}

export function statusOverviewText(watches: WatchSummary[], now: Date): string {
  if (watches.length === 1) return statusText(watches[0]!, now);
  return listText(watches, now);
}

/** Telegram refuses longer messages ("message is too long"). */
const MAX_REPLY_LENGTH = 4096;

/** Keeps a reply under Telegram's limit, cutting at a line end (a long /list). */
export function clampReply(text: string): string {
  if (text.length <= MAX_REPLY_LENGTH) return text;
  const marker = '\n… (more not shown; use /status <id>)';
  const room = text.slice(0, MAX_REPLY_LENGTH - marker.length);
  const cut = room.lastIndexOf('\n');
  return `${cut > 0 ? room.slice(0, cut) : room}${marker}`;
}

export function adminsOnlyText(command: string): string {
  return `Only this group's administrators can use /${command} here.`;
}

export function watchedElsewhereText(): string {
  return 'Your account already watches this position through other channels, so it is not added here. To get its alerts in this chat, add this chat\'s channel to that watch through the API (PATCH /v1/watches/:id).';
}

export function internalErrorText(): string {
  return 'Something went wrong on our side; nothing was changed. Please try again in a minute.';
}

function isMuted(watch: WatchSummary, now: Date): boolean {
  return watch.silencedUntil !== null && Date.parse(watch.silencedUntil) > now.getTime();
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

export function shortAddress(address: string): string {
  return `${address.slice(0, 6)}…${address.slice(-4)}`;
}

/** "2026-11-25 04:00 UTC": unambiguous for readers in any time zone. */
export function formatTime(date: Date): string {
  return `${date.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

function percent(fraction: string): string {
  return `${(Number(fraction) * 100).toFixed(2)}%`;
}
