import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createPublicClient, type PublicClient } from 'viem';
import { startLocalChain, type LocalChain } from '../../tools/chain';
import { createChainClient } from '../../src/chain/client';
import { failoverEndpoints } from '../../src/chain/failover-transport';
import { aaveV3Adapter, loadMarketMeta } from '../../src/protocols/aave-v3';
import { readPositions } from '../../src/protocols/read-positions';
import { CANONICAL_MULTICALL3 } from '../../src/config/env';
import { handleRpcProxy, rpcCounts } from '../helpers/topup-control';
import { findAppError } from '../../src/lib/find-app-error';
import { receiptOf, simulateStep, simulateSteps } from '../../src/topup/chain';
import { aavePoolAbi } from '../../src/protocols/aave-v3/abi';
import { keccak256, parseEther, toHex } from 'viem';

/*
 * The chain reads against a misbehaving JSON-RPC proxy (test/helpers/topup-control.ts) in
 * front of a real anvil with real Aave v3: frozen heads, one reverting account, gas-cap
 * refusals, and rate limits with retry-after.
 */

let chain: LocalChain;
let proxyServer: Server;
let proxyBase: string;
const servers: Server[] = [];

beforeAll(async () => {
  chain = await startLocalChain();
  proxyServer = createServer((request, response) => {
    const path = (request.url ?? '/').split('?')[0]!;
    handleRpcProxy(chain, request, response, path).catch((error: unknown) => {
      response.writeHead(500).end(String(error));
    });
  });
  await new Promise<void>((resolve) => proxyServer.listen(0, '127.0.0.1', resolve));
  proxyBase = `http://127.0.0.1:${(proxyServer.address() as AddressInfo).port}/rpc`;
}, 120_000);

afterAll(async () => {
  for (const server of [proxyServer, ...servers]) server?.closeAllConnections?.(), server?.close();
  await chain?.stop();
});

function reader(urls: string[]) {
  return createChainClient({ chainId: chain.chainId, rpcUrls: urls, multicall3: CANONICAL_MULTICALL3 }, { timeoutMs: 2000 });
}

function read(client: ReturnType<typeof reader>, accounts = chain.accounts.slice(0, 3), batchSize = 300, minBlockNumber?: bigint) {
  return readPositions(aaveV3Adapter, {
    context: { client: client.client, chainId: chain.chainId, multicall3: CANONICAL_MULTICALL3 },
    market: { market: chain.market.pool, protocolAddress: null },
    accounts,
    batchSize,
    endpoints: client.endpoints,
    minBlockNumber,
  });
}

describe('frozen RPC node', () => {
  it('fails over from a node frozen at an old block to the healthy one, and reads at the real head with its own time', async () => {
    const frozenAt = await chain.publicClient.getBlockNumber();
    await chain.actions.mine(11);
    const head = await chain.publicClient.getBlock();
    const client = reader([`${proxyBase}/frozen/${frozenAt}/3600`, chain.rpcUrl]);
    const { block, reads } = await read(client);
    expect(block).toMatchObject({ number: head.number, timestamp: head.timestamp, fresh: true, staleReason: null });
    expect(reads.every((entry) => 'snapshot' in entry && entry.snapshot.blockNumber === head.number)).toBe(true);
    expect(client.endpoints.current()).toBe(new URL(chain.rpcUrl).origin);
    // The frozen endpoint now waits behind the healthy one: the next round goes straight there, in one multicall.
    const before = client.stats.requests;
    await read(client);
    expect(client.stats.requests - before).toBe(1);
  });

  it('with only frozen endpoints, reads the newest head it can get and says it is not fresh', async () => {
    const frozenAt = await chain.publicClient.getBlockNumber();
    const client = reader([`${proxyBase}/frozen/${frozenAt}/3600`, `${proxyBase}/frozen/${frozenAt - 1n}/3600`]);
    const { block, reads } = await read(client);
    expect(block.number).toBe(frozenAt);
    expect(block.fresh).toBe(false);
    expect(block.staleReason).toContain('stopped following the chain');
    expect(reads).toHaveLength(3);
  });

  it('refuses a head that went backwards behind a block already seen', async () => {
    const frozenAt = await chain.publicClient.getBlockNumber();
    const head = await chain.publicClient.getBlock();
    const client = reader([`${proxyBase}/frozen/${frozenAt - 2n}/0`]);
    await expect(read(client, undefined, 300, head.number)).rejects.toMatchObject({ code: 'stale_block' });
  });
});

describe('failing reads', () => {
  it('one reverting account fails only its own read', async () => {
    const accounts = chain.accounts.slice(0, 4);
    const victim = accounts[2]!;
    const { reads } = await read(reader([`${proxyBase}/revert-for/${victim}`]), accounts);
    expect(reads.map((entry) => 'error' in entry)).toEqual([false, false, true, false]);
    expect(reads[2]).toMatchObject({ account: victim, error: expect.stringContaining('getUserAccountData failed') });
  });

  it('a batch refused for gas is split in halves until the node takes it, and every account is read', async () => {
    const accounts = chain.accounts.slice(0, 10);
    const { reads } = await read(reader([`${proxyBase}/gas-cap/3/split`]), accounts, 10);
    expect(reads.every((entry) => 'snapshot' in entry)).toBe(true);
    expect(reads.map((entry) => entry.account)).toEqual(accounts);
    // The pinning call at `latest` (10 + the 2 head calls) is refused: the head is pinned alone (1 accepted),
    // then the 10 at that block: 10 → 5+5 → 3+2+3+2 (3 more refusals, 4 accepted).
    expect(rpcCounts('split')).toEqual({ refused: 4, aggregate3: 5 });
  });

  it('a 429 endpoint is skipped until its retry-after has passed, and the next URL answers meanwhile', async () => {
    let clock = 1_000_000;
    const { transport } = failoverEndpoints({ chainId: chain.chainId, urls: [`${proxyBase}/limited/120/limited`, chain.rpcUrl], now: () => clock });
    const client = createPublicClient({ transport }) as PublicClient;
    await client.getBlockNumber();
    expect(rpcCounts('limited')).toEqual({ http429: 1 });
    clock += 119_000;
    await client.getBlockNumber();
    await client.getBlockNumber();
    expect(rpcCounts('limited')).toEqual({ http429: 1 });
    clock += 2_000;
    // Past retry-after it is tried again only if the healthy endpoint fails: the healthy one stays preferred.
    await client.getBlockNumber();
    expect(rpcCounts('limited')).toEqual({ http429: 1 });
  });

  it('when every endpoint is rate limited, says until when without asking them again', async () => {
    const client = reader([`${proxyBase}/limited/60/alone`]);
    const first = await client.client.getBlockNumber().catch((caught: unknown) => findAppError(caught));
    expect(first).toMatchObject({ code: 'rpc_unavailable', message: expect.stringContaining('rate limited (429), skipped for 60 s') });
    const second = await client.client.getBlockNumber().catch((caught: unknown) => findAppError(caught));
    expect(second).toMatchObject({ code: 'rpc_unavailable', message: expect.stringContaining('rate limited until') });
    expect(rpcCounts('alone')).toEqual({ http429: 1 });
  });
});

describe('market checks on a node that is down for one call', () => {
  it('an Aave Pool whose addresses provider cannot be asked (HTTP 503) is rpc_unavailable, a 502 to retry, not invalid_market', async () => {
    const provider = await chain.publicClient.readContract({ address: chain.market.pool, abi: aavePoolAbi, functionName: 'ADDRESSES_PROVIDER' });
    const client = reader([`${proxyBase}/down-for/${provider}`]);
    const context = { client: client.client, chainId: chain.chainId, multicall3: CANONICAL_MULTICALL3 };
    // Read afresh: the market's facts are cached per process once read.
    const thrown = await loadMarketMeta(context, chain.market.pool, { refresh: true }).then(() => undefined, (caught: unknown) => findAppError(caught));
    expect(thrown).toMatchObject({ code: 'rpc_unavailable', status: 502 });
    // Through a node that answers, the same Pool loads.
    await expect(loadMarketMeta({ ...context, client: reader([`${proxyBase}/forward`]).client }, chain.market.pool, { refresh: true })).resolves.toBeDefined();
  });
});

describe('top-up simulation and receipts on nodes that differ', () => {
  const from = () => chain.accounts[5]!;
  const payment = (value: bigint) => ({ kind: 'supply' as const, to: chain.accounts[6]!, data: '0x' as const, value });

  it('a node without eth_simulateV1 (-32601) is told apart: unsupported, so steps are checked one at a time', async () => {
    const client = reader([`${proxyBase}/no-simulate`]);
    expect(await simulateSteps(client.client, from(), [payment(1n)])).toEqual({ ok: 'unsupported' });
  });

  it('a refused simulation on a node that has eth_simulateV1 is a failed step, not "unsupported", though the error quotes the method', async () => {
    const client = reader([`${proxyBase}/forward`]);
    const balance = await chain.publicClient.getBalance({ address: from() });
    const result = await simulateSteps(client.client, from(), [payment(balance + parseEther('1'))]);
    expect(result).toMatchObject({ ok: false, step: 0 });
    expect(await simulateSteps(client.client, from(), [payment(1n)])).toMatchObject({ ok: true });
  });

  it('a simulation no node could be asked (the only endpoint refuses connections) throws rpc_unavailable, so the action waits for the next pass instead of failing as a revert', async () => {
    const client = reader(['http://127.0.0.1:9']);
    const thrown = await simulateSteps(client.client, from(), [payment(1n)]).then(() => undefined, (caught: unknown) => findAppError(caught));
    expect(thrown).toMatchObject({ code: 'rpc_unavailable', everyEndpointAnswered: false });
    const single = await simulateStep(client.client, from(), payment(1n)).then(() => undefined, (caught: unknown) => findAppError(caught));
    expect(single).toMatchObject({ code: 'rpc_unavailable' });
    // The node that answers with a refusal is still a verdict: a failed step.
    const refused = await simulateStep(reader([`${proxyBase}/forward`]).client, from(), payment(parseEther('1000000000')));
    expect(refused).toMatchObject({ ok: false });
  });

  it('a transaction the node does not know has no receipt (null), by viem\'s own error class', async () => {
    const client = reader([`${proxyBase}/forward`]);
    expect(await receiptOf(client.client, keccak256(toHex('no such transaction')))).toBeNull();
  });
});
