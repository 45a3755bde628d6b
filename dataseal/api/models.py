"""The API's response models (JSON, snake_case), each with an example for the OpenAPI page."""
from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from dataseal.registry.audit.encumbrances import Encumbrance, UsagePeriod

ROOT_EXAMPLE = "0x6f3c1d9e8a2b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5"
ADDRESS_EXAMPLE = "0x5B38Da6a701c568545dCfcB03FcB875f56beddC4"
TX_EXAMPLE = "0x9a1c2d3e4f5061728394a5b6c7d8e9f00112233445566778899aabbccddeeff0"


def _example(example: dict[str, Any]) -> ConfigDict:
    return ConfigDict(frozen=True, json_schema_extra={"examples": [example]})


# ---------------------------------------------------------------------------------- errors


class ErrorDetail(BaseModel):
    model_config = ConfigDict(frozen=True)

    kind: str = Field(description="invalid_input, not_found, conflict, unavailable or internal")
    message: str = Field(description="What failed, with what was expected and what was found")
    hint: str = Field(description="What to do about it")
    options: list[str] | None = Field(None, description="The parameters or settings that would change the outcome")


class ErrorResponse(BaseModel):
    """Every error answer's body."""

    model_config = _example({"error": {"kind": "not_found", "message": "asset 99 is not registered on chain 31337 "
                                       "(AssetRegistry at 0x5FbDB2315678afecb367f032d93F642f64180aa3); it has 7 assets",
                                       "hint": "check the asset id"}})

    error: ErrorDetail


#: The error answers every route may give, for the OpenAPI page (the app's ``responses``).
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorResponse, "description": text}
    for status, text in ((400, "Malformed input, or a Host this registry does not answer for"),
                         (404, "Unknown id or route"), (408, "The request body stopped arriving"),
                         (413, "The request body is over the limit"),
                         (422, "Invalid parameters"), (503, "The chain or the database did not answer"))
}


# ---------------------------------------------------------------------------------- health


class ChainHealth(BaseModel):
    model_config = ConfigDict(frozen=True)

    reachable: bool
    chain_id: int | None = None
    latest_block: int | None = None
    error: str | None = None


class DatabaseHealth(BaseModel):
    model_config = ConfigDict(frozen=True)

    reachable: bool
    error: str | None = None


class IndexerHealth(BaseModel):
    model_config = ConfigDict(frozen=True)

    last_block: int | None = Field(None, description="The last block the index holds (null: never indexed)")
    lag: int | None = Field(None, description="Blocks the index is behind the chain's latest")


class Health(BaseModel):
    """What the registry depends on, and whether each answers."""

    model_config = _example({"status": "ok", "chain": {"reachable": True, "chain_id": 31337, "latest_block": 42},
                             "database": {"reachable": True}, "indexer": {"last_block": 41, "lag": 1}})

    status: Literal["ok", "down"]
    chain: ChainHealth
    database: DatabaseHealth
    indexer: IndexerHealth


# ---------------------------------------------------------------------------------- assets


class AssetOut(BaseModel):
    """An asset as the chain has it now (the title from the manifest this registry recorded, if any)."""

    model_config = _example({
        "asset_id": 7, "status": "Active", "owner": ADDRESS_EXAMPLE, "registrant": ADDRESS_EXAMPLE,
        "content_root": ROOT_EXAMPLE, "manifest_hash": ROOT_EXAMPLE, "rights": ["holding", "processing"],
        "rights_type": 3, "classification": 0, "lineage": "None", "parent_id": None,
        "registered_at": "2025-05-01T08:00:00Z", "valid_until": None, "notice_ends_at": None,
        "title": "Survey 2024", "registration_number": "2025-31337-00000007-3"})

    asset_id: int
    status: str = Field(description="Pending, Active, Suspended, Cancelled, Rejected, Disputed or Expired")
    owner: str
    registrant: str
    content_root: str
    manifest_hash: str
    rights: list[str] = Field(description="The rights types registered (holding, processing, operation)")
    rights_type: int = Field(description="The same as the on-chain bitmask")
    classification: int = Field(description="0 public to 3 core")
    lineage: str = Field(description="None, Version or Derived")
    parent_id: int | None = Field(description="The parent of a version or derived asset")
    registered_at: datetime
    valid_until: datetime | None = Field(description="End of the registration's validity (null: none)")
    notice_ends_at: datetime | None = Field(description="End of the public notice in review mode (null: none)")
    title: str | None = Field(description="The manifest's title, when this registry recorded the manifest")
    registration_number: str


class AssetList(BaseModel):
    model_config = ConfigDict(frozen=True)

    assets: list[AssetOut]
    next: str | None = Field(None, description="The `after` of the next page (null: this was the last)")


class Versions(BaseModel):
    """An asset's place in its lineage: its parent and the assets registered as its versions or derived from it."""

    model_config = ConfigDict(frozen=True)

    asset_id: int
    lineage: str
    parent: AssetOut | None
    children: list[AssetOut]


class ProofOut(BaseModel):
    """A leaf of an asset's tree and its proof, served from the tree this registry stored (OpenZeppelin
    StandardMerkleTree standard-v1: sorted pairs)."""

    model_config = _example({"asset_id": 7, "content_root": ROOT_EXAMPLE, "leaf_count": 10, "leaf_index": 3,
                             "leaf": ROOT_EXAMPLE, "proof": [ROOT_EXAMPLE, ROOT_EXAMPLE]})

    asset_id: int
    content_root: str
    leaf_count: int
    leaf_index: int
    leaf: str = Field(description="The leaf's hash")
    proof: list[str]


# ---------------------------------------------------------------------------------- trails


class PartyOut(BaseModel):
    model_config = ConfigDict(frozen=True)

    role: str
    address: str


class TrailEntryOut(BaseModel):
    model_config = ConfigDict(frozen=True)

    block_number: int
    log_index: int
    tx_hash: str
    block_hash: str
    time: datetime
    contract: str
    event: str
    asset_id: int | None
    grant_id: int | None
    trade_id: int | None
    parties: list[PartyOut]
    summary: str
    args: dict[str, Any]


class TrailPageOut(BaseModel):
    """One page of a trail, in chain order; ``next`` is the ``after`` of the next page."""

    model_config = _example({"chain_id": 31337, "subject": {"asset_id": 7}, "index_last_block": 42, "entries": [{
        "block_number": 12, "log_index": 0, "tx_hash": TX_EXAMPLE, "block_hash": TX_EXAMPLE,
        "time": "2025-05-01T08:00:00Z", "contract": "AssetRegistry", "event": "AssetRegistered", "asset_id": 7,
        "grant_id": None, "trade_id": None, "parties": [{"role": "registrant", "address": ADDRESS_EXAMPLE}],
        "summary": "asset 7 registered", "args": {}}], "next": "12:0"})

    chain_id: int
    subject: dict[str, Any]
    index_last_block: int = Field(description="The last block the index holds: later events are not in the trail")
    entries: list[TrailEntryOut]
    next: str | None


class ProvDocument(BaseModel):
    """A trail as a W3C PROV-JSON document (``format=prov``): its prefixes, entities (assets), activities (events)
    and agents (accounts), each a map from an identifier to its attributes, and the relations between them
    (``wasGeneratedBy``, ``used``, ``wasAssociatedWith``, ...) in the same way."""

    model_config = ConfigDict(frozen=True, extra="allow")

    prefix: dict[str, str]
    entity: dict[str, dict[str, Any]]
    activity: dict[str, dict[str, Any]]
    agent: dict[str, dict[str, Any]]


class EncumbranceOut(BaseModel):
    """A grant that binds the asset, with what it has used and has left."""

    model_config = ConfigDict(frozen=True)

    grant_id: int
    asset_id: int
    grantee: str
    grantor: str
    purpose: str
    purpose_text: str | None = Field(description="The purpose, when this registry recorded its text")
    valid_from: datetime
    expires_at: datetime
    quota: int
    used: int
    remaining: int
    scope_root: str
    trade_id: int | None = Field(description="The licence sale that created it, if any")

    @classmethod
    def of(cls, encumbrance: Encumbrance, purpose_text: str | None) -> EncumbranceOut:
        return cls(**encumbrance.model_dump(), remaining=encumbrance.remaining, purpose_text=purpose_text)


class Encumbrances(BaseModel):
    """The grants that bind an asset at a moment: not revoked, in their window, with quota left."""

    model_config = ConfigDict(frozen=True)

    asset_id: int
    at: datetime
    grants: list[EncumbranceOut]


class Usage(BaseModel):
    """Units used per grant and per day or month (UTC)."""

    model_config = ConfigDict(frozen=True)

    asset_id: int
    period: Literal["day", "month"]
    rows: list[UsagePeriod]


class GrantOut(BaseModel):
    """A grant as the chain has it now."""

    model_config = _example({
        "grant_id": 1, "asset_id": 7, "grantee": ADDRESS_EXAMPLE, "grantor": ADDRESS_EXAMPLE, "purpose": ROOT_EXAMPLE,
        "purpose_text": "model training", "valid_from": "2025-05-01T08:00:00Z", "expires_at": "2025-06-01T08:00:00Z",
        "quota": 100, "used": 3, "remaining": 97, "sequence": 3, "scope_root": "0x" + "00" * 32, "status": "Active",
        "usable": True, "tx_hash": TX_EXAMPLE, "block_number": 13})

    grant_id: int
    asset_id: int
    grantee: str
    grantor: str
    purpose: str = Field(description="keccak256 of the purpose text")
    purpose_text: str | None = Field(description="The purpose, when this registry recorded its text")
    valid_from: datetime
    expires_at: datetime
    quota: int
    used: int
    remaining: int
    sequence: int = Field(description="The last usage record's sequence number (0: none)")
    scope_root: str = Field(description="The root of the rows or chunks it covers (zero: the whole asset)")
    status: str = Field(description="Active or Revoked")
    usable: bool = Field(description="Whether one unit could be used under it now")
    tx_hash: str = Field(description="The transaction that created it")
    block_number: int


# ---------------------------------------------------------------------------------- ownership


class ChallengeOut(BaseModel):
    """A one-time ownership challenge: sign ``challenge`` (EIP-191, the text exactly as given) with the owner's key
    and send it with the signature to ``POST /assets/{id}/ownership/proof`` before ``expires_at``."""

    model_config = ConfigDict(frozen=True)

    asset_id: int
    challenge: str = Field(description="The text to sign (EIP-191 personal_sign), eight lines joined by \\n")
    nonce: str
    expires_at: datetime


class OwnershipProofIn(BaseModel):
    """A challenge this registry issued, and the EIP-191 signature of its text."""

    model_config = ConfigDict(frozen=True, extra="forbid", json_schema_extra={"examples": [{
        "challenge": "dataseal ownership challenge\n…\nmac: …", "signature": "0x" + "ab" * 65}]})

    challenge: str = Field(min_length=1, max_length=1000, description="The challenge's text, exactly as issued")
    signature: str = Field(min_length=1, max_length=200, description="0x and 130 hex digits: r, s, v")


class OwnershipOut(BaseModel):
    """Whether the challenge was signed by the asset's owner on chain at ``checked_at_block``."""

    model_config = _example({"asset_id": 7, "owner": True, "address": ADDRESS_EXAMPLE,
                             "owner_on_chain": ADDRESS_EXAMPLE, "chain_id": 31337, "checked_at_block": 42})

    asset_id: int
    owner: bool = Field(description="Whether the signer is the asset's owner")
    address: str = Field(description="The address that signed the challenge")
    owner_on_chain: str = Field(description="The asset's owner at checked_at_block")
    chain_id: int
    checked_at_block: int
