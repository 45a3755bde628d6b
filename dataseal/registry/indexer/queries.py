"""What the services read of the index: an asset's or an account's events in chain order, an asset, its
grants, a grant's usage. Lists page by a cursor, the (block number, log index) of the last row of the
previous page: a page is the rows after it, in chain order, at most ``limit`` of them.

An indexed asset's ``status`` is the last one an event set. Two changes emit nothing: a Pending registration
whose notice period has passed is Active, and an Active one past its ``valid_until`` is Expired (AssetRegistry's
``statusOf`` derives both from the block's time). :func:`compute_status_at` derives them the same way at a given
time, and :func:`get_asset_public` / :func:`asset_public` give the public view with that status.
"""
from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import and_, or_
from sqlmodel import Session, col, select

from dataseal.chain.values import address as checked_address
from dataseal.errors import InvalidInput
from dataseal.registry.db.models.chain import (
    AssetPublic,
    AssetRow,
    ChainEvent,
    EventAccount,
    GrantRow,
    IndexerState,
    UsageRow,
)

#: (block number, log index) of the last row of the previous page.
Cursor = tuple[int, int]
DEFAULT_LIMIT = 100
MAX_LIMIT = 1000


def verify_limit(limit: int) -> None:
    """A page holds 1 to :data:`MAX_LIMIT` rows; :class:`InvalidInput` otherwise."""
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_LIMIT:
        raise InvalidInput(f"a page holds 1 to {MAX_LIMIT} rows, got a limit of {limit!r}",
                           hint=f"give a limit from 1 to {MAX_LIMIT}")


def verify_cursor(after: Cursor | None) -> None:
    """A cursor is None or two whole numbers from 0 (block number, log index); :class:`InvalidInput` otherwise."""
    if after is None:
        return
    if (not isinstance(after, tuple) or len(after) != 2
            or not all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in after)):
        raise InvalidInput(f"a page cursor is (block number, log index), got {after!r}",
                           hint="give the block number and log index of the last row of the previous page")


def _after(block_number: Any, log_index: Any, after: Cursor | None) -> Any:
    if after is None:
        return True
    block, index = after
    return or_(block_number > block, and_(block_number == block, log_index > index))


def asset_events(session: Session, asset_id: int, *, after: Cursor | None = None,
                 limit: int = DEFAULT_LIMIT) -> Sequence[ChainEvent]:
    """The events of ``asset_id`` (its registration, status changes, transfers, grants and their usage and
    revocations, trades) after ``after``, in chain order."""
    verify_limit(limit)
    verify_cursor(after)
    statement = (
        select(ChainEvent)
        .where(ChainEvent.asset_id == asset_id, _after(col(ChainEvent.block_number), col(ChainEvent.log_index), after))
        .order_by(col(ChainEvent.block_number), col(ChainEvent.log_index))
        .limit(limit)
    )
    return session.exec(statement).all()


def account_events(session: Session, address: str, *, after: Cursor | None = None,
                   limit: int = DEFAULT_LIMIT) -> Sequence[ChainEvent]:
    """The events that name ``address`` (in any role) after ``after``, in chain order; an event that names it
    twice comes once. A malformed address raises :class:`InvalidInput`."""
    verify_limit(limit)
    verify_cursor(after)
    account = checked_address(address, "the account")
    ids = (  # (block, log index) selected too: PostgreSQL orders a DISTINCT by selected columns only
        select(EventAccount.event_id, EventAccount.block_number, EventAccount.log_index)
        .where(EventAccount.address == account,
               _after(col(EventAccount.block_number), col(EventAccount.log_index), after))
        .distinct()
        .order_by(col(EventAccount.block_number), col(EventAccount.log_index))
        .limit(limit)
    )
    event_ids = [row[0] for row in session.exec(ids).all()]
    if not event_ids:
        return []
    statement = (select(ChainEvent).where(col(ChainEvent.id).in_(event_ids))
                 .order_by(col(ChainEvent.block_number), col(ChainEvent.log_index)))
    return session.exec(statement).all()


def get_asset(session: Session, asset_id: int) -> AssetRow | None:
    """The indexed asset ``asset_id``, or None when the index has not seen it registered."""
    return session.get(AssetRow, asset_id)


def _moment(value: int | datetime, what: str) -> datetime:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise InvalidInput(f"{what} {value.isoformat()} has no time zone", hint="give an aware (UTC) datetime",
                               options=(what,))
        return value
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InvalidInput(f"{what} {value!r} is not a time", hint="give Unix seconds or an aware datetime",
                           options=(what,))
    return datetime.fromtimestamp(value, UTC)


def compute_status_at(row: AssetRow | AssetPublic, notice_period: int, now: int | datetime) -> str:
    """The status AssetRegistry's ``statusOf`` gives ``row``'s asset at ``now`` (Unix seconds or an aware
    datetime: the chain's time, i.e. the latest block's), with the deployment's ``notice_period`` (seconds):
    Pending turns Active when the notice ends, Active turns Expired at ``valid_until``; others stay as set."""
    if isinstance(notice_period, bool) or not isinstance(notice_period, int) or notice_period < 0:
        raise InvalidInput(f"a notice period is a whole number of seconds from 0, got {notice_period!r}",
                           hint="give the deployment's notice period", options=("notice_period",))
    moment = _moment(now, "now")
    status = row.status
    if status == "Pending" and moment.timestamp() >= row.registered_at.timestamp() + notice_period:
        status = "Active"
    if status == "Active" and row.valid_until is not None and moment >= row.valid_until:
        status = "Expired"
    return status


def asset_public(row: AssetRow, notice_period: int, now: int | datetime) -> AssetPublic:
    """The public view of ``row`` with its status as the chain reads it at ``now`` (:func:`compute_status_at`)."""
    view = AssetPublic.model_validate(row, from_attributes=True)
    view.status = compute_status_at(row, notice_period, now)
    return view


def get_asset_public(session: Session, asset_id: int, *, notice_period: int,
                     now: int | datetime) -> AssetPublic | None:
    """The indexed asset ``asset_id`` as the chain reads it at ``now`` (see :func:`asset_public`), or None when
    the index has not seen it registered."""
    row = session.get(AssetRow, asset_id)
    return None if row is None else asset_public(row, notice_period, now)


def grants_of_asset(session: Session, asset_id: int) -> Sequence[GrantRow]:
    """Every grant of ``asset_id`` the index holds, in the order they were created."""
    statement = (select(GrantRow).where(GrantRow.asset_id == asset_id)
                 .order_by(col(GrantRow.block_number), col(GrantRow.grant_id)))
    return session.exec(statement).all()


def usage_of_grant(session: Session, grant_id: int, *, after: Cursor | None = None,
                   limit: int = DEFAULT_LIMIT) -> Sequence[UsageRow]:
    """The usage records of ``grant_id`` after ``after``, in chain order (their sequence numbers ascend)."""
    verify_limit(limit)
    verify_cursor(after)
    statement = (
        select(UsageRow)
        .where(UsageRow.grant_id == grant_id, _after(col(UsageRow.block_number), col(UsageRow.log_index), after))
        .order_by(col(UsageRow.block_number), col(UsageRow.log_index))
        .limit(limit)
    )
    return session.exec(statement).all()


def get_indexer_state(session: Session) -> IndexerState | None:
    """Which deployment the index follows and its last block; None before the first sync."""
    return session.get(IndexerState, 1)


def cursor_of(row: ChainEvent | UsageRow) -> Cursor:
    """The cursor that pages on after ``row``."""
    return (row.block_number, row.log_index)
