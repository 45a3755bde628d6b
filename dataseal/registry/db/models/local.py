"""What only this registry knows: manifests, stored trees, the outbox of transactions sent.

- :class:`ManifestRecord`: a manifest this registry wrote (or reused), with where the data was and, once
  registered, the chain and asset id it was registered as. ``dataseal verify`` looks here for the earlier
  versions of a dataset (same kind and name), but asks the chain whether any of them is registered.
- :class:`StoredTreeRecord`: a sealed tree kept compactly (a DSTREE file,
  :mod:`dataseal.registry.merkle.stored`) under the data folder, so that proofs and diffs need no data.
- :class:`OutboxTx`: a transaction this registry meant to send, keyed by what it does (its natural key), so
  that a rerun after a crash reconciles it instead of sending it twice (:mod:`dataseal.registry.outbox`).

Hashes are lowercase 0x-hex text, addresses checksummed, block numbers and ids BIGINT, times aware UTC
(:mod:`dataseal.registry.db.types`).
"""
from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column, String, Text
from sqlmodel import Field, SQLModel

from dataseal.registry.db.types import address_column, big_int_column, hex32_column, utc_column


def utc_now() -> datetime:
    return datetime.now(UTC)


# ---------------------------------------------------------------------------------- manifests


class ManifestRecordBase(SQLModel):
    manifest_hash: str = Field(sa_column=hex32_column(unique=True), description="keccak256 of the canonical manifest")
    content_root: str = Field(sa_column=hex32_column(index=True), description="The tree's root (manifest.tree.root)")
    kind: str = Field(sa_column=Column(String(16), nullable=False), description="file, folder or table")
    name: str = Field(sa_column=Column(String(255), nullable=False, index=True),
                      description="The data's name as sealed (manifest.content.name): versions share it")
    title: str = Field(sa_column=Column(Text, nullable=False))
    data_path: str = Field(sa_column=Column(Text, nullable=False), description="Where the data was, as given")
    manifest_path: str = Field(sa_column=Column(Text, nullable=False), description="The manifest file written")
    chain_id: int | None = Field(default=None, sa_column=big_int_column(nullable=True))
    asset_id: int | None = Field(default=None, sa_column=big_int_column(nullable=True, index=True),
                                 description="The asset it was registered as (the chain is the judge of that)")


class ManifestRecordCreate(ManifestRecordBase):
    manifest: dict[str, Any]


class ManifestRecord(ManifestRecordBase, table=True):
    __tablename__ = "manifest_record"

    id: int | None = Field(default=None, primary_key=True)
    manifest: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False), description="The manifest's JSON")
    created: datetime = Field(default_factory=utc_now, sa_column=utc_column())


class ManifestRecordPublic(ManifestRecordBase):
    id: int
    manifest: dict[str, Any]
    created: datetime


# ---------------------------------------------------------------------------------- stored trees


class StoredTreeRecordBase(SQLModel):
    content_root: str = Field(sa_column=hex32_column(unique=True))
    leaf_count: int = Field(sa_column=big_int_column())
    path: str = Field(sa_column=Column(Text, nullable=False),
                      description="The DSTREE file, relative to the data folder (trees/<root>.dstree)")
    size: int = Field(sa_column=big_int_column(), description="Bytes of the file")


class StoredTreeRecordCreate(StoredTreeRecordBase):
    pass


class StoredTreeRecord(StoredTreeRecordBase, table=True):
    __tablename__ = "stored_tree"

    id: int | None = Field(default=None, primary_key=True)
    created: datetime = Field(default_factory=utc_now, sa_column=utc_column())


class StoredTreeRecordPublic(StoredTreeRecordBase):
    id: int
    created: datetime


# ---------------------------------------------------------------------------------- outbox


class OutboxState(StrEnum):
    """Where an outbox transaction is: ``prepared`` (the intent is written; it may or may not have reached the
    node), ``sent`` (its hash is known), ``mined`` (done: its receipt succeeded, or the chain shows the action
    done), ``failed`` (it reverted; a rerun may try again)."""

    PREPARED = "prepared"
    SENT = "sent"
    MINED = "mined"
    FAILED = "failed"


class OutboxTxBase(SQLModel):
    key: str = Field(sa_column=Column(String(255), nullable=False, unique=True),
                     description="What the transaction does, e.g. register:<chain>:<registry>:<root> (unique)")
    kind: str = Field(sa_column=Column(String(32), nullable=False), description="commit, register, cancel, ...")
    chain_id: int = Field(sa_column=big_int_column())
    sender: str = Field(sa_column=address_column(index=True))
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False),
                                    description="What a rerun needs to finish it (a commitment's salt, ...)")


class OutboxTxCreate(OutboxTxBase):
    pass


class OutboxTx(OutboxTxBase, table=True):
    __tablename__ = "outbox_tx"

    id: int | None = Field(default=None, primary_key=True)
    state: str = Field(default=OutboxState.PREPARED.value, sa_column=Column(String(16), nullable=False, index=True))
    nonce: int | None = Field(default=None, sa_column=big_int_column(nullable=True))
    tx_hash: str | None = Field(default=None, sa_column=hex32_column(nullable=True, index=True))
    raw_tx: str | None = Field(default=None, sa_column=Column(Text, nullable=True),
                               description="The signed bytes (0x-hex): a dropped transaction is sent again as is")
    block_number: int | None = Field(default=None, sa_column=big_int_column(nullable=True))
    attempts: int = Field(default=0, sa_column=big_int_column())
    error: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    created: datetime = Field(default_factory=utc_now, sa_column=utc_column())
    updated: datetime = Field(default_factory=utc_now, sa_column=utc_column())


class OutboxTxPublic(OutboxTxBase):
    id: int
    state: str
    nonce: int | None
    tx_hash: str | None
    block_number: int | None
    attempts: int
    error: str | None
    created: datetime
    updated: datetime
