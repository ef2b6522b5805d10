import type { Address } from 'viem';

/*
 * Who may add collateral to a trove or repay its debt (liquity/bold AddRemoveManagers,
 * `_requireSenderIsOwnerOrAddManager`): its owner; anyone while the owner names no
 * add-manager (`addManagerOf` is zero, the default of `openTrove`); otherwise only that
 * add-manager, or the remove-manager (which holds the add permission too).
 */

export type TroveManagers = { owner: Address; addManager: Address; removeManager: Address };

const ZERO = '0x0000000000000000000000000000000000000000';

export function mayAddToTrove(actor: Address, managers: TroveManagers): boolean {
  const same = (left: string, right: string) => left.toLowerCase() === right.toLowerCase();
  if (same(actor, managers.owner) || same(managers.addManager, ZERO) || same(actor, managers.addManager)) return true;
  return same(actor, managers.removeManager);
}
