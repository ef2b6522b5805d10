import { tenantStub } from '../../src/durable/stubs';
import { beforeAll, describe, expect, it } from 'vitest';

import { api, getJson, confirmedEmailChannel, control, isConfirmationMail, linkTelegramChat, newTenant, pollShards, tenantIdOf, testEnv } from './helpers';

type FanoutEnv = typeof testEnv & { TEST_TELEGRAM_CONTROL_URL: string; TEST_SMTP_CONTROL_URL: string };
const env = testEnv as FanoutEnv;

describe('one alert sequence fanned out to webhook + Telegram + email', () => {
  beforeAll(async () => {
    await control('/price', { symbol: 'WETH', price: '2000' });
  });

  it('each channel gets each event once, in order', async () => {
    const key = await newTenant('fanout');
    const tenant = tenantStub(testEnv, tenantIdOf(key));

    const webhook = await api('POST', '/v1/channels', { token: key, body: { type: 'webhook', url: `${env.TEST_RECEIVER_URL}fanout`, label: 'hook' } });
    await control('/receiver/secret', { path: '/fanout', secret: webhook.body.secret });
    const chatId = String(900_000_000 + Math.floor(Math.random() * 1_000_000));
    await getJson(`${env.TEST_TELEGRAM_CONTROL_URL}/chats/${chatId}`, { type: 'private' });
    const telegram = { body: { id: await linkTelegramChat(key, chatId) } };
    // The bot's reply to /start comes before any alert.
    const linkReplies = ((await getJson(`${env.TEST_TELEGRAM_CONTROL_URL}/chats/${chatId}/messages`)) as unknown[]).length;
    const inbox = `fanout-${Math.random().toString(36).slice(2, 8)}@example.com`;
    const email = { body: { id: await confirmedEmailChannel(key, inbox, 'mailbox') } };

    const { account } = await control('/open', { collateral: 'WETH', collateralAmount: '10', debt: 'USDC', debtAmount: '10000' });
    const watch = await api('POST', '/v1/watches', {
      token: key,
      body: { chainId: 31337, protocol: 'aave-v3', market: testEnv.TEST_MARKET, account, label: 'fan-out vault', channels: [webhook.body.id, telegram.body.id, email.body.id] },
    });
    expect(watch.status).toBe(201);

    const steps: Array<[string, number]> = [
      ['2000', 1],
      ['1750', 2], // warning after a confirmation
      ['1450', 2], // margin call after a confirmation
      ['1300', 1], // critical at once
      ['2000', 1], // resolved
    ];
    for (const [price, polls] of steps) {
      await control('/price', { symbol: 'WETH', price });
      for (let poll = 0; poll < polls; poll++) await pollShards();
      // Telegram allows ~1 message/s per chat: the outbox paces, so drain until nothing is due.
      for (let round = 0; round < 10; round++) {
        await tenant.deliverDue();
        const { data: pending } = await tenant.listDeliveries('pending', 50);
        if (pending.length === 0) break;
        await new Promise((resolve) => setTimeout(resolve, 1200));
      }
    }

    const history = await api('GET', `/v1/watches/${watch.body.id}/alerts?limit=20`, { token: key });
    const events = [...history.body.data].reverse() as Array<{ id: string; type: string; body: { level: string }; deliveries: Array<{ channelId: string; status: string }> }>;
    expect(events.map((event) => [event.type, event.body.level])).toEqual([
      ['alert.triggered', 'warning'],
      ['alert.escalated', 'margin_call'],
      ['alert.escalated', 'critical'],
      ['alert.resolved', 'ok'],
    ]);
    for (const event of events) {
      expect(event.deliveries.map((delivery) => delivery.status)).toEqual(['delivered', 'delivered', 'delivered']);
    }

    // Webhook: each event once, signed.
    const received = ((await control('/receiver/events', {}, 'GET')) as Array<{ id: string; path: string; verified: boolean; status: number }>).filter((entry) => entry.path === '/fanout');
    expect(received.map((entry) => entry.id)).toEqual(events.map((event) => event.id));
    expect(received.every((entry) => entry.verified && entry.status === 200)).toBe(true);

    // Telegram: one message per event, in order, each naming its level.
    const messages = ((await getJson(`${env.TEST_TELEGRAM_CONTROL_URL}/chats/${chatId}/messages`)) as Array<{ text: string }>).slice(linkReplies);
    expect(messages).toHaveLength(4);
    expect(messages.map((message) => message.text.split('\n')[0])).toEqual(['WARNING · fan-out vault', 'MARGIN CALL · fan-out vault', 'CRITICAL · fan-out vault', 'RESOLVED · fan-out vault']);

    // Email: one message per event (stable Message-IDs), subjects in order, after the address's confirmation mail.
    const [confirmation, ...mails] = (await getJson(`${env.TEST_SMTP_CONTROL_URL}/messages?to=${encodeURIComponent(inbox)}`)) as Array<{ headers: Record<string, string> }>;
    expect(isConfirmationMail(confirmation!)).toBe(true);
    expect(mails).toHaveLength(4);
    expect(new Set(mails.map((mail) => mail.headers['message-id'])).size).toBe(4);
    expect(mails.map((mail) => mail.headers['x-marginwatch-event-id'])).toEqual(events.map((event) => event.id));
    expect(mails.map((mail) => mail.headers.subject!.split(' — ')[0])).toEqual(['WARNING · fan-out vault', 'MARGIN CALL · fan-out vault', 'CRITICAL · fan-out vault', 'RESOLVED · fan-out vault']);
  });
});
