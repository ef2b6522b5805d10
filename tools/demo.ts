// `npm start`: the live demo. A local chain with a real Aave v3 market, the worker under
// `wrangler dev`, a webhook receiver that verifies every signature, three watched positions, and a
// price driver that walks WETH down to ~$1,250 and back so the alerts fire and resolve.
//
//   npm start                    cycles until Ctrl-C (which stops everything it started)
//   npm start -- --once          one price cycle, then a summary; exit 0 when every webhook verified
//   npm start -- --verbose       also show wrangler's output (otherwise in .wrangler/demo/wrangler.log)
//   npm start -- --step 6        seconds between price steps (default 6)
//
// MARGINWATCH_CHAIN_CACHE=<dir> keeps the chain snapshot elsewhere than .cache/chain.

import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { Address } from 'viem';
import { REPO_ROOT, describeEvent, startDevStack, type DevStack } from './dev-stack';

const POLL_SECONDS = 3;
const START_PRICE = 2000;
/** One cycle, after the start price: down to 1250, back up to 2000. */
const CYCLE = [1850, 1700, 1550, 1400, 1250, 1400, 1550, 1700, 1850, 2000];
const HEARTBEAT_MS = 60_000;

type DemoPosition = { label: string; collateralWeth: string; debtUsdc: string };
const POSITIONS: DemoPosition[] = [
  { label: 'safe', collateralWeth: '10', debtUsdc: '7500' }, // HF 2.20 at $2000
  { label: 'medium', collateralWeth: '10', debtUsdc: '10000' }, // HF 1.65
  { label: 'risky', collateralWeth: '10', debtUsdc: '12200' }, // HF 1.35: in warning from the start
];
/** Where each watch settles once WETH is back at $2000 (risky stays under the 1.5 warning line). */
const FINAL_LEVELS: Record<string, string> = { safe: 'ok', medium: 'ok', risky: 'warning' };

type Watch = { id: string; label: string; account: Address };
type WatchRead = { level: string | null; position: { healthFactor: string | null } | null };

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

const clock = () => new Date().toTimeString().slice(0, 8);
const say = (line: string) => console.log(`${clock()}  ${line}`);
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const usd = (value: number) => `$${value.toLocaleString('en-US')}`;

let stack: DevStack | undefined;
let stopping = false;
const timers: NodeJS.Timeout[] = [];

async function shutdown(code: number): Promise<never> {
  stopping = true;
  for (const timer of timers) clearInterval(timer);
  if (stack) {
    say('stopping wrangler, the webhook receiver and anvil…');
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

async function main(): Promise<void> {
  console.log('marginwatch demo: local Aave v3 market + worker (wrangler dev) + signed webhooks\n');
  const cacheDir = process.env.MARGINWATCH_CHAIN_CACHE;
  stack = await startDevStack({
    pollIntervalSeconds: POLL_SECONDS,
    verbose: args.verbose,
    workDir: join(REPO_ROOT, '.wrangler', 'demo'),
    ...(cacheDir ? { chainCacheDir: cacheDir } : {}),
    onProgress: say,
  });
  const s = stack;
  if (stopping) return;

  // A tenant, as the deployment owner would create one, and a webhook channel to our receiver.
  const created = await s.api('POST', '/v1/keys', { token: s.adminToken, body: { label: 'demo' } });
  if (created.status !== 201) throw new Error(`POST /v1/keys answered ${created.status}: ${JSON.stringify(created.body)}`);
  const key = created.body.key as string;
  const hookPath = '/hooks/demo';
  const channel = await s.api('POST', '/v1/channels', { token: key, body: { type: 'webhook', url: s.hookUrl(hookPath), label: 'demo receiver' } });
  if (channel.status !== 201) throw new Error(`POST /v1/channels answered ${channel.status}: ${JSON.stringify(channel.body)}`);
  s.registerSecret(hookPath, channel.body.secret);
  say(`tenant key issued; webhook channel ${channel.body.id} → ${s.hookUrl(hookPath)} (signing secret registered with the receiver)`);

  await s.setWethPrice(START_PRICE);
  const lt = s.chain.market.reserves.WETH.liquidationThresholdBps / 10_000;
  const watches: Watch[] = [];
  for (const position of POSITIONS) {
    const account = await s.openPosition(position.collateralWeth, position.debtUsdc);
    const watch = await s.api('POST', '/v1/watches', {
      token: key,
      body: { chainId: s.chain.chainId, protocol: 'aave-v3', market: s.chain.market.pool, account, label: position.label, channels: [channel.body.id] },
    });
    if (watch.status !== 201) throw new Error(`POST /v1/watches answered ${watch.status}: ${JSON.stringify(watch.body)}`);
    watches.push({ id: watch.body.id, label: position.label, account });
    const collateral = Number(position.collateralWeth);
    const debt = Number(position.debtUsdc);
    const hf = (collateral * START_PRICE * lt) / debt;
    const liquidationPrice = Math.round(debt / (collateral * lt));
    say(
      `opened ${position.label.padEnd(6)} ${account}: ${position.collateralWeth} WETH / ${Number(position.debtUsdc).toLocaleString('en-US')} USDC, ` +
        `HF ${hf.toFixed(2)} at ${usd(START_PRICE)}, liquidated below WETH ≈ ${usd(liquidationPrice)} → watch ${watch.body.id}`,
    );
  }

  console.log('');
  console.log(`  API         ${s.apiUrl}`);
  console.log(`  tenant key  ${key}`);
  console.log(`  admin token ${s.adminToken}   (this run only)`);
  console.log('  try:');
  console.log(`    curl -H "Authorization: Bearer ${key}" ${s.apiUrl}/v1/watches`);
  console.log(`    curl -H "Authorization: Bearer ${key}" ${s.apiUrl}/v1/watches/${watches[1]!.id}`);
  console.log(`    curl -H "Authorization: Bearer ${key}" ${s.apiUrl}/v1/watches/${watches[1]!.id}/alerts`);
  console.log(`  wrangler log: ${s.logFile}`);
  console.log('');

  // Each verified webhook, one line as it arrives.
  let printed = 0;
  timers.push(
    setInterval(() => {
      for (; printed < s.receiver.events.length; printed++) console.log(describeEvent(s.receiver.events[printed]!));
    }, 100),
  );
  // Cron never fires by itself under wrangler dev: the heartbeat is triggered here.
  timers.push(
    setInterval(() => {
      if (stopping) return;
      s.triggerCron().then(
        () => say('· cron heartbeat ran (re-arms every shard alarm)'),
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
      await s.setWethPrice(next);
      await sleep(stepMs);
      if (stopping) return;
      await printLevels();
    }
    if (args.once) break;
  }

  // --once: let the last polls and deliveries land, then check and summarise.
  const deadline = Date.now() + 30_000;
  let settled = false;
  while (Date.now() < deadline) {
    const now = await levels();
    const pending = (await s.api('GET', '/v1/deliveries?status=pending', { token: key })).body.data as unknown[];
    if (now.every((entry) => entry.level === FINAL_LEVELS[entry.label]) && pending.length === 0) {
      settled = true;
      break;
    }
    await sleep(500);
  }
  await sleep(500);
  for (; printed < s.receiver.events.length; printed++) console.log(describeEvent(s.receiver.events[printed]!));

  const events = s.receiver.events;
  const verified = events.filter((event) => event.verified).length;
  const ids = new Set(events.map((event) => event.id));
  const pending = (await s.api('GET', '/v1/deliveries?status=pending', { token: key })).body.data as unknown[];
  console.log('');
  say('summary');
  console.log(`  webhooks received       ${events.length}`);
  console.log(`  signatures verified     ${verified} of ${events.length}${verified === events.length ? ' (all)' : ''}`);
  console.log(`  distinct webhook-ids    ${ids.size}${ids.size === events.length ? ' (no duplicates)' : ' (DUPLICATES!)'}`);
  console.log(`  deliveries pending      ${pending.length}`);
  for (const watch of watches) {
    const sequence = events
      .map((event) => event.body as { type: string; level: string; watch: { id: string } })
      .filter((body) => body.watch?.id === watch.id)
      .map((body) => `${body.type.replace('alert.', '')}(${body.level})`);
    console.log(`  ${watch.label.padEnd(8)}                ${sequence.join(' → ') || '(no events)'}`);
  }
  const ok = events.length > 0 && verified === events.length && ids.size === events.length && pending.length === 0 && settled;
  if (!settled) console.log('  the watches did not settle at their expected final levels within 30 s');
  say(ok ? 'demo cycle complete: every webhook arrived once with a valid signature' : 'demo cycle FAILED its checks (see above)');
  await shutdown(ok ? 0 : 1);
}

main().catch(async (error: unknown) => {
  if (stopping) return; // Ctrl-C mid-step: shutdown() exits.
  console.error(`\ndemo failed: ${error instanceof Error ? error.message : String(error)}`);
  if (stack) console.error(`wrangler log: ${stack.logFile}`);
  await shutdown(1);
});
