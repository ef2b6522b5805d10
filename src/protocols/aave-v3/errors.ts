/**
 * Aave v3 reverts with numeric string codes (Errors.sol: `require(..., '28')`). The ones a
 * supply, a repay or an ERC-20 approve can hit, named so a failed top-up says why in words.
 */
const AAVE_ERRORS: Record<string, string> = {
  '26': 'INVALID_AMOUNT: the amount must be greater than 0',
  '27': 'RESERVE_INACTIVE: the reserve is not active',
  '28': 'RESERVE_FROZEN: the reserve is frozen',
  '29': 'RESERVE_PAUSED: the reserve is paused',
  '33': 'INVALID_INTEREST_RATE_MODE_SELECTED: invalid interest rate mode',
  '39': 'NO_DEBT_OF_SELECTED_TYPE: the account has no debt of this type',
  '40': 'NO_EXPLICIT_AMOUNT_TO_REPAY_ON_BEHALF: repaying on behalf needs an explicit amount',
  '41': 'NO_OUTSTANDING_STABLE_DEBT: no stable-rate debt on this reserve',
  '42': 'NO_OUTSTANDING_VARIABLE_DEBT: no variable-rate debt on this reserve',
  '48': 'SAME_BLOCK_BORROW_REPAY: borrow and repay in the same block',
  '51': 'SUPPLY_CAP_EXCEEDED: the reserve supply cap is reached',
  '53': 'DEBT_CEILING_EXCEEDED: the isolation-mode debt ceiling is reached',
  '57': 'LTV_VALIDATION_FAILED: LTV validation failed',
  '62': 'USER_IN_ISOLATION_MODE_OR_LTV_ZERO: the account is in isolation mode or the LTV is zero',
};

/** "28" → "RESERVE_FROZEN: the reserve is frozen (Aave error 28)"; other reasons pass through. */
export function describeAaveRevert(reason: string): string {
  const named = AAVE_ERRORS[reason.trim()];
  return named ? `${named} (Aave error ${reason.trim()})` : reason;
}
