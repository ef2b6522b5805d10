import { describe, expect, it } from 'vitest';
import { privateKeyToAccount } from 'viem/accounts';
import { bumpFees, checkEndpoints, gwei, maxGasCost, quoteFees, type EndpointProbe, type Fees } from '../../src/topup/guards';
import { parseConfig } from '../../src/config/env';
import { buildTopUpEvent, topUpEventId, triggerId } from '../../src/topup/events';
import { messageFor } from '../../src/notify/render';
import { describeAaveRevert } from '../../src/protocols/aave-v3/errors';
import type { StoredTopUpPolicy } from '../../src/config/topup-policy';

const WAD = 10n ** 18n;
const GWEI = 10n ** 9n;
const ok = (label: string, blockNumber: bigint, healthFactor: bigint | null, chainId = 1): EndpointProbe => ({ label, ok: true, chainId, blockNumber, healthFactor });
const down = (label: string): EndpointProbe => ({ label, ok: false, error: 'timed out after 8000 ms' });

describe('checkEndpoints', () => {
  const hf = (117n * WAD) / 100n;
  it.each<[string, EndpointProbe[], bigint, ReturnType<typeof checkEndpoints>]>([
    ['one fresh endpoint', [ok('a', 100n, hf)], 100n, { ok: true, blockNumber: 100n }],
    ['reads at the block every endpoint has', [ok('a', 102n, hf), ok('b', 100n, hf)], 99n, { ok: true, blockNumber: 100n }],
    ['an endpoint that is down is skipped', [down('a'), ok('b', 100n, hf)], 100n, { ok: true, blockNumber: 100n }],
    ['health factors within 10 bps agree (interest between blocks)', [ok('a', 101n, hf), ok('b', 100n, hf - hf / 2000n)], 100n, { ok: true, blockNumber: 100n }],
  ])('%s', (_name, probes, minBlock, expected) => {
    expect(checkEndpoints(probes, { chainId: 1, minBlock })).toEqual(expected);
  });

  it.each<[string, EndpointProbe[], bigint, string]>([
    ['an endpoint on another chain', [ok('a', 100n, hf), ok('b', 100n, hf, 5)], 100n, 'wrong_chain'],
    ['every endpoint down', [down('a'), down('b')], 100n, 'rpc_unavailable'],
    ['endpoints disagree on the health factor', [ok('a', 100n, hf), ok('b', 97n, (156n * WAD) / 100n)], 90n, 'rpc_disagree'],
    ['one sees debt, the other none', [ok('a', 100n, hf), ok('b', 100n, null)], 90n, 'rpc_disagree'],
    ['behind the block the trigger was seen at', [ok('a', 97n, hf)], 100n, 'rpc_stale'],
    ['the wrong chain wins over everything else', [ok('a', 1n, hf, 10)], 100n, 'wrong_chain'],
  ])('refuses: %s', (_name, probes, minBlock, code) => {
    const result = checkEndpoints(probes, { chainId: 1, minBlock });
    expect(result).toMatchObject({ ok: false, code });
    expect((result as { message: string }).message.length).toBeGreaterThan(20);
  });
});

describe('fees', () => {
  const cap = 50n * GWEI;
  it('prices for two doublings of the base fee, never above the cap', () => {
    expect(quoteFees({ baseFeePerGas: 10n * GWEI, priorityFee: GWEI, gasPrice: 11n * GWEI }, cap)).toEqual({ ok: true, price: 11n * GWEI, fees: { type: 'eip1559', maxFeePerGas: 21n * GWEI, maxPriorityFeePerGas: GWEI } });
    expect(quoteFees({ baseFeePerGas: 40n * GWEI, priorityFee: 2n * GWEI, gasPrice: 42n * GWEI }, cap)).toEqual({ ok: true, price: 42n * GWEI, fees: { type: 'eip1559', maxFeePerGas: cap, maxPriorityFeePerGas: 2n * GWEI } });
    expect(quoteFees({ baseFeePerGas: null, priorityFee: 0n, gasPrice: 5n * GWEI }, cap)).toEqual({ ok: true, price: 5n * GWEI, fees: { type: 'legacy', gasPrice: 5n * GWEI } });
  });

  it('refuses above the cap, naming the setting', () => {
    const refused = quoteFees({ baseFeePerGas: 49n * GWEI, priorityFee: 2n * GWEI, gasPrice: 51n * GWEI }, cap);
    expect(refused).toMatchObject({ ok: false, code: 'gas_price_above_cap' });
    expect((refused as { message: string }).message).toContain('51 gwei');
    expect((refused as { message: string }).message).toContain('TOPUP_MAX_GAS_GWEI (50 gwei)');
    expect(quoteFees({ baseFeePerGas: null, priorityFee: 0n, gasPrice: 51n * GWEI }, cap)).toMatchObject({ ok: false, code: 'gas_price_above_cap' });
  });

  it('bumps a replacement by 25% (at least what nodes require), or to the market if higher', () => {
    const previous: Fees = { type: 'eip1559', maxFeePerGas: 20n * GWEI, maxPriorityFeePerGas: 2n * GWEI };
    expect(bumpFees(previous, { baseFeePerGas: 5n * GWEI, priorityFee: GWEI, gasPrice: 6n * GWEI }, cap)).toEqual({ type: 'eip1559', maxFeePerGas: 25n * GWEI, maxPriorityFeePerGas: 2_500_000_000n });
    expect(bumpFees(previous, { baseFeePerGas: 20n * GWEI, priorityFee: 3n * GWEI, gasPrice: 23n * GWEI }, cap)).toEqual({ type: 'eip1559', maxFeePerGas: 43n * GWEI, maxPriorityFeePerGas: 3n * GWEI });
    expect(bumpFees({ type: 'legacy', gasPrice: 10n * GWEI }, { baseFeePerGas: null, priorityFee: 0n, gasPrice: GWEI }, cap)).toEqual({ type: 'legacy', gasPrice: 12_500_000_000n });
  });

  it('a zero tip still rises (nodes want strictly higher)', () => {
    const bumped = bumpFees({ type: 'eip1559', maxFeePerGas: 10n, maxPriorityFeePerGas: 0n }, { baseFeePerGas: 1n, priorityFee: 0n, gasPrice: 1n }, cap);
    expect(bumped).toEqual({ type: 'eip1559', maxFeePerGas: 13n, maxPriorityFeePerGas: 1n });
  });

  it('no replacement when the cap leaves less than the 12.5% nodes require', () => {
    expect(bumpFees({ type: 'eip1559', maxFeePerGas: 46n * GWEI, maxPriorityFeePerGas: GWEI }, { baseFeePerGas: GWEI, priorityFee: GWEI, gasPrice: 2n * GWEI }, cap)).toBeUndefined();
    expect(bumpFees({ type: 'legacy', gasPrice: 45n * GWEI }, { baseFeePerGas: null, priorityFee: 0n, gasPrice: GWEI }, cap)).toBeUndefined();
    // Exactly 12.5% of room is enough.
    expect(bumpFees({ type: 'legacy', gasPrice: 40n * GWEI }, { baseFeePerGas: null, priorityFee: 0n, gasPrice: GWEI }, 45n * GWEI)).toEqual({ type: 'legacy', gasPrice: 45n * GWEI });
  });

  it('worst-case cost and gwei display', () => {
    expect(maxGasCost({ type: 'eip1559', maxFeePerGas: 3n, maxPriorityFeePerGas: 1n }, 100n)).toBe(300n);
    expect(maxGasCost({ type: 'legacy', gasPrice: 2n }, 100n)).toBe(200n);
    expect(gwei(50n * GWEI)).toBe('50');
    expect(gwei(1n)).toBe('0.000000001');
    expect(gwei(1_500_000_000n)).toBe('1.5');
  });
});

describe('TOPUP_* settings', () => {
  const base = { RPC_URLS: '{"1":"https://a.example"}', ADMIN_TOKEN: 'x'.repeat(32) };
  // anvil's well-known default account 0 key: a public test key, never funded on a real chain.
  const KEY = '0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80';
  const ADDRESS = privateKeyToAccount(KEY).address;

  it('turn the key into its address (the config never holds the key) and gwei into wei', () => {
    const config = parseConfig({ ...base, TOPUP_PRIVATE_KEY: KEY, TOPUP_MAX_GAS_GWEI: '0.05' });
    expect(config.topUp).toEqual({ signer: ADDRESS, maxGasWei: 50_000_000n, trustedMarkets: new Map() });
    expect(JSON.stringify(config, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v instanceof Map ? [...v] : v))).not.toContain(KEY.slice(2));
    expect(parseConfig({ ...base, TOPUP_PRIVATE_KEY: KEY.slice(2).toUpperCase() }).topUp.signer).toBe(ADDRESS);
  });

  it('default to no signer (dry runs only) and a 100 gwei cap', () => {
    expect(parseConfig(base).topUp).toEqual({ signer: null, maxGasWei: 100n * GWEI, trustedMarkets: new Map() });
    expect(parseConfig({ ...base, TOPUP_PRIVATE_KEY: '' }).topUp.signer).toBeNull();
  });

  it.each([
    ['0x1234', 'TOPUP_PRIVATE_KEY'],
    [`0x${'0'.repeat(64)}`, 'TOPUP_PRIVATE_KEY'], // zero is not a key
    [`0x${'f'.repeat(64)}`, 'TOPUP_PRIVATE_KEY'], // above the curve order
    [`${KEY}00`, 'TOPUP_PRIVATE_KEY'],
  ])('refuse a bad key by name, never echoing it', (key, path) => {
    let caught: { code: string; message: string; issues: Array<{ path: string }> } | undefined;
    try {
      parseConfig({ ...base, TOPUP_PRIVATE_KEY: key });
    } catch (error) {
      caught = error as typeof caught;
    }
    expect(caught?.code).toBe('invalid_config');
    expect(caught?.issues.map((issue) => issue.path)).toEqual([path]);
    expect(caught?.message).not.toContain(key.slice(2, 30));
    expect(JSON.stringify(caught?.issues)).not.toContain(key.slice(2, 30));
  });

  it.each(['0', 'abc', '-1', '1.0000000001', '1e3'])('refuse TOPUP_MAX_GAS_GWEI=%s', (value) => {
    expect(() => parseConfig({ ...base, TOPUP_MAX_GAS_GWEI: value })).toThrow(/TOPUP_MAX_GAS_GWEI/);
  });
});

describe('top-up events', () => {
  const policy: StoredTopUpPolicy = {
    enabled: true, mode: 'supply', asset: '0x0000000000000000000000000000000000000b7c', symbol: 'WBTC', decimals: 8,
    triggerHealthFactor: 1.2, targetHealthFactor: 1.5, maxAmountPerAction: '1', maxAmountPerDay: '2', cooldownSeconds: 600, dryRun: false,
  };
  const watch = { id: 'w_0123456789abcdef0123', label: 'vault', chainId: 1, protocol: 'aave-v3', market: '0x87870Bca3F3fD6335C3F4ce8392D69350B4fA4E2' as const, account: '0x1111111111111111111111111111111111111111' as const };
  const trigger = { watchId: watch.id, episode: 3, slot: 1 };

  it('ids are stable per trigger and kind (the tenant stores each once)', () => {
    expect(triggerId(trigger)).toBe('w_0123456789abcdef0123:3:1');
    expect(topUpEventId(trigger, 'topup.executed')).toBe('evt_topup_w_0123456789abcdef0123_3_1_executed');
    expect(topUpEventId(trigger, 'topup.skipped', 'cooldown')).toBe('evt_topup_w_0123456789abcdef0123_3_1_skipped_cooldown');
    expect(topUpEventId({ ...trigger, slot: 2 }, 'topup.failed', 'rpc_stale')).toBe('evt_topup_w_0123456789abcdef0123_3_2_failed_rpc_stale');
  });

  it('bodies carry decimal strings and render as a message', () => {
    const body = buildTopUpEvent({
      type: 'topup.executed', trigger, watch, policy, createdAt: new Date('2026-11-25T03:12:09Z'),
      amount: 28_205_129n, amountNeeded: 28_205_129n, reachesTarget: true, healthFactorBefore: 1_170_000_000_000_000_000n, healthFactorAfter: 1_500_000_100_000_000_000n,
      blockNumber: 19_000_123n, txHash: `0x${'ab'.repeat(32)}`, reason: null, message: 'supplied',
    });
    expect(body).toMatchObject({ id: 'evt_topup_w_0123456789abcdef0123_3_1_executed', type: 'topup.executed', createdAt: '2026-11-25T03:12:09.000Z' });
    expect(body.topUp).toMatchObject({ amount: '0.28205129', healthFactorBefore: '1.1700', healthFactorAfter: '1.5000', targetReached: true, triggerHealthFactor: '1.2000', targetHealthFactor: '1.5000', blockNumber: '19000123' });
    const message = messageFor(body);
    expect(message.title).toBe('TOP-UP SENT · vault');
    expect(message.headline).toBe('Supplied 0.282052 WBTC: health factor 1.1700 → 1.5000');
    expect(message.link?.url).toBe(`https://etherscan.io/tx/0x${'ab'.repeat(32)}`);

    const dry = buildTopUpEvent({ type: 'topup.skipped', trigger, watch, policy: { ...policy, dryRun: true }, createdAt: new Date(0), amount: 10n ** 7n, reason: 'dry_run', message: 'dry run' });
    expect(messageFor(dry)).toMatchObject({ title: 'TOP-UP DRY RUN · vault', headline: 'Would supply 0.1 WBTC (dry run: nothing was sent)' });
    const failed = buildTopUpEvent({ type: 'topup.failed', trigger, watch, policy, createdAt: new Date(0), reason: 'rpc_stale', message: 'the node is lagging' });
    expect(messageFor(failed)).toMatchObject({ title: 'TOP-UP FAILED · vault', headline: 'the node is lagging' });
  });

  it('Aave revert codes are named', () => {
    expect(describeAaveRevert('28')).toBe('RESERVE_FROZEN: the reserve is frozen (Aave error 28)');
    expect(describeAaveRevert('ERC20: transfer amount exceeds balance')).toBe('ERC20: transfer amount exceeds balance');
  });
});
