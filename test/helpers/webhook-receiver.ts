import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { generateWebhookSecret } from '../../src/notify/webhook-sender';

/**
 * A real HTTP webhook receiver on 127.0.0.1 for tests and the demo. Every request is
 * verified with standardwebhooks (`Webhook.verify`) and recorded, duplicates included, so
 * tests can assert exactly-once by counting ids. Bad signatures get 400 and are recorded
 * with `verified: false`.
 */

export type ReceivedEvent = {
  /** The `webhook-id` header ('' when missing). */
  id: string;
  /** The `webhook-timestamp` header as unix seconds (NaN when missing or malformed). */
  timestamp: number;
  /** The body parsed as JSON, or the raw text when it is not JSON. */
  body: unknown;
  rawBody: string;
  verified: boolean;
  /** Request path including the query string, e.g. "/hooks/a". */
  path: string;
  /** Lower-cased request headers. */
  headers: Record<string, string>;
  /** The status this receiver answered with (undefined while a request is held by 'hang'). */
  status: number | undefined;
  receivedAt: number;
};

export type ScriptedResponse = {
  /** An HTTP status, or 'hang' to accept the request and never answer it. */
  status: number | 'hang';
  headers?: Record<string, string>;
  body?: string;
  /** Only for a request to this path (without the query); absent: the next request, whatever its path. */
  path?: string;
};

export type WebhookReceiverOptions = {
  /** Secret to verify with, or one per request path. Default: a fresh generated secret. */
  secret?: string | ((path: string) => string);
};

export type WebhookReceiver = {
  /** Base URL, e.g. "http://127.0.0.1:43125/" (append a path for per-path secrets). */
  readonly url: string;
  readonly port: number;
  /** Every request received, in arrival order. */
  readonly events: ReceivedEvent[];
  /** The secret used to verify requests to `path` (default "/"). */
  secretFor(path?: string): string;
  setSecret(secret: string | ((path: string) => string)): void;
  /**
   * Queues the response for the next verified request (FIFO); unscripted requests get 200. With
   * `path`, only a request to that path takes it: other watches' deliveries, sent by alarms at
   * any moment, cannot use it up.
   */
  respondWith(status: number | 'hang', headers?: Record<string, string>, body?: string, path?: string): void;
  /** Resolves with all events once `pred(events)` holds; rejects after `timeoutMs`. */
  waitFor(pred: (events: ReceivedEvent[]) => boolean, timeoutMs: number): Promise<ReceivedEvent[]>;
  /** Stops listening and drops open connections: new connections are refused. */
  down(): Promise<void>;
  /** Listens again on the same port. */
  up(): Promise<void>;
  stop(): Promise<void>;
};

const MAX_REQUEST_BYTES = 1024 * 1024;

export async function startWebhookReceiver(options: WebhookReceiverOptions = {}): Promise<WebhookReceiver> {
  let secret: string | ((path: string) => string) = options.secret ?? generateWebhookSecret();
  const events: ReceivedEvent[] = [];
  const script: ScriptedResponse[] = [];
  const takeScripted = (pathname: string): ScriptedResponse | undefined => {
    const index = script.findIndex((entry) => entry.path === undefined || entry.path === pathname);
    return index === -1 ? undefined : script.splice(index, 1)[0];
  };
  const held = new Set<ServerResponse>();
  const listeners = new Set<() => void>();
  let listening = false;

  const secretFor = (path = '/'): string => (typeof secret === 'function' ? secret(path) : secret);

  const notify = (): void => {
    for (const listener of [...listeners]) listener();
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const rawBody = await readBody(req);
    const path = req.url ?? '/';
    const pathname = path.split('?')[0] ?? '/';
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(req.headers)) {
      if (value !== undefined) headers[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
    }

    let verified = false;
    try {
      new Webhook(secretFor(pathname)).verify(rawBody, headers, { jsonParse: false });
      verified = true;
    } catch {
      verified = false;
    }

    const event: ReceivedEvent = {
      id: headers['webhook-id'] ?? '',
      timestamp: parseTimestamp(headers['webhook-timestamp']),
      body: parseJson(rawBody),
      rawBody,
      verified,
      path,
      headers,
      status: undefined,
      receivedAt: Date.now(),
    };

    const reply: ScriptedResponse = verified
      ? (takeScripted(pathname) ?? { status: 200, headers: { 'content-type': 'text/plain' }, body: 'ok' })
      : { status: 400, headers: { 'content-type': 'text/plain' }, body: 'webhook signature verification failed' };

    if (reply.status === 'hang') {
      held.add(res);
      res.on('close', () => held.delete(res));
      events.push(event);
      notify();
      return;
    }
    event.status = reply.status;
    events.push(event);
    // No keep-alive: after down() the sender must see a refused connection, not a stale pooled socket.
    res.writeHead(reply.status, { connection: 'close', ...(reply.headers ?? {}) });
    res.end(reply.body ?? '');
    notify();
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) res.writeHead(500);
      res.end();
    });
  });

  const listen = (port: number): Promise<void> =>
    new Promise((resolve, reject) => {
      const onError = (error: Error): void => reject(error);
      server.once('error', onError);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', onError);
        listening = true;
        resolve();
      });
    });

  const close = (): Promise<void> =>
    new Promise((resolve) => {
      if (!listening) return resolve();
      listening = false;
      for (const res of held) res.destroy();
      held.clear();
      server.close(() => resolve());
      server.closeAllConnections();
    });

  await listen(0);
  const port = (server.address() as AddressInfo).port;

  return {
    url: `http://127.0.0.1:${port}/`,
    port,
    events,
    secretFor,
    setSecret(next) {
      secret = next;
    },
    respondWith(status, headers, body, path) {
      const entry: ScriptedResponse = { status };
      if (path !== undefined) entry.path = path;
      if (headers !== undefined) entry.headers = headers;
      if (body !== undefined) entry.body = body;
      script.push(entry);
    },
    waitFor(pred, timeoutMs) {
      return new Promise((resolve, reject) => {
        const check = (): boolean => {
          if (!pred(events)) return false;
          cleanup();
          resolve(events);
          return true;
        };
        const timer = setTimeout(() => {
          cleanup();
          const seen = events.map((e) => `${e.id || '(no id)'}:${e.status ?? 'held'}${e.verified ? '' : ':unverified'}`);
          reject(new Error(`webhook receiver: condition not met within ${timeoutMs} ms; received ${events.length} [${seen.join(', ')}]`));
        }, timeoutMs);
        const cleanup = (): void => {
          clearTimeout(timer);
          listeners.delete(listener);
        };
        const listener = (): void => {
          check();
        };
        listeners.add(listener);
        check();
      });
    },
    down: close,
    up: () => (listening ? Promise.resolve() : listen(port)),
    stop: close,
  };
}

export function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.byteLength;
      if (size > MAX_REQUEST_BYTES) {
        reject(new Error('request body too large'));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function parseTimestamp(value: string | undefined): number {
  return value !== undefined && /^\d+$/.test(value) ? Number(value) : Number.NaN;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
