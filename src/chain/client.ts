import { createPublicClient, defineChain, type PublicClient } from 'viem';
import type { ChainConfig } from '../config/env';
import { failoverEndpoints, type EndpointControl, type RpcStats } from './failover-transport';

/** The endpoints that proved their chain in this isolate, shared by the clients the objects and routes create. */
export const ISOLATE_PROVEN_CHAINS = new Set<string>();

export type ChainClient = { client: PublicClient; chain: ChainConfig; stats: RpcStats; endpoints: EndpointControl };

/**
 * A viem public client for one configured chain over the failover transport. viem's own
 * request batching stays off: batching is done explicitly with Multicall3 so one tick
 * costs a known number of requests.
 */
export function createChainClient(chain: ChainConfig, options: { timeoutMs?: number; fetchFn?: typeof fetch; provenChains?: Set<string> } = {}): ChainClient {
  const stats: RpcStats = { requests: 0, failovers: 0 };
  const viemChain = defineChain({
    id: chain.chainId,
    name: `chain-${chain.chainId}`,
    nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 },
    rpcUrls: { default: { http: [] } },
    contracts: { multicall3: { address: chain.multicall3 } },
  });
  const { transport, control } = failoverEndpoints({ chainId: chain.chainId, urls: chain.rpcUrls, timeoutMs: options.timeoutMs, fetchFn: options.fetchFn, stats, provenChains: options.provenChains });
  const client = createPublicClient({
    chain: viemChain,
    transport,
    batch: { multicall: false },
    cacheTime: 0,
  }) as PublicClient;
  return { client, chain, stats, endpoints: control };
}
