/*
 * Who owns the money the executor holds inside a protocol. A Maker top-up joins tokens into
 * the executor's own Vat balance before its frob; when the frob then fails, the joined amount
 * stays there, paid from the wallet for one tenant's action. The Vat balance itself is one
 * number for the whole deployment, so without this ledger the next top-up of the ilk, whichever
 * tenant's, would use it: one tenant's money in another's vault. Each tenant may draw only on
 * what its own failed actions left (per chain and balance key); anything else in that balance
 * (left before the ledger existed, or sent there by someone) is the operator's to take out.
 */

export type HeldOwner = { tenantId: string; chainId: number; key: string };
/** The asset a balance is counted in, for showing it (amounts are in its units). */
export type HeldAsset = { symbol: string; decimals: number };
/** One tenant's share of one held balance, as the operator sees it. */
export type HeldShare = HeldOwner & HeldAsset & { amount: bigint };

export class HeldLedger {
  constructor(private readonly sql: SqlStorage) {
    sql.exec(`CREATE TABLE IF NOT EXISTS held_balances (tenant_id TEXT NOT NULL, chain_id INTEGER NOT NULL, key TEXT NOT NULL, amount TEXT NOT NULL,
      symbol TEXT NOT NULL, decimals INTEGER NOT NULL, PRIMARY KEY (tenant_id, chain_id, key))`);
  }

  /** What the tenant's own failed actions left in the balance and no later action of its has used. */
  private amountOf(owner: HeldOwner): bigint {
    const row = this.sql.exec<{ amount: string }>('SELECT amount FROM held_balances WHERE tenant_id = ? AND chain_id = ? AND key = ?', owner.tenantId, owner.chainId, owner.key).toArray()[0];
    return row ? BigInt(row.amount) : 0n;
  }

  /** What the other tenants' failed actions left in the same balance. */
  private othersOf(owner: HeldOwner): bigint {
    const rows = this.sql.exec<{ amount: string }>('SELECT amount FROM held_balances WHERE tenant_id != ? AND chain_id = ? AND key = ?', owner.tenantId, owner.chainId, owner.key).toArray();
    return rows.reduce((sum, row) => sum + BigInt(row.amount), 0n);
  }

  /** How much of the balance the chain shows the tenant may use (usableHeld). */
  usable(owner: HeldOwner, onChain: bigint): bigint {
    return usableHeld({ onChain, own: this.amountOf(owner), others: this.othersOf(owner) });
  }

  /** Every tenant's share, by chain, balance and tenant: what the operator may not take out without leaving a tenant short. */
  shares(): HeldShare[] {
    return this.sql
      .exec<{ tenant_id: string; chain_id: number; key: string; amount: string; symbol: string; decimals: number }>('SELECT * FROM held_balances ORDER BY chain_id, key, tenant_id')
      .toArray()
      .map((row) => ({ tenantId: row.tenant_id, chainId: row.chain_id, key: row.key, amount: BigInt(row.amount), symbol: row.symbol, decimals: row.decimals }));
  }

  /** A failed action's joins left `amount` (units of `asset`) there for the tenant. */
  credit(owner: HeldOwner, amount: bigint, asset: HeldAsset): void {
    if (amount <= 0n) return;
    this.write(owner, this.amountOf(owner) + amount, asset);
  }

  /** A confirmed action took `amount` of it; never below zero (the chain already holds the truth of what moved). */
  debit(owner: HeldOwner, amount: bigint): void {
    if (amount <= 0n) return;
    const left = this.amountOf(owner) - amount;
    this.write(owner, left > 0n ? left : 0n);
  }

  /** `asset` is needed only for a new row: a balance keeps the asset it was first credited in. */
  private write(owner: HeldOwner, amount: bigint, asset?: HeldAsset): void {
    if (amount === 0n) {
      this.sql.exec('DELETE FROM held_balances WHERE tenant_id = ? AND chain_id = ? AND key = ?', owner.tenantId, owner.chainId, owner.key);
      return;
    }
    if (!asset) {
      this.sql.exec('UPDATE held_balances SET amount = ? WHERE tenant_id = ? AND chain_id = ? AND key = ?', amount.toString(), owner.tenantId, owner.chainId, owner.key);
      return;
    }
    this.sql.exec(
      'INSERT INTO held_balances (tenant_id, chain_id, key, amount, symbol, decimals) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (tenant_id, chain_id, key) DO UPDATE SET amount = excluded.amount',
      owner.tenantId, owner.chainId, owner.key, amount.toString(), asset.symbol, asset.decimals,
    );
  }
}

/**
 * How much of a held balance the chain shows (`onChain`) a tenant may use: its own credit, and
 * never what the other tenants' credits account for. When the balance holds less than all
 * credits (the operator took some out) nobody can tell whose money left, so the others' shares
 * are kept first: the tenant may get less than its credit, never more than is provably its own.
 */
export function usableHeld(input: { onChain: bigint; own: bigint; others: bigint }): bigint {
  const notOthers = input.onChain - input.others;
  const usable = notOthers < input.own ? notOthers : input.own;
  return usable > 0n ? usable : 0n;
}
