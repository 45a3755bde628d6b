"""The usage service on a py-evm chain: receipts recorded once, batches, and every refusal before sending."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlmodel import select

from dataseal.chain.contracts.records import USAGE, UsageBatchRecord, UsageRecord
from dataseal.chain.errors import ChainError, ContractRevert
from dataseal.errors import ErrorKind
from dataseal.registry.db import Database
from dataseal.registry.db.models.local import OutboxTx
from dataseal.registry.db.models.receipts import RECORDED, ReceiptBatchRecord, ReceiptRecord
from dataseal.registry.receipts import UsageReceipt, build_receipt, verify_receipt_in_batch
from dataseal.registry.registry import Registry
from dataseal.registry.services.grants import grant
from dataseal.registry.services.usage import (
    UsageError,
    get_usage_record,
    new_receipt,
    usage_records,
    use,
    use_batch,
)
from tests.conftest import Chain
from tests.registry.services.conftest import Crash, crash_at, register_asset, registry_on

PURPOSE = "fraud model evaluation"


def granted(registry: Registry, chain: Chain, quota: int = 10, **terms: Any) -> int:
    asset_id = register_asset(chain)
    values: dict[str, Any] = dict(valid_from="now", until="30d", scope=None)
    values.update(terms)
    return grant(registry, asset_id, chain.user.address, PURPOSE, quota=quota, sender=chain.owner,
                 **values).grant.grant_id


def receipt_for(registry: Registry, chain: Chain, grant_id: int, units: int = 2, job: str = "job-1",
                **changes: Any) -> UsageReceipt:
    now = chain.now()
    values: dict[str, Any] = dict(unit="row", indexes=["0-9"], started_at=now, ended_at=now, units=units,
                                  result_hash="0x" + "cd" * 32)
    values.update(changes)
    return new_receipt(registry, grant_id, job, **values)


def sent(chain: Chain, sender: Any) -> int:
    return int(chain.w3.eth.get_transaction_count(sender.address))


def test_a_receipt_is_recorded_once(registry: Registry, pyevm: Chain, tmp_path: Path) -> None:
    grant_id = granted(registry, pyevm)
    receipt = receipt_for(registry, pyevm, grant_id)
    assert receipt.purpose == PURPOSE and receipt.chain_id == pyevm.w3.eth.chain_id
    assert receipt.grant_registry == pyevm.deployment.grant_registry
    path = tmp_path / "r.json"
    path.write_text(receipt.to_text())
    done = use(registry, grant_id, 2, path, sender=pyevm.user)
    assert not done.already_recorded and done.record.receipt_hash == receipt.hash and done.record.sequence == 1
    assert done.record.units == 2 and done.record.recorder == pyevm.user.address
    with registry.db.session() as session:
        row = session.get(ReceiptRecord, receipt.hash_hex)
        assert row is not None and row.state == RECORDED and row.tx_hash == done.record.tx.tx_hash
        assert row.sequence == 1 and row.receipt == receipt.canonical_bytes().decode()

    count = sent(pyevm, pyevm.user)
    again = use(registry, grant_id, 2, receipt, sender=pyevm.user)  # a rerun: found on chain, nothing sent
    assert again.already_recorded and again.record == done.record and sent(pyevm, pyevm.user) == count
    assert pyevm.reader.grants.remaining(grant_id) == 8
    assert get_usage_record(registry, grant_id, receipt.hash) == done.record


def test_a_rerun_with_a_fresh_database_asks_the_chain(registry: Registry, pyevm: Chain, tmp_path: Path) -> None:
    from dataseal.registry.db import Database
    from tests.registry.services.conftest import registry_on

    grant_id = granted(registry, pyevm)
    receipt = receipt_for(registry, pyevm, grant_id)
    use(registry, grant_id, 2, receipt, sender=pyevm.user)
    with Database.open(f"sqlite:///{tmp_path / 'other.sqlite'}") as other_db:
        other = registry_on(pyevm, tmp_path / "other", other_db)
        count = sent(pyevm, pyevm.user)
        assert use(other, grant_id, 2, receipt, sender=pyevm.user).already_recorded
        assert sent(pyevm, pyevm.user) == count


def test_the_quota_runs_out_and_the_next_use_says_so(registry: Registry, pyevm: Chain) -> None:
    grant_id = granted(registry, pyevm, quota=3)
    use(registry, grant_id, 2, receipt_for(registry, pyevm, grant_id, 2, "a"), sender=pyevm.user)
    count = sent(pyevm, pyevm.user)
    with pytest.raises(UsageError) as caught:
        use(registry, grant_id, 2, receipt_for(registry, pyevm, grant_id, 2, "b"), sender=pyevm.user)
    assert caught.value.message == f"grant {grant_id} has 1 of its 3 units left, 2 were asked for"
    assert "larger quota" in caught.value.hint and caught.value.kind == ErrorKind.CONFLICT
    assert sent(pyevm, pyevm.user) == count


def test_outside_the_window(registry: Registry, pyevm: Chain) -> None:
    grant_id = granted(registry, pyevm, valid_from="1d", until="1d")
    receipt = receipt_for(registry, pyevm, grant_id, check=False)  # (receipt new refuses it: see below)
    with pytest.raises(UsageError, match=f"grant {grant_id} starts at .* it is now") as caught:
        use(registry, grant_id, 2, receipt, sender=pyevm.user)
    assert caught.value.hint == "wait until the grant's window opens"
    pyevm.travel(86_400 + 10)
    with pytest.raises(UsageError, match=f"says the job ran .*, outside grant {grant_id}'s window") as early:
        use(registry, grant_id, 2, receipt, sender=pyevm.user)  # the job ran before the grant opened
    assert early.value.kind == ErrorKind.CONFLICT
    assert use(registry, grant_id, 2, receipt_for(registry, pyevm, grant_id), sender=pyevm.user).record.sequence == 1
    pyevm.travel(86_400)
    with pytest.raises(UsageError, match=f"outside grant {grant_id}'s window"):
        receipt_for(registry, pyevm, grant_id, job="late")  # new_receipt runs use's checks
    with pytest.raises(UsageError, match=f"grant {grant_id} expired at .*; it is now"):
        use(registry, grant_id, 2, receipt_for(registry, pyevm, grant_id, job="late", check=False), sender=pyevm.user)


def test_a_revoked_grant(registry: Registry, pyevm: Chain) -> None:
    from dataseal.registry.services.grants import revoke

    grant_id = granted(registry, pyevm)
    receipt = receipt_for(registry, pyevm, grant_id)
    revoke(registry, grant_id, sender=pyevm.owner)
    with pytest.raises(UsageError, match=f"grant {grant_id} is Revoked: ask the asset owner for a new grant"):
        use(registry, grant_id, 2, receipt, sender=pyevm.user)


@pytest.mark.parametrize(
    ("change", "needle"),
    [
        (dict(units=3), "3 units were asked to be recorded, but the receipt says the job used 2"),
        (dict(grant_id=7), "is for grant 7, not grant 1"),
        (dict(chain_id=5), "is for chain 5, but this is chain"),
        (dict(grant_registry="0x" + "AB" * 20), "is for the GrantRegistry at 0x"),
        (dict(purpose="marketing"), "states the purpose 'marketing', which is not grant 1's"),
    ],
)
def test_a_receipt_that_does_not_match_is_refused(registry: Registry, pyevm: Chain, change: dict[str, Any],
                                                  needle: str) -> None:
    grant_id = granted(registry, pyevm)
    good = receipt_for(registry, pyevm, grant_id)
    change = dict(change)  # the parameter's dict is shared by the sqlite and postgresql runs: pop from a copy
    units = change.pop("units", 2)
    values = {**good.model_dump(), **change}
    if "grant_registry" in change:
        from eth_utils import to_checksum_address
        values["grant_registry"] = to_checksum_address(change["grant_registry"])
    receipt = build_receipt(
        chain_id=values["chain_id"], grant_registry=values["grant_registry"], grant_id=values["grant_id"],
        job_id=good.job_id, purpose=values["purpose"], unit="row", indexes=good.touched.indexes,
        started_at=0, ended_at=1, units=2, result_hash=good.result_hash)
    count = sent(pyevm, pyevm.user)
    with pytest.raises(UsageError) as caught:
        use(registry, grant_id, units, receipt, sender=pyevm.user)
    assert needle in caught.value.message
    assert sent(pyevm, pyevm.user) == count


def test_only_the_grantee_or_its_operator_records(registry: Registry, pyevm: Chain) -> None:
    grant_id = granted(registry, pyevm)
    receipt = receipt_for(registry, pyevm, grant_id)
    with pytest.raises(UsageError, match="is neither grantee .* nor an operator it gave the USAGE power"):
        use(registry, grant_id, 2, receipt, sender=pyevm.buyer)
    pyevm.as_(pyevm.user).ledger.set_operator(pyevm.buyer.address, powers=USAGE)
    assert use(registry, grant_id, 2, receipt, sender=pyevm.buyer).record.recorder == pyevm.buyer.address


def test_rows_outside_a_known_scope_are_refused(registry: Registry, pyevm: Chain) -> None:
    grant_id = granted(registry, pyevm, scope=range(5))
    with pytest.raises(UsageError, match=r"touched 5 rows outside grant 1's scope \(first: 5\)"):
        use(registry, grant_id, 2, receipt_for(registry, pyevm, grant_id), sender=pyevm.user)
    inside = receipt_for(registry, pyevm, grant_id, indexes=[1, 2])
    assert use(registry, grant_id, 2, inside, sender=pyevm.user).record.sequence == 1


def test_the_chains_own_refusal_arrives_decoded(registry: Registry, pyevm: Chain) -> None:
    grant_id = granted(registry, pyevm)
    receipt = receipt_for(registry, pyevm, grant_id)
    # the asset is suspended behind the service's back: only the chain knows at sending time
    pyevm.as_(pyevm.operator).registry.grant_reviewer(pyevm.reviewer.address)
    asset_id = pyevm.reader.grants.grant_of(grant_id).asset_id
    pyevm.as_(pyevm.reviewer).registry.suspend(asset_id)
    with pytest.raises(UsageError, match=f"asset {asset_id} of grant {grant_id} is Suspended"):
        use(registry, grant_id, 2, receipt, sender=pyevm.user)
    with pytest.raises(ContractRevert, match="AssetNotActive"):
        pyevm.as_(pyevm.user).ledger.record_usage(grant_id, 2, receipt.hash)


def test_new_receipt_needs_the_grants_purpose(registry: Registry, pyevm: Chain, tmp_path: Path) -> None:
    from dataseal.registry.db import Database
    from tests.registry.services.conftest import registry_on

    grant_id = granted(registry, pyevm)
    with pytest.raises(UsageError, match="is not grant 1's: its keccak256 is"):
        receipt_for(registry, pyevm, grant_id, purpose="something else")
    with Database.open(f"sqlite:///{tmp_path / 'grantee.sqlite'}") as db:
        grantee = registry_on(pyevm, tmp_path / "grantee", db)  # the grantee's registry never saw the text
        with pytest.raises(UsageError, match="does not know the purpose text of grant 1"):
            receipt_for(grantee, pyevm, grant_id)
        assert receipt_for(grantee, pyevm, grant_id, purpose=PURPOSE).purpose == PURPOSE


def test_a_batch_is_recorded_once_and_proves_each_receipt(registry: Registry, pyevm: Chain, tmp_path: Path) -> None:
    grant_id = granted(registry, pyevm, quota=20)
    receipts = [receipt_for(registry, pyevm, grant_id, units=i + 1, job=f"job-{i}") for i in range(4)]
    folder = tmp_path / "receipts"
    folder.mkdir()
    for r in receipts:
        (folder / f"{r.job_id}.json").write_text(r.to_text())
    done = use_batch(registry, grant_id, folder, sender=pyevm.user)
    assert isinstance(done.record, UsageBatchRecord) and not done.already_recorded
    assert done.record.units == 10 and done.record.count == 4 and done.record.receipts_root == done.batch.root
    for r in receipts:
        verify_receipt_in_batch(r, done.batch.proof(r), done.record.receipts_root)
    with registry.db.session() as session:
        assert session.get(ReceiptBatchRecord, done.batch.root_hex).state == RECORDED  # type: ignore[union-attr]
        row = session.get(ReceiptRecord, receipts[0].hash_hex)
        assert row is not None and row.batch_root == done.batch.root_hex and row.state == RECORDED
    count = sent(pyevm, pyevm.user)
    assert use_batch(registry, grant_id, receipts, sender=pyevm.user).already_recorded
    assert sent(pyevm, pyevm.user) == count
    with pytest.raises(UsageError, match="was recorded in the batch"):
        use(registry, grant_id, receipts[0].units, receipts[0], sender=pyevm.user)
    single = receipt_for(registry, pyevm, grant_id, units=1, job="single")
    use(registry, grant_id, 1, single, sender=pyevm.user)
    with pytest.raises(UsageError, match=r"1 of the 2 receipts were recorded already under grant 1 \(first: .*, job 'single', alone \(tx 0x"):
        use_batch(registry, grant_id, [single, receipt_for(registry, pyevm, grant_id, units=1, job="x")],
                  sender=pyevm.user)
    assert [type(r) for r in usage_records(registry, grant_id)] == [UsageBatchRecord, UsageRecord]


def test_a_batch_past_the_quota(registry: Registry, pyevm: Chain) -> None:
    grant_id = granted(registry, pyevm, quota=3)
    receipts = [receipt_for(registry, pyevm, grant_id, units=2, job=f"job-{i}") for i in range(2)]
    with pytest.raises(UsageError, match="has 3 of its 3 units left, 4 were asked for"):
        use_batch(registry, grant_id, receipts, sender=pyevm.user)


MOMENTS = ["prepared", "submitting", "submitted", "sent", "mined"]


@pytest.mark.parametrize("moment", MOMENTS)
def test_a_crash_at_any_moment_of_a_use_is_finished_by_the_rerun(registry: Registry, pyevm: Chain,
                                                                  moment: str) -> None:
    """``use:submitted``: the node took (and mined) the transaction, its hash not yet recorded."""
    grant_id = granted(registry, pyevm)
    receipt = receipt_for(registry, pyevm, grant_id)
    count = sent(pyevm, pyevm.user)
    with pytest.raises(Crash):
        use(registry, grant_id, 2, receipt, sender=pyevm.user, hook=crash_at(f"use:{moment}"))
    again = use(registry, grant_id, 2, receipt, sender=pyevm.user)
    assert sent(pyevm, pyevm.user) == count + 1  # one transaction, whatever the moment
    assert again.already_recorded == (moment in ("submitted", "sent", "mined"))
    assert pyevm.reader.grants.remaining(grant_id) == 8 and len(usage_records(registry, grant_id)) == 1
    with registry.db.session() as session:
        row = session.get(ReceiptRecord, receipt.hash_hex)
        assert row is not None and row.state == RECORDED and row.tx_hash == again.record.tx.tx_hash
    assert use(registry, grant_id, 2, receipt, sender=pyevm.user).already_recorded
    assert sent(pyevm, pyevm.user) == count + 1


@pytest.mark.parametrize("moment", MOMENTS)
def test_a_crash_at_any_moment_of_a_batch_is_finished_by_the_rerun(registry: Registry, pyevm: Chain,
                                                                    moment: str) -> None:
    grant_id = granted(registry, pyevm)
    receipts = [receipt_for(registry, pyevm, grant_id, units=1, job=f"job-{i}") for i in range(3)]
    count = sent(pyevm, pyevm.user)
    with pytest.raises(Crash):
        use_batch(registry, grant_id, receipts, sender=pyevm.user, hook=crash_at(f"use-batch:{moment}"))
    again = use_batch(registry, grant_id, receipts, sender=pyevm.user)
    assert sent(pyevm, pyevm.user) == count + 1
    assert again.already_recorded == (moment in ("submitted", "sent", "mined"))
    assert pyevm.reader.grants.remaining(grant_id) == 7
    [record] = usage_records(registry, grant_id)
    assert isinstance(record, UsageBatchRecord) and record == again.record
    with registry.db.session() as session:
        assert session.get(ReceiptBatchRecord, again.batch.root_hex).state == RECORDED  # type: ignore[union-attr]


def test_an_earlier_runs_reverted_transaction_is_reported_then_retried(registry: Registry, pyevm: Chain) -> None:
    """A transaction an earlier run sent that reverted (here: the grant was revoked before it was mined) is
    reported once by the rerun, decoded; the next run checks again and refuses before sending."""
    grant_id = granted(registry, pyevm)
    receipt = receipt_for(registry, pyevm, grant_id)


    with pytest.raises(Crash):
        use(registry, grant_id, 2, receipt, sender=pyevm.user, hook=crash_at("use:submitting"))
    with registry.db.session() as session:  # as if the crashed run had sent a transaction that then reverted
        pyevm.as_(pyevm.owner).grants.revoke(grant_id)
        bad = pyevm.as_(pyevm.user).ledger.submit_record_usage(grant_id, 2, receipt.hash, gas=200_000)
        row = session.exec(select(OutboxTx)).all()[-1]
        row.state, row.tx_hash, row.nonce = "sent", bad.tx_hash, bad.pending.nonce
        session.add(row)
    with pytest.raises(ContractRevert, match="GrantNotActive"):
        use(registry, grant_id, 2, receipt, sender=pyevm.user)
    with pytest.raises(UsageError, match=f"grant {grant_id} is Revoked"):
        use(registry, grant_id, 2, receipt, sender=pyevm.user)


def test_a_crash_while_the_transaction_waits_in_the_pool_never_sends_twice(
        hardhat: Chain, database: Database, tmp_path: Path) -> None:
    """On a node that has not mined the transaction the crashed run handed over (hardhat, automine off), the rerun
    does not send another: it waits, then stops and says so; once the node mines, the rerun finds the record."""
    chain = hardhat
    registry = registry_on(chain, tmp_path / "data", database)
    try:
        grant_id = granted(registry, chain)
        receipt = receipt_for(registry, chain, grant_id)
        count = sent(chain, chain.user)
        chain.w3.provider.make_request("evm_setAutomine", [False])  # type: ignore[arg-type]
        try:
            with pytest.raises(Crash):
                use(registry, grant_id, 2, receipt, sender=chain.user, hook=crash_at("use:submitted"))
            chain.user.receipt_timeout = 0.5  # the rerun gives up waiting soon: the transaction stays pending
            with pytest.raises(ChainError, match=f"use: account {chain.user.address} still has 1 transaction\\(s\\) "
                               "pending at") as waiting:
                use(registry, grant_id, 2, receipt, sender=chain.user)
            assert waiting.value.kind == ErrorKind.UNAVAILABLE
            assert chain.w3.eth.get_transaction_count(chain.user.address, "pending") == count + 1
            chain.w3.provider.make_request("evm_mine", [])  # type: ignore[arg-type]
        finally:
            chain.w3.provider.make_request("evm_setAutomine", [True])  # type: ignore[arg-type]
        again = use(registry, grant_id, 2, receipt, sender=chain.user)
        assert again.already_recorded and sent(chain, chain.user) == count + 1
        assert chain.reader.grants.remaining(grant_id) == 8
    finally:
        registry.close()


def test_a_job_outside_the_grants_window_is_refused(registry: Registry, pyevm: Chain) -> None:
    """A receipt saying the job ran in 2020 under a grant opened now: refused before sending, alone or in a batch."""
    grant_id = granted(registry, pyevm)
    early = receipt_for(registry, pyevm, grant_id, job="2020", started_at=1_577_836_800, ended_at=1_577_923_200,
                        check=False)
    count = sent(pyevm, pyevm.user)
    with pytest.raises(UsageError, match=r"\(job '2020'\) says the job ran 2020-01-01T00:00:00Z \.\. "
                       rf"2020-01-02T00:00:00Z, outside grant {grant_id}'s window") as caught:
        use(registry, grant_id, 2, early, sender=pyevm.user)
    assert caught.value.kind == ErrorKind.CONFLICT and caught.value.hint == ("record only work done while the grant "
                                                                             "was open")
    with pytest.raises(UsageError, match="outside grant .* window"):
        use_batch(registry, grant_id, [receipt_for(registry, pyevm, grant_id, job="fine"), early], sender=pyevm.user)
    assert sent(pyevm, pyevm.user) == count


def test_indexes_beyond_the_asset_are_refused_when_its_manifest_is_stored(
        pyevm: Chain, registry_for: Any, tmp_path: Path) -> None:
    from dataseal.registry.sealing.options import SealOptions
    from dataseal.registry.services import assets
    from dataseal.registry.services.usage import get_asset_leaves

    data = tmp_path / "data.bin"
    data.write_bytes(bytes(range(250)) * 6)  # 1,500 bytes: 3 chunks of 512
    owner = registry_for(pyevm, pyevm.owner)
    done = assets.register(owner, data, options=SealOptions(chunk_size=512), certificate=None)
    grant_id = grant(owner, done.asset_id, pyevm.user.address, PURPOSE, valid_from="now", until="30d",
                     quota=10).grant.grant_id
    user = registry_for(pyevm, pyevm.user)
    assert str(get_asset_leaves(user, done.asset_id)) == "AssetLeaves(unit='chunk', count=3)"
    count = sent(pyevm, pyevm.user)
    beyond = receipt_for(user, pyevm, grant_id, unit="chunk", indexes=["500-600"], job="beyond", check=False)
    with pytest.raises(UsageError, match=r"touched 101 chunks beyond the asset's 3 chunks \(largest index 600, the "
                       r"last is 2\)") as caught:
        use(user, grant_id, 2, beyond)
    assert caught.value.kind == ErrorKind.CONFLICT
    rows = receipt_for(user, pyevm, grant_id, unit="row", indexes=["0"], job="rows", check=False)
    with pytest.raises(UsageError, match="counts rows, but the asset's leaves are chunks"):
        use_batch(user, grant_id, [rows])
    assert sent(pyevm, pyevm.user) == count
    inside = receipt_for(user, pyevm, grant_id, unit="chunk", indexes=["0-2"], job="inside")
    assert use(user, grant_id, 2, inside).record.sequence == 1

    other = register_asset(pyevm, "unsealed")  # registered without this registry: its leaves are not known
    assert get_asset_leaves(user, other) is None
