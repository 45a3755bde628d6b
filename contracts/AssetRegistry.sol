// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";
import {SignatureChecker} from "@openzeppelin/contracts/utils/cryptography/SignatureChecker.sol";
import {IERC721} from "@openzeppelin/contracts/token/ERC721/IERC721.sol";
import {IAssetRegistry} from "./interfaces/IAssetRegistry.sol";
import {AssetToken} from "./token/AssetToken.sol";

/// @title AssetRegistry — data-asset registrations, one ERC-721 token each
/// @notice No proxy, no admin rewrite: a registered root, its manifest hash, registrant and time
/// can never change, and no record can be erased. The admin role only appoints reviewers.
///
/// Storage layout (what each slot of a registration holds):
///   _records[contentRoot] slot 0: owner (20 B) | registeredAt (uint40) | assetId (uint32)
///                                 | rightsType (uint8) | classification (uint8) | status (uint8)
///   _records[contentRoot] slot 1: manifestHash
///   _contentRoots[assetId]      : contentRoot (the id → record link)
///   _accounts[owner]            : balance (uint128) | EIP-712 nonce (uint128)
///   _parents[assetId]           : parentId (uint32) | lineage — written only when there is a parent
///   _registrants[assetId]       : registrant — written only at the first transfer away from it
/// A plain registration therefore writes three new slots, the owner's account slot and the
/// shared id counter.
contract AssetRegistry is IAssetRegistry, AssetToken, AccessControl, EIP712 {
    /// @notice Role allowed to approve, reject, suspend and reinstate registrations.
    bytes32 public constant REVIEWER_ROLE = keccak256("REVIEWER_ROLE");

    /// @notice EIP-712 type hash of a registration request signed by its owner:
    /// keccak256("Register(address owner,bytes32 contentRoot,bytes32 manifestHash,uint8 rightsType,uint8 classification,uint256 parentId,uint256 nonce,uint256 deadline)")
    bytes32 public constant REGISTER_TYPEHASH = 0xeeeaeeec9cf170a90037ded36be6da4219404cac51f3c5cca3937a72af633029;

    /// @notice Rights-type bits: 1 holding (数据资源持有), 2 processing/use (数据加工使用),
    /// 4 product operation (数据产品经营).
    uint8 public constant RIGHTS_MASK = 0x07;
    /// @notice Highest classification level: 0 public, 1 general, 2 important, 3 core.
    uint8 public constant MAX_CLASSIFICATION = 3;
    /// @notice Most members one batch may declare.
    uint256 public constant MAX_BATCH_COUNT = type(uint24).max;

    /// @inheritdoc IAssetRegistry
    bool public immutable reviewMode;

    struct Record {
        address owner;
        uint40 registeredAt;
        uint32 assetId;
        uint8 rightsType;
        uint8 classification;
        Status status;
        bytes32 manifestHash;
    }

    struct ParentLink {
        uint32 parentId;
        Lineage lineage;
    }

    struct Account {
        uint128 balance;
        uint128 nonce;
    }

    struct BatchRecord {
        address anchorer;
        uint40 anchoredAt;
        uint32 batchId;
        uint24 count;
        bytes32 manifestHash;
    }

    struct Counters {
        uint32 assets;
        uint32 batches;
    }

    mapping(bytes32 contentRoot => Record) private _records;
    mapping(uint256 assetId => bytes32 contentRoot) private _contentRoots;
    mapping(uint256 assetId => ParentLink) private _parents;
    mapping(uint256 assetId => address registrant) private _registrants;
    mapping(address owner => Account) private _accounts;
    mapping(bytes32 batchRoot => BatchRecord) private _batches;
    mapping(uint256 batchId => bytes32 batchRoot) private _batchRoots;
    Counters private _counters;

    /// @param admin Account that may appoint and remove reviewers.
    /// @param reviewMode_ When true, registrations start pending until a reviewer approves them.
    /// @param baseTokenURI Prefix of `tokenURI` (the public verify page), or "" for none.
    constructor(address admin, bool reviewMode_, string memory baseTokenURI)
        AssetToken("dataseal data asset", "SEAL", baseTokenURI)
        EIP712("dataseal AssetRegistry", "1")
    {
        reviewMode = reviewMode_;
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
    }

    // ------------------------------------------------------------------ registration

    /// @inheritdoc IAssetRegistry
    function register(
        bytes32 contentRoot,
        bytes32 manifestHash,
        uint8 rightsType,
        uint8 classification,
        uint256 parentId
    ) external returns (uint256 assetId) {
        Lineage lineage = Lineage.None;
        if (parentId != 0) {
            _recordOf(parentId);
            lineage = Lineage.Derived;
        }
        return _register(msg.sender, contentRoot, manifestHash, rightsType, classification, parentId, lineage);
    }

    /// @inheritdoc IAssetRegistry
    function registerVersion(
        uint256 parentId,
        bytes32 contentRoot,
        bytes32 manifestHash,
        uint8 rightsType,
        uint8 classification
    ) external returns (uint256 assetId) {
        address parentOwner = _recordOf(parentId).owner;
        if (parentOwner != msg.sender) {
            revert NotAssetOwner(parentId, msg.sender, parentOwner);
        }
        return _register(msg.sender, contentRoot, manifestHash, rightsType, classification, parentId, Lineage.Version);
    }

    /// @inheritdoc IAssetRegistry
    function registerBySig(
        address owner,
        bytes32 contentRoot,
        bytes32 manifestHash,
        uint8 rightsType,
        uint8 classification,
        uint256 parentId,
        uint256 deadline,
        bytes calldata signature
    ) external returns (uint256 assetId) {
        // A signature deadline is coarse (minutes to days): seconds of block-time drift do not matter.
        // slither-disable-next-line timestamp
        if (block.timestamp > deadline) {
            revert SignatureExpired(deadline, block.timestamp);
        }
        Account storage account = _accounts[owner];
        uint256 nonce = account.nonce;
        bytes32 digest = _hashTypedDataV4(
            keccak256(
                abi.encode(
                    REGISTER_TYPEHASH,
                    owner,
                    contentRoot,
                    manifestHash,
                    rightsType,
                    classification,
                    parentId,
                    nonce,
                    deadline
                )
            )
        );
        if (!SignatureChecker.isValidSignatureNow(owner, digest, signature)) {
            revert InvalidSignature(owner);
        }
        account.nonce = uint128(nonce + 1);
        Lineage lineage = Lineage.None;
        if (parentId != 0) {
            _recordOf(parentId);
            lineage = Lineage.Derived;
        }
        return _register(owner, contentRoot, manifestHash, rightsType, classification, parentId, lineage);
    }

    /// @dev The one path every registration takes: validate, claim the root, write, emit.
    function _register(
        address owner,
        bytes32 contentRoot,
        bytes32 manifestHash,
        uint8 rightsType,
        uint8 classification,
        uint256 parentId,
        Lineage lineage
    ) private returns (uint256 assetId) {
        if (contentRoot == bytes32(0)) {
            revert InvalidContentRoot(contentRoot);
        }
        if (manifestHash == bytes32(0)) {
            revert InvalidManifestHash(manifestHash);
        }
        if (rightsType == 0 || rightsType & ~RIGHTS_MASK != 0) {
            revert InvalidRightsType(rightsType);
        }
        if (classification > MAX_CLASSIFICATION) {
            revert InvalidClassification(classification);
        }
        uint32 existing = _records[contentRoot].assetId;
        if (existing != 0) {
            revert AssetAlreadyRegistered(contentRoot, existing);
        }
        assetId = uint256(_counters.assets) + 1;
        if (assetId > type(uint32).max) {
            revert IdSpaceExhausted(assetId - 1);
        }
        _counters.assets = uint32(assetId);

        Status status = reviewMode ? Status.Pending : Status.Active;
        _records[contentRoot] = Record({
            owner: owner,
            registeredAt: uint40(block.timestamp),
            assetId: uint32(assetId),
            rightsType: rightsType,
            classification: classification,
            status: status,
            manifestHash: manifestHash
        });
        _contentRoots[assetId] = contentRoot;
        if (lineage != Lineage.None) {
            _parents[assetId] = ParentLink({parentId: uint32(parentId), lineage: lineage});
        }
        unchecked {
            // A balance cannot reach 2**128: there are at most 2**32 assets.
            _accounts[owner].balance += 1;
        }
        emit Transfer(address(0), owner, assetId);
        emit AssetRegistered(
            assetId,
            owner,
            contentRoot,
            manifestHash,
            rightsType,
            classification,
            status,
            parentId,
            lineage,
            uint64(block.timestamp)
        );
    }

    // ------------------------------------------------------------------ status

    /// @inheritdoc IAssetRegistry
    function cancel(uint256 assetId, bytes32 reasonHash) external {
        Record storage record = _recordOf(assetId);
        if (record.owner != msg.sender) {
            revert NotAssetOwner(assetId, msg.sender, record.owner);
        }
        Status from = record.status;
        if (from != Status.Pending && from != Status.Active) {
            revert InvalidStatusTransition(assetId, from, Status.Cancelled);
        }
        _setStatus(record, assetId, from, Status.Cancelled, reasonHash);
    }

    /// @inheritdoc IAssetRegistry
    function approveRegistration(uint256 assetId, bytes32 reasonHash) external onlyRole(REVIEWER_ROLE) {
        _transition(assetId, Status.Pending, Status.Active, reasonHash);
    }

    /// @inheritdoc IAssetRegistry
    function rejectRegistration(uint256 assetId, bytes32 reasonHash) external onlyRole(REVIEWER_ROLE) {
        _transition(assetId, Status.Pending, Status.Rejected, reasonHash);
    }

    /// @inheritdoc IAssetRegistry
    function suspend(uint256 assetId, bytes32 reasonHash) external onlyRole(REVIEWER_ROLE) {
        _transition(assetId, Status.Active, Status.Suspended, reasonHash);
    }

    /// @inheritdoc IAssetRegistry
    function reinstate(uint256 assetId, bytes32 reasonHash) external onlyRole(REVIEWER_ROLE) {
        _transition(assetId, Status.Suspended, Status.Active, reasonHash);
    }

    function _transition(uint256 assetId, Status required, Status to, bytes32 reasonHash) private {
        Record storage record = _recordOf(assetId);
        Status from = record.status;
        if (from != required) {
            revert InvalidStatusTransition(assetId, from, to);
        }
        _setStatus(record, assetId, from, to, reasonHash);
    }

    function _setStatus(Record storage record, uint256 assetId, Status from, Status to, bytes32 reasonHash)
        private
    {
        record.status = to;
        emit AssetStatusChanged(assetId, from, to, msg.sender, reasonHash);
    }

    // ------------------------------------------------------------------ batches

    /// @inheritdoc IAssetRegistry
    function anchorBatch(bytes32 batchRoot, uint32 count, bytes32 manifestHash) external returns (uint256 batchId) {
        if (batchRoot == bytes32(0)) {
            revert InvalidContentRoot(batchRoot);
        }
        if (manifestHash == bytes32(0)) {
            revert InvalidManifestHash(manifestHash);
        }
        if (count == 0 || count > MAX_BATCH_COUNT) {
            revert InvalidBatchCount(count);
        }
        uint32 existing = _batches[batchRoot].batchId;
        if (existing != 0) {
            revert BatchAlreadyAnchored(batchRoot, existing);
        }
        batchId = uint256(_counters.batches) + 1;
        if (batchId > type(uint32).max) {
            revert IdSpaceExhausted(batchId - 1);
        }
        _counters.batches = uint32(batchId);
        _batches[batchRoot] = BatchRecord({
            anchorer: msg.sender,
            anchoredAt: uint40(block.timestamp),
            batchId: uint32(batchId),
            count: uint24(count),
            manifestHash: manifestHash
        });
        _batchRoots[batchId] = batchRoot;
        emit BatchAnchored(batchId, msg.sender, batchRoot, manifestHash, count, uint64(block.timestamp));
    }

    /// @inheritdoc IAssetRegistry
    function verifyBatchMember(uint256 batchId, bytes32 leaf, bytes32[] calldata proof) public view returns (bool) {
        bytes32 batchRoot = _batchRoots[batchId];
        if (batchRoot == bytes32(0)) {
            revert UnknownBatch(batchId);
        }
        return MerkleProof.verifyCalldata(proof, batchRoot, leaf);
    }

    /// @inheritdoc IAssetRegistry
    function verifyBatchRecord(
        uint256 batchId,
        bytes32 contentRoot,
        bytes32 manifestHash,
        uint8 rightsType,
        uint8 classification,
        bytes32[] calldata proof
    ) external view returns (bool) {
        bytes32 leaf = keccak256(bytes.concat(keccak256(abi.encode(contentRoot, manifestHash, rightsType, classification))));
        return verifyBatchMember(batchId, leaf, proof);
    }

    // ------------------------------------------------------------------ views

    /// @inheritdoc IAssetRegistry
    function assetOf(uint256 assetId) external view returns (Asset memory asset) {
        Record storage record = _recordOf(assetId);
        ParentLink memory parent = _parents[assetId];
        address registrant = _registrants[assetId];
        asset = Asset({
            assetId: assetId,
            contentRoot: _contentRoots[assetId],
            manifestHash: record.manifestHash,
            owner: record.owner,
            registrant: registrant == address(0) ? record.owner : registrant,
            registeredAt: record.registeredAt,
            rightsType: record.rightsType,
            classification: record.classification,
            status: record.status,
            parentId: parent.parentId,
            lineage: parent.lineage
        });
    }

    /// @inheritdoc IAssetRegistry
    function assetIdOf(bytes32 contentRoot) external view returns (uint256) {
        return _records[contentRoot].assetId;
    }

    /// @inheritdoc IAssetRegistry
    function ownerAndStatus(uint256 assetId) external view returns (address owner, Status status) {
        Record storage record = _recordOf(assetId);
        return (record.owner, record.status);
    }

    /// @inheritdoc IAssetRegistry
    function statusOf(uint256 assetId) external view returns (Status) {
        return _recordOf(assetId).status;
    }

    /// @inheritdoc IAssetRegistry
    function batchOf(uint256 batchId) external view returns (Batch memory) {
        bytes32 batchRoot = _batchRoots[batchId];
        if (batchRoot == bytes32(0)) {
            revert UnknownBatch(batchId);
        }
        BatchRecord storage batch = _batches[batchRoot];
        return Batch({
            batchId: batchId,
            batchRoot: batchRoot,
            manifestHash: batch.manifestHash,
            anchorer: batch.anchorer,
            anchoredAt: batch.anchoredAt,
            count: batch.count
        });
    }

    /// @inheritdoc IAssetRegistry
    function batchIdOf(bytes32 batchRoot) external view returns (uint256) {
        return _batches[batchRoot].batchId;
    }

    /// @inheritdoc IAssetRegistry
    function totalAssets() external view returns (uint256) {
        return _counters.assets;
    }

    /// @inheritdoc IAssetRegistry
    function totalBatches() external view returns (uint256) {
        return _counters.batches;
    }

    /// @inheritdoc IAssetRegistry
    function nonces(address owner) external view returns (uint256) {
        return _accounts[owner].nonce;
    }

    /// @inheritdoc IERC721
    function balanceOf(address owner) external view returns (uint256) {
        if (owner == address(0)) {
            revert ERC721InvalidOwner(address(0));
        }
        return _accounts[owner].balance;
    }

    /// @notice EIP-712 domain separator of this chain and contract (for off-chain signers).
    /// @return The separator used by {registerBySig}.
    // solhint-disable-next-line func-name-mixedcase
    function DOMAIN_SEPARATOR() external view returns (bytes32) {
        return _domainSeparatorV4();
    }

    /// @inheritdoc AssetToken
    function supportsInterface(bytes4 interfaceId) public view override(AssetToken, AccessControl) returns (bool) {
        return AssetToken.supportsInterface(interfaceId) || AccessControl.supportsInterface(interfaceId);
    }

    // ------------------------------------------------------------------ token hooks

    function _recordOf(uint256 assetId) private view returns (Record storage record) {
        record = _records[_contentRoots[assetId]];
        if (record.assetId == 0) {
            revert UnknownAsset(assetId);
        }
    }

    /// @dev Unknown ids map to the zero root, which is never registered: owner is zero.
    function _ownerOf(uint256 tokenId) internal view override returns (address) {
        return _records[_contentRoots[tokenId]].owner;
    }

    /// @dev Moves ownership inside the record; the registrant is kept the first time it leaves.
    function _moveToken(uint256 tokenId, address from, address to) internal override {
        Record storage record = _records[_contentRoots[tokenId]];
        Status status = record.status;
        if (status != Status.Active && status != Status.Pending) {
            revert AssetNotTransferable(tokenId, status);
        }
        if (_registrants[tokenId] == address(0)) {
            _registrants[tokenId] = from;
        }
        record.owner = to;
        unchecked {
            _accounts[from].balance -= 1;
            _accounts[to].balance += 1;
        }
    }
}
