"""Column types the registry's tables share, so that SQLite and PostgreSQL store the same values.

- :class:`UtcDateTime`: an aware UTC datetime in, an aware UTC datetime out (SQLite keeps no time zone,
  and sqlmodel refuses naive datetimes); a naive value is refused on the way in.
- :func:`big_int_column`: block numbers, chain ids, asset and grant ids, timestamps (``int`` is 32-bit on PostgreSQL).
- :class:`Uint256`: a Solidity uint256 (units, quotas, prices) as ``NUMERIC(78, 0)``, a Python ``int`` both ways.
- bytes32 values and addresses are stored as text: lowercase ``0x`` hex (66 characters) and checksummed
  addresses (42), as the chain records print them (:func:`hex32_column`, :func:`address_column`).
"""
from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, Column, DateTime, Numeric, String, TypeDecorator
from sqlalchemy.engine import Dialect


class UtcDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC datetime on every database."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"a naive datetime ({value.isoformat()}) cannot be stored: give an aware UTC datetime")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Uint256(TypeDecorator[int]):
    """A uint256 as NUMERIC(78, 0): exact on PostgreSQL; SQLite keeps it as text-affinity numeric, read back exactly."""

    impl = Numeric(78, 0)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> Any:
        # SQLite's NUMERIC affinity turns values over 2^63 into lossy REALs: store the decimal digits as text.
        if dialect.name == "sqlite":
            return dialect.type_descriptor(String(78))
        return dialect.type_descriptor(Numeric(78, 0))

    def process_bind_param(self, value: int | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 2**256:
            raise ValueError(f"a uint256 must be an int in 0..2^256-1, got {value!r}")
        return str(value) if dialect.name == "sqlite" else Decimal(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> int | None:
        return None if value is None else int(value)


def big_int_column(*, nullable: bool = False, index: bool = False, primary_key: bool = False) -> Any:
    """A BIGINT column (pass as ``sa_column=``)."""
    return Column(BigInteger(), nullable=nullable, index=index, primary_key=primary_key, autoincrement=False)


def uint256_column(*, nullable: bool = False) -> Any:
    return Column(Uint256(), nullable=nullable)


def utc_column(*, nullable: bool = False, index: bool = False) -> Any:
    return Column(UtcDateTime(), nullable=nullable, index=index)


def hex32_column(*, nullable: bool = False, index: bool = False, unique: bool = False) -> Any:
    """A bytes32 as lowercase 0x-hex text (66 characters)."""
    return Column(String(66), nullable=nullable, index=index, unique=unique)


def address_column(*, nullable: bool = False, index: bool = False) -> Any:
    """A checksummed address (42 characters)."""
    return Column(String(42), nullable=nullable, index=index)
