// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {AccessControlDefaultAdminRules} from
    "@openzeppelin/contracts/access/extensions/AccessControlDefaultAdminRules.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";
import {SignatureChecker} from "@openzeppelin/contracts/utils/cryptography/SignatureChecker.sol";
import {IERC721} from "@openzeppelin/contracts/token/ERC721/IERC721.sol";
import {IAssetRegistry} from "./interfaces/IAssetRegistry.sol";
import {AssetToken} from "./token/AssetToken.sol";

/// @title AssetRegistry — data-asset registrations, one ERC-721 token each
/// @notice No proxy, no admin rewrite: a registration's root, manifest hash, registrant and time
/// never change, and no record is erased. The admin role only appoints reviewers, and is handed
/// over in two steps after a delay (OpenZeppelin's AccessControlDefaultAdminRules).
///
/// Storage layout (what each slot of a registration holds):
///   _records[contentRoot] slot 0: owner (20 B) | registeredAt (uint40) | assetId (uint32)
///                                 | rightsType (uint8; bit 7 = has an expiry) | classification (uint8)
///                                 | status (uint8)
///   _records[contentRoot] slot 1: manifestHash
///   _contentRoots[assetId]      : contentRoot (the id → record link)
///   _accounts[owner]            : balance (uint128) | EIP-712 nonce (uint128)
///   _parents[assetId]           : parentId (uint32) | lineage — written only when there is a parent
///   _expiries[assetId]          : validUntil — written only when the registration expires
///   _registrants[assetId]       : registrant — written only at the first transfer away from it
///   _released[assetId]          : the record (both slots), moved here when it is rejected or
///                                 cancelled so that its root is free for a new registration
///   _commitments[commitment]    : when it was made — only where commitments are required
/// A freed root may keep a marker in its slot 0 (assetId 0, so nothing holds it): registeredAt =
/// until when, owner = the account a reviewer reserved it for, or zero while it cools after a
/// cancellation (nobody may register it then; slot 1 then names the cancelled asset).
/// A plain registration therefore writes three new slots, the owner's account slot and the
/// shared id counter. What follows from deployment constants (a notice period's end) is not
/// stored: the status readers see is derived from the stored one, the time and those constants.
contract AssetRegistry is IAssetRegistry, AssetToken, AccessControlDefaultAdminRules, EIP712 {
    /// @notice Role allowed to reject, resolve disputes, suspend, reinstate and (in review mode) renew.
    bytes32 public constant REVIEWER_ROLE = keccak256("REVIEWER_ROLE");

    /// @notice EIP-712 type hash of a registration request signed by its owner:
    /// keccak256("Register(address owner,bytes32 contentRoot,bytes32 manifestHash,uint8 rightsType,uint8 classification,uint256 parentId,uint64 validUntil,uint256 nonce,uint256 deadline)")
    bytes32 public constant REGISTER_TYPEHASH = keccak256(
        "Register(address owner,bytes32 contentRoot,bytes32 manifestHash,uint8 rightsType,uint8 classification,uint256 parentId,uint64 validUntil,uint256 nonce,uint256 deadline)"
    );

    /// @notice Rights-type bits: 1 holding (数据资源持有), 2 processing/use (数据加工使用),
    /// 4 product operation (数据产品经营).
    uint8 public constant RIGHTS_MASK = 0x07;
    /// @notice Highest classification level: 0 public, 1 general, 2 important, 3 core.
    uint8 public constant MAX_CLASSIFICATION = 3;
    /// @notice Most members one batch may declare.
    uint256 public constant MAX_BATCH_COUNT = type(uint24).max;
    /// @notice How long a root freed by a reviewer stays reserved for the account the reviewer named.
    uint256 public constant RESERVATION_PERIOD = 30 days;
    /// @notice How long a cancelled registration's root cools before anyone may register it again.
    uint256 public constant CANCEL_COOLDOWN = 7 days;
    /// @dev Bit of the stored rights byte telling that the registration has an entry in `_expiries`.
    uint8 private constant EXPIRES = 0x80;
    /// @dev Bit offsets of slot 0's fields (see the layout above).
    uint256 private constant REGISTERED_AT_SHIFT = 160;
    uint256 private constant ASSET_ID_SHIFT = 200;
    uint256 private constant RIGHTS_SHIFT = 232;
    uint256 private constant STATUS_SHIFT = 248;

    uint256 private immutable _noticePeriod;
    uint256 private immutable _minCommitAge;
    uint256 private immutable _maxCommitAge;
    /// @inheritdoc IAssetRegistry
    address public immutable ledger;

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
        uint24 count;
        bytes32 manifestHash;
        bytes32 batchRoot;
    }

    struct Counters {
        uint32 assets;
        uint32 batches;
    }

    mapping(bytes32 contentRoot => Record) private _records;
    mapping(uint256 assetId => Record) private _released;
    mapping(uint256 assetId => bytes32 contentRoot) private _contentRoots;
    mapping(uint256 assetId => ParentLink) private _parents;
    mapping(uint256 assetId => uint64 validUntil) private _expiries;
    mapping(uint256 assetId => address registrant) private _registrants;
    mapping(address owner => Account) private _accounts;
    mapping(bytes32 commitment => uint256 committedAt) private _commitments;
    mapping(uint256 batchId => BatchRecord) private _batches;
    Counters private _counters;

    /// @param admin Account that may appoint and remove reviewers; never zero.
    /// @param config Notice period, commitment ages and the admin handover delay (see {Config}).
    /// @param ledger_ The TransactionLedger deployed two transactions later (its address is known
    /// in advance from the deployer's nonce; the ledger's constructor checks the match).
    /// @param baseTokenURI Prefix of `tokenURI` (the public verify page), or "" for none.
    constructor(address admin, Config memory config, address ledger_, string memory baseTokenURI)
        AssetToken("dataseal data asset", "SEAL", baseTokenURI)
        AccessControlDefaultAdminRules(config.adminDelay, admin)
        EIP712("dataseal AssetRegistry", "2")
    {
        bool commits = config.maxCommitAge != 0;
        if (
            ledger_ == address(0) || (commits && (config.minCommitAge == 0 || config.minCommitAge >= config.maxCommitAge))
                || (!commits && config.minCommitAge != 0)
        ) {
            revert InvalidConfig();
        }
        _noticePeriod = config.noticePeriod;
        _minCommitAge = config.minCommitAge;
        _maxCommitAge = config.maxCommitAge;
        ledger = ledger_;
    }

    // ------------------------------------------------------------------ commitments

    /// @inheritdoc IAssetRegistry
    function commit(bytes32 commitment) external {
        if (_maxCommitAge == 0) {
            revert CommitmentsNotRequired();
        }
        uint256 at = _commitments[commitment];
        // Commitment ages are minutes to days: seconds of block-time drift do not matter.
        // slither-disable-next-line timestamp
        if (at != 0 && block.timestamp <= at + _maxCommitAge) {
            revert CommitmentExists(commitment, at + _maxCommitAge);
        }
        _commitments[commitment] = block.timestamp;
        emit Committed(commitment, msg.sender);
    }

    /// @inheritdoc IAssetRegistry
    function makeCommitment(bytes32 contentRoot, address owner, bytes32 salt) public pure returns (bytes32) {
        return keccak256(abi.encode(contentRoot, owner, salt));
    }

    /// @inheritdoc IAssetRegistry
    function committedAt(bytes32 commitment) external view returns (uint256) {
        return _commitments[commitment];
    }

    /// @dev Consume the aged commitment of (`contentRoot`, `owner`, `salt`).
    function _reveal(bytes32 contentRoot, address owner, bytes32 salt) private {
        bytes32 commitment = makeCommitment(contentRoot, owner, salt);
        uint256 at = _commitments[commitment];
        if (at == 0) {
            revert CommitmentNotFound(commitment);
        }
        // Commitment ages are a minute to days: seconds of block-time drift do not matter.
        // slither-disable-next-line timestamp
        if (block.timestamp < at + _minCommitAge) {
            revert CommitmentTooNew(commitment, at + _minCommitAge, block.timestamp);
        }
        if (block.timestamp > at + _maxCommitAge) {
            revert CommitmentTooOld(commitment, at + _maxCommitAge, block.timestamp);
        }
        delete _commitments[commitment];
    }

    // ------------------------------------------------------------------ registration

    /// @inheritdoc IAssetRegistry
    function register(Registration calldata registration, bytes32 salt) external returns (uint256 assetId) {
        return _register(msg.sender, registration, salt, _derivedLineage(registration.parentId));
    }

    /// @inheritdoc IAssetRegistry
    function registerVersion(Registration calldata registration, bytes32 salt) external returns (uint256 assetId) {
        uint256 parentId = registration.parentId;
        Record storage parent = _recordOf(parentId);
        address parentOwner = parent.owner;
        if (parentOwner != msg.sender) {
            revert NotAssetOwner(parentId, msg.sender, parentOwner);
        }
        _requireActiveParent(parent, parentId);
        return _register(msg.sender, registration, salt, Lineage.Version);
    }

    /// @inheritdoc IAssetRegistry
    function registerBySig(
        address owner,
        Registration calldata registration,
        bytes32 salt,
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
        // Registration is a static struct: abi.encode lays its fields out inline, exactly as the
        // EIP-712 encoding of the flat Register type above.
        bytes32 digest = _hashTypedDataV4(keccak256(abi.encode(REGISTER_TYPEHASH, owner, registration, nonce, deadline)));
        if (!SignatureChecker.isValidSignatureNow(owner, digest, signature)) {
            revert InvalidSignature(owner);
        }
        account.nonce = uint128(nonce + 1);
        return _register(owner, registration, salt, _derivedLineage(registration.parentId));
    }

    /// @dev Lineage of a registration naming `parentId` outside {registerVersion}: derived, from an active parent.
    function _derivedLineage(uint256 parentId) private view returns (Lineage) {
        if (parentId == 0) {
            return Lineage.None;
        }
        _requireActiveParent(_recordOf(parentId), parentId);
        return Lineage.Derived;
    }

    function _requireActiveParent(Record storage parent, uint256 parentId) private view {
        Status status = _statusNow(parent, parentId);
        if (status != Status.Active) {
            revert ParentNotActive(parentId, status);
        }
    }

    /// @dev The one path every registration takes: reveal, validate, claim the root, write, emit.
    function _register(address owner, Registration calldata registration, bytes32 salt, Lineage lineage)
        private
        returns (uint256 assetId)
    {
        bytes32 contentRoot = registration.contentRoot;
        if (_maxCommitAge != 0) {
            _reveal(contentRoot, owner, salt);
        }
        uint8 rightsType = registration.rightsType;
        uint64 validUntil = registration.validUntil;
        if (contentRoot == bytes32(0)) {
            revert InvalidContentRoot(contentRoot);
        }
        if (registration.manifestHash == bytes32(0)) {
            revert InvalidManifestHash(registration.manifestHash);
        }
        if (rightsType == 0 || rightsType & ~RIGHTS_MASK != 0) {
            revert InvalidRightsType(rightsType);
        }
        if (registration.classification > MAX_CLASSIFICATION) {
            revert InvalidClassification(registration.classification);
        }
        // Validity is years by design: seconds of drift do not matter. A certification must
        // outlive the notice period, or it would expire before it was ever active.
        // slither-disable-next-line timestamp
        if (validUntil != 0 && validUntil <= block.timestamp + _noticePeriod) {
            revert InvalidValidity(validUntil, block.timestamp + _noticePeriod);
        }
        uint256 held = _word(_records[contentRoot]);
        if (held != 0) {
            _requireFree(contentRoot, held, owner);
        }
        assetId = uint256(_counters.assets) + 1;
        if (assetId > type(uint32).max) {
            revert IdSpaceExhausted(assetId - 1);
        }
        _counters.assets = uint32(assetId);

        Status status = _noticePeriod != 0 ? Status.Pending : Status.Active;
        _records[contentRoot] = Record({
            owner: owner,
            registeredAt: uint40(block.timestamp),
            assetId: uint32(assetId),
            rightsType: validUntil != 0 ? rightsType | EXPIRES : rightsType,
            classification: registration.classification,
            status: status,
            manifestHash: registration.manifestHash
        });
        _contentRoots[assetId] = contentRoot;
        if (lineage != Lineage.None) {
            _parents[assetId] = ParentLink({parentId: uint32(registration.parentId), lineage: lineage});
        }
        if (validUntil != 0) {
            _expiries[assetId] = validUntil;
        }
        unchecked {
            // A balance cannot reach 2**128: there are at most 2**32 assets.
            _accounts[owner].balance += 1;
        }
        emit Transfer(address(0), owner, assetId);
        _emitRegistered(assetId, owner, registration, status, lineage);
    }

    /// @dev {AssetRegistered} of a registration just written (a function of its own: the stack).
    function _emitRegistered(
        uint256 assetId,
        address owner,
        Registration calldata registration,
        Status status,
        Lineage lineage
    ) private {
        emit AssetRegistered(
            assetId,
            owner,
            registration.contentRoot,
            registration.manifestHash,
            registration.rightsType,
            registration.classification,
            status,
            registration.parentId,
            lineage,
            uint64(block.timestamp),
            registration.validUntil
        );
    }

    /// @dev Slot 0 of a root's record is non-zero: either a standing registration holds the root,
    /// or a reviewer reserved the freed root for its true owner (owner = beneficiary,
    /// registeredAt = end of the reservation, assetId 0).
    function _requireFree(bytes32 contentRoot, uint256 held, address owner) private view {
        uint32 existing = uint32(held >> ASSET_ID_SHIFT);
        if (existing != 0) {
            revert AssetAlreadyRegistered(contentRoot, existing);
        }
        address beneficiary = address(uint160(held));
        uint256 reservedUntil = uint40(held >> REGISTERED_AT_SHIFT);
        // Reservations last weeks: seconds of drift do not matter.
        // slither-disable-next-line timestamp
        if (owner != beneficiary && block.timestamp < reservedUntil) {
            revert RootReservedFor(contentRoot, beneficiary, reservedUntil);
        }
    }

    // ------------------------------------------------------------------ status

    /// @inheritdoc IAssetRegistry
    function cancel(uint256 assetId, bytes32 reasonHash) external {
        Record storage record = _recordOf(assetId);
        if (record.owner != msg.sender) {
            revert NotAssetOwner(assetId, msg.sender, record.owner);
        }
        Status from = _statusNow(record, assetId);
        // A suspended or disputed registration waits for a reviewer: cancelling would free the
        // root and let its holder register it again around the dispute.
        if (from != Status.Pending && from != Status.Active && from != Status.Expired) {
            revert InvalidStatusTransition(assetId, from, Status.Cancelled);
        }
        _release(record, assetId, from, Status.Cancelled, reasonHash, address(0));
        // The root cools before anyone may register it again: a holder who cancels to dodge a
        // reviewer's pending decision cannot take it straight back, and the reviewer can still
        // strike the cancelled registration off and reserve the root (rejectRegistration).
        Record storage marker = _records[_contentRoots[assetId]];
        marker.registeredAt = uint40(block.timestamp + CANCEL_COOLDOWN);
        // The marker names the cancelled registration (in slot 1), so that only it can be struck off.
        marker.manifestHash = bytes32(assetId);
    }

    /// @inheritdoc IAssetRegistry
    function object(uint256 assetId, bytes32 evidenceHash) external {
        Record storage record = _recordOf(assetId);
        Status status = record.status;
        uint256 noticeEndsAt = uint256(record.registeredAt) + _noticePeriod;
        // Notice periods are days by design: seconds of drift do not matter.
        // slither-disable-next-line timestamp
        if ((status != Status.Pending && status != Status.Disputed) || block.timestamp >= noticeEndsAt) {
            revert NotInNotice(assetId, _statusNow(record, assetId), noticeEndsAt);
        }
        if (evidenceHash == bytes32(0)) {
            revert InvalidEvidence(evidenceHash);
        }
        if (status == Status.Pending) {
            _setStatus(record, assetId, status, Status.Disputed, evidenceHash);
        }
        emit ObjectionFiled(assetId, msg.sender, evidenceHash);
    }

    /// @inheritdoc IAssetRegistry
    function resolveDispute(uint256 assetId, bool upheld, bytes32 reasonHash, address reserveFor)
        external
        onlyRole(REVIEWER_ROLE)
    {
        Record storage record = _recordOf(assetId);
        Status from = record.status;
        if (upheld) {
            if (from != Status.Disputed) {
                revert InvalidStatusTransition(assetId, _statusNow(record, assetId), Status.Rejected);
            }
            _release(record, assetId, from, Status.Rejected, reasonHash, reserveFor);
            return;
        }
        // Notice periods are days by design: seconds of drift do not matter.
        // slither-disable-next-line timestamp
        Status to = block.timestamp >= uint256(record.registeredAt) + _noticePeriod ? Status.Active : Status.Pending;
        if (from != Status.Disputed) {
            revert InvalidStatusTransition(assetId, _statusNow(record, assetId), to);
        }
        if (reserveFor != address(0)) {
            revert InvalidReservation(reserveFor);
        }
        _setStatus(record, assetId, from, to, reasonHash);
    }

    /// @inheritdoc IAssetRegistry
    function rejectRegistration(uint256 assetId, bytes32 reasonHash, address reserveFor)
        external
        onlyRole(REVIEWER_ROLE)
    {
        Record storage record = _recordOf(assetId);
        Status from = _statusNow(record, assetId);
        if (from == Status.Cancelled && _cooling(assetId)) {
            // Cancelled (perhaps to dodge this very decision) while its root cools: struck off all
            // the same. The record is already released; only its status moves.
            record.status = Status.Rejected;
            emit AssetStatusChanged(assetId, from, Status.Rejected, msg.sender, reasonHash);
            _reserve(assetId, reserveFor);
            return;
        }
        if (from != Status.Pending && from != Status.Disputed && from != Status.Suspended) {
            revert InvalidStatusTransition(assetId, from, Status.Rejected);
        }
        _release(record, assetId, from, Status.Rejected, reasonHash, reserveFor);
    }

    /// @dev Whether the root of `assetId` is cooling after a cancellation (no holder, no beneficiary,
    /// the cooldown running).
    function _cooling(uint256 assetId) private view returns (bool) {
        Record storage record = _records[_contentRoots[assetId]];
        if (uint256(record.manifestHash) != assetId) {
            return false;
        }
        uint256 marker = _word(record);
        // The cooldown is days: seconds of drift do not matter.
        // slither-disable-next-line timestamp
        return uint160(marker) == 0 && uint32(marker >> ASSET_ID_SHIFT) == 0
            && uint40(marker >> REGISTERED_AT_SHIFT) > block.timestamp;
    }

    /// @inheritdoc IAssetRegistry
    function suspend(uint256 assetId, bytes32 reasonHash) external onlyRole(REVIEWER_ROLE) {
        Record storage record = _recordOf(assetId);
        Status from = _statusNow(record, assetId);
        // An expired registration can be frozen too: otherwise its owner could cancel it (freeing
        // the root) or renew it while a dispute is open.
        if (from != Status.Active && from != Status.Expired) {
            revert InvalidStatusTransition(assetId, from, Status.Suspended);
        }
        _setStatus(record, assetId, from, Status.Suspended, reasonHash);
    }

    /// @inheritdoc IAssetRegistry
    function reinstate(uint256 assetId, bytes32 reasonHash) external onlyRole(REVIEWER_ROLE) {
        Record storage record = _recordOf(assetId);
        Status from = _statusNow(record, assetId);
        if (from != Status.Suspended) {
            revert InvalidStatusTransition(assetId, from, Status.Active);
        }
        _setStatus(record, assetId, from, Status.Active, reasonHash);
    }

    /// @inheritdoc IAssetRegistry
    function renew(uint256 assetId, uint64 validUntil) external {
        Record storage record = _recordOf(assetId);
        if (_noticePeriod != 0) {
            _checkRole(REVIEWER_ROLE);
        } else if (record.owner != msg.sender) {
            revert NotAssetOwner(assetId, msg.sender, record.owner);
        }
        if (record.rightsType & EXPIRES == 0) {
            revert NoExpiry(assetId);
        }
        Status status = _statusNow(record, assetId);
        if (status != Status.Active && status != Status.Expired) {
            revert InvalidStatusTransition(assetId, status, Status.Active);
        }
        uint64 previous = _expiries[assetId];
        // Validity is years by design: seconds of drift do not matter.
        // slither-disable-next-line timestamp
        if (validUntil <= block.timestamp || validUntil <= previous) {
            revert InvalidValidity(validUntil, previous > block.timestamp ? previous : block.timestamp);
        }
        _expiries[assetId] = validUntil;
        emit AssetRenewed(assetId, previous, validUntil, msg.sender);
    }

    function _setStatus(Record storage record, uint256 assetId, Status from, Status to, bytes32 reasonHash)
        private
    {
        record.status = to;
        emit AssetStatusChanged(assetId, from, to, msg.sender, reasonHash);
    }

    /// @dev Move a record that stops standing (rejected or cancelled) out of its root's slot into
    /// `_released`, unchanged but for its status: the history stays, the root is free — or, when a
    /// reviewer names `reserveFor`, reserved for that account for RESERVATION_PERIOD, so that the
    /// holder it was taken from cannot register it straight back.
    function _release(
        Record storage record,
        uint256 assetId,
        Status from,
        Status to,
        bytes32 reasonHash,
        address reserveFor
    ) private {
        record.status = to;
        _released[assetId] = record;
        delete _records[_contentRoots[assetId]];
        emit AssetStatusChanged(assetId, from, to, msg.sender, reasonHash);
        _reserve(assetId, reserveFor);
    }

    /// @dev Reserve the (free) root of `assetId` for `reserveFor` during RESERVATION_PERIOD; nothing when zero.
    function _reserve(uint256 assetId, address reserveFor) private {
        if (reserveFor != address(0)) {
            bytes32 contentRoot = _contentRoots[assetId];
            uint256 reservedUntil = block.timestamp + RESERVATION_PERIOD;
            Record storage marker = _records[contentRoot];
            marker.owner = reserveFor;
            marker.registeredAt = uint40(reservedUntil);
            emit RootReserved(contentRoot, reserveFor, assetId, uint64(reservedUntil));
        }
    }

    /// @dev The status readers see: a pending registration whose notice passed is active; an
    /// active one past its validity is expired. Only stored statuses move by transactions.
    function _statusNow(Record storage record, uint256 assetId) private view returns (Status) {
        return _statusOfWord(_word(record), assetId);
    }

    /// @dev {_statusNow} from slot 0 of the record, already read (the hot path of every usage
    /// record reads it once: see {_load}).
    function _statusOfWord(uint256 word, uint256 assetId) private view returns (Status) {
        uint256 status = word >> STATUS_SHIFT;
        // Notice periods and validity are days to years by design: seconds of drift do not matter.
        // slither-disable-next-line timestamp
        if (status == uint256(Status.Pending) && block.timestamp >= uint40(word >> REGISTERED_AT_SHIFT) + _noticePeriod) {
            status = uint256(Status.Active);
        }
        if (
            status == uint256(Status.Active) && (word >> RIGHTS_SHIFT) & EXPIRES != 0
                && block.timestamp >= _expiries[assetId]
        ) {
            status = uint256(Status.Expired);
        }
        return Status(status);
    }

    /// @dev Slot 0 of a record as one word (layout at the top of this contract).
    function _word(Record storage record) private view returns (uint256 word) {
        // One SLOAD instead of one per field: this is on the path of every usage record.
        // solhint-disable-next-line no-inline-assembly
        assembly ("memory-safe") {
            word := sload(record.slot)
        }
    }

    // ------------------------------------------------------------------ signatures and sales

    /// @inheritdoc IAssetRegistry
    function useNonce() external returns (uint256 nonce) {
        Account storage account = _accounts[msg.sender];
        nonce = account.nonce;
        account.nonce = uint128(nonce + 1);
        emit NonceUsed(msg.sender, nonce);
    }

    /// @inheritdoc IAssetRegistry
    function settleTransfer(address seller, address buyer, uint256 assetId) external {
        if (msg.sender != ledger) {
            revert NotLedger(msg.sender, ledger);
        }
        // The ledger checked that the seller owns the asset, that it is active, and that the
        // buyer (non-zero, not the seller) countersigned; the owner is checked again here, cheaply,
        // because the balances below move unchecked.
        address owner = _ownerOf(assetId);
        if (owner != seller) {
            revert ERC721IncorrectOwner(seller, assetId, owner);
        }
        _transferToken(seller, buyer, assetId);
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
        batchId = uint256(_counters.batches) + 1;
        if (batchId > type(uint32).max) {
            revert IdSpaceExhausted(batchId - 1);
        }
        _counters.batches = uint32(batchId);
        _batches[batchId] = BatchRecord({
            anchorer: msg.sender,
            anchoredAt: uint40(block.timestamp),
            count: uint24(count),
            manifestHash: manifestHash,
            batchRoot: batchRoot
        });
        emit BatchAnchored(batchId, msg.sender, batchRoot, manifestHash, count, uint64(block.timestamp));
    }

    /// @inheritdoc IAssetRegistry
    function verifyBatchMember(uint256 batchId, bytes32 valuesHash, bytes32[] calldata proof)
        external
        view
        returns (bool)
    {
        return _verifyMember(batchId, valuesHash, proof);
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
        return _verifyMember(batchId, keccak256(abi.encode(contentRoot, manifestHash, rightsType, classification)), proof);
    }

    /// @dev The standard-v1 leaf is keccak256(bytes.concat(valuesHash)): hashed here, never taken as given.
    function _verifyMember(uint256 batchId, bytes32 valuesHash, bytes32[] calldata proof) private view returns (bool) {
        bytes32 batchRoot = _batches[batchId].batchRoot;
        // A zero root means "no such batch" (anchorBatch refuses zero roots), not a balance-like value.
        // slither-disable-next-line incorrect-equality
        if (batchRoot == bytes32(0)) {
            revert UnknownBatch(batchId);
        }
        return MerkleProof.verifyCalldata(proof, batchRoot, keccak256(bytes.concat(valuesHash)));
    }

    // ------------------------------------------------------------------ views

    /// @inheritdoc IAssetRegistry
    function assetOf(uint256 assetId) external view returns (Asset memory asset) {
        Record storage record = _recordOf(assetId);
        ParentLink memory parent = _parents[assetId];
        address registrant = _registrants[assetId];
        uint256 registeredAt = record.registeredAt;
        asset = Asset({
            assetId: assetId,
            contentRoot: _contentRoots[assetId],
            manifestHash: record.manifestHash,
            owner: record.owner,
            registrant: registrant == address(0) ? record.owner : registrant,
            registeredAt: uint64(registeredAt),
            rightsType: record.rightsType & RIGHTS_MASK,
            classification: record.classification,
            status: _statusNow(record, assetId),
            parentId: parent.parentId,
            lineage: parent.lineage,
            validUntil: _expiries[assetId],
            noticeEndsAt: _noticePeriod != 0 ? uint64(registeredAt + _noticePeriod) : 0
        });
    }

    /// @inheritdoc IAssetRegistry
    function assetIdOf(bytes32 contentRoot) external view returns (uint256) {
        return _records[contentRoot].assetId;
    }

    /// @inheritdoc IAssetRegistry
    function reservationOf(bytes32 contentRoot) external view returns (address beneficiary, uint256 until) {
        uint256 word = _word(_records[contentRoot]);
        until = uint40(word >> REGISTERED_AT_SHIFT);
        // Reservations and cooldowns last days: seconds of drift do not matter.
        // slither-disable-next-line timestamp
        if (uint32(word >> ASSET_ID_SHIFT) != 0 || until <= block.timestamp) {
            return (address(0), 0);
        }
        return (address(uint160(word)), until);
    }

    /// @inheritdoc IAssetRegistry
    function ownerAndStatus(uint256 assetId) external view returns (address owner, Status status) {
        (, uint256 word) = _load(assetId);
        return (address(uint160(word)), _statusOfWord(word, assetId));
    }

    /// @inheritdoc IAssetRegistry
    function statusOf(uint256 assetId) external view returns (Status) {
        (, uint256 word) = _load(assetId);
        return _statusOfWord(word, assetId);
    }

    /// @inheritdoc IAssetRegistry
    function batchOf(uint256 batchId) external view returns (Batch memory) {
        BatchRecord storage batch = _batches[batchId];
        bytes32 batchRoot = batch.batchRoot;
        if (batchRoot == bytes32(0)) {
            revert UnknownBatch(batchId);
        }
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

    /// @inheritdoc IAssetRegistry
    function reviewMode() external view returns (bool) {
        return _noticePeriod != 0;
    }

    /// @inheritdoc IAssetRegistry
    function noticePeriod() external view returns (uint256) {
        return _noticePeriod;
    }

    /// @inheritdoc IAssetRegistry
    function commitRequired() external view returns (bool) {
        return _maxCommitAge != 0;
    }

    /// @inheritdoc IAssetRegistry
    function minCommitAge() external view returns (uint256) {
        return _minCommitAge;
    }

    /// @inheritdoc IAssetRegistry
    function maxCommitAge() external view returns (uint256) {
        return _maxCommitAge;
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
    function supportsInterface(bytes4 interfaceId)
        public
        view
        override(AssetToken, AccessControlDefaultAdminRules)
        returns (bool)
    {
        return AssetToken.supportsInterface(interfaceId) || AccessControlDefaultAdminRules.supportsInterface(interfaceId);
    }

    // ------------------------------------------------------------------ records and token hooks

    /// @dev The record of `assetId`: standing (under its root) or released; reverts {UnknownAsset}.
    function _recordOf(uint256 assetId) private view returns (Record storage record) {
        (record,) = _load(assetId);
    }

    /// @dev {_recordOf} and its slot 0, read once.
    function _load(uint256 assetId) private view returns (Record storage record, uint256 word) {
        record = _records[_contentRoots[assetId]];
        word = _word(record);
        if (uint32(word >> ASSET_ID_SHIFT) == assetId && assetId != 0) {
            return (record, word);
        }
        record = _released[assetId];
        word = _word(record);
        if (uint32(word >> ASSET_ID_SHIFT) == 0) {
            revert UnknownAsset(assetId);
        }
    }

    /// @dev Unknown ids have no record: owner is zero.
    function _ownerOf(uint256 tokenId) internal view override returns (address) {
        Record storage record = _records[_contentRoots[tokenId]];
        if (record.assetId == tokenId && tokenId != 0) {
            return record.owner;
        }
        return _released[tokenId].owner;
    }

    /// @dev Moves ownership inside the record; the registrant is kept the first time it leaves.
    /// Only standing registrations (active or pending) move, so the record is under its root.
    function _moveToken(uint256 tokenId, address from, address to) internal override {
        Record storage record = _recordOf(tokenId);
        Status status = _statusNow(record, tokenId);
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
