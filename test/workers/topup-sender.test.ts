import { topUpStub } from '../../src/durable/stubs';
import { describe, expect, it } from 'vitest';
import { runInDurableObject } from 'cloudflare:test';
import { mnemonicToAccount } from 'viem/accounts';
import { createChainClient } from '../../src/chain/client';

import { readFeeMarket, signStep } from '../../src/topup/chain';
import { quoteFees } from '../../src/topup/guards';
import { ABANDON_AFTER_MS, REPLACE_AFTER_MS } from '../../src/topup/pending-tx';
import type { TxRow } from '../../src/topup/records';
import { TransactionSender } from '../../src/topup/tx-sender';
import { control, testEnv } from './helpers';

/*
 * The executor's transaction sender on its own, against the local chain through a proxy that
 * can swallow transactions, with a clock the test moves. It signs with anvil's account 7,
 * which nothing else uses, a plain transfer to itself.
 */

const account = mnemonicToAccount('test test test test test test test test test test test junk', { addressIndex: 7 });
const ANVIL_URL = (JSON.parse(testEnv.RPC_URLS) as Record<string, string>)['31337']!;
const SWALLOW = `${testEnv.TEST_CONTROL_URL}/rpc/swallow-to/${account.address}`;

function client(url: string) {
  return createChainClient({ chainId: 31337, rpcUrls: [url], multicall3: '0xcA11bde05977b3631167028862bE2a173976CA11' }).client;
}

async function withSender<T>(name: string, fn: (sender: TransactionSender, sql: SqlStorage, clock: { now: number }, refused: string[]) => Promise<T>): Promise<T> {
  return runInDurableObject(topUpStub(testEnv, name), async (_instance, state) => {
    const clock = { now: Date.now() };
    const refused: string[] = [];
    return fn(new TransactionSender(state.storage.sql, state.storage, () => clock.now, (_tx, message) => refused.push(message)), state.storage.sql, clock, refused);
  });
}

async function intent(sender: TransactionSender, url: string, actionId: string) {
  const viem = client(url);
  const quote = quoteFees(await readFeeMarket(viem), 10n ** 12n);
  if (!quote.ok) throw new Error(quote.message);
  const nonce = await sender.nextNonce(viem, account.address);
  const step = { to: account.address, data: '0x' as const };
  const signed = await signStep(account, { chainId: 31337, nonce, step, gas: 21_000n, fees: quote.fees });
  sender.recordIntent({ actionId, stepIndex: 0, kind: 'supply', nonce, gas: 21_000n, signed, fees: quote.fees });
  return { viem, step, signed, nonce };
}

const txOf = (sql: SqlStorage, actionId: string) => sql.exec<TxRow>('SELECT * FROM txs WHERE action_id = ? ORDER BY id DESC LIMIT 1', actionId).toArray()[0]!;

describe('transaction sender', () => {
  it('records the intent before the broadcast, finds the receipt, and hands out the next nonce', async () => {
    await withSender('sender-receipt', async (sender, sql) => {
      const { viem, step, signed, nonce } = await intent(sender, ANVIL_URL, 'a1');
      expect(txOf(sql, 'a1')).toMatchObject({ status: 'pending', nonce });
      await sender.send(viem, 'a1', signed.hash, signed.raw);
      await control('/mine');
      const look = await sender.look(txOf(sql, 'a1'), { client: viem, signer: account, chainId: 31337, step, maxGasWei: 10n ** 12n, waitMs: 2_000 });
      expect(look).toEqual({ outcome: 'receipt' });
      expect(txOf(sql, 'a1')).toMatchObject({ status: 'mined', mined_hash: signed.hash });
      expect(await sender.nextNonce(viem, account.address)).toBe(nonce + 1);
    });
  });

  it('a transaction no node keeps is sent again, replaced with higher fees after a minute, and given up (nonce released) when nothing has it after the abandon delay', async () => {
    await withSender('sender-swallow', async (sender, sql, clock) => {
      const swallowing = client(SWALLOW);
      const { step, signed, nonce } = await intent(sender, SWALLOW, 'a2');
      await sender.send(swallowing, 'a2', signed.hash, signed.raw);
      const options = { client: swallowing, signer: account, chainId: 31337, step, maxGasWei: 10n ** 12n, waitMs: 300 };
      expect(await sender.look(txOf(sql, 'a2'), options)).toEqual({ outcome: 'pending', timedOut: null });
      // A minute on: a same-nonce replacement with higher fees (swallowed too).
      clock.now += REPLACE_AFTER_MS + 1;
      expect((await sender.look(txOf(sql, 'a2'), options)).outcome).toBe('pending');
      const attempts = JSON.parse(txOf(sql, 'a2').attempts) as Array<{ signedAt: number; fees: { maxFeePerGas?: string } }>;
      expect(attempts).toHaveLength(2);
      expect(BigInt(attempts[1]!.fees.maxFeePerGas!)).toBeGreaterThan(BigInt(attempts[0]!.fees.maxFeePerGas!));
      // Past the abandon delay with fees already bumped recently: nothing is known, it is given up.
      clock.now += ABANDON_AFTER_MS;
      const [first] = attempts;
      expect(clock.now - first!.signedAt).toBeGreaterThan(ABANDON_AFTER_MS);
      const look = await sender.look(txOf(sql, 'a2'), { ...options, maxGasWei: BigInt(attempts[1]!.fees.maxFeePerGas!) });
      expect(look).toEqual({ outcome: 'abandoned' });
      sender.markDropped(txOf(sql, 'a2'), { releaseNonce: true });
      expect(await sender.nextNonce(client(ANVIL_URL), account.address)).toBe(nonce);
    });
  });
});
