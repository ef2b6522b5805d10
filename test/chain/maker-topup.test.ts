import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAbi, parseUnits, type Address, type Hex } from 'viem';
import { startLocalChain, type LocalChain } from '../../tools/chain';
import { sendContractTx } from '../../tools/chain/actions';
import { RAY, deployIlk, deployMaker, dripMaker, openMakerVault, setMakerPrice, type LocalMaker } from '../../tools/chain/maker';
import { createChainClient } from '../../src/chain/client';
import { CANONICAL_MULTICALL3 } from '../../src/config/env';
import { makerAdapter } from '../../src/protocols/maker';
import { makerTopUp } from '../../src/protocols/maker/topup';
import type { MakerMarket } from '../../src/protocols/maker/normalize';
import type { ReadContext } from '../../src/protocols/read-types';
import type { AssetFacts } from '../../src/protocols/topup-capability';

/*
 * The Maker top-up's calls on real dss bytecode (Vat, GemJoin, DaiJoin, Dai, Jug), sent by an
 * unlocked anvil account standing in for the executor wallet: the joins are checked on chain,
 * a repayment's dart still fits the joined DAI after a drip between the decision and the frob
 * and never leaves the vault under dust, and a balance already in the Vat is used instead of
 * joining again.
 */

let chain: LocalChain;
let local: LocalMaker;
let executor: Address;
let market: MakerMarket;

const tokenAbi = parseAbi(['function mint(address usr, uint256 wad)', 'function approve(address spender, uint256 amount) returns (bool)']);
const vatReadAbi = parseAbi([
  'function urns(bytes32 ilk, address urn) view returns (uint256 ink, uint256 art)',
  'function ilks(bytes32 ilk) view returns (uint256 Art, uint256 rate, uint256 spot, uint256 line, uint256 dust)',
  'function gem(bytes32 ilk, address usr) view returns (uint256)',
  'function dai(address usr) view returns (uint256)',
]);

function context(extra: Record<string, Address> = {}): ReadContext {
  const { client } = createChainClient({ chainId: chain.chainId, rpcUrls: [chain.rpcUrl], multicall3: CANONICAL_MULTICALL3 });
  return { client, chainId: chain.chainId, multicall3: CANONICAL_MULTICALL3, protocolContracts: { maker: { vat: local.vat, spot: local.spot, jug: local.jug, dog: local.dog, daiJoin: local.daiJoin, 'join:ETH-A': local.ilk.join, ...extra } } };
}

async function send(to: Address, data: Hex): Promise<'success' | 'reverted'> {
  const hash = await chain.clients.walletClient.sendTransaction({ account: executor, to, data, gas: 1_000_000n });
  return (await chain.clients.publicClient.waitForTransactionReceipt({ hash })).status;
}

async function latest(): Promise<bigint> {
  // Uncached: viem answers a block number read within its polling interval from cache, which can be the block before a transaction just awaited.
  return chain.clients.publicClient.getBlockNumber({ cacheTime: 0 });
}

async function urn(address: Address) {
  const [ink, art] = await chain.clients.publicClient.readContract({ address: local.vat, abi: vatReadAbi, functionName: 'urns', args: [local.ilk.ilk, address] });
  return { ink, art };
}

beforeAll(async () => {
  chain = await startLocalChain();
  local = await deployMaker(chain.clients, chain.accounts[0]!);
  executor = chain.accounts[1]!;
  market = await makerAdapter.loadMarket(context(), { market: local.ilk.ilk, protocolAddress: local.vat });
  await sendContractTx(chain.clients, local.admin, { address: local.ilk.gem, abi: tokenAbi, functionName: 'mint', args: [executor, parseUnits('10', 18)] });
  await sendContractTx(chain.clients, local.admin, { address: local.dai, abi: tokenAbi, functionName: 'mint', args: [executor, parseUnits('5000', 18)] });
}, 180_000);

afterAll(async () => {
  await chain?.stop();
});

describe('Maker top-up calls on real dss', () => {
  it('takes the GemJoin and DaiJoin only when the Vat confirms them: the join of another ilk named for ETH-A is refused at topUp.asset', async () => {
    const weth = await makerTopUp.checkAsset(context(), market, 'supply', local.ilk.gem);
    expect(weth).toEqual({ asset: local.ilk.gem, symbol: 'WETH', decimals: 18 });
    expect(await makerTopUp.checkAsset(context(), market, 'repay', local.dai)).toMatchObject({ asset: local.dai, decimals: 18 });
    await expect(makerTopUp.checkAsset(context(), market, 'repay', local.ilk.gem)).rejects.toMatchObject({ code: 'validation_failed', message: expect.stringContaining(local.dai) });
    const other = await deployIlk(chain.clients, local, { name: 'ETH-Z' });
    const otherMarket = await makerAdapter.loadMarket(context({ 'join:ETH-Z': local.ilk.join }), { market: other.ilk, protocolAddress: local.vat });
    await expect(makerTopUp.checkAsset(context({ 'join:ETH-Z': local.ilk.join }), otherMarket, 'supply', local.ilk.gem)).rejects.toMatchObject({ code: 'validation_failed', message: expect.stringContaining('is not the GemJoin of ilk ETH-Z') });
  });

  it('a repayment of everything above dust, decided before an hour of fees and a drip, still frobs: dart × the dripped rate fits the joined DAI and the debt stays at or above dust', async () => {
    await setMakerPrice(chain.clients, local, '2000');
    const account = await openMakerVault(chain.clients, local, { collateral: '1', debt: '1000' });
    const dai: AssetFacts = await makerTopUp.checkAsset(context(), market, 'repay', local.dai);
    const state = await makerTopUp.readAssetState(context(), market, { account, asset: dai, blockNumber: await latest(), actor: executor });
    // 1,000 DAI less the 100 DAI dust (and a wei of margin), plus the fees of the seconds between the open and the read.
    expect(state.repayable).toBeGreaterThan(parseUnits('899.9', 18));
    expect(state.repayable).toBeLessThan(parseUnits('900.001', 18));
    const action = makerTopUp.buildAction(market, { mode: 'repay', asset: dai, amount: state.repayable, account, state, actor: executor });
    expect(action.before).toHaveLength(1);
    expect(action.approveAmount).toBe(state.repayable);
    // Half an hour later someone drips: the Vat's rate rises before the frob.
    await chain.clients.testClient.increaseTime({ seconds: 1_800 });
    await dripMaker(chain.clients, local);
    const before = await urn(account);
    await sendContractTx(chain.clients, executor, { address: local.dai, abi: tokenAbi, functionName: 'approve', args: [local.daiJoin, action.approveAmount!] });
    expect(await send(action.before![0]!.to, action.before![0]!.data)).toBe('success');
    expect(await send(action.to, action.data)).toBe('success');
    const after = await urn(account);
    const [, rate, , , dust] = await chain.clients.publicClient.readContract({ address: local.vat, abi: vatReadAbi, functionName: 'ilks', args: [local.ilk.ilk] });
    expect(after.ink).toBe(before.ink);
    expect(after.art * rate).toBeGreaterThanOrEqual(dust);
    // What the frob did not take stays in the executor's Vat balance: a fraction of a wei of DAI per DAI repaid.
    const left = await chain.clients.publicClient.readContract({ address: local.vat, abi: vatReadAbi, functionName: 'dai', args: [executor] });
    expect(left).toBeLessThan(parseUnits('0.01', 18) * RAY);
  });

  it('gem already in the executor\'s Vat balance is used first: no approval and no join when it covers the amount, and the frob alone adds it to the urn', async () => {
    await setMakerPrice(chain.clients, local, '2000');
    const account = await openMakerVault(chain.clients, local, { collateral: '1', debt: '1000' });
    const weth = await makerTopUp.checkAsset(context(), market, 'supply', local.ilk.gem);
    // A join whose frob never came: 0.5 WETH sits in the executor's Vat balance.
    await sendContractTx(chain.clients, executor, { address: local.ilk.gem, abi: tokenAbi, functionName: 'approve', args: [local.ilk.join, parseUnits('0.5', 18)] });
    await sendContractTx(chain.clients, executor, { address: local.ilk.join, abi: parseAbi(['function join(address usr, uint256 wad)']), functionName: 'join', args: [executor, parseUnits('0.5', 18)] });
    const state = await makerTopUp.readAssetState(context(), market, { account, asset: weth, blockNumber: await latest(), actor: executor });
    expect(state.held).toEqual({ key: `${local.vat.toLowerCase()}:gem:ETH-A`, amount: parseUnits('0.5', 18) });
    const covered = makerTopUp.buildAction(market, { mode: 'supply', asset: weth, amount: parseUnits('0.3', 18), account, state, actor: executor });
    expect(covered.before).toEqual([]);
    expect(covered.approveAmount).toBe(0n);
    expect(covered.fromHeld).toBe(parseUnits('0.3', 18));
    expect(await send(covered.to, covered.data)).toBe('success');
    expect((await urn(account)).ink).toBe(parseUnits('1.3', 18));
    // The rest (0.2) and 0.3 more: only the 0.3 is approved and joined.
    const next = await makerTopUp.readAssetState(context(), market, { account, asset: weth, blockNumber: await latest(), actor: executor });
    const partial = makerTopUp.buildAction(market, { mode: 'supply', asset: weth, amount: parseUnits('0.5', 18), account, state: next, actor: executor });
    expect(partial.approveAmount).toBe(parseUnits('0.3', 18));
    expect(partial.fromHeld).toBe(parseUnits('0.2', 18));
    expect(partial.before![0]!.strands).toBe(parseUnits('0.3', 18));
    expect(makerTopUp.describePrepare!(partial.before![0]!.to, partial.before![0]!.data, { mode: 'supply', asset: weth, account })).toContain(`GemJoin ${local.ilk.join}: join(${executor}, 0.3 WETH)`);
  });
});
