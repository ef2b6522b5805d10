// The dashboard in a real browser: headless Chromium (Debian's `chromium`, driven by
// playwright-core) against the worker under `wrangler dev`, on a local chain with a real Aave v3
// market whose WETH price the test moves, alerts going to a real webhook receiver. Screenshots of
// each step land in test-artifacts/dashboard/.
//
// Skipped (with a message) when /usr/bin/chromium is missing; CI installs it (.ci/run).
// Run: npx vitest run --project node test/e2e/dashboard.e2e.test.ts

import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import type { Address } from 'viem';
import { REPO_ROOT, startDevStack, type DevStack } from '../../tools/dev-stack';
import { freePort } from '../../tools/lib/processes';

const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = join(REPO_ROOT, 'test-artifacts', 'dashboard');
const haveChromium = existsSync(CHROMIUM);
if (!haveChromium) {
  console.warn(`dashboard browser test skipped: ${CHROMIUM} is missing (install it with \`apt-get install -y --no-install-recommends chromium\`; CI does)`);
}

/** The few browser globals the page-side callbacks use (this project compiles without the DOM lib). */
type InPage = {
  document: { cookie: string; documentElement: { scrollWidth: number } };
  localStorage: { length: number };
  sessionStorage: { length: number };
  location: { href: string };
  getComputedStyle(element: unknown): { backgroundColor: string };
};

type WatchRead = { level: string | null; silencedUntil: string | null; position: { healthFactor: string | null } | null };

let stack: DevStack;
let browser: Browser;
let context: BrowserContext;
let page: Page;
let key: string;
let evilServer: Server | undefined;
let failed = false;
const ids: Record<'safe' | 'medium' | 'risky', string> = { safe: '', medium: '', risky: '' };

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

async function readWatch(id: string): Promise<WatchRead> {
  const response = await stack.api<WatchRead>('GET', `/v1/watches/${id}`, { token: key });
  expect(response.status).toBe(200);
  return response.body;
}

async function waitForWatch(id: string, pred: (watch: WatchRead) => boolean, what: string, timeoutMs = 20_000): Promise<WatchRead> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const watch = await readWatch(id);
    if (pred(watch)) return watch;
    if (Date.now() > deadline) throw new Error(`watch ${id}: ${what} not seen within ${timeoutMs} ms; last ${JSON.stringify(watch)}\nwrangler log tail:\n${stack.logTail(2_000)}`);
    await sleep(300);
  }
}

async function shot(name: string, target: Page = page): Promise<void> {
  await target.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
}

/** The watch ids of the list's rows, top to bottom. */
async function listedOrder(target: Page): Promise<string[]> {
  return target.locator('tbody tr').evaluateAll((rows) => rows.map((row) => (row as unknown as { dataset: Record<string, string | undefined> }).dataset.watchId ?? ''));
}

describe.skipIf(!haveChromium)('dashboard in headless Chromium against wrangler dev', () => {
  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    // History points every 2 s instead of every 5 min, so a test-length history draws a line.
    stack = await startDevStack({ pollIntervalSeconds: 2, hfHistoryBucketSeconds: 2, telegram: false, email: false });
    await stack.setWethPrice(2000);
    const created = await stack.api('POST', '/v1/keys', { token: stack.adminToken, body: { label: 'dashboard e2e' } });
    expect(created.status).toBe(201);
    key = created.body.key;
    const channel = await stack.api('POST', '/v1/channels', { token: key, body: { type: 'webhook', url: stack.hookUrl('/dash'), label: 'ops webhook' } });
    expect(channel.status).toBe(201);
    stack.registerSecret('/dash', channel.body.secret);
    // HF 2.20, 1.65 and 1.35 at $2000, created safest first: the dashboard must reorder them. Risky
    // starts in warning, which keeps the market's shard on the 2 s schedule.
    for (const [label, debt] of [['safe', '7500'], ['medium', '10000'], ['risky', '12200']] as const) {
      const account: Address = await stack.openPosition('10', debt);
      const watch = await stack.api('POST', '/v1/watches', { token: key, body: { chainId: 31337, protocol: 'aave-v3', market: stack.chain.market.pool, account, label, channels: [channel.body.id] } });
      expect(watch.status, JSON.stringify(watch.body)).toBe(201);
      ids[label] = watch.body.id;
    }
    for (const id of Object.values(ids)) await waitForWatch(id, (watch) => watch.position !== null, 'a first poll');
    browser = await chromium.launch({ executablePath: CHROMIUM });
    context = await browser.newContext({ viewport: { width: 1100, height: 900 } });
    page = await context.newPage();
  }, 180_000);

  afterEach((testContext) => {
    if (testContext.task.result?.state === 'fail') failed = true;
  });

  afterAll(async () => {
    await browser?.close().catch(() => undefined);
    await new Promise<void>((resolve) => (evilServer ? evilServer.close(() => resolve()) : resolve()));
    if (!stack) return;
    if (failed) console.error(`dashboard e2e failed; wrangler log kept at ${stack.logFile}, screenshots in ${ARTIFACTS}`);
    await stack.stop({ keepFiles: failed });
  });

  it('signs in with a pasted key; the session is an HttpOnly, Secure, SameSite=Strict __Host- cookie and the key is kept nowhere in the browser', async () => {
    await page.goto(`${stack.apiUrl}/dashboard`);
    expect(new URL(page.url()).pathname).toBe('/dashboard/sign-in');
    await shot('01-sign-in');
    await page.getByLabel('API key').fill(key);
    await Promise.all([page.waitForURL(`${stack.apiUrl}/dashboard`), page.getByRole('button', { name: 'Sign in' }).click()]);

    const cookies = await context.cookies();
    expect(cookies.map((cookie) => cookie.name)).toEqual(['__Host-mw_session']);
    const [session] = cookies;
    expect(session).toMatchObject({ httpOnly: true, secure: true, sameSite: 'Strict', path: '/' });
    expect(session!.value).toMatch(/^mws_/);
    expect(session!.value).not.toContain(key.slice(21));
    const storage = await page.evaluate(() => {
      const w = globalThis as unknown as InPage;
      return { cookie: w.document.cookie, local: w.localStorage.length, session: w.sessionStorage.length, href: w.location.href };
    });
    expect(storage).toEqual({ cookie: '', local: 0, session: 0, href: `${stack.apiUrl}/dashboard` });
  });

  it('lists the watches lowest health factor first, coloured and named by level; readable on a phone', async () => {
    expect(await listedOrder(page)).toEqual([ids.risky, ids.medium, ids.safe]);
    const risky = page.locator(`tr[data-watch-id="${ids.risky}"]`);
    await expect(risky.locator('.badge').textContent()).resolves.toBe('Warning');
    expect(await risky.locator('.badge').evaluate((badge) => (globalThis as unknown as InPage).getComputedStyle(badge).backgroundColor)).toBe('rgb(254, 249, 195)');
    await expect(risky.locator('td.hf').textContent()).resolves.toMatch(/^1\.3\d{3}$/);
    await shot('02-watches');

    const phone = await context.newPage();
    await phone.setViewportSize({ width: 390, height: 844 });
    await phone.goto(`${stack.apiUrl}/dashboard`);
    expect(await listedOrder(phone)).toEqual([ids.risky, ids.medium, ids.safe]);
    // Nothing wider than the screen but the table's own scroll area.
    expect(await phone.evaluate(() => (globalThis as unknown as InPage).document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    await shot('03-watches-phone', phone);
    await phone.close();
  });

  it('opens a watch and draws its health-factor chart with uPlot served from the worker\'s static assets', async () => {
    await Promise.all([page.waitForURL(`${stack.apiUrl}/dashboard/watches/${ids.medium}`), page.getByRole('link', { name: 'medium' }).click()]);
    await page.locator('#hf-chart[data-drawn="true"] canvas').waitFor({ timeout: 10_000 });
    const legend = await page.locator('#hf-chart .u-legend').textContent();
    for (const line of ['Health factor', 'Warning 1.5', 'Margin call 1.25', 'Critical 1.1', 'Liquidation 1.0']) expect(legend).toContain(line);
    const box = await page.locator('#hf-chart canvas').boundingBox();
    expect(box!.width).toBeGreaterThan(300);
    await shot('04-watch-chart');
  });

  it('shows the alert that a price move causes, with its delivery, and the fall on the chart', async () => {
    await stack.setWethPrice(1300); // medium: HF 1.0725, critical at once
    await waitForWatch(ids.medium, (watch) => watch.level === 'critical', 'critical at $1300');
    await stack.receiver.waitFor((events) => events.some((event) => event.status === 200 && (event.body as { watch?: { id: string } }).watch?.id === ids.medium), 20_000);
    await page.reload();
    const alert = page.locator('tr[data-event-type="alert.triggered"]').first();
    await expect(alert.textContent()).resolves.toMatch(/OK → Critical at HF 1\.07\d\d/);
    await expect(alert.locator('.delivery').textContent()).resolves.toBe('ops webhook: delivered');
    await expect(page.locator('.badge').first().textContent()).resolves.toBe('Critical');
    const chart = JSON.parse((await page.locator('#hf-chart').getAttribute('data-chart'))!) as { healthFactors: Array<number | null> };
    expect(Math.min(...chart.healthFactors.filter((value): value is number => value !== null))).toBeLessThan(1.08);
    await page.locator('#hf-chart[data-drawn="true"] canvas').waitFor();
    await shot('05-watch-alert');
  });

  it('refuses a silence form posted from another site', async () => {
    const port = await freePort('127.0.0.1');
    const action = `${stack.apiUrl}/dashboard/watches/${ids.medium}/silence`;
    evilServer = createServer((_request, response) => {
      response.setHeader('content-type', 'text/html');
      response.end(`<form method="post" action="${action}"><input name="for" value="7d"><input name="_csrf" value="guess"><button>go</button></form>`);
    });
    await new Promise<void>((resolve) => evilServer!.listen(port, '127.0.0.1', resolve));
    const evil = await context.newPage();
    await evil.goto(`http://127.0.0.1:${port}/`);
    const [response] = await Promise.all([evil.waitForResponse(action), evil.getByRole('button', { name: 'go' }).click()]);
    expect([401, 403]).toContain(response.status());
    await evil.close();
    expect((await readWatch(ids.medium)).silencedUntil).toBeNull();
  });

  it('silences the watch: the next alert is recorded but not sent; un-silencing brings the form back', async () => {
    await page.getByLabel('Silence alerts for').selectOption('1h');
    await Promise.all([page.waitForURL(/\?done=silenced$/), page.getByRole('button', { name: 'Silence', exact: true }).click()]);
    await expect(page.locator('#silenced-until').textContent()).resolves.toContain('Silenced until');
    const silencedUntil = Date.parse((await readWatch(ids.medium)).silencedUntil!);
    expect(silencedUntil).toBeGreaterThan(Date.now() + 59 * 60_000);

    const sentBefore = stack.receiver.events.filter((event) => (event.body as { watch?: { id: string } }).watch?.id === ids.medium).length;
    await stack.setWethPrice(2000); // resolved, while silenced
    await waitForWatch(ids.medium, (watch) => watch.level === 'ok', 'ok again at $2000');
    const deadline = Date.now() + 10_000;
    for (;;) {
      await page.reload();
      if ((await page.locator('tr[data-event-type="alert.resolved"]').count()) > 0) break;
      if (Date.now() > deadline) throw new Error('alert.resolved did not reach the alert log');
      await sleep(1000);
    }
    await expect(page.locator('tr[data-event-type="alert.resolved"]').textContent()).resolves.toContain('silenced: not sent');
    await shot('06-watch-silenced');
    await sleep(2_000);
    expect(stack.receiver.events.filter((event) => (event.body as { watch?: { id: string } }).watch?.id === ids.medium)).toHaveLength(sentBefore);

    await Promise.all([page.waitForURL(/\?done=unsilenced$/), page.getByRole('button', { name: 'Un-silence' }).click()]);
    await page.getByLabel('Silence alerts for').waitFor();
    expect((await readWatch(ids.medium)).silencedUntil).toBeNull();
  });

  it('sends a channel test from the channels page and lists dead letters', async () => {
    await page.getByRole('link', { name: 'Channels' }).click();
    await Promise.all([page.waitForURL(/tested=/), page.getByRole('button', { name: 'Send a test to ops webhook' }).click()]);
    await expect(page.getByRole('status').textContent()).resolves.toBe('Test to ops webhook: delivered.');
    expect(stack.receiver.events.some((event) => event.path === '/dash' && event.verified && (event.body as { type: string }).type === 'channel.test')).toBe(true);
    await shot('07-channels');
    await page.getByRole('link', { name: 'Dead letters' }).click();
    await expect(page.locator('h1').textContent()).resolves.toBe('Dead letters');
    await shot('08-dead-letters');
  });

  it('signs out: the cookie is gone and the old session no longer opens a page', async () => {
    const [session] = await context.cookies();
    await Promise.all([page.waitForURL(`${stack.apiUrl}/dashboard/sign-in`), page.getByRole('button', { name: 'Sign out' }).click()]);
    expect(await context.cookies()).toEqual([]);
    await page.goto(`${stack.apiUrl}/dashboard`);
    expect(new URL(page.url()).pathname).toBe('/dashboard/sign-in');
    const replay = await fetch(`${stack.apiUrl}/dashboard`, { headers: { cookie: `${session!.name}=${session!.value}` }, redirect: 'manual' });
    expect(replay.status).toBe(303);
    expect(replay.headers.get('location')).toBe('/dashboard/sign-in');
    await shot('09-signed-out');
  });
});
