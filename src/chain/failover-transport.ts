import { custom, type EIP1193RequestFn } from 'viem';
import { AppError } from '../lib/errors';
import { redactUrl } from './redact';

/** Statistics the benchmark and health checks read; counts HTTP requests actually sent. */
export type RpcStats = { requests: number; failovers: number };

export type FailoverOptions = {
  chainId: number;
  urls: string[];
  timeoutMs?: number;
  fetchFn?: typeof fetch;
  stats?: RpcStats;
};

type EndpointState = { url: string; label: string; chainVerified: boolean; wrongChain: number | undefined };

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

function isRevert(error: { code: number; message: string }): boolean {
  return error.code === 3 || /revert/i.test(error.message);
}

let nextId = 1;

/**
 * A viem transport over several RPC URLs of one chain. Each request goes to the last
 * endpoint that worked and falls over to the others on network errors, timeouts, HTTP
 * 429/5xx and JSON-RPC error envelopes; reverts are returned as they are. Every endpoint
 * proves its chain id (eth_chainId) before it is used; one on the wrong chain is refused.
 */
export function failoverTransport(options: FailoverOptions) {
  if (options.urls.length === 0) throw new AppError('no_rpc_urls', `no RPC URL configured for chain ${options.chainId}`);
  const endpoints: EndpointState[] = options.urls.map((url) => ({ url, label: redactUrl(url), chainVerified: false, wrongChain: undefined }));
  const timeoutMs = options.timeoutMs ?? 8000;
  const fetchFn = options.fetchFn ?? ((input, init) => fetch(input, init));
  const stats = options.stats ?? { requests: 0, failovers: 0 };
  let preferred = 0;

  async function post(endpoint: EndpointState, method: string, params: unknown): Promise<unknown> {
    const body = JSON.stringify({ jsonrpc: '2.0', id: nextId++, method, params: params ?? [] });
    stats.requests += 1;
    let response: Response;
    try {
      response = await fetchFn(endpoint.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (error) {
      const timedOut = error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError');
      throw new EndpointError(timedOut ? `timed out after ${timeoutMs} ms` : 'unreachable');
    }
    if (!response.ok) {
      await response.body?.cancel();
      throw new EndpointError(response.status === 429 ? 'rate limited (429)' : `HTTP ${response.status}`);
    }
    let payload: JsonRpcResponse;
    try {
      payload = (await response.json()) as JsonRpcResponse;
    } catch {
      throw new EndpointError('answered with something other than JSON-RPC');
    }
    if (payload.error) {
      if (isRevert(payload.error)) throw new RpcCallError(payload.error.code, payload.error.message, payload.error.data);
      throw new EndpointError(`JSON-RPC error ${payload.error.code}: ${payload.error.message.slice(0, 160)}`);
    }
    if (!('result' in payload)) throw new EndpointError('answered without a result');
    return payload.result;
  }

  async function verifyChain(endpoint: EndpointState): Promise<void> {
    if (endpoint.chainVerified) return;
    const result = await post(endpoint, 'eth_chainId', []);
    const actual = typeof result === 'string' ? Number.parseInt(result, 16) : Number.NaN;
    if (actual !== options.chainId) {
      endpoint.wrongChain = actual;
      throw new EndpointError(`serves chain ${Number.isNaN(actual) ? 'unknown' : actual}, expected ${options.chainId}`);
    }
    endpoint.chainVerified = true;
  }

  const request = (async ({ method, params }) => {
    const reasons: string[] = [];
    for (let step = 0; step < endpoints.length; step++) {
      const index = (preferred + step) % endpoints.length;
      const endpoint = endpoints[index]!;
      if (endpoint.wrongChain !== undefined) {
        reasons.push(`${endpoint.label}: serves chain ${endpoint.wrongChain}, expected ${options.chainId}`);
        continue;
      }
      try {
        await verifyChain(endpoint);
        const result = await post(endpoint, method, params);
        if (step > 0) stats.failovers += 1;
        preferred = index;
        return result;
      } catch (error) {
        if (error instanceof RpcCallError) throw error;
        reasons.push(`${endpoint.label}: ${error instanceof Error ? error.message : 'failed'}`);
      }
    }
    throw new AppError('rpc_unavailable', `every RPC endpoint of chain ${options.chainId} failed for ${method}: ${reasons.join('; ')}`, { status: 502 });
  }) as EIP1193RequestFn;

  return custom({ request }, { retryCount: 0, key: 'failover', name: 'Failover RPC' });
}
