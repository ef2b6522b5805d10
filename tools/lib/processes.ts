import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';

/** Helpers for tools that start child processes on loopback (anvil, wrangler dev). */

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A port nobody listens on right now (the OS picks it); ports like 8545/8787 may be taken. */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, host, () => {
      const address = server.address();
      if (address === null || typeof address === 'string') {
        server.close();
        reject(new Error('could not pick a free port'));
        return;
      }
      server.close(() => resolve(address.port));
    });
  });
}

/**
 * Runs `killAll` when this process exits or gets SIGINT/SIGTERM/SIGHUP, so an exiting parent
 * never leaves a child holding a port. A signal handler replaces Node's default "die", so
 * after cleaning up it removes itself and re-raises the signal: other handlers (such as the
 * demo's graceful stop) or the default then decide what happens.
 */
export function onProcessExit(killAll: () => void): void {
  process.once('exit', killAll);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    const onSignal = () => {
      killAll();
      process.removeListener(signal, onSignal);
      if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
    };
    process.on(signal, onSignal);
  }
}

/** wrangler's CLI script, run with this Node (`node <it> dev …`) rather than through npx. */
export function wranglerEntry(): string {
  const require = createRequire(import.meta.url);
  const root = dirname(require.resolve('wrangler/package.json'));
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { bin?: string | Record<string, string> };
  const bin = typeof pkg.bin === 'string' ? pkg.bin : (pkg.bin?.wrangler ?? 'bin/wrangler.js');
  return join(root, bin);
}
