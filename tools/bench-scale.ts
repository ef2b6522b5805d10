// Scale benchmark: N watches through the real API and Durable Objects (`wrangler dev`, workerd) on
// the local chain holding a real Aave v3 market, with a counting JSON-RPC proxy between the worker
// and the node. For each N it reports:
//   - create latency of POST /v1/watches, first 10% vs last 10% of the creates (flat in N is the target),
//   - the time until every watch has been observed (GET /v1/watches/:id shows a position; the last
//     200 created are timed, being the last to be read, then every watch is checked),
//   - RPC HTTP requests per polling round against the floor ⌈N / READ_BATCH_SIZE⌉ and the target
//     2 × ⌈N / READ_BATCH_SIZE⌉ + 2 (healthy positions: every shard polls once a minute, so one round is
//     one minute; counted over whole rounds),
//   - the alert burst: a price crash that moves every position under its warning line, and the time
//     until every watch's alert reached the webhook receiver (signed, each event id once),
//   - the storage used per watch (the Durable Objects' SQLite databases ÷ N).
//
//   npm run bench:scale                          N = 1000
//   npm run bench:scale -- --sizes 1000,10000 --tenants 4 --concurrency 16 --rounds 2 --poll 12
//
// Figures are measured on this machine against a local node; they are ratios and orders of
// magnitude for comparing designs, not a promise about a deployment on Cloudflare.

import { createServer, type Server } from 'node:http';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import type { Address } from 'viem';
import { startDevStack, type DevStack } from './dev-stack';

type Options = { sizes: number[]; tenants: number; concurrency: number; rounds: number; batch: number; poll: number };

type RpcCounter = { url: string; requests: number; byMethod: Map<string, number>; stop(): Promise<void> };

type Tenant = { key: string; channelId: string; hookPath: string };

type ScaleResult = {
  n: number;
  createMs: { firstTenth: number; lastTenth: number; p95: number };
  rateLimited: number;
  observedAllAfterS: number;
  requestsPerRound: number;
  floor: number;
  target: number;
  burst: { alerts: number; duplicates: number; seconds: number };
  storageBytesPerWatch: number;
};

const ROUND_MS = 60_000;
/** How many of the last watches created are timed until observed. */
const OBSERVE_SAMPLE = 200;
const WARNING_LINE = 1.5;

function parseOptions(): Options {
  const { values } = parseArgs({
    options: {
      sizes: { type: 'string', default: '1000' },
      tenants: { type: 'string', default: '4' },
      concurrency: { type: 'string', default: '16' },
      rounds: { type: 'string', default: '2' },
      batch: { type: 'string', default: '300' },
      poll: { type: 'string', default: '12' },
    },
    allowPositionals: false,
  });
  const sizes = values.sizes.split(',').map((size) => Number(size.trim()));
  if (sizes.some((size) => !Number.isInteger(size) || size < 1)) throw new Error(`--sizes must be whole numbers ≥ 1, got ${values.sizes}`);
  const whole = (name: string, raw: string) => {
    const value = Number(raw);
    if (!Number.isInteger(value) || value < 1) throw new Error(`--${name} must be a whole number ≥ 1, got ${raw}`);
    return value;
  };
  return {
    sizes,
    tenants: whole('tenants', values.tenants),
    concurrency: whole('concurrency', values.concurrency),
    rounds: whole('rounds', values.rounds),
    batch: whole('batch', values.batch),
    poll: whole('poll', values.poll),
  };
}

/** A JSON-RPC pass-through that counts the HTTP requests the worker sends (a batch counts once, as a node bills it). */
async function startRpcCounter(target: string): Promise<RpcCounter> {
  const counter = { requests: 0, byMethod: new Map<string, number>() };
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      counter.requests += 1;
      try {
        const payload = JSON.parse(body) as { method?: string } | Array<{ method?: string }>;
        for (const call of Array.isArray(payload) ? payload : [payload]) {
          const method = call.method ?? 'unknown';
          counter.byMethod.set(method, (counter.byMethod.get(method) ?? 0) + 1);
        }
      } catch {
        counter.byMethod.set('unparsable', (counter.byMethod.get('unparsable') ?? 0) + 1);
      }
      fetch(target, { method: 'POST', headers: { 'content-type': 'application/json' }, body })
        .then(async (upstream) => {
          response.writeHead(upstream.status, { 'content-type': 'application/json' });
          response.end(await upstream.text());
        })
        .catch(() => {
          response.writeHead(502);
          response.end();
        });
    });
  });
  // Longer than workerd keeps an idle connection, as an RPC provider's load balancer does.
  server.keepAliveTimeout = 120_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('the RPC counter did not get a port');
  return {
    url: `http://127.0.0.1:${address.port}`,
    get requests() {
      return counter.requests;
    },
    byMethod: counter.byMethod,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

async function pool<T>(items: readonly T[], concurrency: number, work: (item: T, index: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, items.length) }, async () => {
      while (next < items.length) {
        const index = next++;
        await work(items[index]!, index);
      }
    }),
  );
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length - 1) * p))] ?? 0;
}

function median(values: number[]): number {
  return percentile(values, 0.5);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** An API call that waits out a 429 (honouring retry-after) and counts it; any other failure stops the bench. */
async function call<T = any>(stack: DevStack, method: string, path: string, options: { token?: string; body?: unknown }, expected: number, limited: { count: number }): Promise<{ body: T; ms: number }> {
  for (;;) {
    const started = performance.now();
    const result = await stack.api<T>(method, path, options);
    const ms = performance.now() - started;
    if (result.status === expected) return { body: result.body, ms };
    if (result.status === 429) {
      limited.count += 1;
      const retryAfter = Number((result.body as { error?: { retryAfter?: number } })?.error?.retryAfter ?? 1);
      await sleep(Math.max(1, retryAfter) * 1000);
      continue;
    }
    throw new Error(`${method} ${path} answered ${result.status}, expected ${expected}: ${JSON.stringify(result.body).slice(0, 300)}`);
  }
}

async function measure(n: number, opts: Options, progress: (line: string) => void): Promise<ScaleResult> {
  let counter: RpcCounter | undefined;
  const stack = await startDevStack({
    telegram: false,
    email: false,
    // POLL_INTERVAL_SECONDS as deployed (wrangler.toml): the cadence of accounts near a line.
    pollIntervalSeconds: opts.poll,
    rpcUrlFor: async (rpcUrl) => {
      counter = await startRpcCounter(rpcUrl);
      return counter.url;
    },
    onProgress: (line) => progress(`  ${line}`),
  });
  try {
    const rpc = counter!;
    progress(`  opening ${n} Aave v3 positions (health factor 1.8–2.5)…`);
    const positions = await stack.chain.actions.openPositions(stack.chain.market, n, { seed: `marginwatch-scale-${n}`, healthFactor: { min: 1.8, max: 2.5 } });
    const limited = { count: 0 };

    const tenants: Tenant[] = [];
    for (let index = 0; index < opts.tenants; index++) {
      const issued = (await call<{ key: string }>(stack, 'POST', '/v1/keys', { token: stack.adminToken, body: { label: `scale ${index}` } }, 201, limited)).body;
      const hookPath = `/scale-${index}`;
      const channel = (await call<{ id: string; secret: string }>(stack, 'POST', '/v1/channels', { token: issued.key, body: { type: 'webhook', url: stack.hookUrl(hookPath), label: `scale ${index}` } }, 201, limited)).body;
      stack.registerSecret(hookPath, channel.secret);
      tenants.push({ key: issued.key, channelId: channel.id, hookPath });
    }

    progress(`  creating ${n} watches over ${opts.tenants} tenants (concurrency ${opts.concurrency})…`);
    const createMs: number[] = new Array(n);
    const watches: Array<{ id: string; tenant: Tenant }> = new Array(n);
    let done = 0;
    await pool(positions, opts.concurrency, async (position, index) => {
      const tenant = tenants[index % tenants.length]!;
      const { body, ms } = await call<{ id: string }>(
        stack, 'POST', '/v1/watches',
        { token: tenant.key, body: { chainId: stack.chain.chainId, protocol: 'aave-v3', market: stack.chain.market.pool, account: position.address as Address, channels: [tenant.channelId] } },
        201, limited,
      );
      createMs[index] = ms;
      watches[index] = { id: body.id, tenant };
      done += 1;
      if (done % Math.max(1, Math.floor(n / 10)) === 0) progress(`    ${done}/${n} created`);
    });
    const createdAt = performance.now();
    const tenth = Math.max(1, Math.floor(n / 10));

    // Every create wakes its shard, which reads all its watches at once: the last watches created
    // are the last to be seen. Timing them (a sample, cheap on the per-key rate limit) gives the
    // time until every watch is observed; a full pass then checks that none was missed.
    const sample = watches.slice(-Math.min(n, OBSERVE_SAMPLE));
    progress(`  waiting until the last ${sample.length} watches created have been observed…`);
    await waitObserved(stack, sample, opts.concurrency, limited, createdAt);
    const observedAllAfterS = (performance.now() - createdAt) / 1000;
    progress(`    observed ${observedAllAfterS.toFixed(1)} s after the last create; checking every watch…`);
    await waitObserved(stack, watches, opts.concurrency, limited, createdAt);
    progress(`    every watch observed (checked ${((performance.now() - createdAt) / 1000).toFixed(1)} s after the last create, paced by the per-key rate limit)`);

    progress(`  counting RPC requests over ${opts.rounds} polling round(s) of ${ROUND_MS / 1000} s…`);
    // The first observations re-arm each shard a minute out; start counting once that settles.
    await sleep(ROUND_MS);
    const before = rpc.requests;
    const methodsBefore = new Map(rpc.byMethod);
    await sleep(ROUND_MS * opts.rounds);
    const requestsPerRound = (rpc.requests - before) / opts.rounds;
    const methods = [...rpc.byMethod].map(([method, count]) => `${method} ${((count - (methodsBefore.get(method) ?? 0)) / opts.rounds).toFixed(1)}`).join(', ');
    progress(`    ${requestsPerRound.toFixed(1)} requests per round (${methods})`);

    progress('  crashing WETH so every position falls under its warning line…');
    const received = () => stack.receiver.events.filter((event) => tenants.some((tenant) => event.path.startsWith(tenant.hookPath)));
    const baseline = received().length;
    const price = await stack.chain.actions.getPrice(stack.chain.market, 'WETH');
    // Health factors were opened in 1.8–2.5: × 0.55 puts all of them under 1.5 and above 1.0.
    await stack.chain.actions.setPrice(stack.chain.market, 'WETH', (price * 55n) / 100n);
    await stack.chain.actions.mine(1);
    const crashAt = performance.now();
    const wanted = new Set(watches.map((watch) => watch.id));
    for (;;) {
      const alerts = received().slice(baseline).filter((event) => event.verified && String((event.body as { type?: string }).type ?? '').startsWith('alert.'));
      const seen = new Set(alerts.map((event) => (event.body as { watch?: { id?: string } }).watch?.id));
      if ([...wanted].every((id) => seen.has(id))) {
        const ids = alerts.map((event) => event.id);
        const burst = { alerts: alerts.length, duplicates: ids.length - new Set(ids).size, seconds: (performance.now() - crashAt) / 1000 };
        progress(`    ${burst.alerts} alerts delivered in ${burst.seconds.toFixed(1)} s (${burst.duplicates} duplicate ids)`);
        const storageBytes = durableObjectBytes(stack.persistDir);
        return {
          n,
          createMs: { firstTenth: median(createMs.slice(0, tenth)), lastTenth: median(createMs.slice(-tenth)), p95: percentile(createMs, 0.95) },
          rateLimited: limited.count,
          observedAllAfterS,
          requestsPerRound,
          floor: Math.ceil(n / opts.batch),
          target: 2 * Math.ceil(n / opts.batch) + 2,
          burst,
          storageBytesPerWatch: Math.round(storageBytes / n),
        };
      }
      if (performance.now() - crashAt > 10 * ROUND_MS) throw new Error(`only ${seen.size} of ${n} watches alerted within 10 minutes of the crash`);
      await sleep(500);
    }
  } finally {
    if (process.env.BENCH_KEEP_STATE) progress(`  state kept in ${stack.persistDir}`);
    await stack.stop({ keepFiles: Boolean(process.env.BENCH_KEEP_STATE) });
    await counter?.stop();
  }
}

/**
 * Bytes of the Durable Objects' SQLite databases (what storage is billed on). Write-ahead logs are
 * left out (checkpointed into the database), and so is miniflare's own trace store beside them.
 */
function durableObjectBytes(persistDir: string): number {
  const root = join(persistDir, 'v3', 'do');
  if (!existsSync(root)) return 0;
  return readdirSync(root, { recursive: true, encoding: 'utf8' })
    .filter((path) => path.endsWith('.sqlite'))
    .reduce((sum, path) => sum + statSync(join(root, path)).size, 0);
}

/** Polls GET /v1/watches/:id until every given watch shows a position. */
async function waitObserved(stack: DevStack, watches: Array<{ id: string; tenant: Tenant }>, concurrency: number, limited: { count: number }, since: number): Promise<void> {
  let unobserved = watches;
  while (unobserved.length > 0) {
    const still: typeof watches = [];
    await pool(unobserved, concurrency, async (watch) => {
      const { body } = await call<{ position: unknown }>(stack, 'GET', `/v1/watches/${watch.id}`, { token: watch.tenant.key }, 200, limited);
      if (body.position === null) still.push(watch);
    });
    unobserved = still;
    if (unobserved.length === 0) return;
    if (performance.now() - since > 10 * ROUND_MS) throw new Error(`${unobserved.length} watches still unobserved 10 minutes after the last create`);
    await sleep(500);
  }
}

function table(results: ScaleResult[]): string {
  const rows = results.map((r) =>
    `| ${r.n} | ${r.createMs.firstTenth.toFixed(0)} / ${r.createMs.lastTenth.toFixed(0)} (p95 ${r.createMs.p95.toFixed(0)}) | ${r.rateLimited} | ${r.observedAllAfterS.toFixed(1)} | ${r.requestsPerRound.toFixed(1)} | ${r.floor} / ${r.target} | ${r.burst.alerts} in ${r.burst.seconds.toFixed(1)} s, ${r.burst.duplicates} dup | ${(r.storageBytesPerWatch / 1024).toFixed(1)} KiB |`,
  );
  return [
    '| watches | create ms, first / last 10 % | 429s waited out | last created observed after (s) | RPC requests per round | floor / target | alert burst delivered | storage per watch |',
    '|---:|---:|---:|---:|---:|---:|---|---:|',
    ...rows,
  ].join('\n');
}

async function main(): Promise<void> {
  const opts = parseOptions();
  const results: ScaleResult[] = [];
  for (const n of opts.sizes) {
    console.log(`N = ${n}`);
    results.push(await measure(n, opts, (line) => console.log(line)));
  }
  console.log('');
  console.log(table(results));
  const over = results.filter((r) => r.requestsPerRound > r.target);
  if (over.length > 0) {
    console.error(`requests per round above the target for N = ${over.map((r) => r.n).join(', ')}`);
    process.exitCode = 1;
  }
}

main().catch((error) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
