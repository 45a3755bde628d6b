// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {SignatureChecker} from "@openzeppelin/contracts/utils/cryptography/SignatureChecker.sol";
import {IAssetRegistry} from "./interfaces/IAssetRegistry.sol";
import {IGrantRegistry} from "./interfaces/IGrantRegistry.sol";

/// @title GrantRegistry — authorization grants over registered assets
/// @notice Only the asset's current owner grants and revokes: after an ERC-721 transfer the old
/// owner can do neither. Quota is consumed only by the TransactionLedger fixed at deployment,
/// which also creates the grant a licence sale settles (for the seller, who must own the asset).
///
/// Storage layout (what each slot of a grant holds):
///   _headers[grantId]      : grantee (20 B) | validFrom (uint40) | expiresAt (uint40) | status (uint8)
///   _meters[grantId]       : assetId (uint32) | quota (uint64) | used (uint64) | sequence (uint64)
///   _scopeRoots[grantId]   : scope root — written only when the grant has a scope
/// Usage reads the header and rewrites the meter in one write (never zero: the quota is at least 1).
/// The purpose is a term for people, not for the contract: it is signed, and logged in
/// {GrantCreated} (logs are part of the chain's consensus), but not kept in storage, which holds
/// what the contracts enforce. Indexers serve it from the log.
contract GrantRegistry is IGrantRegistry, EIP712 {
    /// @notice EIP-712 type hash of a grant signed by the asset owner:
    /// keccak256("Grant(uint256 assetId,address grantee,bytes32 purpose,uint64 validFrom,uint64 expiresAt,uint64 quota,bytes32 scopeRoot,uint256 nonce,uint256 deadline)")
    bytes32 public constant GRANT_TYPEHASH = 0xe170b6ed270b40e97e5a0d2f4aa8d395d0039087b4f36ed4d6f995399e06b358;

    /// @inheritdoc IGrantRegistry
    IAssetRegistry public immutable assets;
    /// @inheritdoc IGrantRegistry
    address public immutable ledger;

    struct GrantHeader {
        address grantee;
        uint40 validFrom;
        uint40 expiresAt;
        GrantStatus status;
    }

    struct Meter {
        uint32 assetId;
        uint64 quota;
        uint64 used;
        uint64 sequence;
    }

    mapping(uint256 grantId => GrantHeader) private _headers;
    mapping(uint256 grantId => Meter) private _meters;
    mapping(uint256 grantId => bytes32 scopeRoot) private _scopeRoots;
    mapping(address owner => uint256) private _nonces;
    uint256 private _grantCount;

    /// @param assets_ The asset registry.
    /// @param ledger_ The TransactionLedger that will be deployed next (its address is known in
    /// advance from the deployer's nonce; the ledger's constructor checks the match).
    constructor(IAssetRegistry assets_, address ledger_) EIP712("dataseal GrantRegistry", "2") {
        assets = assets_;
        ledger = ledger_;
    }

    /// @inheritdoc IGrantRegistry
    function grant(
        uint256 assetId,
        address grantee,
        bytes32 purpose,
        uint64 validFrom,
        uint64 expiresAt,
        uint64 quota,
        bytes32 scopeRoot
    ) external returns (uint256 grantId) {
        (address owner, IAssetRegistry.Status status) = assets.ownerAndStatus(assetId);
        return _grant(
            msg.sender,
            owner,
            status,
            GrantTerms({
                assetId: assetId,
                grantee: grantee,
                purpose: purpose,
                validFrom: validFrom,
                expiresAt: expiresAt,
                quota: quota,
                scopeRoot: scopeRoot
            })
        );
    }

    /// @inheritdoc IGrantRegistry
    function grantBySig(GrantTerms calldata terms, uint256 deadline, bytes calldata signature)
        external
        returns (uint256 grantId)
    {
        // A signature deadline is coarse (minutes to days): seconds of block-time drift do not matter.
        // slither-disable-next-line timestamp
        if (block.timestamp > deadline) {
            revert SignatureExpired(deadline, block.timestamp);
        }
        (address owner, IAssetRegistry.Status status) = assets.ownerAndStatus(terms.assetId);
        uint256 nonce = _nonces[owner];
        // GrantTerms is a static struct: abi.encode lays its fields out inline, exactly as the
        // EIP-712 encoding of the flat Grant type above.
        bytes32 digest = _hashTypedDataV4(keccak256(abi.encode(GRANT_TYPEHASH, terms, nonce, deadline)));
        if (!SignatureChecker.isValidSignatureNow(owner, digest, signature)) {
            revert InvalidSignature(owner);
        }
        _nonces[owner] = nonce + 1;
        return _grant(owner, owner, status, terms);
    }

    /// @dev The one path every grant takes: `grantor` must be the asset's `owner`, the asset active.
    /// Callers pass the owner and status they read, so that a relayed grant reads them once.
    function _grant(address grantor, address owner, IAssetRegistry.Status status, GrantTerms memory terms)
        private
        returns (uint256 grantId)
    {
        if (owner != grantor) {
            revert NotAssetOwner(terms.assetId, grantor, owner);
        }
        if (status != IAssetRegistry.Status.Active) {
            revert AssetNotActive(terms.assetId, status);
        }
        if (terms.grantee == address(0)) {
            revert InvalidGrantee(terms.grantee);
        }
        if (
            // Grants have validity windows (hours to years) by design: seconds of drift do not matter.
            // slither-disable-next-line timestamp
            terms.expiresAt <= terms.validFrom || terms.expiresAt <= block.timestamp
                || terms.expiresAt > type(uint40).max
        ) {
            revert InvalidValidity(terms.validFrom, terms.expiresAt, block.timestamp);
        }
        if (terms.quota == 0) {
            revert InvalidQuota(terms.quota);
        }
        grantId = _grantCount + 1;
        if (grantId > type(uint32).max) {
            revert IdSpaceExhausted(grantId - 1);
        }
        _grantCount = grantId;
        _headers[grantId] = GrantHeader({
            grantee: terms.grantee,
            validFrom: uint40(terms.validFrom),
            expiresAt: uint40(terms.expiresAt),
            status: GrantStatus.Active
        });
        _meters[grantId] = Meter({assetId: uint32(terms.assetId), quota: terms.quota, used: 0, sequence: 0});
        if (terms.scopeRoot != bytes32(0)) {
            _scopeRoots[grantId] = terms.scopeRoot;
        }
        emit GrantCreated(
            grantId,
            terms.assetId,
            terms.grantee,
            grantor,
            terms.purpose,
            terms.validFrom,
            terms.expiresAt,
            terms.quota,
            terms.scopeRoot
        );
    }

    /// @inheritdoc IGrantRegistry
    function grantFor(address grantor, GrantTerms calldata terms) external returns (uint256 grantId) {
        if (msg.sender != ledger) {
            revert NotLedger(msg.sender, ledger);
        }
        (address owner, IAssetRegistry.Status status) = assets.ownerAndStatus(terms.assetId);
        return _grant(grantor, owner, status, terms);
    }

    /// @inheritdoc IGrantRegistry
    function useNonce() external returns (uint256 nonce) {
        nonce = _nonces[msg.sender];
        _nonces[msg.sender] = nonce + 1;
        emit NonceUsed(msg.sender, nonce);
    }

    /// @inheritdoc IGrantRegistry
    function revoke(uint256 grantId, bytes32 reasonHash) external {
        GrantHeader storage header = _header(grantId);
        uint256 assetId = _meters[grantId].assetId;
        // The owner may revoke whatever the asset's status (a suspended asset's grants included);
        // a non-active asset's grants cannot be used anyway (consume checks the status).
        // slither-disable-next-line unused-return
        (address owner,) = assets.ownerAndStatus(assetId);
        if (owner != msg.sender) {
            revert NotAssetOwner(assetId, msg.sender, owner);
        }
        if (header.status != GrantStatus.Active) {
            revert GrantNotActive(grantId, header.status);
        }
        header.status = GrantStatus.Revoked;
        emit GrantRevoked(grantId, assetId, msg.sender, reasonHash);
    }

    /// @inheritdoc IGrantRegistry
    function consume(uint256 grantId, uint64 units)
        external
        returns (address grantee, uint64 sequence)
    {
        if (msg.sender != ledger) {
            revert NotLedger(msg.sender, ledger);
        }
        // Copies of the two slots: one read each on the path of every usage record.
        GrantHeader memory header = _headers[grantId];
        if (header.status == GrantStatus.None) {
            revert UnknownGrant(grantId);
        }
        _requireUsable(grantId, header, block.timestamp);
        if (units == 0) {
            revert InvalidUnits(grantId, units);
        }
        Meter memory meter = _meters[grantId];
        uint64 left = meter.quota - meter.used;
        if (units > left) {
            revert QuotaExceeded(grantId, units, left);
        }
        IAssetRegistry.Status status = assets.statusOf(meter.assetId);
        if (status != IAssetRegistry.Status.Active) {
            revert AssetNotActive(meter.assetId, status);
        }
        Meter storage stored = _meters[grantId];
        unchecked {
            // units <= quota - used; each record uses at least one unit, so sequence <= used < 2**64.
            sequence = meter.sequence + 1;
            (stored.used, stored.sequence) = (meter.used + units, sequence);
        }
        grantee = header.grantee;
    }

    /// @inheritdoc IGrantRegistry
    function grantOf(uint256 grantId) external view returns (Grant memory) {
        GrantHeader storage header = _header(grantId);
        Meter storage meter = _meters[grantId];
        return Grant({
            grantId: grantId,
            assetId: meter.assetId,
            grantee: header.grantee,
            validFrom: header.validFrom,
            expiresAt: header.expiresAt,
            quota: meter.quota,
            used: meter.used,
            sequence: meter.sequence,
            scopeRoot: _scopeRoots[grantId],
            status: header.status
        });
    }

    /// @inheritdoc IGrantRegistry
    function isUsable(uint256 grantId, uint256 timestamp) external view returns (bool) {
        GrantHeader storage header = _header(grantId);
        if (header.status != GrantStatus.Active || timestamp < header.validFrom || timestamp >= header.expiresAt) {
            return false;
        }
        Meter storage meter = _meters[grantId];
        if (meter.used >= meter.quota) {
            return false;
        }
        return assets.statusOf(meter.assetId) == IAssetRegistry.Status.Active;
    }

    /// @inheritdoc IGrantRegistry
    function remaining(uint256 grantId) external view returns (uint64) {
        _header(grantId);
        Meter storage meter = _meters[grantId];
        return meter.quota - meter.used;
    }

    /// @inheritdoc IGrantRegistry
    function totalGrants() external view returns (uint256) {
        return _grantCount;
    }

    /// @inheritdoc IGrantRegistry
    function nonces(address owner) external view returns (uint256) {
        return _nonces[owner];
    }

    /// @notice EIP-712 domain separator of this chain and contract (for off-chain signers).
    /// @return The separator used by {grantBySig}.
    // solhint-disable-next-line func-name-mixedcase
    function DOMAIN_SEPARATOR() external view returns (bytes32) {
        return _domainSeparatorV4();
    }

    function _header(uint256 grantId) private view returns (GrantHeader storage header) {
        header = _headers[grantId];
        if (header.status == GrantStatus.None) {
            revert UnknownGrant(grantId);
        }
    }

    function _requireUsable(uint256 grantId, GrantHeader memory header, uint256 timestamp) private pure {
        if (header.status != GrantStatus.Active) {
            revert GrantNotActive(grantId, header.status);
        }
        // Grants have validity windows by design; consume passes block.timestamp. slither reports
        // this function once for both window checks, so this one comment covers both.
        // slither-disable-next-line timestamp
        if (timestamp < header.validFrom) {
            revert GrantNotYetValid(grantId, header.validFrom, timestamp);
        }
        if (timestamp >= header.expiresAt) {
            revert GrantExpired(grantId, header.expiresAt, timestamp);
        }
    }
}
