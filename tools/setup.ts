/**
 * `npm run setup`: prepares a self-hosted deployment's secrets.
 *
 *   npm run setup                  writes .dev.vars from .dev.vars.example with a random ADMIN_TOKEN
 *   npm run setup -- --force       replaces an existing .dev.vars (its ADMIN_TOKEN changes)
 *   npm run setup -- --upload      also uploads every set value of .dev.vars to the Worker
 *                                  (`wrangler secret bulk`; needs `npx wrangler login` first)
 *   npm run setup -- --dir <path>  where .dev.vars.example is read and .dev.vars written (default: the repo)
 *
 * The token is never printed: it is in .dev.vars (mode 600), which git ignores.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { generateAdminToken, renderDevVars, secretsToUpload, secretUploadArgs } from './lib/dev-vars';

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

function fail(message: string): never {
  console.error(`setup: ${message}`);
  process.exit(1);
}

function readOptions(): { dir: string; force: boolean; upload: boolean } {
  try {
    const { values } = parseArgs({
      options: { force: { type: 'boolean', default: false }, upload: { type: 'boolean', default: false }, dir: { type: 'string', default: REPO_ROOT } },
      strict: true,
    });
    return { dir: resolve(values.dir), force: values.force, upload: values.upload };
  } catch (error) {
    fail(`${error instanceof Error ? error.message : String(error)} (options: --force, --upload, --dir <path>)`);
  }
}

/** Writes .dev.vars unless it exists (then only with --force). Returns whether it wrote. */
function writeDevVars(dir: string, force: boolean): boolean {
  const examplePath = join(dir, '.dev.vars.example');
  const devVarsPath = join(dir, '.dev.vars');
  if (existsSync(devVarsPath) && !force) return false;
  if (!existsSync(examplePath)) fail(`${examplePath} is missing; it is part of the repository (git checkout .dev.vars.example)`);
  writeFileSync(devVarsPath, renderDevVars(readFileSync(examplePath, 'utf8'), generateAdminToken()), { mode: 0o600 });
  return true;
}

/** `wrangler secret bulk` with the values as JSON on its standard input. */
function uploadSecrets(dir: string): Promise<void> {
  const secrets = secretsToUpload(readFileSync(join(dir, '.dev.vars'), 'utf8'));
  console.log(`Uploading ${Object.keys(secrets).join(', ')} with wrangler secret bulk…`);
  const wrangler = join(REPO_ROOT, 'node_modules', '.bin', 'wrangler');
  return new Promise((done, reject) => {
    const child = spawn(process.execPath, [wrangler, ...secretUploadArgs()], { cwd: REPO_ROOT, stdio: ['pipe', 'inherit', 'inherit'] });
    child.once('error', reject);
    child.once('exit', (code) => (code === 0 ? done() : reject(new Error(`wrangler secret bulk exited with ${code ?? 'a signal'}; run \`npx wrangler login\` first if it asked to`))));
    child.stdin.end(JSON.stringify(secrets));
  });
}

function printNextSteps(uploaded: boolean): void {
  console.log(`
Next steps
  Local:   npm run dev               (wrangler dev with every secret .dev.vars sets; set RPC_URLS in wrangler.toml [vars] for your chains)
           npm start                 (the self-contained demo; it makes its own token)
  Deploy:  npx wrangler login${uploaded ? '' : `
           npm run setup -- --upload (uploads the values set in .dev.vars as Worker secrets)`}
           npm run deploy
           curl https://marginwatch.<your-subdomain>.workers.dev/health
  Then issue a tenant API key with your ADMIN_TOKEN (it is in .dev.vars):
           curl -X POST https://marginwatch.<your-subdomain>.workers.dev/v1/keys \\
             -H "authorization: Bearer $(sed -n 's/^ADMIN_TOKEN=//p' .dev.vars)" \\
             -H 'content-type: application/json' -d '{"label":"me"}'
  Optional secrets (Telegram, SMTP, auto-top-up): uncomment them in .dev.vars, then upload again.`);
}

async function main(): Promise<void> {
  const { dir, force, upload } = readOptions();
  const devVarsPath = join(dir, '.dev.vars');
  if (writeDevVars(dir, force)) {
    console.log(`Wrote ${devVarsPath} with a new random ADMIN_TOKEN (mode 600, ignored by git).`);
  } else if (upload) {
    console.log(`Keeping the existing ${devVarsPath} (--force replaces it).`);
  } else {
    fail(`${devVarsPath} exists; it is kept. Pass --force to replace it (its ADMIN_TOKEN changes), or --upload to upload it.`);
  }
  if (upload) await uploadSecrets(dir);
  printNextSteps(upload);
}

main().catch((error: unknown) => fail(error instanceof Error ? error.message : String(error)));
