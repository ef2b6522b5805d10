import { decodeFunctionData, encodeFunctionData, formatUnits, type Address, type Hex } from 'viem';
import { AppError } from '../../lib/errors';
import { multicallAt } from '../batch';
import { invalidTopUpAsset, onBehalfRefused, sameAddress, type ActionCall, type AssetFacts, type TopUpCapability } from '../topup-capability';
import type { ReadContext } from '../read-types';
import { borrowerOperationsErrorsAbi, borrowerOperationsTopUpAbi, priceFeedAbi, troveManagerAbi, troveNftAbi } from './abi';
import { mayAddToTrove } from './add-manager';
import { liquityAccountOf, troveIdText, type LiquityMarket } from './normalize';
import { readLiquityAccounts } from './read';
import { LIQUITY_PRESETS } from './presets';

/*
 * Liquity v2 top-ups: `addColl(troveId, amount)` and `repayBold(troveId, amount)` on the
 * branch's BorrowerOperations. Both are open to anyone for a trove whose owner named no
 * add-manager (the default); once one is named, only the owner, that manager and the
 * remove-manager may (see ./add-manager.ts). addColl pulls the collateral with transferFrom
 * (an approval to BorrowerOperations first); repayBold burns BOLD from the caller, no approval.
 * A watch on an owner tops up its weakest trove at the block the decision is made on.
 */

const WAD = 10n ** 18n;
/**
 * liquity/bold's MIN_DEBT (Constants.sol, a compile-time constant: 2,000 BOLD on every
 * deployment of this code, mainnet included). repayBold never takes a trove's debt below it:
 * a larger amount is cut to entireDebt − MIN_DEBT by BorrowerOperations itself.
 */
export const LIQUITY_MIN_DEBT = 2000n * WAD;

const ERROR_WORDS: Record<string, string> = {
  NotOwnerNorAddManager: "the trove's owner named an add-manager (BorrowerOperations.addManagerOf) other than the executor: only the owner, that add-manager or the remove-manager may add collateral or repay; the owner can call setAddManager(troveId, 0x0) to open it again, or name the executor wallet",
  IsShutDown: 'the branch has been shut down: BorrowerOperations takes no adjustment any more',
  TroveNotActive: 'the trove is not active (closed, liquidated, or a zombie below the minimum debt that only its owner can adjust)',
  TroveNotOpen: 'the trove is not open',
  NewOracleFailureDetected: "the branch's price feed failed: BorrowerOperations takes no adjustment until it shuts the branch down",
  ZeroAdjustment: 'nothing to adjust: a repayment can take the debt no lower than 2,000 BOLD (MIN_DEBT)',
  NotEnoughBoldBalance: 'the executor wallet holds less BOLD than the repayment',
};

/** The trove an action goes to: the account itself, or the owner's weakest trove at the block. */
async function troveOf(context: ReadContext, market: LiquityMarket, account: Address, blockNumber: bigint | 'latest'): Promise<bigint> {
  const ref = liquityAccountOf(account);
  if (ref.kind === 'trove') return ref.troveId;
  const block = blockNumber === 'latest' ? await context.client.getBlock({ blockTag: 'latest' }) : await context.client.getBlock({ blockNumber });
  const [read] = await readLiquityAccounts(context, market, [account], { number: block.number, timestamp: block.timestamp }, 100);
  if (!read || !('snapshot' in read)) throw new AppError('read_failed', `could not find the troves of ${account}: ${read && 'error' in read ? read.error : 'no answer'}`, { status: 502 });
  return BigInt(read.snapshot.protocolFields!.troveId as string);
}

function describeLiquity(data: Hex, input: { mode: ActionCall['kind']; asset: AssetFacts; account: Address }): Omit<ActionCall, 'to' | 'data'> {
  const decoded = decodeFunctionData({ abi: borrowerOperationsTopUpAbi, data });
  const [troveId, amount] = decoded.args as readonly [bigint, bigint];
  const human = `${formatUnits(amount, input.asset.decimals)} ${input.asset.symbol}`;
  const trove = troveIdText(troveId);
  return decoded.functionName === 'repayBold'
    ? { kind: 'repay', summary: `repayBold(trove ${trove}, ${human})`, args: { troveId: trove, boldAmount: amount.toString() }, noApproval: true }
    : { kind: 'supply', summary: `addColl(trove ${trove}, ${human})`, args: { troveId: trove, collAmount: amount.toString() } };
}

export const liquityTopUp: TopUpCapability<LiquityMarket> = {
  async checkAsset(_context, market, mode, asset) {
    const wanted = mode === 'supply' ? market.collateral : market.bold;
    if (!sameAddress(asset, wanted.asset)) {
      throw invalidTopUpAsset(mode === 'supply' ? `this branch's only collateral is ${market.collateral.symbol} ${market.collateral.asset}` : `a trove's debt is in BOLD only: repay with ${market.bold.symbol} ${market.bold.asset}`);
    }
    return { asset: wanted.asset, symbol: wanted.symbol, decimals: wanted.decimals };
  },

  spender: (market) => market.borrowerOperations,

  async readAssetState(context, market, input) {
    const troveId = await troveOf(context, market, input.account, input.blockNumber);
    const [priceResult, troveResult] = await multicallAt(
      context,
      [
        { address: market.priceFeed, abi: priceFeedAbi, functionName: 'fetchPrice' },
        { address: market.troveManager, abi: troveManagerAbi, functionName: 'getLatestTroveData', args: [troveId] },
      ],
      input.blockNumber,
    );
    const supply = sameAddress(input.asset.asset, market.collateral.asset);
    const priced = priceResult?.status === 'success' ? (priceResult.result as readonly [bigint, boolean]) : undefined;
    const entireDebt = troveResult?.status === 'success' ? (troveResult.result as { entireDebt: bigint }).entireDebt : 0n;
    return {
      collateralParams: {
        asset: input.asset.asset,
        symbol: input.asset.symbol,
        decimals: input.asset.decimals,
        // In BOLD (18 decimals, $1 as Liquity counts it) per whole token; 1 / MCR as the threshold, as the snapshot has it.
        price: supply ? (priced && priced[0] > 0n ? priced[0] : undefined) : WAD,
        liquidationThresholdBps: supply ? (WAD * 10_000n) / market.mcr : 0n,
      },
      repayable: supply ? 0n : entireDebt > LIQUITY_MIN_DEBT ? entireDebt - LIQUITY_MIN_DEBT : 0n,
      positionId: troveId,
    };
  },

  buildAction(market, input) {
    const ref = liquityAccountOf(input.account);
    const troveId = input.state.positionId ?? (ref.kind === 'trove' ? ref.troveId : undefined);
    if (troveId === undefined) throw new AppError('read_failed', `no trove was resolved for ${input.account}`, { status: 502 });
    const data =
      input.mode === 'supply'
        ? encodeFunctionData({ abi: borrowerOperationsTopUpAbi, functionName: 'addColl', args: [troveId, input.amount] })
        : encodeFunctionData({ abi: borrowerOperationsTopUpAbi, functionName: 'repayBold', args: [troveId, input.amount] });
    return { to: market.borrowerOperations, data, ...describeLiquity(data, input) };
  },

  describeAction: describeLiquity,

  /** Values are in BOLD, which Liquity itself counts at $1. */
  usdUnit: () => WAD,

  // No registry names Liquity branches on chain for us to check against: the owner lists a branch's BorrowerOperations in TOPUP_TRUSTED_MARKETS.
  // A built-in branch: its TroveManager is one of Liquity's own, so the BorrowerOperations it names is too.
  trustedPreset: async (context, market) => LIQUITY_PRESETS.find((preset) => preset.chainId === context.chainId && sameAddress(preset.troveManager, market.troveManager))?.name ?? null,

  describeRevert: (reason) => (ERROR_WORDS[reason] ? `${reason}: ${ERROR_WORDS[reason]}` : reason),

  errorAbi: borrowerOperationsErrorsAbi,

  async checkOnBehalf(context, market, input) {
    const troveId = await troveOf(context, market, input.account, 'latest');
    const [owner, addManager, removeManager] = await multicallAt(context, [
      { address: market.troveNFT, abi: troveNftAbi, functionName: 'ownerOf', args: [troveId] },
      { address: market.borrowerOperations, abi: borrowerOperationsTopUpAbi, functionName: 'addManagerOf', args: [troveId] },
      { address: market.borrowerOperations, abi: borrowerOperationsTopUpAbi, functionName: 'removeManagerReceiverOf', args: [troveId] },
    ]);
    if (owner?.status !== 'success' || addManager?.status !== 'success' || removeManager?.status !== 'success') {
      throw new AppError('read_failed', `could not read who may add to trove ${troveIdText(troveId)} (ownerOf / addManagerOf / removeManagerReceiverOf failed)`, { status: 502 });
    }
    const managers = { owner: owner.result as Address, addManager: addManager.result as Address, removeManager: (removeManager.result as readonly [Address, Address])[0] };
    if (!mayAddToTrove(input.actor, managers)) {
      throw onBehalfRefused(
        `trove ${troveIdText(troveId)} names an add-manager (${managers.addManager}): Liquity then lets only its owner, that add-manager and its remove-manager add collateral or repay, and the executor wallet ${input.actor} is none of them. The owner can call BorrowerOperations.setAddManager(troveId, 0x0000000000000000000000000000000000000000) or name the executor wallet; dry runs still report`,
      );
    }
  },
};
