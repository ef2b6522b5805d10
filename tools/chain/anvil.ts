// Starts and stops a local anvil node as a child process.
//
// The binary is spawned directly (not through the npm wrapper script) so that the pid we hold is
// the node itself: killing it then really frees the port, with no orphaned grandchild.

import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { freePort, onProcessExit, sleep } from '../lib/processes';

export interface StartAnvilOptions {
  /** JSON state file written earlier from `anvil_dumpState` (decompressed). */
  loadStatePath?: string;
  /** Seconds between blocks (interval mining). Omitted: a block per transaction (automine). */
  blockTime?: number;
  /** Defaults to 31337. */
  chainId?: number;
  /** Further command-line flags, passed verbatim. */
  extraArgs?: string[];
  /** How long to wait for the first JSON-RPC answer. Defaults to 15 s. */
  startTimeoutMs?: number;
}

export interface AnvilInstance {
  rpcUrl: string;
  port: number;
  stop(): Promise<void>;
}

const HOST = '127.0.0.1';
const LOG_ENV = 'MARGINWATCH_ANVIL_LOG';
/** Kept from anvil's output so that a failed start can say why, without printing by default. */
const OUTPUT_TAIL_CHARS = 8_000;

/** Every live child with its state directory, so that an exiting parent never leaves a node holding a port or gigabytes on disk. */
const live = new Map<ChildProcess, string>();
let exitHooksInstalled = false;

export async function startAnvil(opts: StartAnvilOptions = {}): Promise<AnvilInstance> {
  const binary = resolveAnvilBinary();
  // A port picked by the OS can be taken by someone else before anvil binds it; retry a few times.
  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort(HOST);
    try {
      return await launch(binary, port, opts);
    } catch (err) {
      lastError = err;
      if (!(err instanceof PortTakenError)) throw err;
    }
  }
  throw lastError;
}

class PortTakenError extends Error {}

async function launch(binary: string, port: number, opts: StartAnvilOptions): Promise<AnvilInstance> {
  const args = ['--host', HOST, '--port', String(port), '--chain-id', String(opts.chainId ?? 31337)];
  if (opts.blockTime !== undefined) args.push('--block-time', String(opts.blockTime));
  if (opts.loadStatePath !== undefined) args.push('--load-state', opts.loadStatePath);
  // Anvil moves old states to disk (by default under ~/.foundry/anvil/tmp, several GB for a test run)
  // and leaves them there when killed: each node gets a directory of its own, removed when it exits.
  const stateDir = mkdtempSync(join(tmpdir(), 'marginwatch-anvil-'));
  args.push('--cache-path', stateDir);
  if (opts.extraArgs) args.push(...opts.extraArgs);

  const verbose = process.env[LOG_ENV] === '1';
  const child = spawn(binary, args, { stdio: verbose ? ['ignore', 'inherit', 'inherit'] : ['ignore', 'pipe', 'pipe'] });
  installExitHooks();
  live.set(child, stateDir);

  // Output must be drained or anvil blocks on a full pipe; only its tail is kept, for errors.
  let tail = '';
  const keep = (chunk: Buffer) => {
    tail = (tail + chunk.toString('utf8')).slice(-OUTPUT_TAIL_CHARS);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);

  const exited = new Promise<void>((resolve) => {
    child.once('exit', () => {
      live.delete(child);
      rmSync(stateDir, { recursive: true, force: true });
      resolve();
    });
  });
  let hasExited = false;
  void exited.then(() => (hasExited = true));
  let spawnError: Error | undefined;
  child.once('error', (err) => (spawnError = err));

  const rpcUrl = `http://${HOST}:${port}`;
  const deadline = Date.now() + (opts.startTimeoutMs ?? 15_000);
  for (;;) {
    if (spawnError) throw new Error(`could not run anvil at ${binary}: ${spawnError.message}`);
    if (hasExited) {
      const message = `anvil exited during start (code ${child.exitCode}):\n${tail}`;
      throw /address.*in use/i.test(tail) ? new PortTakenError(message) : new Error(message);
    }
    if (await answers(rpcUrl)) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`anvil did not answer on ${rpcUrl} in time:\n${tail}`);
    }
    await sleep(20);
  }

  // A script that forgets stop() should still be able to exit; the exit hook then kills anvil.
  child.unref();
  (child.stdout as { unref?: () => void } | null)?.unref?.();
  (child.stderr as { unref?: () => void } | null)?.unref?.();

  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= (async () => {
      if (hasExited) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 2_000);
      await exited;
      clearTimeout(timer);
    })();
    return stopping;
  };

  return { rpcUrl, port, stop };
}

/** Finds the platform binary shipped by @foundry-rs/anvil; MARGINWATCH_ANVIL_BIN overrides it. */
export function resolveAnvilBinary(): string {
  const override = process.env.MARGINWATCH_ANVIL_BIN;
  if (override) return override;
  const arch = process.arch === 'x64' ? 'amd64' : process.arch;
  const pkg = `@foundry-rs/anvil-${process.platform}-${arch}`;
  const exe = process.platform === 'win32' ? 'anvil.exe' : 'anvil';
  try {
    const require = createRequire(import.meta.url);
    const path = join(dirname(require.resolve(`${pkg}/package.json`)), 'bin', exe);
    if (existsSync(path)) return path;
  } catch {
    // Not installed for this platform: fall back to an anvil on PATH (e.g. from foundryup).
  }
  return 'anvil';
}

async function answers(rpcUrl: string): Promise<boolean> {
  try {
    const res = await fetch(rpcUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_chainId', params: [] }),
      signal: AbortSignal.timeout(1_000),
    });
    if (!res.ok) return false;
    const body = (await res.json()) as { result?: unknown };
    return typeof body.result === 'string';
  } catch {
    return false;
  }
}

function installExitHooks(): void {
  if (exitHooksInstalled) return;
  exitHooksInstalled = true;
  onProcessExit(() => {
    for (const [child, stateDir] of live) {
      child.kill('SIGKILL');
      rmSync(stateDir, { recursive: true, force: true });
    }
    live.clear();
  });
}

