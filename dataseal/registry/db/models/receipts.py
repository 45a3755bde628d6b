"""Usage receipts and what the chain keeps only as hashes: the documents whose hashes the ledger records, the
index lists behind grants' scope roots, the purpose texts behind grants' purposes, and trades offered.

(Owned by the grants/usage/trades services, :mod:`dataseal.registry.services`. The chain keeps the hashes; these
rows keep what they are hashes of, so that they cannot be rebuilt from the chain: back them up with the data.)

Each row is keyed by its natural key (a receipt hash, a batch root, a scope root, a purpose hash, a terms
hash), which is also what a service looks up before it sends anything: a rerun after a crash finds the row,
then asks the chain whether the transaction it names (or an event with that key) is there.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, String, Text
from sqlmodel import Field, SQLModel

from dataseal.registry.db.types import (
    address_column,
    big_int_column,
    hex32_column,
    uint256_column,
    utc_column,
)

#: The states of a write a service makes: the intent is stored, then the transaction sent, then seen mined.
PREPARED, SENT, RECORDED = "prepared", "sent", "recorded"


def _key_column() -> Column[str]:
    return Column(String(66), primary_key=True)


# ----------------------------------------------------------------------------------------------- receipts


class ReceiptRecordBase(SQLModel):
    """A usage receipt this registry recorded (or is recording), alone or in a batch."""

    receipt_hash: str = Field(sa_column=_key_column(), description="keccak256 of the receipt's canonical JSON")
    chain_id: int = Field(sa_column=big_int_column())
    grant_registry: str = Field(sa_column=address_column())
    grant_id: int = Field(sa_column=big_int_column(index=True))
    job_id: str = Field(sa_column=Column(Text(), nullable=False))
    units: int = Field(sa_column=uint256_column())
    batch_root: str | None = Field(default=None, sa_column=hex32_column(nullable=True, index=True),
                                   description="The batch's receipts root, when recorded in a batch")
    state: str = Field(default=PREPARED, sa_column=Column(String(16), nullable=False))
    tx_hash: str | None = Field(default=None, sa_column=hex32_column(nullable=True))
    block_number: int | None = Field(default=None, sa_column=big_int_column(nullable=True))
    sequence: int | None = Field(default=None, sa_column=big_int_column(nullable=True),
                                 description="The grant's sequence number of the usage record")
    created_at: datetime = Field(sa_column=utc_column())
    recorded_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))


class ReceiptRecord(ReceiptRecordBase, table=True):
    __tablename__ = "receipt"

    receipt: str = Field(sa_column=Column(Text(), nullable=False), description="The receipt's canonical JSON")


class ReceiptRecordPublic(ReceiptRecordBase):
    receipt: str


class ReceiptBatchRecord(SQLModel, table=True):
    """A batch of receipts recorded by the root of their hashes (``recordUsageBatch``)."""

    __tablename__ = "receipt_batch"

    receipts_root: str = Field(sa_column=_key_column())
    grant_id: int = Field(sa_column=big_int_column(index=True))
    count: int = Field(sa_column=big_int_column())
    units: int = Field(sa_column=uint256_column())
    state: str = Field(default=PREPARED, sa_column=Column(String(16), nullable=False))
    tx_hash: str | None = Field(default=None, sa_column=hex32_column(nullable=True))
    block_number: int | None = Field(default=None, sa_column=big_int_column(nullable=True))
    sequence: int | None = Field(default=None, sa_column=big_int_column(nullable=True))
    created_at: datetime = Field(sa_column=utc_column())
    recorded_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))


# ----------------------------------------------------------------------------------------------- grants


class GrantScopeRecordBase(SQLModel):
    """The indexes behind a scope root (:mod:`dataseal.registry.scope`), written compactly (``0-999,5000``)."""

    scope_root: str = Field(sa_column=_key_column())
    index_count: int = Field(sa_column=big_int_column())
    indexes: str = Field(sa_column=Column(Text(), nullable=False))
    created_at: datetime = Field(sa_column=utc_column())


class GrantScopeRecord(GrantScopeRecordBase, table=True):
    __tablename__ = "grant_scope"


class GrantScopeRecordPublic(GrantScopeRecordBase):
    pass


class GrantPurposeRecord(SQLModel, table=True):
    """The text behind a grant's purpose: the chain keeps ``keccak256(text)`` (UTF-8)."""

    __tablename__ = "grant_purpose"

    purpose_hash: str = Field(sa_column=_key_column())
    text: str = Field(sa_column=Column(Text(), nullable=False))
    created_at: datetime = Field(sa_column=utc_column())


# ----------------------------------------------------------------------------------------------- trades


class TradeOfferRecord(SQLModel, table=True):
    """A trade's terms as offered (``dataseal trade offer``) and, once recorded, where."""

    __tablename__ = "trade_offer"

    terms_hash: str = Field(sa_column=_key_column(), description="keccak256 of the terms' canonical JSON")
    asset_id: int = Field(sa_column=big_int_column(index=True))
    seller: str = Field(sa_column=address_column())
    buyer: str = Field(sa_column=address_column())
    offer: str = Field(sa_column=Column(Text(), nullable=False), description="The offer document (JSON)")
    state: str = Field(default=PREPARED, sa_column=Column(String(16), nullable=False))
    tx_hash: str | None = Field(default=None, sa_column=hex32_column(nullable=True))
    trade_id: int | None = Field(default=None, sa_column=big_int_column(nullable=True))
    grant_id: int | None = Field(default=None, sa_column=big_int_column(nullable=True))
    created_at: datetime = Field(sa_column=utc_column())
    recorded_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
