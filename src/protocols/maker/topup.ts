import { decodeFunctionData, encodeFunctionData, formatUnits, getAddress, type Address, type Hex } from 'viem';
import { AppError } from '../../lib/errors';
import { multicallAt, type CallResult } from '../batch';
import { invalidTopUpAsset, sameAddress, type ActionCall, type AssetFacts, type PrepareCall, type TopUpCapability } from '../topup-capability';
import { daiJoinAbi, gemJoinAbi, jugAbi, spotterAbi, tokenFactsAbi, vatAbi, vatTopUpAbi } from './abi';
import { MAKER_VATS } from './deployments';
import { ilkName } from './ilk';
import { makerJoins } from './joins';
import { collateralPrice, projectedRate, RAY, thresholdBps, type MakerMarket } from './normalize';
import { makerUrnOf } from './read';
import { tokenSymbol } from '../token-symbol';

/*
 * Maker (dss) top-ups. `Vat.frob(ilk, urn, v, w, dink, dart)` needs no consent of the urn's
 * owner when it only adds collateral (dink > 0, dart = 0) or only repays (dink = 0, dart < 0):
 * vat.sol asks wish(u) only for a frob that makes the urn less safe. It asks wish(v) of the gem
 * source and wish(w) of the DAI source, which hold for the executor naming itself. But the frob
 * moves Vat balances, not tokens, so the money goes in first, in three transactions:
 *   supply: approve the ilk's GemJoin, GemJoin.join(executor, amount), frob(+dink, 0)
 *   repay:  approve the DaiJoin,      DaiJoin.join(executor, amount), frob(0, −dart)
 * No order avoids a window (dss has no join-and-frob for another's urn, and a proxy of our own
 * would be a contract to trust): if the join lands and the frob does not, the money sits in the
 * executor's own Vat balance — said in the failure event — and the same tenant's next top-up
 * of the ilk reads that balance (`held`, lowered by the executor to what that tenant's failed
 * actions left there) and uses it before joining more. dart is amount × RAY ÷ the ilk's rate
 * projected an hour ahead, floored: anyone may `jug.drip` between the decision and the frob,
 * and the Vat must still hold the DAI the frob takes (rate × dart). A repayment stops above the
 * ilk's dust (vat.sol refuses a vault left with debt under it); repaying all is the owner's.
 */

const WAD = 10n ** 18n;
const ZERO: Address = '0x0000000000000000000000000000000000000000';
/** How far ahead a repayment's rate is projected: a drip within this time cannot make the frob take more DAI than was joined. */
const RATE_LEAD_SECONDS = 3_600n;

const REVERT_WORDS: Record<string, string> = {
  'Vat/not-live': 'the Vat has been caged (Emergency Shutdown): it takes no frob any more',
  'Vat/dust': "the vault's debt would end below the ilk's minimum (dust), or the ilk's dust was raised above it",
  'Vat/ilk-not-init': 'the Vat does not know this ilk',
  'GemJoin/not-live': "the ilk's GemJoin has been caged: it takes no more collateral",
};

function ok(result: CallResult | undefined): unknown {
  return result?.status === 'success' ? result.result : undefined;
}

/** Units of ink (always 18 decimals) per unit of the gem (GemJoin5 scales tokens of fewer decimals up). */
function inkScale(asset: AssetFacts): bigint {
  return 10n ** BigInt(18 - asset.decimals);
}

function human(amount: bigint, asset: AssetFacts): string {
  return `${formatUnits(amount, asset.decimals)} ${asset.symbol}`;
}

function describeFrob(data: Hex, input: { mode: ActionCall['kind']; asset: AssetFacts; account: Address }): Omit<ActionCall, 'to' | 'data' | 'before'> {
  const decoded = decodeFunctionData({ abi: vatTopUpAbi, data });
  if (decoded.functionName !== 'frob') throw new AppError('internal', `not a Vat.frob call: ${decoded.functionName}`, { status: 500 });
  const [ilk, urn, v, w, dink, dart] = decoded.args as readonly [Hex, Address, Address, Address, bigint, bigint];
  const args = { ilk: ilkName(ilk), urn, v, w, dink: dink.toString(), dart: dart.toString() };
  return dink > 0n
    ? { kind: 'supply', summary: `Vat.frob(${ilkName(ilk)}, urn ${urn}, +${formatUnits(dink, 18)} ink from the executor's Vat balance ≈ ${human(dink / inkScale(input.asset), input.asset)})`, args }
    : { kind: 'repay', summary: `Vat.frob(${ilkName(ilk)}, urn ${urn}, ${formatUnits(dart, 18)} art: repays the DAI from the executor's Vat balance)`, args };
}

export const makerTopUp: TopUpCapability<MakerMarket> = {
  async checkAsset(context, market, mode, asset) {
    const joins = await makerJoins(context, market);
    const wanted = mode === 'supply' ? joins.gem : joins.dai;
    if (!sameAddress(asset, wanted)) {
      throw invalidTopUpAsset(mode === 'supply' ? `ilk ${market.name} takes ${wanted} only (its GemJoin ${joins.gemJoin}'s gem)` : `a Maker vault's debt is DAI: repay with ${wanted} (the DaiJoin ${joins.daiJoin}'s dai)`);
    }
    const [symbol, decimals] = (await multicallAt(context, [
      { address: wanted, abi: tokenFactsAbi, functionName: 'symbol' },
      { address: wanted, abi: tokenFactsAbi, functionName: 'decimals' },
    ])).map(ok);
    const expected = mode === 'supply' ? joins.gemDecimals : 18;
    if (decimals !== expected) throw invalidTopUpAsset(`${wanted} answers decimals ${String(decimals)}, not the ${expected} its join counts in`);
    return { asset: getAddress(wanted), symbol: tokenSymbol(symbol, wanted, mode === 'supply' ? market.symbol : 'DAI'), decimals: expected };
  },

  // The Vat is what the owner trusts (TOPUP_TRUSTED_MARKETS, or the canonical one); approvals go to its joins (`via`), each proven the Vat's own (./joins.ts).
  spender: (market) => market.contracts.vat,

  async readAssetState(context, market, input) {
    const joins = await makerJoins(context, market);
    const urn = await makerUrnOf(context, market, input.account);
    const supply = sameAddress(input.asset.asset, joins.gem);
    const { vat, spot, jug } = market.contracts;
    const actor = input.actor ?? null;
    const [ilk, urnState, spotIlk, par, jugIlk, base, balance] = await multicallAt(
      context,
      [
        { address: vat, abi: vatAbi, functionName: 'ilks', args: [market.ilk] },
        { address: vat, abi: vatAbi, functionName: 'urns', args: [market.ilk, urn] },
        { address: spot, abi: spotterAbi, functionName: 'ilks', args: [market.ilk] },
        { address: spot, abi: spotterAbi, functionName: 'par' },
        { address: jug, abi: jugAbi, functionName: 'ilks', args: [market.ilk] },
        { address: jug, abi: jugAbi, functionName: 'base' },
        // What an earlier join whose frob failed left in the executor's own Vat balance.
        supply
          ? { address: vat, abi: vatTopUpAbi, functionName: 'gem', args: [market.ilk, actor ?? ZERO] }
          : { address: vat, abi: vatTopUpAbi, functionName: 'dai', args: [actor ?? ZERO] },
      ],
      input.blockNumber,
    );
    const ilkState = ok(ilk) as readonly [bigint, bigint, bigint, bigint, bigint] | undefined;
    const urnRead = ok(urnState) as readonly [bigint, bigint] | undefined;
    const mat = (ok(spotIlk) as readonly [Address, bigint] | undefined)?.[1];
    const parValue = ok(par) as bigint | undefined;
    const duty = ok(jugIlk) as readonly [bigint, bigint] | undefined;
    const baseValue = ok(base) as bigint | undefined;
    if (!ilkState || !urnRead || mat === undefined || parValue === undefined || !duty || baseValue === undefined) {
      throw new AppError('read_failed', `could not read ilk ${market.name} and urn ${urn} from the Vat, Spotter and Jug`, { status: 502 });
    }
    const [, rate, spotValue, , dust] = ilkState;
    const held = actor ? ((ok(balance) as bigint | undefined) ?? 0n) : 0n;
    const heldKey = `${vat.toLowerCase()}:${supply ? `gem:${ilkName(market.ilk)}` : 'dai'}`;
    if (supply) {
      return {
        collateralParams: { ...input.asset, price: collateralPrice({ spot: spotValue, mat, par: parValue }), liquidationThresholdBps: thresholdBps(mat) },
        repayable: 0n,
        onBehalfOf: urn,
        via: joins.gemJoin,
        held: { key: heldKey, amount: held / inkScale(input.asset) },
      };
    }
    const block = await context.client.getBlock({ blockNumber: input.blockNumber });
    const rateState = { rate, duty: duty[0], rho: duty[1], base: baseValue };
    const rateNow = projectedRate(rateState, block.timestamp);
    const debt = (urnRead[1] * rateNow) / RAY;
    // One wei of margin over the dust, as rounding of rate × art may cost it.
    const floor = (dust + RAY - 1n) / RAY + 1n;
    return {
      collateralParams: { ...input.asset, price: parValue / 10n ** 9n, liquidationThresholdBps: 0n },
      repayable: debt > floor ? debt - floor : 0n,
      onBehalfOf: urn,
      via: joins.daiJoin,
      held: { key: heldKey, amount: held / RAY },
      debtRate: projectedRate(rateState, block.timestamp + RATE_LEAD_SECONDS),
      listedAs: vat,
    };
  },

  buildAction(market, input) {
    const urn = input.state.onBehalfOf;
    const join = input.state.via;
    if (!urn || !join) throw new AppError('read_failed', `no urn or join was resolved for ${input.account}`, { status: 502 });
    const actor = input.actor ?? ZERO;
    // What the Vat balance already holds is used first; only the rest is joined (and approved).
    const held = input.state.held?.amount ?? 0n;
    const fromVat = held < input.amount ? held : input.amount;
    const joined = input.amount - fromVat;
    const where =
      input.mode === 'supply'
        ? `Vat.gem(${market.name}, ${actor})`
        : `Vat.dai(${actor})`;
    const before: PrepareCall[] =
      joined > 0n
        ? [{
            to: join,
            data: encodeFunctionData({ abi: input.mode === 'supply' ? gemJoinAbi : daiJoinAbi, functionName: 'join', args: [actor, joined] }),
            ifLaterFails: `The ${human(joined, input.asset)} the join moved sits in the executor's own Vat balance (${where}), not in the vault: this tenant's next top-up of the ilk uses it before joining more, and the operator can take it out with ${input.mode === 'supply' ? 'GemJoin' : 'DaiJoin'}.exit`,
            strands: joined,
          }]
        : [];
    let data: Hex;
    if (input.mode === 'supply') {
      data = encodeFunctionData({ abi: vatTopUpAbi, functionName: 'frob', args: [market.ilk, urn, actor, actor, input.amount * inkScale(input.asset), 0n] });
    } else {
      const rate = input.state.debtRate;
      if (!rate) throw new AppError('read_failed', `the rate of ilk ${market.name} was not read`, { status: 502 });
      data = encodeFunctionData({ abi: vatTopUpAbi, functionName: 'frob', args: [market.ilk, urn, actor, actor, 0n, -((input.amount * RAY) / rate)] });
    }
    return { to: market.contracts.vat, data, ...describeFrob(data, input), approveAmount: joined, fromHeld: fromVat, before };
  },

  describeAction: describeFrob,

  describePrepare(to, data, input) {
    const [usr, wad] = decodeFunctionData({ abi: gemJoinAbi, data }).args as readonly [Address, bigint];
    return `${input.mode === 'supply' ? 'GemJoin' : 'DaiJoin'} ${to}: join(${usr}, ${human(wad, input.asset)}) into the executor's Vat balance`;
  },

  /** Values are US dollars with 18 decimals (the pip's price; DAI at par). */
  usdUnit: () => WAD,

  // The canonical Vat is Maker's own; another is trusted only where the owner lists it in TOPUP_TRUSTED_MARKETS.
  trustedPreset: async (context, market) => (sameAddress(MAKER_VATS[context.chainId] ?? ZERO, market.contracts.vat) ? `maker ${market.name}` : null),

  describeRevert: (reason) => (REVERT_WORDS[reason] ? `${reason}: ${REVERT_WORDS[reason]}` : reason),
};
