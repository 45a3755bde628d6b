"""What the indexer reads off the chain: raw logs, checkpoints, decoded events and their projections.
(Owned by the indexer; every row here can be dropped and rebuilt from the chain.)

- :class:`RawLog`: every log of the deployment's contracts, as the node returned it (an auditor's starting point).
- :class:`Checkpoint`: blocks the indexer has seen (number, hash, parent hash, time): every block of the
  unconfirmed window near the tip, the blocks that carry events, and the last block of each page read, so
  that a reorganisation is found by comparing hashes.
- :class:`IndexerState`: which deployment the rows belong to, and the last block indexed (one row).
- :class:`ChainEvent`: one row per decoded event, in chain order by (``block_number``, ``log_index``), with
  the asset, grant and trade it concerns; :class:`EventAccount` lists every address an event names.
- Projections, rebuilt from the events: :class:`AssetRow`, :class:`GrantRow`, :class:`UsageRow`,
  :class:`TradeRow`, :class:`BatchRow` (each with its ``XPublic`` as served).

Table names start with ``chain_``: the tables that can be dropped and re-indexed at will.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from sqlalchemy import JSON, BigInteger, Column, ForeignKey, Index, Integer, String, Table, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from dataseal.registry.db.types import (
    address_column,
    big_int_column,
    hex32_column,
    uint256_column,
    utc_column,
)

#: An autoincrementing 64-bit key (SQLite autoincrements INTEGER PRIMARY KEY only).
_ID = BigInteger().with_variant(Integer(), "sqlite")


# ------------------------------------------------------------------------------------ the indexer's own


class RawLog(SQLModel, table=True):
    """A log of one of the deployment's contracts, as ``eth_getLogs`` returned it."""

    __tablename__ = "chain_raw_log"
    __table_args__ = (Index("ix_chain_raw_log_block", "block_number", "log_index"),)

    tx_hash: str = Field(sa_column=Column(String(66), primary_key=True))
    log_index: int = Field(sa_column=Column(Integer(), primary_key=True, autoincrement=False))
    block_number: int = Field(sa_column=big_int_column())
    block_hash: str = Field(sa_column=hex32_column())
    address: str = Field(sa_column=address_column())
    topics: list[str] = Field(sa_column=Column(JSON(), nullable=False))
    data: str = Field(sa_column=Column(Text(), nullable=False))


class Checkpoint(SQLModel, table=True):
    """A block the indexer has seen; ``parent_hash`` is None for a block known only from its logs."""

    __tablename__ = "chain_checkpoint"

    number: int = Field(sa_column=big_int_column(primary_key=True))
    hash: str = Field(sa_column=hex32_column())
    parent_hash: str | None = Field(default=None, sa_column=hex32_column(nullable=True))
    timestamp: int = Field(sa_column=big_int_column())


class IndexerState(SQLModel, table=True):
    """The deployment the chain tables describe and the last block indexed (one row, ``id`` 1)."""

    __tablename__ = "chain_indexer_state"

    id: int = Field(default=1, sa_column=Column(Integer(), primary_key=True, autoincrement=False))
    chain_id: int = Field(sa_column=big_int_column())
    asset_registry: str = Field(sa_column=address_column())
    grant_registry: str = Field(sa_column=address_column())
    transaction_ledger: str = Field(sa_column=address_column())
    deploy_block: int = Field(sa_column=big_int_column())
    last_block: int = Field(sa_column=big_int_column())  # deploy_block - 1 before the first page
    updated_at: datetime = Field(sa_column=utc_column())


# ------------------------------------------------------------------------------------ events


class ChainEventBase(SQLModel):
    """One decoded event; ``args`` is its record's JSON without ``tx``."""

    block_number: int = Field(sa_column=big_int_column())
    log_index: int = Field(sa_column=Column(Integer(), nullable=False))
    tx_hash: str = Field(sa_column=hex32_column())
    block_hash: str = Field(sa_column=hex32_column())
    block_time: datetime = Field(sa_column=utc_column())
    contract: str = Field(sa_column=Column(String(32), nullable=False))
    event: str = Field(sa_column=Column(String(64), nullable=False))
    asset_id: int | None = Field(default=None, sa_column=big_int_column(nullable=True))
    grant_id: int | None = Field(default=None, sa_column=big_int_column(nullable=True))
    trade_id: int | None = Field(default=None, sa_column=big_int_column(nullable=True))
    args: dict[str, Any] = Field(sa_column=Column(JSON(), nullable=False))


class ChainEvent(ChainEventBase, table=True):
    __tablename__ = "chain_event"
    __table_args__ = (
        UniqueConstraint("tx_hash", "log_index", name="uq_chain_event_log"),
        Index("ix_chain_event_order", "block_number", "log_index"),
        Index("ix_chain_event_asset", "asset_id", "block_number", "log_index"),
        Index("ix_chain_event_grant", "grant_id", "block_number", "log_index"),
    )

    id: int | None = Field(default=None, sa_column=Column(_ID, primary_key=True, autoincrement=True))


class ChainEventPublic(ChainEventBase):
    id: int


class EventAccount(SQLModel, table=True):
    """An address an event names, in the role its record gives it (``registrant``, ``grantee``, ``by``…).

    ``block_number`` and ``log_index`` repeat the event's, so that an account's trail pages without a join.
    """

    __tablename__ = "chain_event_account"
    __table_args__ = (Index("ix_chain_event_account_trail", "address", "block_number", "log_index"),)

    event_id: int = Field(sa_column=Column(_ID, ForeignKey("chain_event.id", ondelete="CASCADE"), primary_key=True,
                                           autoincrement=False))
    role: str = Field(sa_column=Column(String(32), primary_key=True))
    address: str = Field(sa_column=address_column())
    block_number: int = Field(sa_column=big_int_column())
    log_index: int = Field(sa_column=Column(Integer(), nullable=False))


# ------------------------------------------------------------------------------------ projections


class AssetRowBase(SQLModel):
    """An asset as its events leave it: ``owner`` follows transfers, ``status`` is the last one an event set
    (a notice period that ends emits nothing: a Pending asset past its notice is Active on chain)."""

    asset_id: int = Field(sa_column=big_int_column(primary_key=True))
    content_root: str = Field(sa_column=hex32_column(index=True))
    manifest_hash: str = Field(sa_column=hex32_column())
    owner: str = Field(sa_column=address_column(index=True))
    registrant: str = Field(sa_column=address_column(index=True))
    rights_type: int = Field(sa_column=Column(Integer(), nullable=False))
    classification: int = Field(sa_column=Column(Integer(), nullable=False))
    parent_id: int | None = Field(default=None, sa_column=big_int_column(nullable=True, index=True))
    lineage: str = Field(sa_column=Column(String(16), nullable=False))
    status: str = Field(sa_column=Column(String(16), nullable=False))
    registered_at: datetime = Field(sa_column=utc_column())
    valid_until: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    tx_hash: str = Field(sa_column=hex32_column())
    block_number: int = Field(sa_column=big_int_column())
    updated_block: int = Field(sa_column=big_int_column())  # the block of the last event that changed the row


class AssetRow(AssetRowBase, table=True):
    __tablename__ = "chain_asset"


class AssetPublic(AssetRowBase):
    pass


class GrantRowBase(SQLModel):
    """A grant as its events leave it: ``used`` and ``sequence`` sum and follow its usage records."""

    grant_id: int = Field(sa_column=big_int_column(primary_key=True))
    asset_id: int = Field(sa_column=big_int_column(index=True))
    grantee: str = Field(sa_column=address_column(index=True))
    grantor: str = Field(sa_column=address_column())
    purpose: str = Field(sa_column=hex32_column())
    valid_from: datetime = Field(sa_column=utc_column())
    valid_until: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    quota: int = Field(sa_column=uint256_column())
    used: int = Field(sa_column=uint256_column())
    sequence: int = Field(sa_column=big_int_column())  # the last usage record's sequence number (0: none)
    scope_root: str = Field(sa_column=hex32_column())
    status: str = Field(sa_column=Column(String(16), nullable=False))
    revoked: bool = Field(default=False)
    revoked_by: str | None = Field(default=None, sa_column=address_column(nullable=True))
    tx_hash: str = Field(sa_column=hex32_column())
    block_number: int = Field(sa_column=big_int_column())
    updated_block: int = Field(sa_column=big_int_column())


class GrantRow(GrantRowBase, table=True):
    __tablename__ = "chain_grant"


class GrantPublic(GrantRowBase):
    pass


class UsageRowBase(SQLModel):
    """A usage record: one job (``receipt_hash``) or a batch of ``count`` jobs (``receipts_root``)."""

    tx_hash: str = Field(sa_column=Column(String(66), primary_key=True))
    log_index: int = Field(sa_column=Column(Integer(), primary_key=True, autoincrement=False))
    grant_id: int = Field(sa_column=big_int_column())
    asset_id: int | None = Field(default=None, sa_column=big_int_column(nullable=True))
    sequence: int = Field(sa_column=big_int_column())
    units: int = Field(sa_column=uint256_column())
    receipt_hash: str | None = Field(default=None, sa_column=hex32_column(nullable=True))
    receipts_root: str | None = Field(default=None, sa_column=hex32_column(nullable=True))
    count: int = Field(sa_column=big_int_column())
    recorder: str = Field(sa_column=address_column())
    block_number: int = Field(sa_column=big_int_column())
    block_time: datetime = Field(sa_column=utc_column())


class UsageRow(UsageRowBase, table=True):
    __tablename__ = "chain_usage"
    __table_args__ = (
        Index("ix_chain_usage_grant", "grant_id", "block_number", "log_index"),
        Index("ix_chain_usage_block", "block_number"),
    )


class UsagePublic(UsageRowBase):
    pass


class TradeRowBase(SQLModel):
    """A recorded trade; ``grant_id`` is the licence a licence sale created (None otherwise)."""

    trade_id: int = Field(sa_column=big_int_column(primary_key=True))
    asset_id: int = Field(sa_column=big_int_column(index=True))
    seller: str = Field(sa_column=address_column(index=True))
    buyer: str = Field(sa_column=address_column(index=True))
    price: int = Field(sa_column=uint256_column())
    currency: str = Field(sa_column=hex32_column())
    settlement_hash: str = Field(sa_column=hex32_column())
    settlement: str = Field(sa_column=Column(String(16), nullable=False))
    grant_id: int | None = Field(default=None, sa_column=big_int_column(nullable=True))
    recorder: str = Field(sa_column=address_column())
    tx_hash: str = Field(sa_column=hex32_column())
    block_number: int = Field(sa_column=big_int_column())
    log_index: int = Field(sa_column=Column(Integer(), nullable=False))
    block_time: datetime = Field(sa_column=utc_column())


class TradeRow(TradeRowBase, table=True):
    __tablename__ = "chain_trade"


class TradePublic(TradeRowBase):
    pass


class BatchRowBase(SQLModel):
    """An anchored batch of asset records."""

    batch_id: int = Field(sa_column=big_int_column(primary_key=True))
    anchorer: str = Field(sa_column=address_column())
    batch_root: str = Field(sa_column=hex32_column())
    manifest_hash: str = Field(sa_column=hex32_column())
    count: int = Field(sa_column=big_int_column())
    anchored_at: datetime = Field(sa_column=utc_column())
    tx_hash: str = Field(sa_column=hex32_column())
    block_number: int = Field(sa_column=big_int_column())


class BatchRow(BatchRowBase, table=True):
    __tablename__ = "chain_batch"


class BatchPublic(BatchRowBase):
    pass


#: Every table of this module, children before parents (the order to empty them in).
CHAIN_TABLES = (EventAccount, ChainEvent, RawLog, Checkpoint, UsageRow, TradeRow, BatchRow, GrantRow, AssetRow,
                IndexerState)


def table_of(model: type[SQLModel]) -> Table:
    """The table of a table model (for Core statements: bulk inserts, deletes by range)."""
    return cast(Table, getattr(model, "__table__"))  # noqa: B009  (SQLModel does not type __table__)
