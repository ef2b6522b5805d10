import type { Abi, Address, Hex } from 'viem';
import { AppError } from '../lib/errors';
import type { CollateralAssetParams } from '../domain/risk';
import { countedInToken, type ValueUnit } from '../domain/usd-unit';
import type { TrustedMarketKey } from '../config/topup-env';
import type { TopUpMode } from '../domain/topup-plan';
import type { ReadContext } from './read-types';

/*
 * What a protocol provides for auto-top-ups: its own supply / repay on behalf of an account,
 * and the facts a decision needs. The executor (src/durable/topup.ts) does the rest the same
 * way for every protocol: the owner's grant and trusted markets, the checks before each
 * broadcast, simulation, nonces, receipts.
 */

export type AssetFacts = { asset: Address; symbol: string; decimals: number };

/** The policy asset for one account at one block. */
export type PolicyAssetState = {
  /** Its price (market unit per whole token) and liquidation threshold as the protocol applies them to this account. */
  collateralParams: CollateralAssetParams | undefined;
  /** The most one repayment can pay (Aave: one rate mode's balance); 0 for supply. */
  repayable: bigint;
  /** Aave: the rate mode a repayment uses (the larger balance). */
  rateMode?: 1n | 2n;
  /**
   * The protocol's own id of the position the action goes to, where the watch's account is not
   * itself that position: a Liquity owner's weakest trove, a Fluid owner's weakest NFT. Read at
   * the same block, so the action goes to the position the decision was made on.
   */
  positionId?: bigint;
  /** The account the action is for, where the watched one names a group (an Euler owner → its riskiest sub-account). */
  onBehalfOf?: Address;
  /**
   * The contract that takes the approval and the call for this account, where it depends on
   * the account (Euler: the collateral vault it has enabled for the asset); otherwise `spender(market)`.
   */
  via?: Address;
  /**
   * What the executor (`actor`) already holds inside the protocol for this asset, in token units
   * (Maker: gem or DAI left in its own Vat balance by a join whose frob failed), and the name of
   * that balance (`key`, the same for every account it could go to: Maker `<vat>:gem:<ilk>` or
   * `<vat>:dai`). The action uses it before taking more from the wallet. The executor lowers
   * `amount` to what the tenant's own failed actions left there (./held-ledger), so one tenant's
   * stranded money never pays for another tenant's vault.
   */
  held?: HeldBalance;
  /**
   * Where the market's values are not in US dollars (`usdUnit` undefined): the token they are
   * counted in and how many value units make one whole token at this block (Morpho: the loan
   * token; Comet: the base token, at its price in the feeds' unit). With the owner's USD price
   * feed for that token (USD_PRICE_FEEDS) actions are valued against the USD budget.
   */
  valueUnit?: ValueUnit;
  /** RAY: the protocol's normalized-debt rate a repayment is converted with (Maker: the ilk's rate, projected ahead). */
  debtRate?: bigint;
  /**
   * The address the position's breakdown lists this asset under, where it is not the token (Maker:
   * the DAI debt under the Vat): the planner then finds the debt the policy asset repays.
   */
  listedAs?: Address;
};

/**
 * A call made after the approval and before the action's own call, in order (Maker: the join
 * that moves the tokens into the Vat, before the frob). `ifLaterFails` says where the money is
 * when this call succeeded and a later one did not; the failure event repeats it. Shown to a
 * human through `describePrepare`. `strands`: the amount (token units) that call adds to the
 * held balance (PolicyAssetState.held) when it succeeded and a later one did not.
 */
export type PrepareCall = { to: Address; data: Hex; ifLaterFails?: string; strands?: bigint };

/** A balance the executor holds inside a protocol (see PolicyAssetState.held): its name and amount in token units. */
export type HeldBalance = { key: string; amount: bigint };

/** The money transaction, with its face for a human (the event shows it). */
export type ActionCall = {
  kind: TopUpMode;
  to: Address;
  data: Hex;
  summary: string;
  args: Record<string, string | number>;
  /**
   * True where the call takes the tokens without an allowance (Liquity's repayBold burns BOLD
   * from the caller): no approval goes before it. Otherwise an approval of exactly the amount does.
   */
  noApproval?: true;
  /** The amount the approval covers, where it is not the action's amount (Maker: what is joined, net of what the Vat already holds); 0: no approval. */
  approveAmount?: bigint;
  /** How much of the held balance (PolicyAssetState.held) the call takes, when it succeeds. */
  fromHeld?: bigint;
  /** Calls sent between the approval and this one, in order; each is simulated, signed, sent and recorded as its own step. */
  before?: PrepareCall[];
  /**
   * Native coin (wei) sent as the transaction's value, where the protocol takes the asset that
   * way (Fluid: a native-ETH side of a vault); no approval goes before such a call.
   */
  value?: bigint;
};

export interface TopUpCapability<Market> {
  /** The asset checked against the market for the mode (a 400 at `topUp.asset` saying why not), with its symbol and decimals. */
  checkAsset(context: ReadContext, market: Market, mode: TopUpMode, asset: Address): Promise<AssetFacts>;
  /** The contract that receives the approval and the call (unless the account's state names another: `via`); the owner's trust is given to it. */
  spender(market: Market): Address;
  /** One Multicall3 read of the policy asset for the account at the block. */
  readAssetState(context: ReadContext, market: Market, input: { account: Address; asset: AssetFacts; blockNumber: bigint; actor?: Address | null }): Promise<PolicyAssetState>;
  /** `actor`: the executor wallet that sends the calls (null in a dry run without a signer). */
  buildAction(market: Market, input: { mode: TopUpMode; asset: AssetFacts; amount: bigint; account: Address; state: PolicyAssetState; actor?: Address | null }): ActionCall;
  /** Decodes a call this capability built, for showing a stored action again. */
  describeAction(data: Hex, input: { mode: TopUpMode; asset: AssetFacts; account: Address }): Omit<ActionCall, 'to' | 'data' | 'before' | 'value'>;
  /** Decodes a preparing call (`ActionCall.before`) this capability built, for showing a stored action again. */
  describePrepare?(to: Address, data: Hex, input: { mode: TopUpMode; asset: AssetFacts; account: Address }): string;
  /** How many units of the market's value unit make one US dollar (Aave: 1e8); undefined when the unit is not USD. */
  usdUnit(market: Market): bigint | undefined;
  /**
   * Whether the owner's list (TOPUP_TRUSTED_MARKETS, asked through `listed`) trusts this market,
   * where listing its spender is not the rule (Morpho Blue: one contract holds markets anyone can
   * create, each with tokens and an oracle of its creator's choosing, so the owner lists market
   * ids, each trusted only inside the chain's canonical Morpho or a Morpho contract also listed),
   * and how a refusal names the market (`what`). Absent: the spender is listed, and named (`market 0x…`).
   */
  ownerListing?(market: Market, input: { chainId: number; listed: (key: TrustedMarketKey) => boolean }): { trusted: boolean; what: string };
  /**
   * The name of the built-in deployment this market belongs to, decided on chain where the
   * protocol has a registry (Aave: the PoolAddressesProvider's getPool()); null when it is none.
   */
  trustedPreset(context: ReadContext, market: Market): Promise<string | null>;
  /** A revert reason in words (Aave's numeric codes named; a custom error by its name, from `errorAbi`). */
  describeRevert(reason: string): string;
  /** The protocol's custom errors, so a revert in a simulation is named rather than shown as raw data. */
  errorAbi?: Abi;
  /**
   * For live policies: whether the protocol lets the executor (`actor`) act on the account at
   * all, where the position itself decides (a Liquity trove's add-manager; an Euler sub-account's
   * enabled collaterals). A 400
   * `topup_not_allowed_by_position` at `account` saying why not; absent where anyone may.
   */
  checkOnBehalf?(context: ReadContext, market: Market, input: { account: Address; mode: TopUpMode; asset: AssetFacts; actor: Address }): Promise<void>;
}

/** The position does not let the executor act for it: a 400 at `account` saying why and what the owner can do. */
export function onBehalfRefused(message: string): AppError {
  return new AppError('topup_not_allowed_by_position', message, { status: 400, issues: [{ path: 'account', message }] });
}

/** A policy asset the protocol cannot take for the mode: a 400 naming `topUp.asset` and saying why. */
export function invalidTopUpAsset(message: string): AppError {
  return new AppError('validation_failed', `topUp.asset: ${message}`, { status: 400, issues: [{ path: 'topUp.asset', message }] });
}

/** For a market counted in a token's units (10^decimals to one): that token as its value unit, unless it is a dollar stablecoin (counted at $1). */
export function tokenValueUnit(token: { asset: Address; symbol: string; decimals: number }): Pick<PolicyAssetState, 'valueUnit'> {
  const { valueUnit } = countedInToken(token);
  return valueUnit ? { valueUnit } : {};
}

/** Units of a token per US dollar when it is a dollar stablecoin (counted at $1); undefined otherwise. */
export function stablecoinUsdUnit(token: { asset: Address; symbol: string; decimals: number }): bigint | undefined {
  return countedInToken(token).baseUsdPrice;
}

/**
 * The stand-in address protocols use for the chain's native coin (ERC-7528; Fluid's NATIVE_TOKEN):
 * such an asset is sent as a transaction's value, held as the wallet's native balance, never approved.
 */
export const NATIVE_ASSET: Address = '0xEeeeeEeeeEeEeeEeEeEeeEEEeeeeEeeeeeeeEEeE';

export function isNativeAsset(asset: string): boolean {
  return sameAddress(asset, NATIVE_ASSET);
}

export function sameAddress(left: string, right: string): boolean {
  return left.toLowerCase() === right.toLowerCase();
}
