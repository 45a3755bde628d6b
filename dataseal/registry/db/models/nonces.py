"""The next nonce of each account this registry signs for, shared by every process using the database.

- :class:`AccountNonce`: (chain id, address) → the next nonce to send, held by one sender at a time with the
  row locked (:class:`dataseal.registry.db.nonces.DatabaseNonceStore`), so that several replicas of a service
  sharing one database and one operator key never send two transactions with one nonce. ``next_nonce`` is NULL
  until a sender first stores one (the row exists so that it can be locked).

Nothing here needs a backup: a lost or stale value is corrected by asking the node (see
:class:`dataseal.chain.sending.nonces.NonceManager`).
"""
from __future__ import annotations

from sqlalchemy import Column, String
from sqlmodel import Field, SQLModel

from dataseal.registry.db.types import big_int_column


class AccountNonce(SQLModel, table=True):
    """The next nonce of one account on one chain."""

    __tablename__ = "account_nonce"

    chain_id: int = Field(sa_column=big_int_column(primary_key=True))
    address: str = Field(sa_column=Column(String(42), primary_key=True), description="Checksummed")
    next_nonce: int | None = Field(default=None, sa_column=big_int_column(nullable=True),
                                   description="The nonce the next transaction takes (NULL: ask the node)")
