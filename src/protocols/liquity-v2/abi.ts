import { parseAbi } from 'viem';

/** The subset of Liquity v2's branch contracts marginwatch reads (liquity/bold). */
export const troveManagerAbi = parseAbi([
  'function activePool() view returns (address)',
  'function borrowerOperations() view returns (address)',
  'function troveNFT() view returns (address)',
  'function CCR() view returns (uint256)',
  'function shutdownTime() view returns (uint256)',
  'function lastZombieTroveId() view returns (uint256)',
  'function getEntireBranchColl() view returns (uint256)',
  'function getEntireBranchDebt() view returns (uint256)',
  'function getTroveIdsCount() view returns (uint256)',
  'function getTroveFromTroveIdsArray(uint256 _index) view returns (uint256)',
  'function getTroveStatus(uint256 _troveId) view returns (uint8)',
  'function getTroveAnnualInterestRate(uint256 _troveId) view returns (uint256)',
  'struct LatestTroveData { uint256 entireDebt; uint256 entireColl; uint256 redistBoldDebtGain; uint256 redistCollGain; uint256 accruedInterest; uint256 recordedDebt; uint256 annualInterestRate; uint256 weightedRecordedDebt; uint256 accruedBatchManagementFee; uint256 lastInterestRateAdjTime; }',
  'function getLatestTroveData(uint256 _troveId) view returns (LatestTroveData)',
]);

export const borrowerOperationsAbi = parseAbi(['function MCR() view returns (uint256)', 'function SCR() view returns (uint256)', 'function activePool() view returns (address)']);

export const activePoolAbi = parseAbi([
  'function collToken() view returns (address)',
  'function boldToken() view returns (address)',
  'function troveManagerAddress() view returns (address)',
  'function borrowerOperationsAddress() view returns (address)',
]);

/** fetchPrice is not a view: read through eth_call it gives the price a liquidation in this block would use, and changes nothing. */
export const priceFeedAbi = parseAbi(['function fetchPrice() returns (uint256 price, bool newOracleFailureDetected)', 'function lastGoodPrice() view returns (uint256)']);

export const troveNftAbi = parseAbi(['function ownerOf(uint256 tokenId) view returns (address)']);

export const tokenAbi = parseAbi(['function symbol() view returns (string)', 'function decimals() view returns (uint8)']);

/** BorrowerOperations' own top-up calls, and who may make them for a trove. */
export const borrowerOperationsTopUpAbi = parseAbi([
  'function addColl(uint256 _troveId, uint256 _collAmount)',
  'function repayBold(uint256 _troveId, uint256 _boldAmount)',
  'function addManagerOf(uint256 _troveId) view returns (address)',
  'function removeManagerReceiverOf(uint256 _troveId) view returns (address manager, address receiver)',
]);

/** The custom errors addColl / repayBold can revert with (BorrowerOperations and AddRemoveManagers). */
export const borrowerOperationsErrorsAbi = parseAbi([
  'error NotOwnerNorAddManager()',
  'error IsShutDown()',
  'error TroveNotActive()',
  'error TroveNotOpen()',
  'error NewOracleFailureDetected()',
  'error ZeroAdjustment()',
  'error NotEnoughBoldBalance()',
  'error DebtBelowMin()',
  'error TCRBelowCCR()',
]);
