/*
 * The stubs every caller reaches a Durable Object by: one object per name. Typed by the bindings
 * `wrangler types` generates (worker-configuration.d.ts), so a caller never imports an object's
 * class, and objects that call each other (a shard its tenant, a tenant its shards) import no
 * one's file but this.
 */

export function tenantStub(env: Env, tenantId: string) {
  return env.TENANT.get(env.TENANT.idFromName(tenantId));
}

export function shardStub(env: Env, name: string) {
  return env.SHARD.get(env.SHARD.idFromName(name));
}

export function topUpStub(env: Env, name: string) {
  return env.TOPUP.get(env.TOPUP.idFromName(name));
}

/** The deployment-wide directory (one instance). */
export function directoryStub(env: Env) {
  return env.DIRECTORY.get(env.DIRECTORY.idFromName('directory'));
}
