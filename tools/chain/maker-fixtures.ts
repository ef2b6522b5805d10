import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { encodeDeployData, parseAbi, parseUnits, toHex, type Abi, type Address, type Hex } from 'viem';
import { deployCode, sendContractTx, type LocalClients } from './actions';
import { deployIlk, deployPipMock, joinCollateral, makerTestAbi, type LocalMaker } from './maker';

/*
 * The two Maker contracts the shared dss artifacts lack, as the project's own test fixtures
 * (test/fixtures/MakerOsm.sol, MakerCdpManager.sol, written for these tests): an OSM as the
 * Spotter's price source of a second ilk, and a CdpManager whose vault ids name urns. Compiled
 * with solc-js 0.8.19 (as test/fixtures/RoundAggregator.sol is), the output cached in
 * .cache/maker-fixtures/ by a hash of the sources and settings.
 */

type Compiled = { abi: Abi; bytecode: Hex };
const require = createRequire(import.meta.url);
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const CACHE_DIR = join(ROOT, '.cache', 'maker-fixtures');
const FILES = { MakerOsm: 'MakerOsm.sol', MakerCdpManager: 'MakerCdpManager.sol' } as const;
type FixtureName = keyof typeof FILES;

let compiled: Record<FixtureName, Compiled> | undefined;

export function makerFixtureArtifacts(): Record<FixtureName, Compiled> {
  if (compiled) return compiled;
  const sources = Object.fromEntries(Object.values(FILES).map((file) => [file, { content: readFileSync(join(ROOT, 'test', 'fixtures', file), 'utf8') }]));
  const input = { language: 'Solidity', sources, settings: { optimizer: { enabled: true, runs: 200 }, outputSelection: { '*': { '*': ['abi', 'evm.bytecode.object'] } } } };
  const key = createHash('sha256').update(JSON.stringify(input)).digest('hex').slice(0, 16);
  const cachePath = join(CACHE_DIR, `${key}.json`);
  if (existsSync(cachePath)) return (compiled = JSON.parse(readFileSync(cachePath, 'utf8')) as Record<FixtureName, Compiled>);
  const solc = require('solc') as { compile(input: string): string };
  const output = JSON.parse(solc.compile(JSON.stringify(input))) as {
    errors?: Array<{ severity: string; formattedMessage: string }>;
    contracts: Record<string, Record<string, { abi: Abi; evm: { bytecode: { object: string } } }>>;
  };
  const errors = (output.errors ?? []).filter((error) => error.severity === 'error');
  if (errors.length > 0) throw new Error(`solc failed:\n${errors.map((error) => error.formattedMessage).join('\n')}`);
  const result = {} as Record<FixtureName, Compiled>;
  for (const [name, file] of Object.entries(FILES) as Array<[FixtureName, string]>) {
    const contract = output.contracts[file]?.[name];
    if (!contract) throw new Error(`solc output has no ${file}:${name}`);
    result[name] = { abi: contract.abi, bytecode: `0x${contract.evm.bytecode.object}` };
  }
  mkdirSync(CACHE_DIR, { recursive: true });
  writeFileSync(cachePath, JSON.stringify(result));
  return (compiled = result);
}

export const osmAbi = parseAbi([
  'function poke()',
  'function kiss(address reader)',
  'function step(uint16 ts)',
  'function pass() view returns (bool)',
  'function peep() view returns (bytes32, bool)',
  'function peek() view returns (bytes32, bool)',
  'function hop() view returns (uint16)',
  'function zzz() view returns (uint64)',
]);
export const cdpManagerAbi = parseAbi([
  'function open(bytes32 ilk, address usr) returns (uint256)',
  'function frob(uint256 cdp, int256 dink, int256 dart)',
  'function cdpi() view returns (uint256)',
  'function urns(uint256 cdp) view returns (address)',
  'function owns(uint256 cdp) view returns (address)',
  'function ilks(uint256 cdp) view returns (bytes32)',
]);
const pipAbi = parseAbi(['function poke(bytes32 wut)']);

/** A CdpManager of the deployment's Vat. */
export async function deployCdpManager(clients: LocalClients, local: Pick<LocalMaker, 'admin' | 'vat'>): Promise<Address> {
  const { abi, bytecode } = makerFixtureArtifacts().MakerCdpManager;
  return deployCode(clients, local.admin, encodeDeployData({ abi, bytecode, args: [local.vat] }), 'MakerCdpManager');
}

/** An ilk priced by an OSM, fed by a PipMock (its `src`). */
export type LocalOsmIlk = LocalMaker & { osm: Address; source: Address };

/**
 * A second ilk (`name`, ETH-A's parameters) whose Spotter pip is an OSM with `hop` seconds,
 * priced at `usdPerGem` now and next (two pokes a hop apart, then `spotter.poke`).
 */
export async function deployOsmIlk(clients: LocalClients, local: LocalMaker, input: { name: string; hop: number; usdPerGem: string }): Promise<LocalOsmIlk> {
  const source = await deployPipMock(clients, local.admin);
  const { abi, bytecode } = makerFixtureArtifacts().MakerOsm;
  const osm = await deployCode(clients, local.admin, encodeDeployData({ abi, bytecode, args: [source] }), 'MakerOsm');
  await sendContractTx(clients, local.admin, { address: osm, abi: osmAbi, functionName: 'step', args: [input.hop] });
  const { ilk: _ilk, ...core } = local;
  const ilk = await deployIlk(clients, core, { name: input.name, pip: osm });
  // Whitelisted as on mainnet: the Spotter and the Clipper (its auction starts at the OSM's price); the admin for peep().
  for (const reader of [local.spot, ilk.clip, local.admin]) await sendContractTx(clients, local.admin, { address: osm, abi: osmAbi, functionName: 'kiss', args: [reader] });
  const osmIlk: LocalOsmIlk = { ...core, ilk, osm, source };
  await publishOsmPrice(clients, osmIlk, input.usdPerGem);
  await publishOsmPrice(clients, osmIlk, input.usdPerGem);
  await sendContractTx(clients, local.admin, { address: local.spot, abi: makerTestAbi, functionName: 'poke', args: [ilk.ilk] });
  return osmIlk;
}

/**
 * The source moves to `usdPerGem` and the OSM pokes once its hop has passed (an empty block is
 * mined at that moment when the chain is not there yet): what was next takes effect in the OSM (not yet
 * in the Vat: that needs `spotter.poke`), and `usdPerGem` is the next price.
 */
export async function publishOsmPrice(clients: LocalClients, local: LocalOsmIlk, usdPerGem: string): Promise<void> {
  await sendContractTx(clients, local.admin, { address: local.source, abi: pipAbi, functionName: 'poke', args: [toHex(parseUnits(usdPerGem, 18), { size: 32 })] });
  const [hop, zzz, block] = await Promise.all([
    clients.publicClient.readContract({ address: local.osm, abi: osmAbi, functionName: 'hop' }),
    clients.publicClient.readContract({ address: local.osm, abi: osmAbi, functionName: 'zzz' }),
    clients.publicClient.getBlock(),
  ]);
  // A block at the hop's end first: the poke's gas estimate runs at the latest block's time.
  const due = zzz + BigInt(hop);
  if (block.timestamp < due) {
    await clients.testClient.setNextBlockTimestamp({ timestamp: due });
    await clients.testClient.mine({ blocks: 1 });
  }
  await sendContractTx(clients, local.admin, { address: local.osm, abi: osmAbi, functionName: 'poke', args: [] });
}

/** The OSM's next price as its whitelisted `peep()` tells the admin: (price, has). */
export async function peepOsm(clients: LocalClients, local: LocalOsmIlk, blockNumber?: bigint): Promise<readonly [Hex, boolean]> {
  return clients.publicClient.readContract({ address: local.osm, abi: osmAbi, functionName: 'peep', account: local.admin, blockNumber });
}

/**
 * A vault opened through the CdpManager by a fresh owner: the urn handler joins `collateral`
 * WETH and the owner draws `debt` DAI with the manager's `frob` (the DAI stays in the urn's Vat
 * balance). The vault id and its urn.
 */
export async function openCdpVault(clients: LocalClients, local: LocalMaker, manager: Address, input: { collateral: string; debt: string }): Promise<{ cdp: bigint; urn: Address; owner: Address }> {
  const owner = local.admin;
  await sendContractTx(clients, owner, { address: manager, abi: cdpManagerAbi, functionName: 'open', args: [local.ilk.ilk, owner] });
  const cdp = await clients.publicClient.readContract({ address: manager, abi: cdpManagerAbi, functionName: 'cdpi' });
  const urn = await clients.publicClient.readContract({ address: manager, abi: cdpManagerAbi, functionName: 'urns', args: [cdp] });
  const { ink, dart } = await joinCollateral(clients, local, { from: owner, urn, ...input });
  await sendContractTx(clients, owner, { address: manager, abi: cdpManagerAbi, functionName: 'frob', args: [cdp, ink, dart] });
  return { cdp, urn, owner };
}
