import { parseAbi } from 'viem';

/** The subset of the Euler Vault Kit's EVault marginwatch reads. */
export const vaultAbi = parseAbi([
  'function EVC() view returns (address)',
  'function asset() view returns (address)',
  'function oracle() view returns (address)',
  'function unitOfAccount() view returns (address)',
  'function LTVList() view returns (address[])',
  'function LTVBorrow(address collateral) view returns (uint16)',
  'function LTVLiquidation(address collateral) view returns (uint16)',
  'function maxLiquidationDiscount() view returns (uint16)',
  'function accountLiquidityFull(address account, bool liquidation) view returns (address[] collaterals, uint256[] collateralValues, uint256 liabilityValue)',
  'function debtOf(address account) view returns (uint256)',
  'function balanceOf(address account) view returns (uint256)',
  'function symbol() view returns (string)',
  'function decimals() view returns (uint8)',
]);

/** The Ethereum Vault Connector: which vault controls an account, and who owns it. */
export const evcAbi = parseAbi([
  'function isControllerEnabled(address account, address vault) view returns (bool)',
  'function getAccountOwner(address account) view returns (address)',
]);

/** Euler's price oracles (EulerRouter and adapters) answer the ERC-7726 quote. */
export const oracleAbi = parseAbi(['function getQuote(uint256 inAmount, address base, address quote) view returns (uint256 outAmount)']);

export const factoryAbi = parseAbi(['function isProxy(address proxy) view returns (bool)']);

export const tokenAbi = parseAbi(['function symbol() view returns (string)', 'function decimals() view returns (uint8)']);

/** What a top-up calls and reads: the vaults' deposit / repay and share maths, the EVC's enabled collaterals. */
export const vaultTopUpAbi = parseAbi([
  'function deposit(uint256 amount, address receiver) returns (uint256)',
  'function repay(uint256 amount, address receiver) returns (uint256)',
  'function convertToShares(uint256 assets) view returns (uint256)',
  'function asset() view returns (address)',
  'function LTVLiquidation(address collateral) view returns (uint16)',
  'function debtOf(address account) view returns (uint256)',
  'error E_RepayTooMuch()',
  'error E_ZeroShares()',
  'error E_ZeroAssets()',
  'error E_OperationDisabled()',
  'error E_SupplyCapExceeded()',
  'error E_InsufficientAllowance()',
  'error E_Reentrancy()',
]);

export const evcCollateralsAbi = parseAbi(['function getCollaterals(address account) view returns (address[])']);
