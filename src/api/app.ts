import { Hono } from 'hono';
import { createMiddleware } from 'hono/factory';
import { methodNotAllowed } from 'hono/method-not-allowed';
import { parseConfig } from '../config/env';
import { chainHealth } from './chain-health';
import { AppError, isAppError } from '../lib/errors';
import { redactUrlsInText } from '../lib/redact-text';
import { requireTenant, type AuthVariables } from './auth';
import { rateLimit } from './rate-limit';
import { channelRoutes } from './routes/channels';
import { emailConfirmRoutes } from './routes/email-confirm';
import { deliveryRoutes } from './routes/deliveries';
import { keyRoutes } from './routes/keys';
import { watchRoutes } from './routes/watches';
import { marketRoutes } from './routes/markets';
import { adminTenantRoutes, topUpRoutes } from './routes/topup';
import { telegramAdminRoutes, telegramLinkRoutes, telegramWebhookRoutes } from '../telegram/routes';
import { dashboardRoutes } from '../dashboard/routes';
import { openApiDocument } from './openapi/document';
import { DOCS_CONTENT_SECURITY_POLICY, docsPage } from './docs-page';

type App = { Bindings: Env; Variables: AuthVariables };

function errorBody(error: AppError) {
  return { error: { code: error.code, message: error.message, ...(error.issues ? { issues: error.issues } : {}) } };
}

export function createApp() {
  const app = new Hono<App>();
  app.use(
    methodNotAllowed({
      app,
      onMethodNotAllowed: (c, methods) =>
        c.json({ error: { code: 'method_not_allowed', message: `${c.req.method} is not allowed here; use ${methods.join(', ')}` } }, 405, { Allow: methods.join(', ') }),
    }),
  );

  // Every /v1 and /telegram request needs a valid configuration; a bad one is named, never guessed around.
  const withConfig = createMiddleware<App>(async (c, next) => {
    c.set('config', parseConfig(c.env as unknown as Record<string, unknown>));
    await next();
  });
  // /health names a bad configuration in its own body (503), and is rate limited per client IP like any caller without a key.
  const healthConfig = createMiddleware<App>(async (c, next) => {
    try {
      c.set('config', parseConfig(c.env as unknown as Record<string, unknown>));
    } catch (error) {
      if (isAppError(error)) return c.json({ ok: false, ...errorBody(error) }, 503);
      throw error;
    }
    await next();
  });

  app.get('/health', healthConfig, rateLimit, async (c) => {
    const config = c.get('config');
    const chainStates = await chainHealth(c.env, config);
    // 200 even when a chain is degraded: the worker itself is up (a supervisor or a start-up check must
    // not restart it over an RPC outage); `ok` says it, and HEARTBEAT_URL stops being pinged.
    return c.json({ ok: chainStates.every((chain) => chain.ok), service: 'marginwatch', chains: [...config.chains.keys()], chainHealth: chainStates });
  });

  // The API's description and its reference page: the same for every caller, no config or key needed.
  app.get('/openapi.json', (c) => c.json(openApiDocument(), 200, { 'cache-control': 'public, max-age=300' }));
  app.get('/docs', (c) => c.html(docsPage(), 200, { 'content-security-policy': DOCS_CONTENT_SECURITY_POLICY }));

  // Before any route touches storage: per API key, or per client IP without a valid key.
  for (const path of ['/v1/*', '/telegram/*', '/dashboard/*']) app.use(path, withConfig, rateLimit);

  // Telegram calls this with its secret token, not a bearer key (outside /v1).
  app.route('/telegram', telegramWebhookRoutes);
  app.route('/v1/keys', keyRoutes);
  app.use('/v1/channels/*', requireTenant);
  app.use('/v1/channels', requireTenant);
  app.use('/v1/watches/*', requireTenant);
  app.use('/v1/watches', requireTenant);
  app.use('/v1/deliveries', requireTenant);
  app.use('/v1/markets', requireTenant);
  app.route('/v1/markets', marketRoutes);
  app.route('/v1/channels', channelRoutes);
  app.route('/v1/channels', emailConfirmRoutes);
  app.route('/v1/watches', watchRoutes);
  app.route('/v1/deliveries', deliveryRoutes);
  // /v1/topup/grant is the tenant's own; /v1/topup/signer (the owner's wallet) needs the admin token.
  app.route('/v1/topup', topUpRoutes);
  app.route('/v1/admin/tenants', adminTenantRoutes);
  app.use('/v1/telegram/*', requireTenant);
  app.route('/v1/telegram', telegramLinkRoutes);
  app.route('/v1/admin/telegram', telegramAdminRoutes);
  // HTML pages with a session cookie (src/dashboard); its static files are Workers assets under public/dashboard.
  app.route('/dashboard', dashboardRoutes);

  app.notFound((c) => c.json({ error: { code: 'not_found', message: `no route ${c.req.method} ${c.req.path}` } }, 404));
  app.onError((error, c) => {
    if (isAppError(error)) return c.json(errorBody(error), error.status as 400, error.retryAfterSeconds === undefined ? {} : { 'retry-after': String(error.retryAfterSeconds) });
    // Never echo internals: log the class of error only, answer a generic message.
    console.error('unhandled error', error instanceof Error ? `${error.name}: ${redactUrlsInText(error.message.slice(0, 200))}` : 'unknown');
    return c.json({ error: { code: 'internal_error', message: 'internal error; the request may be retried' } }, 500);
  });
  return app;
}
