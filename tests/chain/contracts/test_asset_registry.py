"""AssetRegistryClient: public notice and disputes, commitments, validity, released roots, lineage,
signatures, batches — each against the v2 contract on py-evm."""
from __future__ import annotations

import pytest
from eth_abi import encode
from eth_utils import keccak

from dataseal.chain.accounts.eip712 import REGISTRY_DOMAIN_NAME, Domain, sign_register
from dataseal.chain.contracts.deployment import DEFAULT_NOTICE_PERIOD
from dataseal.chain.contracts.records import (
    AssetRecord,
    AssetRenewal,
    AssetStatus,
    AssetStatusChange,
    CommitRecord,
    Lineage,
    NonceUse,
    ObjectionRecord,
    Registration,
    Reservation,
    RoleChange,
    RootReservation,
)
from dataseal.chain.contracts.revert import format_time
from dataseal.chain.errors import ContractRevert
from dataseal.errors import ErrorKind
from tests.conftest import Chain

ZERO = b"\0" * 32
CANCEL_COOLDOWN = 7 * 86_400  # AssetRegistry.CANCEL_COOLDOWN


def h(label: str) -> bytes:
    return keccak(text=label)


def reg(label: str, **changes: int) -> Registration:
    return Registration(h(label), h(label + "-manifest"), changes.pop("rights_type", 1),
                        changes.pop("classification", 0), **changes)


def test_status_changes_are_logged_and_enforced(pyevm_review: Chain) -> None:
    chain = pyevm_review
    owner, admin, reviewer = chain.as_(chain.owner), chain.as_(chain.operator), chain.as_(chain.reviewer)
    pending = owner.registry.register(reg("r"))
    assert isinstance(pending, AssetRecord) and pending.status is AssetStatus.Pending
    asset = owner.registry.asset(1)
    assert asset.status is AssetStatus.Pending and asset.notice_ends_at == pending.registered_at + DEFAULT_NOTICE_PERIOD

    t = chain.now()
    with pytest.raises(ContractRevert) as refused:
        owner.grants.grant(1, chain.user.address, h("p"), t, t + 60, 1, ZERO)
    assert refused.value.name == "AssetNotActive"
    assert refused.value.args_by_name == {"assetId": 1, "status": "Pending"}
    assert "must be Active" in str(refused.value)

    role = admin.registry.grant_reviewer(chain.reviewer.address)
    assert isinstance(role, RoleChange) and (role.account, role.sender, role.granted) == (
        chain.reviewer.address, chain.operator.address, True)
    rejected = reviewer.registry.reject_registration(1, h("forged"))
    assert rejected == AssetStatusChange(1, AssetStatus.Pending, AssetStatus.Rejected, chain.reviewer.address,
                                                h("forged"), rejected.tx)


def test_silence_through_the_notice_period_makes_a_registration_active_without_a_transaction(
    pyevm_review: Chain,
) -> None:
    """v1 needed approveRegistration; v2 reads Active once the notice has passed."""
    chain = pyevm_review
    owner = chain.as_(chain.owner)
    assert owner.registry.review_mode() and owner.registry.notice_period() == DEFAULT_NOTICE_PERIOD
    record = owner.registry.register(reg("quiet"))
    chain.travel(DEFAULT_NOTICE_PERIOD - 10)
    assert owner.registry.status_of(record.asset_id) is AssetStatus.Pending
    chain.travel(11)
    assert owner.registry.status_of(record.asset_id) is AssetStatus.Active
    assert owner.registry.asset(record.asset_id).status is AssetStatus.Active
    t = chain.now()
    assert owner.grants.grant(record.asset_id, chain.user.address, h("p"), t, t + 60, 1).asset_id == record.asset_id


def test_an_objection_disputes_a_registration_and_a_reviewer_resolves_it(pyevm_review: Chain) -> None:
    chain = pyevm_review
    owner, objector, reviewer = chain.as_(chain.owner), chain.as_(chain.buyer), chain.as_(chain.reviewer)
    chain.as_(chain.operator).registry.grant_reviewer(chain.reviewer.address)
    first = owner.registry.register(reg("contested"))
    objection = objector.registry.object(first.asset_id, h("my earlier copy"))
    assert objection == ObjectionRecord(first.asset_id, chain.buyer.address, h("my earlier copy"), objection.tx)
    assert owner.registry.status_of(first.asset_id) is AssetStatus.Disputed
    dismissed = reviewer.registry.resolve_dispute(first.asset_id, False, h("evidence weak"))
    assert (dismissed.from_status, dismissed.to_status) == (AssetStatus.Disputed, AssetStatus.Pending)

    second = owner.registry.register(reg("stolen"))
    objector.registry.object(second.asset_id, h("the data is mine"))
    upheld = reviewer.registry.resolve_dispute(second.asset_id, True, h("objection upheld"))
    assert (upheld.from_status, upheld.to_status, upheld.by) == (AssetStatus.Disputed, AssetStatus.Rejected,
                                                                 chain.reviewer.address)
    # the rejected registration stays readable, but no longer holds its root: the true owner registers it
    assert owner.registry.asset_id_of(h("stolen")) is None
    assert owner.registry.asset(second.asset_id).status is AssetStatus.Rejected
    again = objector.registry.register(reg("stolen"))
    assert owner.registry.asset_id_of(h("stolen")) == again.asset_id != second.asset_id


def test_an_upheld_dispute_reserves_the_root_for_the_true_owner_so_the_squatter_cannot_take_it_back(
    pyevm_review: Chain,
) -> None:
    chain = pyevm_review
    squatter, owner, reviewer = chain.as_(chain.user), chain.as_(chain.buyer), chain.as_(chain.reviewer)
    chain.as_(chain.operator).registry.grant_reviewer(chain.reviewer.address)
    taken = squatter.registry.register(reg("taken"))
    owner.registry.object(taken.asset_id, h("my earlier copy"))
    with pytest.raises(ContractRevert) as escape:  # a disputed registration waits for the reviewer
        squatter.registry.cancel(taken.asset_id)
    assert escape.value.args_by_name["from"] == "Disputed"
    submitted = reviewer.registry.submit_resolve_dispute(taken.asset_id, True, h("upheld"), chain.buyer.address)
    submitted.wait()
    assert submitted.receipt is not None
    reservation = next(r for r in reviewer.decoder.decode_receipt(submitted.receipt)
                       if isinstance(r, RootReservation))
    assert (reservation.content_root, reservation.beneficiary, reservation.asset_id) == (
        h("taken"), chain.buyer.address, taken.asset_id)
    assert owner.registry.reservation_of(h("taken")) == Reservation(chain.buyer.address, reservation.reserved_until)
    with pytest.raises(ContractRevert) as back:
        squatter.registry.register(reg("taken"))
    assert back.value.name == "RootReservedFor" and chain.buyer.address in back.value.hint
    assert owner.registry.register(reg("taken")).registrant == chain.buyer.address


def test_objections_are_refused_outside_the_notice_period_and_without_evidence(pyevm_review: Chain) -> None:
    chain = pyevm_review
    owner, objector = chain.as_(chain.owner), chain.as_(chain.buyer)
    record = owner.registry.register(reg("late"))
    with pytest.raises(ContractRevert) as no_evidence:
        objector.registry.object(record.asset_id, ZERO)
    assert no_evidence.value.name == "InvalidEvidence" and no_evidence.value.kind is ErrorKind.INVALID_INPUT
    chain.travel(DEFAULT_NOTICE_PERIOD + 1)
    with pytest.raises(ContractRevert) as late:
        objector.registry.object(record.asset_id, h("too late"))
    assert late.value.args_by_name == {"assetId": record.asset_id, "status": "Active",
                                       "noticeEndsAt": record.registered_at + DEFAULT_NOTICE_PERIOD}
    assert "objections are taken during its notice period only" in late.value.hint


def test_a_registration_reveals_an_aged_commitment_where_commitments_are_required(pyevm_commits: Chain) -> None:
    chain = pyevm_commits
    owner = chain.as_(chain.owner)
    registry = owner.registry
    assert registry.commit_required() and (registry.min_commit_age(), registry.max_commit_age()) == (60, 86_400)
    salt = h("secret salt")
    commitment = registry.make_commitment(h("root"), chain.owner.address, salt)
    assert commitment == keccak(encode(["bytes32", "address", "bytes32"], [h("root"), chain.owner.address, salt]))
    assert commitment == bytes(registry.contract.functions.makeCommitment(h("root"), chain.owner.address, salt).call())

    with pytest.raises(ContractRevert) as uncommitted:
        registry.register(reg("root"), salt)
    assert uncommitted.value.args_by_name == {"commitment": commitment}
    assert uncommitted.value.name == "CommitmentNotFound" and "commit first" in uncommitted.value.hint

    made = registry.commit(commitment)
    assert made == CommitRecord(commitment, chain.owner.address, made.tx)
    committed_at = registry.committed_at(commitment)
    assert committed_at == chain.now()
    with pytest.raises(ContractRevert) as young:
        registry.register(reg("root"), salt)
    assert young.value.name == "CommitmentTooNew" and young.value.args_by_name["revealFrom"] == committed_at + 60
    with pytest.raises(ContractRevert) as twice:
        registry.commit(commitment)
    assert twice.value.name == "CommitmentExists"

    chain.travel(60)
    with pytest.raises(ContractRevert) as wrong_salt:  # a watcher's copy of the root has no commitment of its own
        chain.as_(chain.buyer).registry.register(reg("root"), salt)
    assert wrong_salt.value.name == "CommitmentNotFound"
    record = registry.register(reg("root"), salt)
    assert record.status is AssetStatus.Active and registry.committed_at(commitment) == 0


def test_a_commitment_too_old_must_be_made_again(pyevm_commits: Chain) -> None:
    chain = pyevm_commits
    registry = chain.as_(chain.owner).registry
    salt = h("salt")
    registry.commit(registry.make_commitment(h("stale"), chain.owner.address, salt))
    chain.travel(86_400 + 2)
    with pytest.raises(ContractRevert) as old:
        registry.register(reg("stale"), salt)
    assert old.value.name == "CommitmentTooOld" and "commit again" in old.value.hint


def test_a_deployment_without_commitments_refuses_one(pyevm: Chain) -> None:
    registry = pyevm.as_(pyevm.owner).registry
    assert not registry.commit_required() and (registry.min_commit_age(), registry.max_commit_age()) == (0, 0)
    with pytest.raises(ContractRevert) as refused:
        registry.commit(h("anything"))
    assert refused.value.name == "CommitmentsNotRequired" and "register directly" in refused.value.hint


def test_a_certification_expires_and_the_owner_renews_it_without_review(pyevm: Chain) -> None:
    owner = pyevm.as_(pyevm.owner)
    until = pyevm.now() + 100
    record = owner.registry.register(reg("dated", valid_until=until))
    assert record.valid_until == until and owner.registry.asset(record.asset_id).valid_until == until
    with pytest.raises(ContractRevert) as backwards:  # before the current end: that end is the bound
        owner.registry.renew(record.asset_id, until - 1)
    assert backwards.value.name == "InvalidValidity"
    # the contract named the time now as the bound, which the given end was already after
    assert backwards.value.args_by_name == {"validUntil": until - 1, "mustExceed": until}
    assert backwards.value.hint.startswith(f"the validity end {format_time(until - 1)} must be after "
                                           f"{format_time(until)}")
    pyevm.travel(101)
    assert owner.registry.status_of(record.asset_id) is AssetStatus.Expired
    with pytest.raises(ContractRevert) as past:  # expired: now is the bound
        owner.registry.renew(record.asset_id, until + 1)
    assert past.value.args_by_name["mustExceed"] > until + 1
    renewal = owner.registry.renew(record.asset_id, until + 1000)
    assert renewal == AssetRenewal(record.asset_id, until, until + 1000, pyevm.owner.address, renewal.tx)
    assert owner.registry.status_of(record.asset_id) is AssetStatus.Active

    undated = owner.registry.register(reg("undated"))
    with pytest.raises(ContractRevert) as nothing:
        owner.registry.renew(undated.asset_id, until + 2000)
    assert nothing.value.name == "NoExpiry"


def test_cancelling_releases_the_root_and_versions_need_an_active_parent(pyevm: Chain) -> None:
    owner, other = pyevm.as_(pyevm.owner), pyevm.as_(pyevm.buyer)
    parent = owner.registry.register(reg("v1"))
    version = owner.registry.register_version(reg("v2", parent_id=parent.asset_id))
    assert (version.parent_id, version.lineage) == (parent.asset_id, Lineage.Version)
    derived = other.registry.register(reg("derived", parent_id=parent.asset_id))
    assert derived.lineage is Lineage.Derived

    cancelled = owner.registry.cancel(parent.asset_id, h("withdrawn"))
    assert (cancelled.from_status, cancelled.to_status) == (AssetStatus.Active, AssetStatus.Cancelled)
    assert owner.registry.asset_id_of(h("v1")) is None
    with pytest.raises(ContractRevert) as orphan:
        owner.registry.register_version(reg("v3", parent_id=parent.asset_id))
    assert orphan.value.name == "ParentNotActive"
    assert orphan.value.args_by_name == {"parentId": parent.asset_id, "status": "Cancelled"}
    assert "need an Active parent" in orphan.value.hint
    # the root cools before it is free again (the contract let it be taken back at once)
    with pytest.raises(ContractRevert) as cooling:
        other.registry.register(reg("v1"))
    assert cooling.value.name == "RootReservedFor"
    pyevm.travel(CANCEL_COOLDOWN)
    assert other.registry.register(reg("v1")).asset_id == owner.registry.total_assets()  # the root is free again


def test_a_cancelled_root_cools_for_seven_days_and_says_until_when(pyevm: Chain) -> None:
    """Cancelling used to free the root at once: the holder could cancel and take it straight back."""
    owner, other = pyevm.as_(pyevm.owner), pyevm.as_(pyevm.buyer)
    record = owner.registry.register(reg("cooling"))
    assert owner.registry.reservation_of(h("cooling")) is None  # held: no reservation
    assert owner.registry.contract.functions.CANCEL_COOLDOWN().call() == CANCEL_COOLDOWN
    owner.registry.cancel(record.asset_id, h("withdrawn"))
    until = pyevm.now() + CANCEL_COOLDOWN  # the cancellation's block is the latest
    reservation = owner.registry.reservation_of(h("cooling"))
    assert reservation == Reservation(None, until) and reservation.cooling
    for who in (owner, other):  # nobody, the one who cancelled included
        with pytest.raises(ContractRevert) as refused:
            who.registry.register(reg("cooling"))
        assert refused.value.name == "RootReservedFor"
        assert refused.value.args_by_name == {"contentRoot": h("cooling"), "beneficiary": "0x" + "00" * 20,
                                              "reservedUntil": until}
        assert refused.value.hint.startswith(
            "this content root is cooling after a cancellation: nobody may register it before "
            f"{format_time(until)}")
        assert f"({until})" in refused.value.hint and "reserved for" not in refused.value.hint
    pyevm.travel(until - pyevm.now())
    assert owner.registry.reservation_of(h("cooling")) is None  # free to all
    assert other.registry.register(reg("cooling")).registrant == pyevm.buyer.address


def test_a_reviewer_strikes_off_a_registration_cancelled_to_dodge_the_decision(pyevm_review: Chain) -> None:
    chain = pyevm_review
    squatter, reviewer = chain.as_(chain.user), chain.as_(chain.reviewer)
    chain.as_(chain.operator).registry.grant_reviewer(chain.reviewer.address)
    taken = squatter.registry.register(reg("dodged"))
    squatter.registry.cancel(taken.asset_id, h("before the decision"))
    submitted = reviewer.registry.submit_reject_registration(taken.asset_id, h("squatted"), chain.buyer.address)
    submitted.wait()
    assert submitted.receipt is not None
    records = reviewer.decoder.decode_receipt(submitted.receipt)
    change = next(r for r in records if isinstance(r, AssetStatusChange))
    assert (change.from_status, change.to_status) == (AssetStatus.Cancelled, AssetStatus.Rejected)
    reservation = next(r for r in records if isinstance(r, RootReservation))
    assert (reservation.content_root, reservation.beneficiary, reservation.asset_id) == (
        h("dodged"), chain.buyer.address, taken.asset_id)
    assert squatter.registry.reservation_of(h("dodged")) == Reservation(chain.buyer.address,
                                                                         reservation.reserved_until)
    with pytest.raises(ContractRevert) as back:
        squatter.registry.register(reg("dodged"))
    assert back.value.hint.startswith(f"a reviewer freed this content root and reserved it for {chain.buyer.address} "
                                      f"until {format_time(reservation.reserved_until)}: only that account")


def test_a_signed_registration_carries_its_validity_and_use_nonce_voids_it(pyevm: Chain) -> None:
    relayer = pyevm.as_(pyevm.operator).registry
    owner = pyevm.as_(pyevm.owner).registry
    domain = Domain(REGISTRY_DOMAIN_NAME, pyevm.w3.eth.chain_id, pyevm.deployment.asset_registry)
    until, deadline = pyevm.now() + 10_000, pyevm.now() + 3600

    def signed(label: str, nonce: int) -> bytes:
        return sign_register(pyevm.keys[pyevm.owner.address].key, domain, owner=pyevm.owner.address,
                             content_root=h(label), manifest_hash=h(label + "-manifest"), rights_type=1,
                             classification=0, parent_id=0, nonce=nonce, deadline=deadline, valid_until=until)

    record = relayer.register_by_sig(pyevm.owner.address, reg("signed", valid_until=until), ZERO, deadline,
                                     signed("signed", 0))
    assert (record.registrant, record.valid_until) == (pyevm.owner.address, until)
    assert owner.asset(record.asset_id).owner == pyevm.owner.address and owner.nonce_of(pyevm.owner.address) == 1

    voided = signed("voided", 1)
    used = owner.use_nonce()
    assert used == NonceUse("AssetRegistry", pyevm.owner.address, 1, used.tx)
    with pytest.raises(ContractRevert) as refused:
        relayer.register_by_sig(pyevm.owner.address, reg("voided", valid_until=until), ZERO, deadline, voided)
    assert refused.value.args_by_name == {"expected": pyevm.owner.address}


def test_the_same_batch_root_may_be_anchored_again_as_a_separate_batch(pyevm: Chain) -> None:
    owner, other = pyevm.as_(pyevm.owner).registry, pyevm.as_(pyevm.buyer).registry
    values_hash = keccak(encode(["bytes32", "bytes32", "uint8", "uint8"], [h("a"), h("m"), 1, 0]))
    leaf = keccak(values_hash)  # a one-member tree: its root is its leaf
    first = owner.anchor_batch(leaf, 1, h("batch manifest"))
    second = other.anchor_batch(leaf, 1, h("my manifest"))
    assert (first.batch_id, second.batch_id) == (1, 2) and owner.total_batches() == 2
    assert owner.batch(2).anchorer == pyevm.buyer.address and owner.batch(1).anchorer == pyevm.owner.address
    assert owner.verify_batch_member(1, values_hash, []) is True
    assert owner.verify_batch_member(1, leaf, []) is False  # the leaf (or any node) is not a member's values hash
    assert owner.verify_batch_record(2, h("a"), h("m"), 1, 0, []) is True
    with pytest.raises(ContractRevert) as unknown:
        owner.batch(3)
    assert unknown.value.name == "UnknownBatch" and unknown.value.kind is ErrorKind.NOT_FOUND
