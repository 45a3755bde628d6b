"""What the HTTP API keeps so that writes are authenticated once and answered once (:mod:`dataseal.api.security`).

- :class:`SeenRequest`: a signed request already accepted, keyed by the hash of its signer and its signed message,
  so that the same signed request is refused the second time (replay protection). A request is only accepted
  within a window around its timestamp, so rows older than the window can be purged.
- :class:`ApiKey`: an operator API key, stored as its SHA-256 (the key itself is shown once, when made), with a
  name and, once revoked, when.
- :class:`IdempotentResponse`: the answer given to a write sent with an ``Idempotency-Key`` header, keyed by the
  writer and the key, with what identifies the request (method, path, body hash), so that a retry gets the same
  answer and a different request under the same key is refused.

None of this can be rebuilt from the chain; none of it needs to be backed up either (losing it only lets a
request within the window be replayed, which the services' natural keys still answer idempotently).
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Integer, String, Text
from sqlmodel import Field, SQLModel

from dataseal.registry.db.types import address_column, big_int_column, utc_column

# ---------------------------------------------------------------------------------- signed requests seen


class SeenRequest(SQLModel, table=True):
    """A signed request the API accepted (replay protection)."""

    __tablename__ = "api_seen_request"

    request_hash: str = Field(sa_column=Column(String(66), primary_key=True),
                              description="0x sha256 of the signer's address and the signed message")
    address: str = Field(sa_column=address_column())
    timestamp: int = Field(sa_column=big_int_column(index=True), description="The request's timestamp (Unix seconds)")


# ---------------------------------------------------------------------------------- operator API keys


class ApiKeyBase(SQLModel):
    name: str = Field(sa_column=Column(String(64), nullable=False, index=True),
                      description="What the key is for (unique among the keys not revoked)")
    created_at: datetime = Field(sa_column=utc_column())
    revoked_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))


class ApiKey(ApiKeyBase, table=True):
    __tablename__ = "api_key"

    id: int | None = Field(default=None, primary_key=True)
    key_hash: str = Field(sa_column=Column(String(64), nullable=False, unique=True),
                          description="sha256 hex of the key (the key itself is never stored)")


class ApiKeyPublic(ApiKeyBase):
    id: int


# ---------------------------------------------------------------------------------- idempotent responses


class IdempotentResponse(SQLModel, table=True):
    """The answer to a write sent with an ``Idempotency-Key``."""

    __tablename__ = "api_idempotent_response"

    writer: str = Field(sa_column=Column(String(128), primary_key=True),
                        description="Who sent it: a checksummed address, or api-key:NAME#ID")
    key: str = Field(sa_column=Column(String(255), primary_key=True), description="The Idempotency-Key header")
    method: str = Field(sa_column=Column(String(16), nullable=False))
    path: str = Field(sa_column=Column(Text, nullable=False), description="The path with its query")
    body_hash: str = Field(sa_column=Column(String(64), nullable=False), description="sha256 hex of the body")
    status: int = Field(sa_column=Column(Integer, nullable=False), description="The HTTP status answered")
    response: Any = Field(sa_column=Column(JSON, nullable=False), description="The JSON body answered")
    created_at: datetime = Field(sa_column=utc_column(index=True))


# ---------------------------------------------------------------------------------- write operations


class ApiOperation(SQLModel, table=True):
    """A write the API accepted (202) and its background worker carries out: what was asked, how far it got (queued,
    submitted, mined, failed), its transactions and its result or error. Unfinished ones are resumed after a restart
    (the services finish a write through the outbox, never twice)."""

    __tablename__ = "api_operation"

    id: str = Field(sa_column=Column(String(40), primary_key=True), description="op_ and 32 hex digits")
    kind: str = Field(sa_column=Column(String(16), nullable=False), description="register, relay, grant, usage, trade")
    natural_key: str = Field(sa_column=Column(String(255), nullable=False, unique=True),
                             description="What the write is (the same write posted twice is one operation)")
    writer: str = Field(sa_column=Column(String(128), nullable=False), description="Who asked for it")
    status: str = Field(sa_column=Column(String(16), nullable=False, index=True),
                        description="queued, submitted, mined or failed")
    request: Any = Field(sa_column=Column(JSON, nullable=False), description="The request, as the worker reruns it")
    tx_hashes: Any = Field(sa_column=Column(JSON, nullable=False), description="The transactions sent, in order")
    result: Any = Field(default=None, sa_column=Column(JSON, nullable=True))
    error: Any = Field(default=None, sa_column=Column(JSON, nullable=True), description="The error body, when failed")
    created_at: datetime = Field(sa_column=utc_column(index=True))
    updated_at: datetime = Field(sa_column=utc_column())
    worker: str | None = Field(default=None, sa_column=Column(String(64), nullable=True),
                               description="The worker carrying it out (replicas share one database)")
    lease_until: datetime | None = Field(default=None, sa_column=utc_column(nullable=True),
                                         description="Until when that worker holds it (renewed as it goes)")
