import type { Directory } from './directory';
import type { Shard } from './shard';
import type { Tenant } from './tenant';
import type { TopUp } from './topup';

/** Typed stubs: the generated Env types namespaces loosely. */
export function directoryStub(env: Env): DurableObjectStub<Directory> {
  const namespace = env.DIRECTORY as unknown as DurableObjectNamespace<Directory>;
  return namespace.get(namespace.idFromName('directory'));
}

export function tenantStub(env: Env, tenantId: string): DurableObjectStub<Tenant> {
  const namespace = env.TENANT as unknown as DurableObjectNamespace<Tenant>;
  return namespace.get(namespace.idFromName(tenantId));
}

export function shardStub(env: Env, name: string): DurableObjectStub<Shard> {
  const namespace = env.SHARD as unknown as DurableObjectNamespace<Shard>;
  return namespace.get(namespace.idFromName(name));
}

/** The executor of one (chain, signer); `name` from topUpObjectName (src/topup/signer.ts). */
export function topUpStub(env: Env, name: string): DurableObjectStub<TopUp> {
  const namespace = (env as unknown as { TOPUP: DurableObjectNamespace<TopUp> }).TOPUP;
  return namespace.get(namespace.idFromName(name));
}
