import { describe, expect, it } from 'vitest';
import { formatUnits, parseUnits, type Address } from 'viem';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import type { LocalChain } from '../../tools/chain';
import { withFluidChain } from './fluid-chain';
import { FLUID_NATIVE_TOKEN, fluidPosition, newFluidOwner, openFluidNativePosition, setFluidNativePrice, type LocalFluid } from '../../tools/chain/fluid';
import { createChainClient } from '../../src/chain/client';
import { CANONICAL_MULTICALL3 } from '../../src/config/env';
import { topUpProtocolOf } from '../../src/protocols';
import { WAD } from '../../src/domain/position';
import { broadcast, readFreshState, receiptOf, signStep, simulateStep, simulateSteps, type Step } from '../../src/topup/chain';
import { buildSteps } from '../../src/topup/steps';
import { stepCallOf, storedStepsOf } from '../../src/topup/records';
import type { TopUpRequest } from '../../src/topup/request';

/*
 * A top-up of native ETH into a Fluid ETH/USDC T1 vault (collateral NATIVE_TOKEN, paid as the
 * transaction's value), on the real liquidity layer and vault bytecode: the executor's own
 * steps are built, simulated, signed and broadcast as the executor does, and the vault's
 * resolver is the reference for the result.
 */

let chain: LocalChain;
let local: LocalFluid;

function context() {
  const { client } = createChainClient({ chainId: chain.chainId, rpcUrls: [chain.rpcUrl], multicall3: CANONICAL_MULTICALL3 });
  return { client, chainId: chain.chainId, multicall3: CANONICAL_MULTICALL3, protocolContracts: { fluid: { vaultResolver: local.vaultResolver } } };
}

const ETH = { asset: FLUID_NATIVE_TOKEN, symbol: 'ETH', decimals: 18 };

function request(account: Address): TopUpRequest {
  return {
    watch: { id: 'w1', chainId: chain.chainId, protocol: 'fluid', market: local.native.vault, protocolAddress: null, account, label: null },
    tenantId: 't1',
    policy: { mode: 'supply', asset: FLUID_NATIVE_TOKEN, symbol: 'ETH', decimals: 18 },
    episode: 1,
    observedBlock: '0',
    observedHealthFactor: null,
  } as unknown as TopUpRequest;
}

/** The resolver's health factor: supply × liquidation price / 1e27 × LT / borrow. */
async function theirHealthFactor(nftId: bigint): Promise<bigint> {
  const position = await fluidPosition(chain.clients, { ...local, vault: local.native.vault }, nftId);
  return (position.supply * position.oraclePriceLiquidate * BigInt(position.liquidationThreshold) * WAD) / (10n ** 27n * 10_000n * position.borrow);
}

/** A fresh executor key holding `eth` of native ETH. */
async function executorWith(eth: string) {
  const account = privateKeyToAccount(generatePrivateKey());
  await chain.testClient.setBalance({ address: account.address, value: parseUnits(eth, 18) });
  return account;
}

withFluidChain((started, deployed) => {
  chain = started;
  local = deployed;
});

describe('Fluid top-up of native ETH collateral (ETH/USDC T1 vault)', () => {
  it('the market reads its collateral as ETH at the native stand-in address, and the position with the vault oracle\'s price', async () => {
    const owner = await newFluidOwner(chain.clients);
    // 1 ETH at 2,000 USDC × LT 0.85 against 1,000 USDC: HF 1.70.
    const nftId = await openFluidNativePosition(chain.clients, local, { owner, eth: '1', borrowUsdc: '1000' });
    const protocol = topUpProtocolOf({ protocol: 'fluid', market: local.native.vault });
    const market = await protocol.adapter.loadMarket(context(), protocol.ref);
    await expect(protocol.capability.checkAsset(context(), market, 'supply', FLUID_NATIVE_TOKEN)).resolves.toEqual(ETH);
    const block = await chain.clients.publicClient.getBlock();
    const [read] = await protocol.adapter.readAccounts(context(), market, [owner], { number: block.number, timestamp: block.timestamp }, 1);
    expect(read && 'snapshot' in read ? read.snapshot.healthFactor : null).toBe(await theirHealthFactor(nftId));
    expect(Number(formatUnits(await theirHealthFactor(nftId), 18))).toBeCloseTo(1.7, 6);
  });

  it('the executor\'s steps send operate with the amount as value and no approval; simulated, signed and mined, they bring the position to the target on the resolver\'s view', async () => {
    const owner = await newFluidOwner(chain.clients);
    // 1 ETH against 1,300 USDC: HF 1.1115 at 1,700. HF 1.5 needs 1.5 × 1,300 / (1,700 × 0.85) = 1.3495 ETH: 0.35 more.
    const nftId = await openFluidNativePosition(chain.clients, local, { owner, eth: '1', borrowUsdc: '1300' });
    await setFluidNativePrice(chain.clients, local, '1700');
    const signer = await executorWith('2');
    const protocol = topUpProtocolOf({ protocol: 'fluid', market: local.native.vault });
    const blockNumber = await chain.clients.publicClient.getBlockNumber({ cacheTime: 0 });
    const state = await readFreshState(context(), { protocol, account: owner, asset: ETH, signer: signer.address, blockNumber, live: true });
    expect(state.wallet).toEqual({ token: parseUnits('2', 18), native: parseUnits('2', 18), allowance: 0n });
    expect(Number(formatUnits(state.collateralParams!.price!, 6))).toBeCloseTo(1700, 6);

    const amount = parseUnits('0.35', 18);
    const built = buildSteps(protocol, request(owner), state, amount, signer.address);
    expect(built.steps.map((step) => [step.kind, step.to, step.value])).toEqual([['supply', local.native.vault, amount]]);
    // Stored as JSON and read back, the value survives as a decimal string.
    const [stored] = JSON.parse(JSON.stringify(storedStepsOf(built.steps))) as ReturnType<typeof storedStepsOf>;
    expect(stored!.value).toBe(amount.toString());
    const call = stepCallOf(stored!);
    expect(call.value).toBe(amount);

    const simulation = await simulateSteps(chain.clients.publicClient, signer.address, built.steps, protocol.capability);
    expect(simulation.ok).toBe(true);
    const fees = { type: 'eip1559' as const, maxFeePerGas: 10n ** 10n, maxPriorityFeePerGas: 10n ** 9n };
    const nonce = await chain.clients.publicClient.getTransactionCount({ address: signer.address });
    const signed = await signStep(signer, { chainId: chain.chainId, nonce, step: call, gas: 1_000_000n, fees });
    expect(await broadcast(chain.clients.publicClient, signed.raw)).toEqual({ ok: true });
    await chain.actions.mine(1);
    const receipt = await receiptOf(chain.clients.publicClient, signed.hash);
    expect(receipt?.status).toBe('success');

    const after = await fluidPosition(chain.clients, { ...local, vault: local.native.vault }, nftId);
    expect(after.supply).toBeGreaterThanOrEqual(parseUnits('1.35', 18) - 10n ** 12n);
    expect(Number(formatUnits(await theirHealthFactor(nftId), 18))).toBeGreaterThanOrEqual(1.5);
    // The wallet paid the value and the gas, nothing else.
    const spent = parseUnits('2', 18) - (await chain.clients.publicClient.getBalance({ address: signer.address }));
    expect(spent - amount).toBe(receipt!.gasUsed * receipt!.effectiveGasPrice);
  });

  it('the same operate without the value, or with a value other than the amount, is refused by the vault (Vault__InvalidMsgValueOperate)', async () => {
    const owner = await newFluidOwner(chain.clients);
    await openFluidNativePosition(chain.clients, local, { owner, eth: '1', borrowUsdc: '1300' });
    const signer = await executorWith('2');
    const protocol = topUpProtocolOf({ protocol: 'fluid', market: local.native.vault });
    const state = await readFreshState(context(), { protocol, account: owner, asset: ETH, signer: signer.address, blockNumber: await chain.clients.publicClient.getBlockNumber({ cacheTime: 0 }), live: false });
    const [step] = buildSteps(protocol, request(owner), state, parseUnits('0.1', 18), signer.address).steps as [Step];
    for (const value of [0n, parseUnits('0.2', 18)]) {
      const simulation = await simulateSteps(chain.clients.publicClient, signer.address, [{ ...step, value }], protocol.capability);
      expect(simulation).toMatchObject({ ok: false, step: 0, reason: expect.stringContaining('Fluid error 31003') });
    }
  });

  it('a wallet with less ETH than the value cannot send it: the one-step check (eth_call with the value) fails naming the funds', async () => {
    const owner = await newFluidOwner(chain.clients);
    await openFluidNativePosition(chain.clients, local, { owner, eth: '1', borrowUsdc: '1300' });
    const signer = await executorWith('0.05');
    const protocol = topUpProtocolOf({ protocol: 'fluid', market: local.native.vault });
    const state = await readFreshState(context(), { protocol, account: owner, asset: ETH, signer: signer.address, blockNumber: await chain.clients.publicClient.getBlockNumber({ cacheTime: 0 }), live: false });
    const built = buildSteps(protocol, request(owner), state, parseUnits('0.1', 18), signer.address);
    const check = await simulateStep(chain.clients.publicClient, signer.address, built.steps[0]!, protocol.capability);
    expect(check, JSON.stringify(check)).toMatchObject({ ok: false, reason: expect.stringMatching(/exceeds the balance|insufficient funds/i) });
  });
});
