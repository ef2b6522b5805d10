import { moneyText, valueText } from './money-text';
import type { AlertEventBody, ChannelTestBody, ConditionEventBody, MonitorEventBody, WatchRef } from './event-body';
import type { TopUpEventBody } from '../topup/events';
import type { WatchRisk } from '../risk/watch-risk';

/**
 * The human message of an event, as a format-neutral model: a title and numbered facts,
 * numbers first. Telegram (MarkdownV2) and email (text + HTML) render this same model, so
 * every channel says the same thing.
 */
export type MessageModel = {
  /** e.g. "CRITICAL · main vault" */
  title: string;
  /** Short one-line summary, e.g. "Health factor 1.0725 — 6.75% above liquidation". */
  headline: string;
  facts: Array<{ label: string; value: string }>;
  /** What to do, in words, when there is something to do. */
  action: string | null;
  link: { text: string; url: string } | null;
  footer: string;
};

const LEVEL_TITLES: Record<string, string> = {
  ok: 'RESOLVED',
  warning: 'WARNING',
  margin_call: 'MARGIN CALL',
  critical: 'CRITICAL',
  liquidatable: 'LIQUIDATABLE',
};

const EXPLORERS: Record<number, string> = {
  1: 'https://etherscan.io/address/',
  10: 'https://optimistic.etherscan.io/address/',
  56: 'https://bscscan.com/address/',
  100: 'https://gnosisscan.io/address/',
  137: 'https://polygonscan.com/address/',
  8453: 'https://basescan.org/address/',
  42161: 'https://arbiscan.io/address/',
  43114: 'https://snowtrace.io/address/',
  11155111: 'https://sepolia.etherscan.io/address/',
};

export function explorerUrl(chainId: number, address: string): string | null {
  const base = EXPLORERS[chainId];
  return base ? `${base}${address}` : null;
}

const ADDRESS = /^0x[0-9a-fA-F]{40}$/;

/**
 * The explorer page of what a watch names: its account when that is an address; a Liquity trove
 * or Fluid position id is not one, so its market contract instead (null when neither is).
 */
export function watchExplorerLink(watch: WatchRef): { text: string; url: string } | null {
  const [text, address] = ADDRESS.test(watch.account) ? ['View account on explorer', watch.account] : ADDRESS.test(watch.market) ? ['View market on explorer', watch.market] : [null, null];
  const url = address ? explorerUrl(watch.chainId, address) : null;
  return text && url ? { text, url } : null;
}

function percent(fraction: string | null): string | null {
  if (fraction === null) return null;
  const value = Number(fraction) * 100;
  return `${value.toFixed(2)}%`;
}

function shortAddress(address: string): string {
  return `${address.slice(0, 6)}…${address.slice(-4)}`;
}

/** What one of an account's several positions is called where it is named: an Euler sub-account by its number, a Liquity trove by its (shortened) id, else a position by its id. */
function subPositionName(protocol: string, id: string): string {
  if (protocol === 'euler-v2') return `sub-account ${id}`;
  if (protocol === 'liquity-v2') return `trove ${id.length > 16 ? `${id.slice(0, 8)}…${id.slice(-4)}` : id}`;
  return `position ${id}`;
}

export function alertMessage(event: AlertEventBody): MessageModel {
  const level = LEVEL_TITLES[event.level] ?? event.level.toUpperCase();
  const watchName = event.watch.label || shortAddress(event.watch.account);
  const name = event.subPosition ? `${watchName} · ${subPositionName(event.watch.protocol, event.subPosition.id)}` : watchName;
  const position = event.position;
  const hf = position.healthFactor ?? '∞';
  const distance = percent(position.distanceToLiquidation);
  const reminder = event.type === 'alert.reminder' ? ' (reminder)' : '';
  const probability24h = event.risk?.liquidationProbability['24h'] ?? null;
  const headline =
    event.level === 'ok'
      ? `Back to safe: health factor ${hf} (was ${LEVEL_TITLES[event.previousLevel] ?? event.previousLevel})`
      : event.level === 'liquidatable'
        ? `Health factor ${hf} — below 1: the position can be liquidated now${reminder}`
        : event.trigger === 'next_price' && typeof position.nextHealthFactor === 'string'
          ? `Health factor ${position.nextHealthFactor} at the next price, already published (${hf} now): a ${level.toLowerCase()} before that price takes effect${reminder}`
          : event.trigger === 'liquidation_probability' && probability24h !== null
            ? `24 h liquidation risk ${probabilityText(probability24h)} at health factor ${hf}: volatility makes this a ${level.toLowerCase()}${reminder}`
            : `Health factor ${hf}${distance ? ` — collateral can fall ${distance} before liquidation` : ''}${reminder}`;
  const facts: MessageModel['facts'] = [{ label: 'Health factor', value: hf }];
  if (position.nextHealthFactor !== undefined) facts.push({ label: 'Health factor at the next price', value: position.nextHealthFactor ?? '∞' });
  const risk = riskLine(event.risk ?? null);
  if (risk) facts.push({ label: 'Risk', value: risk });
  if (distance) facts.push({ label: 'Distance to liquidation', value: distance });
  for (const price of position.liquidationPrices) {
    if (price.price === null) continue;
    facts.push({ label: `${price.symbol} liquidation price`, value: `${moneyText(price.price, position.baseCurrency)} (now ${price.currentPrice === null ? '?' : moneyText(price.currentPrice, position.baseCurrency)})` });
  }
  facts.push({ label: 'Collateral', value: valueText(position.collateral, position.baseCurrency) });
  facts.push({ label: 'Debt', value: valueText(position.debt, position.baseCurrency) });
  facts.push({ label: 'Account', value: `${shortAddress(event.watch.account)} on chain ${event.watch.chainId} (${event.watch.protocol})` });
  if (event.subPosition) facts.push({ label: 'Position', value: `${subPositionName(event.watch.protocol, event.subPosition.id)} (${shortAddress(event.subPosition.account)}), alerting on its own` });

  const recommendation = event.recommendation;
  const action = recommendation
    ? `${recommendation.action === 'supply' ? 'Supply' : 'Repay'} ${trimAmount(recommendation.amount)} ${recommendation.symbol} to bring the health factor back to ${recommendation.targetHealthFactor}.`
    : null;
  return {
    title: `${level} · ${name}`,
    headline,
    facts,
    action,
    link: watchExplorerLink(event.watch),
    footer: `Block ${position.blockNumber} · ${position.observedAt} · event ${event.id}`,
  };
}

/**
 * The risk figures in one line, e.g. "24 h liquidation risk 2.1% · WETH vol 71%/yr · liquidation
 * would cost ≈ $1,240"; parts whose figure is unknown are left out, null when none is known.
 */
export function riskLine(risk: WatchRisk | null): string | null {
  if (!risk) return null;
  const parts: string[] = [];
  const probability = risk.liquidationProbability['24h'];
  if (probability !== null) parts.push(`24 h liquidation risk ${probabilityText(probability)}`);
  for (const asset of risk.volatility) if (asset.annualised !== null) parts.push(`${asset.symbol} vol ${Math.round(asset.annualised * 100)}%/yr`);
  if (risk.liquidationCost !== null) parts.push(`liquidation would cost ≈ $${Math.round(risk.liquidationCost).toLocaleString('en-US')}`);
  return parts.length > 0 ? parts.join(' · ') : null;
}

/** 0.0213 → "2.1%"; small ones keep a significant digit ("0.03%"), never "0.0%". */
function probabilityText(probability: number): string {
  const percentValue = probability * 100;
  if (percentValue === 0) return '0%';
  if (percentValue < 0.1) return `${percentValue.toPrecision(1)}%`;
  return `${percentValue.toFixed(1)}%`;
}

export function channelTestMessage(event: ChannelTestBody): MessageModel {
  return {
    title: `TEST · ${event.channel.label || event.channel.id}`,
    headline: event.message,
    facts: [],
    action: null,
    link: null,
    footer: `event ${event.id}`,
  };
}

/** Auto-top-up events: what was sent (or would have been, or why not), numbers first. */
export function topUpMessage(event: TopUpEventBody): MessageModel {
  const topUp = event.topUp;
  const name = event.watch.label || shortAddress(event.watch.account);
  const amount = topUp.amount === null ? null : `${trimAmount(topUp.amount)} ${topUp.symbol}`;
  const dryRun = event.type === 'topup.skipped' && topUp.reason === 'dry_run';
  const title = event.type === 'topup.executed' ? 'TOP-UP SENT' : dryRun ? 'TOP-UP DRY RUN' : event.type === 'topup.failed' ? 'TOP-UP FAILED' : 'TOP-UP SKIPPED';
  const headline =
    event.type === 'topup.executed'
      ? `${topUp.mode === 'supply' ? 'Supplied' : 'Repaid'} ${amount}: health factor ${topUp.healthFactorBefore} → ${topUp.healthFactorAfter}${topUp.targetReached === false ? ` (target ${topUp.targetHealthFactor} not reached)` : ''}`
      : dryRun
        ? `Would ${topUp.mode} ${amount ?? '?'} (dry run: nothing was sent)`
        : topUp.message;
  const facts: MessageModel['facts'] = [];
  if (topUp.healthFactorBefore !== null) facts.push({ label: 'Health factor', value: topUp.healthFactorAfter !== null ? `${topUp.healthFactorBefore} → ${topUp.healthFactorAfter}` : topUp.healthFactorBefore });
  facts.push({ label: 'Trigger / target', value: `${topUp.triggerHealthFactor} / ${topUp.targetHealthFactor}` });
  if (amount) facts.push({ label: event.type === 'topup.executed' ? 'Amount' : 'Amount it would send', value: topUp.reachesTarget === false && topUp.amountNeeded ? `${amount} (needed ${trimAmount(topUp.amountNeeded)})` : amount });
  if (topUp.cappedBy.length > 0) facts.push({ label: 'Capped by', value: topUp.cappedBy.join(', ') });
  if (event.type !== 'topup.executed' && topUp.reason) facts.push({ label: 'Reason', value: topUp.reason });
  if (topUp.txHash) facts.push({ label: 'Transaction', value: topUp.txHash });
  else if (topUp.transaction) facts.push({ label: 'Transaction', value: topUp.transaction.summary });
  if (topUp.retryAt) facts.push({ label: 'Possible again at', value: topUp.retryAt });
  facts.push({ label: 'Account', value: `${shortAddress(event.watch.account)} on chain ${event.watch.chainId} (${event.watch.protocol})` });
  const action =
    topUp.reason === 'no_balance' || topUp.reason === 'insufficient_gas_funds'
      ? `Fund the executor wallet${topUp.wallet?.address ? ` ${topUp.wallet.address}` : ''} (GET /v1/topup/signer).`
      : dryRun
        ? 'To let it act, set the policy\'s dryRun to false.'
        : null;
  const txBase = explorerUrl(event.watch.chainId, '');
  const txUrl = topUp.txHash && txBase ? `${txBase.replace('/address/', '/tx/')}${topUp.txHash}` : null;
  return {
    title: `${title} · ${name}`,
    headline,
    facts,
    action,
    link: txUrl ? { text: 'View transaction on explorer', url: txUrl } : watchExplorerLink(event.watch),
    footer: `${topUp.blockNumber ? `Block ${topUp.blockNumber} · ` : ''}${event.createdAt} · event ${event.id}`,
  };
}

const MONITOR_REASONS: Record<MonitorEventBody['monitor']['reason'], string> = {
  stale: 'the RPC endpoints serve an old block (the node stopped following the chain)',
  erroring: 'reading the position keeps failing',
  wrong_chain: 'the configured RPC endpoints serve another chain',
};

/** Monitor health: the service cannot see a watch (so its silence means nothing), or sees it again. */
export function monitorMessage(event: MonitorEventBody): MessageModel {
  const name = event.watch.label || shortAddress(event.watch.account);
  const monitor = event.monitor;
  const degraded = event.type === 'monitor.degraded';
  const facts: MessageModel['facts'] = [{ label: degraded ? 'Last seen' : 'Unseen since', value: monitor.since }];
  if (degraded) facts.push({ label: 'Why', value: MONITOR_REASONS[monitor.reason] ?? monitor.reason });
  if (degraded && monitor.lastError) facts.push({ label: 'Last error', value: monitor.lastError });
  if (!degraded && monitor.blockNumber) facts.push({ label: 'Seen again at', value: `block ${monitor.blockNumber}${monitor.observedAt ? ` (${monitor.observedAt})` : ''}` });
  facts.push({ label: 'Account', value: `${shortAddress(event.watch.account)} on chain ${event.watch.chainId} (${event.watch.protocol})` });
  return {
    title: `${degraded ? 'MONITOR DEGRADED' : 'MONITOR RECOVERED'} · ${name}`,
    headline: degraded
      ? `No fresh reading of this position since ${monitor.since}: alerts for it may be missing`
      : `Watching again: the position is read on fresh blocks`,
    facts,
    action: degraded ? 'Check the position yourself until this recovers; the operator should check RPC_URLS for chain ' + monitor.chainId + '.' : null,
    link: null,
    footer: `${event.createdAt} · event ${event.id}`,
  };
}

/** A protocol condition began or ended: its own words, the figures behind it, and the position's health factor beside them. */
export function conditionMessage(event: ConditionEventBody): MessageModel {
  const name = event.watch.label || shortAddress(event.watch.account);
  const condition = event.condition;
  const raised = event.type === 'condition.raised';
  const facts: MessageModel['facts'] = [];
  for (const [label, value] of Object.entries(condition.facts)) if (value !== null) facts.push({ label, value: String(value) });
  facts.push({ label: 'Health factor', value: event.position.healthFactor ?? '∞' });
  facts.push({ label: raised ? 'Since' : 'Lasted', value: raised ? `block ${condition.sinceBlock} (${condition.since})` : `block ${condition.sinceBlock} → ${condition.blockNumber}` });
  facts.push({ label: 'Account', value: `${shortAddress(event.watch.account)} on chain ${event.watch.chainId} (${event.watch.protocol})` });
  const url = explorerUrl(event.watch.chainId, event.watch.account);
  return {
    title: `${raised ? condition.severity.toUpperCase() : 'CLEARED'} · ${condition.title} · ${name}`,
    headline: raised ? condition.message : `No longer the case: ${condition.title.toLowerCase()} (since block ${condition.sinceBlock}).`,
    facts,
    action: null,
    link: url ? { text: 'View account on explorer', url } : null,
    footer: `Block ${condition.blockNumber} · ${condition.observedAt} · event ${event.id}`,
  };
}

/** Any event body → its message (alert and channel-test events; others get a generic one). */
export function messageFor(body: unknown): MessageModel {
  const event = body as { type?: string };
  if (event.type === 'channel.test') return channelTestMessage(body as ChannelTestBody);
  if (typeof event.type === 'string' && event.type.startsWith('alert.')) return alertMessage(body as AlertEventBody);
  if (typeof event.type === 'string' && event.type.startsWith('topup.')) return topUpMessage(body as TopUpEventBody);
  if (typeof event.type === 'string' && event.type.startsWith('monitor.')) return monitorMessage(body as MonitorEventBody);
  if (typeof event.type === 'string' && event.type.startsWith('condition.')) return conditionMessage(body as ConditionEventBody);
  const generic = body as { type?: string; id?: string; message?: string };
  return { title: (generic.type ?? 'event').toUpperCase(), headline: generic.message ?? '', facts: [], action: null, link: null, footer: `event ${generic.id ?? ''}` };
}

/**
 * Shows at most 6 decimals, rounded up: short enough to read on a phone, and never less
 * than what is needed.
 */
function trimAmount(amount: string): string {
  const [whole = '0', fraction = ''] = amount.split('.');
  if (fraction.length <= 6) return amount;
  const kept = BigInt(whole + fraction.slice(0, 6)) + (/[1-9]/.test(fraction.slice(6)) ? 1n : 0n);
  const text = kept.toString().padStart(7, '0');
  const result = `${text.slice(0, -6)}.${text.slice(-6)}`.replace(/\.?0+$/, '');
  return result;
}
