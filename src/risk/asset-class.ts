/*
 * Which calibration class an asset belongs to, by its token symbol. The class decides whether
 * the risk model holds the asset flat (USD stablecoins) and which default volatility it starts
 * from before any price history exists. Unknown symbols are `volatile`, the cautious default.
 */
import type { AssetClass } from './calibration';

const USD_STABLECOINS = new Set([
  'USDC', 'USDC.E', 'USDBC', 'USDT', 'USDT0', 'DAI', 'SDAI', 'USDS', 'SUSDS', 'GHO', 'LUSD', 'BOLD', 'FRAX', 'PYUSD', 'USDE', 'CRVUSD', 'TUSD', 'USDP', 'GUSD', 'RLUSD', 'FDUSD',
]);
const BTC_LIKE = new Set(['BTC', 'WBTC', 'CBBTC', 'TBTC', 'LBTC', 'BTCB']);
const ETH_LIKE = new Set(['ETH', 'WETH', 'STETH', 'WSTETH', 'CBETH', 'RETH', 'WEETH', 'EZETH', 'RSETH', 'OSETH', 'ETHX']);

export function assetClassOf(symbol: string): AssetClass {
  const key = symbol.trim().toUpperCase();
  if (USD_STABLECOINS.has(key)) return 'stable';
  if (BTC_LIKE.has(key)) return 'btc';
  if (ETH_LIKE.has(key)) return 'eth';
  return 'volatile';
}
