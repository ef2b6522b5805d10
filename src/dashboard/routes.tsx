import { tenantStub } from '../durable/stubs';
import { Hono } from 'hono';
import { csrf } from 'hono/csrf';
import { secureHeaders } from 'hono/secure-headers';
import { setCookie } from 'hono/cookie';
import { HTTPException } from 'hono/http-exception';
import { z } from 'zod';
import { authenticateKey } from '../api/auth';
import { AppError, isAppError } from '../lib/errors';
import { redactUrlsInText } from '../lib/redact-text';
import { type Tenant } from '../durable/tenant';
import { getWatchWithStatus, listWatchesAtAGlance, updateWatch } from '../watches/service';
import { healthFactorHistory } from '../watches/hf-history-query';
import { sendChannelTest } from '../notify/channel-test';
import type { ChannelRecord, EventRecord } from '../watches/records';
import type { PageKey } from '../lib/page-cursor';
import { MAX_SESSIONS_PER_TENANT, SESSION_COOKIE, SESSION_TTL_MS, newSessionToken, sessionHash } from './session';
import { SIGN_IN_PATH, clearSessionCookie, requireSession, sessionCookieOf, type DashboardVariables } from './session-auth';
import { sortByHealthFactor } from './present';
import { chartData, chartRangeOf, lowestHealthFactor, rangeStart } from './chart';
import { SILENCE_CHOICES } from './silence';
import { readForm } from './form';
import { SignInPage } from './views/sign-in';
import { ErrorPage } from './views/error';
import { WatchesPage, type WatchRow } from './views/watches';
import { WatchPage } from './views/watch';
import { ChannelsPage } from './views/channels';
import { DeadLettersPage } from './views/dead-letters';

type DashboardEnv = { Bindings: Env; Variables: DashboardVariables };

/** Watches one list page shows at most; the API pages through any number. */
const MAX_LISTED_WATCHES = 1000;
const LISTED_CHANNELS = 200;
const ALERT_LOG_LENGTH = 50;
const DEAD_LETTERS_SHOWN = 100;

const signInSchema = z.object({ apiKey: z.string().trim().min(1, 'paste an API key').max(200, 'is longer than any API key') });
const silenceSchema = z.object({ for: z.enum(Object.keys(SILENCE_CHOICES) as [keyof typeof SILENCE_CHOICES], { error: `must be one of ${Object.keys(SILENCE_CHOICES).join(', ')}` }) });

const WATCH_NOTICES: Record<string, string> = { silenced: 'Silenced: alerts are recorded but not sent until the time shown.', unsilenced: 'Un-silenced: alerts are sent again.' };

async function allWatches(env: Env, tenantId: string): Promise<{ watches: WatchRow[]; truncated: boolean }> {
  const watches: WatchRow[] = [];
  let cursor: PageKey | null = null;
  do {
    const page = await listWatchesAtAGlance(env, tenantId, MAX_LISTED_WATCHES - watches.length, cursor);
    watches.push(...page.data);
    cursor = page.next;
  } while (cursor !== null && watches.length < MAX_LISTED_WATCHES);
  return { watches, truncated: cursor !== null };
}

async function channelsOf(env: Env, tenantId: string): Promise<ChannelRecord[]> {
  return (await tenantStub(env, tenantId).listChannelsPage(LISTED_CHANNELS, null)).data;
}

async function alertLog(env: Env, tenantId: string, watchId: string): Promise<EventRecord[]> {
  // The RPC stub types an `unknown` field (the event body) as never; the object returns EventRecords.
  const page = (await tenantStub(env, tenantId).listEvents(watchId, ALERT_LOG_LENGTH)) as unknown as Awaited<ReturnType<Tenant['listEvents']>>;
  return page.data;
}

function labelsOf(channels: ChannelRecord[]): Map<string, string> {
  return new Map(channels.map((channel) => [channel.id, channel.label]));
}

/**
 * The dashboard: server-rendered pages over the same service functions as the JSON API.
 * Mounted at /dashboard after the config and rate-limit middleware.
 */
export const dashboardRoutes = new Hono<DashboardEnv>()
  // Nothing but this origin's own files may run or load; pages are private and never cached.
  .use(
    secureHeaders({
      contentSecurityPolicy: {
        defaultSrc: ["'none'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'"],
        imgSrc: ["'self'", 'data:'],
        connectSrc: ["'self'"],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
        baseUri: ["'none'"],
      },
      referrerPolicy: 'same-origin',
      crossOriginEmbedderPolicy: false,
    }),
  )
  .use(async (c, next) => {
    await next();
    c.header('cache-control', 'no-store');
  })
  // A form posted from another origin is refused before anything reads it (the form token is the second check).
  .use(csrf())
  .get('/sign-in', (c) => c.html(<SignInPage />))
  .post('/sign-in', async (c) => {
    const parsed = signInSchema.safeParse(await readForm(c));
    if (!parsed.success) return c.html(<SignInPage error={`API key: ${parsed.error.issues[0]!.message}`} />, 400);
    let identity: { tenantId: string; keyId: string };
    try {
      identity = await authenticateKey(c.env, c.get('config'), parsed.data.apiKey);
    } catch (error) {
      if (isAppError(error) && error.code === 'unauthorized') return c.html(<SignInPage error="API key: not valid (revoked, mistyped, or issued by another deployment)" />, 401);
      throw error;
    }
    const token = await newSessionToken(c.get('config').apiKeySecret, identity.tenantId);
    await tenantStub(c.env, identity.tenantId).createSession({ hash: await sessionHash(token), keyId: identity.keyId, expiresAt: Date.now() + SESSION_TTL_MS }, MAX_SESSIONS_PER_TENANT);
    setCookie(c, SESSION_COOKIE, token, { prefix: 'host', path: '/', secure: true, httpOnly: true, sameSite: 'Strict', maxAge: SESSION_TTL_MS / 1000 });
    return c.redirect('/dashboard', 303);
  })
  .post('/sign-out', requireSession, async (c) => {
    await tenantStub(c.env, c.get('tenantId')).revokeSession(await sessionHash(c.get('sessionToken')));
    clearSessionCookie(c);
    return c.redirect(SIGN_IN_PATH, 303);
  })
  .get('/', requireSession, async (c) => {
    const { watches, truncated } = await allWatches(c.env, c.get('tenantId'));
    return c.html(<WatchesPage session={{ csrfToken: c.get('csrfToken'), current: 'watches' }} watches={sortByHealthFactor(watches)} truncated={truncated} now={Date.now()} />);
  })
  .get('/watches/:id', requireSession, async (c) => {
    const tenantId = c.get('tenantId');
    const id = c.req.param('id');
    const range = chartRangeOf(c.req.query('range'));
    const now = Date.now();
    const watch = await getWatchWithStatus(c.env, tenantId, id);
    const [events, history, channels] = await Promise.all([
      alertLog(c.env, tenantId, id),
      healthFactorHistory(c.env, tenantId, id, rangeStart(range, now)),
      channelsOf(c.env, tenantId),
    ]);
    const done = c.req.query('done') ?? '';
    const notice = Object.hasOwn(WATCH_NOTICES, done) ? WATCH_NOTICES[done] : undefined;
    return c.html(
      <WatchPage
        session={{ csrfToken: c.get('csrfToken'), current: 'watches' }}
        watch={watch}
        events={events}
        chart={chartData(history, watch.thresholds)}
        range={range}
        lowest={lowestHealthFactor(history)}
        channelLabels={labelsOf(channels)}
        notice={notice ? { text: notice, kind: 'ok' } : null}
        now={now}
      />,
    );
  })
  .post('/watches/:id/silence', requireSession, async (c) => {
    const parsed = silenceSchema.safeParse(await readForm(c));
    if (!parsed.success) throw new AppError('validation_failed', `for: ${parsed.error.issues[0]!.message}`, { status: 400, issues: [{ path: 'for', message: parsed.error.issues[0]!.message }] });
    const id = c.req.param('id');
    await updateWatch(c.env, c.get('tenantId'), id, { silencedUntil: Date.now() + SILENCE_CHOICES[parsed.data.for].ms });
    return c.redirect(`/dashboard/watches/${encodeURIComponent(id)}?done=silenced`, 303);
  })
  .post('/watches/:id/unsilence', requireSession, async (c) => {
    const id = c.req.param('id');
    await updateWatch(c.env, c.get('tenantId'), id, { silencedUntil: null });
    return c.redirect(`/dashboard/watches/${encodeURIComponent(id)}?done=unsilenced`, 303);
  })
  .get('/channels', requireSession, async (c) => {
    const channels = await channelsOf(c.env, c.get('tenantId'));
    const tested = channels.find((channel) => channel.id === c.req.query('tested'));
    const status = c.req.query('status');
    const notice = tested && (status === 'delivered' || status === 'pending' || status === 'dead')
      ? { text: `Test to ${tested.label || tested.id}: ${status === 'delivered' ? 'delivered' : status === 'pending' ? 'not delivered yet; it is retried' : 'failed'}.`, kind: status === 'dead' ? ('error' as const) : ('ok' as const) }
      : null;
    return c.html(<ChannelsPage session={{ csrfToken: c.get('csrfToken'), current: 'channels' }} channels={channels} notice={notice} />);
  })
  .post('/channels/:id/test', requireSession, async (c) => {
    const id = c.req.param('id');
    const { delivery } = await sendChannelTest(c.env, c.get('tenantId'), id);
    return c.redirect(`/dashboard/channels?tested=${encodeURIComponent(id)}&status=${delivery.status}`, 303);
  })
  .get('/dead-letters', requireSession, async (c) => {
    const [{ data: deliveries }, channels] = await Promise.all([tenantStub(c.env, c.get('tenantId')).listDeliveries('dead', DEAD_LETTERS_SHOWN), channelsOf(c.env, c.get('tenantId'))]);
    return c.html(<DeadLettersPage session={{ csrfToken: c.get('csrfToken'), current: 'dead-letters' }} deliveries={deliveries} channelLabels={labelsOf(channels)} limit={DEAD_LETTERS_SHOWN} />);
  })
  .onError((error, c) => {
    const signedIn = sessionCookieOf(c) !== null;
    if (error instanceof HTTPException) {
      return c.html(<ErrorPage status={403} message="This form was sent from another site and was refused." signedIn={signedIn} />, 403);
    }
    if (isAppError(error)) {
      if (error.code === 'session_required') clearSessionCookie(c);
      return c.html(<ErrorPage status={error.status} message={error.message} signedIn={signedIn && error.code !== 'session_required'} />, error.status as 400);
    }
    console.error('dashboard: unhandled error', error instanceof Error ? `${error.name}: ${redactUrlsInText(error.message.slice(0, 200))}` : 'unknown');
    return c.html(<ErrorPage status={500} message="Something went wrong on our side; try again in a moment." signedIn={signedIn} />, 500);
  });
