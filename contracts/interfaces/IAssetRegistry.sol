// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @title IAssetRegistry — registered data assets, one ERC-721 token each
/// @notice A registration binds a dataset's content root (the Merkle root of its data) and
/// manifest hash to a registrant and a time. A content root is registered once, forever: the
/// first registrant keeps priority. Records are never rewritten or erased; only their status
/// moves (pending → active → suspended ↔ active, or → cancelled / rejected).
interface IAssetRegistry {
    /// @notice Lifecycle of a registration. `None` means "no such asset".
    enum Status {
        None,
        Pending,
        Active,
        Suspended,
        Cancelled,
        Rejected
    }

    /// @notice How an asset relates to its parent. `None` when it has no parent.
    enum Lineage {
        None,
        Version,
        Derived
    }

    /// @notice A registration as returned by {assetOf}.
    struct Asset {
        uint256 assetId;
        bytes32 contentRoot;
        bytes32 manifestHash;
        address owner;
        address registrant;
        uint64 registeredAt;
        uint8 rightsType;
        uint8 classification;
        Status status;
        uint256 parentId;
        Lineage lineage;
    }

    /// @notice An anchored batch as returned by {batchOf}.
    struct Batch {
        uint256 batchId;
        bytes32 batchRoot;
        bytes32 manifestHash;
        address anchorer;
        uint64 anchoredAt;
        uint32 count;
    }

    /// @notice A registration was recorded. Together with ERC-721 `Transfer` events this rebuilds
    /// every record from logs alone.
    event AssetRegistered(
        uint256 indexed assetId,
        address indexed registrant,
        bytes32 indexed contentRoot,
        bytes32 manifestHash,
        uint8 rightsType,
        uint8 classification,
        Status status,
        uint256 parentId,
        Lineage lineage,
        uint64 registeredAt
    );

    /// @notice An asset's status moved; `reasonHash` is the hash of the off-chain reason document.
    event AssetStatusChanged(
        uint256 indexed assetId, Status from, Status to, address indexed by, bytes32 reasonHash
    );

    /// @notice A batch of asset records was committed by its Merkle root.
    event BatchAnchored(
        uint256 indexed batchId,
        address indexed anchorer,
        bytes32 indexed batchRoot,
        bytes32 manifestHash,
        uint32 count,
        uint64 anchoredAt
    );

    /// @notice The content root is already registered as `assetId` (first registrant keeps priority).
    error AssetAlreadyRegistered(bytes32 contentRoot, uint256 assetId);
    /// @notice No asset has id `assetId`.
    error UnknownAsset(uint256 assetId);
    /// @notice Only the asset's current owner may do this; `caller` is not `owner`.
    error NotAssetOwner(uint256 assetId, address caller, address owner);
    /// @notice The asset's status `from` does not allow a move to `to`.
    error InvalidStatusTransition(uint256 assetId, Status from, Status to);
    /// @notice Transfers are frozen while the asset is suspended, cancelled or rejected.
    error AssetNotTransferable(uint256 assetId, Status status);
    /// @notice The content root must be non-zero.
    error InvalidContentRoot(bytes32 contentRoot);
    /// @notice The manifest hash must be non-zero.
    error InvalidManifestHash(bytes32 manifestHash);
    /// @notice Rights type is a non-empty bitmask of HOLDING(1) | PROCESSING(2) | OPERATION(4).
    error InvalidRightsType(uint8 rightsType);
    /// @notice Classification levels are 0 (public) to 3 (core).
    error InvalidClassification(uint8 classification);
    /// @notice The signature's deadline has passed.
    error SignatureExpired(uint256 deadline, uint256 timestamp);
    /// @notice The signature was not made by `expected` over this request, chain and contract.
    error InvalidSignature(address expected);
    /// @notice The batch root is already anchored as `batchId`.
    error BatchAlreadyAnchored(bytes32 batchRoot, uint256 batchId);
    /// @notice No batch has id `batchId`.
    error UnknownBatch(uint256 batchId);
    /// @notice A batch holds 1 to 16,777,215 members.
    error InvalidBatchCount(uint256 count);
    /// @notice The id space (uint32) is exhausted.
    error IdSpaceExhausted(uint256 lastId);

    /// @notice Register a data asset and mint its token to the caller.
    /// @param contentRoot Merkle root of the data (StandardMerkleTree standard-v1); never zero.
    /// @param manifestHash keccak256 of the canonical manifest JSON; never zero.
    /// @param rightsType Bitmask: 1 holding, 2 processing/use, 4 product operation.
    /// @param classification 0 public, 1 general, 2 important, 3 core.
    /// @param parentId Asset this one is derived from, or 0.
    /// @return assetId Sequential id, also the ERC-721 token id.
    function register(
        bytes32 contentRoot,
        bytes32 manifestHash,
        uint8 rightsType,
        uint8 classification,
        uint256 parentId
    ) external returns (uint256 assetId);

    /// @notice Register a new version of `parentId` (caller must own the parent).
    /// @return assetId The new version's id.
    function registerVersion(
        uint256 parentId,
        bytes32 contentRoot,
        bytes32 manifestHash,
        uint8 rightsType,
        uint8 classification
    ) external returns (uint256 assetId);

    /// @notice Register for `owner`, who signed the request (EIP-712); anyone may send it and pay.
    /// @param deadline Last timestamp at which the signature is valid.
    /// @param signature EIP-712 signature (or ERC-1271 for contract owners) by `owner`.
    /// @return assetId The new asset's id, minted to `owner`.
    function registerBySig(
        address owner,
        bytes32 contentRoot,
        bytes32 manifestHash,
        uint8 rightsType,
        uint8 classification,
        uint256 parentId,
        uint256 deadline,
        bytes calldata signature
    ) external returns (uint256 assetId);

    /// @notice Cancel a pending or active registration (owner only). The record stays.
    function cancel(uint256 assetId, bytes32 reasonHash) external;

    /// @notice Approve a pending registration (REVIEWER only; review mode).
    function approveRegistration(uint256 assetId, bytes32 reasonHash) external;

    /// @notice Reject a pending registration (REVIEWER only; review mode). The root stays taken.
    function rejectRegistration(uint256 assetId, bytes32 reasonHash) external;

    /// @notice Suspend an active asset over a dispute (REVIEWER only); grants stop working.
    function suspend(uint256 assetId, bytes32 reasonHash) external;

    /// @notice Reinstate a suspended asset (REVIEWER only).
    function reinstate(uint256 assetId, bytes32 reasonHash) external;

    /// @notice Commit the Merkle root of a batch of asset records in one transaction.
    /// @param batchRoot standard-v1 root of the batch tree; never zero, anchored once.
    /// @param count Number of members (1 to 16,777,215).
    /// @param manifestHash keccak256 of the batch manifest; never zero.
    /// @return batchId Sequential batch id.
    function anchorBatch(bytes32 batchRoot, uint32 count, bytes32 manifestHash)
        external
        returns (uint256 batchId);

    /// @notice Check a standard-v1 leaf hash and proof against an anchored batch.
    /// @param leaf keccak256(bytes.concat(keccak256(abi.encode(values)))) of the member.
    /// @return True when the proof leads from `leaf` to the batch root.
    function verifyBatchMember(uint256 batchId, bytes32 leaf, bytes32[] calldata proof)
        external
        view
        returns (bool);

    /// @notice Check an asset record (the standard leaf `(bytes32,bytes32,uint8,uint8)`) against a batch.
    /// @return True when the record is a member of the batch.
    function verifyBatchRecord(
        uint256 batchId,
        bytes32 contentRoot,
        bytes32 manifestHash,
        uint8 rightsType,
        uint8 classification,
        bytes32[] calldata proof
    ) external view returns (bool);

    /// @notice The full record of `assetId`; reverts {UnknownAsset}.
    function assetOf(uint256 assetId) external view returns (Asset memory);

    /// @notice The asset registered with `contentRoot`, or 0.
    function assetIdOf(bytes32 contentRoot) external view returns (uint256);

    /// @notice Owner and status of `assetId` in one call; reverts {UnknownAsset}.
    function ownerAndStatus(uint256 assetId) external view returns (address owner, Status status);

    /// @notice Status of `assetId`; reverts {UnknownAsset}.
    function statusOf(uint256 assetId) external view returns (Status);

    /// @notice The anchored batch `batchId`; reverts {UnknownBatch}.
    function batchOf(uint256 batchId) external view returns (Batch memory);

    /// @notice The batch anchored with `batchRoot`, or 0.
    function batchIdOf(bytes32 batchRoot) external view returns (uint256);

    /// @notice Number of registered assets (the last asset id).
    function totalAssets() external view returns (uint256);

    /// @notice Number of anchored batches (the last batch id).
    function totalBatches() external view returns (uint256);

    /// @notice Next EIP-712 nonce of `owner` for {registerBySig}.
    function nonces(address owner) external view returns (uint256);

    /// @notice True when registrations start pending and need a REVIEWER's approval.
    function reviewMode() external view returns (bool);
}
