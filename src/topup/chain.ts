import {
  decodeErrorResult,
  encodeFunctionData,
  keccak256,
  parseAbi,
  BaseError,
  MethodNotFoundRpcError,
  MethodNotSupportedRpcError,
  TransactionNotFoundError,
  TransactionReceiptNotFoundError,
  type Address,
  type Hex,
  type LocalAccount,
  type PublicClient,
  type TransactionReceipt,
} from 'viem';
import { AppError } from '../lib/errors';
import { findAppError } from '../lib/find-app-error';
import { redactUrl } from '../chain/redact';
import { redactUrlsInText } from '../lib/redact-text';
import { createChainClient } from '../chain/client';
import { RpcUnavailableError } from '../chain/failover-transport';
import { isAlreadySubmittedRefusal } from '../chain/rpc-errors';
import type { AssetPosition, PositionSnapshot } from '../domain/position';
import type { CollateralAssetParams } from '../domain/risk';
import type { PinnedBlock, ReadContext } from '../protocols/read-types';
import type { TopUpProtocol } from '../protocols/adapter';
import { isNativeAsset, type AssetFacts, type PolicyAssetState, type TopUpCapability } from '../protocols/topup-capability';
import type { EndpointProbe, FeeMarket, Fees } from './guards';
import { snapshotOf, type ObservedPosition } from './observed-position';
import { withTimeout } from '../lib/timeout';
import type { UsdPriceFeeds } from '../config/usd-price-feeds';
import { readUsdUnit } from '../protocols/usd-price-feed';

/*
 * The executor's I/O with the chain, one function per question. Decisions live elsewhere
 * (src/domain/topup-plan.ts, ./guards.ts); these only read, simulate, sign and broadcast.
 */

export const erc20ApproveAbi = parseAbi([
  'function approve(address spender, uint256 amount) returns (bool)',
  'function allowance(address owner, address spender) view returns (uint256)',
  'function balanceOf(address account) view returns (uint256)',
]);


// ---- probes: each endpoint asked directly, so one lagging or misconfigured node is seen ----

type JsonRpcAnswer = { result?: unknown; error?: { code: number; message: string } };

async function rawRpc(url: string, method: string, params: unknown[], timeoutMs: number, fetchFn: typeof fetch): Promise<unknown> {
  return withTimeout(timeoutMs, async (signal) => {
    const response = await fetchFn(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }),
      signal,
    });
    if (!response.ok) {
      await response.body?.cancel();
      throw new Error(`HTTP ${response.status}`);
    }
    const answer = (await response.json()) as JsonRpcAnswer;
    if (answer.error) throw new Error(`JSON-RPC error ${answer.error.code}: ${answer.error.message.slice(0, 120)}`);
    return answer.result;
  });
}

/**
 * One endpoint's chain id, latest block and view of the account's health factor at that
 * block, read through the protocol's adapter on that endpoint alone.
 */
export async function probeEndpoint(
  url: string,
  input: { protocol: TopUpProtocol; account: Address; chainId: number; multicall3: Address; protocolContracts?: ReadContext['protocolContracts']; timeoutMs: number; fetchFn?: typeof fetch },
): Promise<EndpointProbe> {
  const label = redactUrl(url);
  const fetchFn = input.fetchFn ?? ((request, init) => fetch(request, init));
  try {
    const [chainHex, block] = await Promise.all([
      rawRpc(url, 'eth_chainId', [], input.timeoutMs, fetchFn),
      rawRpc(url, 'eth_getBlockByNumber', ['latest', false], input.timeoutMs, fetchFn),
    ]);
    const pinned = block as { number?: string; timestamp?: string } | null;
    if (typeof chainHex !== 'string' || typeof pinned?.number !== 'string' || typeof pinned.timestamp !== 'string') return { label, ok: false, error: 'malformed answer' };
    const chainId = Number.parseInt(chainHex, 16);
    const blockNumber = BigInt(pinned.number);
    // Another chain is reported as such (checkEndpoints refuses it); nothing is read from it.
    if (chainId !== input.chainId) return { label, ok: true, chainId, blockNumber, healthFactor: null };
    const { client } = createChainClient({ chainId, rpcUrls: [url], multicall3: input.multicall3 }, { timeoutMs: input.timeoutMs });
    const context = { client, chainId, multicall3: input.multicall3, protocolContracts: input.protocolContracts };
    const market = await input.protocol.adapter.loadMarket(context, input.protocol.ref);
    const [read] = await input.protocol.adapter.readAccounts(context, market, [input.account], { number: blockNumber, timestamp: BigInt(pinned.timestamp) }, 1);
    if (!read || !('snapshot' in read)) return { label, ok: false, error: read && 'error' in read ? read.error.slice(0, 160) : 'no answer' };
    return { label, ok: true, chainId, blockNumber, healthFactor: read.snapshot.healthFactor };
  } catch (error) {
    const timedOut = error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError');
    return { label, ok: false, error: timedOut ? `timed out after ${input.timeoutMs} ms` : redactUrlsInText(findAppError(error)?.message ?? (error instanceof Error ? error.message : 'failed')).slice(0, 160) };
  }
}

// ---- the fresh read a decision is made on ----

export type FreshState = {
  block: PinnedBlock;
  /** The adapter's static facts of the market. */
  market: unknown;
  /** The policy's asset. */
  asset: AssetFacts;
  /** The contract that takes the approval and the call. */
  spender: Address;
  /** Units of the market's value unit per US dollar (from the owner's feed where the unit is a token); undefined when not known. */
  usdUnit: bigint | undefined;
  /** Why `usdUnit` is not known, for the owner to act on (no feed for the token, a stale feed…). */
  usdUnknown?: string;
  snapshot: PositionSnapshot & { assets: AssetPosition[] };
  /** The policy asset's price and effective threshold, for a supply of an asset the account does not hold. */
  collateralParams: CollateralAssetParams | undefined;
  /** The policy asset for this account: what one repayment can pay, and protocol details. */
  assetState: PolicyAssetState;
  /** The signer's side; undefined without a signer (dry runs). */
  wallet: { token: bigint; native: bigint; allowance: bigint } | undefined;
  /** Read for live decisions only; null for dry runs. */
  fees: FeeMarket | null;
};

/**
 * Everything a live decision needs, read at one block (`blockNumber`, which every endpoint
 * has): the account's snapshot and breakdown, the policy asset (through the protocol's
 * capability), the signer's balances and allowance, and the fee market.
 */
export async function readFreshState(
  context: ReadContext,
  // usdFeeds: the owner's USD feeds of the chain, for a live decision (a dry run values nothing against the budget).
  input: { protocol: TopUpProtocol; account: Address; asset: AssetFacts; signer: Address | null; blockNumber: bigint; live: boolean; usdFeeds?: UsdPriceFeeds | undefined },
): Promise<FreshState> {
  const { client } = context;
  const { adapter, capability } = input.protocol;
  try {
    const market = await adapter.loadMarket(context, input.protocol.ref);
    const pinned = await client.getBlock({ blockNumber: input.blockNumber });
    const block: PinnedBlock = { number: pinned.number, timestamp: pinned.timestamp };
    const [reads, details] = await Promise.all([
      adapter.readAccounts(context, market, [input.account], block, 1),
      adapter.readAssets(context, market, [input.account], block, 300),
    ]);
    const read = reads[0];
    if (!read || !('snapshot' in read)) throw new AppError('read_failed', `could not read account ${input.account}: ${read && 'error' in read ? read.error : 'no answer'}`, { status: 502 });
    const assetState = await capability.readAssetState(context, market, { account: input.account, asset: input.asset, blockNumber: block.number, actor: input.signer });
    const spender = assetState.via ?? capability.spender(market);
    const wallet = input.signer ? await readWallet(context, { asset: input.asset.asset, owner: input.signer, spender, blockNumber: block.number }) : undefined;
    return {
      block,
      market,
      asset: input.asset,
      spender,
      ...(await usdOf(context, capability.usdUnit(market), assetState, input.usdFeeds, block)),
      snapshot: { ...read.snapshot, assets: relisted(details.get(input.account) ?? [], assetState, input.asset) },
      collateralParams: assetState.collateralParams,
      assetState,
      wallet,
      fees: input.live ? await readFeeMarket(client) : null,
    };
  } catch (error) {
    throw findAppError(error) ?? new AppError('read_failed', `reading the position failed: ${shortMessage(error)}`, { status: 502, cause: error });
  }
}

/**
 * A dry run's state: the position the shard observed (with its breakdown) and one read of
 * the policy asset at that block. Nothing of the wallet, no fees: a dry run signs nothing.
 * The market's static facts are cached per isolate.
 */
export async function readObservedState(context: ReadContext, input: { protocol: TopUpProtocol; asset: AssetFacts; observed: ObservedPosition }): Promise<FreshState> {
  const { adapter, capability } = input.protocol;
  try {
    const market = await adapter.loadMarket(context, input.protocol.ref);
    const snapshot = snapshotOf(input.observed);
    const assetState = await capability.readAssetState(context, market, { account: snapshot.account, asset: input.asset, blockNumber: snapshot.blockNumber });
    return {
      block: { number: snapshot.blockNumber, timestamp: snapshot.blockTimestamp },
      market,
      asset: input.asset,
      spender: assetState.via ?? capability.spender(market),
      // A dry run values nothing against the budget: no feed is read.
      usdUnit: capability.usdUnit(market),
      snapshot: { ...snapshot, assets: relisted(snapshot.assets, assetState, input.asset) },
      collateralParams: assetState.collateralParams,
      assetState,
      wallet: undefined,
      fees: null,
    };
  } catch (error) {
    throw findAppError(error) ?? new AppError('read_failed', `reading the policy asset failed: ${shortMessage(error)}`, { status: 502, cause: error });
  }
}

/** The market's own dollar unit, else (for live decisions, given the feeds) the owner's feed for the token its values are in (./usd-price-feed), else why neither. */
async function usdOf(context: ReadContext, own: bigint | undefined, state: PolicyAssetState, feeds: UsdPriceFeeds | undefined, block: PinnedBlock): Promise<Pick<FreshState, 'usdUnit' | 'usdUnknown'>> {
  if (own !== undefined) return { usdUnit: own };
  if (!state.valueUnit || !feeds) return { usdUnit: undefined, usdUnknown: "the market's prices are not in US dollars" };
  const unit = await readUsdUnit(context, feeds, state.valueUnit, block);
  return unit.ok ? { usdUnit: unit.usdUnit } : { usdUnit: undefined, usdUnknown: unit.why };
}

/** The breakdown with the asset the protocol lists under another address (`listedAs`) named by the policy's token, so the planner finds it. */
function relisted(assets: AssetPosition[], state: PolicyAssetState, asset: AssetFacts): AssetPosition[] {
  const alias = state.listedAs;
  if (!alias) return assets;
  return assets.map((position) => (position.asset.toLowerCase() === alias.toLowerCase() ? { ...position, asset: asset.asset } : position));
}

/**
 * The signer's balance of the asset, its allowance to the spender and its native balance. A
 * native asset (ERC-7528's stand-in) is the native balance itself, sent as value: no allowance.
 */
async function readWallet(context: ReadContext, input: { asset: Address; owner: Address; spender: Address; blockNumber: bigint }): Promise<{ token: bigint; native: bigint; allowance: bigint }> {
  if (isNativeAsset(input.asset)) {
    const native = await context.client.getBalance({ address: input.owner, blockNumber: input.blockNumber });
    return { token: native, native, allowance: 0n };
  }
  const [token, allowance] = (await context.client.multicall({
    contracts: [
      { address: input.asset, abi: erc20ApproveAbi, functionName: 'balanceOf', args: [input.owner] },
      { address: input.asset, abi: erc20ApproveAbi, functionName: 'allowance', args: [input.owner, input.spender] },
    ],
    allowFailure: false,
    blockNumber: input.blockNumber,
    multicallAddress: context.multicall3,
    batchSize: 0,
  })) as [bigint, bigint];
  return { token, allowance, native: await context.client.getBalance({ address: input.owner, blockNumber: input.blockNumber }) };
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

/** The protocol's health factor of the account at a block, or at the latest one (null: no debt). */
export async function healthFactorAt(context: ReadContext, protocol: TopUpProtocol, account: Address, at: bigint | 'latest'): Promise<bigint | null> {
  const market = await protocol.adapter.loadMarket(context, protocol.ref);
  const block = at === 'latest' ? await context.client.getBlock({ blockTag: 'latest' }) : await context.client.getBlock({ blockNumber: at });
  const [read] = await protocol.adapter.readAccounts(context, market, [account], { number: block.number, timestamp: block.timestamp }, 1);
  if (!read || !('snapshot' in read)) throw new AppError('read_failed', `could not read account ${account}: ${read && 'error' in read ? read.error : 'no answer'}`, { status: 502 });
  return read.snapshot.healthFactor;
}

// ---- transactions ----

/** `join`: a preparing call between the approval and the action's own (ActionCall.before: Maker's GemJoin / DaiJoin join). */
export type StepKind = 'approve' | 'join' | 'supply' | 'repay';

/**
 * One transaction of a top-up: the exact call. `value`: native coin (wei) it sends (ActionCall.value);
 * `ifLaterFails`: where the money is if this step succeeded and a later one failed, `strands` how
 * much of it sits in the executor's held balance then (see PrepareCall).
 */
export type Step = { kind: StepKind; to: Address; data: Hex; value?: bigint; ifLaterFails?: string; strands?: bigint };

/** What a transaction sends: the call and the native value with it (0 when none). */
export type StepCall = Pick<Step, 'to' | 'data' | 'value'>;

export function approveStep(asset: Address, spender: Address, amount: bigint): Step {
  return { kind: 'approve', to: asset, data: encodeFunctionData({ abi: erc20ApproveAbi, functionName: 'approve', args: [spender, amount] }) };
}

/** How a protocol puts a revert in words: its reasons described, its custom errors named. */
export type RevertWords = Pick<TopUpCapability<unknown>, 'describeRevert' | 'errorAbi'>;

export type Simulation = { ok: true; gasUsed: bigint[] } | { ok: false; step: number; reason: string } | { ok: 'unsupported' };

/**
 * Runs the exact transactions in order against the latest state (eth_simulateV1), so a
 * supply that needs an approval first is checked before either is sent. Nodes without
 * eth_simulateV1 answer 'unsupported'; the caller then checks one step at a time.
 */
export async function simulateSteps(client: PublicClient, from: Address, steps: readonly Step[], describe?: RevertWords): Promise<Simulation> {
  try {
    const [block] = await client.simulateBlocks({
      blocks: [{ calls: steps.map((step) => ({ account: from, to: step.to, data: step.data, value: step.value ?? 0n })) as never }],
    });
    const calls = (block?.calls ?? []) as ReadonlyArray<{ status: 'success' | 'failure'; gasUsed: bigint; error?: unknown }>;
    const failed = calls.findIndex((call) => call.status !== 'success');
    if (failed >= 0) return { ok: false, step: failed, reason: revertReason(calls[failed]!.error, describe) };
    if (calls.length !== steps.length) return { ok: false, step: calls.length, reason: 'the node simulated fewer calls than sent' };
    return { ok: true, gasUsed: calls.map((call) => call.gasUsed) };
  } catch (error) {
    if (isMethodUnavailable(error)) return { ok: 'unsupported' };
    if (noNodeJudgedTheCall(error)) throw error;
    return { ok: false, step: 0, reason: revertReason(error, describe) };
  }
}

/**
 * Whether a failed simulation says nothing about the transactions: no node could be asked (down,
 * timed out, rate limited, another chain). Then the action must wait for the next pass, not be
 * failed as a revert. A node's answer (a revert, a refusal for gas, a JSON-RPC error to the call
 * on every node that was asked) is a verdict on the call.
 */
function noNodeJudgedTheCall(error: unknown): boolean {
  const rpc = findAppError(error);
  if (rpc === undefined || rpc.code === 'rpc_call_too_large') return false;
  return !(rpc instanceof RpcUnavailableError && rpc.everyEndpointAnswered);
}

/**
 * Whether the node refused the method itself, not the call it was asked to run: the failover
 * transport's `rpc_method_unsupported` (every endpoint lacks it), or viem's own errors for the
 * codes that say so (-32601 method not found, -32004 method not supported) on a plain transport.
 */
function isMethodUnavailable(error: unknown): boolean {
  if (findAppError(error)?.code === 'rpc_method_unsupported') return true;
  return error instanceof BaseError && error.walk((cause) => cause instanceof MethodNotFoundRpcError || cause instanceof MethodNotSupportedRpcError) !== null;
}

/** One step by eth_call + eth_estimateGas: the revert reason decoded, or the gas it needs. */
export async function simulateStep(client: PublicClient, from: Address, step: StepCall, describe?: RevertWords): Promise<{ ok: true; gas: bigint } | { ok: false; reason: string }> {
  try {
    const value = step.value ?? 0n;
    await client.call({ account: from, to: step.to, data: step.data, value });
    const gas = await client.estimateGas({ account: from, to: step.to, data: step.data, value });
    return { ok: true, gas };
  } catch (error) {
    if (noNodeJudgedTheCall(error)) throw error;
    return { ok: false, reason: revertReason(error, describe) };
  }
}

/** Error(string) reasons in the protocol's words (Aave's numeric codes named); custom errors by name (the protocol's `errorAbi`), then described; else the short message. */
export function revertReason(error: unknown, words: RevertWords = { describeRevert: (reason) => reason }): string {
  let current: unknown = error;
  for (let depth = 0; depth < 10 && current; depth++) {
    const candidate = current as { reason?: unknown; data?: unknown; cause?: unknown };
    if (typeof candidate.reason === 'string' && candidate.reason !== '') return words.describeRevert(candidate.reason);
    if (typeof candidate.data === 'string' && candidate.data.startsWith('0x') && candidate.data.length >= 10) {
      try {
        const decoded = decodeErrorResult({ abi: words.errorAbi ?? [], data: candidate.data as Hex });
        const first = decoded.args?.[0];
        if (decoded.errorName === 'Error' && typeof first === 'string') return words.describeRevert(first);
        // Arguments kept: Panic(17), FluidVaultError(31028) say which case it was.
        return words.describeRevert(decoded.args?.length ? `${decoded.errorName}(${decoded.args.map(String).join(', ')})` : decoded.errorName);
      } catch {
        // Not an Error(string)/Panic nor one of the protocol's errors: keep walking for a message.
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

export async function signStep(account: LocalAccount, input: { chainId: number; nonce: number; step: StepCall; gas: bigint; fees: Fees }): Promise<SignedTx> {
  const common = { chainId: input.chainId, nonce: input.nonce, to: input.step.to, data: input.step.data, value: input.step.value ?? 0n, gas: input.gas };
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
    return { ok: false, known: isAlreadySubmittedRefusal(errorText(error)), message: shortMessage(error) };
  }
}

export async function receiptOf(client: PublicClient, hash: Hex): Promise<TransactionReceipt | null> {
  try {
    return await client.getTransactionReceipt({ hash });
  } catch (error) {
    // The node answered null: viem's own error for it, by class.
    if (error instanceof TransactionReceiptNotFoundError) return null;
    throw error;
  }
}

/** Whether the node knows the transaction (pending or mined). */
export async function isKnown(client: PublicClient, hash: Hex): Promise<boolean> {
  try {
    await client.getTransaction({ hash });
    return true;
  } catch (error) {
    if (error instanceof TransactionNotFoundError) return false;
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
