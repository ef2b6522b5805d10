/**
 * `npm run telegram:setup`: registers a deployment's Telegram webhook (with its secret
 * token) and publishes the bot's command menu, by calling the admin route
 * `POST /v1/admin/telegram/setup` of the running worker — the worker holds the bot token,
 * so this script never needs it.
 *
 *   MARGINWATCH_URL=https://marginwatch.<you>.workers.dev ADMIN_TOKEN=… npm run telegram:setup
 *
 * TELEGRAM_WEBHOOK_URL overrides the webhook address (default: MARGINWATCH_URL + /telegram/webhook).
 */

function fail(message: string): never {
  console.error(`telegram:setup: ${message}`);
  process.exit(1);
}

async function main(): Promise<void> {
  const base = process.env.MARGINWATCH_URL?.trim().replace(/\/+$/, '');
  const adminToken = process.env.ADMIN_TOKEN?.trim();
  if (!base) fail('set MARGINWATCH_URL to the worker\'s address, e.g. https://marginwatch.example.workers.dev');
  if (!adminToken) fail('set ADMIN_TOKEN to the deployment\'s admin token (the value of the ADMIN_TOKEN secret)');
  if (!URL.canParse(base)) fail('MARGINWATCH_URL is not a URL');
  const webhookUrl = process.env.TELEGRAM_WEBHOOK_URL?.trim() || `${base}/telegram/webhook`;

  let response: Response;
  try {
    response = await fetch(`${base}/v1/admin/telegram/setup`, {
      method: 'POST',
      headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ url: webhookUrl }),
      signal: AbortSignal.timeout(30_000),
    });
  } catch (error) {
    fail(`could not reach ${new URL(base).origin}: ${error instanceof Error ? error.message : String(error)}`);
  }
  const text = await response.text();
  let body: { error?: { code: string; message: string }; bot?: { username: string }; webhook?: { url: string }; commands?: Array<{ command: string }> } = {};
  try {
    body = JSON.parse(text) as typeof body;
  } catch {
    // Reported below with the status.
  }
  if (!response.ok) fail(`HTTP ${response.status} ${body.error ? `${body.error.code}: ${body.error.message}` : text.replace(/\s+/g, ' ').slice(0, 200)}`);
  console.log(`Webhook set: ${body.webhook?.url ?? webhookUrl}`);
  console.log(`Commands published: ${(body.commands ?? []).map((command) => `/${command.command}`).join(' ')}`);
  if (body.bot?.username) console.log(`Bot: https://t.me/${body.bot.username}`);
  console.log('Next: get a link for a chat with POST /v1/telegram/link (tenant API key) and open it.');
}

main().catch((error: unknown) => fail(error instanceof Error ? error.message : String(error)));
