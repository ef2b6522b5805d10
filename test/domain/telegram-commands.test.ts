import { FIXTURE_WETH, positionFixture } from '../helpers/fixtures';
import { describe, expect, it } from 'vitest';
import { COMMANDS, parseDuration, parseMessage, usageOf } from '../../src/telegram/commands';
import { riskWithoutFigures } from '../../src/risk/watch-risk';
import { clampReply, helpText, listText, statusText, usageText, type WatchSummary } from '../../src/telegram/replies';

const MARKET = '0x87870Bca3F3fD6335C3F4ce8392D69350B4fA4E2';
const ACCOUNT = '0x1111111111111111111111111111111111111111';
const ID = 'w_0123456789abcdef0123';

describe('parseMessage', () => {
  it.each([
    ['/help', { name: 'help' }],
    ['/HELP', { name: 'help' }],
    ['/list', { name: 'list' }],
    ['/list@marginwatch_bot', { name: 'list' }],
    ['/start', { name: 'start', code: null }],
    ['/start Ab_-09xyzABCDEFGHIJKLMNOP', { name: 'start', code: 'Ab_-09xyzABCDEFGHIJKLMNOP' }],
    ['/status', { name: 'status', watch: null }],
    [`/status ${ID}`, { name: 'status', watch: '0123456789abcdef0123' }],
    ['/status 0123', { name: 'status', watch: '0123' }],
    ['/status W_ABCD', { name: 'status', watch: 'abcd' }],
    [`/unwatch ${ID}`, { name: 'unwatch', watch: '0123456789abcdef0123' }],
    [`/mute ${ID} 30m`, { name: 'mute', watch: '0123456789abcdef0123', durationMs: 30 * 60_000 }],
    [`/mute ${ID} 2h`, { name: 'mute', watch: '0123456789abcdef0123', durationMs: 2 * 3_600_000 }],
    [`/mute ${ID} 1d`, { name: 'mute', watch: '0123456789abcdef0123', durationMs: 86_400_000 }],
    [`/mute ${ID} 1h30m`, { name: 'mute', watch: '0123456789abcdef0123', durationMs: 90 * 60_000 }],
    [`/mute ${ID} off`, { name: 'mute', watch: '0123456789abcdef0123', durationMs: null }],
    [`/watch 1 aave-v3 ${MARKET} ${ACCOUNT}`, { name: 'watch', chainId: 1, protocol: 'aave-v3', market: MARKET, account: ACCOUNT, label: '' }],
    [`/watch 8453 AAVE-V3 ${MARKET.toLowerCase()} ${ACCOUNT}   my  cold   wallet `, { name: 'watch', chainId: 8453, protocol: 'aave-v3', market: MARKET, account: ACCOUNT, label: 'my  cold   wallet' }],
    [`  /watch\n1\taave-v3 ${MARKET} ${ACCOUNT}`, { name: 'watch', chainId: 1, protocol: 'aave-v3', market: MARKET, account: ACCOUNT, label: '' }],
    // A Liquity v2 trove id, read as the API reads it (decimal → 0x + 64 lower-case hex).
    [`/watch 1 liquity-v2 ${MARKET} 1234 trove`, { name: 'watch', chainId: 1, protocol: 'liquity-v2', market: MARKET, account: `0x${'0'.repeat(60)}04d2`, label: 'trove' }],
  ])('%j', (text, command) => {
    expect(parseMessage(text, 'marginwatch_bot')).toEqual({ kind: 'command', command });
  });

  it.each([
    ['/watch', 'watch', 'needs 4 values, got 0'],
    [`/watch 1 aave-v3 ${MARKET}`, 'watch', 'needs 4 values, got 3'],
    [`/watch mainnet aave-v3 ${MARKET} ${ACCOUNT}`, 'watch', 'chain must be a chain id number'],
    [`/watch 0 aave-v3 ${MARKET} ${ACCOUNT}`, 'watch', 'chain must be a chain id number'],
    [`/watch -1 aave-v3 ${MARKET} ${ACCOUNT}`, 'watch', 'chain must be a chain id number'],
    [`/watch 1 compound-v2 ${MARKET} ${ACCOUNT}`, 'watch', 'protocol must be one of: aave-v3, spark, compound-v3, morpho-blue'],
    [`/watch 1 morpho-blue ${MARKET} ${ACCOUNT}`, 'watch', 'market must be the morpho-blue market id'],
    [`/watch 1 aave-v3 0x1234 ${ACCOUNT}`, 'watch', 'market must be'],
    [`/watch 1 aave-v3 ${MARKET} alice.eth`, 'watch', 'account must be'],
    [`/watch 1 liquity-v2 ${MARKET} trove-7`, 'watch', 'account '],
    [`/watch 1 aave-v3 ${MARKET} ${ACCOUNT} ${'x'.repeat(101)}`, 'watch', 'at most 100'],
    ['/list all', 'list', 'no arguments'],
    ['/status a b', 'status', 'at most one'],
    ['/status nope', 'status', 'is not a watch id'],
    ['/status w_12', 'status', 'is not a watch id'],
    ['/unwatch', 'unwatch', 'which watch'],
    [`/unwatch ${ID} ${ID}`, 'unwatch', 'exactly one'],
    ['/mute', 'mute', 'needs a watch id and a duration'],
    [`/mute ${ID}`, 'mute', 'needs a watch id and a duration'],
    [`/mute ${ID} 2h extra`, 'mute', 'exactly'],
    [`/mute ${ID} soon`, 'mute', 'is not a duration'],
    [`/mute ${ID} 30`, 'mute', 'is not a duration'],
    [`/mute ${ID} 30s`, 'mute', 'is not a duration'],
    [`/mute ${ID} 31d`, 'mute', 'at most 30 days'],
    ['/mute x 2h', 'mute', 'is not a watch id'],
    ['/start a b', 'start', 'link code'],
    ['/start has!bang', 'start', 'link code'],
    [`/start ${'a'.repeat(65)}`, 'start', 'link code'],
  ])('%j → usage of /%s', (text, name, problem) => {
    const parsed = parseMessage(text, 'marginwatch_bot');
    expect(parsed).toMatchObject({ kind: 'usage', name });
    expect(parsed.kind === 'usage' && parsed.problem).toContain(problem);
  });

  it('unknown commands, other bots and plain text', () => {
    expect(parseMessage('/frobnicate')).toEqual({ kind: 'unknown', name: 'frobnicate' });
    expect(parseMessage('/list@other_bot', 'marginwatch_bot')).toEqual({ kind: 'ignore' });
    expect(parseMessage('/list@MarginWatch_Bot', 'marginwatch_bot')).toEqual({ kind: 'command', command: { name: 'list' } });
    expect(parseMessage('hello /list')).toEqual({ kind: 'ignore' });
    expect(parseMessage('')).toEqual({ kind: 'ignore' });
    expect(parseMessage('/')).toEqual({ kind: 'ignore' });
    expect(parseMessage('/list/x')).toEqual({ kind: 'ignore' });
  });

  it('echoes at most a short piece of bad input', () => {
    const parsed = parseMessage(`/status ${'z'.repeat(500)}`);
    expect(parsed.kind === 'usage' && parsed.problem.length).toBeLessThan(100);
  });
});

describe('parseDuration', () => {
  it.each([
    ['1m', 60_000],
    ['45m', 45 * 60_000],
    ['2h', 7_200_000],
    ['1d', 86_400_000],
    ['1w', 7 * 86_400_000],
    ['1d12h', 36 * 3_600_000],
    ['2H', 7_200_000],
    ['', null],
    ['h', null],
    ['2', null],
    ['2 h', null],
    ['-2h', null],
    ['1.5h', null],
    ['99999h', null],
  ])('%j → %s', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });
});

describe('replies', () => {
  it('usage lines name the command and its arguments', () => {
    expect(usageText('mute', 'needs a watch id and a duration')).toBe('Needs a watch id and a duration.\nUsage: /mute <watch id> <duration: 30m, 2h, 1d, or off>');
    for (const command of COMMANDS) expect(usageOf(command.name)).toMatch(new RegExp(`^/${command.name}`));
    for (const command of COMMANDS) expect(helpText()).toContain(command.usage);
  });

  const watch: WatchSummary = {
    id: ID,
    label: 'vault',
    chainId: 1,
    protocol: 'aave-v3',
    market: MARKET,
    account: ACCOUNT,
    silencedUntil: '2026-11-25T06:00:00.000Z',
    level: 'margin_call',
    position: positionFixture({ healthFactor: '1.2034', distanceToLiquidation: '0.1690', liquidationPrices: [{ asset: FIXTURE_WETH, symbol: 'WETH', price: '1212.121', currentPrice: '1300' }] }),
    lastPolledAt: '2026-11-25T03:12:09.120Z',
    lastError: null,
  };
  const now = new Date('2026-11-25T04:00:00Z');

  it('/status shows HF, collateral, debt, liquidation price and distance', () => {
    expect(statusText(watch, now).split('\n')).toEqual([
      'vault — MARGIN CALL',
      `Watch ${ID} · aave-v3 on chain 1`,
      'Health factor: 1.2034',
      'Collateral: $13,000.00',
      'Debt: $10,000.00',
      'Liquidation price: WETH $1,212.12 (now $1,300.00)',
      'Distance to liquidation: 16.90% (a fall of all collateral prices by this much reaches HF 1)',
      'Read at block 19000123, 2026-11-25 03:12 UTC',
      `Account: ${ACCOUNT}`,
      `Market: ${MARKET}`,
      'Muted until 2026-11-25 06:00 UTC',
    ]);
    expect(statusText({ ...watch, position: null, level: null, silencedUntil: null }, now)).toContain('No reading yet');
    const subPosition = (id: string, level: 'ok' | 'warning' | undefined) => ({ id, account: watch.position!.liquidationPrices[0]!.asset, healthFactor: '1.45', collateral: { base: '1', usd: null }, debt: { base: '1', usd: null }, ...(level ? { level } : {}) });
    const owner = statusText({ ...watch, position: { ...watch.position!, subPositions: [subPosition('3', 'warning'), subPosition(`0x${'ab'.repeat(32)}`, undefined)] } }, now).split('\n');
    expect(owner.filter((line) => line.startsWith('Position '))).toEqual(['Position 3: WARNING, health factor 1.45', 'Position 0xababab…abab: health factor 1.45']);
    expect(statusText({ ...watch, monitor: { status: 'ok' } }, now)).not.toContain('fresh block');
    expect(statusText({ ...watch, position: { ...watch.position!, healthFactor: null, distanceToLiquidation: null, liquidationPrices: [] } }, now)).toContain('Health factor: ∞ (no debt)');
  });

  it('/status of a market counted in WETH shows its amounts and liquidation price in WETH, dollars only where the owner\'s feed gives them', () => {
    const inWeth = positionFixture({ baseCurrency: 'WETH', collateral: { base: '1.2', usd: null }, debt: { base: '0.8', usd: null }, liquidationPrices: [{ asset: FIXTURE_WETH, symbol: 'wstETH', price: '0.9302', currentPrice: '1.2' }] });
    const lines = statusText({ ...watch, position: inWeth }, now).split('\n');
    expect(lines).toContain('Collateral: 1.20 WETH');
    expect(lines).toContain('Liquidation price: wstETH 0.9302 WETH (now 1.20 WETH)');
    expect(statusText({ ...watch, position: { ...inWeth, collateral: { base: '1.2', usd: '2400' } } }, now).split('\n')).toContain('Collateral: $2,400.00');
  });

  it('/status lists the protocol conditions active now, with their start', () => {
    const conditions = [{ code: 'branch_shutdown', severity: 'critical' as const, title: 'Branch shut down', message: 'shut down', facts: {}, sinceBlock: '19000100', since: '2026-11-25T03:00:00.000Z' }];
    expect(statusText({ ...watch, conditions }, now).split('\n')).toContain('CRITICAL: Branch shut down, since 2026-11-25 03:00 UTC (block 19000100)');
    expect(statusText({ ...watch, conditions: [] }, now)).not.toContain('since 2026');
  });

  it('/status adds the risk line when figures are known, and says when risk-based levels are on', () => {
    const risk = { ...riskWithoutFigures({ enabled: true, levels: { warning: 0.01, marginCall: 0.05, critical: 0.2 } }), liquidationProbability: { '1h': 0.001, '24h': 0.0213 }, liquidationCost: 1240 };
    expect(statusText({ ...watch, risk }, now)).toContain('Risk: 24 h liquidation risk 2.1% · liquidation would cost ≈ $1,240 (risk-based levels on)');
    expect(statusText({ ...watch, risk: riskWithoutFigures({ enabled: false, levels: risk.levels }) }, now)).not.toContain('Risk:');
  });

  it('/status says when the monitor has not seen the position on a fresh block, since when and why', () => {
    const degraded = statusText({ ...watch, monitor: { status: 'degraded', since: '2026-11-25T03:12:09.120Z', reason: 'stale', lastError: 'stale_head: …' } }, now);
    expect(degraded).toContain('Not seen on a fresh block since 2026-11-25 03:12 UTC (the RPC nodes are behind the chain): alerts may be late until it recovers');
  });

  it('/list shows one line per watch', () => {
    expect(listText([watch, { ...watch, id: 'w_ffffffffffffffffffff', label: '', position: null, silencedUntil: null }], now)).toBe(
      [
        'Watching 2 positions:',
        `• ${ID} "vault" — HF 1.2034 MARGIN CALL · 0x1111…1111 on chain 1 · muted until 2026-11-25 06:00 UTC`,
        '• w_ffffffffffffffffffff — not polled yet · 0x1111…1111 on chain 1',
        '',
        'Details: /status <id>',
      ].join('\n'),
    );
    expect(listText([], now)).toContain('/watch');
  });

  it('a long reply is cut at a line end, under 4096 characters', () => {
    const many = listText(Array.from({ length: 50 }, (_, index) => ({ ...watch, id: `w_${String(index).padStart(20, '0')}`, label: 'a fairly long label for this vault' })), now);
    expect(many.length).toBeGreaterThan(4096);
    const clamped = clampReply(many);
    expect(clamped.length).toBeLessThanOrEqual(4096);
    expect(clamped.endsWith('… (more not shown; use /status <id>)')).toBe(true);
    expect(many.startsWith(clamped.slice(0, clamped.lastIndexOf('\n')))).toBe(true);
    expect(clampReply('short')).toBe('short');
  });
});
