"""The shared column types store the same values on SQLite and on PostgreSQL: aware UTC datetimes (naive
ones refused), uint256 values exactly, 64-bit integers."""
from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import BigInteger, Column, Integer, MetaData, Table, func, insert, select
from sqlalchemy.exc import StatementError

from dataseal.registry.db import Database
from dataseal.registry.db.types import Uint256, UtcDateTime

metadata = MetaData()
values = Table(
    "type_probe", metadata,
    Column("id", Integer, primary_key=True),
    Column("at", UtcDateTime(), nullable=True),
    Column("units", Uint256(), nullable=True),
    Column("block", BigInteger(), nullable=True),
)


@pytest.fixture
def probe(database: Database) -> Iterator[Database]:
    metadata.create_all(database.engine)
    yield database


def stored(database: Database, row_id: int) -> tuple[datetime | None, int | None, int | None]:
    with database.session() as session:
        row = session.execute(select(values.c.at, values.c.units, values.c.block).where(values.c.id == row_id)).one()
    return row.at, row.units, row.block


def count(database: Database) -> int:
    with database.session() as session:
        return int(session.execute(select(func.count()).select_from(values)).scalar_one())


def test_an_aware_datetime_reads_back_as_the_same_instant_in_utc(probe: Database) -> None:
    beijing = datetime(2026, 3, 1, 9, 30, 15, 123456, tzinfo=timezone(timedelta(hours=8)))
    with probe.session() as session:
        session.execute(insert(values).values(id=1, at=beijing))
        session.execute(insert(values).values(id=2, at=datetime(2026, 3, 1, 1, 30, 15, 123456, tzinfo=UTC)))
    for row_id in (1, 2):
        at, _, _ = stored(probe, row_id)
        assert at == beijing
        assert at is not None and at.tzinfo is UTC and at.hour == 1 and at.microsecond == 123456


def test_a_naive_datetime_is_refused_and_nothing_is_written(probe: Database) -> None:
    with pytest.raises(StatementError, match=r"a naive datetime \(2026-03-01T09:30:00\) cannot be stored"):
        with probe.session() as session:
            session.execute(insert(values).values(id=1, units=5))
            session.execute(insert(values).values(id=2, at=datetime(2026, 3, 1, 9, 30)))
    assert count(probe) == 0


@pytest.mark.parametrize("units", [0, 1, 2**63, 2**256 - 1, 10**77 + 1])
def test_uint256_values_round_trip_exactly(probe: Database, units: int) -> None:
    with probe.session() as session:
        session.execute(insert(values).values(id=1, units=units))
    _, got, _ = stored(probe, 1)
    assert got == units and type(got) is int


@pytest.mark.parametrize("bad", [-1, 2**256, True, 1.5])
def test_a_value_outside_uint256_is_refused(probe: Database, bad: object) -> None:
    with pytest.raises(StatementError, match=r"a uint256 must be an int in 0\.\.2\^256-1"):
        with probe.session() as session:
            session.execute(insert(values).values(id=1, units=bad))
    assert count(probe) == 0


@pytest.mark.parametrize("block", [2**62, 2**63 - 1, -(2**63)])
def test_big_integers_round_trip(probe: Database, block: int) -> None:
    with probe.session() as session:
        session.execute(insert(values).values(id=1, block=block))
    assert stored(probe, 1)[2] == block


def test_nulls_stay_null(probe: Database) -> None:
    with probe.session() as session:
        session.execute(insert(values).values(id=1))
    assert stored(probe, 1) == (None, None, None)
