import { custom, type EIP1193RequestFn } from 'viem';
import { AppError } from '../lib/errors';
import { redactUrl } from './redact';
import { classifyRpcError, retryAfterMs } from './rpc-errors';
import { withTimeout } from '../lib/timeout';

/** Statistics the benchmark and health checks read; counts HTTP requests actually sent. */
export type RpcStats = { requests: number; failovers: number };

export type FailoverOptions = {
  chainId: number;
  urls: string[];
  timeoutMs?: number;
  fetchFn?: typeof fetch;
  stats?: RpcStats;
  /** The clock rate limits and demotions are measured against (tests move it). */
  now?: () => number;
  /**
   * Endpoints ("chainId url") that already proved their chain in this isolate. Durable Objects are
   * evicted between alarms and build a new client when they wake; sharing this set spares every
   * round (and every API request) the eth_chainId check. An endpoint seen on the wrong chain is never added.
   */
  provenChains?: Set<string>;
};

type EndpointState = {
  url: string;
  label: string;
  chainVerified: boolean;
  wrongChain: number | undefined;
  /** Rate limited (429): not asked at all before this time. */
  skipUntil: number;
  /** Serving a stale head: asked only after every other endpoint, until this time. */
  demotedUntil: number;
};

/**
 * What the block pin needs from the transport besides requests: which endpoint answered
 * last, and a way to put it behind the others when its head turned out stale.
 */
export type EndpointControl = {
  /** The redacted label of the endpoint that answered the last request. */
  current(): string;
  /** How many endpoints could be asked right now (not rate limited, not on the wrong chain). */
  usable(): number;
  /** Puts the endpoint that answered last behind every other one for `ms`. */
  demoteCurrent(ms: number): void;
};

type JsonRpcResponse = { jsonrpc: '2.0'; id: number; result?: unknown; error?: { code: number; message: string; data?: unknown } };

/** An answer about the request itself (a revert): the same on every node, so never failed over. */
class RpcCallError extends Error {
  readonly code: number;
  readonly data: unknown;
  constructor(code: number, message: string, data: unknown) {
    super(message);
    this.name = 'RpcCallError';
    this.code = code;
    this.data = data;
  }
}

/** A problem with one endpoint (down, slow, rate limited, broken): try the next one. */
class EndpointError extends Error {}

/** The endpoint answered the request with a JSON-RPC error we cannot tell from its text is the call's own fault. */
class AnsweredWithError extends EndpointError {}

/**
 * No endpoint gave a result. `everyEndpointAnswered`: each one tried answered with a JSON-RPC
 * error (none was unreachable, timed out or rate limited), so the request itself is likely what
 * they refuse (e.g. a simulated transfer beyond the sender's balance), not an outage.
 */
export class RpcUnavailableError extends AppError {
  readonly everyEndpointAnswered: boolean;
  constructor(message: string, everyEndpointAnswered: boolean, cause: unknown) {
    super('rpc_unavailable', message, { status: 502, cause });
    this.everyEndpointAnswered = everyEndpointAnswered;
  }
}

/** The endpoint does not serve the method asked for (another one may). */
class MethodUnavailable extends EndpointError {}

/** The connection failed or broke mid-answer (e.g. a kept-alive socket the node had just closed): worth one more try. */
class ConnectionLost extends EndpointError {}

const MAX_RETRY_AFTER_MS = 10 * 60_000;
const DEFAULT_RETRY_AFTER_MS = 30_000;

let nextId = 1;

/**
 * A viem transport (and its endpoint control) over several RPC URLs of one chain. Each request goes to the last
 * endpoint that worked and falls over to the others on network errors, timeouts, HTTP
 * 429/5xx and JSON-RPC error envelopes; reverts are returned as they are, and a call
 * refused for its gas is an `rpc_call_too_large` AppError (the caller splits it). An
 * endpoint answering 429 is skipped until its `retry-after` has passed. Every endpoint
 * proves its chain id (eth_chainId) once before it is used; one on the wrong chain is refused.
 */
export function failoverEndpoints(options: FailoverOptions): { transport: ReturnType<typeof custom>; control: EndpointControl } {
  if (options.urls.length === 0) throw new AppError('no_rpc_urls', `no RPC URL configured for chain ${options.chainId}`);
  const endpoints: EndpointState[] = options.urls.map((url) => ({ url, label: redactUrl(url), chainVerified: false, wrongChain: undefined, skipUntil: 0, demotedUntil: 0 }));
  const timeoutMs = options.timeoutMs ?? 8000;
  const fetchFn = options.fetchFn ?? ((input, init) => fetch(input, init));
  const stats = options.stats ?? { requests: 0, failovers: 0 };
  const now = options.now ?? Date.now;
  let preferred = 0;
  let lastAnswered = 0;

  async function post(endpoint: EndpointState, method: string, params: unknown): Promise<unknown> {
    const body = JSON.stringify({ jsonrpc: '2.0', id: nextId++, method, params: params ?? [] });
    stats.requests += 1;
    return withTimeout(timeoutMs, async (signal) => {
      let response: Response;
      try {
        response = await fetchFn(endpoint.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body,
          signal,
        });
      } catch (error) {
        const timedOut = error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError');
        if (timedOut) throw new EndpointError(`timed out after ${timeoutMs} ms`, { cause: error });
        throw new ConnectionLost('unreachable', { cause: error });
      }
      if (!response.ok) {
        await response.body?.cancel();
        if (response.status === 429) {
          const wait = Math.min(MAX_RETRY_AFTER_MS, retryAfterMs(response.headers.get('retry-after'), now()) ?? DEFAULT_RETRY_AFTER_MS);
          endpoint.skipUntil = now() + wait;
          throw new EndpointError(`rate limited (429), skipped for ${Math.ceil(wait / 1000)} s`);
        }
        throw new EndpointError(`HTTP ${response.status}`);
      }
      let payload: JsonRpcResponse;
      try {
        payload = (await response.json()) as JsonRpcResponse;
      } catch (error) {
        throw new ConnectionLost('answered with something other than JSON-RPC', { cause: error });
      }
      if (payload.error) {
        const kind = classifyRpcError(payload.error);
        if (kind === 'revert') throw new RpcCallError(payload.error.code, payload.error.message, payload.error.data);
        if (kind === 'gas') throw new AppError('rpc_call_too_large', `the node refused the call for its gas: ${payload.error.message.slice(0, 160)}`, { status: 502 });
        if (kind === 'method') throw new MethodUnavailable(`does not serve ${method} (JSON-RPC error ${payload.error.code})`);
        throw new AnsweredWithError(`JSON-RPC error ${payload.error.code}: ${payload.error.message.slice(0, 160)}`);
      }
      if (!('result' in payload)) throw new EndpointError('answered without a result');
      return payload.result;
    });
  }

  /**
   * A read is sent once more on the same endpoint when its connection was lost; a transaction
   * is not (its sender decides about resends, knowing the nonce and the hash).
   */
  async function postRetryingLostConnection(endpoint: EndpointState, method: string, params: unknown): Promise<unknown> {
    try {
      return await post(endpoint, method, params);
    } catch (error) {
      if (!(error instanceof ConnectionLost) || method === 'eth_sendRawTransaction') throw error;
      return post(endpoint, method, params);
    }
  }

  async function verifyChain(endpoint: EndpointState): Promise<void> {
    if (endpoint.chainVerified) return;
    const proofKey = `${options.chainId} ${endpoint.url}`;
    if (options.provenChains?.has(proofKey)) {
      endpoint.chainVerified = true;
      return;
    }
    const result = await postRetryingLostConnection(endpoint, 'eth_chainId', []);
    const actual = typeof result === 'string' ? Number.parseInt(result, 16) : Number.NaN;
    if (actual !== options.chainId) {
      endpoint.wrongChain = actual;
      throw new EndpointError(`serves chain ${Number.isNaN(actual) ? 'unknown' : actual}, expected ${options.chainId}`);
    }
    endpoint.chainVerified = true;
    options.provenChains?.add(proofKey);
  }

  /** From the preferred endpoint on, demoted ones last: the order one request tries them in. */
  function attemptOrder(): number[] {
    const rotation = endpoints.map((_, step) => (preferred + step) % endpoints.length);
    const at = now();
    return [...rotation.filter((index) => endpoints[index]!.demotedUntil <= at), ...rotation.filter((index) => endpoints[index]!.demotedUntil > at)];
  }

  const request = (async ({ method, params }) => {
    const reasons: string[] = [];
    let attempted = 0;
    let lackedMethod = 0;
    let answeredWithError = 0;
    let lastFailure: unknown;
    for (const index of attemptOrder()) {
      const endpoint = endpoints[index]!;
      if (endpoint.wrongChain !== undefined) {
        reasons.push(`${endpoint.label}: serves chain ${endpoint.wrongChain}, expected ${options.chainId}`);
        continue;
      }
      if (endpoint.skipUntil > now()) {
        reasons.push(`${endpoint.label}: rate limited until ${new Date(endpoint.skipUntil).toISOString()}`);
        continue;
      }
      try {
        await verifyChain(endpoint);
        const result = await postRetryingLostConnection(endpoint, method, params);
        if (attempted > 0) stats.failovers += 1;
        if (endpoint.demotedUntil <= now()) preferred = index;
        lastAnswered = index;
        return result;
      } catch (error) {
        if (error instanceof RpcCallError || error instanceof AppError) throw error;
        attempted += 1;
        lastFailure = error;
        if (error instanceof MethodUnavailable) lackedMethod += 1;
        if (error instanceof AnsweredWithError) answeredWithError += 1;
        reasons.push(`${endpoint.label}: ${error instanceof Error ? error.message : 'failed'}`);
      }
    }
    const summary = `every RPC endpoint of chain ${options.chainId} failed for ${method}: ${reasons.join('; ')}`;
    // Only a configuration change helps when every endpoint serves another chain: a code of its own.
    if (endpoints.every((endpoint) => endpoint.wrongChain !== undefined)) throw new AppError('rpc_wrong_chain', summary, { status: 502, cause: lastFailure });
    // Every endpoint that answered lacks the method: a caller with another way (the top-up's step-by-step checks) takes it.
    if (attempted > 0 && lackedMethod === attempted) throw new AppError('rpc_method_unsupported', summary, { status: 502, cause: lastFailure });
    throw new RpcUnavailableError(summary, attempted > 0 && answeredWithError === attempted && reasons.length === attempted, lastFailure);
  }) as EIP1193RequestFn;

  const control: EndpointControl = {
    current: () => endpoints[lastAnswered]!.label,
    usable: () => endpoints.filter((endpoint) => endpoint.wrongChain === undefined && endpoint.skipUntil <= now()).length,
    demoteCurrent: (ms) => {
      endpoints[lastAnswered]!.demotedUntil = now() + ms;
      if (preferred === lastAnswered) preferred = (lastAnswered + 1) % endpoints.length;
    },
  };
  return { transport: custom({ request }, { retryCount: 0, key: 'failover', name: 'Failover RPC' }), control };
}
