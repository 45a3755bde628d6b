"""The AssetRegistry client: registrations (ERC-721 tokens), commitments, public notice and review,
lineage, validity, batch anchoring."""
from __future__ import annotations

from collections.abc import Sequence

from eth_abi import encode as abi_encode
from eth_utils import keccak

from dataseal.chain.contracts.client import ESTIMATE, ContractClient, Gas, Submitted, only
from dataseal.chain.contracts.records import (
    ZERO32,
    Asset,
    AssetRecord,
    AssetRenewal,
    AssetStatus,
    AssetStatusChange,
    AssetTransfer,
    Batch,
    BatchRecord,
    CommitRecord,
    Lineage,
    NonceUse,
    ObjectionRecord,
    Registration,
    Reservation,
    RoleChange,
    TokenApproval,
)
from dataseal.chain.values import address, bytes32, checksummed

#: keccak256("REVIEWER_ROLE"): the role that rejects, resolves disputes, suspends, reinstates (and renews in review
#: mode).
REVIEWER_ROLE = keccak(text="REVIEWER_ROLE")


def make_commitment(content_root: bytes, owner: str, salt: bytes) -> bytes:
    """``keccak256(abi.encode(contentRoot, owner, salt))``: what :meth:`AssetRegistryClient.commit` takes
    before a registration of ``content_root`` for ``owner`` reveals ``salt`` (computed here, no call)."""
    return keccak(abi_encode(["bytes32", "address", "bytes32"], [
        bytes32(content_root, "content_root"), address(owner, "owner"), bytes32(salt, "salt")]))


class AssetRegistryClient(ContractClient):
    """AssetRegistry: registrations (ERC-721 tokens), commitments, notice and review, lineage, batches.

    Where the deployment requires commitments (:meth:`commit_required`), a registration reveals a
    commitment made :meth:`min_commit_age` to :meth:`max_commit_age` seconds earlier::

        salt = os.urandom(32)
        registry.commit(registry.make_commitment(root, owner, salt))
        ...  # at least min_commit_age seconds later
        registry.register(Registration(root, manifest, rights_type=1, classification=0), salt)
    """

    contract_name = "AssetRegistry"

    # commitments

    @staticmethod
    def make_commitment(content_root: bytes, owner: str, salt: bytes) -> bytes:
        """See :func:`make_commitment`."""
        return make_commitment(content_root, owner, salt)

    def submit_commit(self, commitment: bytes, *, gas: Gas = None) -> Submitted[CommitRecord]:
        return self._submit("commit", (bytes32(commitment, "commitment"),), only(CommitRecord), gas)

    def commit(self, commitment: bytes) -> CommitRecord:
        """Commit to a registration to reveal later (deployments that require commitments only)."""
        return self.submit_commit(commitment, gas=ESTIMATE).wait()

    # registrations

    def submit_register(self, registration: Registration, salt: bytes = ZERO32, *,
                        gas: Gas = None) -> Submitted[AssetRecord]:
        return self._submit("register", (registration.as_tuple(), bytes32(salt, "salt")), only(AssetRecord), gas)

    def register(self, registration: Registration, salt: bytes = ZERO32) -> AssetRecord:
        """Register content by its Merkle root; the standing registration of a root holds it.

        ``salt`` is the commitment's salt where commitments are required (ignored otherwise); a
        non-zero ``registration.parent_id`` makes a derived asset.
        """
        return self.submit_register(registration, salt, gas=ESTIMATE).wait()

    def submit_register_version(self, registration: Registration, salt: bytes = ZERO32, *,
                                gas: Gas = None) -> Submitted[AssetRecord]:
        return self._submit("registerVersion", (registration.as_tuple(), bytes32(salt, "salt")), only(AssetRecord),
                            gas)

    def register_version(self, registration: Registration, salt: bytes = ZERO32) -> AssetRecord:
        """Register a new version of ``registration.parent_id`` (its owner only; the parent must be active)."""
        return self.submit_register_version(registration, salt, gas=ESTIMATE).wait()

    def submit_register_by_sig(self, owner: str, registration: Registration, salt: bytes, deadline: int,
                               signature: bytes, *, gas: Gas = None) -> Submitted[AssetRecord]:
        return self._submit("registerBySig", (address(owner, "owner"), registration.as_tuple(), bytes32(salt, "salt"),
                                              deadline, bytes(signature)), only(AssetRecord), gas)

    def register_by_sig(self, owner: str, registration: Registration, salt: bytes, deadline: int,
                        signature: bytes) -> AssetRecord:
        """Relay a registration ``owner`` signed (EIP-712, :func:`dataseal.chain.accounts.eip712.sign_register`)."""
        return self.submit_register_by_sig(owner, registration, salt, deadline, signature, gas=ESTIMATE).wait()

    # status

    def _status(self, function: str, args: tuple[object, ...], gas: Gas) -> Submitted[AssetStatusChange]:
        return self._submit(function, args, only(AssetStatusChange), gas)

    def submit_cancel(self, asset_id: int, reason_hash: bytes = ZERO32, *,
                      gas: Gas = None) -> Submitted[AssetStatusChange]:
        return self._status("cancel", (asset_id, bytes32(reason_hash, "reason_hash")), gas)

    def cancel(self, asset_id: int, reason_hash: bytes = ZERO32) -> AssetStatusChange:
        """Cancel a registration (its owner); the record stays. The root cools for the contract's CANCEL_COOLDOWN
        (7 days) first, during which a reviewer may still reject the cancelled registration (and reserve its root).
        Cancelling gives up priority: after the cooldown the root goes to whoever registers it first, unless a
        reviewer reserved it."""
        return self.submit_cancel(asset_id, reason_hash, gas=ESTIMATE).wait()

    def submit_reject_registration(self, asset_id: int, reason_hash: bytes = ZERO32, reserve_for: str | None = None,
                                   *, gas: Gas = None) -> Submitted[AssetStatusChange]:
        return self._status("rejectRegistration", (asset_id, bytes32(reason_hash, "reason_hash"),
                                                   _beneficiary(reserve_for)), gas)

    def reject_registration(self, asset_id: int, reason_hash: bytes = ZERO32,
                            reserve_for: str | None = None) -> AssetStatusChange:
        """Reject a pending, disputed or suspended registration, or a cancelled one whose root still cools (a
        REVIEWER); the root is released, or reserved for ``reserve_for`` (the true owner) for the contract's
        RESERVATION_PERIOD."""
        return self.submit_reject_registration(asset_id, reason_hash, reserve_for, gas=ESTIMATE).wait()

    def submit_suspend(self, asset_id: int, reason_hash: bytes = ZERO32, *,
                       gas: Gas = None) -> Submitted[AssetStatusChange]:
        return self._status("suspend", (asset_id, bytes32(reason_hash, "reason_hash")), gas)

    def suspend(self, asset_id: int, reason_hash: bytes = ZERO32) -> AssetStatusChange:
        """Suspend an active asset over a dispute (a REVIEWER)."""
        return self.submit_suspend(asset_id, reason_hash, gas=ESTIMATE).wait()

    def submit_reinstate(self, asset_id: int, reason_hash: bytes = ZERO32, *,
                         gas: Gas = None) -> Submitted[AssetStatusChange]:
        return self._status("reinstate", (asset_id, bytes32(reason_hash, "reason_hash")), gas)

    def reinstate(self, asset_id: int, reason_hash: bytes = ZERO32) -> AssetStatusChange:
        """Reinstate a suspended asset (a REVIEWER)."""
        return self.submit_reinstate(asset_id, reason_hash, gas=ESTIMATE).wait()

    def submit_object(self, asset_id: int, evidence_hash: bytes, *, gas: Gas = None) -> Submitted[ObjectionRecord]:
        return self._submit("object", (asset_id, bytes32(evidence_hash, "evidence_hash")), only(ObjectionRecord), gas)

    def object(self, asset_id: int, evidence_hash: bytes) -> ObjectionRecord:
        """Object to a registration in its notice period (anyone), with the hash of the evidence."""
        return self.submit_object(asset_id, evidence_hash, gas=ESTIMATE).wait()

    def submit_resolve_dispute(self, asset_id: int, upheld: bool, reason_hash: bytes = ZERO32,
                               reserve_for: str | None = None, *, gas: Gas = None) -> Submitted[AssetStatusChange]:
        return self._status("resolveDispute", (asset_id, bool(upheld), bytes32(reason_hash, "reason_hash"),
                                               _beneficiary(reserve_for)), gas)

    def resolve_dispute(self, asset_id: int, upheld: bool, reason_hash: bytes = ZERO32,
                        reserve_for: str | None = None) -> AssetStatusChange:
        """Resolve a dispute (a REVIEWER): upheld rejects the registration (its root reserved for ``reserve_for``,
        the true owner, when given), dismissed lets it continue."""
        return self.submit_resolve_dispute(asset_id, upheld, reason_hash, reserve_for, gas=ESTIMATE).wait()

    def submit_renew(self, asset_id: int, valid_until: int, *, gas: Gas = None) -> Submitted[AssetRenewal]:
        return self._submit("renew", (asset_id, valid_until), only(AssetRenewal), gas)

    def renew(self, asset_id: int, valid_until: int) -> AssetRenewal:
        """Extend the certification of ``asset_id`` (a REVIEWER in review mode, else the owner)."""
        return self.submit_renew(asset_id, valid_until, gas=ESTIMATE).wait()

    def submit_use_nonce(self, *, gas: Gas = None) -> Submitted[NonceUse]:
        return self._submit("useNonce", (), only(NonceUse), gas)

    def use_nonce(self) -> NonceUse:
        """Void the sender's next registration signature (any signed, unused request with it)."""
        return self.submit_use_nonce(gas=ESTIMATE).wait()

    # batches

    def submit_anchor_batch(self, batch_root: bytes, count: int, manifest_hash: bytes, *,
                            gas: Gas = None) -> Submitted[BatchRecord]:
        return self._submit("anchorBatch", (bytes32(batch_root, "batch_root"), count,
                                            bytes32(manifest_hash, "manifest_hash")), only(BatchRecord), gas)

    def anchor_batch(self, batch_root: bytes, count: int, manifest_hash: bytes) -> BatchRecord:
        """Commit the Merkle root of ``count`` asset records (a new batch, naming the sender, each time)."""
        return self.submit_anchor_batch(batch_root, count, manifest_hash, gas=ESTIMATE).wait()

    def transfer(self, asset_id: int, to: str) -> AssetTransfer:
        """Transfer the asset's token from the sender to ``to``."""
        sender = self._require_sender()
        return self._submit("transferFrom", (sender.address, address(to, "to"), asset_id),
                            only(AssetTransfer), ESTIMATE).wait()

    def approve(self, operator: str, asset_id: int) -> TokenApproval:
        """Let ``operator`` move ``asset_id`` (ERC-721 approve; the zero address clears it). A TRADE operator of
        the ledger needs this to sell the asset itself, not only licences."""
        return self._submit("approve", (address(operator, "operator"), asset_id), only(TokenApproval),
                            ESTIMATE).wait()

    def grant_reviewer(self, account: str) -> RoleChange:
        """Give ``account`` the REVIEWER role (the admin only)."""
        return self.submit_grant_reviewer(account, gas=ESTIMATE).wait()

    def submit_grant_reviewer(self, account: str, *, gas: Gas = None) -> Submitted[RoleChange]:
        return self._submit("grantRole", (REVIEWER_ROLE, address(account, "account")), only(RoleChange), gas)

    def submit_revoke_reviewer(self, account: str, *, gas: Gas = None) -> Submitted[RoleChange]:
        """Take the REVIEWER role from ``account`` (the admin only)."""
        return self._submit("revokeRole", (REVIEWER_ROLE, address(account, "account")), only(RoleChange), gas)

    def is_reviewer(self, account: str) -> bool:
        return bool(self._read("hasRole", REVIEWER_ROLE, address(account, "account")))

    def admin(self) -> str:
        """The account holding the admin role (it appoints reviewers); the zero address while none does."""
        return checksummed(self._read("defaultAdmin"))

    # reads

    def asset(self, asset_id: int) -> Asset:
        """The record of ``asset_id`` with its status now (derived: past its notice Active, past validity Expired)."""
        a = self._read("assetOf", asset_id)
        return Asset(a[0], bytes(a[1]), bytes(a[2]), checksummed(a[3]), checksummed(a[4]), a[5],
                     a[6], a[7], AssetStatus(a[8]), a[9], Lineage(a[10]), a[11], a[12])

    def asset_id_of(self, content_root: bytes) -> int | None:
        """The standing registration that holds ``content_root``, or None."""
        asset_id = int(self._read("assetIdOf", bytes32(content_root, "content_root")))
        return asset_id or None

    def reservation_of(self, content_root: bytes) -> Reservation | None:
        """Who may register the freed ``content_root`` and until when, or None when it is held or free to all.

        A reservation's beneficiary is None while the root cools after a cancellation: nobody may register it
        before ``until``.
        """
        beneficiary, until = self._read("reservationOf", bytes32(content_root, "content_root"))
        if int(until) == 0:
            return None
        holder = checksummed(beneficiary)
        return Reservation(None if int(holder, 16) == 0 else holder, int(until))

    def status_of(self, asset_id: int) -> AssetStatus:
        """The status of ``asset_id`` now."""
        return AssetStatus(self._read("statusOf", asset_id))

    def committed_at(self, commitment: bytes) -> int:
        """When ``commitment`` was made (0: never, or already revealed)."""
        return int(self._read("committedAt", bytes32(commitment, "commitment")))

    def batch(self, batch_id: int) -> Batch:
        b = self._read("batchOf", batch_id)
        return Batch(b[0], bytes(b[1]), bytes(b[2]), checksummed(b[3]), b[4], b[5])

    def verify_batch_member(self, batch_id: int, values_hash: bytes, proof: Sequence[bytes]) -> bool:
        """Whether the member whose ``values_hash`` is keccak256(abi.encode(values)) is in the batch.

        The contract computes the leaf (keccak256 of ``values_hash``) itself: give the hash of the
        values, not the leaf, so an inner node of the tree is never accepted as a member.
        """
        siblings = [bytes32(p, "proof") for p in proof]
        return bool(self._read("verifyBatchMember", batch_id, bytes32(values_hash, "values_hash"), siblings))

    def verify_batch_record(self, batch_id: int, content_root: bytes, manifest_hash: bytes, rights_type: int,
                            classification: int, proof: Sequence[bytes]) -> bool:
        """Whether the record (content root, manifest hash, rights type, classification) is a member of the batch."""
        siblings = [bytes32(p, "proof") for p in proof]
        return bool(self._read("verifyBatchRecord", batch_id, bytes32(content_root, "content_root"),
                               bytes32(manifest_hash, "manifest_hash"), rights_type, classification, siblings))

    def total_assets(self) -> int:
        return int(self._read("totalAssets"))

    def total_batches(self) -> int:
        return int(self._read("totalBatches"))

    def nonce_of(self, owner: str) -> int:
        """The EIP-712 nonce of ``owner`` (for registerBySig)."""
        return int(self._read("nonces", address(owner, "owner")))

    def review_mode(self) -> bool:
        return bool(self._read("reviewMode"))

    def notice_period(self) -> int:
        """Seconds of public notice after each registration (0 without review)."""
        return int(self._read("noticePeriod"))

    def commit_required(self) -> bool:
        return bool(self._read("commitRequired"))

    def min_commit_age(self) -> int:
        return int(self._read("minCommitAge"))

    def max_commit_age(self) -> int:
        return int(self._read("maxCommitAge"))


def _beneficiary(reserve_for: str | None) -> str:
    """The reservation argument: the zero address for none."""
    return address(reserve_for, "reserve_for") if reserve_for is not None else "0x" + "0" * 40
