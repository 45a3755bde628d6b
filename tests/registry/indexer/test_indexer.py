"""The indexer on an in-process py-evm chain: projections, resuming without gap or duplicate, dropping and
rebuilding to the same rows, another deployment, confirmations, reorganisations made with eth-tester's
snapshots, and follow()."""
from __future__ import annotations

import threading
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import StatementError

from dataseal.chain.contracts.deploy import deploy_contracts
from dataseal.errors import ConfigError
from dataseal.registry.db import Database
from dataseal.registry.db.models.chain import (
    AssetRow,
    BatchRow,
    ChainEvent,
    Checkpoint,
    EventAccount,
    GrantRow,
    IndexerState,
    RawLog,
    TradeRow,
    UsageRow,
)
from dataseal.registry.indexer import Indexer, IndexerStateError, ReorgTooDeep, SyncReport
from tests.conftest import Chain
from tests.registry.indexer.conftest import dump, h, tell_story


def logs_of(chain: Chain) -> list[tuple[str, int]]:
    """(tx hash, log index) of every log of the deployment, straight from eth_getLogs."""
    logs = chain.w3.eth.get_logs({"fromBlock": 0, "toBlock": "latest",  # type: ignore[typeddict-item]
                                  "address": list(chain.deployment.addresses().values())})
    return [(log["transactionHash"].to_0x_hex(), int(log["logIndex"])) for log in logs]


def count(db: Database, model: type) -> int:
    with db.session() as session:
        return int(session.execute(select(func.count()).select_from(model)).scalar_one())


def test_the_projections_follow_the_events(pyevm: Chain, database: Database) -> None:
    story = tell_story(pyevm)
    report = Indexer(database, pyevm.w3, pyevm.deployment).sync()
    assert isinstance(report, SyncReport)
    assert (report.from_block, report.to_block, report.tip, report.lag) == (
        pyevm.deployment.deploy_block, pyevm.w3.eth.block_number, pyevm.w3.eth.block_number, 0)
    assert report.events == len(logs_of(pyevm)) and report.reorgs == 0 and report.started_over is None
    owner, user, buyer = pyevm.owner.address, pyevm.user.address, pyevm.buyer.address
    with database.session() as s:
        asset = s.get(AssetRow, story.asset)
        assert asset is not None
        assert (asset.owner, asset.registrant, asset.status, asset.lineage, asset.parent_id) == (
            owner, owner, "Active", "None", None)
        assert asset.content_root == "0x" + h("story-root").hex() and asset.registered_at.tzinfo is UTC
        version = s.get(AssetRow, story.version)
        assert version is not None and (version.parent_id, version.lineage) == (story.asset, "Version")
        sold = s.get(AssetRow, story.sold)
        assert sold is not None and (sold.owner, sold.registrant) == (buyer, owner)  # the sale moved the token
        assert (sold.rights_type, sold.classification) == (3, 1)

        grant = s.get(GrantRow, story.grant)
        assert grant is not None
        assert (grant.asset_id, grant.grantee, grant.grantor, grant.quota, grant.used, grant.sequence) == (
            story.asset, user, owner, 100, 3 * 2 + 5, 4)
        assert (grant.status, grant.revoked, grant.revoked_by) == ("Revoked", True, owner)
        licence = s.get(GrantRow, story.licence)
        assert licence is not None and (licence.grantee, licence.status, licence.used) == (buyer, "Active", 0)

        usage = s.exec(select(UsageRow).order_by(UsageRow.sequence)).scalars().all()  # type: ignore[call-overload,arg-type]
        assert [(u.sequence, u.units, u.count, u.asset_id) for u in usage] == [
            (1, 2, 1, story.asset), (2, 2, 1, story.asset), (3, 2, 1, story.asset), (4, 5, 2, story.asset)]
        assert usage[0].receipt_hash == "0x" + h("story-job-0").hex() and usage[0].receipts_root is None
        assert usage[3].receipts_root == "0x" + h("story-receipts").hex() and usage[3].receipt_hash is None

        trades = {t.trade_id: t for t in s.exec(select(TradeRow)).scalars()}  # type: ignore[call-overload]
        assert (trades[story.licence_trade].settlement, trades[story.licence_trade].grant_id) == (
            "Licence", story.licence)
        assert (trades[story.sale_trade].settlement, trades[story.sale_trade].grant_id,
                trades[story.sale_trade].price) == ("Transfer", None, 900)
        batch = s.get(BatchRow, story.batch)
        assert batch is not None and (batch.count, batch.anchorer) == (7, owner)

        events = s.exec(select(ChainEvent).order_by(ChainEvent.block_number, ChainEvent.log_index)  # type: ignore[call-overload,arg-type]
                        ).scalars().all()
        by_name = {(e.event, e.grant_id): e for e in events}
        # usage and the revocation concern the asset through their grant
        assert by_name[("UsageRecorded", story.grant)].asset_id == story.asset
        assert by_name[("UsageBatchRecorded", story.grant)].asset_id == story.asset
        assert by_name[("GrantRevoked", story.grant)].asset_id == story.asset
        revoked = by_name[("GrantRevoked", story.grant)]
        assert revoked.contract == "GrantRegistry" and revoked.args["by"] == owner and "tx" not in revoked.args
        assert revoked.block_time.tzinfo is UTC
        trade = next(e for e in events if e.event == "TradeRecorded" and e.trade_id == story.licence_trade)
        assert (trade.asset_id, trade.grant_id, trade.contract) == (story.asset, story.licence, "TransactionLedger")
        roles = {(a.role, a.address) for a in s.exec(select(EventAccount).where(  # type: ignore[call-overload]
            EventAccount.event_id == trade.id)).scalars()}
        assert roles == {("seller", owner), ("buyer", buyer), ("recorder", owner)}
        mint = next(e for e in events if e.event == "Transfer" and e.asset_id == story.asset)
        minted = [a.role for a in s.exec(select(EventAccount).where(  # type: ignore[call-overload]
            EventAccount.event_id == mint.id)).scalars()]
        assert minted == ["to_address"]  # the zero address of a mint names nobody
    assert count(database, RawLog) == count(database, ChainEvent) == len(logs_of(pyevm))


def test_a_restart_resumes_with_no_gap_and_no_duplicate(pyevm: Chain, tmp_path: Path) -> None:
    tell_story(pyevm)
    middle = pyevm.w3.eth.block_number // 2
    with Database.open(f"sqlite:///{tmp_path / 'once.sqlite'}") as once, \
            Database.open(f"sqlite:///{tmp_path / 'twice.sqlite'}") as twice:
        Indexer(once, pyevm.w3, pyevm.deployment).sync()
        first = Indexer(twice, pyevm.w3, pyevm.deployment, page_blocks=2).sync(to_block=middle)
        assert first.to_block == middle and 0 < first.events < len(logs_of(pyevm))
        tell_story(pyevm, "more")  # the chain moves on while the indexer is down
        Indexer(once, pyevm.w3, pyevm.deployment).sync()
        second = Indexer(twice, pyevm.w3, pyevm.deployment, page_blocks=3).sync()  # a new process: a new indexer
        assert second.from_block == middle + 1 and first.events + second.events == len(logs_of(pyevm))
        assert Indexer(twice, pyevm.w3, pyevm.deployment).sync().events == 0  # nothing new: nothing written
        assert dump(twice, ids=False) == dump(once, ids=False)
        with twice.session() as s:
            keys = s.execute(select(ChainEvent.tx_hash, ChainEvent.log_index)).all()  # type: ignore[call-overload]
        assert sorted((str(t), int(i)) for t, i in keys) == sorted(logs_of(pyevm))


def test_dropping_the_index_and_rebuilding_it_gives_the_same_rows(pyevm: Chain, database: Database) -> None:
    tell_story(pyevm)
    indexer = Indexer(database, pyevm.w3, pyevm.deployment, page_blocks=4)
    indexer.sync()
    before = dump(database, ids=False)
    assert indexer.clear() == len(logs_of(pyevm))
    assert count(database, ChainEvent) == count(database, IndexerState) == count(database, AssetRow) == 0
    assert indexer.sync().events == len(logs_of(pyevm))
    assert dump(database, ids=False) == before


def test_another_deployment_empties_the_index_and_says_so(pyevm: Chain, database: Database) -> None:
    tell_story(pyevm)
    Indexer(database, pyevm.w3, pyevm.deployment).sync()
    other = replace(pyevm, deployment=deploy_contracts(pyevm.w3, pyevm.operator))  # a second set on the chain
    tell_story(other, "other")
    report = Indexer(database, other.w3, other.deployment).sync()
    assert report.started_over is not None
    assert f"AssetRegistry {pyevm.deployment.asset_registry}" in report.started_over
    assert f"AssetRegistry {other.deployment.asset_registry}" in report.started_over
    assert f"its {len(logs_of(pyevm))} events were dropped" in report.started_over
    assert count(database, ChainEvent) == len(logs_of(other)) == report.events
    assert report.from_block == other.deployment.deploy_block
    with database.session() as s:
        addresses = set(s.execute(select(RawLog.address)).scalars())  # type: ignore[call-overload]
    assert addresses <= set(other.deployment.addresses().values())
    assert Indexer(database, other.w3, other.deployment).sync().started_over is None


def test_confirmations_leave_the_newest_blocks_for_later(pyevm: Chain, database: Database) -> None:
    tell_story(pyevm)
    tip = pyevm.w3.eth.block_number
    report = Indexer(database, pyevm.w3, pyevm.deployment, confirmations=3).sync()
    assert (report.to_block, report.lag, report.tip) == (tip - 3, 3, tip)
    with database.session() as s:
        newest = s.execute(select(func.max(ChainEvent.block_number))).scalar_one()
    assert newest <= tip - 3
    assert Indexer(database, pyevm.w3, pyevm.deployment).sync().to_block == tip


@pytest.mark.parametrize(("option", "value"), [("confirmations", -1), ("page_blocks", 0), ("reorg_window", 0),
                                               ("page_blocks", True)])
def test_bad_settings_are_refused(pyevm: Chain, database: Database, option: str, value: int) -> None:
    with pytest.raises(ConfigError) as refused:
        Indexer(database, pyevm.w3, pyevm.deployment, **{option: value})  # type: ignore[arg-type]
    assert f"the indexer's {option.replace('_', ' ')} must be a whole number" in refused.value.message
    assert refused.value.options == ((option,) if option == "confirmations" else ())


def test_a_reorganisation_drops_the_orphaned_rows_and_rebuilds_the_projections(
        pyevm: Chain, database: Database, tmp_path: Path) -> None:
    story = tell_story(pyevm)
    assert pyevm.tester is not None
    indexer = Indexer(database, pyevm.w3, pyevm.deployment)
    indexer.sync()
    fork = pyevm.w3.eth.block_number
    snapshot = pyevm.tester.take_snapshot()
    buyer, owner = pyevm.as_(pyevm.buyer), pyevm.as_(pyevm.owner)
    licence = story.licence  # the buyer's
    orphaned = [buyer.ledger.record_usage(licence, 3, h(f"orphan-{i}")) for i in range(3)]
    owner.grants.revoke(licence, h("orphaned revocation"))
    indexer.sync()
    with database.session() as s:
        grant = s.get(GrantRow, licence)
        assert grant is not None and (grant.used, grant.status) == (9, "Revoked")
    pyevm.tester.revert_to_snapshot(snapshot)
    kept = [buyer.ledger.record_usage(licence, 1, h(f"kept-{i}")) for i in range(5)]  # other blocks, same heights
    report = indexer.sync()
    assert report.reorgs == 1 and report.dropped_blocks == 4 and report.to_block == fork + 5
    with database.session() as s:
        grant = s.get(GrantRow, licence)
        assert grant is not None and (grant.used, grant.sequence, grant.status, grant.revoked) == (5, 5, "Active",
                                                                                                   False)
        hashes = set(s.execute(select(ChainEvent.tx_hash).where(  # type: ignore[call-overload]
            ChainEvent.block_number > fork)).scalars())
        assert hashes == {u.tx.tx_hash for u in kept}
        assert not hashes & {u.tx.tx_hash for u in orphaned}
        checkpoints = {n: hsh for n, hsh in s.execute(select(Checkpoint.number, Checkpoint.hash))}  # type: ignore[call-overload]
    for number in range(fork + 1, fork + 6):
        assert checkpoints[number] == pyevm.w3.eth.get_block(number)["hash"].to_0x_hex()
    # the same rows as an index built from scratch on the chain as it is now
    with Database.open(f"sqlite:///{tmp_path / 'fresh.sqlite'}") as fresh:  # (on PostgreSQL, url.database is a name)
        Indexer(fresh, pyevm.w3, pyevm.deployment).sync()
        assert dump(fresh, ids=False) == dump(database, ids=False)


def test_a_reorganisation_deeper_than_the_window_is_refused(pyevm: Chain, database: Database) -> None:
    tell_story(pyevm)
    assert pyevm.tester is not None
    snapshot = pyevm.tester.take_snapshot()
    user_story = tell_story(pyevm, "doomed")
    indexer = Indexer(database, pyevm.w3, pyevm.deployment, reorg_window=3)
    indexer.sync()
    last = indexer.last_block()
    pyevm.tester.revert_to_snapshot(snapshot)
    tell_story(pyevm, "replacement")
    with pytest.raises(ReorgTooDeep) as refused:
        indexer.sync()
    assert "reorganised deeper than 3 blocks" in refused.value.message
    assert f"from block {last - 2} to {last}" in refused.value.message
    assert "index the chain again from the deployment block" in refused.value.hint
    assert refused.value.options == ("rebuild",)
    assert indexer.last_block() == last and count(database, AssetRow) > 0  # nothing half-rolled back
    with database.session() as s:
        assert s.get(AssetRow, user_story.asset) is not None
    indexer.clear()
    assert indexer.sync().events == len(logs_of(pyevm))


def test_follow_syncs_until_stopped(pyevm: Chain, database: Database) -> None:
    indexer = Indexer(database, pyevm.w3, pyevm.deployment)
    stop = threading.Event()
    reports: list[SyncReport] = []

    def on_sync(report: SyncReport) -> None:
        reports.append(report)
        if len(reports) == 1:
            tell_story(pyevm)  # events arrive between two polls
        else:
            stop.set()

    indexer.follow(stop, poll_interval=0, on_sync=on_sync)
    assert len(reports) == 2 and reports[1].events == len(logs_of(pyevm)) - reports[0].events
    assert reports[1].to_block == pyevm.w3.eth.block_number
    with pytest.raises(ConfigError, match="the poll interval must be 0 s or more"):
        indexer.follow(stop, poll_interval=-1)


def test_a_second_indexer_that_fell_behind_does_not_write(pyevm: Chain, database: Database) -> None:
    tell_story(pyevm)
    slow = Indexer(database, pyevm.w3, pyevm.deployment)
    fast = Indexer(database, pyevm.w3, pyevm.deployment)
    start = slow.last_block() + 1
    page = slow._read(start, start + 2, pyevm.w3.eth.block_number)  # read, not yet written
    fast.sync()
    with pytest.raises(IndexerStateError) as refused:
        slow._write(page)
    assert f"the index's last block changed to {fast.last_block()}" in refused.value.message
    assert count(database, ChainEvent) == len(logs_of(pyevm))


def test_the_state_records_the_deployment_and_when(pyevm: Chain, database: Database) -> None:
    moment = datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC)
    Indexer(database, pyevm.w3, pyevm.deployment, clock=lambda: moment).sync()
    with database.session() as s:
        state = s.get(IndexerState, 1)
    d = pyevm.deployment
    assert state is not None
    assert (state.chain_id, state.asset_registry, state.grant_registry, state.transaction_ledger,
            state.deploy_block, state.last_block, state.updated_at) == (
        d.chain_id, d.asset_registry, d.grant_registry, d.transaction_ledger, d.deploy_block,
        pyevm.w3.eth.block_number, moment)


def _event_ids(db: Database) -> list[int]:
    with db.session() as s:
        return [int(i) for i in s.execute(select(ChainEvent.id).order_by(  # type: ignore[call-overload]
            ChainEvent.block_number, ChainEvent.log_index)).scalars()]  # type: ignore[arg-type]


def test_event_ids_are_numbered_in_chain_order_as_the_database_would(pyevm: Chain, database: Database) -> None:
    """The indexer numbers a page's events itself (one bulk insert): in chain order, and so that the database's
    own numbering (SQLite's rowid, PostgreSQL's sequence) goes on after them with no collision."""
    tell_story(pyevm)
    indexer = Indexer(database, pyevm.w3, pyevm.deployment, page_blocks=3)
    indexer.sync()
    ids = _event_ids(database)
    assert len(ids) == len(logs_of(pyevm)) and ids == sorted(ids) and len(set(ids)) == len(ids)
    with database.session() as s:
        with s.no_autoflush:
            row = ChainEvent(block_number=10**9, log_index=0, tx_hash="0x" + "ab" * 32, block_hash="0x" + "cd" * 32,
                             block_time=datetime.now(UTC), contract="AssetRegistry", event="Stranger", args={})
            s.add(row)
        s.flush()
        assert row.id is not None and row.id > max(ids)  # numbered by the database itself: after the indexer's
        s.rollback()
    indexer.clear()
    indexer.sync()  # numbered again after a clear: still unique, still in chain order
    again = _event_ids(database)
    assert len(again) == len(ids) and again == sorted(again)


def test_events_are_numbered_with_returning_where_the_database_is_not_known(
        pyevm: Chain, database: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    from dataseal.registry.indexer import indexer as module

    tell_story(pyevm)
    monkeypatch.setattr(module, "_next_event_ids", lambda session, count: None)
    Indexer(database, pyevm.w3, pyevm.deployment, page_blocks=3).sync()
    ids = _event_ids(database)
    assert len(ids) == len(logs_of(pyevm)) and ids == sorted(ids)
    with database.session() as s:
        named = s.execute(select(EventAccount.event_id).distinct()).scalars().all()  # type: ignore[call-overload]
    assert set(named) <= set(ids) and named


def test_rows_inserted_in_bulk_read_back_as_written(database: Database) -> None:
    """insert_rows (COPY on PostgreSQL, executemany elsewhere) binds each value as its column type does: the
    largest uint256, None, an aware time, JSON with characters COPY's text format escapes."""
    from dataseal.registry.db.models.chain import table_of
    from dataseal.registry.indexer.indexer import insert_rows

    when = datetime(2026, 12, 4, 11, 49, 3, 123456, tzinfo=UTC)
    args = {"note": "tab\there\nnew line \\ backslash, 'quote' \"double\" 数据 \N{SNOWMAN}", "big": 2**255,
            "nested": [1, None, {"x": True}]}
    event = {"id": 7, "block_number": 2**40, "log_index": 3, "tx_hash": "0x" + "ab" * 32,
             "block_hash": "0x" + "cd" * 32, "block_time": when, "contract": "TransactionLedger",
             "event": "UsageRecorded", "asset_id": None, "grant_id": 5, "trade_id": None, "args": args}
    usage = {"tx_hash": "0x" + "ab" * 32, "log_index": 3, "grant_id": 5, "asset_id": None, "sequence": 1,
             "units": 2**256 - 1, "receipt_hash": None, "receipts_root": "0x" + "ef" * 32, "count": 2,
             "recorder": "0x" + "12" * 20, "block_number": 2**40, "block_time": when}
    with database.session() as s:
        insert_rows(s, table_of(ChainEvent), [event])
        insert_rows(s, table_of(UsageRow), [usage])
        insert_rows(s, table_of(UsageRow), [])  # nothing to insert: nothing done
    with database.session() as s:
        stored = s.get(ChainEvent, 7)
        used = s.get(UsageRow, ("0x" + "ab" * 32, 3))
        assert stored is not None and used is not None
        assert (stored.args, stored.block_time, stored.block_number, stored.asset_id) == (args, when, 2**40, None)
        assert (used.units, used.receipt_hash, used.block_time, used.count) == (2**256 - 1, None, when, 2)


def test_a_naive_time_is_refused_by_a_bulk_insert_as_by_the_orm(database: Database) -> None:
    from dataseal.registry.db.models.chain import table_of
    from dataseal.registry.indexer.indexer import insert_rows

    row = {"number": 1, "hash": "0x" + "ab" * 32, "parent_hash": None, "timestamp": 1}
    with database.session() as s:
        insert_rows(s, table_of(Checkpoint), [row])
    naive = {"tx_hash": "0x" + "ab" * 32, "log_index": 0, "grant_id": 1, "asset_id": None, "sequence": 1, "units": 1,
             "receipt_hash": None, "receipts_root": None, "count": 1, "recorder": "0x" + "12" * 20,
             "block_number": 1, "block_time": datetime(2026, 1, 1)}
    refused = pytest.raises((ValueError, StatementError), match="a naive datetime .* cannot be stored")
    with refused, database.session() as s:
        insert_rows(s, table_of(UsageRow), [naive])
    assert count(database, UsageRow) == 0 and count(database, Checkpoint) == 1


def test_a_large_sync_refreshes_postgresqls_statistics(
        pyevm: Chain, database: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    """After a sync that wrote many events the planner knows the tables' sizes (ANALYZE, on PostgreSQL only);
    a small sync leaves it to autovacuum."""
    from sqlalchemy import text

    from dataseal.registry.indexer import indexer as module

    tell_story(pyevm)
    indexer = Indexer(database, pyevm.w3, pyevm.deployment)
    monkeypatch.setattr(module, "ANALYZE_AFTER_EVENTS", len(logs_of(pyevm)) + 1)  # more than this sync writes
    indexer.sync()

    def analyzed() -> bool:
        with database.session() as s:
            if database.dialect == "postgresql":
                return bool(s.execute(text("SELECT last_analyze IS NOT NULL FROM pg_stat_user_tables "
                                           "WHERE relname = 'chain_event'")).scalar_one())
            return bool(s.execute(text("SELECT count(*) FROM sqlite_master WHERE name = 'sqlite_stat1'")).scalar_one())

    assert not analyzed()
    indexer.clear()
    monkeypatch.setattr(module, "ANALYZE_AFTER_EVENTS", len(logs_of(pyevm)))  # exactly what it writes
    indexer.sync()
    assert analyzed() is (database.dialect == "postgresql")


def test_a_malformed_log_stops_the_sync_with_nothing_of_its_page_written(
    pyevm: Chain, database: Database, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A log the node serves that does not decode as its event (here: an AssetRegistered whose data lost its last
    byte) stops the sync with MalformedLog naming it; the page's transaction writes nothing, so a sync from a node
    that serves the real log picks up where the index stopped."""
    from dataseal.chain.contracts.events import MalformedLog, as_int
    from dataseal.chain.contracts.records import Registration

    indexer = Indexer(database, pyevm.w3, pyevm.deployment)
    indexer.sync()
    before = (count(database, ChainEvent), count(database, RawLog))
    last = indexer.sync().to_block
    record = pyevm.as_(pyevm.owner).registry.register(Registration(h("malformed"), h("manifest"), 1, 0))
    read = indexer.logs.logs

    def corrupted(*args: object, **kwargs: object) -> object:
        for log in read(*args, **kwargs):  # type: ignore[arg-type]
            yield {**log, "data": log["data"][:-2]} if as_int(log["logIndex"]) == record.tx.log_index else log

    monkeypatch.setattr(indexer.logs, "logs", corrupted)
    with pytest.raises(MalformedLog, match=f"log {record.tx.log_index} of transaction {record.tx.tx_hash}, block "
                       f"{record.tx.block_number}, from AssetRegistry at .* is not a valid AssetRegistered event: "
                       "InsufficientDataBytes") as caught:
        indexer.sync()
    assert caught.value.event == "AssetRegistered"
    assert (count(database, ChainEvent), count(database, RawLog)) == before
    with database.session() as session:
        state = session.get(IndexerState, 1)
        assert state is not None and state.last_block == last
        assert session.get(AssetRow, record.asset_id) is None
    monkeypatch.undo()
    assert indexer.sync().events > 0
    with database.session() as session:
        assert session.get(AssetRow, record.asset_id) is not None
