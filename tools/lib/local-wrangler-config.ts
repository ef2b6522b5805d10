import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { experimental_readRawConfig } from 'wrangler';

/**
 * The wrangler configuration a local run (`npm run dev`, the demo, the end-to-end tests) starts
 * `wrangler dev` with: `wrangler.toml` unchanged except that `[secrets] required` also names the
 * secrets the local env file sets.
 *
 * Why: wrangler.toml declares `[secrets] required = ["ADMIN_TOKEN"]` (deploys fail without it,
 * `wrangler types` types it, the Deploy button asks for it). With a `[secrets]` table, `wrangler
 * dev` loads only the listed names from `.dev.vars` / `--env-file` and silently drops the rest,
 * which would leave the optional secrets (Telegram, SMTP, the top-up key) unset locally.
 * Requiring them in the deployed config would make every deploy fail without them.
 */

type RawConfig = Record<string, unknown> & { main?: string; vars?: Record<string, unknown>; assets?: Record<string, unknown>; secrets?: { required?: string[] } };

/**
 * Pure: the raw config with `main` and `assets.directory` made absolute (the copy lives in another
 * folder) and `secrets.required` widened to `secretNames` (order kept, no repeats). Names of
 * `[vars]` stay out: wrangler refuses a name that is both a var and a secret, and an env file's
 * value for a var is loaded anyway (it overrides the var locally).
 */
export function widenRequiredSecrets(raw: RawConfig, configDir: string, secretNames: readonly string[]): RawConfig {
  const absolute = (path: string) => (isAbsolute(path) ? path : resolve(configDir, path));
  const varNames = new Set(Object.keys(raw.vars ?? {}));
  const required = [...new Set([...(raw.secrets?.required ?? []), ...secretNames.filter((name) => !varNames.has(name))])];
  const assets = raw.assets && typeof raw.assets.directory === 'string' ? { ...raw.assets, directory: absolute(raw.assets.directory) } : raw.assets;
  return {
    ...raw,
    ...(raw.main !== undefined ? { main: absolute(raw.main) } : {}),
    ...(assets !== undefined ? { assets } : {}),
    secrets: { ...raw.secrets, required },
  };
}

/** Writes the widened copy of `configPath` to `outPath` (JSON, which wrangler reads as well). Returns `outPath`. */
export function writeLocalWranglerConfig(options: { configPath: string; outPath: string; secretNames: readonly string[] }): string {
  const { rawConfig } = experimental_readRawConfig({ config: options.configPath });
  const local = widenRequiredSecrets(rawConfig as RawConfig, dirname(resolve(options.configPath)), options.secretNames);
  mkdirSync(dirname(options.outPath), { recursive: true });
  writeFileSync(options.outPath, `${JSON.stringify(local, null, 2)}\n`);
  return options.outPath;
}

/**
 * The environment for that `wrangler dev`, without the names the env file sets: with a `[secrets]`
 * table wrangler lets process.env override the file for required names, so an ADMIN_TOKEN exported
 * in the shell (e.g. for `npm run telegram:setup`) would replace the file's. The file is the one source.
 */
export function environmentWithout<Env extends Record<string, string | undefined>>(env: Env, secretNames: readonly string[]): Env {
  const names = new Set(secretNames);
  // The cast: worker-configuration.d.ts declares the worker's vars on ProcessEnv as always present.
  return Object.fromEntries(Object.entries(env).filter(([name]) => !names.has(name))) as Env;
}
