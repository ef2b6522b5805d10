import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readBody } from './webhook-receiver';

/**
 * The frame of a local stand-in for a hosted service (Discord, Slack, ntfy, PagerDuty) on
 * 127.0.0.1: every request goes through the service's own `handle`, which enforces that
 * service's documented request shape and answers as the service would; each request is
 * recorded with the answer it got. Tests inside workerd drive it over HTTP under
 * `/__control/`, a path no real service uses:
 *   GET  /__control/requests   every request so far (method, path, headers, body, status)
 *   POST /__control/script     {status, headers?, body?}: the answer to the next well-formed request (FIFO)
 *   POST /__control/reset      forget requests and scripts
 * A scripted answer replaces the service's success only: a malformed request still gets the
 * service's own error, so a test can never pass on a request the real service would refuse.
 */

export type StandInRequest = { method: string; path: string; headers: Record<string, string>; rawBody: string };
export type StandInReply = { status: number; headers?: Record<string, string>; body?: string };
export type RecordedRequest = StandInRequest & { body: unknown; status: number; at: number };

/**
 * The service's rules: an error reply for a request it refuses, else its success reply and
 * what accepting it changes (`commit`, run only when that reply is really sent, not a scripted one).
 */
export type ServiceVerdict = { refused: StandInReply } | { accepted: StandInReply; commit?: () => void };
export type ServiceHandler = (request: StandInRequest) => ServiceVerdict;

export type ServiceStandIn = { url: string; requests: RecordedRequest[]; stop(): Promise<void> };

export function json(status: number, value: unknown, headers: Record<string, string> = {}): StandInReply {
  return { status, headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(value) };
}

export function parseJsonBody(rawBody: string): unknown {
  try {
    return JSON.parse(rawBody) as unknown;
  } catch {
    return undefined;
  }
}

/** Length in code points, as the services count characters. */
export function chars(text: string): number {
  return Array.from(text).length;
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export async function startServiceStandIn(handle: ServiceHandler, extraControl: Record<string, (body: Record<string, unknown>) => unknown> = {}): Promise<ServiceStandIn> {
  const requests: RecordedRequest[] = [];
  const script: StandInReply[] = [];

  const control: Record<string, (body: Record<string, unknown>) => unknown> = {
    'GET /__control/requests': () => requests.map(({ rawBody: _raw, ...request }) => request),
    'POST /__control/script': (body) => {
      script.push({ status: Number(body.status), headers: (body.headers as Record<string, string> | undefined) ?? {}, body: typeof body.body === 'string' ? body.body : '' });
      return { ok: true };
    },
    'POST /__control/reset': () => {
      requests.length = 0;
      script.length = 0;
      return { ok: true };
    },
    ...extraControl,
  };

  const server: Server = createServer((req, res) => {
    readBody(req)
      .then((rawBody) => {
        const path = req.url ?? '/';
        const controlRoute = control[`${req.method} ${path.split('?')[0]}`];
        let reply: StandInReply;
        if (controlRoute) {
          reply = json(200, controlRoute((parseJsonBody(rawBody) as Record<string, unknown> | undefined) ?? {}));
        } else if (path.startsWith('/__control/')) {
          reply = json(404, { error: 'no such control route' });
        } else {
          const headers: Record<string, string> = {};
          for (const [name, value] of Object.entries(req.headers)) if (value !== undefined) headers[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
          const request = { method: req.method ?? 'GET', path, headers, rawBody };
          const verdict = handle(request);
          const scripted = 'accepted' in verdict ? script.shift() : undefined;
          if ('refused' in verdict) reply = verdict.refused;
          else if (scripted) reply = scripted;
          else {
            verdict.commit?.();
            reply = verdict.accepted;
          }
          requests.push({ ...request, body: parseJsonBody(rawBody) ?? rawBody, status: reply.status, at: Date.now() });
        }
        res.writeHead(reply.status, { connection: 'close', ...(reply.headers ?? {}) });
        res.end(reply.body ?? '');
      })
      .catch(() => {
        if (!res.headersSent) res.writeHead(413, { connection: 'close' });
        res.end();
      });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
