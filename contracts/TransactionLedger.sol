// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {IAssetRegistry} from "./interfaces/IAssetRegistry.sol";
import {IGrantRegistry} from "./interfaces/IGrantRegistry.sol";
import {ITransactionLedger} from "./interfaces/ITransactionLedger.sol";

/// @title TransactionLedger — usage and trade records
/// @notice Records live in events (an auditor rebuilds the trail from logs); the state written is
/// the grant's used units and sequence (in the GrantRegistry), the trade counter and operator
/// approvals. Usage recording writes one existing slot, so it stays cheap enough to meter every job.
contract TransactionLedger is ITransactionLedger {
    /// @inheritdoc ITransactionLedger
    IAssetRegistry public immutable assets;
    /// @inheritdoc ITransactionLedger
    IGrantRegistry public immutable grants;

    mapping(address account => mapping(address operator => bool)) private _operators;
    uint256 private _tradeCount;

    /// @param assets_ The asset registry.
    /// @param grants_ The grant registry, deployed naming this ledger's address.
    constructor(IAssetRegistry assets_, IGrantRegistry grants_) {
        address configured = grants_.ledger();
        if (configured != address(this)) {
            revert LedgerMismatch(address(this), configured);
        }
        assets = assets_;
        grants = grants_;
    }

    /// @inheritdoc ITransactionLedger
    function recordUsage(uint256 grantId, uint64 units, bytes32 receiptHash) external returns (uint64 sequence) {
        sequence = _consume(grantId, units, receiptHash);
        emit UsageRecorded(grantId, msg.sender, units, sequence, receiptHash);
    }

    /// @inheritdoc ITransactionLedger
    function recordUsageBatch(uint256 grantId, uint64 units, bytes32 receiptsRoot, uint32 count)
        external
        returns (uint64 sequence)
    {
        if (count == 0) {
            revert InvalidReceiptCount(count);
        }
        sequence = _consume(grantId, units, receiptsRoot);
        emit UsageBatchRecorded(grantId, msg.sender, units, sequence, receiptsRoot, count);
    }

    /// @dev The one path of usage records: the grant registry checks and meters, we authorise.
    /// The registry is fixed at deployment and trusted; a revert here undoes its write.
    function _consume(uint256 grantId, uint64 units, bytes32 receiptHash) private returns (uint64 sequence) {
        if (receiptHash == bytes32(0)) {
            revert InvalidRecordHash(receiptHash);
        }
        address grantee;
        (grantee, sequence) = grants.consume(grantId, units);
        if (msg.sender != grantee && !_operators[grantee][msg.sender]) {
            revert NotGranteeOrOperator(grantId, msg.sender, grantee);
        }
    }

    /// @inheritdoc ITransactionLedger
    function recordTrade(
        uint256 assetId,
        address buyer,
        address seller,
        uint256 price,
        bytes32 currency,
        bytes32 settlementHash
    ) external returns (uint256 tradeId) {
        if (msg.sender != seller && !_operators[seller][msg.sender]) {
            revert NotSellerOrOperator(assetId, msg.sender, seller);
        }
        if (buyer == address(0) || buyer == seller) {
            revert InvalidBuyer(buyer, seller);
        }
        if (settlementHash == bytes32(0)) {
            revert InvalidRecordHash(settlementHash);
        }
        (address owner, IAssetRegistry.Status status) = assets.ownerAndStatus(assetId);
        if (owner != seller) {
            revert SellerNotOwner(assetId, seller, owner);
        }
        if (status != IAssetRegistry.Status.Active) {
            revert AssetNotActive(assetId, status);
        }
        tradeId = _tradeCount + 1;
        _tradeCount = tradeId;
        emit TradeRecorded(tradeId, assetId, seller, buyer, price, currency, settlementHash, msg.sender);
    }

    /// @inheritdoc ITransactionLedger
    function setOperator(address operator, bool approved) external {
        if (operator == address(0) || operator == msg.sender) {
            revert InvalidOperator(operator);
        }
        _operators[msg.sender][operator] = approved;
        emit OperatorSet(msg.sender, operator, approved);
    }

    /// @inheritdoc ITransactionLedger
    function isOperator(address account, address operator) external view returns (bool) {
        return _operators[account][operator];
    }

    /// @inheritdoc ITransactionLedger
    function totalTrades() external view returns (uint256) {
        return _tradeCount;
    }
}
