import { getAddress, type Address } from 'viem';
import { AppError } from '../../lib/errors';
import type { AssetPosition } from '../../domain/position';
import type { AccountRead, MarketPrices, MarketRef, PinnedBlock, ReadContext } from '../read-types';
import { chunk, multicallAt, rethrowRpc, shortMessage, type CallResult } from '../batch';
import { multicallFor, pinnedOf, type ReadAt } from '../block-pin';
import { evcAbi, factoryAbi, oracleAbi, tokenAbi, vaultAbi } from './abi';
import { EULER_V2_DEPLOYMENTS } from './deployments';
import {
  USD_UNIT,
  eulerAssetPositions,
  eulerSnapshot,
  riskiestSubAccount,
  subAccountGroup,
  subAccountIndex,
  type EulerLtv,
  type EulerMarket,
  type EulerToken,
  type SubAccountLiquidity,
} from './normalize';
import { tokenSymbol } from '../token-symbol';
import { BoundedCache, MARKET_CACHE_ENTRIES } from '../../lib/bounded-cache';

const ZERO: Address = '0x0000000000000000000000000000000000000000';
const marketCache = new BoundedCache<string, EulerMarket>(MARKET_CACHE_ENTRIES);
/** Registered owners: the EVC sets an address prefix's owner once and never changes it. */
const ownerCache = new BoundedCache<string, Address>(4 * MARKET_CACHE_ENTRIES);

function success(result: CallResult | undefined): unknown {
  return result?.status === 'success' ? result.result : undefined;
}

function failure(result: CallResult | undefined): string {
  return shortMessage(result?.status === 'failure' ? result.error : 'no answer');
}

function sameAddress(a: Address, b: Address): boolean {
  return a.toLowerCase() === b.toLowerCase();
}

function marketKey(chainId: number, vault: Address): string {
  return `${chainId}:${vault.toLowerCase()}`;
}

/**
 * An Euler v2 controller vault's static facts (lent asset, oracle, unit of account, the
 * collateral vaults it accepts), cached per isolate. Doubles as the check that the address is
 * a vault that can lend: it answers as an EVault, has an oracle and accepts collateral, and
 * where the protocol's deployment is known, it is a vault of that factory on that EVC.
 */
export async function loadEulerMarket(context: ReadContext, ref: MarketRef): Promise<EulerMarket> {
  const vault = getAddress(ref.market);
  const cached = marketCache.get(marketKey(context.chainId, vault));
  if (cached) return cached;
  const invalid = (detail: string) =>
    new AppError('invalid_market', `${vault} on chain ${context.chainId} is not an Euler v2 borrow vault (${detail})`, { status: 400, issues: [{ path: 'market', message: `not an Euler v2 borrow vault on this chain: ${detail}` }] });
  const code = await context.client.getCode({ address: vault }).catch(rethrowRpc);
  if (!code || code === '0x') throw invalid('no contract at this address');
  const facts = (
    await multicallAt(context, (['EVC', 'asset', 'oracle', 'unitOfAccount', 'LTVList', 'maxLiquidationDiscount'] as const).map((functionName) => ({ address: vault, abi: vaultAbi, functionName })))
  ).map(success);
  const [evc, asset, oracle, unitOfAccount, collateralList, maxDiscount] = facts as [Address | undefined, Address | undefined, Address | undefined, Address | undefined, readonly Address[] | undefined, number | undefined];
  if (!evc || !asset || !oracle || !unitOfAccount || !collateralList || maxDiscount === undefined) throw invalid('it does not answer as an EVault');
  if (oracle === ZERO || unitOfAccount === ZERO) throw invalid('it has no oracle or unit of account, so it lends nothing');
  if (collateralList.length === 0) throw invalid('it accepts no collateral');
  const known = EULER_V2_DEPLOYMENTS[context.chainId];
  if (known) {
    const [isProxy] = await multicallAt(context, [{ address: known.factory, abi: factoryAbi, functionName: 'isProxy', args: [vault] }]);
    if (getAddress(evc) !== getAddress(known.evc) || success(isProxy) !== true) throw invalid(`it is not a vault of Euler's factory ${known.factory}`);
  }
  const tokens = [asset, ...collateralList];
  const quoteIsUsd = getAddress(unitOfAccount) === getAddress(USD_UNIT);
  const tokenFacts = await multicallAt(context, [
    ...tokens.flatMap((token) => [
      { address: token, abi: tokenAbi, functionName: 'symbol' },
      { address: token, abi: tokenAbi, functionName: 'decimals' },
    ]),
    ...(quoteIsUsd
      ? []
      : [
          { address: unitOfAccount, abi: tokenAbi, functionName: 'decimals' },
          { address: unitOfAccount, abi: tokenAbi, functionName: 'symbol' },
        ]),
  ]);
  const token = (address: Address, index: number): EulerToken => {
    return { asset: getAddress(address), symbol: tokenSymbol(success(tokenFacts[index * 2]), address), decimals: Number(success(tokenFacts[index * 2 + 1]) ?? 18) };
  };
  const market: EulerMarket = {
    chainId: context.chainId,
    evc: getAddress(evc),
    vault,
    asset: token(asset, 0),
    oracle: getAddress(oracle),
    unitOfAccount: getAddress(unitOfAccount),
    // Euler's oracles value US dollars with 18 decimals; a token unit with the token's.
    unitDecimals: quoteIsUsd ? 18 : Number(success(tokenFacts[tokens.length * 2]) ?? 18),
    unitSymbol: quoteIsUsd ? 'USD' : tokenSymbol(success(tokenFacts[tokens.length * 2 + 1]), unitOfAccount),
    quoteIsUsd,
    collaterals: collateralList.map((collateral, index) => token(collateral, index + 1)),
    maxLiquidationDiscountBps: BigInt(maxDiscount),
  };
  marketCache.set(marketKey(context.chainId, vault), market);
  return market;
}

/** One sub-account as read: not controlled by this vault, its liquidity (and with detail, its balances and debt), or why not. */
type SubRead = { index: number; account: Address; controlled: false } | { index: number; account: Address; controlled: true; liquidity: SubAccountLiquidity; debt: bigint; balances: Map<string, bigint> } | { index: number; account: Address; error: string };
type AccountScan = { owner: Address | null; subs: SubRead[] };
type Scan = { ltvs: Map<string, EulerLtv>; prices: Map<string, bigint | undefined>; accounts: Map<Address, AccountScan> };

/**
 * Every watched account's sub-accounts at one block in one flat list of calls, cut into Multicall3
 * calls of `batchSize` sub-accounts: per sub-account, whether this vault is its controller and
 * accountLiquidityFull (which reverts unless it is; so one pass needs no second round-trip), with
 * `detail` its debt and each collateral vault's balance too. An owner costs its 256 sub-accounts;
 * a sub-account, or an owner once known to be one, costs one. The market's LTVs (they may ramp) ride along.
 */
async function scan(context: ReadContext, market: EulerMarket, accounts: readonly Address[], at: ReadAt, batchSize: number, detail: boolean): Promise<Scan> {
  const calls: unknown[] = [];
  const add = (call: unknown): number => calls.push(call) - 1;
  const ltvCalls = market.collaterals.map((collateral) => ({
    liquidation: add({ address: market.vault, abi: vaultAbi, functionName: 'LTVLiquidation', args: [collateral.asset] }),
    borrow: add({ address: market.vault, abi: vaultAbi, functionName: 'LTVBorrow', args: [collateral.asset] }),
  }));
  const priced = [...market.collaterals, market.asset];
  const priceCalls = detail ? priced.map((token) => add(quoteCall(market, token))) : [];
  const planned = accounts.map((account) => {
    const known = ownerCache.get(`${context.chainId}:${account.toLowerCase()}`);
    const ownerCall = known ? undefined : add({ address: market.evc, abi: evcAbi, functionName: 'getAccountOwner', args: [account] });
    // A sub-account other than the owner's own is read alone; an owner, or an account not yet known, with its group.
    const group = known && !sameAddress(known, account) ? [account] : subAccountGroup(account);
    const subs = group.map((sub) => ({
      account: sub,
      controlled: add({ address: market.evc, abi: evcAbi, functionName: 'isControllerEnabled', args: [sub, market.vault] }),
      liquidity: add({ address: market.vault, abi: vaultAbi, functionName: 'accountLiquidityFull', args: [sub, true] }),
      debt: detail ? add({ address: market.vault, abi: vaultAbi, functionName: 'debtOf', args: [sub] }) : -1,
      balances: detail ? market.collaterals.map((collateral) => add({ address: collateral.asset, abi: vaultAbi, functionName: 'balanceOf', args: [sub] })) : [],
    }));
    return { account, known, ownerCall, subs };
  });
  const perSubAccount = detail ? 3 + market.collaterals.length : 2;
  const results = (await Promise.all(chunk(calls, Math.max(1, batchSize) * perSubAccount).map((part) => multicallFor(context, part, at)))).flat();

  const ltvs = new Map<string, EulerLtv>();
  for (const [index, collateral] of market.collaterals.entries()) {
    const liquidation = success(results[ltvCalls[index]!.liquidation]);
    const borrow = success(results[ltvCalls[index]!.borrow]);
    if (typeof liquidation !== 'number' || typeof borrow !== 'number') throw new AppError('read_failed', `Euler vault ${market.vault}: LTVs of ${collateral.symbol} unread: ${failure(results[ltvCalls[index]!.liquidation])}`, { status: 502 });
    ltvs.set(collateral.asset.toLowerCase(), { liquidationBps: BigInt(liquidation), borrowBps: BigInt(borrow) });
  }
  const prices = new Map<string, bigint | undefined>(priced.map((token, index) => [token.asset.toLowerCase(), positive(success(results[priceCalls[index]!]))]));

  const scanned = new Map<Address, AccountScan>();
  for (const plan of planned) {
    const registered = plan.known ?? (success(results[plan.ownerCall!]) as Address | undefined);
    const owner = registered && registered !== ZERO ? getAddress(registered) : null;
    if (owner) ownerCache.set(`${context.chainId}:${plan.account.toLowerCase()}`, owner);
    // Without a registered owner no sub-account has ever acted through the EVC: only the account itself can matter.
    const used = owner && sameAddress(owner, plan.account) ? plan.subs : plan.subs.slice(0, 1);
    const subs = used.map((sub): SubRead => {
      const index = owner ? subAccountIndex(owner, sub.account) : 0;
      const controlled = success(results[sub.controlled]);
      if (typeof controlled !== 'boolean') return { index, account: sub.account, error: `EVC isControllerEnabled failed: ${failure(results[sub.controlled])}` };
      if (!controlled) return { index, account: sub.account, controlled: false };
      const liquidity = success(results[sub.liquidity]) as readonly [readonly Address[], readonly bigint[], bigint] | undefined;
      if (!liquidity) return { index, account: sub.account, error: `accountLiquidity of sub-account ${index} failed: ${failure(results[sub.liquidity])}` };
      const debt = detail ? success(results[sub.debt]) : 0n;
      const balances = new Map(market.collaterals.map((collateral, i) => [collateral.asset.toLowerCase(), (success(results[sub.balances[i]!]) as bigint | undefined) ?? 0n]));
      if (typeof debt !== 'bigint') return { index, account: sub.account, error: `debtOf of sub-account ${index} failed: ${failure(results[sub.debt])}` };
      return { index, account: sub.account, controlled: true, liquidity: { index, account: sub.account, collaterals: liquidity[0], collateralValues: liquidity[1], liabilityValue: liquidity[2] }, debt, balances };
    });
    scanned.set(plan.account, { owner, subs });
  }
  return { ltvs, prices, accounts: scanned };
}

function quoteCall(market: EulerMarket, token: EulerToken) {
  // One whole token (or collateral vault share), as the vault asks its oracle about it.
  return { address: market.oracle, abi: oracleAbi, functionName: 'getQuote', args: [10n ** BigInt(token.decimals), token.asset, market.unitOfAccount] };
}

/** A zero quote is an oracle that does not know: unknown, never 0. */
function positive(value: unknown): bigint | undefined {
  return typeof value === 'bigint' && value > 0n ? value : undefined;
}

/** The first failed sub-account's error, or every controlled sub-account's liquidity. */
function controlledOf(scan: AccountScan): Extract<SubRead, { controlled: true }>[] | string {
  const failed = scan.subs.find((sub): sub is Extract<SubRead, { error: string }> => 'error' in sub);
  if (failed) return failed.error;
  return scan.subs.filter((sub): sub is Extract<SubRead, { controlled: true }> => 'controlled' in sub && sub.controlled);
}

export async function readEulerAccounts(context: ReadContext, market: EulerMarket, accounts: readonly Address[], at: ReadAt, batchSize: number): Promise<AccountRead[]> {
  const { ltvs, accounts: scanned } = await scan(context, market, accounts, at, batchSize, false);
  const block = await pinnedOf(at);
  return accounts.map((account): AccountRead => {
    const found = scanned.get(account)!;
    const controlled = controlledOf(found);
    if (typeof controlled === 'string') return { account, error: controlled };
    const snapshot = eulerSnapshot(market, { watched: account, owner: found.owner, subAccounts: controlled.map((sub) => sub.liquidity), ltvs, block });
    if (typeof snapshot === 'string') {
      // The vault accepts a collateral it did not when its facts were cached: reload them next tick.
      marketCache.delete(marketKey(market.chainId, market.vault));
      return { account, error: snapshot };
    }
    return { account, snapshot };
  });
}

/** The breakdown of each account's riskiest sub-account (the one its snapshot shows), read at the same block. */
export async function readEulerAssets(context: ReadContext, market: EulerMarket, accounts: readonly Address[], block: PinnedBlock, batchSize: number): Promise<Map<Address, AssetPosition[]>> {
  const { ltvs, prices, accounts: scanned } = await scan(context, market, accounts, block, batchSize, true);
  const details = new Map<Address, AssetPosition[]>();
  for (const account of accounts) {
    const controlled = controlledOf(scanned.get(account)!);
    if (typeof controlled === 'string') continue;
    const riskiest = riskiestSubAccount(controlled.map((sub) => sub.liquidity));
    const sub = controlled.find((candidate) => candidate.account === riskiest?.account);
    if (!sub) continue;
    details.set(account, eulerAssetPositions(market, { sub: sub.liquidity, balances: sub.balances, debt: sub.debt, ltvs, prices }));
  }
  return details;
}

/**
 * Every asset price of the market in its unit of account, from the vault's own oracle, in one
 * call: each collateral vault's share and the lent asset. Euler's router combines adapters, so
 * no single aggregator stands for a price: `feed` is null.
 */
export async function readEulerMarketPrices(context: ReadContext, market: EulerMarket, block: PinnedBlock): Promise<MarketPrices> {
  const tokens = [...market.collaterals, market.asset];
  const results = await multicallAt(context, tokens.map((token) => quoteCall(market, token)), block.number);
  return {
    priceDecimals: market.unitDecimals,
    quoteIsUsd: market.quoteIsUsd,
    flat: sameAddress(market.asset.asset, market.unitOfAccount) ? [market.asset.asset] : [],
    prices: tokens.map((token, index) => ({ asset: token.asset, symbol: token.symbol, price: positive(success(results[index])), feed: null })),
  };
}
