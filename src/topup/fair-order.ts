/**
 * Waiting requests in turns by tenant: each tenant's oldest first, then each tenant's
 * second, and so on, so a tenant with many triggered watches cannot keep others waiting.
 * Within a tenant, and between tenants, arrival order is kept.
 */
export function fairOrder<T extends { tenant_id: string; received_at: number }>(rows: readonly T[]): T[] {
  const byTenant = new Map<string, T[]>();
  for (const row of [...rows].sort((a, b) => a.received_at - b.received_at)) {
    const queue = byTenant.get(row.tenant_id);
    if (queue) queue.push(row);
    else byTenant.set(row.tenant_id, [row]);
  }
  const ordered: T[] = [];
  for (let round = 0; ordered.length < rows.length; round++) {
    for (const queue of byTenant.values()) if (round < queue.length) ordered.push(queue[round]!);
  }
  return ordered;
}
