"""Usage receipts checked against a real asset trail on py-evm: recorded singly or in a batch (by the receipts in
hand or a batch proof), under their own grant, with their units and purpose, and inside the grant's scope.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from dataseal.registry.audit import AssetSubject, ChainTrailSource, ReceiptMismatch, TrailEntry, collect_trail
from dataseal.registry.audit.receipts import ReceiptCheck, compute_receipt_checks, verify_receipt_checks
from dataseal.registry.receipts import ReceiptBatch, UsageReceipt, build_receipt, purpose_hash
from dataseal.registry.scope import IndexTree, compute_scope_root
from tests.conftest import Chain

SCOPE = range(100)


@dataclass
class Receipts:
    chain: Chain
    trail: list[TrailEntry]
    scoped: int  # grant over rows 0..99
    whole: int  # grant over the whole asset
    single: UsageReceipt
    batch: tuple[UsageReceipt, UsageReceipt]
    outside: UsageReceipt  # recorded, but touched row 150
    unrecorded: UsageReceipt
    foreign: UsageReceipt  # says the scoped grant, recorded under the whole-asset grant
    miscounted: UsageReceipt  # says 9 units, recorded with 3

    def checks(self, receipts: list[UsageReceipt], **proofs: Any) -> dict[str, ReceiptCheck]:
        found = compute_receipt_checks(self.trail, receipts, chain_id=self.chain.w3.eth.chain_id,
                                       grant_registry=self.chain.deployment.grant_registry, **proofs)
        return {c.job_id: c for c in found}


@pytest.fixture(scope="module")
def receipts() -> Receipts:
    from eth_utils import keccak

    from dataseal.chain.contracts.records import Registration
    from tests.conftest import pyevm_chain

    chain = pyevm_chain()
    owner, user = chain.as_(chain.owner), chain.as_(chain.user)
    asset = owner.registry.register(Registration(keccak(text="rows"), keccak(text="m"), 1, 0)).asset_id
    t = chain.now()
    scoped = owner.grants.grant(asset, chain.user.address, purpose_hash("analytics"), t - 1, t + 86_400, 100,
                                compute_scope_root(SCOPE)).grant_id
    whole = owner.grants.grant(asset, chain.user.address, purpose_hash("analytics"), t - 1, t + 86_400, 100).grant_id

    def receipt(job: str, indexes: list[int], units: int, grant: int = scoped) -> UsageReceipt:
        return build_receipt(chain_id=chain.w3.eth.chain_id, grant_registry=chain.deployment.grant_registry,
                             grant_id=grant, job_id=job, purpose="analytics", unit="row", indexes=indexes,
                             started_at=t, ended_at=t + 60, units=units, result_hash=keccak(text=job))

    single, b1, b2 = receipt("single", [1, 2, 3], 5), receipt("b1", [10], 3), receipt("b2", [20], 4)
    outside, unrecorded = receipt("outside", [150], 1), receipt("unrecorded", [4], 1)
    foreign, miscounted = receipt("foreign", [5], 2), receipt("miscounted", [6], 9)
    user.ledger.record_usage(scoped, 5, single.hash)
    user.ledger.record_usage_batch(scoped, 7, ReceiptBatch([b1, b2]).root, 2)
    user.ledger.record_usage(scoped, 1, outside.hash)  # the chain does not know the rows: the audit does
    user.ledger.record_usage(whole, 2, foreign.hash)
    user.ledger.record_usage(scoped, 3, miscounted.hash)
    trail = collect_trail(ChainTrailSource(chain.w3, chain.deployment), AssetSubject(asset))
    return Receipts(chain, trail, scoped, whole, single, (b1, b2), outside, unrecorded, foreign, miscounted)


def test_receipts_recorded_singly_and_in_a_batch_inside_the_scope(receipts: Receipts) -> None:
    good = [receipts.single, *receipts.batch]
    checks = receipts.checks(good, scopes={"0x" + compute_scope_root(SCOPE).hex(): SCOPE})
    single, b1, b2 = checks["single"], checks["b1"], checks["b2"]
    assert single.ok and single.recorded == "usage" and single.scope == "inside"
    assert b1.ok and b1.recorded == "batch" and b2.recorded == "batch"
    assert b1.tx_hash == b2.tx_hash != single.tx_hash
    verify_receipt_checks(list(checks.values()))


def test_a_batch_member_alone_needs_its_batch_proof(receipts: Receipts) -> None:
    b1, b2 = receipts.batch
    scopes = {"0x" + compute_scope_root(SCOPE).hex(): SCOPE}
    alone = receipts.checks([b1], scopes=scopes)["b1"]
    assert alone.problems == ("no usage record of grant 1 has its hash, and no batch of the grant is proven to "
                              "hold it (give its batch proof, or all the receipts of its batch)",)
    proof = ReceiptBatch([b1, b2]).proof(b1)
    proven = receipts.checks([b1], scopes=scopes, batch_proofs={b1.hash_hex: proof})["b1"]
    assert proven.ok and proven.recorded == "batch"
    wrong = receipts.checks([b1], scopes=scopes, batch_proofs={b1.hash_hex: ReceiptBatch([b1]).proof(b1)})["b1"]
    assert "which no batch of grant 1 recorded" in wrong.problems[0]


def test_receipts_that_do_not_match_are_reported(receipts: Receipts) -> None:
    scope_root = "0x" + compute_scope_root(SCOPE).hex()
    checks = receipts.checks([receipts.outside, receipts.unrecorded, receipts.foreign, receipts.miscounted],
                             scopes={scope_root: SCOPE})
    outside = checks["outside"]
    assert outside.recorded == "usage" and outside.scope is None
    assert "1 of the 1 indexes are outside the scope" in outside.problems[0]
    assert "no usage record of grant 1 has its hash" in checks["unrecorded"].problems[0]
    assert checks["foreign"].problems[0] == (
        f"it was recorded under grant {receipts.whole}, not its own grant {receipts.scoped}")
    assert checks["miscounted"].problems == ("recorded with 3 units, the receipt says 9",)
    with pytest.raises(ReceiptMismatch) as mismatch:
        verify_receipt_checks(list(checks.values()))
    assert mismatch.value.message.startswith(f"4 of 4 receipts do not match the chain (first: receipt "
                                             f"{receipts.outside.hash_hex} of grant 1, job 'outside': ")


def test_without_the_scope_a_scoped_receipt_needs_its_multiproof(receipts: Receipts) -> None:
    unproven = receipts.checks([receipts.single])["single"]
    assert unproven.problems[0].startswith("no proof that the touched indexes are inside the scope")
    proof = IndexTree.of(SCOPE).multiproof([1, 2, 3])
    proven = receipts.checks([receipts.single], scope_proofs={receipts.single.hash_hex: proof})["single"]
    assert proven.ok and proven.scope == "inside"


def test_a_receipt_of_another_chain_or_purpose(receipts: Receipts) -> None:
    other = receipts.single.model_copy(update={"chain_id": 1, "purpose": "marketing"})
    (check,) = compute_receipt_checks(receipts.trail, [other], chain_id=receipts.chain.w3.eth.chain_id,
                                      grant_registry=receipts.chain.deployment.grant_registry,
                                      scope_proofs={other.hash_hex: IndexTree.of(SCOPE).multiproof([1, 2, 3])})
    assert check.problems[0].startswith("it is for chain 1 and GrantRegistry")
    assert check.problems[1].startswith("its purpose 'marketing' is not grant 1's")
    assert "no usage record of grant 1 has its hash" in check.problems[2]  # its hash changed with its fields
