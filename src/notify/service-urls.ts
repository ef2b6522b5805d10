import { parseWebhookUrl } from '../lib/safe-url';

/**
 * The URLs of the hosted services a channel may point at, checked as written (pure).
 *
 * Discord and Slack webhooks go to their own hosts only: an arbitrary host there would be a
 * webhook channel without a signature. The path of such a URL is its credential, so what is
 * shown back is `masked` (the path's secret part replaced by "…").
 */

export type ServiceUrl = { ok: true; url: string; masked: string } | { ok: false; message: string };

/** discord.com and its older discordapp.com name, each with the ptb. and canary. client hosts. */
export const DISCORD_WEBHOOK_HOSTS: readonly string[] = ['discord.com', 'ptb.discord.com', 'canary.discord.com', 'discordapp.com', 'ptb.discordapp.com', 'canary.discordapp.com'];
export const SLACK_WEBHOOK_HOST = 'hooks.slack.com';

const DISCORD_PATH = /^\/api\/(?:v\d{1,2}\/)?webhooks\/(\d{17,20})\/([A-Za-z0-9_-]{60,100})$/;
const SLACK_PATH = /^\/services\/(T[A-Z0-9]{6,15})\/(B[A-Z0-9]{6,15})\/([A-Za-z0-9]{16,64})$/;

const DISCORD_EXAMPLE = 'https://discord.com/api/webhooks/<id>/<token> (Channel settings → Integrations → Webhooks → Copy Webhook URL)';
const SLACK_EXAMPLE = 'https://hooks.slack.com/services/T…/B…/… (an incoming webhook of a Slack app)';

/** Parses an https URL with no credentials, port, query or fragment; undefined when it is not one. */
function plainHttpsUrl(raw: string): URL | undefined {
  let url: URL;
  try {
    url = new URL(raw.trim());
  } catch {
    return undefined;
  }
  if (url.protocol !== 'https:' || url.username || url.password || url.port || url.search || url.hash) return undefined;
  return url;
}

export function parseDiscordWebhookUrl(raw: string): ServiceUrl {
  const url = plainHttpsUrl(raw);
  if (!url) return { ok: false, message: `must be a Discord webhook URL: ${DISCORD_EXAMPLE}` };
  if (!DISCORD_WEBHOOK_HOSTS.includes(url.hostname)) return { ok: false, message: `must be on a Discord webhook host (${DISCORD_WEBHOOK_HOSTS.join(', ')}), not ${url.hostname}` };
  const path = DISCORD_PATH.exec(url.pathname);
  if (!path) return { ok: false, message: `must be a Discord webhook URL of the form ${DISCORD_EXAMPLE}` };
  return { ok: true, url: url.toString(), masked: `https://${url.hostname}/api/webhooks/${path[1]}/…` };
}

export function parseSlackWebhookUrl(raw: string): ServiceUrl {
  const url = plainHttpsUrl(raw);
  if (!url) return { ok: false, message: `must be a Slack incoming-webhook URL: ${SLACK_EXAMPLE}` };
  if (url.hostname !== SLACK_WEBHOOK_HOST) return { ok: false, message: `must be on Slack's incoming-webhook host ${SLACK_WEBHOOK_HOST}, not ${url.hostname}` };
  const path = SLACK_PATH.exec(url.pathname);
  if (!path) return { ok: false, message: `must be a Slack incoming-webhook URL of the form ${SLACK_EXAMPLE}` };
  return { ok: true, url: url.toString(), masked: `https://${SLACK_WEBHOOK_HOST}/services/${path[1]}/${path[2]}/…` };
}

/**
 * An ntfy server: any https server (ntfy.sh or a self-hosted one, possibly under a path
 * prefix), with the webhook rules for private addresses. Returned without a trailing slash.
 */
export function parseNtfyServer(raw: string, options: { allowPrivate: boolean }): ServiceUrl {
  const parsed = parseWebhookUrl(raw, options);
  if (!parsed.ok) return { ok: false, message: `follows the webhook URL rules: ${parsed.error.message}` };
  if (parsed.url.search || parsed.url.hash) return { ok: false, message: 'must be the ntfy server URL without query or fragment, e.g. https://ntfy.sh' };
  const url = parsed.url.toString().replace(/\/+$/, '');
  return { ok: true, url, masked: url };
}

/**
 * Where a request really goes: the service's own URL, or (tests and local development only)
 * the same path on a stand-in's base URL.
 */
export function endpointFor(serviceUrl: string, base: string | undefined): string {
  if (base === undefined) return serviceUrl;
  const url = new URL(serviceUrl);
  return `${base.replace(/\/+$/, '')}${url.pathname}`;
}
