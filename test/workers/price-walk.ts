import { api, control, pollShards, testEnv } from './helpers';

/* The steps of a protocol's alert walk through the API: a verified webhook channel, a price walk, what the receiver got. */

export type Delivery = { id: string; verified: boolean; path: string; status: number | null; body: { type: string; level: string; position: any; watch: any } };

/** A webhook channel of the tenant at the receiver's `path`, whose signatures the receiver checks with the channel's secret. */
export async function verifiedWebhook(key: string, path: string): Promise<string> {
  const channel = await api('POST', '/v1/channels', { token: key, body: { type: 'webhook', url: `${testEnv.TEST_RECEIVER_URL}${path.slice(1)}`, label: path } });
  await control('/receiver/secret', { path, secret: channel.body.secret });
  return channel.body.id as string;
}

/** Each price in turn, then `polls` polls of every shard (each on a new block, so `for` confirmations count). */
export async function walkPrices(steps: ReadonlyArray<readonly [price: string, polls: number]>, setPrice: (price: string) => Promise<unknown>): Promise<void> {
  for (const [price, polls] of steps) {
    await setPrice(price);
    for (let poll = 0; poll < polls; poll++) await pollShards();
  }
}

/** Every delivery the receiver got at `path`, whatever its answer. */
export async function deliveriesAt(path: string): Promise<Delivery[]> {
  const events = (await control('/receiver/events', {}, 'GET')) as Delivery[];
  return events.filter((event) => event.path === path);
}

/** The notices of a walk down through every level and back up, in order, once each. */
export const DOWN_AND_BACK: ReadonlyArray<readonly [type: string, level: string]> = [
  ['alert.triggered', 'warning'],
  ['alert.escalated', 'margin_call'],
  ['alert.escalated', 'critical'],
  ['alert.resolved', 'ok'],
];

/** Each delivery's type and level, and whether every one carried a valid signature and was accepted. */
export function noticesOf(events: Delivery[]): { notices: Array<[string, string]>; allSignedAndAccepted: boolean } {
  return { notices: events.map((event) => [event.body.type, event.body.level]), allSignedAndAccepted: events.every((event) => event.verified && event.status === 200) };
}
