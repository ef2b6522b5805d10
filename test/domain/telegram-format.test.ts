import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { escapeMarkdownV2, escapeMarkdownV2Url, renderTelegramMessage, TELEGRAM_MAX_MESSAGE_LENGTH } from '../../src/notify/telegram-format';
import { messageFor, type MessageModel } from '../../src/notify/render';
import { parseMarkdownV2 } from '../helpers/telegram-stand-in';
import { alertEventFixture } from '../helpers/fixtures';

const NASTY = '_*[]()~`>#+-=|{}.!\\';

const alertBody = alertEventFixture;

function parsed(markdown: string) {
  const result = parseMarkdownV2(markdown);
  if (!result.ok) throw new Error(`Telegram would refuse it: ${result.error}\n${markdown}`);
  return result;
}

describe('escapeMarkdownV2', () => {
  it.each([
    ['plain text 123', 'plain text 123'],
    ['_', '\\_'],
    ['*', '\\*'],
    ['[', '\\['],
    [']', '\\]'],
    ['(', '\\('],
    [')', '\\)'],
    ['~', '\\~'],
    ['`', '\\`'],
    ['>', '\\>'],
    ['#', '\\#'],
    ['+', '\\+'],
    ['-', '\\-'],
    ['=', '\\='],
    ['|', '\\|'],
    ['{', '\\{'],
    ['}', '\\}'],
    ['.', '\\.'],
    ['!', '\\!'],
    ['\\', '\\\\'],
    ['1.0725', '1\\.0725'],
    ['$1,212.12 (now $1,300.00)', '$1,212\\.12 \\(now $1,300\\.00\\)'],
    ['a\\_b', 'a\\\\\\_b'],
    ['CRITICAL · é 🚨', 'CRITICAL · é 🚨'],
  ])('%j → %j', (input, expected) => {
    expect(escapeMarkdownV2(input)).toBe(expected);
    expect(parsed(escapeMarkdownV2(input)).text).toBe(input);
  });

  it('round-trips any text through Telegram\'s parser unchanged', () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom(...NASTY.split(''), 'a', ' ', '\n', 'é', '🚨', '1') }), (text) => {
        const result = parseMarkdownV2(escapeMarkdownV2(text));
        return result.ok && result.text === text && result.entities.length === 0;
      }),
    );
  });

  it('escapes only ) and \\ inside a link URL', () => {
    expect(escapeMarkdownV2Url('https://x.example/a_(b)\\c')).toBe('https://x.example/a_(b\\)\\\\c');
    const link = parsed(`[go](${escapeMarkdownV2Url('https://x.example/a_(b)')})`);
    expect(link.entities).toEqual([{ type: 'text_link', offset: 0, length: 2, url: 'https://x.example/a_(b)' }]);
  });
});

describe('the stand-in refuses what Telegram refuses', () => {
  it.each([
    ['1.5', "Character '.' is reserved"],
    ['HF (low)', "Character '(' is reserved"],
    ['a - b', "Character '-' is reserved"],
    ['*bold', "Can't find end of Bold entity at byte offset 0"],
    ['_it', "Can't find end of Italic entity"],
    ['[link](https://x.example', "Can't find end of a URL"],
    ['a | b', "Character '|' is reserved"],
    ['wow!', "Character '!' is reserved"],
  ])('%j', (markdown, error) => {
    const result = parseMarkdownV2(markdown);
    expect(result.ok).toBe(false);
    expect(!result.ok && result.error).toContain(error);
  });

  it('accepts entities, escapes and blockquotes', () => {
    expect(parsed('*b* _i_ __u__ ~s~ ||sp|| `c.d` \\. [t](https://x.example)')).toMatchObject({ text: 'b i u s sp c.d . t' });
    expect(parsed('>quoted\\.\nplain').entities).toEqual([{ type: 'blockquote', offset: 0, length: 8 }]);
  });
});

describe('renderTelegramMessage', () => {
  it('renders an alert: title, numbers, action, explorer link, footer', () => {
    const markdown = renderTelegramMessage(messageFor(alertBody('main vault')));
    const { text, entities } = parsed(markdown);
    expect(text.split('\n')).toEqual([
      'CRITICAL · main vault',
      'Health factor 1.0725 — collateral can fall 6.75% before liquidation',
      '',
      'Health factor: 1.0725',
      'Distance to liquidation: 6.75%',
      'WETH liquidation price: $1,212.12 (now $1,300.00)',
      'Collateral: $13,000.00',
      'Debt: $10,000.00',
      'Account: 0x1234…5678 on chain 1 (aave-v3)',
      '',
      '→ Supply 4.427124 WETH to bring the health factor back to 1.5400.',
      'View account on explorer',
      'Block 19000123 · 2026-11-25T03:12:09.120Z · event evt_w_0123456789abcdef0123_000003',
    ]);
    expect(entities).toContainEqual({ type: 'text_link', offset: text.indexOf('View account'), length: 'View account on explorer'.length, url: 'https://etherscan.io/address/0x1234567890abcdef1234567890abcdef12345678' });
    expect(entities).toContainEqual({ type: 'bold', offset: text.indexOf('1.0725', 100), length: 6 });
  });

  it.each([
    NASTY,
    `${NASTY}${NASTY}`,
    'a\\',
    '\\\\\\',
    'end with backslash \\',
    '*not bold* _not italic_ [not](a link)',
    '```pre``` `code`',
    '>not a quote',
    '||x|| ~~ __ **',
  ])('labels full of reserved characters stay literal: %j', (label) => {
    const { text, entities } = parsed(renderTelegramMessage(messageFor(alertBody(label))));
    expect(text.split('\n')[0]).toBe(`CRITICAL · ${label}`);
    // Only our own markup makes entities: the title is one bold run, whatever the label.
    expect(entities[0]).toEqual({ type: 'bold', offset: 0, length: `CRITICAL · ${label}`.length });
  });

  it('a channel test and an unknown event render too', () => {
    const test = parsed(renderTelegramMessage(messageFor({ id: 'evt_1', type: 'channel.test', createdAt: '2026-01-01T00:00:00Z', channel: { id: 'ch_1', label: 'ops.room' }, message: 'marginwatch test event: this channel receives alerts.' })));
    expect(test.text).toBe('TEST · ops.room\nmarginwatch test event: this channel receives alerts.\nevent evt_1');
    expect(parsed(renderTelegramMessage(messageFor({ type: 'custom.event', id: 'e', message: 'ok!' }))).text).toContain('CUSTOM.EVENT');
  });

  it('stays within 4096 characters: drops the least important lines first', () => {
    const many = Array.from({ length: 200 }, (_, index) => ({ label: `Fact ${index}.`, value: `${index}.5 (x)` }));
    const model: MessageModel = { title: 'CRITICAL · vault', headline: 'Health factor 1.0500', facts: [{ label: 'Health factor', value: '1.0500' }, ...many], action: 'Supply 1 WETH.', link: { text: 'explorer', url: 'https://x.example/a' }, footer: 'block 1' };
    const markdown = renderTelegramMessage(model);
    expect(markdown.length).toBeLessThanOrEqual(TELEGRAM_MAX_MESSAGE_LENGTH);
    const { text } = parsed(markdown);
    expect(text).toContain('CRITICAL · vault');
    expect(text).toContain('Health factor: 1.0500');
    expect(text).toContain('Supply 1 WETH.');
    expect(text).not.toContain('block 1');
    expect(text).not.toContain('explorer');
    expect(text).toContain('Fact 0.');
    expect(text).not.toContain('Fact 199.');
  });

  it('stays within the limit with a huge, reserved-character label, cutting whole escapes only', () => {
    for (const label of ['.'.repeat(5000), `${NASTY}`.repeat(400), '🚨'.repeat(3000), 'x'.repeat(10_000)]) {
      const markdown = renderTelegramMessage(messageFor(alertBody(label)));
      expect(markdown.length).toBeLessThanOrEqual(TELEGRAM_MAX_MESSAGE_LENGTH);
      const { text } = parsed(markdown);
      expect(text.startsWith('CRITICAL · ')).toBe(true);
      expect(text).toContain('…');
      expect(text).toContain('Health factor');
    }
  });

  it('honours a smaller limit', () => {
    const markdown = renderTelegramMessage(messageFor(alertBody('main vault')), 300);
    expect(markdown.length).toBeLessThanOrEqual(300);
    expect(parsed(markdown).text).toContain('Health factor: 1.0725');
  });
});
