// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IAssetRegistry} from "./IAssetRegistry.sol";

/// @title IGrantRegistry — authorization grants (授权) over registered assets
/// @notice The current owner of an active asset grants a grantee the use of it for a purpose,
/// within a validity window and up to a quota of usage units, optionally limited to a scope
/// (the Merkle root of the rows or chunks covered). Usage is metered by the TransactionLedger,
/// the only contract allowed to consume a grant's quota.
interface IGrantRegistry {
    /// @notice Stored status of a grant. Expiry and exhaustion are derived, not stored.
    enum GrantStatus {
        None,
        Active,
        Revoked
    }

    /// @notice The terms a grantor sets.
    struct GrantTerms {
        uint256 assetId;
        address grantee;
        bytes32 purpose;
        uint64 validFrom;
        uint64 expiresAt;
        uint64 quota;
        bytes32 scopeRoot;
    }

    /// @notice A grant as returned by {grantOf}. The purpose is in the {GrantCreated} log.
    struct Grant {
        uint256 grantId;
        uint256 assetId;
        address grantee;
        uint64 validFrom;
        uint64 expiresAt;
        uint64 quota;
        uint64 used;
        uint64 sequence;
        bytes32 scopeRoot;
        GrantStatus status;
    }

    /// @notice A grant was created by `grantor`, the asset's owner at that time.
    event GrantCreated(
        uint256 indexed grantId,
        uint256 indexed assetId,
        address indexed grantee,
        address grantor,
        bytes32 purpose,
        uint64 validFrom,
        uint64 expiresAt,
        uint64 quota,
        bytes32 scopeRoot
    );

    /// @notice A grant was revoked by the asset's owner; `reasonHash` hashes the reason document.
    event GrantRevoked(uint256 indexed grantId, uint256 indexed assetId, address indexed by, bytes32 reasonHash);

    /// @notice `owner` voided its unused grant signatures with nonce `nonce` (see {useNonce}).
    event NonceUsed(address indexed owner, uint256 nonce);

    /// @notice No grant has id `grantId`.
    error UnknownGrant(uint256 grantId);
    /// @notice Only the asset's current owner may grant or revoke; `caller` is not `owner`.
    error NotAssetOwner(uint256 assetId, address caller, address owner);
    /// @notice Grants are made on, and used against, active assets only.
    error AssetNotActive(uint256 assetId, IAssetRegistry.Status status);
    /// @notice The grantee must be a non-zero address.
    error InvalidGrantee(address grantee);
    /// @notice The window must end after it starts, in the future, and before 2**40.
    error InvalidValidity(uint64 validFrom, uint64 expiresAt, uint256 timestamp);
    /// @notice The quota must be at least one unit.
    error InvalidQuota(uint64 quota);
    /// @notice The grant is not active (revoked).
    error GrantNotActive(uint256 grantId, GrantStatus status);
    /// @notice The grant's window has not opened yet.
    error GrantNotYetValid(uint256 grantId, uint64 validFrom, uint256 timestamp);
    /// @notice The grant's window closed at `expiredAt`.
    error GrantExpired(uint256 grantId, uint64 expiredAt, uint256 timestamp);
    /// @notice Recording `requested` units would pass the quota; `remaining` are left.
    error QuotaExceeded(uint256 grantId, uint64 requested, uint64 remaining);
    /// @notice A usage record needs at least one unit.
    error InvalidUnits(uint256 grantId, uint64 units);
    /// @notice Only the ledger fixed at deployment may consume quota or grant for a licence sale.
    error NotLedger(address caller, address ledger);
    /// @notice The signature's deadline has passed.
    error SignatureExpired(uint256 deadline, uint256 timestamp);
    /// @notice The signature was not made by `expected` (the asset owner) over this grant, chain and contract.
    error InvalidSignature(address expected);
    /// @notice The id space (uint32) is exhausted.
    error IdSpaceExhausted(uint256 lastId);

    /// @notice Grant the use of `assetId` (caller must be its current owner; the asset active).
    /// @param purpose keccak256 of the purpose statement (用途).
    /// @param validFrom First second of use; may be in the past.
    /// @param expiresAt First second after the window; must be in the future.
    /// @param quota Usage units allowed in total (at least 1).
    /// @param scopeRoot Merkle root of the covered rows/chunks, or 0 for the whole asset.
    /// @return grantId Sequential grant id.
    function grant(
        uint256 assetId,
        address grantee,
        bytes32 purpose,
        uint64 validFrom,
        uint64 expiresAt,
        uint64 quota,
        bytes32 scopeRoot
    ) external returns (uint256 grantId);

    /// @notice Create a grant signed (EIP-712) by the asset's current owner; anyone may relay it.
    /// @param deadline Last timestamp at which the signature is valid.
    /// @param signature EIP-712 signature (or ERC-1271 for a contract owner).
    /// @return grantId Sequential grant id.
    function grantBySig(GrantTerms calldata terms, uint256 deadline, bytes calldata signature)
        external
        returns (uint256 grantId);

    /// @notice Create the grant a licence sale settles (ledger only): `grantor` is the seller, who
    /// must own the active asset; the ledger checked the seller's authority and the buyer's consent.
    /// @return grantId Sequential grant id.
    function grantFor(address grantor, GrantTerms calldata terms) external returns (uint256 grantId);

    /// @notice Void the caller's next grant signature (any signed, unused grant with it).
    /// @return nonce The nonce voided.
    function useNonce() external returns (uint256 nonce);

    /// @notice Revoke an active grant (caller must be the asset's current owner).
    function revoke(uint256 grantId, bytes32 reasonHash) external;

    /// @notice Consume `units` of a grant's quota (ledger only): checks status, window, quota, asset.
    /// @return grantee The grantee, for the ledger's caller check.
    /// @return sequence This record's per-grant sequence number (1, 2, ...).
    function consume(uint256 grantId, uint64 units)
        external
        returns (address grantee, uint64 sequence);

    /// @notice The grant `grantId`; reverts {UnknownGrant}.
    function grantOf(uint256 grantId) external view returns (Grant memory);

    /// @notice True when the grant could record usage at `timestamp` (active, in window, quota left,
    /// asset active now).
    function isUsable(uint256 grantId, uint256 timestamp) external view returns (bool);

    /// @notice Units left of the grant's quota.
    function remaining(uint256 grantId) external view returns (uint64);

    /// @notice Number of grants (the last grant id).
    function totalGrants() external view returns (uint256);

    /// @notice Next EIP-712 nonce of `owner` for {grantBySig}.
    function nonces(address owner) external view returns (uint256);

    /// @notice The asset registry grants refer to.
    function assets() external view returns (IAssetRegistry);

    /// @notice The ledger allowed to consume quota.
    function ledger() external view returns (address);
}
