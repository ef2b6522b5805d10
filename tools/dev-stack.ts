// The whole service running locally, as an outside integration sees it: a local chain holding a real
// Aave v3 market, a real webhook receiver that verifies signatures, and the worker under
// `wrangler dev` (workerd, Durable Objects, alarms) reached over HTTP only. Shared by the demo
// (`npm start`) and the end-to-end tests. Unless told otherwise it also starts the local Telegram
// Bot API stand-in and a real SMTP server on loopback (test/helpers), and points the worker at
// them, so Telegram and email channels work with no account anywhere.
//
// Every child process is killed on stop(), on SIGINT/SIGTERM/SIGHUP and when this process exits.
// wrangler runs in its own process group (it starts workerd as a grandchild), so one signal to the
// group stops both; anvil is managed by tools/chain. Should this process be SIGKILLed (no hooks
// run), a small watchdog shell takes wrangler's group and anvil down within a second.

import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, type WriteStream } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, onProcessExit, sleep, wranglerEntry } from './lib/processes';
import { parseUnits, type Address, type Hex } from 'viem';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import { startLocalChain, type LocalChain, type ReserveSymbol } from './chain';
import { seedLiquidity } from '../test/helpers/control-server';
import { startWebhookReceiver, type ReceivedEvent, type WebhookReceiver } from '../test/helpers/webhook-receiver';
import { startTelegramStandIn, type TelegramStandIn } from '../test/helpers/telegram-stand-in';
import { startSmtpTestServer, type SmtpTestServer } from '../test/helpers/smtp-test-server';
import { generateWebhookSecret } from '../src/notify/webhook-sender';
import type { ProtocolContracts } from '../src/config/env';
import { environmentWithout, writeLocalWranglerConfig } from './lib/local-wrangler-config';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const HOST = '127.0.0.1';
const LOG_TAIL_CHARS = 6_000;

export interface DevStackOptions {
  /** POLL_INTERVAL_SECONDS for the worker. Default 2. */
  pollIntervalSeconds?: number;
  /** Echo wrangler's output to the console (prefixed) besides the log file. Default false. */
  verbose?: boolean;
  /**
   * Working directory for the Durable Object state (`<workDir>/state`), wrangler's log and the
   * generated env file. Default: a fresh directory under the OS temp dir, removed by stop().
   * A given directory is wiped at start so every run starts clean.
   */
  workDir?: string;
  /** Where the local chain keeps its snapshot; default <repo>/.cache/chain. */
  chainCacheDir?: string;
  /** Port for wrangler dev; default a free one. */
  port?: number;
  /** How long wrangler may take to answer GET /health. Default 60 s. */
  healthTimeoutMs?: number;
  /** Progress lines ("starting local chain…"); default silent. */
  onProgress?: (line: string) => void;
  /**
   * Start the local Telegram Bot API stand-in and give the worker TELEGRAM_* settings pointing
   * at it (a random bot token and webhook secret per run). Default true.
   */
  telegram?: boolean;
  /**
   * Start a local SMTP server (AUTH, plain text on loopback) and give the worker EMAIL_* and
   * SMTP_* settings for it (SMTP_SECURITY=none, SMTP_ALLOW_INSECURE_AUTH=true). Default true.
   */
  email?: boolean;
  /** The worker's TOPUP_PRIVATE_KEY (the auto-top-up executor's key). Default none: dry runs only. */
  topUpPrivateKey?: Hex;
  /**
   * The RPC URL the worker is given for the local chain, from the chain's own URL; e.g. a counting
   * proxy in front of it (the scale bench). Default: the chain's URL.
   */
  rpcUrlFor?: (chainRpcUrl: string) => Promise<string> | string;
  /** HF_HISTORY_BUCKET_SECONDS for the worker (the dashboard chart's resolution); default the worker's (300). */
  hfHistoryBucketSeconds?: number;
  /**
   * Runs once the chain is up and seeded, before the worker starts: deploys what the worker must
   * know of from its first moment (Maker's Spot/Jug/Dog and Fluid's VaultResolver are settings,
   * PROTOCOL_CONTRACTS, read when the worker starts). What it returns becomes the worker's
   * PROTOCOL_CONTRACTS for the local chain, so no restart is needed to add them.
   */
  beforeWorker?: (chain: LocalChain) => Promise<{ protocolContracts?: ProtocolContracts } | void>;
}

export type ApiResult<T = any> = { status: number; body: T };

export interface DevStack {
  /** e.g. http://127.0.0.1:43127 (no trailing slash). */
  readonly apiUrl: string;
  readonly port: number;
  /** Random per run; the worker's ADMIN_TOKEN. */
  readonly adminToken: string;
  readonly chain: LocalChain;
  readonly receiver: WebhookReceiver;
  /** The Telegram Bot API stand-in the worker talks to (records what each chat shows); null with telegram: false. */
  readonly telegram: TelegramStandIn | null;
  /** The worker's Telegram webhook, for POST /v1/admin/telegram/setup. */
  readonly telegramWebhookUrl: string;
  /** The SMTP server the worker sends email through (records every message); null with email: false. */
  readonly smtp: SmtpTestServer | null;
  /** The executor wallet's address (from topUpPrivateKey), or null. */
  readonly topUpSigner: Address | null;
  /** wrangler's stdout and stderr, appended across restarts. */
  readonly logFile: string;
  readonly persistDir: string;
  readonly workDir: string;
  /** A JSON request to the worker's HTTP API; answers with the status and the parsed body. */
  api<T = any>(method: string, path: string, options?: { token?: string; body?: unknown }): Promise<ApiResult<T>>;
  /** The receiver's URL for a path, e.g. hookUrl('/flow') → http://127.0.0.1:PORT/flow. */
  hookUrl(path: string): string;
  /** Tells the receiver which secret verifies requests to `path` (a channel's signing secret). */
  registerSecret(path: string, secret: string): void;
  /**
   * Opens a position for a new account: mint + supply collateral, borrow debt. Amounts are
   * decimal strings in token units; WETH collateral and USDC debt unless told otherwise.
   */
  openPosition(collateralWeth: string, debtUsdc: string, assets?: { collateral?: ReserveSymbol; debt?: ReserveSymbol }): Promise<Address>;
  /** Sets the WETH oracle price (USD) and mines a block. */
  setWethPrice(usd: number): Promise<void>;
  /** Fires the worker's cron handler once (the heartbeat); resolves when it has run. */
  triggerCron(): Promise<void>;
  /** Stops wrangler (and workerd). SIGKILL simulates a crash; default SIGTERM. */
  stopWorker(signal?: 'SIGTERM' | 'SIGKILL'): Promise<void>;
  /** Starts wrangler again on the same port and persisted state; resolves when healthy. */
  startWorker(): Promise<void>;
  /** stopWorker + startWorker. */
  restartWorker(signal?: 'SIGTERM' | 'SIGKILL'): Promise<void>;
  /** The last few KB of wrangler's log. */
  logTail(chars?: number): string;
  /** Stops everything it started; removes a temporary work dir unless keepFiles. */
  stop(options?: { keepFiles?: boolean }): Promise<void>;
}

// ── Process bookkeeping ─────────────────────────────────────────────────────────────────────────

/** Process groups of live wrangler children. */
const liveGroups = new Set<number>();
let hooksInstalled = false;

function killGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    // Already gone.
  }
}

function installExitHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  onProcessExit(() => {
    for (const pgid of liveGroups) killGroup(pgid, 'SIGKILL');
    liveGroups.clear();
  });
}

function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.unref();
    server.once('error', () => resolve(false));
    server.listen(port, HOST, () => server.close(() => resolve(true)));
  });
}

/**
 * Exit hooks cannot run when this process is SIGKILLed (e.g. a test runner giving up on a
 * worker). A tiny shell outside our group then takes the wrangler group down within a second,
 * so no orphaned wrangler keeps its port. It exits by itself once its job is done.
 */
function startWatchdog(target: { pgid: number } | { pid: number }): ChildProcess | undefined {
  if (process.platform === 'win32') return undefined;
  const victim = 'pgid' in target ? `-${target.pgid}` : String(target.pid);
  const script = `while kill -0 ${process.pid} 2>/dev/null && kill -0 ${victim} 2>/dev/null; do sleep 1; done; kill -KILL ${victim} 2>/dev/null; exit 0`;
  const watchdog = spawn('/bin/sh', ['-c', script], { detached: true, stdio: 'ignore' });
  watchdog.on('error', () => undefined);
  watchdog.unref();
  return watchdog;
}

/** anvil's pid (a direct child of ours, listening on `port`), found through /proc; Linux only. */
function findAnvilPid(port: number): number | undefined {
  if (process.platform !== 'linux') return undefined;
  try {
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      try {
        const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
        const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
        if (ppid !== process.pid) continue;
        const args = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
        const at = args.indexOf('--port');
        if (at >= 0 && args[at + 1] === String(port) && /anvil/.test(args[0] ?? '')) return Number(entry);
      } catch {
        // The process went away while we looked.
      }
    }
  } catch {
    // No /proc: no watchdog for anvil.
  }
  return undefined;
}


// ── wrangler dev ────────────────────────────────────────────────────────────────────────────────

type WorkerConfig = {
  port: number;
  persistDir: string;
  /** The wrangler config to run: wrangler.toml with the env file's names required (see local-wrangler-config). */
  configPath: string;
  envFile: string;
  /** The names the env file sets (kept out of wrangler's process environment). */
  envFileNames: string[];
  vars: Record<string, string>;
  log: WriteStream;
  verbose: boolean;
  healthTimeoutMs: number;
};

class WorkerProcess {
  private child: ChildProcess | undefined;
  private watchdog: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();
  private hasExited = true;
  private tail = '';

  constructor(private readonly config: WorkerConfig) {}

  get running(): boolean {
    return this.child !== undefined && !this.hasExited;
  }

  logTail(chars = LOG_TAIL_CHARS): string {
    return this.tail.slice(-chars);
  }

  private record(text: string): void {
    this.config.log.write(text);
    this.tail = (this.tail + text).slice(-LOG_TAIL_CHARS * 2);
  }

  async start(): Promise<void> {
    const { port, persistDir, configPath, envFile, envFileNames, vars } = this.config;
    // The previous instance may take a moment to release the port.
    for (let waited = 0; !(await portIsFree(port)); waited += 100) {
      if (waited > 15_000) throw new Error(`port ${port} is still in use; cannot start wrangler dev on it`);
      await sleep(100);
    }
    const inspectorPort = await freePort(HOST);
    const args = [
      wranglerEntry(),
      'dev',
      '--config', configPath,
      '--local',
      '--ip', HOST,
      '--port', String(port),
      '--inspector-port', String(inspectorPort),
      '--persist-to', persistDir,
      '--env-file', envFile,
      '--show-interactive-dev-session=false',
      ...Object.entries(vars).flatMap(([key, value]) => ['--var', `${key}:${value}`]),
    ];
    this.record(`\n=== ${new Date().toISOString()} starting wrangler dev on ${HOST}:${port} (persist ${persistDir})\n`);
    const child = spawn(process.execPath, args, {
      cwd: REPO_ROOT,
      // Its own process group: one signal reaches wrangler and workerd; the terminal's Ctrl-C does not.
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        ...environmentWithout(process.env, envFileNames),
        WRANGLER_SEND_METRICS: 'false',
        WRANGLER_SEND_ERROR_REPORTS: 'false',
        CLOUDFLARE_CF_FETCH_ENABLED: 'false',
        WRANGLER_HIDE_BANNER: 'true',
        FORCE_COLOR: '0',
        NO_COLOR: '1',
      },
    });
    this.child = child;
    this.hasExited = false;
    let spawnError: Error | undefined;
    child.once('error', (error) => (spawnError = error));
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        this.hasExited = true;
        if (child.pid !== undefined) liveGroups.delete(child.pid);
        this.record(`=== wrangler exited (${signal ?? `code ${code}`})\n`);
        resolve();
      });
    });
    if (child.pid !== undefined) {
      liveGroups.add(child.pid);
      this.watchdog = startWatchdog({ pgid: child.pid });
    }
    installExitHooks();
    const forward = (chunk: Buffer) => {
      // wrangler colours some lines even with NO_COLOR; the log file stays plain text.
      const text = chunk.toString('utf8').replace(/\x1b\[[0-9;]*m/g, '');
      this.record(text);
      if (this.config.verbose) process.stdout.write(text.replace(/^(?=.)/gm, '[wrangler] '));
    };
    child.stdout?.on('data', forward);
    child.stderr?.on('data', forward);
    // A script that forgets stop() can still exit; the exit hook then kills the group.
    child.unref();
    (child.stdout as { unref?: () => void } | null)?.unref?.();
    (child.stderr as { unref?: () => void } | null)?.unref?.();

    const url = `http://${HOST}:${port}/health`;
    const deadline = Date.now() + this.config.healthTimeoutMs;
    let last = 'no answer yet';
    for (;;) {
      if (spawnError) throw new Error(`could not run wrangler (${args[0]}): ${spawnError.message}`);
      if (this.hasExited) throw new Error(`wrangler dev exited before it became healthy; log tail:\n${this.logTail(3_000)}`);
      try {
        const response = await fetch(url, { signal: AbortSignal.timeout(2_000) });
        const text = await response.text();
        if (response.status === 200) return;
        last = `HTTP ${response.status}: ${text.slice(0, 300)}`;
      } catch (error) {
        last = error instanceof Error ? error.message : String(error);
      }
      if (Date.now() > deadline) {
        await this.stop('SIGKILL');
        throw new Error(
          `wrangler dev did not answer GET ${url} with 200 within ${Math.round(this.config.healthTimeoutMs / 1000)} s (last: ${last}); log tail:\n${this.logTail(3_000)}`,
        );
      }
      await sleep(250);
    }
  }

  async stop(signal: 'SIGTERM' | 'SIGKILL' = 'SIGTERM'): Promise<void> {
    const child = this.child;
    if (!child || child.pid === undefined) return;
    const pgid = child.pid;
    if (!this.hasExited) {
      killGroup(pgid, signal);
      const timer = setTimeout(() => killGroup(pgid, 'SIGKILL'), 5_000);
      await this.exited;
      clearTimeout(timer);
    }
    // workerd may outlive wrangler by a moment; the group goes down with it.
    killGroup(pgid, 'SIGKILL');
    liveGroups.delete(pgid);
    this.watchdog?.kill('SIGKILL');
    this.watchdog = undefined;
    this.child = undefined;
  }
}

// ── The stack ───────────────────────────────────────────────────────────────────────────────────

export async function startDevStack(opts: DevStackOptions = {}): Promise<DevStack> {
  const progress = opts.onProgress ?? (() => undefined);
  const ownsWorkDir = opts.workDir === undefined;
  const workDir = opts.workDir ?? mkdtempSync(join(tmpdir(), 'marginwatch-stack-'));
  if (!ownsWorkDir) rmSync(workDir, { recursive: true, force: true });
  mkdirSync(workDir, { recursive: true });
  const persistDir = join(workDir, 'state');
  mkdirSync(persistDir, { recursive: true });
  const logFile = join(workDir, 'wrangler.log');
  const envFile = join(workDir, 'worker.env');

  let chain: LocalChain | undefined;
  let receiver: WebhookReceiver | undefined;
  let telegram: TelegramStandIn | undefined;
  let smtp: SmtpTestServer | undefined;
  let worker: WorkerProcess | undefined;
  let log: WriteStream | undefined;
  let anvilWatchdog: ChildProcess | undefined;
  const cleanup = async () => {
    await worker?.stop().catch(() => undefined);
    await receiver?.stop().catch(() => undefined);
    await telegram?.stop().catch(() => undefined);
    await smtp?.stop().catch(() => undefined);
    await chain?.stop().catch(() => undefined);
    anvilWatchdog?.kill('SIGKILL');
    await new Promise<void>((done) => (log ? log.end(done) : done()));
  };

  try {
    installExitHooks();
    progress('starting local chain…');
    const cacheDir = opts.chainCacheDir ?? join(REPO_ROOT, '.cache', 'chain');
    // An empty directory (e.g. a fresh `mktemp -d`) holds no snapshot: that is a first run, not a stale cache.
    const cacheExisted = existsSync(cacheDir) && readdirSync(cacheDir).length > 0;
    chain = await startLocalChain(opts.chainCacheDir !== undefined ? { cacheDir: opts.chainCacheDir } : {});
    const symbols = Object.keys(chain.market.reserves).join(', ');
    progress(
      `deployed Aave v3 market at ${chain.market.pool} (${symbols}) on ${chain.rpcUrl}` +
        (chain.fromCache ? ' — restored from the cached snapshot' : cacheExisted ? ' — fresh deployment (cache was stale)' : ' — fresh deployment, snapshot cached for next time'),
    );
    const anvilPid = findAnvilPid(chain.port);
    anvilWatchdog = anvilPid !== undefined ? startWatchdog({ pid: anvilPid }) : undefined;
    await seedLiquidity(chain);
    progress('seeded the market with lender liquidity (50M USDC, 20k WETH, 1k WBTC)');
    const prepared = opts.beforeWorker ? await opts.beforeWorker(chain) : undefined;
    const protocolContracts = prepared ? prepared.protocolContracts : undefined;

    // One receiver; every channel gets its own path and so its own verifying secret.
    const secrets = new Map<string, string>();
    const fallbackSecret = generateWebhookSecret();
    receiver = await startWebhookReceiver({ secret: (path) => secrets.get(path.split('?')[0]!) ?? fallbackSecret });
    progress(`webhook receiver listening at ${receiver.url}`);

    const adminToken = `adm_${randomBytes(24).toString('base64url')}`;
    // Secrets and the local services' settings go to the env file (mode 600), not the command line.
    const settings: Record<string, string> = { ADMIN_TOKEN: adminToken };
    if (opts.telegram ?? true) {
      // A token of the shape BotFather hands out; the stand-in accepts only this one.
      const token = `${700_000_000 + randomBytes(4).readUInt32BE(0) % 99_999_999}:${randomBytes(27).toString('base64url')}`;
      telegram = await startTelegramStandIn({ token, username: 'marginwatch_demo_bot' });
      Object.assign(settings, {
        TELEGRAM_API_BASE: telegram.url,
        TELEGRAM_BOT_TOKEN: telegram.token,
        TELEGRAM_WEBHOOK_SECRET: randomBytes(24).toString('hex'),
        TELEGRAM_BOT_USERNAME: telegram.username,
      });
      progress(`Telegram Bot API stand-in listening at ${telegram.url} (bot @${telegram.username})`);
    }
    if (opts.email ?? true) {
      const password = `pw-${randomBytes(12).toString('hex')}`;
      smtp = await startSmtpTestServer({ user: 'marginwatch', password, security: 'none' });
      Object.assign(settings, {
        EMAIL_TRANSPORT: 'smtp',
        EMAIL_FROM: 'marginwatch demo <alerts@marginwatch.test>',
        SMTP_HOST: smtp.host,
        SMTP_PORT: String(smtp.port),
        SMTP_USER: 'marginwatch',
        SMTP_PASSWORD: password,
        SMTP_SECURITY: 'none',
        SMTP_ALLOW_INSECURE_AUTH: 'true',
      });
      progress(`SMTP server listening at ${smtp.host}:${smtp.port} (AUTH, no TLS: loopback only)`);
    }
    const topUpSigner = opts.topUpPrivateKey ? privateKeyToAccount(opts.topUpPrivateKey).address : null;
    if (opts.topUpPrivateKey) settings.TOPUP_PRIVATE_KEY = opts.topUpPrivateKey;
    writeFileSync(envFile, envFileText(settings), { mode: 0o600 });
    const configPath = writeLocalWranglerConfig({ configPath: join(REPO_ROOT, 'wrangler.toml'), outPath: join(workDir, 'wrangler.json'), secretNames: Object.keys(settings) });
    log = createWriteStream(logFile, { flags: 'a' });
    let port = opts.port ?? (await freePort(HOST));
    const workerRpcUrl = opts.rpcUrlFor ? await opts.rpcUrlFor(chain.rpcUrl) : chain.rpcUrl;
    const makeWorker = (workerPort: number) =>
      new WorkerProcess({
        port: workerPort,
        persistDir,
        configPath,
        envFile,
        envFileNames: Object.keys(settings),
        log: log!,
        verbose: opts.verbose ?? false,
        healthTimeoutMs: opts.healthTimeoutMs ?? 60_000,
        vars: {
          RPC_URLS: JSON.stringify({ [String(chain!.chainId)]: workerRpcUrl }),
          POLL_INTERVAL_SECONDS: String(opts.pollIntervalSeconds ?? 2),
          ALLOW_PRIVATE_WEBHOOK_URLS: 'true',
          // The local market is no built-in preset: the owner trusts it explicitly for live top-ups.
          TOPUP_TRUSTED_MARKETS: JSON.stringify({ [String(chain!.chainId)]: [chain!.market.pool] }),
          ...(protocolContracts && Object.keys(protocolContracts).length > 0 ? { PROTOCOL_CONTRACTS: JSON.stringify({ [String(chain!.chainId)]: protocolContracts }) } : {}),
          ...(opts.hfHistoryBucketSeconds !== undefined ? { HF_HISTORY_BUCKET_SECONDS: String(opts.hfHistoryBucketSeconds) } : {}),
        },
      });
    progress(`starting wrangler dev (log: ${logFile})…`);
    worker = makeWorker(port);
    try {
      await worker.start();
    } catch (error) {
      // A free port can be taken between picking and binding; try once more on another one.
      if (opts.port !== undefined || !/address already in use|EADDRINUSE/i.test(String(error))) throw error;
      port = await freePort(HOST);
      worker = makeWorker(port);
      await worker.start();
    }
    const apiUrl = `http://${HOST}:${port}`;
    progress(`worker listening at ${apiUrl}`);

    const liveChain = chain;
    const liveReceiver = receiver;
    const liveTelegram = telegram ?? null;
    const liveSmtp = smtp ?? null;
    const liveWorker = worker;
    const liveLog = log;
    let stopped = false;
    // A real chain makes blocks by itself; an automining anvil only for transactions. The alert
    // machine counts each block once toward a level's confirmation, so the stack makes an
    // empty block every second, as a fast chain would.
    const blockMaker = setInterval(() => void liveChain.actions.mine(1).catch(() => undefined), 1000);

    const stack: DevStack = {
      apiUrl,
      port,
      adminToken,
      chain: liveChain,
      receiver: liveReceiver,
      telegram: liveTelegram,
      telegramWebhookUrl: `${apiUrl}/telegram/webhook`,
      smtp: liveSmtp,
      topUpSigner,
      logFile,
      persistDir,
      workDir,

      async api(method, path, options = {}) {
        const headers: Record<string, string> = {};
        if (options.token) headers.authorization = `Bearer ${options.token}`;
        let body: string | undefined;
        if (options.body !== undefined) {
          body = JSON.stringify(options.body);
          headers['content-type'] = 'application/json';
        }
        let response: Response;
        try {
          response = await fetch(`${apiUrl}${path}`, { method, headers, body, signal: AbortSignal.timeout(30_000) });
        } catch (error) {
          // Say why when wrangler is gone (it exits, e.g., when a reload after a source edit fails).
          const why = liveWorker.running ? '' : `; wrangler is not running — log tail:\n${liveWorker.logTail(2_000)}`;
          throw new Error(`${method} ${apiUrl}${path} failed: ${error instanceof Error ? `${error.message}${error.cause instanceof Error ? ` (${error.cause.message})` : ''}` : String(error)}${why}`);
        }
        const text = await response.text();
        let parsed: unknown = text;
        try {
          parsed = text ? JSON.parse(text) : null;
        } catch {
          // Not JSON: keep the text.
        }
        return { status: response.status, body: parsed as any };
      },

      hookUrl(path) {
        return `${liveReceiver.url}${path.replace(/^\//, '')}`;
      },

      registerSecret(path, secret) {
        secrets.set(path.startsWith('/') ? path : `/${path}`, secret);
      },

      async openPosition(collateralAmount, debtAmount, assets = {}) {
        const collateral = assets.collateral ?? 'WETH';
        const debt = assets.debt ?? 'USDC';
        const reserves = liveChain.market.reserves;
        const account = privateKeyToAccount(generatePrivateKey()).address;
        const supplied = parseUnits(collateralAmount, reserves[collateral].decimals);
        const borrowed = parseUnits(debtAmount, reserves[debt].decimals);
        await liveChain.actions.mint(reserves[collateral].asset, account, supplied);
        await liveChain.actions.supply(liveChain.market, account, collateral, supplied);
        if (borrowed > 0n) await liveChain.actions.borrow(liveChain.market, account, debt, borrowed);
        return account;
      },

      async setWethPrice(usd) {
        await liveChain.actions.setPrice(liveChain.market, 'WETH', parseUnits(String(usd), 8));
        await liveChain.actions.mine(1);
      },

      async triggerCron() {
        // wrangler 4 serves /cdn-cgi/local/scheduled (older: /cdn-cgi/handler/scheduled, /__scheduled).
        const paths = ['/cdn-cgi/local/scheduled', '/cdn-cgi/handler/scheduled'];
        let last = '';
        for (const path of paths) {
          const response = await fetch(`${apiUrl}${path}?cron=*+*+*+*+*&format=json`, { signal: AbortSignal.timeout(30_000) });
          const text = await response.text();
          if (response.status === 404) {
            last = `${path}: 404`;
            continue;
          }
          if (response.status !== 200) throw new Error(`cron trigger ${path} answered ${response.status}: ${text.slice(0, 300)}`);
          return;
        }
        throw new Error(`no cron trigger endpoint answered (${last})`);
      },

      stopWorker: (signal) => liveWorker.stop(signal),
      startWorker: () => liveWorker.start(),
      async restartWorker(signal) {
        await liveWorker.stop(signal);
        await liveWorker.start();
      },

      logTail: (chars) => liveWorker.logTail(chars),

      async stop(options = {}) {
        if (stopped) return;
        stopped = true;
        clearInterval(blockMaker);
        await liveWorker.stop().catch(() => undefined);
        await liveReceiver.stop().catch(() => undefined);
        await liveTelegram?.stop().catch(() => undefined);
        await liveSmtp?.stop().catch(() => undefined);
        await liveChain.stop().catch(() => undefined);
        anvilWatchdog?.kill('SIGKILL');
        await new Promise<void>((done) => liveLog.end(done));
        if (ownsWorkDir && !options.keepFiles) rmSync(workDir, { recursive: true, force: true });
      },
    };
    return stack;
  } catch (error) {
    await cleanup();
    // The work dir (with wrangler's whole log) is kept for a failed start.
    if (error instanceof Error && existsSync(logFile)) error.message += `\n(full wrangler log: ${logFile})`;
    throw error;
  }
}

/** A dotenv file for `wrangler dev --env-file`; values with spaces or `<>` are double-quoted. */
function envFileText(settings: Record<string, string>): string {
  return Object.entries(settings)
    .map(([key, value]) => {
      if (/[\\"\n\r$`]/.test(value)) throw new Error(`${key}: a value for the env file may not contain quotes, backslashes, $, backticks or newlines`);
      return /^[\w.:@/+-]*$/.test(value) ? `${key}=${value}\n` : `${key}="${value}"\n`;
    })
    .join('');
}

/** Prints one received webhook as a single readable line (used by the demo and test diagnostics). */
export function describeEvent(event: ReceivedEvent, labels?: Map<string, string>): string {
  const body = event.body as {
    type?: string;
    level?: string;
    previousLevel?: string;
    watch?: { id?: string; label?: string };
    position?: { healthFactor?: string | null };
    recommendation?: { action: string; amount: string; symbol: string; targetHealthFactor: string } | null;
    topUp?: TopUpSummary;
  };
  const time = new Date(event.receivedAt).toTimeString().slice(0, 8);
  const label = body.watch?.label || (body.watch?.id ? (labels?.get(body.watch.id) ?? body.watch.id) : '?');
  const signature = `[${event.verified ? 'signature ✓' : 'SIGNATURE ✗'}${event.status === 200 ? '' : ` answered ${event.status}`}]`;
  if (body.topUp) {
    return `${time}    ⚡ webhook ${String(body.type ?? '?').padEnd(16)} ${'auto-top-up'.padEnd(24)} ${label.padEnd(8)} ${describeTopUp(String(body.type), body.topUp)}  ${signature}`;
  }
  const hf = body.position?.healthFactor ?? '∞';
  const rec = body.recommendation
    ? `${body.recommendation.action} ${shortAmount(body.recommendation.amount)} ${body.recommendation.symbol} → HF ${body.recommendation.targetHealthFactor}`
    : 'no recommendation';
  const level = body.previousLevel && body.level ? `${body.previousLevel} → ${body.level}` : (body.level ?? '?');
  return `${time}    ⚡ webhook ${String(body.type ?? '?').padEnd(16)} ${level.padEnd(24)} ${label.padEnd(8)} HF ${String(hf).padEnd(7)} ${rec}  ${signature}`;
}

/** The parts of a topup.* event's `topUp` object that describeTopUp shows. */
export type TopUpSummary = {
  mode: string;
  symbol: string;
  dryRun: boolean;
  amount: string | null;
  healthFactorBefore: string | null;
  healthFactorAfter: string | null;
  txHash: string | null;
  reason: string | null;
  message: string;
};

/** "supplied 2.9033 WETH: HF 1.2787 → 1.6500, tx 0x12ab…9f0e" / "dry run: would supply …" / "cooldown: …". */
export function describeTopUp(type: string, topUp: TopUpSummary): string {
  const amount = topUp.amount === null ? '?' : `${shortAmount(topUp.amount)} ${topUp.symbol}`;
  if (type === 'topup.executed') {
    const tx = topUp.txHash ? `, tx ${topUp.txHash.slice(0, 10)}…${topUp.txHash.slice(-4)}` : '';
    return `${topUp.mode === 'supply' ? 'supplied' : 'repaid'} ${amount}: HF ${topUp.healthFactorBefore ?? '?'} → ${topUp.healthFactorAfter ?? '?'}${tx}`;
  }
  if (topUp.reason === 'dry_run') return `dry run at HF ${topUp.healthFactorBefore ?? '?'}: would ${topUp.mode} ${amount} (nothing sent)`;
  const message = topUp.message.length > 90 ? `${topUp.message.slice(0, 89)}…` : topUp.message;
  return `${topUp.reason ?? type.slice('topup.'.length)}: ${message}`;
}

/** Amounts come with every token decimal; four are plenty to read. */
function shortAmount(text: string): string {
  return /^\d+(\.\d+)?$/.test(text) ? String(Number(Number(text).toFixed(4))) : text;
}
