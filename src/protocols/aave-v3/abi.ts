import { parseAbi } from 'viem';

/** The subset of Aave v3's Pool interface marginwatch reads (same ABI on forks such as Spark). */
export const aavePoolAbi = parseAbi([
  'function getUserAccountData(address user) view returns (uint256 totalCollateralBase, uint256 totalDebtBase, uint256 availableBorrowsBase, uint256 currentLiquidationThreshold, uint256 ltv, uint256 healthFactor)',
  'function getReservesList() view returns (address[])',
  'function ADDRESSES_PROVIDER() view returns (address)',
  'struct UserConfigurationMap { uint256 data; }',
  'function getUserConfiguration(address user) view returns (UserConfigurationMap)',
  'function getUserEMode(address user) view returns (uint256)',
  'struct ReserveConfigurationMap { uint256 data; }',
  'struct ReserveData { ReserveConfigurationMap configuration; uint128 liquidityIndex; uint128 currentLiquidityRate; uint128 variableBorrowIndex; uint128 currentVariableBorrowRate; uint128 currentStableBorrowRate; uint40 lastUpdateTimestamp; uint16 id; address aTokenAddress; address stableDebtTokenAddress; address variableDebtTokenAddress; address interestRateStrategyAddress; uint128 accruedToTreasury; uint128 unbacked; uint128 isolationModeTotalDebt; }',
  'function getReserveData(address asset) view returns (ReserveData)',
  'struct EModeCategory { uint16 ltv; uint16 liquidationThreshold; uint16 liquidationBonus; address priceSource; string label; }',
  'function getEModeCategoryData(uint8 id) view returns (EModeCategory)',
  'function supply(address asset, uint256 amount, address onBehalfOf, uint16 referralCode)',
  'function repay(address asset, uint256 amount, uint256 interestRateMode, address onBehalfOf) returns (uint256)',
]);

export const aaveAddressesProviderAbi = parseAbi(['function getPriceOracle() view returns (address)', 'function getPool() view returns (address)']);

export const aaveOracleAbi = parseAbi([
  'function getAssetsPrices(address[] assets) view returns (uint256[])',
  'function BASE_CURRENCY_UNIT() view returns (uint256)',
  'function getSourceOfAsset(address asset) view returns (address)',
]);

export const erc20Abi = parseAbi([
  'function balanceOf(address) view returns (uint256)',
  'function symbol() view returns (string)',
  'function decimals() view returns (uint8)',
]);

/** Aave returns type(uint256).max as the health factor of an account without debt. */
export const MAX_UINT256 = 2n ** 256n - 1n;
