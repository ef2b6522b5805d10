// A local chain with a real Aave v3 market, ready in a fraction of a second: anvil started from a
// cached state dump when there is one, otherwise a fresh deployment that then fills the cache.

import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import type { Address, Hex, PublicClient, TestClient, Transport, Chain, WalletClient } from 'viem';
import {
  MULTICALL3_ADDRESS,
  createActions,
  createLocalClients,
  type ChainActions,
  type LocalClients,
} from './actions';
import { deployAaveMarket } from './aave';
import type { AaveMarket } from './market';
import { startAnvil, type AnvilInstance } from './anvil';
import { aaveCoreVersion } from './artifacts';

export type { AaveMarket, ReserveInfo, ReserveSymbol } from './market';
export type { ChainActions, LiquidationResult, OpenedPosition, OpenPositionsOptions, UserAccountData } from './actions';
export { MULTICALL3_ADDRESS } from './actions';

/** Bump whenever the deployed market changes (parameters, reserves, deploy steps): it invalidates the cache. */
export const CHAIN_MODULE_VERSION = 1;

export interface StartLocalChainOptions {
  /** Defaults to 31337. */
  chainId?: number;
  /** Seconds between blocks; omitted means a block per transaction. */
  blockTime?: number;
  /** Where snapshots are kept; defaults to <repo>/.cache/chain. */
  cacheDir?: string;
  /** false: always deploy afresh (the cache is still rewritten). Defaults to true. */
  useCache?: boolean;
}

export interface LocalChain {
  rpcUrl: string;
  port: number;
  chainId: number;
  market: AaveMarket;
  /** anvil's ten unlocked, funded default accounts; accounts[0] is the market admin. */
  accounts: Address[];
  publicClient: PublicClient<Transport, Chain>;
  walletClient: WalletClient<Transport, Chain>;
  testClient: TestClient<'anvil', Transport, Chain>;
  clients: LocalClients;
  actions: ChainActions;
  /** true when the market came from the cached snapshot rather than a fresh deployment. */
  fromCache: boolean;
  stop(): Promise<void>;
}

const defaultCacheDir = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '.cache', 'chain');

export async function startLocalChain(opts: StartLocalChainOptions = {}): Promise<LocalChain> {
  const chainId = opts.chainId ?? 31337;
  const cacheDir = opts.cacheDir ?? defaultCacheDir;
  const key = `aave-${aaveCoreVersion}-m${CHAIN_MODULE_VERSION}-chain${chainId}`;
  const statePath = join(cacheDir, `${key}.state.json`);
  const marketPath = join(cacheDir, `${key}.market.json`);
  const anvilOpts = { chainId, ...(opts.blockTime !== undefined ? { blockTime: opts.blockTime } : {}) };

  if (opts.useCache !== false && existsSync(statePath) && existsSync(marketPath)) {
    let node: AnvilInstance | undefined;
    try {
      const market = JSON.parse(readFileSync(marketPath, 'utf8')) as AaveMarket;
      node = await startAnvil({ ...anvilOpts, loadStatePath: statePath });
      const clients = createLocalClients(node.rpcUrl, chainId);
      // A dump from an incompatible anvil could load yet lack our contracts: check before trusting it.
      if ((await clients.publicClient.getCode({ address: market.pool })) !== undefined) {
        return await finish(node, clients, market, true);
      }
    } catch {
      // Unreadable or stale cache: fall through and rebuild it.
    }
    await node?.stop();
  }

  const node = await startAnvil(anvilOpts);
  try {
    const clients = createLocalClients(node.rpcUrl, chainId);
    const market = await deployAaveMarket(clients);
    // anvil_dumpState answers gzipped JSON; --load-state only reads plain JSON.
    const dump = await clients.testClient.dumpState();
    const json = gunzipSync(Buffer.from(dump.slice(2), 'hex'));
    mkdirSync(cacheDir, { recursive: true });
    writeAtomically(statePath, json);
    writeAtomically(marketPath, JSON.stringify(market, null, 2));
    return await finish(node, clients, market, false);
  } catch (err) {
    await node.stop();
    throw err;
  }
}

async function finish(
  node: AnvilInstance,
  clients: LocalClients,
  market: AaveMarket,
  fromCache: boolean,
): Promise<LocalChain> {
  await installMulticall3(clients);
  const accounts = await clients.walletClient.getAddresses();
  const actions = await createActions(clients, market.admin);
  return {
    rpcUrl: node.rpcUrl,
    port: node.port,
    chainId: clients.chain.id,
    market,
    accounts,
    publicClient: clients.publicClient,
    walletClient: clients.walletClient,
    testClient: clients.testClient,
    clients,
    actions,
    fromCache,
    stop: node.stop,
  };
}

/**
 * Puts Multicall3 at its canonical address, as on every public chain, so viem's multicall and
 * the app's batched reads work unchanged. viem ships its creation code but does not export it;
 * running that code in an eth_call returns the runtime code, which we then set directly.
 */
async function installMulticall3(clients: LocalClients): Promise<void> {
  const existing = await clients.publicClient.getCode({ address: MULTICALL3_ADDRESS });
  if (existing !== undefined && existing !== '0x') return;
  const { data: runtime } = await clients.publicClient.call({ data: multicall3CreationCode() });
  if (!runtime || runtime === '0x') throw new Error('Multicall3 creation code returned no runtime code');
  await clients.testClient.setCode({ address: MULTICALL3_ADDRESS, bytecode: runtime });
}

let creationCode: Hex | undefined;

function multicall3CreationCode(): Hex {
  if (creationCode) return creationCode;
  const require = createRequire(import.meta.url);
  const viemRoot = dirname(require.resolve('viem/package.json'));
  for (const flavour of ['_esm', '_cjs']) {
    const path = join(viemRoot, flavour, 'constants', 'contracts.js');
    if (!existsSync(path)) continue;
    const match = /multicall3Bytecode\s*=\s*['"](0x[0-9a-fA-F]+)['"]/.exec(readFileSync(path, 'utf8'));
    if (match?.[1]) return (creationCode = match[1] as Hex);
  }
  throw new Error(`Multicall3 bytecode not found in viem at ${viemRoot}`);
}

/** Parallel test workers may fill the cache at once; a rename never exposes a half-written file. */
function writeAtomically(path: string, data: string | Buffer): void {
  const tmp = `${path}.${process.pid}.${Date.now()}.tmp`;
  writeFileSync(tmp, data);
  renameSync(tmp, path);
}
