import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { encodeDeployData, encodeFunctionData, keccak256, maxUint256, parseAbi, parseUnits, stringToHex, toHex, type Abi, type Address, type Hex } from 'viem';
import { deployCode, sendContractTx, type LocalClients } from './actions';
import { loadArtifact } from './artifacts';

/*
 * A real Maker (dss) system on the local chain, from the compiled contracts in
 * ../shared/protocols/maker-dss (makerdao/dss, unmodified; `PipMock` is the one price stand-in,
 * as on mainnet an OSM stands there): Vat, Dai, DaiJoin, Spotter, Jug, Vow, Dog, and one ilk
 * "ETH-A" (GemJoin, Clipper with LinearDecrease). The gem is Aave's MintableERC20 (18
 * decimals), as dss's own GemJoin expects. Test-time only: the shared folder sits beside the
 * clone on this machine and in CI. The parsed artifacts are cached per process; a deploy takes
 * about 40 transactions on the chain it is given (the cached Aave chain), under a second.
 */

type Artifact = { abi: Abi; bytecode: Hex };
export const MAKER_ARTIFACTS_PATH = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'shared', 'protocols', 'maker-dss', 'artifacts.json');
type Name = 'Vat' | 'Dai' | 'DaiJoin' | 'Spotter' | 'Jug' | 'Vow' | 'Dog' | 'GemJoin' | 'Clipper' | 'LinearDecrease' | 'PipMock';

let artifacts: Record<string, Artifact> | undefined;
function artifact(name: Name): Artifact {
  artifacts ??= (JSON.parse(readFileSync(MAKER_ARTIFACTS_PATH, 'utf8')) as { contracts: Record<string, Artifact> }).contracts;
  const found = artifacts[name];
  if (!found) throw new Error(`${name} is missing from ${MAKER_ARTIFACTS_PATH}`);
  return found;
}

export const WAD = 10n ** 18n;
export const RAY = 10n ** 27n;
export const RAD = 10n ** 45n;

/** The ilk's parameters, close to mainnet ETH-A's: liquidation ratio 145%, penalty 13%, stability fee 5% a year. */
export const ETH_A = {
  name: 'ETH-A',
  mat: (145n * RAY) / 100n,
  chop: (113n * WAD) / 100n,
  // (1.05)^(1 / 31,536,000) in RAY: 5% a year, compounded every second.
  duty: 1000000001547125957863212448n,
  dust: 100n * RAD,
} as const;

const auth = parseAbi(['function rely(address usr)']);
const fileUint = parseAbi(['function file(bytes32 what, uint256 data)']);
const fileAddress = parseAbi(['function file(bytes32 what, address data)']);
const fileIlkUint = parseAbi(['function file(bytes32 ilk, bytes32 what, uint256 data)']);
const fileIlkAddress = parseAbi(['function file(bytes32 ilk, bytes32 what, address data)']);
export const makerTestAbi = parseAbi([
  'function init(bytes32 ilk)',
  'function drip(bytes32 ilk) returns (uint256 rate)',
  'function poke(bytes32 what)',
  'function hope(address usr)',
  'function frob(bytes32 i, address u, address v, address w, int256 dink, int256 dart)',
  'function join(address usr, uint256 wad)',
  'function exit(address usr, uint256 wad)',
  'function bark(bytes32 ilk, address urn, address kpr) returns (uint256 id)',
  'function ilks(bytes32 ilk) view returns (uint256 Art, uint256 rate, uint256 spot, uint256 line, uint256 dust)',
  'function urns(bytes32 ilk, address urn) view returns (uint256 ink, uint256 art)',
]);
const jugIlksAbi = parseAbi(['function ilks(bytes32 ilk) view returns (uint256 duty, uint256 rho)', 'function base() view returns (uint256)']);
const gemAbi = parseAbi(['function mint(address account, uint256 value) returns (bool)', 'function approve(address spender, uint256 amount) returns (bool)']);

export type LocalIlk = { name: string; ilk: Hex; gem: Address; join: Address; pip: Address; clip: Address; calc: Address };
export type LocalMaker = { admin: Address; vat: Address; dai: Address; daiJoin: Address; spot: Address; jug: Address; vow: Address; dog: Address; ilk: LocalIlk };

/** An ilk's or a parameter's name as dss stores it: bytes32, left-aligned. */
export function bytes32(text: string): Hex {
  return stringToHex(text, { size: 32 });
}

export async function deployMaker(clients: LocalClients, admin: Address): Promise<LocalMaker> {
  const deploy = (name: Name, args: readonly unknown[] = []) => {
    const { abi, bytecode } = artifact(name);
    return deployCode(clients, admin, encodeDeployData({ abi, bytecode, args } as never) as Hex, name);
  };
  const send = (address: Address, abi: Abi, functionName: string, args: readonly unknown[]) => sendContractTx(clients, admin, { address, abi, functionName, args } as never);
  const rely = (on: Address, usr: Address) => send(on, auth, 'rely', [usr]);

  const vat = await deploy('Vat');
  const chainId = BigInt(clients.chain.id);
  const dai = await deploy('Dai', [chainId]);
  const daiJoin = await deploy('DaiJoin', [vat, dai]);
  const spot = await deploy('Spotter', [vat]);
  const jug = await deploy('Jug', [vat]);
  const vow = await deploy('Vow', [vat, '0x0000000000000000000000000000000000000000', '0x0000000000000000000000000000000000000000']);
  const dog = await deploy('Dog', [vat]);
  for (const ward of [daiJoin, spot, jug, dog]) await rely(vat, ward);
  await rely(dai, daiJoin);
  await rely(vow, dog);
  await send(vat, fileUint, 'file', [bytes32('Line'), 1_000_000_000n * RAD]);
  await send(jug, fileAddress, 'file', [bytes32('vow'), vow]);
  await send(dog, fileAddress, 'file', [bytes32('vow'), vow]);
  await send(dog, fileUint, 'file', [bytes32('Hole'), 1_000_000_000n * RAD]);

  const core = { admin, vat, dai, daiJoin, spot, jug, vow, dog };
  const local: LocalMaker = { ...core, ilk: await deployIlk(clients, core, { name: ETH_A.name }) };
  await setMakerPrice(clients, local, '2000');
  return local;
}

/**
 * One more ilk of the deployment, at ETH-A's parameters, priced by `pip` (the shared PipMock, or
 * an OSM; a new PipMock when none is given): its gem (Aave's MintableERC20), GemJoin, Clipper with LinearDecrease, and every
 * `file` and `rely` it needs. The caller sets its first price (`pip` poke, `spotter.poke`).
 */
export async function deployIlk(clients: LocalClients, core: Omit<LocalMaker, 'ilk'>, input: { name: string; pip?: Address }): Promise<LocalIlk> {
  const { admin, vat, spot, jug, vow, dog } = core;
  const deploy = (name: Name, args: readonly unknown[] = []) => {
    const { abi, bytecode } = artifact(name);
    return deployCode(clients, admin, encodeDeployData({ abi, bytecode, args } as never) as Hex, name);
  };
  const send = (address: Address, abi: Abi, functionName: string, args: readonly unknown[]) => sendContractTx(clients, admin, { address, abi, functionName, args } as never);
  const rely = (on: Address, usr: Address) => send(on, auth, 'rely', [usr]);
  const ilk = bytes32(input.name);
  const token = loadArtifact('MintableERC20');
  const gem = await deployCode(clients, admin, encodeDeployData({ abi: token.abi, bytecode: token.bytecode, args: ['Maker WETH', 'WETH', 18] } as never) as Hex, 'WETH');
  const join = await deploy('GemJoin', [vat, ilk, gem]);
  // Deployed in this order since the first ilk was: its addresses stay what they were.
  const pip = input.pip ?? (await deploy('PipMock'));
  const clip = await deploy('Clipper', [vat, spot, dog, ilk]);
  const calc = await deploy('LinearDecrease');
  await rely(vat, join);
  await rely(clip, dog);
  await send(vat, makerTestAbi, 'init', [ilk]);
  await send(vat, fileIlkUint, 'file', [ilk, bytes32('line'), 1_000_000_000n * RAD]);
  await send(vat, fileIlkUint, 'file', [ilk, bytes32('dust'), ETH_A.dust]);
  await send(spot, fileIlkAddress, 'file', [ilk, bytes32('pip'), pip]);
  await send(spot, fileIlkUint, 'file', [ilk, bytes32('mat'), ETH_A.mat]);
  await send(dog, fileIlkAddress, 'file', [ilk, bytes32('clip'), clip]);
  await send(dog, fileIlkUint, 'file', [ilk, bytes32('chop'), ETH_A.chop]);
  await send(dog, fileIlkUint, 'file', [ilk, bytes32('hole'), 1_000_000_000n * RAD]);
  await send(calc, fileUint, 'file', [bytes32('tau'), 3_600n]);
  await send(clip, fileAddress, 'file', [bytes32('calc'), calc]);
  await send(clip, fileAddress, 'file', [bytes32('vow'), vow]);
  await send(jug, makerTestAbi, 'init', [ilk]);
  await fileDuty(clients, admin, jug, ilk, ETH_A.duty);
  return { name: input.name, ilk, gem, join, pip, clip, calc };
}
/** A new PipMock (dss's price stand-in: `poke(bytes32)`, `peek`), e.g. as an OSM's source. */
export function deployPipMock(clients: LocalClients, admin: Address): Promise<Address> {
  const { abi, bytecode } = artifact('PipMock');
  return deployCode(clients, admin, encodeDeployData({ abi, bytecode } as never) as Hex, 'PipMock');
}

/**
 * Jug.file(duty) needs `rho == now`: `drip` and `file` are mined in one block (automine off
 * for that step), as the README recipe says.
 */
async function fileDuty(clients: LocalClients, admin: Address, jug: Address, ilk: Hex, duty: bigint): Promise<void> {
  const { testClient, walletClient, publicClient } = clients;
  await testClient.setAutomine(false);
  try {
    const drip = await walletClient.sendTransaction({ account: admin, to: jug, data: encodeFunctionData({ abi: makerTestAbi, functionName: 'drip', args: [ilk] }), gas: 300_000n });
    const file = await walletClient.sendTransaction({ account: admin, to: jug, data: encodeFunctionData({ abi: fileIlkUint, functionName: 'file', args: [ilk, bytes32('duty'), duty] }), gas: 300_000n });
    await testClient.mine({ blocks: 1 });
    for (const hash of [drip, file]) {
      const receipt = await publicClient.waitForTransactionReceipt({ hash });
      if (receipt.status !== 'success') throw new Error('Jug drip + file(duty) reverted');
    }
  } finally {
    await testClient.setAutomine(true);
  }
}

/** A new price on the ilk's pip, then `spotter.poke` (the Vat sees nothing until the poke). */
export async function setMakerPrice(clients: LocalClients, local: LocalMaker, usdPerGem: string): Promise<void> {
  await sendContractTx(clients, local.admin, { address: local.ilk.pip, abi: makerTestAbi, functionName: 'poke', args: [toHex(parseUnits(usdPerGem, 18), { size: 32 })] });
  await sendContractTx(clients, local.admin, { address: local.spot, abi: makerTestAbi, functionName: 'poke', args: [local.ilk.ilk] });
}

/** `jug.drip`: the ilk's accumulated rate brought to now. */
export async function dripMaker(clients: LocalClients, local: LocalMaker): Promise<void> {
  await sendContractTx(clients, local.admin, { address: local.jug, abi: makerTestAbi, functionName: 'drip', args: [local.ilk.ilk] });
}

/** The ilk's stored rate and the Jug's duty, rho and base: what a projection starts from. */
export async function makerRateState(clients: LocalClients, local: LocalMaker, blockNumber?: bigint): Promise<{ rate: bigint; duty: bigint; rho: bigint; base: bigint }> {
  const { publicClient } = clients;
  const [, rate] = await publicClient.readContract({ address: local.vat, abi: makerTestAbi, functionName: 'ilks', args: [local.ilk.ilk], blockNumber });
  const [duty, rho] = await publicClient.readContract({ address: local.jug, abi: jugIlksAbi, functionName: 'ilks', args: [local.ilk.ilk], blockNumber });
  const base = await publicClient.readContract({ address: local.jug, abi: jugIlksAbi, functionName: 'base', blockNumber });
  return { rate, duty, rho, base };
}

/**
 * `collateral` WETH minted to `from` and joined into `urn`'s gem balance in the Vat; after a
 * `drip`, the normalised debt (dart) that draws `debt` DAI at the ilk's rate.
 */
export async function joinCollateral(clients: LocalClients, local: LocalMaker, input: { from: Address; urn: Address; collateral: string; debt: string }): Promise<{ ink: bigint; dart: bigint; rate: bigint }> {
  const ink = parseUnits(input.collateral, 18);
  await sendContractTx(clients, input.from, { address: local.ilk.gem, abi: gemAbi, functionName: 'mint', args: [input.from, ink] });
  await sendContractTx(clients, input.from, { address: local.ilk.gem, abi: gemAbi, functionName: 'approve', args: [local.ilk.join, maxUint256] });
  await sendContractTx(clients, input.from, { address: local.ilk.join, abi: makerTestAbi, functionName: 'join', args: [input.urn, ink] });
  await dripMaker(clients, local);
  const [, rate] = await clients.publicClient.readContract({ address: local.vat, abi: makerTestAbi, functionName: 'ilks', args: [local.ilk.ilk] });
  return { ink, dart: (parseUnits(input.debt, 18) * RAY) / rate, rate };
}

/**
 * A fresh vault: an impersonated urn (with gas) joins `collateral` WETH, draws `debt` DAI
 * (`frob` with dart = debt / rate, after a `drip`) and takes the DAI out through DaiJoin.
 */
export async function openMakerVault(clients: LocalClients, local: LocalMaker, input: { collateral: string; debt: string }): Promise<Address> {
  const urn = `0x${keccak256(toHex(`maker-urn-${Date.now()}-${Math.random()}`)).slice(26)}` as Address;
  await clients.testClient.impersonateAccount({ address: urn });
  await clients.testClient.setBalance({ address: urn, value: parseUnits('10', 18) });
  const { ink, dart, rate } = await joinCollateral(clients, local, { from: urn, urn, ...input });
  await sendContractTx(clients, urn, { address: local.vat, abi: makerTestAbi, functionName: 'frob', args: [local.ilk.ilk, urn, urn, urn, ink, dart] });
  await sendContractTx(clients, urn, { address: local.vat, abi: makerTestAbi, functionName: 'hope', args: [local.daiJoin] });
  await sendContractTx(clients, urn, { address: local.daiJoin, abi: makerTestAbi, functionName: 'exit', args: [urn, (dart * rate) / RAY] });
  return urn;
}

/**
 * What a keeper does, in one block at `timestamp`: `jug.drip`, then `dog.bark` of the urn. The
 * chain is put back afterwards; the answer is whether bark succeeded, and the rate it judged by
 * (what drip stored).
 */
export async function keeperAt(clients: LocalClients, local: LocalMaker, urn: Address, timestamp: bigint): Promise<{ barked: boolean; rate: bigint }> {
  const { testClient, walletClient, publicClient } = clients;
  const snapshot = await testClient.snapshot();
  await testClient.setAutomine(false);
  try {
    await testClient.setNextBlockTimestamp({ timestamp });
    const drip = await walletClient.sendTransaction({ account: local.admin, to: local.jug, data: encodeFunctionData({ abi: makerTestAbi, functionName: 'drip', args: [local.ilk.ilk] }), gas: 300_000n });
    const bark = await walletClient.sendTransaction({ account: local.admin, to: local.dog, data: encodeFunctionData({ abi: makerTestAbi, functionName: 'bark', args: [local.ilk.ilk, urn, local.admin] }), gas: 3_000_000n });
    await testClient.mine({ blocks: 1 });
    const dripped = await publicClient.waitForTransactionReceipt({ hash: drip });
    if (dripped.status !== 'success') throw new Error('jug.drip reverted');
    const barked = (await publicClient.waitForTransactionReceipt({ hash: bark })).status === 'success';
    const [, rate] = await publicClient.readContract({ address: local.vat, abi: makerTestAbi, functionName: 'ilks', args: [local.ilk.ilk] });
    return { barked, rate };
  } finally {
    await testClient.setAutomine(true);
    await testClient.revert({ id: snapshot });
  }
}

/** An empty block at exactly `timestamp`, so a read pinned to it sees the chain as `keeperAt` did. */
export async function mineAt(clients: LocalClients, timestamp: bigint): Promise<void> {
  await clients.testClient.setNextBlockTimestamp({ timestamp });
  await clients.testClient.mine({ blocks: 1 });
}
