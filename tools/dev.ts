/**
 * `npm run dev` — the worker under `wrangler dev` with every secret set in `.dev.vars`.
 *
 *   npm run dev                      wrangler dev on http://localhost:8787
 *   npm run dev -- --port 8788       any further arguments go to wrangler dev
 *
 * Plain `npx wrangler dev` loads only ADMIN_TOKEN from `.dev.vars`: wrangler.toml's `[secrets]
 * required` lists just that one, and wrangler then drops every other name. This runs wrangler dev
 * with a copy of the config (under .wrangler/local/) that requires each name `.dev.vars` sets, so
 * Telegram, SMTP and the top-up key work locally too; `.dev.vars` wins over a variable of the same
 * name in your shell. State stays in .wrangler/state as usual.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { assignmentsOf } from './lib/dev-vars';
import { environmentWithout, writeLocalWranglerConfig } from './lib/local-wrangler-config';
import { wranglerEntry } from './lib/processes';

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

function fail(message: string): never {
  console.error(`npm run dev: ${message}`);
  process.exit(1);
}

const devVarsPath = join(REPO_ROOT, '.dev.vars');
if (!existsSync(devVarsPath)) fail('.dev.vars is missing: run `npm run setup` first (it writes one with a fresh ADMIN_TOKEN)');
const names = assignmentsOf(readFileSync(devVarsPath, 'utf8')).map(({ name }) => name);
const configPath = writeLocalWranglerConfig({
  configPath: join(REPO_ROOT, 'wrangler.toml'),
  outPath: join(REPO_ROOT, '.wrangler', 'local', 'wrangler.json'),
  secretNames: names,
});
console.log(`npm run dev: secrets from .dev.vars: ${names.join(', ') || '(none)'}`);

const extra = process.argv.slice(2);
const args = [wranglerEntry(), 'dev', '--config', configPath, '--env-file', devVarsPath];
if (!extra.some((arg) => arg === '--persist-to' || arg.startsWith('--persist-to='))) args.push('--persist-to', join(REPO_ROOT, '.wrangler', 'state'));
const child = spawn(process.execPath, [...args, ...extra], { cwd: REPO_ROOT, stdio: 'inherit', env: environmentWithout(process.env, names) });
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => child.kill(signal));
child.once('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
