import { directoryStub, tenantStub } from '../../src/durable/stubs';
import { describe, expect, it } from 'vitest';
import { listDurableObjectIds, runInDurableObject } from 'cloudflare:test';

import { chatLink, chatLinkPartition } from '../../src/telegram/chat-links';

import { api, getJson, confirmationCodeFor, isConfirmationMail, linkTelegramChat, postTelegramUpdate, newTenant, tenantIdOf, testEnv } from './helpers';

/** Channels reach only people who agreed: email addresses confirm, Telegram chats link themselves. */

type ConsentEnv = typeof testEnv & { TEST_SMTP_CONTROL_URL: string; TEST_TELEGRAM_CONTROL_URL: string };
const env = testEnv as ConsentEnv;

const mailTo = (to: string): Promise<Array<{ headers: Record<string, string>; parts: Array<{ contentType: string; content: string }> }>> => getJson(`${env.TEST_SMTP_CONTROL_URL}/messages?to=${encodeURIComponent(to)}`);
const inbox = (name: string) => `${name}-${Math.random().toString(36).slice(2, 10)}@example.com`;

describe('email channels confirm their address first', () => {
  it('a new email channel is pending, mails a one-time code, and receives nothing until confirmed', async () => {
    const key = await newTenant('confirm');
    const to = inbox('confirm');
    const created = await api('POST', '/v1/channels', { token: key, body: { type: 'email', to, label: 'desk' } });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ type: 'email', to, status: 'pending_confirmation', confirmation: { sentTo: to, sent: true, error: null } });
    const channelId = created.body.id as string;

    const [mail, ...others] = await mailTo(to);
    expect(others).toEqual([]);
    expect(isConfirmationMail(mail!)).toBe(true);
    expect(mail!.headers['x-marginwatch-confirmation']).toBe(channelId);
    const code = await confirmationCodeFor(channelId, to);
    expect(code).toMatch(/^[A-Z2-9]{5}-[A-Z2-9]{5}$/);
    // Only a hash is stored.
    const stored = await runInDurableObject(tenantStub(testEnv, tenantIdOf(key)), async (_instance, state) => JSON.stringify(state.storage.sql.exec('SELECT * FROM channels').toArray()));
    expect(stored).not.toContain(code);
    expect(stored).not.toContain(code.replace('-', ''));

    // Pending: a test send is refused and an alert for a watch on it creates no delivery.
    const test = await api('POST', `/v1/channels/${channelId}/test`, { token: key });
    expect(test.status).toBe(409);
    expect(test.body.error.code).toBe('channel_pending_confirmation');
    const tenant = tenantStub(testEnv, tenantIdOf(key));
    const eventId = `evt_pending_${Math.random().toString(36).slice(2, 10)}`;
    await tenant.ingestEvents([{ eventId, watchId: null, body: JSON.stringify({ id: eventId, type: 'channel.test', createdAt: new Date().toISOString(), channel: { id: channelId, label: 'desk' }, message: 'x' }), silenced: false, channelIds: [channelId] }]);
    expect(await tenant.deliveriesOfEvent(eventId)).toEqual([]);

    const wrong = await api('POST', `/v1/channels/${channelId}/confirm`, { token: key, body: { code: 'AAAAA-BBBBB' } });
    expect(wrong.status).toBe(400);
    expect(wrong.body.error.code).toBe('wrong_code');
    // Typed by a person: lower case and no dash are fine.
    const confirmed = await api('POST', `/v1/channels/${channelId}/confirm`, { token: key, body: { code: code.toLowerCase().replace('-', '') } });
    expect(confirmed.status).toBe(200);
    expect(confirmed.body).toMatchObject({ id: channelId, status: 'active' });
    expect((await api('POST', `/v1/channels/${channelId}/confirm`, { token: key, body: { code } })).status).toBe(409);

    const sent = await api('POST', `/v1/channels/${channelId}/test`, { token: key });
    expect(sent.status).toBe(202);
    expect(sent.body.delivery).toMatchObject({ status: 'delivered' });
    expect((await mailTo(to)).filter((message) => !isConfirmationMail(message))).toHaveLength(1);
  });

  it('a code confirms only its own channel, expires, and a resend replaces it', async () => {
    const key = await newTenant('confirm-2');
    const first = await api('POST', '/v1/channels', { token: key, body: { type: 'email', to: inbox('first') } });
    const second = await api('POST', '/v1/channels', { token: key, body: { type: 'email', to: inbox('second') } });
    const firstCode = await confirmationCodeFor(first.body.id, first.body.to);
    expect((await api('POST', `/v1/channels/${second.body.id}/confirm`, { token: key, body: { code: firstCode } })).status).toBe(400);

    // Another tenant cannot confirm (or see) it.
    const other = await newTenant('confirm-other');
    expect((await api('POST', `/v1/channels/${first.body.id}/confirm`, { token: other, body: { code: firstCode } })).status).toBe(404);

    await runInDurableObject(tenantStub(testEnv, tenantIdOf(key)), async (_instance, state) => {
      state.storage.sql.exec('UPDATE channels SET confirm_expires_at = ? WHERE id = ?', Date.now() - 1, first.body.id);
    });
    const expired = await api('POST', `/v1/channels/${first.body.id}/confirm`, { token: key, body: { code: firstCode } });
    expect(expired.status).toBe(410);
    expect(expired.body.error.code).toBe('confirmation_expired');

    const resent = await api('POST', `/v1/channels/${first.body.id}/confirm/resend`, { token: key });
    expect(resent.status).toBe(202);
    expect(resent.body.confirmation).toMatchObject({ sent: true, sentTo: first.body.to });
    const newCode = await confirmationCodeFor(first.body.id, first.body.to);
    expect(newCode).not.toBe(firstCode);
    expect((await api('POST', `/v1/channels/${first.body.id}/confirm`, { token: key, body: { code: firstCode } })).status).toBe(400);
    expect((await api('POST', `/v1/channels/${first.body.id}/confirm`, { token: key, body: { code: newCode } })).status).toBe(200);
    expect((await api('POST', `/v1/channels/${first.body.id}/confirm/resend`, { token: key })).status).toBe(409);
  });
});

describe('confirmation mail cannot be turned into a mail cannon', () => {
  it('at most 10 email channels wait for confirmation at once, and a code is re-sent at most once a minute', async () => {
    const key = await newTenant('confirm-quota');
    const pending: Array<{ id: string; to: string }> = [];
    for (let index = 0; index < 10; index++) {
      const created = await api('POST', '/v1/channels', { token: key, body: { type: 'email', to: inbox(`quota-${index}`) } });
      expect(created.status).toBe(201);
      pending.push({ id: created.body.id, to: created.body.to });
    }
    const refused = await api('POST', '/v1/channels', { token: key, body: { type: 'email', to: inbox('quota-11') } });
    expect(refused.status).toBe(409);
    expect(refused.body.error.code).toBe('quota_exceeded');
    // Confirming one makes room.
    const [first] = pending;
    expect((await api('POST', `/v1/channels/${first!.id}/confirm`, { token: key, body: { code: await confirmationCodeFor(first!.id, first!.to) } })).status).toBe(200);
    expect((await api('POST', '/v1/channels', { token: key, body: { type: 'email', to: inbox('quota-12') } })).status).toBe(201);

    const tooSoon = await api('POST', `/v1/channels/${pending[1]!.id}/confirm/resend`, { token: key });
    expect(tooSoon.status).toBe(429);
    expect(tooSoon.body.error.code).toBe('resend_too_soon');
    expect(Number(tooSoon.headers.get('retry-after'))).toBeGreaterThan(0);
    expect((await mailTo(pending[1]!.to)).length).toBe(1);
  });
});

describe('confirmation mails per tenant per day', () => {
  it('creating and deleting email channels mails at most 20 codes in 24 h: then 429 confirmation_mail_limit with retry-after, for a create and a resend alike', async () => {
    const key = await newTenant('confirm-cannon');
    const kept = await api('POST', '/v1/channels', { token: key, body: { type: 'email', to: inbox('kept') } });
    expect(kept.status).toBe(201);
    const addresses = [kept.body.to as string];
    for (let index = 1; index < 20; index++) {
      const created = await api('POST', '/v1/channels', { token: key, body: { type: 'email', to: inbox(`cannon-${index}`), label: 'buy now' } });
      expect(created.status, `mail ${index + 1}`).toBe(201);
      addresses.push(created.body.to);
      expect((await api('DELETE', `/v1/channels/${created.body.id}`, { token: key })).status).toBe(204);
    }
    const refused = await api('POST', '/v1/channels', { token: key, body: { type: 'email', to: inbox('cannon-21') } });
    expect(refused.status).toBe(429);
    expect(refused.body.error.code).toBe('confirmation_mail_limit');
    const retryAfter = Number(refused.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThan(86_000);
    expect(retryAfter).toBeLessThanOrEqual(86_400);
    // The resend interval has passed, the daily budget has not.
    await runInDurableObject(tenantStub(testEnv, tenantIdOf(key)), async (_instance, state) => {
      state.storage.sql.exec('UPDATE channels SET confirm_expires_at = confirm_expires_at - 120000 WHERE id = ?', kept.body.id);
    });
    const resend = await api('POST', `/v1/channels/${kept.body.id}/confirm/resend`, { token: key });
    expect(resend.status).toBe(429);
    expect(resend.body.error.code).toBe('confirmation_mail_limit');
    // Exactly one mail to each address of the 20, none to the refused one.
    const mailed = await Promise.all(addresses.map(async (to) => (await mailTo(to)).length));
    expect(mailed).toEqual(addresses.map(() => 1));
    // A day later the budget is back.
    await runInDurableObject(tenantStub(testEnv, tenantIdOf(key)), async (_instance, state) => {
      state.storage.sql.exec("UPDATE daily_budget SET at = at - 86400000 WHERE kind = 'confirmation_mail'");
    });
    expect((await api('POST', `/v1/channels/${kept.body.id}/confirm/resend`, { token: key })).status).toBe(202);
  });
});

describe('Telegram channels reach only chats that linked themselves', () => {
  let nextChat = 800_000_000 + Math.floor(Math.random() * 1_000_000) * 10;
  const newChatId = (group = false) => {
    nextChat += 1;
    return group ? `-100${nextChat}` : String(nextChat);
  };

  async function say(chatId: string, text: string, userId?: number): Promise<string> {
    const before = ((await getJson(`${env.TEST_TELEGRAM_CONTROL_URL}/chats/${chatId}/messages`)) as unknown[]).length;
    const built = await getJson(`${env.TEST_TELEGRAM_CONTROL_URL}/updates`, { chatId, text, ...(userId === undefined ? {} : { userId }) });
    const response = await postTelegramUpdate(built.update);
    expect(response.status).toBe(200);
    const after = (await getJson(`${env.TEST_TELEGRAM_CONTROL_URL}/chats/${chatId}/messages`)) as Array<{ text: string }>;
    expect(after.length, `one reply to ${text}`).toBe(before + 1);
    return after.at(-1)!.text;
  }

  it('POST /v1/channels with the chat id of a chat that never linked, or linked to another tenant, is 400', async () => {
    const key = await newTenant('tg-consent');
    const stranger = newChatId();
    await getJson(`${env.TEST_TELEGRAM_CONTROL_URL}/chats/${stranger}`, { type: 'private' });
    const refused = await api('POST', '/v1/channels', { token: key, body: { type: 'telegram', chatId: stranger } });
    expect(refused.status).toBe(400);
    expect(refused.body.error.code).toBe('telegram_chat_not_linked');
    expect(refused.body.error.issues[0].path).toBe('chatId');

    const otherKey = await newTenant('tg-consent-other');
    const theirs = newChatId();
    await linkTelegramChat(otherKey, theirs);
    expect((await api('POST', '/v1/channels', { token: key, body: { type: 'telegram', chatId: theirs } })).status).toBe(400);
    // Nothing was sent to either chat by the refused requests.
    expect(await getJson(`${env.TEST_TELEGRAM_CONTROL_URL}/chats/${stranger}/messages`)).toEqual([]);
    expect((await api('GET', '/v1/channels', { token: key })).body.data).toEqual([]);
  });

  it('a chat that links itself to another tenant stops the first tenant\'s channel to it (disabled, test 409); linking back resumes the first tenant\'s watches on a new channel', async () => {
    const first = await newTenant('tg-left');
    const second = await newTenant('tg-joined');
    const chatId = newChatId();
    const firstChannel = await linkTelegramChat(first, chatId);
    const watch = await api('POST', '/v1/watches', { token: first, body: { chainId: 31337, protocol: 'aave-v3', market: testEnv.TEST_MARKET, account: '0x4444444444444444444444444444444444444444', channels: [firstChannel] } });
    expect(watch.status).toBe(201);

    const secondChannel = await linkTelegramChat(second, chatId);
    const left = await api('GET', `/v1/channels/${firstChannel}`, { token: first });
    expect(left.body.disabledAt).not.toBeNull();
    expect(left.body.disabledReason).toContain('linked itself to another marginwatch account');
    const test = await api('POST', `/v1/channels/${firstChannel}/test`, { token: first });
    expect(test.status).toBe(409);
    expect(test.body.error.code).toBe('channel_disabled');
    expect((await api('POST', `/v1/channels/${secondChannel}/test`, { token: second })).status).toBe(202);

    // The first tenant links the chat again: a new channel, its watch moved onto it; the second's stops.
    const back = await linkTelegramChat(first, chatId);
    expect(back).not.toBe(firstChannel);
    expect((await api('GET', `/v1/watches/${watch.body.id}`, { token: first })).body.channels).toEqual([back]);
    expect((await api('GET', `/v1/channels/${secondChannel}`, { token: second })).body.disabledAt).not.toBeNull();
  });

  it('in a group, only administrators change anything; members may read', async () => {
    const key = await newTenant('tg-group');
    const groupId = newChatId(true);
    const member = 515_151;
    await getJson(`${env.TEST_TELEGRAM_CONTROL_URL}/chats/${groupId}`, { type: 'supergroup', title: 'desk', admins: [424_242] });
    const issued = await api('POST', '/v1/telegram/link', { token: key });
    expect(await say(groupId, `/start ${issued.body.code}`, member)).toContain('administrators');
    expect((await api('GET', '/v1/channels', { token: key })).body.data).toEqual([]);
    expect(await say(groupId, `/start ${issued.body.code}`)).toContain('Linked');

    const account = '0x2222222222222222222222222222222222222222';
    expect(await say(groupId, `/watch 31337 aave-v3 ${testEnv.TEST_MARKET} ${account} desk vault`, member)).toContain('administrators');
    expect((await api('GET', '/v1/watches', { token: key })).body.data).toEqual([]);
    const created = await say(groupId, `/watch 31337 aave-v3 ${testEnv.TEST_MARKET} ${account} desk vault`);
    const watchId = /w_[0-9a-f]{20}/.exec(created)![0];
    expect(await say(groupId, `/mute ${watchId} 1h`, member)).toContain('administrators');
    expect(await say(groupId, `/unwatch ${watchId}`, member)).toContain('administrators');
    expect((await api('GET', `/v1/watches/${watchId}`, { token: key })).body.silencedUntil).toBeNull();
    expect(await say(groupId, '/list', member)).toContain('desk vault');
  });

  it('/watch never attaches a chat to a watch it did not already see', async () => {
    const key = await newTenant('tg-attach');
    const account = '0x3333333333333333333333333333333333333333';
    const hook = await api('POST', '/v1/channels', { token: key, body: { type: 'webhook', url: 'https://hooks.example.com/private' } });
    const watch = await api('POST', '/v1/watches', { token: key, body: { chainId: 31337, protocol: 'aave-v3', market: testEnv.TEST_MARKET, account, label: 'secret treasury', channels: [hook.body.id] } });
    expect(watch.status).toBe(201);
    const chatId = newChatId();
    await linkTelegramChat(key, chatId);
    const reply = await say(chatId, `/watch 31337 aave-v3 ${testEnv.TEST_MARKET} ${account}`);
    expect(reply).toContain('not added here');
    expect(reply).not.toContain('secret treasury');
    expect(reply).not.toContain(watch.body.id);
    expect((await api('GET', `/v1/watches/${watch.body.id}`, { token: key })).body.channels).toEqual([hook.body.id]);
    expect(await say(chatId, '/list')).toContain('watches no positions');
  });

  it('a made-up link code with a real-looking tenant id is refused without creating that tenant\'s object', async () => {
    const tenantHex = Array.from(crypto.getRandomValues(new Uint8Array(8)), (byte) => byte.toString(16).padStart(2, '0')).join('');
    const chatId = newChatId();
    expect(await say(chatId, `/start ${tenantHex}${'A'.repeat(32)}`)).toContain('not valid');
    const wanted = testEnv.TENANT.idFromName(`t_${tenantHex}`);
    expect((await listDurableObjectIds(testEnv.TENANT)).some((id) => id.equals(wanted))).toBe(false);
  });

  it('a tenant holds at most 20 unused link codes; using one makes room', async () => {
    const key = await newTenant('tg-quota');
    const codes: string[] = [];
    for (let index = 0; index < 20; index++) {
      const issued = await api('POST', '/v1/telegram/link', { token: key });
      expect(issued.status).toBe(201);
      codes.push(issued.body.code);
    }
    const refused = await api('POST', '/v1/telegram/link', { token: key });
    expect(refused.status).toBe(409);
    expect(refused.body.error.code).toBe('quota_exceeded');
    expect(await say(newChatId(), `/start ${codes[0]}`)).toContain('Linked');
    expect((await api('POST', '/v1/telegram/link', { token: key })).status).toBe(201);
  });

  it('chat links live in partitions by chat-id hash, not in the one directory; links made before move over on first use', async () => {
    const key = await newTenant('tg-partitions');
    const chats = Array.from({ length: 6 }, () => newChatId());
    for (const chatId of chats) await linkTelegramChat(key, chatId);
    const legacy = directoryStub(testEnv);
    const legacyRows = () => runInDurableObject(legacy, async (_instance, state) => state.storage.sql.exec<{ chat_id: string }>('SELECT chat_id FROM telegram_chats').toArray().map((row) => row.chat_id));
    expect(await legacyRows()).toEqual([]);
    const partitions = new Set(await Promise.all(chats.map((chatId) => chatLinkPartition(chatId))));
    expect(partitions.size).toBeGreaterThan(1);

    // A chat linked by the single directory before partitioning still works, and moves.
    const oldChat = newChatId();
    await getJson(`${env.TEST_TELEGRAM_CONTROL_URL}/chats/${oldChat}`, { type: 'private' });
    const tenant = tenantStub(testEnv, tenantIdOf(key));
    const created = await tenant.createChannelWithinQuota({ id: `ch_${'a'.repeat(18)}${Math.floor(Math.random() * 90 + 10)}`, target: { type: 'telegram', chatId: oldChat }, secret: null, label: 'old link' }, 50);
    if (!created.ok) throw new Error('the test tenant is at its channel quota');
    const channel = created.channel;
    await runInDurableObject(legacy, async (_instance, state) => {
      state.storage.sql.exec('INSERT INTO telegram_chats (chat_id, tenant_id, channel_id, linked_at) VALUES (?, ?, ?, ?)', oldChat, tenantIdOf(key), channel.id, Date.now());
    });
    expect(await say(oldChat, '/list')).toContain('watches no positions');
    expect(await legacyRows()).toEqual([]);
    expect(await chatLink(testEnv, oldChat)).toEqual({ tenantId: tenantIdOf(key), channelId: channel.id });
  });
});

