import { parseAbi } from 'viem';

/** The subset of Comet (and, through its fallback, CometExt) marginwatch reads. Same ABI on CometWithExtendedAssetList. */
export const cometAbi = parseAbi([
  'function baseToken() view returns (address)',
  'function baseTokenPriceFeed() view returns (address)',
  'function baseScale() view returns (uint256)',
  'function numAssets() view returns (uint8)',
  'struct AssetInfo { uint8 offset; address asset; address priceFeed; uint64 scale; uint64 borrowCollateralFactor; uint64 liquidateCollateralFactor; uint64 liquidationFactor; uint128 supplyCap; }',
  'function getAssetInfo(uint8 i) view returns (AssetInfo)',
  'function getPrice(address priceFeed) view returns (uint256)',
  'function borrowBalanceOf(address account) view returns (uint256)',
  'function userCollateral(address account, address asset) view returns (uint128 balance, uint128 _reserved)',
  'function isLiquidatable(address account) view returns (bool)',
  'function supplyTo(address dst, address asset, uint256 amount)',
]);

export const tokenAbi = parseAbi(['function symbol() view returns (string)', 'function decimals() view returns (uint8)']);
export const priceFeedAbi = parseAbi(['function description() view returns (string)']);
