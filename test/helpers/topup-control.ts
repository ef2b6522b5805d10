import type { IncomingMessage, ServerResponse } from 'node:http';
import { decodeFunctionData, decodeFunctionResult, encodeAbiParameters, encodeFunctionData, encodeFunctionResult, keccak256, multicall3Abi, parseAbi, parseTransaction, parseUnits, toHex, type Address, type Hex } from 'viem';
import { MULTICALL3_ADDRESS, type AaveMarket, type LocalChain, type ReserveSymbol } from '../../tools/chain';
import { deployAaveMarket } from '../../tools/chain/aave';
import { sendContractTx } from '../../tools/chain/actions';

/*
 * Control routes for the auto-top-up tests (mounted by control-server.ts), and a JSON-RPC
 * proxy in front of anvil that misbehaves on request, so the executor meets real HTTP
 * endpoints that lag, serve another chain, or accept transactions that never reach a block.
 */

const configuratorAbi = parseAbi(['function setReserveFreeze(address asset, bool freeze)']);
const tokenAbi = parseAbi(['function balanceOf(address) view returns (uint256)', 'function allowance(address owner, address spender) view returns (uint256)', 'function approve(address spender, uint256 amount) returns (bool)']);

type Route = (body: Record<string, unknown>) => Promise<unknown>;

export function topUpControlRoutes(chain: LocalChain): Record<string, Route> {
  const reserve = (symbol: unknown) => chain.market.reserves[symbol as ReserveSymbol];
  let impostor: AaveMarket | undefined;
  return {
    /**
     * An attacker's own market: Aave's real bytecode deployed again under the attacker's own
     * PoolAddressesProvider, so it answers every Pool call exactly like the real one.
     */
    'POST /topup/impostor-market': async () => {
      impostor ??= await deployAaveMarket(chain.clients, { marketId: 'Attacker Market' });
      return { pool: impostor.pool, reserves: Object.fromEntries(Object.values(impostor.reserves).map((info) => [info.symbol, { asset: info.asset, decimals: info.decimals }])) };
    },
    /** The market's addresses, so tests can name reserves in policies. */
    'GET /topup/market': async () => ({
      pool: chain.market.pool,
      reserves: Object.fromEntries(Object.values(chain.market.reserves).map((info) => [info.symbol, { asset: info.asset, decimals: info.decimals, aToken: info.aToken }])),
    }),
    /** Mints a reserve's test token to an address (the executor wallet). */
    'POST /topup/mint': async (body) => {
      const info = reserve(body.symbol);
      await chain.actions.mint(info.asset, body.to as Address, parseUnits(String(body.amount), info.decimals));
      return { ok: true };
    },
    /** Transactions an address has sent: confirmed and including the pool. */
    'POST /topup/nonce': async (body) => {
      const address = body.address as Address;
      const [latest, pending] = await Promise.all([
        chain.publicClient.getTransactionCount({ address, blockTag: 'latest' }),
        chain.publicClient.getTransactionCount({ address, blockTag: 'pending' }),
      ]);
      return { latest, pending };
    },
    /** Token balance (or aToken balance with aToken: true) and the Pool allowance of an address. */
    'POST /topup/balance': async (body) => {
      const info = reserve(body.symbol);
      const address = body.address as Address;
      const token = body.aToken ? info.aToken : info.asset;
      const [balance, allowance] = await Promise.all([
        chain.publicClient.readContract({ address: token, abi: tokenAbi, functionName: 'balanceOf', args: [address] }),
        chain.publicClient.readContract({ address: info.asset, abi: tokenAbi, functionName: 'allowance', args: [address, chain.market.pool] }),
      ]);
      return { balance: balance.toString(), allowance: allowance.toString() };
    },
    /** Sets every allowance `owner` gave the Pool back to 0 (anvil's accounts are unlocked), so a test starts without a leftover approval. */
    'POST /topup/reset-allowances': async (body) => {
      const owner = body.owner as Address;
      for (const info of Object.values(chain.market.reserves)) {
        const allowance = await chain.publicClient.readContract({ address: info.asset, abi: tokenAbi, functionName: 'allowance', args: [owner, chain.market.pool] });
        if (allowance > 0n) await sendContractTx(chain.clients, owner, { address: info.asset, abi: tokenAbi, functionName: 'approve', args: [chain.market.pool, 0n] });
      }
      return { ok: true };
    },
    /** JSON-RPC calls counted through `/rpc/count/<label>`. */
    'POST /topup/rpc-counts': async (body) => rpcCounts(String(body.label)),
    /** Freezes or unfreezes a reserve (PoolConfigurator, as the market admin): supplies then revert with Aave error 28. */
    'POST /topup/freeze': async (body) => {
      await sendContractTx(chain.clients, chain.market.admin, {
        address: chain.market.poolConfigurator,
        abi: configuratorAbi,
        functionName: 'setReserveFreeze',
        args: [reserve(body.symbol).asset, Boolean(body.frozen)],
      });
      return { ok: true };
    },
  };
}

/**
 * `POST /rpc/<mode>`: a JSON-RPC endpoint in front of anvil.
 *   /rpc/forward     passes everything through
 *   /rpc/swallow     answers eth_sendRawTransaction with the hash but never forwards it (a
 *                    transaction a node accepted and dropped: it never reaches a block)
 *   /rpc/swallow-to/<address>  the same, only for transactions sent to that address (one
 *                    tenant's token); everything else passes through
 *   /rpc/lag/<n>     reports the chain n blocks behind its tip (eth_blockNumber, latest block)
 *   /rpc/chain/<id>  answers eth_chainId with another chain id
 *   /rpc/no-simulate  a node without eth_simulateV1 (-32601, as geth answers an unknown method)
 *   /rpc/count/<label>  passes everything through and counts the calls by method under
 *                    `label` (POST /topup/rpc-counts {label} reads them)
 *   /rpc/frozen/<n>/<seconds>  a node that stopped following the chain: its head is block n,
 *                    dated `seconds` earlier than the block really is (in eth_getBlockByNumber and in
 *                    Multicall3's getCurrentBlockTimestamp); calls at 'latest' run at n
 *   /rpc/revert-for/<address>  every Multicall3 sub-call whose arguments name the address
 *                    reverts for real (sent to a contract without that function)
 *   /rpc/gas-cap/<calls>/<label>  refuses, like a node's gas cap, any Multicall3 call of more
 *                    than `calls` sub-calls (counted under `label`)
 *   /rpc/limited/<seconds>/<label>  answers HTTP 429 with retry-after: <seconds> (counted)
 *   /rpc/slow/<ms>/<label>  passes everything through after `ms`, counting eth_call under `label`
 */
export async function handleRpcProxy(chain: LocalChain, request: IncomingMessage, response: ServerResponse, path: string): Promise<void> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  const payload = JSON.parse(Buffer.concat(chunks).toString('utf8')) as RpcRequest | RpcRequest[];
  const [, , mode = 'forward', argument = '0', extra = ''] = path.split('/');
  if (mode === 'limited') {
    count(extra, 'http429');
    response.writeHead(429, { 'retry-after': argument, connection: 'close' });
    response.end('rate limited');
    return;
  }
  // A node that goes down for one contract's calls: HTTP 503 to an eth_call to `argument`, the rest forwarded.
  if (mode === 'down-for' && !Array.isArray(payload) && payload.method === 'eth_call' && ((payload.params?.[0] as { to?: string } | undefined)?.to ?? '').toLowerCase() === argument.toLowerCase()) {
    response.writeHead(503, { connection: 'close' });
    response.end('down');
    return;
  }
  const answer = Array.isArray(payload) ? await Promise.all(payload.map((one) => proxyOne(chain, mode, argument, extra, one))) : await proxyOne(chain, mode, argument, extra, payload);
  response.writeHead(200, { 'content-type': 'application/json', connection: 'close' });
  response.end(JSON.stringify(answer));
}

const counts = new Map<string, Record<string, number>>();

function count(label: string, method: string): void {
  const byMethod = counts.get(label) ?? {};
  byMethod[method] = (byMethod[method] ?? 0) + 1;
  counts.set(label, byMethod);
}

/** Calls counted by `/rpc/count/<label>`, by JSON-RPC method (a batch counts each call). */
export function rpcCounts(label: string): Record<string, number> {
  return counts.get(label) ?? {};
}

type RpcRequest = { jsonrpc: '2.0'; id: number | string; method: string; params?: unknown[] };

async function forward(chain: LocalChain, request: RpcRequest): Promise<{ result?: unknown; error?: unknown }> {
  const upstream = await fetch(chain.rpcUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(request) });
  return (await upstream.json()) as { result?: unknown; error?: unknown };
}

type CallParams = [{ to?: string; data?: Hex; input?: Hex } & Record<string, unknown>, ...unknown[]];

/** The Multicall3 aggregate3 sub-calls of an eth_call, when it is one. */
function aggregate3Calls(request: RpcRequest): Array<{ target: Address; allowFailure: boolean; callData: Hex }> | undefined {
  if (request.method !== 'eth_call') return undefined;
  const [call] = (request.params ?? []) as CallParams;
  const data = call?.data ?? call?.input;
  if (!data || !data.startsWith('0x82ad56cb')) return undefined;
  const decoded = decodeFunctionData({ abi: multicall3Abi, data });
  return [...(decoded.args[0] as ReadonlyArray<{ target: Address; allowFailure: boolean; callData: Hex }>)];
}

function withAggregate3Calls(request: RpcRequest, calls: Array<{ target: Address; allowFailure: boolean; callData: Hex }>): RpcRequest {
  const [call, ...rest] = (request.params ?? []) as CallParams;
  const data = encodeFunctionData({ abi: multicall3Abi, functionName: 'aggregate3', args: [calls] });
  const { input: _input, ...withoutInput } = call;
  return { ...request, params: [{ ...withoutInput, data }, ...rest] };
}

const GET_CURRENT_BLOCK_TIMESTAMP = '0x0f28c97d';

/** Moves Multicall3's getCurrentBlockTimestamp answers inside an aggregate3 result `seconds` back. */
function backdateBlockTimestamps(request: RpcRequest, answer: { result?: unknown; error?: unknown }, seconds: bigint): unknown {
  const calls = aggregate3Calls(request);
  if (!calls || typeof answer.result !== 'string') return answer;
  const results = decodeFunctionResult({ abi: multicall3Abi, functionName: 'aggregate3', data: answer.result as Hex }) as ReadonlyArray<{ success: boolean; returnData: Hex }>;
  const moved = results.map((result, index) =>
    calls[index]!.callData.toLowerCase() === GET_CURRENT_BLOCK_TIMESTAMP && result.success
      ? { ...result, returnData: encodeAbiParameters([{ type: 'uint256' }], [BigInt(result.returnData) - seconds]) }
      : result,
  );
  return { ...answer, result: encodeFunctionResult({ abi: multicall3Abi, functionName: 'aggregate3', result: moved }) };
}

async function proxyOne(chain: LocalChain, mode: string, argument: string, extra: string, request: RpcRequest): Promise<unknown> {
  const reply = (result: unknown) => ({ jsonrpc: '2.0', id: request.id, result });
  if (mode === 'swallow' && request.method === 'eth_sendRawTransaction') {
    return reply(keccak256((request.params?.[0] ?? '0x') as Hex));
  }
  if (mode === 'swallow-to' && request.method === 'eth_sendRawTransaction') {
    const raw = (request.params?.[0] ?? '0x') as Hex;
    if (parseTransaction(raw).to?.toLowerCase() === argument.toLowerCase()) return reply(keccak256(raw));
  }
  if (mode === 'chain' && request.method === 'eth_chainId') return reply(toHex(Number(argument)));
  // A node without eth_simulateV1 answers as geth does for a method it does not serve.
  if (mode === 'no-simulate' && request.method === 'eth_simulateV1') return { jsonrpc: '2.0', id: request.id, error: { code: -32601, message: 'the method eth_simulateV1 does not exist/is not available' } };
  if (mode === 'count') count(argument, request.method);
  if (mode === 'frozen') {
    const head = BigInt(argument);
    const params = request.params ?? [];
    if (request.method === 'eth_blockNumber') return reply(toHex(head));
    if (request.method === 'eth_getBlockByNumber' && ['latest', 'pending', 'safe', 'finalized'].includes(String(params[0]))) {
      const answer = (await forward(chain, { ...request, params: [toHex(head), ...params.slice(1)] })) as { result?: { timestamp: Hex } };
      if (answer.result) answer.result.timestamp = toHex(BigInt(answer.result.timestamp) - BigInt(extra || '0'));
      return answer;
    }
    if (request.method === 'eth_call' && (params[1] === undefined || params[1] === 'latest')) {
      return backdateBlockTimestamps(request, await forward(chain, { ...request, params: [params[0], toHex(head)] }), BigInt(extra || '0'));
    }
  }
  if (mode === 'revert-for') {
    const calls = aggregate3Calls(request);
    const needle = argument.toLowerCase().replace(/^0x/, '');
    if (calls?.some((call) => call.callData.toLowerCase().includes(needle))) {
      // Multicall3 has no such function and no fallback: the sub-call reverts on the real chain.
      const broken = calls.map((call) => (call.callData.toLowerCase().includes(needle) ? { ...call, target: MULTICALL3_ADDRESS, callData: '0xdeadbeef' as Hex } : call));
      return forward(chain, withAggregate3Calls(request, broken));
    }
  }
  if (mode === 'gas-cap') {
    const calls = aggregate3Calls(request);
    if (calls && calls.length > Number(argument)) {
      count(extra, 'refused');
      return { jsonrpc: '2.0', id: request.id, error: { code: -32000, message: 'gas required exceeds allowance (30000000)' } };
    }
    if (calls) count(extra, 'aggregate3');
  }
  if (mode === 'slow') {
    if (request.method === 'eth_call') count(extra, 'eth_call');
    await new Promise((resolve) => setTimeout(resolve, Number(argument)));
  }
  if (mode === 'lag') {
    const lag = BigInt(argument);
    const tip = await chain.publicClient.getBlockNumber();
    const behind = tip > lag ? tip - lag : 0n;
    if (request.method === 'eth_blockNumber') return reply(toHex(behind));
    if (request.method === 'eth_getBlockByNumber' && ['latest', 'pending', 'safe', 'finalized'].includes(String(request.params?.[0]))) {
      return forward(chain, { ...request, params: [toHex(behind), ...(request.params ?? []).slice(1)] });
    }
  }
  return forward(chain, request);
}
