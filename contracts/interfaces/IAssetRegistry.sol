// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @title IAssetRegistry — registered data assets, one ERC-721 token each
/// @notice A registration binds a dataset's content root (the Merkle root of its data) and
/// manifest hash to a registrant and a time. The first registrant of a root holds it while its
/// registration stands; a registration that is rejected or cancelled stays in history, never
/// erased, but no longer holds its root, so the true owner can then register it. Records are never
/// rewritten; only their status moves, each move an event.
///
/// Lifecycle. Without review every registration is active at once. In review mode (a notice
/// period chosen at deployment) a registration is pending for its public notice period, during
/// which anyone may object with the hash of their evidence (the registration becomes disputed)
/// and a reviewer may reject it. When the notice period passes without an objection, the
/// registration is active without another transaction: public notice is the check, and silence
/// through it is the decision (the pilots' rule: no objection when the notice ends, then the
/// certificate), so an owner whose registration draws no objection never waits on a reviewer. A
/// disputed registration waits for a reviewer, who resolves the dispute: upheld, the registration
/// is rejected (its root freed, or reserved for the true owner); dismissed, it continues (active if
/// its notice is over).
/// Active assets may be suspended and reinstated, or struck off (rejected) while suspended. A
/// registration may carry an expiry of its certification: past it, readers see `Expired` until
/// it is renewed.
///
/// Front-running. On a deployment that requires commitments, a registration reveals a
/// commitment `keccak256(abi.encode(contentRoot, owner, salt))` made at least `minCommitAge` and
/// at most `maxCommitAge` seconds earlier (ENS's registrar pattern): a watcher who copies the root
/// from the revealing transaction has no aged commitment of its own.
interface IAssetRegistry {
    /// @notice Lifecycle of a registration. `None` means "no such asset". `Pending` is a
    /// registration in its notice period; `Expired` is derived (an active asset past its validity).
    enum Status {
        None,
        Pending,
        Active,
        Suspended,
        Cancelled,
        Rejected,
        Disputed,
        Expired
    }

    /// @notice How an asset relates to its parent. `None` when it has no parent.
    enum Lineage {
        None,
        Version,
        Derived
    }

    /// @notice What a registrant declares (and, for {registerBySig}, signs).
    /// @param contentRoot Merkle root of the data (StandardMerkleTree standard-v1); never zero.
    /// @param manifestHash keccak256 of the canonical manifest JSON; never zero.
    /// @param rightsType Bitmask: 1 holding, 2 processing/use, 4 product operation.
    /// @param classification 0 public, 1 general, 2 important, 3 core.
    /// @param parentId The parent asset (a version's or a derived asset's), or 0.
    /// @param validUntil First second the certification is no longer valid, or 0 for no expiry.
    struct Registration {
        bytes32 contentRoot;
        bytes32 manifestHash;
        uint8 rightsType;
        uint8 classification;
        uint256 parentId;
        uint64 validUntil;
    }

    /// @notice Deployment constants.
    /// @param adminDelay Seconds a new admin waits before accepting the role (two-step handover).
    /// @param noticePeriod Seconds of public notice after each registration; 0 turns review off.
    /// @param minCommitAge Youngest commitment a registration may reveal (seconds; >= 1 when required).
    /// @param maxCommitAge Oldest commitment a registration may reveal; 0 means commitments are not required.
    struct Config {
        uint48 adminDelay;
        uint32 noticePeriod;
        uint32 minCommitAge;
        uint32 maxCommitAge;
    }

    /// @notice A registration as returned by {assetOf}; `status` is the status now (derived:
    /// a pending registration past its notice is Active, an active one past `validUntil` Expired).
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
        uint64 validUntil;
        uint64 noticeEndsAt;
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

    /// @notice A registration was recorded. Together with ERC-721 `Transfer` events, status
    /// changes, objections and renewals this rebuilds every record from logs alone. In review
    /// mode its notice ends at `registeredAt + noticePeriod()`.
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
        uint64 registeredAt,
        uint64 validUntil
    );

    /// @notice An asset's status moved; `reasonHash` is the hash of the off-chain reason document.
    event AssetStatusChanged(
        uint256 indexed assetId, Status from, Status to, address indexed by, bytes32 reasonHash
    );

    /// @notice `objector` objected to a registration in its notice period; `evidenceHash` hashes the evidence.
    event ObjectionFiled(uint256 indexed assetId, address indexed objector, bytes32 evidenceHash);

    /// @notice The certification of `assetId` was renewed from `previousValidUntil` to `validUntil`.
    event AssetRenewed(uint256 indexed assetId, uint64 previousValidUntil, uint64 validUntil, address indexed by);

    /// @notice A reviewer rejected `assetId` and reserved its root for `beneficiary` until `reservedUntil`.
    event RootReserved(
        bytes32 indexed contentRoot, address indexed beneficiary, uint256 indexed assetId, uint64 reservedUntil
    );

    /// @notice A registration commitment was made (see {makeCommitment}).
    event Committed(bytes32 indexed commitment, address indexed by);

    /// @notice `owner` voided its unused signatures with nonce `nonce` (see {useNonce}).
    event NonceUsed(address indexed owner, uint256 nonce);

    /// @notice A batch of asset records was committed by its Merkle root.
    event BatchAnchored(
        uint256 indexed batchId,
        address indexed anchorer,
        bytes32 indexed batchRoot,
        bytes32 manifestHash,
        uint32 count,
        uint64 anchoredAt
    );

    /// @notice The content root is held by the standing registration `assetId`.
    error AssetAlreadyRegistered(bytes32 contentRoot, uint256 assetId);
    /// @notice No asset has id `assetId`.
    error UnknownAsset(uint256 assetId);
    /// @notice Only the asset's current owner may do this; `caller` is not `owner`.
    error NotAssetOwner(uint256 assetId, address caller, address owner);
    /// @notice The asset's status `from` does not allow a move to `to`.
    error InvalidStatusTransition(uint256 assetId, Status from, Status to);
    /// @notice Transfers need an active or pending asset.
    error AssetNotTransferable(uint256 assetId, Status status);
    /// @notice A version or derived asset names a parent that is not active.
    error ParentNotActive(uint256 parentId, Status status);
    /// @notice A reviewer reserved this freed root for `beneficiary` until `reservedUntil`; a zero
    /// beneficiary means the root is cooling after a cancellation and nobody may register it yet.
    error RootReservedFor(bytes32 contentRoot, address beneficiary, uint256 reservedUntil);
    /// @notice A reservation is made only when a dispute is upheld or a registration rejected.
    error InvalidReservation(address reserveFor);
    /// @notice The content root must be non-zero.
    error InvalidContentRoot(bytes32 contentRoot);
    /// @notice The manifest hash must be non-zero.
    error InvalidManifestHash(bytes32 manifestHash);
    /// @notice Rights type is a non-empty bitmask of HOLDING(1) | PROCESSING(2) | OPERATION(4).
    error InvalidRightsType(uint8 rightsType);
    /// @notice Classification levels are 0 (public) to 3 (core).
    error InvalidClassification(uint8 classification);
    /// @notice A validity end must be after `mustExceed`: the end of the notice period at
    /// registration (now, without review), the current end or now (the later) at renewal.
    error InvalidValidity(uint64 validUntil, uint256 mustExceed);
    /// @notice The asset carries no expiry, so there is nothing to renew.
    error NoExpiry(uint256 assetId);
    /// @notice The signature's deadline has passed.
    error SignatureExpired(uint256 deadline, uint256 timestamp);
    /// @notice The signature was not made by `expected` over this request, chain and contract.
    error InvalidSignature(address expected);
    /// @notice This deployment requires a commitment and none was made for this root, owner and salt.
    error CommitmentNotFound(bytes32 commitment);
    /// @notice The commitment is younger than `minCommitAge`: reveal at `revealFrom` or later.
    error CommitmentTooNew(bytes32 commitment, uint256 revealFrom, uint256 timestamp);
    /// @notice The commitment is older than `maxCommitAge` (it expired at `expiredAt`): commit again.
    error CommitmentTooOld(bytes32 commitment, uint256 expiredAt, uint256 timestamp);
    /// @notice The same commitment is still waiting to be revealed until `expiresAt`.
    error CommitmentExists(bytes32 commitment, uint256 expiresAt);
    /// @notice Objections are taken during a registration's notice period only (it ended at `noticeEndsAt`).
    error NotInNotice(uint256 assetId, Status status, uint256 noticeEndsAt);
    /// @notice This deployment does not take commitments (registrations need none).
    error CommitmentsNotRequired();
    /// @notice An objection needs the (non-zero) hash of its evidence.
    error InvalidEvidence(bytes32 evidenceHash);
    /// @notice The deployment constants are inconsistent (see {Config}).
    error InvalidConfig();
    /// @notice Only the TransactionLedger fixed at deployment may settle a sale.
    error NotLedger(address caller, address ledger);
    /// @notice No batch has id `batchId`.
    error UnknownBatch(uint256 batchId);
    /// @notice A batch holds 1 to 16,777,215 members.
    error InvalidBatchCount(uint256 count);
    /// @notice The id space (uint32) is exhausted.
    error IdSpaceExhausted(uint256 lastId);

    /// @notice Commit to a registration before revealing it (needed where {commitRequired}).
    /// @param commitment {makeCommitment} of the content root, its owner and a secret random salt.
    function commit(bytes32 commitment) external;

    /// @notice `keccak256(abi.encode(contentRoot, owner, salt))`.
    function makeCommitment(bytes32 contentRoot, address owner, bytes32 salt) external pure returns (bytes32);

    /// @notice When `commitment` was made (0 when never, or after it was revealed).
    function committedAt(bytes32 commitment) external view returns (uint256);

    /// @notice Register a data asset and mint its token to the caller. A non-zero parent makes it
    /// a derived asset (the parent must be active).
    /// @param salt The commitment's salt where {commitRequired}; ignored otherwise.
    /// @return assetId Sequential id, also the ERC-721 token id.
    function register(Registration calldata registration, bytes32 salt) external returns (uint256 assetId);

    /// @notice Register a new version of `registration.parentId` (the caller must own the parent,
    /// which must be active).
    /// @return assetId The new version's id.
    function registerVersion(Registration calldata registration, bytes32 salt) external returns (uint256 assetId);

    /// @notice Register for `owner`, who signed the request (EIP-712); anyone may send it and pay.
    /// Where commitments are required, the commitment names `owner` and must have aged before the
    /// signed request is handed to a relayer.
    /// @param deadline Last timestamp at which the signature is valid.
    /// @param signature EIP-712 signature (or ERC-1271 for contract owners) by `owner`.
    /// @return assetId The new asset's id, minted to `owner`.
    function registerBySig(
        address owner,
        Registration calldata registration,
        bytes32 salt,
        uint256 deadline,
        bytes calldata signature
    ) external returns (uint256 assetId);

    /// @notice Cancel a pending, active or expired registration (owner only). The record stays; the
    /// root is released after CANCEL_COOLDOWN, during which a reviewer may still reject the
    /// cancelled registration and reserve its root. Cancelling gives up priority: once the cooldown
    /// ends, the root goes to whoever registers it first. A suspended or disputed registration
    /// cannot be cancelled: it waits for a reviewer.
    function cancel(uint256 assetId, bytes32 reasonHash) external;

    /// @notice Object to a registration in its notice period; anyone may, with the hash of their evidence.
    function object(uint256 assetId, bytes32 evidenceHash) external;

    /// @notice Resolve a dispute (REVIEWER): upheld, the registration is rejected and its root
    /// released; dismissed, it continues (active when its notice is over, else pending).
    /// @param reserveFor When upheld: the account (the true owner) the freed root is reserved for
    /// during RESERVATION_PERIOD, so that the rejected holder cannot register it straight back;
    /// 0 for none. Must be 0 when dismissed.
    function resolveDispute(uint256 assetId, bool upheld, bytes32 reasonHash, address reserveFor) external;

    /// @notice Reject a pending, disputed or suspended registration, or a cancelled one whose root
    /// is still cooling (REVIEWER). The record stays; the root is released, or reserved for
    /// `reserveFor` (0: none) as in {resolveDispute}.
    function rejectRegistration(uint256 assetId, bytes32 reasonHash, address reserveFor) external;

    /// @notice Suspend an active or expired asset over a dispute (REVIEWER); grants, trades, versions,
    /// transfers, renewal and cancellation stop until it is reinstated or rejected.
    function suspend(uint256 assetId, bytes32 reasonHash) external;

    /// @notice Reinstate a suspended asset (REVIEWER).
    function reinstate(uint256 assetId, bytes32 reasonHash) external;

    /// @notice Extend an expiring certification to `validUntil` (in review mode a REVIEWER,
    /// otherwise the owner). The asset must be active or expired.
    function renew(uint256 assetId, uint64 validUntil) external;

    /// @notice Void the caller's next registration signature (any signed, unused request with it).
    function useNonce() external returns (uint256 nonce);

    /// @notice Move `assetId` from `seller` to `buyer` for a trade the ledger recorded (ledger only).
    function settleTransfer(address seller, address buyer, uint256 assetId) external;

    /// @notice Commit the Merkle root of a batch of asset records in one transaction. A batch is
    /// its anchorer's: anyone may anchor a root, each anchoring is a separate batch naming its
    /// anchorer, and none blocks or takes over another.
    /// @param batchRoot standard-v1 root of the batch tree; never zero.
    /// @param count Number of members (1 to 16,777,215).
    /// @param manifestHash keccak256 of the batch manifest; never zero.
    /// @return batchId Sequential batch id.
    function anchorBatch(bytes32 batchRoot, uint32 count, bytes32 manifestHash)
        external
        returns (uint256 batchId);

    /// @notice Check a member against an anchored batch. The leaf is computed here, as
    /// StandardMerkleTree does, from the hash of the member's ABI encoding, so an inner node of
    /// the tree is never accepted as a member.
    /// @param valuesHash keccak256(abi.encode(values)) of the member (the leaf is its keccak256).
    /// @return True when the proof leads from the member's leaf to the batch root.
    function verifyBatchMember(uint256 batchId, bytes32 valuesHash, bytes32[] calldata proof)
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

    /// @notice Who a freed `contentRoot` is reserved for and until when: (beneficiary, until), a zero
    /// beneficiary while it cools after a cancellation, (0, 0) when it is held or free to all.
    function reservationOf(bytes32 contentRoot) external view returns (address beneficiary, uint256 until);

    /// @notice The standing registration that holds `contentRoot`, or 0.
    function assetIdOf(bytes32 contentRoot) external view returns (uint256);

    /// @notice Owner and status now of `assetId` in one call; reverts {UnknownAsset}.
    function ownerAndStatus(uint256 assetId) external view returns (address owner, Status status);

    /// @notice Status now of `assetId`; reverts {UnknownAsset}.
    function statusOf(uint256 assetId) external view returns (Status);

    /// @notice The anchored batch `batchId`; reverts {UnknownBatch}.
    function batchOf(uint256 batchId) external view returns (Batch memory);

    /// @notice Number of registered assets (the last asset id).
    function totalAssets() external view returns (uint256);

    /// @notice Number of anchored batches (the last batch id).
    function totalBatches() external view returns (uint256);

    /// @notice Next EIP-712 nonce of `owner` for {registerBySig}.
    function nonces(address owner) external view returns (uint256);

    /// @notice True when registrations have a notice period (review mode).
    function reviewMode() external view returns (bool);

    /// @notice Seconds of public notice after a registration (0 without review).
    function noticePeriod() external view returns (uint256);

    /// @notice True when registrations must reveal an aged commitment.
    function commitRequired() external view returns (bool);

    /// @notice Youngest commitment a registration may reveal, in seconds.
    function minCommitAge() external view returns (uint256);

    /// @notice Oldest commitment a registration may reveal, in seconds (0: commitments not required).
    function maxCommitAge() external view returns (uint256);

    /// @notice The TransactionLedger allowed to settle sales.
    function ledger() external view returns (address);
}
