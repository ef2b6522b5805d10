import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { AlertEventBody } from '../../src/notify/event-body';
import { cleanText, emailHtml, emailSubject, emailText, escapeHtml, renderEmail } from '../../src/notify/email-format';
import { emailHeaders, encodeHeaderValue, formatEmailDate, formatMailbox, messageIdFor } from '../../src/notify/email-headers';
import { messageFor, type MessageModel } from '../../src/notify/render';
import { decodeEncodedWords } from '../helpers/smtp-test-server';
import { alertEventFixture } from '../helpers/fixtures';


const alertBody = alertEventFixture;

const NASTY = `<script>alert("x")</script> & 'q'`;

describe('email rendering of the message model', () => {
  it('subject: the level and the watch label first, then the headline', () => {
    expect(emailSubject(messageFor(alertBody('main vault')))).toBe('CRITICAL · main vault — Health factor 1.0725 — collateral can fall 6.75% before liquidation');
    const resolved = messageFor(alertBody('main vault', { type: 'alert.resolved', level: 'ok', recommendation: null }));
    expect(emailSubject(resolved)).toBe('RESOLVED · main vault — Back to safe: health factor 1.0725 (was MARGIN CALL)');
  });

  it('plain text: every fact, the action, the explorer link and the footer', () => {
    const text = emailText(messageFor(alertBody('main vault')));
    expect(text).toBe(
      [
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
        'What to do: Supply 4.427124 WETH to bring the health factor back to 1.5400.',
        '',
        'View account on explorer: https://etherscan.io/address/0x1234567890abcdef1234567890abcdef12345678',
        '',
        '-- ',
        'Block 19000123 · 2026-11-25T03:12:09.120Z · event evt_w_0123456789abcdef0123_000003',
        '',
      ].join('\n'),
    );
  });

  it('HTML: the same content, with the level colour and a table of facts', () => {
    const html = emailHtml(messageFor(alertBody('main vault')), 'critical');
    expect(html).toMatch(/^<!DOCTYPE html>/);
    expect(html).toContain('border-left:6px solid #c53030');
    expect(html).toContain('<h1 style="margin:0 0 8px;font-size:20px;line-height:1.3;color:#c53030;">CRITICAL · main vault</h1>');
    expect(html).toContain('<td style="padding:4px 16px 4px 0;color:#555555;vertical-align:top;">WETH liquidation price</td><td style="padding:4px 0;font-weight:600;">$1,212.12 (now $1,300.00)</td>');
    expect(html).toContain('<strong>What to do:</strong> Supply 4.427124 WETH to bring the health factor back to 1.5400.');
    expect(html).toContain('<a href="https://etherscan.io/address/0x1234567890abcdef1234567890abcdef12345678"');
    expect(html).toContain('event evt_w_0123456789abcdef0123_000003');
    expect(emailHtml(messageFor(alertBody('x')))).toContain('border-left:6px solid #4a5568');
  });

  it('escapes every user-controlled character in the HTML, keeps it readable in text and subject', () => {
    const rendered = renderEmail(messageFor(alertBody(NASTY)), 'critical');
    expect(rendered.html).not.toMatch(/<script|alert\("x"\)|'q'/);
    expect(rendered.html).toContain('&#60;script&#62;alert(&#34;x&#34;)&#60;/script&#62; &#38; &#39;q&#39;');
    expect(rendered.text.split('\n')[0]).toBe(`CRITICAL · ${NASTY}`);
    expect(rendered.subject.startsWith(`CRITICAL · ${NASTY} — `)).toBe(true);
  });

  it('property: no label, however built, adds markup to the HTML or a line to the subject', () => {
    const count = (text: string, char: string) => text.split(char).length - 1;
    const reference = emailHtml(messageFor(alertBody('plain label')), 'warning');
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 100 }), (label) => {
        const rendered = renderEmail(messageFor(alertBody(label)), 'warning');
        // Escaped, the label contributes none of these: the template's own are all there are.
        for (const char of ['<', '>', '"', "'"]) expect(count(rendered.html, char)).toBe(count(reference, char));
        expect(rendered.subject).not.toMatch(/[\r\n]/);
        expect(rendered.text.split('\n')[0]).toBe(cleanText(messageFor(alertBody(label)).title));
      }),
      { numRuns: 300 },
    );
  });

  it('control characters and bidi overrides in a label become spaces', () => {
    const model = messageFor(alertBody('vault\r\nBcc: thief@example.net\u202eevil'));
    expect(emailSubject(model)).toBe('CRITICAL · vault Bcc: thief@example.net evil — Health factor 1.0725 — collateral can fall 6.75% before liquidation');
    expect(emailText(model).split('\n')[0]).toBe('CRITICAL · vault  Bcc: thief@example.net evil');
  });

  it('long subjects are cut on a character boundary', () => {
    const model: MessageModel = { title: `WARNING · ${'🙂'.repeat(250)}`, headline: 'x', facts: [], action: null, link: null, footer: '' };
    const subject = emailSubject(model);
    expect(Array.from(subject)).toHaveLength(200);
    expect(subject.endsWith('…')).toBe(true);
    expect(subject).not.toMatch(/[\ud800-\udbff](?![\udc00-\udfff])/);
  });

  it('renders only http(s) links, never javascript: or data:', () => {
    const model: MessageModel = { title: 'T', headline: 'h', facts: [], action: null, link: { text: 'click', url: 'javascript:alert(1)' }, footer: 'f' };
    expect(emailHtml(model)).not.toContain('href');
    expect(emailText(model)).not.toContain('javascript:');
  });

  it('a channel test and an unknown event render without facts or action', () => {
    const test = renderEmail(messageFor({ id: 'evt_1', type: 'channel.test', createdAt: '2026-01-01T00:00:00Z', channel: { id: 'ch_1', label: 'ops' }, message: 'hello' }));
    expect(test.subject).toBe('TEST · ops — hello');
    expect(test.text).toBe('TEST · ops\nhello\n\n-- \nevent evt_1\n');
    expect(test.html).not.toContain('<table');
    expect(renderEmail(messageFor({ type: 'something.new', id: 'e', message: 'ok' })).subject).toBe('SOMETHING.NEW — ok');
  });
});

describe('email headers', () => {
  it('keeps short ASCII as is and encodes anything else as folded UTF-8 encoded words', () => {
    expect(encodeHeaderValue('Subject', 'Plain subject')).toBe('Plain subject');
    const encoded = encodeHeaderValue('Subject', 'CRITICAL · main vault — Health factor 1.0725 — collateral can fall 6.75% before liquidation');
    const lines = `Subject: ${encoded}`.split('\r\n');
    expect(lines.length).toBeGreaterThan(1);
    for (const line of lines) expect(line.length).toBeLessThanOrEqual(76);
    for (const word of encoded.split('\r\n ')) {
      expect(word).toMatch(/^=\?UTF-8\?Q\?[A-Za-z0-9!*+\-/=_]*\?=$/);
      expect(word.length).toBeLessThanOrEqual(75);
    }
    expect(decodeEncodedWords(encoded.replace(/\r\n /g, ' '))).toBe('CRITICAL · main vault — Health factor 1.0725 — collateral can fall 6.75% before liquidation');
  });

  it('property: any text round-trips, never breaks a line outside folding, never exceeds 76 per line', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 120 }), (text) => {
        const encoded = encodeHeaderValue('Subject', text);
        const lines = `Subject: ${encoded}`.split('\r\n');
        for (const [index, line] of lines.entries()) {
          expect(line.length).toBeLessThanOrEqual(78);
          if (index > 0) expect(line.startsWith(' ')).toBe(true);
          expect(line).not.toMatch(/[\r\n]/);
        }
        expect(decodeEncodedWords(encoded.replace(/\r\n /g, ' '))).toBe(cleanText(text));
      }),
      { numRuns: 300 },
    );
  });

  it('CR/LF in a value cannot start a new header', () => {
    const encoded = encodeHeaderValue('Subject', 'hi\r\nBcc: thief@example.net');
    expect(encoded).toBe('hi  Bcc: thief@example.net');
  });

  it('formats mailboxes: quoted ASCII names, encoded non-ASCII names, bare addresses', () => {
    expect(formatMailbox(undefined, 'alerts@example.com')).toBe('alerts@example.com');
    expect(formatMailbox('marginwatch', 'alerts@example.com')).toBe('"marginwatch" <alerts@example.com>');
    expect(formatMailbox('Ops "desk" \\ 1', 'a@example.com')).toBe('"Ops \\"desk\\" \\\\ 1" <a@example.com>');
    expect(formatMailbox('Équipe risque', 'a@example.com')).toBe('=?UTF-8?Q?=C3=89quipe_risque?= <a@example.com>');
  });

  it('Message-ID: stable per event and channel, different per channel, on the sender domain', () => {
    const id = messageIdFor('evt_w_abc_000003', 'ch_1', 'alerts@mail.example.com');
    expect(id).toBe('<evt_w_abc_000003.ch_1@mail.example.com>');
    expect(messageIdFor('evt_w_abc_000003', 'ch_1', 'alerts@mail.example.com')).toBe(id);
    expect(messageIdFor('evt_w_abc_000003', 'ch_2', 'alerts@mail.example.com')).not.toBe(id);
    expect(messageIdFor('evt <x>', 'ch_1', 'a@b.example')).toBe('<evt--x-.ch_1@b.example>');
  });

  it('dates are RFC 5322 with a numeric zone', () => {
    expect(formatEmailDate(new Date('2026-11-25T03:12:09.120Z'))).toBe('Wed, 25 Nov 2026 03:12:09 +0000');
  });

  it('the header set of one email', () => {
    const headers = emailHeaders({
      from: { address: 'alerts@example.com', name: undefined },
      to: 'ops@example.com',
      subject: 'CRITICAL · main vault',
      eventId: 'evt_w_abc_000003',
      channelId: 'ch_1',
      date: new Date('2026-11-25T03:12:09Z'),
    });
    expect(headers).toEqual({
      From: '"marginwatch" <alerts@example.com>',
      To: 'ops@example.com',
      Subject: '=?UTF-8?Q?CRITICAL_=C2=B7_main_vault?=',
      Date: 'Wed, 25 Nov 2026 03:12:09 +0000',
      'Message-ID': '<evt_w_abc_000003.ch_1@example.com>',
      'X-Marginwatch-Event-Id': 'evt_w_abc_000003',
      'Auto-Submitted': 'auto-generated',
    });
  });
});
