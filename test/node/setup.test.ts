import { execFile } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { envSchema, parseConfig } from '../../src/config/env';
import { assignmentsOf, commentedNamesOf, secretsToUpload, secretUploadArgs } from '../../tools/lib/dev-vars';

// `npm run setup` run for real (its own process, as npm runs it) on a temporary folder.
const REPO_ROOT = resolve(import.meta.dirname, '../..');
const EXAMPLE = readFileSync(join(REPO_ROOT, '.dev.vars.example'), 'utf8');

async function runSetup(dir: string, ...flags: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, ['--import', 'tsx', 'tools/setup.ts', '--dir', dir, ...flags], { cwd: REPO_ROOT });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

function adminTokenOf(devVarsText: string): string {
  return assignmentsOf(devVarsText).find(({ name }) => name === 'ADMIN_TOKEN')!.value;
}

describe('npm run setup', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'marginwatch-setup-'));
    copyFileSync(join(REPO_ROOT, '.dev.vars.example'), join(dir, '.dev.vars.example'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('writes .dev.vars (mode 600) from the example with a random 64-character ADMIN_TOKEN the worker config accepts, optional secrets left commented', async () => {
    const result = await runSetup(dir);
    expect(result.code).toBe(0);
    const devVarsPath = join(dir, '.dev.vars');
    expect(statSync(devVarsPath).mode & 0o777).toBe(0o600);
    const text = readFileSync(devVarsPath, 'utf8');
    const token = adminTokenOf(text);
    expect(token).toMatch(/^[0-9a-f]{64}$/);
    expect(assignmentsOf(text).map(({ name }) => name)).toEqual(['ADMIN_TOKEN']);
    expect(commentedNamesOf(text)).toEqual(commentedNamesOf(EXAMPLE));
    // The real config parser accepts what setup wrote; the token itself is never printed.
    expect(parseConfig({ RPC_URLS: '{"1":"https://rpc.example"}', ...secretsToUpload(text) }).adminToken).toBe(token);
    expect(result.stdout + result.stderr).not.toContain(token);
    expect(result.stdout).toContain('npm run deploy');
  });

  it('keeps an existing .dev.vars without --force (exit 1, file untouched) and replaces it with a new token with --force', async () => {
    expect((await runSetup(dir)).code).toBe(0);
    const first = readFileSync(join(dir, '.dev.vars'), 'utf8');
    writeFileSync(join(dir, '.dev.vars'), `${first}\nSMTP_USER=kept\n`);

    const refused = await runSetup(dir);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('--force');
    expect(readFileSync(join(dir, '.dev.vars'), 'utf8')).toBe(`${first}\nSMTP_USER=kept\n`);

    expect((await runSetup(dir, '--force')).code).toBe(0);
    const replaced = readFileSync(join(dir, '.dev.vars'), 'utf8');
    expect(adminTokenOf(replaced)).not.toBe(adminTokenOf(first));
    expect(replaced).not.toContain('SMTP_USER=kept');
  });

  it('refuses an unknown option with exit 1 naming the options', async () => {
    const result = await runSetup(dir, '--forse');
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('--force, --upload, --dir');
  });
});

describe('.dev.vars.example', () => {
  it('has ADMIN_TOKEN as its only uncommented line (the Deploy button asks for each one), left empty so no pre-filled value can be deployed', () => {
    expect(assignmentsOf(EXAMPLE)).toEqual([{ name: 'ADMIN_TOKEN', value: '' }]);
  });

  it('lists only settings the worker reads, and every setting the README documents as a secret', () => {
    const settings = Object.keys(envSchema.shape);
    const listed = [...assignmentsOf(EXAMPLE).map(({ name }) => name), ...commentedNamesOf(EXAMPLE)];
    for (const name of listed) expect(settings).toContain(name);
    const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');
    const documentedSecrets = [...readme.matchAll(/^\| `([A-Z0-9_]+)` \| (?:var or )?secret \|/gm)].map((match) => match[1]!);
    expect(documentedSecrets.length).toBeGreaterThan(5);
    for (const name of documentedSecrets) expect(listed).toContain(name);
  });
});

describe('setup --upload', () => {
  it('uploads only set, uncommented values, passed as JSON on standard input: the command line carries no value', () => {
    const text = [`ADMIN_TOKEN=${'a'.repeat(40)}`, '# TELEGRAM_BOT_TOKEN=123:abc', 'SMTP_USER=', 'SMTP_PASSWORD=pw-1', ''].join('\n');
    expect(secretsToUpload(text)).toEqual({ ADMIN_TOKEN: 'a'.repeat(40), SMTP_PASSWORD: 'pw-1' });
    expect(secretUploadArgs()).toEqual(['secret', 'bulk']);
  });
});
