"""The AssetRegistry client: registrations (ERC-721 tokens), review, lineage, batch anchoring."""
from __future__ import annotations

from collections.abc import Sequence

from eth_utils import to_checksum_address

from dataseal.chain.contracts.client import ESTIMATE, ContractClient, Gas, Submitted, only
from dataseal.chain.contracts.records import (
    ZERO32,
    Asset,
    AssetRecord,
    AssetStatus,
    AssetStatusChange,
    AssetTransfer,
    Batch,
    BatchRecord,
    Lineage,
    RoleChange,
)
from dataseal.chain.values import address, bytes32


class AssetRegistryClient(ContractClient):
    """AssetRegistry: registrations (ERC-721 tokens), review, lineage, batch anchoring."""

    contract_name = "AssetRegistry"

    def submit_register(self, content_root: bytes, manifest_hash: bytes, rights_type: int, classification: int,
                        parent_id: int = 0, *, gas: Gas = None) -> Submitted[AssetRecord]:
        return self._submit("register", (bytes32(content_root, "content_root"), bytes32(manifest_hash, "manifest_hash"),
                                         rights_type, classification, parent_id), only(AssetRecord), gas)

    def register(self, content_root: bytes, manifest_hash: bytes, rights_type: int, classification: int,
                 parent_id: int = 0) -> AssetRecord:
        """Register content by its Merkle root; the first registrant of a root keeps it."""
        return self.submit_register(content_root, manifest_hash, rights_type, classification, parent_id,
                                    gas=ESTIMATE).wait()

    def submit_register_version(self, parent_id: int, content_root: bytes, manifest_hash: bytes, rights_type: int,
                                classification: int, *, gas: Gas = None,
                                ) -> Submitted[AssetRecord]:
        return self._submit("registerVersion", (parent_id, bytes32(content_root, "content_root"),
                                                bytes32(manifest_hash, "manifest_hash"), rights_type, classification),
                            only(AssetRecord), gas)

    def register_version(self, parent_id: int, content_root: bytes, manifest_hash: bytes, rights_type: int,
                         classification: int) -> AssetRecord:
        """Register a new version of ``parent_id`` (its owner only)."""
        return self.submit_register_version(parent_id, content_root, manifest_hash, rights_type, classification,
                                            gas=ESTIMATE).wait()

    def submit_register_by_sig(self, owner: str, content_root: bytes, manifest_hash: bytes, rights_type: int,
                               classification: int, parent_id: int, deadline: int, signature: bytes, *,
                               gas: Gas = None) -> Submitted[AssetRecord]:
        return self._submit("registerBySig", (address(owner, "owner"), bytes32(content_root, "content_root"),
                                              bytes32(manifest_hash, "manifest_hash"), rights_type, classification,
                                              parent_id, deadline, bytes(signature)), only(AssetRecord), gas)

    def register_by_sig(self, owner: str, content_root: bytes, manifest_hash: bytes, rights_type: int,
                        classification: int, parent_id: int, deadline: int, signature: bytes) -> AssetRecord:
        """Relay a registration ``owner`` signed (EIP-712, :func:`dataseal.chain.accounts.eip712.sign_register`)."""
        return self.submit_register_by_sig(owner, content_root, manifest_hash, rights_type, classification,
                                           parent_id, deadline, signature, gas=ESTIMATE).wait()

    def _status(self, function: str, asset_id: int, reason_hash: bytes) -> AssetStatusChange:
        return self._submit(function, (asset_id, bytes32(reason_hash, "reason_hash")), only(AssetStatusChange),
                            ESTIMATE).wait()

    def cancel(self, asset_id: int, reason_hash: bytes = ZERO32) -> AssetStatusChange:
        """Cancel an asset (its owner)."""
        return self._status("cancel", asset_id, reason_hash)

    def approve_registration(self, asset_id: int, reason_hash: bytes = ZERO32) -> AssetStatusChange:
        """Approve a pending registration (a REVIEWER, review mode)."""
        return self._status("approveRegistration", asset_id, reason_hash)

    def reject_registration(self, asset_id: int, reason_hash: bytes = ZERO32) -> AssetStatusChange:
        """Reject a pending registration (a REVIEWER, review mode)."""
        return self._status("rejectRegistration", asset_id, reason_hash)

    def suspend(self, asset_id: int, reason_hash: bytes = ZERO32) -> AssetStatusChange:
        """Suspend an active asset over a dispute (a REVIEWER)."""
        return self._status("suspend", asset_id, reason_hash)

    def reinstate(self, asset_id: int, reason_hash: bytes = ZERO32) -> AssetStatusChange:
        """Reinstate a suspended asset (a REVIEWER)."""
        return self._status("reinstate", asset_id, reason_hash)

    def submit_anchor_batch(self, batch_root: bytes, count: int, manifest_hash: bytes, *,
                            gas: Gas = None) -> Submitted[BatchRecord]:
        return self._submit("anchorBatch", (bytes32(batch_root, "batch_root"), count,
                                            bytes32(manifest_hash, "manifest_hash")), only(BatchRecord), gas)

    def anchor_batch(self, batch_root: bytes, count: int, manifest_hash: bytes) -> BatchRecord:
        """Commit the Merkle root of ``count`` asset records."""
        return self.submit_anchor_batch(batch_root, count, manifest_hash, gas=ESTIMATE).wait()

    def transfer(self, asset_id: int, to: str) -> AssetTransfer:
        """Transfer the asset's token from the sender to ``to``."""
        sender = self._require_sender()
        return self._submit("transferFrom", (sender.address, address(to, "to"), asset_id),
                            only(AssetTransfer), ESTIMATE).wait()

    def grant_reviewer(self, account: str) -> RoleChange:
        """Give ``account`` the REVIEWER role (the admin only)."""
        role = self._read("REVIEWER_ROLE")
        return self._submit("grantRole", (role, address(account, "account")), only(RoleChange), ESTIMATE).wait()

    # reads

    def asset(self, asset_id: int) -> Asset:
        a = self._read("assetOf", asset_id)
        return Asset(a[0], bytes(a[1]), bytes(a[2]), to_checksum_address(a[3]), to_checksum_address(a[4]), a[5],
                     a[6], a[7], AssetStatus(a[8]), a[9], Lineage(a[10]))

    def asset_id_of(self, content_root: bytes) -> int | None:
        """The asset registered with ``content_root``, or None."""
        asset_id = int(self._read("assetIdOf", bytes32(content_root, "content_root")))
        return asset_id or None

    def batch(self, batch_id: int) -> Batch:
        b = self._read("batchOf", batch_id)
        return Batch(b[0], bytes(b[1]), bytes(b[2]), to_checksum_address(b[3]), b[4], b[5])

    def verify_batch_member(self, batch_id: int, leaf: bytes, proof: Sequence[bytes]) -> bool:
        siblings = [bytes32(p, "proof") for p in proof]
        return bool(self._read("verifyBatchMember", batch_id, bytes32(leaf, "leaf"), siblings))

    def verify_batch_record(self, batch_id: int, content_root: bytes, manifest_hash: bytes, rights_type: int,
                            classification: int, proof: Sequence[bytes]) -> bool:
        """Whether the record (content root, manifest hash, rights type, classification) is a member of the batch."""
        siblings = [bytes32(p, "proof") for p in proof]
        return bool(self._read("verifyBatchRecord", batch_id, bytes32(content_root, "content_root"),
                               bytes32(manifest_hash, "manifest_hash"), rights_type, classification, siblings))

    def total_assets(self) -> int:
        return int(self._read("totalAssets"))

    def nonce_of(self, owner: str) -> int:
        """The EIP-712 nonce of ``owner`` (for registerBySig)."""
        return int(self._read("nonces", address(owner, "owner")))

    def review_mode(self) -> bool:
        return bool(self._read("reviewMode"))
