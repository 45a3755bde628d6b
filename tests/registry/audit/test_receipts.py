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


@dataclass
class Batches:
    chain: Chain
    trail: list[TrailEntry]
    asset: int
    grant: int
    valid_from: int
    underpaid: tuple[UsageReceipt, UsageReceipt]  # 40 units each, recorded as a batch of 2 units
    miscounted: tuple[UsageReceipt, UsageReceipt]  # 1 unit each, recorded as a batch of 3 receipts and 3 units
    first: tuple[UsageReceipt, UsageReceipt]  # a batch of grant 2 ...
    second: tuple[UsageReceipt, UsageReceipt, UsageReceipt]  # ... and another
    stray: UsageReceipt  # of the grant, recorded nowhere

    def checks(self, receipts: list[UsageReceipt], **given: Any) -> dict[str, ReceiptCheck]:
        found = compute_receipt_checks(self.trail, receipts, chain_id=self.chain.w3.eth.chain_id,
                                       grant_registry=self.chain.deployment.grant_registry, **given)
        return {c.job_id: c for c in found}


@pytest.fixture(scope="module")
def batches() -> Batches:
    from eth_utils import keccak

    from dataseal.chain.contracts.records import Registration
    from tests.conftest import pyevm_chain

    chain = pyevm_chain()
    owner, user = chain.as_(chain.owner), chain.as_(chain.user)
    asset = owner.registry.register(Registration(keccak(text="rows"), keccak(text="m"), 1, 0)).asset_id
    t = chain.now()
    grant = owner.grants.grant(asset, chain.user.address, purpose_hash("analytics"), t - 1, t + 86_400,
                               10_000).grant_id

    def receipt(job: str, units: int, rows: tuple[int, ...] = (1,), started: int = t) -> UsageReceipt:
        return build_receipt(chain_id=chain.w3.eth.chain_id, grant_registry=chain.deployment.grant_registry,
                             grant_id=grant, job_id=job, purpose="analytics", unit="row", indexes=rows,
                             started_at=started, ended_at=started + 60, units=units, result_hash=keccak(text=job))

    underpaid = (receipt("u1", 40), receipt("u2", 40))
    miscounted = (receipt("m1", 1), receipt("m2", 1))
    first = (receipt("f1", 1), receipt("f2", 2))
    second = (receipt("s1", 3), receipt("s2", 4), receipt("s3", 5))
    for group, units, count in ((underpaid, 2, 2), (miscounted, 3, 3), (first, 3, 2), (second, 12, 3)):
        user.ledger.record_usage_batch(grant, units, ReceiptBatch(list(group)).root, count)
    trail = collect_trail(ChainTrailSource(chain.w3, chain.deployment), AssetSubject(asset))
    return Batches(chain, trail, asset, grant, t - 1, underpaid, miscounted, first, second, receipt("stray", 1))


def test_a_batch_recorded_with_fewer_units_than_its_receipts_is_a_failure(batches: Batches) -> None:
    """Security: 2 units recorded for two receipts of 40 units each would leave 78 units unmetered."""
    checks = batches.checks(list(batches.underpaid))
    root = ReceiptBatch(list(batches.underpaid)).root_hex
    for job in ("u1", "u2"):
        assert checks[job].recorded == "batch" and checks[job].batch_complete and checks[job].batch_root == root
        assert checks[job].problems == (f"its batch {root} records 2 units, but its 2 receipts add up to 80 units",)
    with pytest.raises(ReceiptMismatch, match="2 of 2 receipts do not match the chain .* records 2 units, but its 2 "
                       "receipts add up to 80 units"):
        verify_receipt_checks(list(checks.values()))
    miscounted = batches.checks(list(batches.miscounted))["m1"]
    root = ReceiptBatch(list(batches.miscounted)).root_hex
    assert miscounted.problems == (f"its batch {root} records 3 receipts, but its root is that of the 2 receipts in "
                                   "hand", f"its batch {root} records 3 units, but its 2 receipts add up to 2 units")


def test_a_batch_member_proven_alone_leaves_the_batch_units_unchecked(batches: Batches) -> None:
    u1, u2 = batches.underpaid
    proof = ReceiptBatch([u1, u2]).proof(u1)
    alone = batches.checks([u1], batch_proofs={u1.hash_hex: proof})["u1"]
    assert alone.ok and alone.recorded == "batch" and alone.batch_complete is False
    both = batches.checks([u1, u2], batch_proofs={u1.hash_hex: proof})
    assert both["u1"].batch_complete and "add up to 80 units" in both["u1"].problems[0]


def test_each_batch_of_a_grant_is_matched_by_its_own_receipts(batches: Batches) -> None:
    """Two batches of one grant in hand (and a receipt recorded nowhere): each batch by the receipts of its root."""
    everything = [*batches.first, *batches.second, batches.stray]
    checks = batches.checks(everything)
    roots = {ReceiptBatch(list(batches.first)).root_hex, ReceiptBatch(list(batches.second)).root_hex}
    good = [checks[job] for job in ("f1", "f2", "s1", "s2", "s3")]
    assert all(c.ok and c.recorded == "batch" and c.batch_complete for c in good)
    assert {c.batch_root for c in good} == roots and checks["f1"].tx_hash != checks["s1"].tx_hash
    assert "no usage record of grant 1 has its hash" in checks["stray"].problems[0]

    first = ReceiptBatch(list(batches.first))
    hinted = batches.checks([*batches.first, *batches.second, *batches.underpaid],
                            batch_roots={r.hash_hex: first.root_hex for r in batches.first})
    assert all(hinted[job].ok for job in ("f1", "f2", "s1", "s2", "s3"))
    proven = batches.checks(list(batches.first), batch_proofs={r.hash_hex: first.proof(r) for r in batches.first})
    assert all(c.ok and c.batch_complete for c in proven.values())


def test_a_receipt_outside_its_grants_window_or_beyond_the_asset(batches: Batches) -> None:
    from eth_utils import keccak

    from dataseal.registry.receipts import AssetLeaves

    def receipt(job: str, rows: tuple[int, ...], started: int, unit: Any = "row") -> UsageReceipt:
        return build_receipt(chain_id=batches.chain.w3.eth.chain_id,
                             grant_registry=batches.chain.deployment.grant_registry, grant_id=batches.grant,
                             job_id=job, purpose="analytics", unit=unit, indexes=rows, started_at=started,
                             ended_at=started + 60, units=1, result_hash=keccak(text=job))

    early = receipt("early", (1,), 1_577_836_800)  # 2020-01-01
    beyond = receipt("beyond", (1, 500, 600), batches.valid_from + 10)
    chunks = receipt("chunks", (1,), batches.valid_from + 10, unit="chunk")
    leaves = {batches.asset: AssetLeaves("row", 100)}
    checks = batches.checks([early, beyond, chunks], leaves=leaves)
    assert any(p.startswith("it says the job ran 2020-01-01T00:00:00Z .. 2020-01-01T00:01:00Z, outside grant 1's "
                            "window") for p in checks["early"].problems)
    assert checks["early"].extent == "inside the asset's 100 rows"
    assert checks["beyond"].extent == "beyond the asset's 100 rows"
    assert ("it touched 2 rows beyond the asset's 100 rows (largest index 600, the last is 99)"
            in checks["beyond"].problems)
    assert "it counts chunks, but the asset's leaves are rows" in checks["chunks"].problems
    unknown = batches.checks([beyond])["beyond"]
    assert unknown.extent == "not checked" and not any("beyond" in p for p in unknown.problems)
