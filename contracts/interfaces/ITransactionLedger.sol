// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IAssetRegistry} from "./IAssetRegistry.sol";
import {IGrantRegistry} from "./IGrantRegistry.sol";

/// @title ITransactionLedger — usage (计量) and trade records
/// @notice A grantee, or an operator it approved for usage, records the units it used under a
/// grant with the hash of the off-chain job, query or receipt; quota, window and revocation are
/// enforced by the GrantRegistry. Each record carries the grant's sequence number, so a gap is
/// visible. A trade has two sides: the seller (or an operator it approved for trades) records it
/// with the buyer's EIP-712 countersignature, and the trade settles on chain in the same
/// transaction — the asset's token moves to the buyer, or a grant is created for the buyer (a
/// licence sale). The hash of the off-chain settlement document is kept with it.
interface ITransactionLedger {
    /// @notice What a trade settles on chain.
    enum Settlement {
        None,
        Transfer,
        Licence
    }

    /// @notice The terms a buyer countersigns. For a transfer the licence fields are zero; for a
    /// licence sale they are the grant created for the buyer.
    struct TradeTerms {
        uint256 assetId;
        address seller;
        address buyer;
        uint256 price;
        bytes32 currency;
        bytes32 settlementHash;
        Settlement settlement;
        bytes32 purpose;
        uint64 validFrom;
        uint64 expiresAt;
        uint64 quota;
        bytes32 scopeRoot;
    }

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

    /// @notice A trade of `assetId` between `seller` and `buyer` (who countersigned) was settled:
    /// the token moved to the buyer (`Transfer`), or grant `grantId` was created for it (`Licence`).
    event TradeRecorded(
        uint256 indexed tradeId,
        uint256 indexed assetId,
        address indexed seller,
        address buyer,
        uint256 price,
        bytes32 currency,
        bytes32 settlementHash,
        Settlement settlement,
        uint256 grantId,
        address recorder
    );

    /// @notice `account` set the powers of `operator` (a bitmask of USAGE and TRADE; 0 removes it).
    event OperatorSet(address indexed account, address indexed operator, uint8 powers);

    /// @notice `owner` (a buyer) voided its unused trade countersignatures with nonce `nonce` (see {useNonce}).
    event NonceUsed(address indexed owner, uint256 nonce);

    /// @notice `caller` is neither the grantee nor an operator it approved for usage.
    error NotGranteeOrOperator(uint256 grantId, address caller, address grantee);
    /// @notice An operator selling the asset itself (a transfer) needs the token's ERC-721 approval
    /// from `seller` (approve or setApprovalForAll), not only the TRADE power.
    error NotApprovedForTransfer(uint256 assetId, address operator, address seller);
    /// @notice `caller` is neither the seller nor an operator it approved for trades.
    error NotSellerOrOperator(uint256 assetId, address caller, address seller);
    /// @notice The seller must be the asset's current owner.
    error SellerNotOwner(uint256 assetId, address seller, address owner);
    /// @notice Trades are recorded for active assets only.
    error AssetNotActive(uint256 assetId, IAssetRegistry.Status status);
    /// @notice The buyer must be non-zero and not the seller.
    error InvalidBuyer(address buyer, address seller);
    /// @notice A receipt hash, receipts root or settlement hash must be non-zero.
    error InvalidRecordHash(bytes32 hash);
    /// @notice A batch holds 1 to 2**32-1 receipts, each of at least one unit.
    error InvalidReceiptCount(uint32 count, uint64 units);
    /// @notice The operator must be a non-zero address other than the caller; powers are USAGE | TRADE.
    error InvalidOperator(address operator, uint8 powers);
    /// @notice A trade settles a transfer (licence fields zero) or a licence.
    error InvalidSettlement(Settlement settlement);
    /// @notice The countersignature's deadline has passed.
    error SignatureExpired(uint256 deadline, uint256 timestamp);
    /// @notice The countersignature was not made by `expected` (the buyer) over these terms, chain and contract.
    error InvalidSignature(address expected);
    /// @notice The registries were deployed for another ledger, or for different asset registries.
    error WiringMismatch(address assets, address grantsAssets, address grantsLedger, address assetsLedger);

    /// @notice Record `units` used under `grantId` for one job/query whose receipt hashes to `receiptHash`.
    /// @return sequence The grant's sequence number of this record.
    function recordUsage(uint256 grantId, uint64 units, bytes32 receiptHash) external returns (uint64 sequence);

    /// @notice Record `count` receipts at once by their Merkle root; `units` is their total (at least `count`).
    /// @return sequence The grant's sequence number of this record.
    function recordUsageBatch(uint256 grantId, uint64 units, bytes32 receiptsRoot, uint32 count)
        external
        returns (uint64 sequence);

    /// @notice Record and settle a trade of an active asset the seller owns; the caller is the
    /// seller or its trade operator (which, for a transfer, also needs the token's ERC-721
    /// approval), and `buyerSignature` the buyer's EIP-712 countersignature of
    /// `terms` (or ERC-1271 for a contract buyer).
    /// @param deadline Last timestamp at which the countersignature is valid.
    /// @return tradeId Sequential trade id.
    /// @return grantId The licence grant created for the buyer, or 0 for a transfer.
    function recordTrade(TradeTerms calldata terms, uint256 deadline, bytes calldata buyerSignature)
        external
        returns (uint256 tradeId, uint256 grantId);

    /// @notice Set what `operator` may do for the caller: USAGE (1) records usage under the caller's
    /// grants; TRADE (2) sells licences of the caller's assets on its behalf (a grant for the buyer,
    /// which is the power to grant) and, only with the token's ERC-721 approval as well, the asset
    /// itself; both (3); none (0).
    function setOperator(address operator, uint8 powers) external;

    /// @notice Void the caller's next trade countersignature (any signed, unused trade with it).
    /// @return nonce The nonce voided.
    function useNonce() external returns (uint256 nonce);

    /// @notice The powers `account` gave `operator` (a bitmask of USAGE and TRADE).
    function operatorPowers(address account, address operator) external view returns (uint8);

    /// @notice Next EIP-712 nonce of `buyer` for {recordTrade}.
    function nonces(address buyer) external view returns (uint256);

    /// @notice Number of trades recorded (the last trade id).
    function totalTrades() external view returns (uint256);

    /// @notice The asset registry.
    function assets() external view returns (IAssetRegistry);

    /// @notice The grant registry whose quota this ledger consumes.
    function grants() external view returns (IGrantRegistry);
}
