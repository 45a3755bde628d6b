// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {IERC721} from "@openzeppelin/contracts/token/ERC721/IERC721.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {SignatureChecker} from "@openzeppelin/contracts/utils/cryptography/SignatureChecker.sol";
import {IAssetRegistry} from "./interfaces/IAssetRegistry.sol";
import {IGrantRegistry} from "./interfaces/IGrantRegistry.sol";
import {ITransactionLedger} from "./interfaces/ITransactionLedger.sol";

/// @title TransactionLedger — usage and trade records
/// @notice Records live in events (an auditor rebuilds the trail from logs); the state written is
/// the grant's used units and sequence (in the GrantRegistry), the trade counter, buyers' nonces
/// and operator powers. Usage recording writes one existing slot, so it stays cheap enough to
/// meter every job. A trade settles in the transaction that records it: the token moves (through
/// the asset registry, which lets this ledger alone settle sales) or a grant is created (through
/// the grant registry, likewise).
contract TransactionLedger is ITransactionLedger, EIP712 {
    /// @notice Operator power: record usage under the account's grants.
    uint8 public constant USAGE = 1;
    /// @notice Operator power: record trades of the account's assets.
    uint8 public constant TRADE = 2;

    /// @notice EIP-712 type hash of the terms a buyer countersigns:
    /// keccak256("Trade(uint256 assetId,address seller,address buyer,uint256 price,bytes32 currency,bytes32 settlementHash,uint8 settlement,bytes32 purpose,uint64 validFrom,uint64 expiresAt,uint64 quota,bytes32 scopeRoot,uint256 nonce,uint256 deadline)")
    bytes32 public constant TRADE_TYPEHASH = keccak256(
        "Trade(uint256 assetId,address seller,address buyer,uint256 price,bytes32 currency,bytes32 settlementHash,uint8 settlement,bytes32 purpose,uint64 validFrom,uint64 expiresAt,uint64 quota,bytes32 scopeRoot,uint256 nonce,uint256 deadline)"
    );

    /// @inheritdoc ITransactionLedger
    IAssetRegistry public immutable assets;
    /// @inheritdoc ITransactionLedger
    IGrantRegistry public immutable grants;

    mapping(address account => mapping(address operator => uint8 powers)) private _operators;
    mapping(address buyer => uint256) private _nonces;
    uint256 private _tradeCount;

    /// @param assets_ The asset registry, deployed naming this ledger's address.
    /// @param grants_ The grant registry, deployed naming this ledger's address and `assets_`.
    constructor(IAssetRegistry assets_, IGrantRegistry grants_) EIP712("dataseal TransactionLedger", "2") {
        address grantsAssets = address(grants_.assets());
        address grantsLedger = grants_.ledger();
        address assetsLedger = assets_.ledger();
        if (grantsAssets != address(assets_) || grantsLedger != address(this) || assetsLedger != address(this)) {
            revert WiringMismatch(address(assets_), grantsAssets, grantsLedger, assetsLedger);
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
        if (count == 0 || units < count) {
            revert InvalidReceiptCount(count, units);
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
        if (msg.sender != grantee && _operators[grantee][msg.sender] & USAGE == 0) {
            revert NotGranteeOrOperator(grantId, msg.sender, grantee);
        }
    }

    /// @inheritdoc ITransactionLedger
    function recordTrade(TradeTerms calldata terms, uint256 deadline, bytes calldata buyerSignature)
        external
        returns (uint256 tradeId, uint256 grantId)
    {
        _checkTerms(terms);
        _checkCountersignature(terms, deadline, buyerSignature);
        uint256 assetId = terms.assetId;
        (address owner, IAssetRegistry.Status status) = assets.ownerAndStatus(assetId);
        if (owner != terms.seller) {
            revert SellerNotOwner(assetId, terms.seller, owner);
        }
        if (status != IAssetRegistry.Status.Active) {
            revert AssetNotActive(assetId, status);
        }
        tradeId = _tradeCount + 1;
        _tradeCount = tradeId;
        if (terms.settlement == Settlement.Transfer) {
            if (msg.sender != terms.seller) {
                _requireTokenApproval(assetId, terms.seller);
            }
            assets.settleTransfer(terms.seller, terms.buyer, assetId);
        } else {
            grantId = grants.grantFor(terms.seller, _licence(terms));
        }
        _emitTrade(tradeId, terms, grantId);
    }

    /// @dev {TradeRecorded} of a trade just settled (a function of its own: the stack).
    function _emitTrade(uint256 tradeId, TradeTerms calldata terms, uint256 grantId) private {
        emit TradeRecorded(
            tradeId,
            terms.assetId,
            terms.seller,
            terms.buyer,
            terms.price,
            terms.currency,
            terms.settlementHash,
            terms.settlement,
            grantId,
            msg.sender
        );
    }

    /// @dev The caller's authority and the terms' shape (what needs no external call).
    function _checkTerms(TradeTerms calldata terms) private view {
        address seller = terms.seller;
        if (msg.sender != seller && _operators[seller][msg.sender] & TRADE == 0) {
            revert NotSellerOrOperator(terms.assetId, msg.sender, seller);
        }
        if (terms.buyer == address(0) || terms.buyer == seller) {
            revert InvalidBuyer(terms.buyer, seller);
        }
        if (terms.settlementHash == bytes32(0)) {
            revert InvalidRecordHash(terms.settlementHash);
        }
        Settlement settlement = terms.settlement;
        if (
            settlement == Settlement.None
                || (
                    settlement == Settlement.Transfer
                        && (
                            terms.purpose != bytes32(0) || terms.validFrom != 0 || terms.expiresAt != 0 || terms.quota != 0
                                || terms.scopeRoot != bytes32(0)
                        )
                )
        ) {
            revert InvalidSettlement(settlement);
        }
    }

    /// @dev An operator sells the asset itself only with the token's ERC-721 approval, as a
    /// marketplace would: the TRADE power alone sells licences, never the asset.
    function _requireTokenApproval(uint256 assetId, address seller) private view {
        IERC721 token = IERC721(address(assets));
        if (token.getApproved(assetId) != msg.sender && !token.isApprovedForAll(seller, msg.sender)) {
            revert NotApprovedForTransfer(assetId, msg.sender, seller);
        }
    }

    /// @dev The buyer's consent: its EIP-712 signature of `terms` with its next nonce, consumed here.
    function _checkCountersignature(TradeTerms calldata terms, uint256 deadline, bytes calldata signature) private {
        // A countersignature deadline is coarse (minutes to days): seconds of drift do not matter.
        // slither-disable-next-line timestamp
        if (block.timestamp > deadline) {
            revert SignatureExpired(deadline, block.timestamp);
        }
        address buyer = terms.buyer;
        uint256 nonce = _nonces[buyer];
        // TradeTerms is a static struct: abi.encode lays its fields out inline, exactly as the
        // EIP-712 encoding of the flat Trade type above.
        bytes32 digest = _hashTypedDataV4(keccak256(abi.encode(TRADE_TYPEHASH, terms, nonce, deadline)));
        if (!SignatureChecker.isValidSignatureNow(buyer, digest, signature)) {
            revert InvalidSignature(buyer);
        }
        _nonces[buyer] = nonce + 1;
    }

    /// @dev The grant a licence sale creates for the buyer.
    function _licence(TradeTerms calldata terms) private pure returns (IGrantRegistry.GrantTerms memory) {
        return IGrantRegistry.GrantTerms({
            assetId: terms.assetId,
            grantee: terms.buyer,
            purpose: terms.purpose,
            validFrom: terms.validFrom,
            expiresAt: terms.expiresAt,
            quota: terms.quota,
            scopeRoot: terms.scopeRoot
        });
    }

    /// @inheritdoc ITransactionLedger
    function setOperator(address operator, uint8 powers) external {
        if (operator == address(0) || operator == msg.sender || powers & ~(USAGE | TRADE) != 0) {
            revert InvalidOperator(operator, powers);
        }
        _operators[msg.sender][operator] = powers;
        emit OperatorSet(msg.sender, operator, powers);
    }

    /// @inheritdoc ITransactionLedger
    function useNonce() external returns (uint256 nonce) {
        nonce = _nonces[msg.sender];
        _nonces[msg.sender] = nonce + 1;
        emit NonceUsed(msg.sender, nonce);
    }

    /// @inheritdoc ITransactionLedger
    function operatorPowers(address account, address operator) external view returns (uint8) {
        return _operators[account][operator];
    }

    /// @inheritdoc ITransactionLedger
    function nonces(address buyer) external view returns (uint256) {
        return _nonces[buyer];
    }

    /// @inheritdoc ITransactionLedger
    function totalTrades() external view returns (uint256) {
        return _tradeCount;
    }

    /// @notice EIP-712 domain separator of this chain and contract (for off-chain signers).
    /// @return The separator used by {recordTrade}.
    // solhint-disable-next-line func-name-mixedcase
    function DOMAIN_SEPARATOR() external view returns (bytes32) {
        return _domainSeparatorV4();
    }
}
