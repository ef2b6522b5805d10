import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startLocalChain, type LocalChain } from '../../tools/chain';
import { startAnvil, type AnvilInstance } from '../../tools/chain/anvil';
import { createChainClient } from '../../src/chain/client';
import { aaveV3Adapter } from '../../src/protocols/aave-v3';
import { readPositions } from '../../src/protocols/read-positions';
import { pinBlock } from '../../src/protocols/block-pin';
import { CANONICAL_MULTICALL3 } from '../../src/config/env';
import { findAppError } from '../../src/lib/find-app-error';

let chain: LocalChain;
let otherChain: AnvilInstance;
const servers: Server[] = [];

/** A real HTTP server on loopback that misbehaves in one chosen way. */
async function misbehavingRpc(kind: 'http500' | 'rpcError' | 'rateLimited' | 'hang'): Promise<string> {
  const server = createServer((request, response) => {
    request.resume();
    if (kind === 'hang') return;
    if (kind === 'http500') return void response.writeHead(500).end('upstream exploded');
    if (kind === 'rateLimited') return void response.writeHead(429, { 'retry-after': '1' }).end();
    response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ jsonrpc: '2.0', id: 1, error: { code: -32603, message: 'internal error: header not found' } }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  servers.push(server);
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/v2/SECRET-API-KEY`;
}

async function deadUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}`;
}

function read(urls: string[], timeoutMs = 1000) {
  const reader = createChainClient({ chainId: chain.chainId, rpcUrls: urls, multicall3: CANONICAL_MULTICALL3 }, { timeoutMs });
  const accounts = chain.accounts.slice(0, 3);
  return { reader, result: readPositions(aaveV3Adapter, { context: { client: reader.client, chainId: chain.chainId, multicall3: CANONICAL_MULTICALL3 }, market: { market: chain.market.pool, protocolAddress: null }, accounts, batchSize: 300 }) };
}

beforeAll(async () => {
  chain = await startLocalChain();
  otherChain = await startAnvil({ chainId: 1 });
}, 120_000);

afterAll(async () => {
  for (const server of servers) server.closeAllConnections?.(), server.close();
  await otherChain?.stop();
  await chain?.stop();
});

describe('RPC failover', () => {
  it('reads through a dead URL, an erroring one, a rate-limited one, a hung one and one on the wrong chain', async () => {
    const urls = [await deadUrl(), await misbehavingRpc('http500'), await misbehavingRpc('rpcError'), await misbehavingRpc('rateLimited'), await misbehavingRpc('hang'), otherChain.rpcUrl, chain.rpcUrl];
    const { reader, result } = read(urls, 500);
    const { reads } = await result;
    expect(reads).toHaveLength(3);
    expect(reads.every((entry) => 'snapshot' in entry)).toBe(true);
    expect(reader.stats.failovers).toBeGreaterThan(0);
    // The healthy endpoint is preferred from now on: the next tick goes straight to it.
    const before = reader.stats.requests;
    await pinBlock(reader.client);
    expect(reader.stats.requests - before).toBe(1);
  });

  it('refuses a node on the wrong chain and names the problem without leaking the URL path', async () => {
    const { result } = read([otherChain.rpcUrl, await misbehavingRpc('http500')]);
    const error = await result.catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: 'rpc_unavailable' });
    const message = (error as Error).message;
    expect(message).toContain('serves chain 1, expected 31337');
    expect(message).toContain('HTTP 500');
    expect(message).not.toContain('SECRET-API-KEY');
  });

  it('reports a lagging node instead of using its older block', async () => {
    const reader = createChainClient({ chainId: chain.chainId, rpcUrls: [chain.rpcUrl], multicall3: CANONICAL_MULTICALL3 });
    const current = await pinBlock(reader.client);
    await expect(pinBlock(reader.client, { minBlockNumber: current.number + 5n })).rejects.toMatchObject({ code: 'stale_block' });
    await expect(pinBlock(reader.client, { minBlockNumber: current.number })).resolves.toMatchObject({ number: current.number });
  });

  it('a client sharing the proven-chain set skips eth_chainId for an endpoint already proven, and never remembers one on the wrong chain', async () => {
    const proven = new Set<string>();
    const config = (urls: string[]) => ({ chainId: chain.chainId, rpcUrls: urls, multicall3: CANONICAL_MULTICALL3 });
    const first = createChainClient(config([chain.rpcUrl]), { timeoutMs: 1000, provenChains: proven });
    await first.client.getBlockNumber();
    expect(first.stats.requests).toBe(2); // eth_chainId, then the call
    const second = createChainClient(config([chain.rpcUrl]), { timeoutMs: 1000, provenChains: proven });
    await second.client.getBlockNumber();
    expect(second.stats.requests).toBe(1);
    const wrong = createChainClient(config([otherChain.rpcUrl]), { timeoutMs: 1000, provenChains: proven });
    const refused = await wrong.client.getBlockNumber().catch((error: unknown) => error);
    expect(findAppError(refused)?.code).toBe('rpc_wrong_chain');
    expect([...proven]).toEqual([`${chain.chainId} ${chain.rpcUrl}`]);
  });

  it('sends a read once more on the same endpoint when the connection breaks, and gives up on an endpoint that keeps breaking', async () => {
    let requests = 0;
    const flaky = createServer((request, response) => {
      requests += 1;
      // Every other request loses its connection before an answer, as a kept-alive socket closed by the node does.
      if (requests % 2 === 1) return void request.socket.destroy();
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', async () => {
        const upstream = await fetch(chain.rpcUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: Buffer.concat(chunks) });
        response.writeHead(200, { 'content-type': 'application/json' }).end(await upstream.text());
      });
    });
    await new Promise<void>((resolve) => flaky.listen(0, '127.0.0.1', resolve));
    servers.push(flaky);
    const url = `http://127.0.0.1:${(flaky.address() as AddressInfo).port}`;
    const reader = createChainClient({ chainId: chain.chainId, rpcUrls: [url], multicall3: CANONICAL_MULTICALL3 }, { timeoutMs: 2000 });
    await expect(reader.client.getBlockNumber()).resolves.toBeTypeOf('bigint');
    expect(reader.stats.requests).toBe(4); // eth_chainId lost then answered, eth_blockNumber lost then answered

    const broken = createServer((request) => void request.socket.destroy());
    await new Promise<void>((resolve) => broken.listen(0, '127.0.0.1', resolve));
    servers.push(broken);
    const dead = createChainClient({ chainId: chain.chainId, rpcUrls: [`http://127.0.0.1:${(broken.address() as AddressInfo).port}`], multicall3: CANONICAL_MULTICALL3 }, { timeoutMs: 2000 });
    const refused = await dead.client.getBlockNumber().catch((error: unknown) => error);
    expect(findAppError(refused)?.code).toBe('rpc_unavailable');
    expect(dead.stats.requests).toBe(2);
  });
});
