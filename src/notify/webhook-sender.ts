import { Webhook } from 'standardwebhooks';
import { AppError } from '../lib/errors';
import { parseRetryAfter } from './backoff';
import { withTimeout } from '../lib/timeout';

/**
 * One webhook delivery attempt, signed per the Standard Webhooks spec
 * (https://www.standardwebhooks.com): `webhook-id`, `webhook-timestamp` (unix seconds) and
 * `webhook-signature` (`v1,<base64 HMAC-SHA256 of "id.timestamp.body">`).
 *
 * The outcome is a value, never a throw, for anything the receiver or network does:
 * - 2xx: delivered;
 * - 410 Gone: the receiver asked us to stop; the caller disables the channel;
 * - anything else (3xx, other 4xx, 5xx, 429, network errors, timeouts): retry, with the
 *   receiver's Retry-After when it sent a usable one.
 * Redirects are not followed: a redirect could point at a private address the URL check
 * refused, so receivers must configure their final endpoint.
 */

export type DeliveryOutcome =
  | { kind: 'delivered'; status: number }
  | { kind: 'retry'; status?: number; retryAfterMs?: number; reason: string }
  | { kind: 'gone'; status: 410; reason: string };

export type SendWebhookInput = {
  url: string | URL;
  /** Signing secret, `whsec_` + base64 (see generateWebhookSecret). */
  secret: string;
  /** Stable per event: receivers deduplicate on it, so retries reuse it. */
  eventId: string;
  timestamp: Date;
  /** The JSON body, exactly as it is signed and sent. */
  body: string;
  timeoutMs?: number;
  fetchFn?: typeof fetch;
  /** Clock for HTTP-date Retry-After values. Default Date.now. */
  now?: () => number;
};

export const WEBHOOK_USER_AGENT = 'marginwatch-webhooks/1';
export const DEFAULT_WEBHOOK_TIMEOUT_MS = 10_000;

/** Longest receiver-provided text (body excerpt, error text) that goes into a reason. */
const MAX_EXCERPT_CHARS = 200;
/** Bytes of an error response body read at most; the rest is discarded unread. */
const MAX_BODY_BYTES = 1024;

/**
 * Signs and POSTs one event. Resolves with a DeliveryOutcome for every receiver/network
 * behaviour; rejects only with an AppError `invalid_webhook_secret` when `secret` is not a
 * usable signing secret (a configuration bug, found before anything is sent).
 */
export async function sendWebhook(input: SendWebhookInput): Promise<DeliveryOutcome> {
  const timeoutMs = input.timeoutMs ?? DEFAULT_WEBHOOK_TIMEOUT_MS;
  const fetchFn = input.fetchFn ?? fetch;
  const now = input.now ?? Date.now;

  const signature = sign(input.secret, input.eventId, input.timestamp, input.body);
  const headers = {
    'content-type': 'application/json',
    'user-agent': WEBHOOK_USER_AGENT,
    'webhook-id': input.eventId,
    'webhook-timestamp': String(Math.floor(input.timestamp.getTime() / 1000)),
    'webhook-signature': signature,
  };

  return withTimeout(timeoutMs, async (signal) => {
    let response: Response;
    try {
      response = await fetchFn(String(input.url), {
        method: 'POST',
        headers,
        body: input.body,
        redirect: 'manual',
        signal,
      });
    } catch (error) {
      return { kind: 'retry', reason: describeFetchError(error, timeoutMs) };
    }

    const status = response.status;
    if (status >= 200 && status < 300) {
      await discardBody(response);
      return { kind: 'delivered', status };
    }
    if (status === 410) {
      await discardBody(response);
      return { kind: 'gone', status: 410, reason: 'receiver answered 410 Gone: it no longer accepts these webhooks' };
    }

    const retryAfterMs = parseRetryAfter(response.headers.get('retry-after'), now());
    let reason: string;
    if (status >= 300 && status < 400) {
      await discardBody(response);
      const location = response.headers.get('location');
      reason = `receiver redirected (HTTP ${status}${location ? ` to ${excerpt(location)}` : ''}); redirects are not followed, configure the final URL`;
    } else {
      const snippet = await readExcerpt(response);
      reason = `receiver answered HTTP ${status}${snippet ? `: ${snippet}` : ''}`;
    }
    return retryAfterMs === undefined ? { kind: 'retry', status, reason } : { kind: 'retry', status, retryAfterMs, reason };
  });
}

/** A new signing secret: `whsec_` + base64 of 32 random bytes, as standardwebhooks expects. */
export function generateWebhookSecret(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  let binary = '';
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return `whsec_${btoa(binary)}`;
}

function sign(secret: string, eventId: string, timestamp: Date, body: string): string {
  // Validate shape ourselves so the error never echoes the secret.
  const encoded = secret.startsWith('whsec_') ? secret.slice('whsec_'.length) : secret;
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(encoded) || encoded.length % 4 !== 0) {
    throw new AppError('invalid_webhook_secret', 'webhook signing secret must be "whsec_" followed by base64; generate one with generateWebhookSecret()', { status: 500 });
  }
  try {
    return new Webhook(secret).sign(eventId, timestamp, body);
  } catch (error) {
    throw new AppError('invalid_webhook_secret', 'webhook signing secret could not be used for signing; generate a new one with generateWebhookSecret()', { status: 500, cause: error });
  }
}

/** A fetch failure (timeout, refused, reset) in words, without the URL. */
export function describeFetchError(error: unknown, timeoutMs: number): string {
  const name = error instanceof Error || isDomException(error) ? (error as { name: string }).name : '';
  if (name === 'TimeoutError' || name === 'AbortError') {
    return `no response within ${timeoutMs} ms (timed out)`;
  }
  // Node (undici) wraps the socket error: TypeError('fetch failed', { cause: { code: 'ECONNREFUSED' } }).
  const cause = error instanceof Error ? (error.cause as { code?: unknown; message?: unknown } | undefined) : undefined;
  const code = typeof cause?.code === 'string' ? cause.code : undefined;
  if (code === 'ECONNREFUSED') return 'network error: connection refused';
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return `network error: host not found (${code})`;
  if (code === 'ECONNRESET' || code === 'UND_ERR_SOCKET') return `network error: connection reset (${code})`;
  const message = error instanceof Error ? error.message : String(error);
  const causeMessage = typeof cause?.message === 'string' ? `: ${cause.message}` : '';
  return `network error: ${excerpt(`${message}${causeMessage}${code ? ` (${code})` : ''}`)}`;
}

function isDomException(value: unknown): boolean {
  return typeof DOMException !== 'undefined' && value instanceof DOMException;
}

/** Collapses whitespace and control characters and keeps at most ~200 characters. */
function excerpt(text: string): string {
  const flat = text.replace(/[\s\u0000-\u001f\u007f]+/g, ' ').trim();
  return flat.length > MAX_EXCERPT_CHARS ? `${flat.slice(0, MAX_EXCERPT_CHARS)}…` : flat;
}

/** Reads at most MAX_BODY_BYTES of an error response, for the reason; never throws. */
export async function readExcerpt(response: Response): Promise<string> {
  const reader = response.body?.getReader();
  if (reader === undefined) return '';
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    while (size < MAX_BODY_BYTES) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      size += value.byteLength;
    }
  } catch {
    // Timed out or reset mid-body: report what we have.
  } finally {
    reader.cancel().catch(() => undefined);
  }
  const joined = new Uint8Array(Math.min(size, MAX_BODY_BYTES));
  let offset = 0;
  for (const chunk of chunks) {
    const take = Math.min(chunk.byteLength, joined.byteLength - offset);
    joined.set(chunk.subarray(0, take), offset);
    offset += take;
    if (offset >= joined.byteLength) break;
  }
  return excerpt(new TextDecoder().decode(joined));
}

/** Releases the connection without reading a body we do not need. */
export async function discardBody(response: Response): Promise<void> {
  try {
    await response.body?.cancel();
  } catch {
    // Nothing to release.
  }
}
