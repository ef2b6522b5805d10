// `npm start`: the live demo. A local chain with a real Aave v3 market, the worker under
// `wrangler dev`, and what its alerts reach: a webhook receiver that verifies every signature, the
// Telegram Bot API stand-in (it prints what the phone would show) and an SMTP server (it prints what
// the mailbox would receive). Four watched Aave positions, one with a dry-run auto-top-up policy and one
// with a live one, one watched position on each other protocol (Spark, Morpho Blue, Compound v3,
// Euler v2, Maker, Liquity v2, Fluid; deployed before the worker starts), and a price driver that walks WETH down to ~$1,250 and back so the alerts fire
// and resolve and the executor wallet tops a position up on the local chain.
//
//   npm start                    cycles until Ctrl-C (which stops everything it started)
//   npm start -- --once          one price cycle, then a summary; exit 0 when every check passed
//   npm start -- --verbose       also show wrangler's output (otherwise in .wrangler/demo/wrangler.log)
//   npm start -- --step 6        seconds between price steps (default 6)
//
// MARGINWATCH_CHAIN_CACHE=<dir> keeps the chain snapshot elsewhere than .cache/chain.

import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { formatUnits, parseAbi, parseUnits, toHex, type Address, type Hex } from 'viem';
import { mnemonicToAccount } from 'viem/accounts';
import { existsSync } from 'node:fs';
import { REPO_ROOT, describeEvent, startDevStack, type DevStack, type TopUpSummary } from './dev-stack';
import { COMET_ARTIFACTS_PATH, deployComet, openCometPosition, setCometPrice, type LocalComet } from './chain/comet';
import { deployMorpho, morphoArtifacts, openMorphoPosition, setMorphoPrice, type LocalMorpho } from './chain/morpho';
import { EULER_ARTIFACTS_PATH, deployEuler, newEulerOwner, openEulerPosition, setEulerPrice, type LocalEuler } from './chain/euler-v2';
import { MAKER_ARTIFACTS_PATH, deployMaker, openMakerVault, setMakerPrice, type LocalMaker } from './chain/maker';
import { LIQUITY_ARTIFACTS_PATH, deployLiquity, openTrove, setLiquityPrice, type LocalLiquity } from './chain/liquity-v2';
import { FLUID_ARTIFACTS_DIR, deployFluid, newFluidOwner, openFluidPosition, setFluidPrice, type LocalFluid } from './chain/fluid';
import type { AaveMarket } from './chain/market';
import type { LocalChain } from './chain';
import type { ProtocolContracts } from '../src/config/env';
import { troveIdText } from '../src/protocols/liquity-v2/normalize';
import { nftIdText } from '../src/protocols/fluid/normalize';
import { deployAaveMarket } from './chain/aave';
import { riskLine } from '../src/notify/render';
import type { WatchRisk } from '../src/risk/watch-risk';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import type { RecordedMessage } from '../test/helpers/telegram-stand-in';
import type { ReceivedMessage } from '../test/helpers/smtp-test-server';

const POLL_SECONDS = 3;
const START_PRICE = 2000;
/** One cycle, after the start price: down to 1250, back up to 2000. */
const CYCLE = [1850, 1700, 1550, 1400, 1250, 1400, 1550, 1700, 1850, 2000];
const HEARTBEAT_MS = 60_000;

/**
 * The executor wallet signs with anvil's default account 9 (a well-known test key from anvil's
 * default mnemonic, funded with 10,000 test ether on the local chain). Nothing else sends from it:
 * the demo's positions use fresh accounts, the market admin is account 0 and the lender account 1.
 */
const ANVIL_MNEMONIC = 'test test test test test test test test test test test junk';
const EXECUTOR_ACCOUNT_INDEX = 9;
const EXECUTOR_KEY = toHex(mnemonicToAccount(ANVIL_MNEMONIC, { addressIndex: EXECUTOR_ACCOUNT_INDEX }).getHdKey().privateKey!) as Hex;
/** What the executor wallet is given to supply with. */
const EXECUTOR_WETH = '10';
/** The owner's grant to the demo tenant, USD per rolling 24 h: enough for the guarded position's top-up. */
const DEMO_GRANT_USD = '20000';

/** The demo user's private chat with the bot, and their inbox. */
const DEMO_CHAT_ID = '700100200';
const DEMO_EMAIL = 'you@marginwatch.test';

/**
 * Auto-top-up: below HF 1.3 (above the 1.25 margin-call line, so it acts while the position is
 * still in warning), supply WETH up to HF 1.65. 10 WETH / 10,000 USDC crosses 1.3 at $1,550
 * (HF 1.2787) and then needs ~2.9 WETH; topped up to 1.65 there, it stays above 1.3 at $1,250.
 */
const POLICY = { mode: 'supply', triggerHealthFactor: 1.3, targetHealthFactor: 1.65, maxAmountPerAction: '4', maxAmountPerDay: '8', cooldownSeconds: 600 } as const;

type DemoPosition = { label: string; collateralWeth: string; debtUsdc: string; email: boolean; topUp?: 'dry run' | 'live'; risk?: boolean };
const POSITIONS: DemoPosition[] = [
  { label: 'safe', collateralWeth: '10', debtUsdc: '7500', email: false }, // HF 2.20 at $2000; webhook + Telegram only
  { label: 'medium', collateralWeth: '10', debtUsdc: '10000', email: true, topUp: 'dry run' }, // HF 1.65: reports what it would supply
  { label: 'risky', collateralWeth: '10', debtUsdc: '12200', email: true, risk: true }, // HF 1.35: in warning from the start; risk-based levels on
  { label: 'guarded', collateralWeth: '10', debtUsdc: '10000', email: true, topUp: 'live' }, // HF 1.65, like medium, but topped up for real
];
/** Where each watch settles once WETH is back at $2000 (risky stays under the 1.5 warning line). */
const FINAL_LEVELS: Record<string, string | undefined> = { safe: 'ok', medium: 'ok', risky: 'warning', guarded: 'ok', spark: 'ok', morpho: 'ok', comet: 'ok', euler: 'ok', maker: 'ok', liquity: 'ok', fluid: 'ok' };

/**
 * One position on each other protocol, moved by the same WETH price, near the warning line so
 * their shards poll at the fast cadence from the start: Spark (a second Aave v3-family market
 * from the same bytecode, as SparkLend is; LT 82.5%: HF 1.57 at $2,000), Morpho Blue (USDC loan, WETH
 * collateral, LLTV 86%: HF 1.56 at $2,000) and, when the compiled contracts are beside the repo
 * (../shared/protocols), Compound v3 (liquidate CF 0.895: HF 1.56), an Euler v2 owner's
 * sub-account borrowing USDS (liquidation LTV 0.83: HF 1.56), a Maker ETH-A urn drawing DAI
 * (liquidation ratio 145%: HF 1.56), a Liquity v2 trove on the WETH branch borrowing BOLD
 * (MCR 110%; the upfront fee adds ~0.1% to the debt: HF 1.56) and a Fluid T1 vault position
 * (WETH/USDC, liquidation threshold 85%: HF 1.56). All go warning → … → liquidatable on the way
 * down and resolve on the way back.
 */
const OTHER_POSITIONS = {
  spark: { collateralWeth: '10', debt: '10500', debtSymbol: 'USDC', what: 'an Aave v3-family pool' },
  morpho: { collateralWeth: '10', debt: '11000', debtSymbol: 'USDC', what: 'a WETH/USDC market' },
  comet: { collateralWeth: '10', debt: '11500', debtSymbol: 'USDC', what: 'the USDC Comet' },
  euler: { collateralWeth: '10', debt: '10650', debtSymbol: 'USDS', what: "an owner's sub-account 0" },
  maker: { collateralWeth: '10', debt: '8850', debtSymbol: 'DAI', what: 'an ETH-A urn' },
  liquity: { collateralWeth: '10', debt: '11600', debtSymbol: 'BOLD', what: 'a trove on the WETH branch' },
  fluid: { collateralWeth: '10', debt: '10900', debtSymbol: 'USDC', what: 'a WETH/USDC T1 vault position NFT' },
} as const;
type OtherLabel = keyof typeof OTHER_POSITIONS;

/** The other protocols' markets, deployed before the worker starts (Maker's and Fluid's contracts are its settings); null where their compiled contracts are absent. */
type OtherMarkets = {
  spark: AaveMarket;
  morpho: LocalMorpho;
  comet: LocalComet | null;
  euler: LocalEuler | null;
  maker: LocalMaker | null;
  liquity: LocalLiquity | null;
  fluid: LocalFluid | null;
};

/**
 * Deploys every other protocol's market on the fresh chain (about 15 s of transactions), and says
 * which contracts the worker must be told of: Maker's Vat, Spotter, Jug and Dog, Fluid's VaultResolver.
 */
async function deployOtherMarkets(chain: LocalChain): Promise<{ markets: OtherMarkets; protocolContracts: ProtocolContracts }> {
  const admin = chain.accounts[0]!;
  const optional = async <T>(protocol: string, path: string, deploy: () => Promise<T>): Promise<T | null> => {
    if (existsSync(path)) return deploy();
    say(`${protocol}: skipped (no compiled contracts at ${path})`);
    return null;
  };
  const morpho = await deployMorpho(chain.clients, admin, say);
  const comet = await optional('compound-v3', COMET_ARTIFACTS_PATH, () => deployComet(chain.clients, admin));
  const euler = await optional('euler-v2', EULER_ARTIFACTS_PATH, () => deployEuler(chain.clients, admin));
  const maker = await optional('maker', MAKER_ARTIFACTS_PATH, () => deployMaker(chain.clients, admin));
  const liquity = await optional('liquity-v2', LIQUITY_ARTIFACTS_PATH, () => deployLiquity(chain.clients, admin));
  const fluid = await optional('fluid', FLUID_ARTIFACTS_DIR, () => deployFluid(chain.clients, admin));
  const spark = await deployAaveMarket(chain.clients, { marketId: 'Spark (local)' });
  const lender = chain.accounts[1]!;
  const lent = parseUnits('10000000', 6);
  await chain.actions.mint(spark.reserves.USDC.asset, lender, lent);
  await chain.actions.supply(spark, lender, 'USDC', lent);
  const deployed = ['Spark (Aave v3)', 'Morpho Blue', ...(comet ? ['Compound v3'] : []), ...(euler ? ['Euler v2'] : []), ...(maker ? ['Maker (dss)'] : []), ...(liquity ? ['Liquity v2'] : []), ...(fluid ? ['Fluid'] : [])];
  say(`deployed ${deployed.join(', ')} on the local chain`);
  const protocolContracts: Record<string, Record<string, Address>> = {};
  if (maker) protocolContracts.maker = { vat: maker.vat, spot: maker.spot, jug: maker.jug, dog: maker.dog };
  if (fluid) protocolContracts.fluid = { vaultResolver: fluid.vaultResolver };
  return { markets: { spark, morpho, comet, euler, maker, liquity, fluid }, protocolContracts };
}

type Watch = { id: string; label: string; account: Address; channels: string[]; topUp: DemoPosition['topUp']; aWethBefore: bigint };
type WatchRead = {
  level: string | null;
  position: { healthFactor: string | null } | null;
  risk?: WatchRisk;
  topUpState?: { recent: Array<{ status: string; dryRun: boolean; txHash: string | null }> } | null;
};
type EventBody = { id: string; type: string; level?: string; watch?: { id: string; label?: string }; topUp?: TopUpSummary & { approveTxHash: string | null } };

const poolAbi = parseAbi(['function getUserAccountData(address user) view returns (uint256, uint256, uint256, uint256, uint256, uint256)']);

const { values: args } = parseArgs({
  options: {
    once: { type: 'boolean', default: false },
    verbose: { type: 'boolean', default: false },
    step: { type: 'string', default: '6' },
    help: { type: 'boolean', short: 'h', default: false },
  },
  allowPositionals: false,
});
if (args.help) {
  console.log('usage: npm start -- [--once] [--verbose] [--step SECONDS]');
  process.exit(0);
}
const stepMs = Math.round(Number(args.step) * 1000);
if (!Number.isFinite(stepMs) || stepMs < 1000) {
  console.error(`--step must be a number of seconds ≥ 1, got "${args.step}"`);
  process.exit(2);
}

const clock = (at = Date.now()) => new Date(at).toTimeString().slice(0, 8);
const say = (line: string) => console.log(`${clock()}  ${line}`);
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const usd = (value: number) => `$${value.toLocaleString('en-US')}`;
const hf4 = (wad: bigint) => (Number(wad / 10n ** 14n) / 10_000).toFixed(4);
/** One screen line: long texts end with "…". */
const fit = (text: string, width = 150) => (Array.from(text).length > width ? `${Array.from(text).slice(0, width - 1).join('')}…` : text);

let stack: DevStack | undefined;
let markets: OtherMarkets | undefined;
let stopping = false;
const timers: NodeJS.Timeout[] = [];

async function shutdown(code: number): Promise<never> {
  stopping = true;
  for (const timer of timers) clearInterval(timer);
  if (stack) {
    say('stopping wrangler, the webhook receiver, the Telegram stand-in, the SMTP server and anvil…');
    await stack.stop().catch(() => undefined);
    say(`stopped (wrangler log kept at ${stack.logFile})`);
  }
  process.exit(code);
}

// Registered before anything starts, so a Ctrl-C during start-up stops cleanly too. (The stack's
// own signal hooks kill its children at once; this handler then waits for them and exits 0.)
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (stopping) process.exit(130); // a second Ctrl-C: the exit hooks still kill the children
    console.log('');
    void shutdown(0);
  });
}

/** What a phone shows for a message, on one line: its first two lines (for alerts, title and headline). */
function phoneLine(message: RecordedMessage): string {
  const lines = message.text.split('\n').map((line) => line.trim()).filter((line) => line !== '');
  return `${clock(message.at)}    📱 telegram ${fit(lines.slice(0, 2).join(' — '), 140)}`;
}

/** A mailbox line: recipient, subject, and the first lines of the text part that the subject does not already say. */
function mailboxLine(message: ReceivedMessage): string {
  const subject = message.headers.subject ?? '(no subject)';
  const text = message.parts.find((part) => part.contentType === 'text/plain')?.body ?? '';
  const lines = text.split(/\r?\n/).map((line) => line.trim()).filter((line) => line !== '' && !subject.includes(line));
  return `${clock(Date.parse(message.receivedAt))}    ✉ email    ${message.rcptTo.join(', ')}  "${fit(subject, 90)}"  ${fit(lines.slice(0, 2).join(' · '), 70)}`;
}

/** The event id a Telegram message is about: its footer ends with "event evt_…". */
function telegramEventId(message: RecordedMessage): string | null {
  return /\bevent (evt_\S+)\s*$/.exec(message.text)?.[1] ?? null;
}

async function main(): Promise<void> {
  console.log('marginwatch demo: local Aave v3, Spark, Morpho Blue, Compound v3, Euler v2, Maker, Liquity v2 and Fluid markets + worker (wrangler dev) + webhooks, Telegram, email and auto-top-up\n');
  const cacheDir = process.env.MARGINWATCH_CHAIN_CACHE;
  // solc-js compiles synchronously (~45 s on a first run): done before the receivers in this
  // process listen, or the worker's sends would time out against a frozen event loop, be
  // retried, and then arrive twice.
  morphoArtifacts(say);
  stack = await startDevStack({
    pollIntervalSeconds: POLL_SECONDS,
    verbose: args.verbose,
    workDir: join(REPO_ROOT, '.wrangler', 'demo'),
    ...(cacheDir ? { chainCacheDir: cacheDir } : {}),
    telegram: true,
    email: true,
    topUpPrivateKey: EXECUTOR_KEY,
    // The dashboard's chart gets a point every 10 s (deployments: every 5 min), so a demo cycle draws a curve.
    hfHistoryBucketSeconds: 10,
    // Every market exists before the worker starts: its PROTOCOL_CONTRACTS name Maker's and Fluid's contracts.
    beforeWorker: async (chain) => {
      const deployed = await deployOtherMarkets(chain);
      markets = deployed.markets;
      return { protocolContracts: deployed.protocolContracts };
    },
    onProgress: say,
  });
  const s = stack;
  if (stopping) return;
  const telegram = s.telegram!;
  const smtp = s.smtp!;
  const executor = s.topUpSigner!;
  const weth = s.chain.market.reserves.WETH;
  const expect = <T extends { status: number; body: any }>(what: string, response: T, status: number): T => {
    if (response.status !== status) throw new Error(`${what} answered ${response.status}: ${JSON.stringify(response.body)}`);
    return response;
  };

  // ── What arrives, one line each, as it arrives ──────────────────────────────────────────────
  const printed = { webhook: 0, telegram: 0, email: 0 };
  const checkedTopUps = new Set<string>();
  const landed: Array<{ watchId: string; txHash: Hex; block: bigint; hfBefore: bigint; hfAfter: bigint; txCount: number; ok: boolean }> = [];
  const chat = () => telegram.chats.get(DEMO_CHAT_ID)?.messages ?? [];
  // Alert mail only; the address's confirmation mail is shown where the channel is set up.
  const mailbox = () => smtp.messages.filter((message) => message.accepted && message.headers['x-marginwatch-confirmation'] === undefined);
  const flush = () => {
    for (; printed.webhook < s.receiver.events.length; printed.webhook++) {
      const event = s.receiver.events[printed.webhook]!;
      console.log(describeEvent(event));
      const body = event.body as EventBody;
      if (body.type === 'topup.executed' && body.topUp?.txHash && !checkedTopUps.has(body.id)) {
        checkedTopUps.add(body.id);
        void confirmOnChain(body);
      }
    }
    for (const messages = chat(); printed.telegram < messages.length; printed.telegram++) console.log(phoneLine(messages[printed.telegram]!));
    for (const messages = mailbox(); printed.email < messages.length; printed.email++) console.log(mailboxLine(messages[printed.email]!));
  };
  /** A top-up event says it landed; the chain says so too: the receipt, and the Pool's own health factor around it. */
  const confirmOnChain = async (body: EventBody) => {
    try {
      const topUp = body.topUp!;
      const hash = topUp.txHash as Hex;
      const account = watches.find((watch) => watch.id === body.watch!.id)?.account;
      if (!account) throw new Error(`watch ${body.watch!.id} is not one of the demo's`);
      const receipt = await s.chain.publicClient.getTransactionReceipt({ hash });
      const read = async (blockNumber: bigint) =>
        (await s.chain.publicClient.readContract({ address: s.chain.market.pool, abi: poolAbi, functionName: 'getUserAccountData', args: [account], blockNumber }))[5];
      const [hfBefore, hfAfter] = await Promise.all([read(receipt.blockNumber - 1n), read(receipt.blockNumber)]);
      const ok = receipt.status === 'success' && hfAfter > hfBefore;
      landed.push({ watchId: body.watch!.id, txHash: hash, block: receipt.blockNumber, hfBefore, hfAfter, txCount: topUp.approveTxHash ? 2 : 1, ok });
      say(
        `💸 top-up on chain: ${body.watch!.label} ← ${Number(Number(topUp.amount).toFixed(4))} ${topUp.symbol} from the executor wallet, ` +
          `tx ${hash} (block ${receipt.blockNumber}, ${receipt.status}); the Pool's HF ${hf4(hfBefore)} → ${hf4(hfAfter)}`,
      );
    } catch (error) {
      say(`💸 could not check top-up ${body.id} on chain: ${error instanceof Error ? error.message : String(error)}`);
    }
  };
  const watches: Watch[] = [];
  timers.push(setInterval(flush, 100));

  // ── A tenant and its channels, as a user would set them up ──────────────────────────────────
  const issued = expect('POST /v1/keys', await s.api('POST', '/v1/keys', { token: s.adminToken, body: { label: 'demo' } }), 201).body as { key: string; tenantId: string };
  const { key, tenantId } = issued;
  const hookPath = '/hooks/demo';
  const webhook = expect('POST /v1/channels (webhook)', await s.api('POST', '/v1/channels', { token: key, body: { type: 'webhook', url: s.hookUrl(hookPath), label: 'demo receiver' } }), 201).body;
  s.registerSecret(hookPath, webhook.secret);
  say(`tenant key issued; webhook channel ${webhook.id} → ${s.hookUrl(hookPath)} (signing secret registered with the receiver)`);

  const email = expect('POST /v1/channels (email)', await s.api('POST', '/v1/channels', { token: key, body: { type: 'email', to: DEMO_EMAIL, label: 'demo inbox' } }), 201).body;
  // The address agrees first: the worker mails it a code, which its owner hands to the tenant.
  const confirmationMail = smtp.messages.filter((message) => message.headers['x-marginwatch-confirmation'] === email.id).at(-1);
  const code = confirmationMail && /Confirmation code: ([A-Z0-9]{5}-[A-Z0-9]{5})/.exec(confirmationMail.headers.subject ?? '')?.[1];
  if (!code) throw new Error(`no confirmation mail for ${email.id} arrived at the local SMTP server`);
  expect('POST /v1/channels/:id/confirm', await s.api('POST', `/v1/channels/${email.id}/confirm`, { token: key, body: { code } }), 200);
  say(`email channel ${email.id} → ${DEMO_EMAIL} (through the local SMTP server), confirmed with the code mailed to it (${code})`);

  // Telegram: the deployment owner registers the bot's webhook once; then the user asks for a link
  // code and sends it to the bot from their chat, which makes that chat a channel.
  expect('POST /v1/admin/telegram/setup', await s.api('POST', '/v1/admin/telegram/setup', { token: s.adminToken, body: { url: s.telegramWebhookUrl } }), 200);
  const link = expect('POST /v1/telegram/link', await s.api('POST', '/v1/telegram/link', { token: key, body: { label: 'demo phone' } }), 201).body as { code: string; url: string; command: string };
  say(`Telegram: bot webhook registered; link ${link.url}`);
  telegram.chat(DEMO_CHAT_ID, { type: 'private', title: 'Demo' });
  say(`📱 you → @${telegram.username}: ${link.command}`);
  const update = await telegram.deliverUpdate({ chatId: DEMO_CHAT_ID, text: link.command, firstName: 'Demo' });
  if (update.status !== 200) throw new Error(`the worker answered the Telegram update with ${update.status}: ${update.body}`);
  flush(); // the bot's reply
  const channels = expect('GET /v1/channels', await s.api('GET', '/v1/channels', { token: key }), 200).body.data as Array<{ id: string; type: string; chatId?: string }>;
  const phone = channels.find((channel) => channel.type === 'telegram' && channel.chatId === DEMO_CHAT_ID);
  if (!phone) throw new Error(`/start did not link the chat: the bot answered ${JSON.stringify(chat().at(-1)?.text ?? null)}`);
  say(`Telegram chat ${DEMO_CHAT_ID} linked as channel ${phone.id}`);

  // ── The executor wallet: gas and WETH to supply with ────────────────────────────────────────
  if ((await s.chain.publicClient.getBalance({ address: executor })) < parseUnits('1', 18)) {
    await s.chain.testClient.setBalance({ address: executor, value: parseUnits('100', 18) });
  }
  await s.chain.actions.mint(weth.asset, executor, parseUnits(EXECUTOR_WETH, weth.decimals));
  const signer = expect('GET /v1/topup/signer', await s.api('GET', '/v1/topup/signer', { token: s.adminToken }), 200).body as { address: string; chains: Array<{ balanceNative: string | null }> };
  const gas = Number(signer.chains[0]?.balanceNative ?? 0).toLocaleString('en-US', { maximumFractionDigits: 2 });
  say(`executor wallet ${signer.address} (anvil account ${EXECUTOR_ACCOUNT_INDEX}, TOPUP_PRIVATE_KEY): ${gas} ETH for gas, ${EXECUTOR_WETH} WETH minted to supply with`);
  const executorNonceBefore = await s.chain.publicClient.getTransactionCount({ address: executor });
  // The wallet is the owner's: the demo tenant may move up to $DEMO_GRANT_USD of it a day, and no more.
  const grant = expect('PUT /v1/admin/tenants/:tenantId/topup', await s.api('PUT', `/v1/admin/tenants/${tenantId}/topup`, { token: s.adminToken, body: { enabled: true, maxUsdPerDay: DEMO_GRANT_USD } }), 200).body as { maxUsdPerDay: string };
  say(`owner grants tenant ${tenantId} live top-ups worth up to $${grant.maxUsdPerDay} per 24 h (PUT /v1/admin/tenants/${tenantId}/topup)`);

  // ── Positions and their watches ─────────────────────────────────────────────────────────────
  await s.setWethPrice(START_PRICE);
  const lt = weth.liquidationThresholdBps / 10_000;
  for (const position of POSITIONS) {
    const account = await s.openPosition(position.collateralWeth, position.debtUsdc);
    const channelIds = [webhook.id, phone.id, ...(position.email ? [email.id] : [])];
    const topUp = position.topUp ? { enabled: true, asset: weth.asset, ...POLICY, dryRun: position.topUp === 'dry run' } : undefined;
    const watch = expect(
      'POST /v1/watches',
      await s.api('POST', '/v1/watches', {
        token: key,
        body: { chainId: s.chain.chainId, protocol: 'aave-v3', market: s.chain.market.pool, account, label: position.label, channels: channelIds, ...(topUp ? { topUp } : {}), ...(position.risk ? { risk: { enabled: true } } : {}) },
      }),
      201,
    );
    const aWethBefore = await s.chain.actions.balanceOf(weth.aToken, account);
    watches.push({ id: watch.body.id, label: position.label, account, channels: channelIds, topUp: position.topUp, aWethBefore });
    const collateral = Number(position.collateralWeth);
    const debt = Number(position.debtUsdc);
    const hf = (collateral * START_PRICE * lt) / debt;
    const liquidationPrice = Math.round(debt / (collateral * lt));
    const reaches = `webhook + Telegram${position.email ? ' + email' : ''}`;
    const policy = position.topUp ? `; auto-top-up ${position.topUp === 'live' ? 'LIVE' : 'dry run'}: supply WETH below HF ${POLICY.triggerHealthFactor} → ${POLICY.targetHealthFactor}` : '';
    const riskNote = position.risk ? '; risk-based levels on (24 h liquidation probability 1 % / 5 % / 20 %)' : '';
    say(
      `opened ${position.label.padEnd(7)} ${account}: ${position.collateralWeth} WETH / ${debt.toLocaleString('en-US')} USDC, HF ${hf.toFixed(2)} at ${usd(START_PRICE)}, ` +
        `liquidated below WETH ≈ ${usd(liquidationPrice)} → watch ${watch.body.id} (${reaches}${policy}${riskNote})`,
    );
  }

  // ── The other protocols: the same alerts from each, moved by the same WETH price ──────────
  const { spark, morpho, comet, euler, maker, liquity, fluid } = markets!;
  const others: Array<{ label: OtherLabel; protocol: string; body: Record<string, unknown>; account: Address }> = [];
  const sparkAccount = privateKeyToAccount(generatePrivateKey()).address;
  const sparkCollateral = parseUnits(OTHER_POSITIONS.spark.collateralWeth, 18);
  await s.chain.actions.setPrice(spark, 'WETH', parseUnits(String(START_PRICE), 8));
  await s.chain.actions.mint(spark.reserves.WETH.asset, sparkAccount, sparkCollateral);
  await s.chain.actions.supply(spark, sparkAccount, 'WETH', sparkCollateral);
  await s.chain.actions.borrow(spark, sparkAccount, 'USDC', parseUnits(OTHER_POSITIONS.spark.debt, 6));
  others.push({ label: 'spark', protocol: 'spark', account: sparkAccount, body: { market: spark.pool } });
  const morphoAccount = await openMorphoPosition(s.chain.clients, morpho, { collateral: OTHER_POSITIONS.morpho.collateralWeth, borrow: OTHER_POSITIONS.morpho.debt });
  others.push({ label: 'morpho', protocol: 'morpho-blue', account: morphoAccount, body: { market: morpho.id, protocolAddress: morpho.morpho } });
  if (comet) {
    const cometAccount = await openCometPosition(s.chain.clients, comet, { collateral: 'WETH', collateralAmount: OTHER_POSITIONS.comet.collateralWeth, borrow: OTHER_POSITIONS.comet.debt });
    others.push({ label: 'comet', protocol: 'compound-v3', account: cometAccount, body: { market: comet.comet } });
  }
  if (euler) {
    // The watch names the owner: every sub-account with debt is read, the riskiest leads.
    const owner = await newEulerOwner(s.chain.clients);
    await openEulerPosition(s.chain.clients, euler, { owner, index: 0, collateral: 'WETH', collateralAmount: OTHER_POSITIONS.euler.collateralWeth, borrowUsds: OTHER_POSITIONS.euler.debt });
    others.push({ label: 'euler', protocol: 'euler-v2', account: owner, body: { market: euler.borrowVault.vault } });
  }
  if (maker) {
    // An ETH-A urn; the watch names the ilk and the Vat (no canonical Vat on the local chain).
    const urn = await openMakerVault(s.chain.clients, maker, { collateral: OTHER_POSITIONS.maker.collateralWeth, debt: OTHER_POSITIONS.maker.debt });
    others.push({ label: 'maker', protocol: 'maker', account: urn, body: { market: maker.ilk.name, protocolAddress: maker.vat } });
  }
  if (liquity) {
    // One trove on the WETH branch, watched by its id; the market is the branch's TroveManager. Its
    // 6 % rate is above the branch's big 5 % trove, so it is not first in line for redemptions.
    const trove = await openTrove(s.chain.clients, liquity, { branch: 'WETH', collateral: OTHER_POSITIONS.liquity.collateralWeth, debt: OTHER_POSITIONS.liquity.debt, interestRate: '0.06' });
    others.push({ label: 'liquity', protocol: 'liquity-v2', account: troveIdText(trove.troveId) as Address, body: { market: liquity.branches.WETH.troveManager } });
  }
  if (fluid) {
    // One position NFT in the WETH/USDC T1 vault, watched by its id.
    const nftId = await openFluidPosition(s.chain.clients, fluid, { owner: await newFluidOwner(s.chain.clients), weth: OTHER_POSITIONS.fluid.collateralWeth, borrowUsdc: OTHER_POSITIONS.fluid.debt });
    others.push({ label: 'fluid', protocol: 'fluid', account: nftIdText(nftId) as Address, body: { market: fluid.vault } });
  }
  for (const other of others) {
    const channelIds = [webhook.id, phone.id];
    const watch = expect('POST /v1/watches', await s.api('POST', '/v1/watches', { token: key, body: { chainId: s.chain.chainId, protocol: other.protocol, account: other.account, label: other.label, channels: channelIds, ...other.body } }), 201);
    watches.push({ id: watch.body.id, label: other.label, account: other.account, channels: channelIds, topUp: undefined, aWethBefore: 0n });
    const size = OTHER_POSITIONS[other.label];
    const account = other.account.length > 42 ? `${other.account.slice(0, 10)}…${other.account.slice(-4)}` : other.account;
    say(`opened ${other.label.padEnd(7)} ${account}: ${size.collateralWeth} WETH / ${Number(size.debt).toLocaleString('en-US')} ${size.debtSymbol} on ${other.protocol} (${size.what}) → watch ${watch.body.id} (webhook + Telegram)`);
  }
  const setPrices = async (usdPerWeth: number) => {
    await s.setWethPrice(usdPerWeth);
    await s.chain.actions.setPrice(spark, 'WETH', parseUnits(String(usdPerWeth), 8));
    await setMorphoPrice(s.chain.clients, morpho, String(usdPerWeth), morpho);
    if (comet) await setCometPrice(s.chain.clients, comet, 'WETH', String(usdPerWeth));
    if (euler) await setEulerPrice(s.chain.clients, euler, 'WETH', String(usdPerWeth));
    if (maker) await setMakerPrice(s.chain.clients, maker, String(usdPerWeth));
    if (liquity) await setLiquityPrice(s.chain.clients, liquity, 'WETH', String(usdPerWeth));
    if (fluid) await setFluidPrice(s.chain.clients, fluid, String(usdPerWeth));
  };

  const guarded = watches.find((watch) => watch.topUp === 'live')!;
  console.log('');
  console.log(`  API         ${s.apiUrl}`);
  console.log(`  dashboard   ${s.apiUrl}/dashboard   (sign in by pasting the tenant key)`);
  console.log(`  tenant key  ${key}`);
  console.log(`  admin token ${s.adminToken}   (this run only)`);
  console.log('  try:');
  console.log(`    curl -H "Authorization: Bearer ${key}" ${s.apiUrl}/v1/watches`);
  console.log(`    curl -H "Authorization: Bearer ${key}" ${s.apiUrl}/v1/watches/${guarded.id}          # topUp policy and topUpState`);
  console.log(`    curl -H "Authorization: Bearer ${key}" ${s.apiUrl}/v1/watches/${watches[1]!.id}/alerts`);
  console.log(`    curl -H "Authorization: Bearer ${key}" ${s.apiUrl}/v1/topup/grant          # the owner's grant to this tenant, and its spend`);
  console.log(`    curl -H "Authorization: Bearer ${s.adminToken}" ${s.apiUrl}/v1/topup/signer   # the executor wallet (admin only)`);
  console.log(`  wrangler log: ${s.logFile}`);
  console.log('  lines: ⚡ a verified webhook · 📱 what the phone shows (Telegram) · ✉ what the mailbox receives · 💸 a top-up checked on chain');
  console.log('');

  // Cron never fires by itself under wrangler dev: the heartbeat is triggered here.
  timers.push(
    setInterval(() => {
      if (stopping) return;
      s.triggerCron().then(
        () => say('· cron heartbeat ran (re-arms lost alarms of shards, tenants and executors)'),
        (error: unknown) => say(`· cron heartbeat failed: ${error instanceof Error ? error.message : String(error)}`),
      );
    }, HEARTBEAT_MS),
  );

  const read = async (watch: Watch): Promise<WatchRead> => (await s.api<WatchRead>('GET', `/v1/watches/${watch.id}`, { token: key })).body;
  const levels = async () => {
    const reads = await Promise.all(watches.map(read));
    return watches.map((watch, index) => ({ label: watch.label, level: reads[index]!.level ?? '?', hf: reads[index]!.position?.healthFactor ?? '—' }));
  };
  const printLevels = async () => {
    const now = await levels();
    say(`  levels: ${now.map((entry) => `${entry.label} ${entry.level} (HF ${entry.hf})`).join(' · ')}`);
  };

  // The first poll happens as soon as a watch is created.
  for (const watch of watches) {
    for (let tries = 0; (await read(watch)).position === null && tries < 50; tries++) await sleep(200);
  }
  say(`WETH ${usd(START_PRICE)}; the worker polls at-risk positions every ${POLL_SECONDS} s (a level needs 2 polls, critical 1)`);
  await printLevels();
  say(`price driver: ${usd(START_PRICE)} → ${usd(Math.min(...CYCLE))} → ${usd(START_PRICE)}, a step every ${stepMs / 1000} s${args.once ? '' : ' (Ctrl-C to stop)'}`);

  let price = START_PRICE;
  for (let cycle = 1; !stopping; cycle++) {
    if (cycle > 1) say(`cycle ${cycle}`);
    for (const next of CYCLE) {
      if (stopping) return;
      say(`${next < price ? '▼' : '▲'} WETH ${usd(next)}`);
      price = next;
      await setPrices(next);
      await sleep(stepMs);
      if (stopping) return;
      await printLevels();
    }
    if (args.once) break;
  }

  // ── --once: let the last polls and deliveries land, then check and summarise ────────────────
  const deliveries = async (status: 'pending' | 'dead') => (await s.api('GET', `/v1/deliveries?status=${status}&limit=200`, { token: key })).body.data as Array<{ eventId: string; channelId: string; lastError: string | null }>;
  const deadline = Date.now() + 30_000;
  let settled = false;
  while (Date.now() < deadline) {
    const now = await levels();
    const pending = await deliveries('pending');
    if (now.every((entry) => entry.level === FINAL_LEVELS[entry.label]) && pending.length === 0 && landed.length >= checkedTopUps.size) {
      settled = true;
      break;
    }
    await sleep(500);
  }
  await sleep(500);
  flush();
  for (let waited = 0; landed.length < checkedTopUps.size && waited < 5_000; waited += 100) await sleep(100);

  const failures: string[] = [];
  const check = (ok: boolean, failure: string) => {
    if (!ok) failures.push(failure);
    return ok;
  };
  const events = s.receiver.events;
  const bodies = events.map((event) => event.body as EventBody);
  const verified = events.filter((event) => event.verified).length;
  const ids = new Set(events.map((event) => event.id));
  const pending = await deliveries('pending');
  const dead = await deliveries('dead');
  check(events.length > 0, 'no webhook arrived');
  check(verified === events.length, `${events.length - verified} webhook signature(s) did not verify`);
  check(ids.size === events.length, 'a webhook-id arrived twice');
  check(pending.length === 0, `${pending.length} deliveries still pending`);
  check(dead.length === 0, `${dead.length} dead deliveries: ${dead.map((entry) => entry.lastError).join('; ')}`);
  if (!settled) failures.push('the watches did not settle at their expected final levels within 30 s');

  // Telegram and email: each event of the watches they are attached to, exactly once (the webhook,
  // attached to every watch, says which events there were).
  const channelCheck = (name: string, channelId: string, received: Array<string | null>) => {
    const expected = bodies.filter((body) => body.watch && watches.find((watch) => watch.id === body.watch!.id)?.channels.includes(channelId)).map((body) => body.id);
    const counts = new Map<string, number>();
    for (const id of received) if (id !== null) counts.set(id, (counts.get(id) ?? 0) + 1);
    const missing = expected.filter((id) => !counts.has(id));
    const repeated = [...counts].filter(([, count]) => count > 1).map(([id]) => id);
    const unexpected = [...counts.keys()].filter((id) => !expected.includes(id));
    const attached = watches.filter((watch) => watch.channels.includes(channelId)).map((watch) => watch.label).join(', ');
    const ok = check(expected.length > 0 && missing.length === 0 && repeated.length === 0 && unexpected.length === 0, `${name}: missing ${missing.join(', ') || '—'}; repeated ${repeated.join(', ') || '—'}; not expected ${unexpected.join(', ') || '—'}`);
    return `${counts.size} of ${expected.length} events of ${attached}${ok ? ' (each once)' : ' (MISMATCH)'}`;
  };
  const telegramLine = channelCheck('telegram', phone.id, chat().map(telegramEventId));
  const emailLine = channelCheck('email', email.id, mailbox().map((message) => message.headers['x-marginwatch-event-id'] ?? null));

  // The live top-up: executed, checked on chain (receipt, the Pool's HF went up), and the
  // executor's nonce moved by exactly its transactions.
  const executed = bodies.filter((body) => body.type === 'topup.executed');
  const executorNonceAfter = await s.chain.publicClient.getTransactionCount({ address: executor });
  const sentTxs = executorNonceAfter - executorNonceBefore;
  const liveTxs = landed.reduce((sum, entry) => sum + entry.txCount, 0);
  const liveLanded = landed.filter((entry) => entry.watchId === guarded.id && entry.ok);
  check(executed.some((body) => body.watch?.id === guarded.id), `no topup.executed for ${guarded.label}`);
  check(liveLanded.length > 0 && landed.every((entry) => entry.ok), `the live top-up did not land (receipt failed or the Pool's HF did not go up)`);
  check(sentTxs === liveTxs && liveTxs > 0, `the executor sent ${sentTxs} transactions, its top-ups account for ${liveTxs}`);

  // The dry run: reported, never sent (no executed event, no collateral added, no transaction in its records).
  const dryRuns = watches.filter((watch) => watch.topUp === 'dry run');
  const dryLines: string[] = [];
  for (const watch of dryRuns) {
    const reported = bodies.filter((body) => body.watch?.id === watch.id && body.type === 'topup.skipped' && body.topUp?.reason === 'dry_run');
    const aWethAfter = await s.chain.actions.balanceOf(weth.aToken, watch.account);
    const recent = (await read(watch)).topUpState?.recent ?? [];
    const quiet = !bodies.some((body) => body.watch?.id === watch.id && body.type === 'topup.executed') && aWethAfter === watch.aWethBefore && recent.every((action) => action.dryRun && action.txHash === null);
    check(reported.length > 0, `${watch.label}: no dry-run event`);
    check(quiet, `${watch.label}: the dry run sent something (aWETH ${formatUnits(watch.aWethBefore, weth.decimals)} → ${formatUnits(aWethAfter, weth.decimals)}, recorded actions ${JSON.stringify(recent)})`);
    const first = reported[0]?.topUp;
    const would = first ? `would have supplied ${Number(Number(first.amount).toFixed(4))} ${first.symbol} at HF ${first.healthFactorBefore}` : 'no dry run reported';
    dryLines.push(`${watch.label}: ${reported.length} dry run(s), ${would}; ${quiet ? `sent nothing (collateral still ${formatUnits(aWethAfter, weth.decimals)} WETH, no transaction)` : 'SENT SOMETHING'}`);
  }

  console.log('');
  say('summary');
  console.log(`  webhooks received       ${events.length}`);
  console.log(`  signatures verified     ${verified} of ${events.length}${verified === events.length ? ' (all)' : ''}`);
  console.log(`  distinct webhook-ids    ${ids.size}${ids.size === events.length ? ' (no duplicates)' : ' (DUPLICATES!)'}`);
  console.log(`  telegram (chat ${DEMO_CHAT_ID}) ${telegramLine}`);
  console.log(`  email (${DEMO_EMAIL}) ${emailLine}`);
  console.log(`  deliveries pending/dead ${pending.length} / ${dead.length}`);
  for (const entry of landed) {
    const label = watches.find((watch) => watch.id === entry.watchId)?.label ?? entry.watchId;
    console.log(`  live top-up             ${label}: tx ${entry.txHash} in block ${entry.block}; Pool HF ${hf4(entry.hfBefore)} → ${hf4(entry.hfAfter)}${entry.ok ? ' (landed)' : ' (DID NOT LAND)'}`);
  }
  if (landed.length === 0) console.log('  live top-up             none landed');
  console.log(`  executor transactions   ${sentTxs} sent by ${executor}${sentTxs === liveTxs ? ` (= the live top-up${landed.length === 1 ? "'s" : "s'"} approve + supply)` : ` (top-ups account for ${liveTxs}!)`}`);
  for (const line of dryLines) console.log(`  dry run                 ${line}`);
  for (const watch of watches) {
    const sequence = bodies
      .filter((body) => body.watch?.id === watch.id)
      .map((body) => (body.topUp ? body.type.replace('topup.', 'topup:') + (body.topUp.reason ? `(${body.topUp.reason})` : '') : `${body.type.replace('alert.', '')}(${body.level})`));
    console.log(`  ${watch.label.padEnd(8)}                ${sequence.join(' → ') || '(no events)'}`);
  }
  for (const watch of watches.filter((entry) => POSITIONS.find((position) => position.label === entry.label)?.risk)) {
    const risk = (await read(watch)).risk;
    const line = riskLine(risk ?? null);
    check(line !== null && risk?.liquidationProbability['24h'] !== null, `${watch.label}: no risk figures in GET /v1/watches/${watch.id}`);
    console.log(`  risk (${watch.label})${' '.repeat(Math.max(1, 16 - watch.label.length))}${line ?? 'none'}`);
  }
  for (const failure of failures) console.log(`  ✗ ${failure}`);
  const ok = failures.length === 0;
  say(
    ok
      ? 'demo cycle complete: every webhook arrived once with a valid signature, Telegram and email got each of their alerts once, the live top-up landed and the dry run sent nothing'
      : 'demo cycle FAILED its checks (see above)',
  );
  await shutdown(ok ? 0 : 1);
}

main().catch(async (error: unknown) => {
  if (stopping) return; // Ctrl-C mid-step: shutdown() exits.
  console.error(`\ndemo failed: ${error instanceof Error ? error.message : String(error)}`);
  if (stack) console.error(`wrangler log: ${stack.logFile}`);
  await shutdown(1);
});
