"""An account's trail from the registry's index, on SQLite and PostgreSQL: every event naming the address once, in
chain order, across page boundaries (an event naming it in several roles included); the page read through the
account index (the SQLite plan: no scan, no sort)."""
from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import insert, text
from sqlalchemy.dialects import sqlite

from dataseal.registry.audit import AccountSubject, ChainTrailSource, collect_trail
from dataseal.registry.audit.db_source import DbTrailSource, account_page_query, page_query
from dataseal.registry.audit.entries import Cursor
from dataseal.registry.db import Database
from dataseal.registry.db.models.chain import ChainEvent, EventAccount
from dataseal.registry.indexer import Indexer
from tests.registry.audit.conftest import History

ALICE = "0x" + "A1" * 20
BOB = "0x" + "B2" * 20
NOBODY = "0x" + "12" * 20
T0 = datetime(2024, 5, 1, tzinfo=UTC)

#: (block, log index, {address: roles}) of each event, in chain order.
EVENTS: list[tuple[int, int, dict[str, tuple[str, ...]]]] = [
    (10, 0, {ALICE: ("grantee", "recorder")}),
    (10, 1, {BOB: ("recorder",)}),
    (10, 2, {ALICE: ("seller", "recorder", "buyer"), BOB: ("grantor",)}),
    (11, 0, {ALICE: ("recorder",)}),
    (11, 1, {ALICE: ("grantee", "recorder"), BOB: ("grantor",)}),
    (13, 0, {BOB: ("by",)}),
    (13, 4, {ALICE: ("by",)}),
    (14, 0, {ALICE: ("grantee", "recorder")}),
]


def fill(db: Database) -> None:
    events: list[dict[str, Any]] = []
    accounts: list[dict[str, Any]] = []
    for number, (block, log, named) in enumerate(EVENTS, start=1):
        events.append({"id": number, "block_number": block, "log_index": log, "tx_hash": f"0x{number:064x}",
                       "block_hash": f"0x{block:064x}", "block_time": T0, "contract": "TransactionLedger",
                       "event": "UsageRecorded", "asset_id": 1, "grant_id": 1, "trade_id": None,
                       "args": {"grant_id": 1, "recorder": next(iter(named)), "units": 1, "sequence": number,
                                "receipt_hash": "0x" + "00" * 32}})
        accounts += [{"event_id": number, "role": role, "address": address, "block_number": block,
                      "log_index": log} for address, roles in named.items() for role in roles]
    with db.session() as session:
        session.execute(insert(ChainEvent), events)
        session.execute(insert(EventAccount), accounts)


def expected(address: str) -> list[Cursor]:
    return [Cursor(block, log) for block, log, named in EVENTS if address in named]


def read_pages(source: DbTrailSource, address: str, limit: int) -> list[list[Cursor]]:
    pages: list[list[Cursor]] = []
    after: Cursor | None = None
    while True:
        page = source.account_trail(address, after=after, limit=limit)
        pages.append([entry.cursor for entry in page.entries])
        if page.next_cursor is None:
            return pages
        assert page.next_cursor == page.entries[-1].cursor and len(page.entries) == limit
        after = page.next_cursor


def test_each_event_once_in_chain_order_whatever_the_page(database: Database) -> None:
    fill(database)
    source = DbTrailSource(database)
    for address in (ALICE, BOB):
        for limit in range(1, len(EVENTS) + 2):
            pages = read_pages(source, address, limit)
            assert [cursor for page in pages for cursor in page] == expected(address), (address, limit)
            assert all(len(page) == limit for page in pages[:-1]), (address, limit)
    assert read_pages(source, NOBODY, 3) == [[]]
    # a cursor between the events of an address, and one past its last
    assert [e.cursor for e in source.account_trail(ALICE, after=Cursor(10, 1), limit=2).entries] == [(10, 2), (11, 0)]
    past = source.account_trail(ALICE, after=Cursor(14, 0), limit=2)
    assert past.entries == () and past.next_cursor is None


def test_the_indexed_account_trails_are_the_chains(history: History, database: Database) -> None:
    chain = history.chain
    Indexer(database, chain.w3, chain.deployment).sync()
    recomputed = ChainTrailSource(chain.w3, chain.deployment)
    for address in (chain.user.address, chain.buyer.address, chain.owner.address, chain.reviewer.address):
        truth = collect_trail(recomputed, AccountSubject(address))
        assert truth, address
        for page in (1, 2, 50):
            assert collect_trail(DbTrailSource(database), AccountSubject(address), page=page) == truth, (address, page)


def test_sqlite_reads_a_page_through_the_account_index(tmp_path: Path) -> None:
    db = Database.open(f"sqlite:///{tmp_path / 'registry.sqlite'}")
    try:
        fill(db)
        for after in (None, Cursor(11, 0)):
            query = account_page_query(ALICE, after, 3)
            statement = str(query.compile(dialect=sqlite.dialect(), compile_kwargs={"literal_binds": True}))
            with db.engine.connect() as connection:
                plan = " / ".join(str(row[3]) for row in connection.execute(text("EXPLAIN QUERY PLAN " + statement)))
            bound = "(address=? AND block_number>?)" if after else "(address=?)"
            assert f"SEARCH chain_event_account USING INDEX ix_chain_event_account_trail {bound}" in plan, plan
            assert "TEMP B-TREE" not in plan and "SCAN" not in plan, plan  # no sort, no scan: the page and no more
    finally:
        db.close()


def test_an_asset_page_seeks_to_its_cursor_in_the_asset_index(database: Database) -> None:
    """A later page of an asset's trail starts its index read at the cursor: on PostgreSQL the block bound is in the
    index condition (with the OR alone it was a filter over every entry before the cursor); SQLite searches the
    same range. The rows are the page's."""
    fill(database)
    postgres = database.engine.dialect.name == "postgresql"
    for after in (None, Cursor(11, 0)):
        query = page_query(ChainEvent.__table__.c.asset_id == 1, after, 3)  # type: ignore[attr-defined]
        statement = str(query.compile(dialect=database.engine.dialect, compile_kwargs={"literal_binds": True}))
        with database.engine.connect() as connection:
            if postgres:
                connection.execute(text("SET enable_seqscan = off"))  # 8 rows: make the planner show its index read
            plan = " / ".join(str(row[-1]) for row in connection.execute(text("EXPLAIN " + (
                "" if postgres else "QUERY PLAN ") + statement)))
            read = [Cursor(row["block_number"], row["log_index"]) for row in connection.execute(query).mappings()]
        if postgres:
            bound = "Index Cond: ((asset_id = 1) AND (block_number >= 11))" if after else "Index Cond: (asset_id = 1)"
        else:
            bound = ("SEARCH chain_event USING INDEX ix_chain_event_asset "
                     + ("(asset_id=? AND block_number>?)" if after else "(asset_id=?)"))
        assert bound in plan, plan
        every = [Cursor(block, log) for block, log, _ in EVENTS]  # every event is asset 1's
        assert read == [c for c in every if after is None or c > after][:4]
