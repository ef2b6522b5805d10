import {
  decodeErrorResult,
  decodeFunctionResult,
  encodeFunctionData,
  keccak256,
  parseAbi,
  type Address,
  type Hex,
  type LocalAccount,
  type PublicClient,
  type TransactionReceipt,
} from 'viem';
import { AppError } from '../lib/errors';
import { findAppError } from '../lib/find-app-error';
import { redactUrl } from '../chain/redact';
import type { PositionSnapshot } from '../domain/position';
import type { CollateralAssetParams } from '../domain/risk';
import { aaveOracleAbi, aavePoolAbi, erc20Abi, MAX_UINT256 } from '../protocols/aave-v3/abi';
import { decodeReserveConfiguration } from '../protocols/aave-v3/normalize';
import { loadMarketMeta, readAccountAssets, readAccountSummaries, type MarketMeta } from '../protocols/aave-v3';
import type { PinnedBlock } from '../protocols/adapter';
import type { ReserveMeta } from '../protocols/aave-v3/normalize';
import { describeAaveRevert } from '../protocols/aave-v3/errors';
import type { EndpointProbe, FeeMarket, Fees } from './guards';
import { snapshotOf, type ObservedPosition } from './observed-position';

/*
 * The executor's I/O with the chain, one function per question. Decisions live elsewhere
 * (src/domain/topup-plan.ts, ./guards.ts); these only read, simulate, sign and broadcast.
 */

export const erc20ApproveAbi = parseAbi([
  'function approve(address spender, uint256 amount) returns (bool)',
  'function allowance(address owner, address spender) view returns (uint256)',
]);

export type ReadContext = { client: PublicClient; chainId: number; multicall3: Address };

// ---- probes: each endpoint asked directly, so one lagging or misconfigured node is seen ----

type JsonRpcAnswer = { result?: unknown; error?: { code: number; message: string } };

async function rawRpc(url: string, method: string, params: unknown[], timeoutMs: number, fetchFn: typeof fetch): Promise<unknown> {
  const response = await fetchFn(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }),
    signal: AbortSignal.timeout(timeoutMs),
  });
  if (!response.ok) {
    await response.body?.cancel();
    throw new Error(`HTTP ${response.status}`);
  }
  const answer = (await response.json()) as JsonRpcAnswer;
  if (answer.error) throw new Error(`JSON-RPC error ${answer.error.code}: ${answer.error.message.slice(0, 120)}`);
  return answer.result;
}

/** One endpoint's chain id, latest block and view of the account's health factor at that block. */
export async function probeEndpoint(url: string, input: { pool: Address; account: Address; timeoutMs: number; fetchFn?: typeof fetch }): Promise<EndpointProbe> {
  const label = redactUrl(url);
  const fetchFn = input.fetchFn ?? ((request, init) => fetch(request, init));
  try {
    const [chainHex, block] = await Promise.all([
      rawRpc(url, 'eth_chainId', [], input.timeoutMs, fetchFn),
      rawRpc(url, 'eth_getBlockByNumber', ['latest', false], input.timeoutMs, fetchFn),
    ]);
    const blockHex = (block as { number?: string } | null)?.number;
    if (typeof chainHex !== 'string' || typeof blockHex !== 'string') return { label, ok: false, error: 'malformed answer' };
    const data = encodeFunctionData({ abi: aavePoolAbi, functionName: 'getUserAccountData', args: [input.account] });
    const result = await rawRpc(url, 'eth_call', [{ to: input.pool, data }, blockHex], input.timeoutMs, fetchFn);
    const [, debt, , , , healthFactor] = decodeFunctionResult({ abi: aavePoolAbi, functionName: 'getUserAccountData', data: result as Hex });
    return {
      label,
      ok: true,
      chainId: Number.parseInt(chainHex, 16),
      blockNumber: BigInt(blockHex),
      healthFactor: debt === 0n || healthFactor === MAX_UINT256 ? null : healthFactor,
    };
  } catch (error) {
    const timedOut = error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError');
    return { label, ok: false, error: timedOut ? `timed out after ${input.timeoutMs} ms` : error instanceof Error ? error.message.slice(0, 160) : 'failed' };
  }
}

// ---- the fresh read a decision is made on ----

export type FreshState = {
  block: PinnedBlock;
  meta: MarketMeta;
  reserve: ReserveMeta;
  snapshot: PositionSnapshot & { assets: NonNullable<PositionSnapshot['assets']> };
  /** The policy asset's price and effective threshold, for a supply of an asset the account does not hold. */
  collateralParams: CollateralAssetParams | undefined;
  /** The signer's side; undefined without a signer (dry runs). */
  wallet: { token: bigint; native: bigint; allowance: bigint } | undefined;
  /** The account's debt of the policy asset by rate mode (Aave repays one mode per call). */
  debt: { variable: bigint; stable: bigint };
  /** Read for live decisions only; null for dry runs. */
  fees: FeeMarket | null;
};

/**
 * Everything a decision needs, read at one block (`blockNumber`, which every endpoint has):
 * the account's summary and per-asset breakdown, the policy asset's reserve, the signer's
 * balances and allowance. Throws AppError (codes from the adapter, or `read_failed`).
 */
export async function readFreshState(
  context: ReadContext,
  input: { pool: Address; account: Address; asset: Address; signer: Address | null; blockNumber: bigint; live: boolean },
): Promise<FreshState> {
  const { client } = context;
  try {
    const meta = await loadMarketMeta(context, input.pool);
    const reserve = reserveOf(meta, input.asset, input.pool);
    const pinned = await client.getBlock({ blockNumber: input.blockNumber });
    const block: PinnedBlock = { number: pinned.number, timestamp: pinned.timestamp };
    const [reads, details] = await Promise.all([
      readAccountSummaries(context, meta, [input.account], block, 1),
      readAccountAssets(context, meta, [input.account], block, 300),
    ]);
    const read = reads[0];
    if (!read || !('snapshot' in read)) throw new AppError('read_failed', `could not read account ${input.account}: ${read && 'error' in read ? read.error : 'no answer'}`, { status: 502 });
    const assets = details.get(input.account) ?? [];
    const policyAsset = await readPolicyAsset(context, meta, reserve, { account: input.account, signer: input.signer, blockNumber: block.number });
    return { block, meta, reserve, snapshot: { ...read.snapshot, assets }, ...policyAsset, fees: input.live ? await readFeeMarket(client) : null };
  } catch (error) {
    throw findAppError(error) ?? new AppError('read_failed', `reading the position failed: ${shortMessage(error)}`, { status: 502, cause: error });
  }
}

/**
 * A dry run's state: the position the shard observed (with its breakdown) and one read of
 * the policy asset (price, threshold, the account's debt of it) at that block. Nothing of
 * the wallet, no fees: a dry run signs nothing. The market's static facts are cached per isolate.
 */
export async function readObservedState(context: ReadContext, input: { pool: Address; asset: Address; observed: ObservedPosition }): Promise<FreshState> {
  try {
    const meta = await loadMarketMeta(context, input.pool);
    const reserve = reserveOf(meta, input.asset, input.pool);
    const snapshot = snapshotOf(input.observed);
    const policyAsset = await readPolicyAsset(context, meta, reserve, { account: snapshot.account, signer: null, blockNumber: snapshot.blockNumber });
    return { block: { number: snapshot.blockNumber, timestamp: snapshot.blockTimestamp }, meta, reserve, snapshot, ...policyAsset, fees: null };
  } catch (error) {
    throw findAppError(error) ?? new AppError('read_failed', `reading the policy asset failed: ${shortMessage(error)}`, { status: 502, cause: error });
  }
}

function reserveOf(meta: MarketMeta, asset: Address, pool: Address): ReserveMeta {
  const reserve = meta.reserves.find((candidate) => candidate.asset.toLowerCase() === asset.toLowerCase());
  if (!reserve) throw new AppError('asset_not_in_market', `${asset} is no longer a reserve of market ${pool}`, { status: 409 });
  return reserve;
}

/** One Multicall3 call: the policy asset's price and threshold for this account, its debt of it, and (with a signer) the wallet's balance and allowance. */
async function readPolicyAsset(
  context: ReadContext,
  meta: MarketMeta,
  reserve: ReserveMeta,
  input: { account: Address; signer: Address | null; blockNumber: bigint },
): Promise<Pick<FreshState, 'collateralParams' | 'wallet' | 'debt'>> {
  const { client } = context;
  const signer = input.signer;
  const results = (await client.multicall({
    contracts: [
      { address: meta.oracle, abi: aaveOracleAbi, functionName: 'getAssetsPrices', args: [[reserve.asset]] },
      { address: meta.pool, abi: aavePoolAbi, functionName: 'getReserveData', args: [reserve.asset] },
      { address: meta.pool, abi: aavePoolAbi, functionName: 'getUserEMode', args: [input.account] },
      { address: reserve.variableDebtToken, abi: erc20Abi, functionName: 'balanceOf', args: [input.account] },
      { address: reserve.stableDebtToken, abi: erc20Abi, functionName: 'balanceOf', args: [input.account] },
      ...(signer
        ? [
            { address: reserve.asset, abi: erc20Abi, functionName: 'balanceOf', args: [signer] },
            { address: reserve.asset, abi: erc20ApproveAbi, functionName: 'allowance', args: [signer, meta.pool] },
          ]
        : []),
    ] as never,
    allowFailure: false,
    blockNumber: input.blockNumber,
    multicallAddress: context.multicall3,
    batchSize: 0,
  })) as unknown[];
  const price = (results[0] as readonly bigint[])[0];
  const configuration = decodeReserveConfiguration((results[1] as { configuration: { data: bigint } }).configuration.data);
  const userEMode = Number(results[2] as bigint);
  let liquidationThresholdBps = configuration.liquidationThresholdBps;
  if (userEMode !== 0 && configuration.eModeCategory === userEMode) {
    // Only for an account in the reserve's e-mode category: the category's threshold applies.
    const category = await client.readContract({ address: meta.pool, abi: aavePoolAbi, functionName: 'getEModeCategoryData', args: [userEMode], blockNumber: input.blockNumber });
    liquidationThresholdBps = BigInt(category.liquidationThreshold);
  }
  const wallet = signer
    ? { token: results[5] as bigint, allowance: results[6] as bigint, native: await client.getBalance({ address: signer, blockNumber: input.blockNumber }) }
    : undefined;
  return {
    collateralParams: {
      asset: reserve.asset,
      symbol: reserve.symbol,
      decimals: reserve.decimals,
      // A zero price is the oracle not knowing: unknown, never 0 (same rule as the adapter).
      price: price === undefined || price === 0n ? undefined : price,
      liquidationThresholdBps,
    },
    wallet,
    debt: { variable: results[3] as bigint, stable: results[4] as bigint },
  };
}

/** Base fee of the latest block (null before London), the node's suggested tip and legacy price. */
export async function readFeeMarket(client: PublicClient): Promise<FeeMarket> {
  const [latest, gasPrice] = await Promise.all([client.getBlock({ blockTag: 'latest' }), client.getGasPrice()]);
  const baseFeePerGas = latest.baseFeePerGas ?? null;
  let priorityFee: bigint;
  try {
    priorityFee = BigInt((await client.request({ method: 'eth_maxPriorityFeePerGas' } as never)) as string);
  } catch {
    // Not every node has eth_maxPriorityFeePerGas; the legacy price minus the base fee is the usual stand-in.
    priorityFee = baseFeePerGas === null || gasPrice <= baseFeePerGas ? 0n : gasPrice - baseFeePerGas;
  }
  return { baseFeePerGas, priorityFee, gasPrice };
}

/** The Pool's health factor of the account at a block, or at the latest one. */
export async function healthFactorAt(client: PublicClient, pool: Address, account: Address, block: bigint | 'latest'): Promise<bigint | null> {
  const at = block === 'latest' ? { blockTag: 'latest' as const } : { blockNumber: block };
  const [, debt, , , , healthFactor] = await client.readContract({ address: pool, abi: aavePoolAbi, functionName: 'getUserAccountData', args: [account], ...at });
  return debt === 0n || healthFactor === MAX_UINT256 ? null : healthFactor;
}

// ---- transactions ----

export type StepKind = 'approve' | 'supply' | 'repay';

/** One transaction of a top-up; `args` keeps the decoded call for simulation and display. */
export type Step = { kind: StepKind; to: Address; data: Hex; args: readonly unknown[] };

export function approveStep(asset: Address, spender: Address, amount: bigint): Step {
  const args = [spender, amount] as const;
  return { kind: 'approve', to: asset, data: encodeFunctionData({ abi: erc20ApproveAbi, functionName: 'approve', args }), args };
}

export function supplyStep(pool: Address, asset: Address, amount: bigint, onBehalfOf: Address): Step {
  const args = [asset, amount, onBehalfOf, 0] as const;
  return { kind: 'supply', to: pool, data: encodeFunctionData({ abi: aavePoolAbi, functionName: 'supply', args }), args };
}

export function repayStep(pool: Address, asset: Address, amount: bigint, rateMode: 1n | 2n, onBehalfOf: Address): Step {
  const args = [asset, amount, rateMode, onBehalfOf] as const;
  return { kind: 'repay', to: pool, data: encodeFunctionData({ abi: aavePoolAbi, functionName: 'repay', args }), args };
}

function stepCall(step: Step) {
  return step.kind === 'approve'
    ? { to: step.to, abi: erc20ApproveAbi, functionName: 'approve' as const, args: step.args as readonly [Address, bigint] }
    : step.kind === 'supply'
      ? { to: step.to, abi: aavePoolAbi, functionName: 'supply' as const, args: step.args as readonly [Address, bigint, Address, number] }
      : { to: step.to, abi: aavePoolAbi, functionName: 'repay' as const, args: step.args as readonly [Address, bigint, bigint, Address] };
}

export type Simulation = { ok: true; gasUsed: bigint[] } | { ok: false; step: number; reason: string } | { ok: 'unsupported' };

/**
 * Runs the exact transactions in order against the latest state (eth_simulateV1), so a
 * supply that needs an approval first is checked before either is sent. Nodes without
 * eth_simulateV1 answer 'unsupported'; the caller then checks one step at a time.
 */
export async function simulateSteps(client: PublicClient, from: Address, steps: readonly Step[]): Promise<Simulation> {
  try {
    const [block] = await client.simulateBlocks({
      blocks: [{ calls: steps.map((step) => ({ account: from, ...stepCall(step) })) as never }],
    });
    const calls = (block?.calls ?? []) as ReadonlyArray<{ status: 'success' | 'failure'; gasUsed: bigint; error?: unknown }>;
    const failed = calls.findIndex((call) => call.status !== 'success');
    if (failed >= 0) return { ok: false, step: failed, reason: revertReason(calls[failed]!.error) };
    if (calls.length !== steps.length) return { ok: false, step: calls.length, reason: 'the node simulated fewer calls than sent' };
    return { ok: true, gasUsed: calls.map((call) => call.gasUsed) };
  } catch (error) {
    if (/eth_simulateV1|-32601|method not found|not supported|unsupported|does not exist/i.test(errorText(error))) return { ok: 'unsupported' };
    return { ok: false, step: 0, reason: revertReason(error) };
  }
}

/** One step by eth_call + eth_estimateGas: the revert reason decoded, or the gas it needs. */
export async function simulateStep(client: PublicClient, from: Address, step: Pick<Step, 'to' | 'data'>): Promise<{ ok: true; gas: bigint } | { ok: false; reason: string }> {
  try {
    await client.call({ account: from, to: step.to, data: step.data });
    const gas = await client.estimateGas({ account: from, to: step.to, data: step.data });
    return { ok: true, gas };
  } catch (error) {
    return { ok: false, reason: revertReason(error) };
  }
}

/** Aave's numeric codes named; Error(string) and custom errors as viem decodes them; else the short message. */
export function revertReason(error: unknown): string {
  let current: unknown = error;
  for (let depth = 0; depth < 10 && current; depth++) {
    const candidate = current as { reason?: unknown; data?: unknown; cause?: unknown };
    if (typeof candidate.reason === 'string' && candidate.reason !== '') return describeAaveRevert(candidate.reason);
    if (typeof candidate.data === 'string' && candidate.data.startsWith('0x') && candidate.data.length >= 10) {
      try {
        const decoded = decodeErrorResult({ abi: [], data: candidate.data as Hex });
        const first = decoded.args?.[0];
        if (typeof first === 'string') return describeAaveRevert(first);
        return decoded.errorName;
      } catch {
        // Not an Error(string)/Panic: keep walking for a message.
      }
    }
    current = candidate.cause;
  }
  return shortMessage(error);
}

/** Gas limit from a measured use: Aave's first-time paths touch fresh storage, so leave 30% room. */
export function paddedGas(gasUsed: bigint): bigint {
  return (gasUsed * 13n) / 10n + 10_000n;
}

export type SignedTx = { hash: Hex; raw: Hex };

export async function signStep(account: LocalAccount, input: { chainId: number; nonce: number; step: Pick<Step, 'to' | 'data'>; gas: bigint; fees: Fees }): Promise<SignedTx> {
  const common = { chainId: input.chainId, nonce: input.nonce, to: input.step.to, data: input.step.data, value: 0n, gas: input.gas };
  const raw =
    input.fees.type === 'eip1559'
      ? await account.signTransaction({ ...common, type: 'eip1559', maxFeePerGas: input.fees.maxFeePerGas, maxPriorityFeePerGas: input.fees.maxPriorityFeePerGas })
      : await account.signTransaction({ ...common, type: 'legacy', gasPrice: input.fees.gasPrice });
  // The hash is known before broadcast, so it is recorded with the intent: a restart can
  // always find the transaction again, whether or not the broadcast got out.
  return { hash: keccak256(raw), raw };
}

export type BroadcastResult = { ok: true } | { ok: false; known: boolean; message: string };

/**
 * Sends a signed transaction. "Already known" and "nonce too low" are not failures of the
 * intent (it is in a mempool, or a transaction with its nonce was mined): receipts decide.
 */
export async function broadcast(client: PublicClient, raw: Hex): Promise<BroadcastResult> {
  try {
    await client.sendRawTransaction({ serializedTransaction: raw });
    return { ok: true };
  } catch (error) {
    const text = errorText(error);
    const known = /already known|already imported|known transaction|nonce too low|nonce has already been used|replacement transaction underpriced/i.test(text);
    return { ok: false, known, message: shortMessage(error) };
  }
}

export async function receiptOf(client: PublicClient, hash: Hex): Promise<TransactionReceipt | null> {
  try {
    return await client.getTransactionReceipt({ hash });
  } catch (error) {
    if (/could not be found|not found/i.test(errorText(error))) return null;
    throw error;
  }
}

/** Whether the node knows the transaction (pending or mined). */
export async function isKnown(client: PublicClient, hash: Hex): Promise<boolean> {
  try {
    await client.getTransaction({ hash });
    return true;
  } catch (error) {
    if (/could not be found|not found/i.test(errorText(error))) return false;
    throw error;
  }
}

export function confirmedNonce(client: PublicClient, address: Address): Promise<number> {
  return client.getTransactionCount({ address, blockTag: 'latest' });
}

export function pendingNonce(client: PublicClient, address: Address): Promise<number> {
  return client.getTransactionCount({ address, blockTag: 'pending' });
}

function errorText(error: unknown): string {
  const parts: string[] = [];
  let current: unknown = error;
  for (let depth = 0; depth < 8 && current; depth++) {
    if (current instanceof Error) parts.push(current.message);
    current = (current as { cause?: unknown }).cause;
  }
  return parts.join(' | ');
}

export function shortMessage(error: unknown): string {
  const message = (error as { shortMessage?: string }).shortMessage ?? (error instanceof Error ? error.message : String(error));
  return message.split('\n')[0]!.slice(0, 240);
}
