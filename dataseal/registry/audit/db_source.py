"""Trails served from the registry's index: the indexer's :class:`ChainEvent` rows (one per decoded event, with
the asset, grant and trade it concerns) and :class:`EventAccount` rows (every address an event names).

Entries are rebuilt from a row's contract, event, arguments, position and block time with the same
function the chain source uses (:func:`~dataseal.registry.audit.entries.compute_entry`), so that the two
compare field by field; only the asset of a usage record is the row's own (usage names its grant, and the
indexer resolved the grant's asset). The derived registrations of an asset's trail are found through the
asset projection's ``parent_id``.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast

from sqlalchemy import ColumnElement, RowMapping, Select, Table, and_, exists, or_, select
from sqlmodel import Session, SQLModel

from dataseal.registry.audit.entries import AccountSubject, AssetSubject, Cursor, Subject, TrailEntry, compute_entry
from dataseal.registry.audit.errors import UnknownAsset
from dataseal.registry.audit.sources import DEFAULT_PAGE, TrailPage, check_limit
from dataseal.registry.db import Database
from dataseal.registry.db.models.chain import AssetRow, ChainEvent, EventAccount


def _table(model: type[SQLModel]) -> Table:
    return cast(Table, getattr(model, "__table__"))  # noqa: B009  (SQLModel does not type __table__)


_EVENTS = _table(ChainEvent)
_ACCOUNTS = _table(EventAccount)
_ASSETS = _table(AssetRow)


class DbTrailSource:
    """Trails from the registry database the indexer fills (no node needed)."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def asset_trail(self, asset_id: int, *, after: Cursor | None = None, limit: int = DEFAULT_PAGE) -> TrailPage:
        check_limit(limit)
        with self.db.session() as session:
            # The asset's own page, and the registrations derived from it, merged, rather than one query with OR:
            # each reads the asset index in chain order and stops after the page (an asset with 100,000 usage
            # records would otherwise be read whole and sorted for a page); the children are looked up first, so
            # that no plan scans the events for the few registrations.
            rows = _page_rows(session, _EVENTS.c.asset_id == asset_id, after, limit)
            found: Any = session.execute(select(_ASSETS.c.asset_id).where(_ASSETS.c.parent_id == asset_id)).scalars()
            children = [int(child) for child in found]
            if children:
                derived = and_(_EVENTS.c.asset_id.in_(children), _EVENTS.c.event == "AssetRegistered")
                rows = _merged(rows, _page_rows(session, derived, after, limit), limit)
            if not rows and after is None:
                raise UnknownAsset(f"asset {asset_id} is not in the registry's index ({self.db.url})",
                                   hint="check the asset id; if it was registered lately, index the chain first",
                                   options=("database_url",))
        return _page(AssetSubject(asset_id), rows, limit)

    def account_trail(self, address: str, *, after: Cursor | None = None, limit: int = DEFAULT_PAGE) -> TrailPage:
        check_limit(limit)
        with self.db.session() as session:
            rows = list(session.execute(account_page_query(address, after, limit)).mappings())
        return _page(AccountSubject(address), rows, limit)


def account_page_query(address: str, after: Cursor | None, limit: int) -> Select[Any]:
    """The query of an account trail's page: the first ``limit + 1`` events naming ``address`` after ``after``, in
    chain order, each once.

    A keyset read of the account index (address, block, log index), joined to the events by primary key and
    stopped after the page: each database reads the page's index entries and no more. (``id IN (every event
    naming the address)``, ordered by the events' own order, made SQLite build and sort the whole list for one
    page — 70 ms at 100,000 events — and PostgreSQL walk the chain's events from the cursor, checking each.) The
    cursor is ``block >= b AND (block > b OR log > l)``: the first term bounds the index range, where an ``OR``
    alone would be a filter over every entry of the address before the cursor. An event that names the address
    in several roles has an index entry for each: only its first role's is kept, by a probe of the primary key
    (event, role) per entry — not DISTINCT, which PostgreSQL plans as a sort of the address's every entry.
    """
    accounts = _ACCOUNTS.c
    earlier_role = _ACCOUNTS.alias("earlier_role")
    query = (
        select(_EVENTS).join(_ACCOUNTS, _EVENTS.c.id == accounts.event_id)
        .where(accounts.address == address,
               ~exists().where(earlier_role.c.event_id == accounts.event_id, earlier_role.c.role < accounts.role,
                               earlier_role.c.address == address))
    )
    if after is not None:
        block, log = after
        query = query.where(accounts.block_number >= block,
                            or_(accounts.block_number > block, accounts.log_index > log))
    return query.order_by(accounts.block_number, accounts.log_index).limit(limit + 1)


def _page_rows(session: Session, condition: ColumnElement[bool], after: Cursor | None,
               limit: int) -> list[RowMapping]:
    return list(session.execute(page_query(condition, after, limit)).mappings())


def page_query(condition: ColumnElement[bool], after: Cursor | None, limit: int) -> Select[Any]:
    """The first ``limit + 1`` events matching ``condition`` after ``after``, in chain order (an asset's page:
    ``condition`` on the asset column, read through its (asset, block, log index) index)."""
    query = select(_EVENTS).where(condition)
    if after is not None:
        block, log = after
        # the range bound first: with the OR alone, a plan filters every entry before the cursor instead of
        # seeking to it (a later page of an asset with 100,000 usage records would read them all)
        query = query.where(_EVENTS.c.block_number >= block,
                            or_(_EVENTS.c.block_number > block,
                                and_(_EVENTS.c.block_number == block, _EVENTS.c.log_index > log)))
    return query.order_by(_EVENTS.c.block_number, _EVENTS.c.log_index).limit(limit + 1)


def _merged(first: list[RowMapping], second: list[RowMapping], limit: int) -> list[RowMapping]:
    """The first ``limit + 1`` rows of two pages in chain order (a row in both, once)."""
    if not second:
        return first
    rows = {row["id"]: row for row in (*first, *second)}
    return sorted(rows.values(), key=lambda row: (row["block_number"], row["log_index"]))[:limit + 1]


def entry_of_row(row: Mapping[Any, Any]) -> TrailEntry:
    """The trail entry of an indexed event (a row of :class:`ChainEvent`, or its mapping)."""
    return compute_entry(contract=row["contract"], event=row["event"], args=dict(row["args"]),
                         block_number=int(row["block_number"]), log_index=int(row["log_index"]),
                         tx_hash=row["tx_hash"], block_hash=row["block_hash"], time=row["block_time"],
                         asset_id=row["asset_id"])


def _page(subject: Subject, rows: list[RowMapping], limit: int) -> TrailPage:
    entries = [entry_of_row(row) for row in rows[:limit]]
    more = len(rows) > limit
    return TrailPage(subject, tuple(entries), entries[-1].cursor if more else None)
