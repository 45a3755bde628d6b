// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IAssetRegistry} from "./IAssetRegistry.sol";
import {IGrantRegistry} from "./IGrantRegistry.sol";

/// @title ITransactionLedger — usage (计量) and trade records
/// @notice A grantee, or an operator it approved, records the units it used under a grant with
/// the hash of the off-chain job, query or receipt; quota, window and revocation are enforced by
/// the GrantRegistry. Each record carries the grant's sequence number, so a gap is visible. A
/// seller records trades of its assets with the hash of the off-chain settlement.
interface ITransactionLedger {
    /// @notice `units` were used under `grantId` for one job/query whose receipt hashes to
    /// `receiptHash`, recorded by `recorder` (the grantee or its operator). The grant's asset and
    /// grantee are in its `GrantCreated` log; `sequence` numbers the grant's records 1, 2, ...
    event UsageRecorded(
        uint256 indexed grantId, address indexed recorder, uint64 units, uint64 sequence, bytes32 receiptHash
    );

    /// @notice As {UsageRecorded}, for `count` receipts committed by their Merkle root `receiptsRoot`.
    event UsageBatchRecorded(
        uint256 indexed grantId,
        address indexed recorder,
        uint64 units,
        uint64 sequence,
        bytes32 receiptsRoot,
        uint32 count
    );

    /// @notice A trade of `assetId` between `seller` (its owner) and `buyer` was settled off chain.
    event TradeRecorded(
        uint256 indexed tradeId,
        uint256 indexed assetId,
        address indexed seller,
        address buyer,
        uint256 price,
        bytes32 currency,
        bytes32 settlementHash,
        address recorder
    );

    /// @notice `account` approved or removed `operator` to record on its behalf.
    event OperatorSet(address indexed account, address indexed operator, bool approved);

    /// @notice `caller` is neither the grantee nor an operator it approved.
    error NotGranteeOrOperator(uint256 grantId, address caller, address grantee);
    /// @notice `caller` is neither the seller nor an operator it approved.
    error NotSellerOrOperator(uint256 assetId, address caller, address seller);
    /// @notice The seller must be the asset's current owner.
    error SellerNotOwner(uint256 assetId, address seller, address owner);
    /// @notice Trades are recorded for active assets only.
    error AssetNotActive(uint256 assetId, IAssetRegistry.Status status);
    /// @notice The buyer must be non-zero and not the seller.
    error InvalidBuyer(address buyer, address seller);
    /// @notice A receipt hash, receipts root or settlement hash must be non-zero.
    error InvalidRecordHash(bytes32 hash);
    /// @notice A batch holds 1 to 2**32-1 receipts.
    error InvalidReceiptCount(uint32 count);
    /// @notice The operator must be a non-zero address other than the caller.
    error InvalidOperator(address operator);
    /// @notice The grant registry was deployed for another ledger.
    error LedgerMismatch(address expected, address configured);

    /// @notice Record `units` used under `grantId` for one job/query whose receipt hashes to `receiptHash`.
    /// @return sequence The grant's sequence number of this record.
    function recordUsage(uint256 grantId, uint64 units, bytes32 receiptHash) external returns (uint64 sequence);

    /// @notice Record `count` receipts at once by their Merkle root; `units` is their total.
    /// @return sequence The grant's sequence number of this record.
    function recordUsageBatch(uint256 grantId, uint64 units, bytes32 receiptsRoot, uint32 count)
        external
        returns (uint64 sequence);

    /// @notice Record a trade of an active asset; `seller` must own it and be the caller or its operator.
    /// @param price Price in minor units of `currency`.
    /// @param currency ISO 4217 code right-padded (e.g. "CNY"), or a token address left-padded.
    /// @param settlementHash Hash of the off-chain settlement document.
    /// @return tradeId Sequential trade id.
    function recordTrade(
        uint256 assetId,
        address buyer,
        address seller,
        uint256 price,
        bytes32 currency,
        bytes32 settlementHash
    ) external returns (uint256 tradeId);

    /// @notice Approve or remove `operator` to record usage and trades for the caller.
    function setOperator(address operator, bool approved) external;

    /// @notice True when `operator` may record for `account`.
    function isOperator(address account, address operator) external view returns (bool);

    /// @notice Number of trades recorded (the last trade id).
    function totalTrades() external view returns (uint256);

    /// @notice The asset registry.
    function assets() external view returns (IAssetRegistry);

    /// @notice The grant registry whose quota this ledger consumes.
    function grants() external view returns (IGrantRegistry);
}
