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
from dataseal.registry.services.usage import get_usage_record, usage_records, use, use_batch
from dataseal.registry.services.usage_receipts import UsageError, draft_receipt, new_receipt
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
    assert caught.value.message == f"grant {grant_id} has 1 of its 3 units left, 2 units were asked for"
    assert "larger quota" in caught.value.hint and caught.value.kind == ErrorKind.CONFLICT
    assert sent(pyevm, pyevm.user) == count


def test_a_receipt_the_quota_cannot_take_is_not_written(registry: Registry, pyevm: Chain) -> None:
    """What is left only goes down: a receipt of more units than are left now would be refused by use forever."""
    grant_id = granted(registry, pyevm, quota=3)
    with pytest.raises(UsageError) as caught:
        receipt_for(registry, pyevm, grant_id, 5, "big")
    assert caught.value.message == f"grant {grant_id} has 3 of its 3 units left, 5 units were asked for"
    assert caught.value.kind == ErrorKind.CONFLICT
    use(registry, grant_id, 2, receipt_for(registry, pyevm, grant_id, 2, "a"), sender=pyevm.user)
    with pytest.raises(UsageError, match=f"grant {grant_id} has 1 of its 3 units left, 2 units were asked for"):
        receipt_for(registry, pyevm, grant_id, 2, "b")
    assert receipt_for(registry, pyevm, grant_id, 1, "c").units == 1
    assert receipt_for(registry, pyevm, grant_id, 2, "b", check=False).units == 2  # unchecked: written


def test_a_receipt_for_a_window_yet_to_open_is_written(registry: Registry, pyevm: Chain) -> None:
    grant_id = granted(registry, pyevm, valid_from="1d", until="1d")
    later = pyevm.now() + 86_400 + 60
    receipt = receipt_for(registry, pyevm, grant_id, started_at=later, ended_at=later)  # not refused: time cures it
    with pytest.raises(UsageError, match=f"grant {grant_id} starts at "):
        use(registry, grant_id, 2, receipt, sender=pyevm.user)


@pytest.mark.parametrize(
    ("change", "needle", "option"),
    [
        (dict(units=0), "0 is not a number of usage units (1 to 18446744073709551615)", "units"),
        (dict(units=-1), "-1 is not a number of usage units", "units"),
        (dict(units=2**64), "18446744073709551616 is not a number of usage units", "units"),
        (dict(result_hash="0x12"), "the result hash '0x12' is not a 32-byte hash (0x and 64 hex digits)",
         "result_hash"),
        (dict(result_hash=bytes(31)), "the result hash is 31 bytes, not 32", "result_hash"),
        (dict(job=""), "the job id '' is not a text of 1 to 256 characters", "job_id"),
        (dict(job="j" * 257), "is not a text of 1 to 256 characters", "job_id"),
    ],
)
def test_receipt_values_are_refused_in_our_words(registry: Registry, pyevm: Chain, change: dict[str, Any],
                                                 needle: str, option: str) -> None:
    grant_id = granted(registry, pyevm)
    change = dict(change)  # the parameters' dict is shared by the database backends
    with pytest.raises(UsageError) as caught:
        receipt_for(registry, pyevm, grant_id, **change)
    assert needle in caught.value.message and caught.value.options == (option,)
    assert "Input should" not in caught.value.message and "pattern" not in caught.value.message
    with pytest.raises(UsageError) as drafted:  # the offline path checks them too
        draft_receipt(registry, grant_id, change.pop("job", "job-1"), **{
            **dict(unit="row", indexes=["0"], started_at=pyevm.now(), ended_at=pyevm.now(), units=2,
                   result_hash="0x" + "cd" * 32), **change})
    assert drafted.value.message == caught.value.message


def test_use_refuses_units_that_are_none(registry: Registry, pyevm: Chain) -> None:
    grant_id = granted(registry, pyevm)
    receipt = receipt_for(registry, pyevm, grant_id)
    for units in (0, -2):
        with pytest.raises(UsageError, match=f"{units} is not a number of usage units") as caught:
            use(registry, grant_id, units, receipt, sender=pyevm.user)
        assert caught.value.options == ("units",)
    with pytest.raises(UsageError, match="1 unit was asked to be recorded, but the receipt says the job used 2"):
        use(registry, grant_id, 1, receipt, sender=pyevm.user)


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
    with pytest.raises(UsageError, match=f"grant {grant_id} expired at .*; it is now"):
        receipt_for(registry, pyevm, grant_id, job="late")  # new_receipt refuses what use would refuse
    with pytest.raises(UsageError, match=f"grant {grant_id} expired at .*; it is now"):
        use(registry, grant_id, 2, receipt_for(registry, pyevm, grant_id, job="late", check=False), sender=pyevm.user)


def test_a_revoked_grant(registry: Registry, pyevm: Chain) -> None:
    from dataseal.registry.services.grants import revoke

    grant_id = granted(registry, pyevm)
    receipt = receipt_for(registry, pyevm, grant_id)
    revoke(registry, grant_id, sender=pyevm.owner)
    with pytest.raises(UsageError, match=f"grant {grant_id} is Revoked: ask the asset owner for a new grant"):
        use(registry, grant_id, 2, receipt, sender=pyevm.user)
    with pytest.raises(UsageError, match=f"grant {grant_id} is Revoked: ask the asset owner for a new grant") as no:
        receipt_for(registry, pyevm, grant_id, job="after")  # receipt new refuses it as use would
    assert no.value.kind == ErrorKind.CONFLICT


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
    with pytest.raises(UsageError, match=r"1 of the 2 receipts was recorded already under grant 1 \(first: .*, "
                       r"job 'single', alone \(tx 0x"):
        use_batch(registry, grant_id, [single, receipt_for(registry, pyevm, grant_id, units=1, job="x")],
                  sender=pyevm.user)
    assert [type(r) for r in usage_records(registry, grant_id)] == [UsageBatchRecord, UsageRecord]


def test_a_batch_past_the_quota(registry: Registry, pyevm: Chain) -> None:
    grant_id = granted(registry, pyevm, quota=3)
    receipts = [receipt_for(registry, pyevm, grant_id, units=2, job=f"job-{i}") for i in range(2)]
    with pytest.raises(UsageError, match="has 3 of its 3 units left, 4 units were asked for"):
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
    from dataseal.registry.services.grant_terms import get_asset_leaves

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


# ----------------------------------------------------------------------------------------------- recorded twice


def test_a_receipt_of_a_batch_is_refused_alone_naming_the_batchs_tx(registry: Registry, pyevm: Chain) -> None:
    grant_id = granted(registry, pyevm)
    receipts = [receipt_for(registry, pyevm, grant_id, units=1, job=f"job-{i}") for i in range(2)]
    done = use_batch(registry, grant_id, receipts, sender=pyevm.user)
    count = sent(pyevm, pyevm.user)
    with pytest.raises(UsageError) as caught:
        use(registry, grant_id, 1, receipts[1], sender=pyevm.user)
    assert caught.value.message == (
        f"receipt {receipts[1].hash_hex} (job 'job-1') was recorded in the batch {done.batch.root_hex} (tx "
        f"{done.record.tx.tx_hash}, block {done.record.tx.block_number}, sequence 1) under grant {grant_id}")
    assert caught.value.kind == ErrorKind.CONFLICT and "recorded once" in caught.value.hint
    with pytest.raises(UsageError, match=rf"1 of the 2 receipts was recorded already under grant {grant_id} \(first: "
                       rf"receipt {receipts[0].hash_hex}, job 'job-0', in the batch {done.batch.root_hex} \(tx "
                       f"{done.record.tx.tx_hash}"):
        use_batch(registry, grant_id, [receipts[0], receipt_for(registry, pyevm, grant_id, units=1, job="new")],
                  sender=pyevm.user)
    assert sent(pyevm, pyevm.user) == count and pyevm.reader.grants.remaining(grant_id) == 8


def test_a_batch_whose_run_died_after_sending_still_guards_its_receipts(registry: Registry, pyevm: Chain) -> None:
    """The batch's transaction was mined but the run died before recording it (the local rows say "sent", not
    "recorded"): a member recorded alone is refused all the same — the chain has the batch."""
    grant_id = granted(registry, pyevm)
    receipts = [receipt_for(registry, pyevm, grant_id, units=1, job=f"job-{i}") for i in range(2)]
    with pytest.raises(Crash):
        use_batch(registry, grant_id, receipts, sender=pyevm.user, hook=crash_at("use-batch:submitted"))
    [batch] = usage_records(registry, grant_id)
    count = sent(pyevm, pyevm.user)
    with pytest.raises(UsageError, match=f"was recorded in the batch 0x{batch.receipts_root.hex()} "  # type: ignore[union-attr]
                       rf"\(tx {batch.tx.tx_hash}"):
        use(registry, grant_id, 1, receipts[0], sender=pyevm.user)
    assert sent(pyevm, pyevm.user) == count and pyevm.reader.grants.remaining(grant_id) == 8


def test_a_receipt_in_a_batch_that_may_be_in_flight_is_refused(registry: Registry, pyevm: Chain) -> None:
    """The batch's run died while handing its transaction to the node (it may arrive yet): recording one of its
    receipts alone waits for that batch to be finished."""
    grant_id = granted(registry, pyevm)
    receipts = [receipt_for(registry, pyevm, grant_id, units=1, job=f"job-{i}") for i in range(2)]
    with pytest.raises(Crash):
        use_batch(registry, grant_id, receipts, sender=pyevm.user, hook=crash_at("use-batch:submitting"))
    count = sent(pyevm, pyevm.user)
    with pytest.raises(UsageError, match=r"\(job 'job-0'\) is in the batch 0x[0-9a-f]{64}, whose transaction "
                       r"\(hash not recorded\) was sent and is not yet seen on chain") as caught:
        use(registry, grant_id, 1, receipts[0], sender=pyevm.user)
    assert caught.value.kind == ErrorKind.CONFLICT and "finish that batch first" in caught.value.hint
    assert sent(pyevm, pyevm.user) == count
    assert use_batch(registry, grant_id, receipts, sender=pyevm.user).record.count == 2  # finished, then
    with pytest.raises(UsageError, match="was recorded in the batch"):
        use(registry, grant_id, 1, receipts[0], sender=pyevm.user)


def test_a_receipt_recorded_alone_is_refused_in_a_batch_from_a_fresh_database(
        registry: Registry, pyevm: Chain, tmp_path: Path) -> None:
    """The chain alone shows a receipt recorded alone (its hash is in the event): another database sees it too."""
    grant_id = granted(registry, pyevm)
    single = receipt_for(registry, pyevm, grant_id, units=1, job="single")
    done = use(registry, grant_id, 1, single, sender=pyevm.user)
    with Database.open(f"sqlite:///{tmp_path / 'other.sqlite'}") as other_db:
        other = registry_on(pyevm, tmp_path / "other", other_db)
        count = sent(pyevm, pyevm.user)
        with pytest.raises(UsageError, match=rf"alone \(tx {done.record.tx.tx_hash}, block "):
            use_batch(other, grant_id, [single, receipt_for(registry, pyevm, grant_id, units=1, job="x")],
                      sender=pyevm.user)
        assert sent(pyevm, pyevm.user) == count


# ----------------------------------------------------------------------------------------------- private receipts


def test_a_private_receipt_is_checked_against_the_scope(registry: Registry, pyevm: Chain) -> None:
    """``disclose_indexes=False``: the registry that wrote the receipt keeps its indexes and checks them."""
    grant_id = granted(registry, pyevm, scope=range(5))
    with pytest.raises(UsageError, match=r"touched 2 rows outside grant 1's scope \(first: 5\)"):
        receipt_for(registry, pyevm, grant_id, indexes=["4-6"], disclose_indexes=False)
    outside = receipt_for(registry, pyevm, grant_id, indexes=["4-6"], disclose_indexes=False, check=False)
    assert outside.touched.indexes is None and outside.touched.count == 3
    count = sent(pyevm, pyevm.user)
    with pytest.raises(UsageError, match=r"touched 2 rows outside grant 1's scope \(first: 5\)") as caught:
        use(registry, grant_id, 2, outside, sender=pyevm.user)
    assert caught.value.kind == ErrorKind.CONFLICT and sent(pyevm, pyevm.user) == count
    inside = receipt_for(registry, pyevm, grant_id, indexes=["1-3"], disclose_indexes=False, job="inside")
    assert use(registry, grant_id, 2, inside, sender=pyevm.user).record.sequence == 1


def test_a_private_receipt_elsewhere_needs_its_indexes_and_the_scope(
        registry: Registry, pyevm: Chain, tmp_path: Path) -> None:
    """A registry that neither wrote the receipt nor made the grant: it must be given the touched indexes and the
    scope (or a multiproof), and never takes an unchecked scope as inside."""
    from dataseal.registry.scope import IndexTree

    grant_id = granted(registry, pyevm, scope=range(5))
    private = receipt_for(registry, pyevm, grant_id, indexes=["1-3"], disclose_indexes=False)
    with Database.open(f"sqlite:///{tmp_path / 'grantee.sqlite'}") as db:
        grantee = registry_on(pyevm, tmp_path / "grantee", db)
        count = sent(pyevm, pyevm.user)
        with pytest.raises(UsageError, match=r"gives only the root 0x[0-9a-f]{64} of the 3 rows it touched, so they "
                           "cannot be checked against grant 1's scope") as caught:
            use(grantee, grant_id, 2, private, sender=pyevm.user)
        assert caught.value.options == ("touched",)
        with pytest.raises(UsageError, match=r"the touched indexes given for .* \(2 rows: 1-2\) have the root .*, but "
                           "the receipt commits to 3 rows"):
            use(grantee, grant_id, 2, private, touched=[1, 2], sender=pyevm.user)
        with pytest.raises(UsageError, match="this registry does not hold the scope's indexes") as unknown:
            use(grantee, grant_id, 2, private, touched=["1-3"], sender=pyevm.user)
        assert unknown.value.options == ("scope", "scope_proof")
        with pytest.raises(UsageError, match=r"the scope given \(6 indexes: 0-5\) has the root .*, but grant 1's "
                           "scope root is"):
            use(grantee, grant_id, 2, private, touched=["1-3"], scope=range(6), sender=pyevm.user)
        wide = IndexTree.of(range(6))
        with pytest.raises(UsageError, match="the scope proof is for scope"):
            use(grantee, grant_id, 2, private, touched=["1-3"], scope_proof=wide.multiproof([1, 2, 3]),
                sender=pyevm.user)
        assert sent(pyevm, pyevm.user) == count
        proof = IndexTree.of(range(5)).multiproof([1, 2, 3])
        assert use(grantee, grant_id, 2, private, touched=["1-3"], scope_proof=proof,
                   sender=pyevm.user).record.sequence == 1
        public = receipt_for(registry, pyevm, grant_id, indexes=["0"], job="public", units=1)
        with pytest.raises(UsageError, match="does not hold the scope's indexes"):
            use(grantee, grant_id, 1, public, sender=pyevm.user)
        assert use(grantee, grant_id, 1, public, scope=range(5), sender=pyevm.user).record.sequence == 2
        later = receipt_for(registry, pyevm, grant_id, indexes=["4"], job="later", units=1)
        assert use(grantee, grant_id, 1, later, sender=pyevm.user).record.sequence == 3  # the scope was kept


def test_a_scope_given_for_a_grant_over_the_whole_asset_is_refused(registry: Registry, pyevm: Chain) -> None:
    grant_id = granted(registry, pyevm)
    with pytest.raises(UsageError, match="a scope was given, but grant 1 covers the whole asset"):
        use(registry, grant_id, 2, receipt_for(registry, pyevm, grant_id), scope=range(3), sender=pyevm.user)


# ----------------------------------------------------------------------------------------------- writing receipts


def test_new_receipt_refuses_indexes_beyond_the_asset(pyevm: Chain, registry_for: Any, tmp_path: Path) -> None:
    from dataseal.registry.sealing.options import SealOptions
    from dataseal.registry.services import assets

    data = tmp_path / "data.bin"
    data.write_bytes(bytes(range(250)) * 6)  # 3 chunks of 512
    owner = registry_for(pyevm, pyevm.owner)
    done = assets.register(owner, data, options=SealOptions(chunk_size=512), certificate=None)
    grant_id = grant(owner, done.asset_id, pyevm.user.address, PURPOSE, valid_from="now", until="30d",
                     quota=10).grant.grant_id
    user = registry_for(pyevm, pyevm.user)
    # (receipts.verify_receipt_in_asset's words: "1 chunks" there is not this service's)
    with pytest.raises(UsageError, match=r"touched 1 chunks beyond the asset's 3 chunks \(largest index 3"):
        receipt_for(user, pyevm, grant_id, unit="chunk", indexes=["0-3"])
    with pytest.raises(UsageError, match=r"touched 1 chunk beyond the asset's 3 chunks \(largest index 3"):
        receipt_for(user, pyevm, grant_id, unit="chunk", indexes=["1-3"], disclose_indexes=False)
    assert receipt_for(user, pyevm, grant_id, unit="chunk", indexes=["0-2"]).touched.count == 3


def test_draft_receipt_offline_is_written_unchecked(registry: Registry, pyevm: Chain, tmp_path: Path) -> None:
    """The node cannot be reached: the receipt is built from the data folder's deployment record and the purpose
    text, and says why it was not checked; the same receipt as the one written online."""
    from dataseal.chain.contracts.deployment import save_deployment
    from dataseal.registry.settings import Settings

    grant_id = granted(registry, pyevm)
    now = pyevm.now()
    values: dict[str, Any] = dict(unit="row", indexes=["0-9"], started_at=now, ended_at=now, units=2,
                                  result_hash="0x" + "cd" * 32)
    online = draft_receipt(registry, grant_id, "job-1", **values)
    assert online.checked and online.unchecked is None
    folder = tmp_path / "offline"
    save_deployment(folder, pyevm.deployment)
    settings = Settings(data_dir=folder, rpc_url="http://127.0.0.1:9", rpc_timeout=2)
    with Registry(settings) as offline:
        with pytest.raises(UsageError, match=r"the chain cannot be reached \(.*\), and this registry does not know "
                           "the purpose text of grant 1") as caught:
            draft_receipt(offline, grant_id, "job-1", **values)
        assert caught.value.options == ("purpose",)
        draft = draft_receipt(offline, grant_id, "job-1", purpose=PURPOSE, **values)
        scoped = draft_receipt(offline, grant_id, "job-1", purpose=PURPOSE, scope=range(10), **values)
    assert not draft.checked and "127.0.0.1:9" in (draft.unchecked or "")
    assert draft.receipt == online.receipt
    assert "scope" not in (draft.unchecked or "")  # the scope given offline is neither checked nor kept: it says so
    assert (scoped.unchecked or "").endswith("the scope given was not checked against the grant, nor kept: give it "
                                             "again when recording")
