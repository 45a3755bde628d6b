"""The write routes' request and response models (:mod:`dataseal.api.routes.writes`)."""
from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping
from contextlib import contextmanager
from typing import Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

from dataseal.api.deps import JSON_ONLY_RESPONSES
from dataseal.api.models import ADDRESS_EXAMPLE, ERROR_RESPONSES, ROOT_EXAMPLE, TX_EXAMPLE, ErrorResponse
from dataseal.errors import DatasealError, InvalidInput

Hex32 = Annotated[str, Field(pattern=r"^0x[0-9a-fA-F]{64}$", examples=[ROOT_EXAMPLE])]
Address = Annotated[str, Field(pattern=r"^0x[0-9a-fA-F]{40}$", examples=[ADDRESS_EXAMPLE])]
Signature65 = Annotated[str, Field(pattern=r"^0x[0-9a-fA-F]{130}$", description="65 bytes r ‖ s ‖ v, 0x-hex")]
UINT40_MAX = 2**40 - 1
UINT64_MAX = 2**64 - 1
UINT256_MAX = 2**256 - 1
MAX_LEAVES = 1_000_000


class Forbidden(InvalidInput):
    """The writer is known but may not make this write (another account must sign it): 403."""

    http_status: ClassVar[int] = 403


class InvalidManifest(InvalidInput):
    """The body's manifest is not a dataseal manifest: 422."""

    http_status: ClassVar[int] = 422


#: The error answers of the write routes, for the OpenAPI page.
WRITE_ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    **ERROR_RESPONSES,
    **{status: {"model": ErrorResponse, "description": text}
       for status, text in ((401, "No credentials, or refused ones (a bad or expired request signature, an unknown "
                                  "API key)"),
                            (403, "The writer may not make this write"),
                            (409, "Refused by the chain's state (root already registered, grant revoked or used up), "
                                  "a replayed request or an Idempotency-Key used for another request"))},
    **JSON_ONLY_RESPONSES,
}


#: The service's own settings a library error may name: the client cannot change them, so its answers leave them out.
SERVICE_SETTINGS = frozenset({"rpc_url", "chain_id", "account", "password", "data_dir", "database_url",
                              "confirmations", "receipt_timeout", "rpc_timeout", "api_secret"})


@contextmanager
def naming_fields(fields: Collection[str], *, renamed: Mapping[str, str] | None = None,
                  rest: str | None = None) -> Iterator[None]:
    """Errors raised within name the request's fields as their ``options``, not the library's parameters: a name in
    ``renamed`` becomes its value (``until`` -> ``expires_at``), a name in ``fields`` stays, any other becomes ``rest``
    (the field holding the document it is a part of, such as ``receipt``) or is left out; a setting of the service
    (:data:`SERVICE_SETTINGS`, such as ``rpc_url``), which the client cannot change, is always left out."""
    try:
        yield
    except DatasealError as error:
        named = ((renamed or {}).get(name, name) for name in error.options if name not in SERVICE_SETTINGS)
        kept = (name if name in fields else rest for name in named)
        error.options = tuple(dict.fromkeys(name for name in kept if name is not None))
        raise


#: What ``leaves`` holds, for the OpenAPI page (the root-mismatch error's hint says it again).
LEAVES_DESCRIPTION = (
    "The seal's leaf hashes, to have the registry store the tree and serve proofs of the asset (leave it out "
    "otherwise): one per chunk, row or file, in data order (leaf 0 first), each the standard-v1 leaf hash "
    "(keccak256 of keccak256 of the ABI-encoded value, as 0x and 64 hex digits), not the chunk's own digest. In "
    "tree.json (n leaves) leaf i is tree[2n - 2 - i], which is also tree[values[i].treeIndex]. Their tree's root "
    "must be the manifest's root.")


class RegisterRequest(BaseModel):
    """A registration from a manifest sealed elsewhere, by the registry's operator account (an operator API key)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{
        "manifest": {"kind": "dataseal.manifest", "...": "the manifest.json of the seal"}, "classification": 1}]})

    manifest: dict[str, Any] = Field(description="The seal's manifest.json, as written")
    leaves: list[Hex32] | None = Field(None, max_length=MAX_LEAVES, description=LEAVES_DESCRIPTION)
    classification: int = Field(0, ge=0, le=3, description="0 public, 1 general, 2 important, 3 core")
    valid_until: int = Field(0, ge=0, le=UINT64_MAX, description="Unix seconds the registration ends (0: never)")


class RelayRegisterRequest(RegisterRequest):
    """An owner's EIP-712 ``Register`` signature (registerBySig) for the operator account to send: the owner is the
    signer. Where commitments are required the operator commits for the owner (with a salt of its own unless
    ``salt`` names the owner's commitment) and relays once it is old enough: sign with a deadline that leaves it
    the commitment's minimum age."""

    owner: Address = Field(description="The owner, who signed")
    deadline: int = Field(ge=0, le=UINT256_MAX, description="The signature's deadline (Unix seconds)")
    signature: Signature65
    salt: Hex32 | None = Field(None, description="The salt of a commitment the owner already made, if any")


class GrantRequest(BaseModel):
    """A grant: relayed (the owner's EIP-712 ``Grant`` signature: ``deadline`` and ``signature``), or by the operator
    account for an asset it owns (an operator API key, no signature)."""

    model_config = ConfigDict(extra="forbid")

    asset_id: int = Field(ge=1, le=UINT256_MAX)
    grantee: Address
    purpose: str = Field(min_length=1, max_length=4096, description="The purpose, as text (its keccak256 is signed)")
    valid_from: int = Field(ge=0, le=UINT64_MAX, description="Unix seconds")
    expires_at: int = Field(ge=1, le=UINT40_MAX, description="Unix seconds (exclusive); at most 2^40 - 1, as the "
                                                             "GrantRegistry allows")
    quota: int = Field(ge=1, le=UINT64_MAX, description="Usage units allowed in total")
    scope_root: Hex32 | None = Field(None, description="The root of the scope's index tree (none: the whole asset)")
    deadline: int | None = Field(None, ge=0, le=UINT256_MAX, description="The signature's deadline (relay)")
    signature: Signature65 | None = Field(None, description="The owner's EIP-712 Grant signature (relay)")


class UsageRequest(BaseModel):
    """A usage receipt, as ``dataseal use`` takes it, to record against the grant."""

    model_config = ConfigDict(extra="forbid")

    units: int = Field(ge=1, le=UINT64_MAX)
    receipt: dict[str, Any] = Field(description="The usage receipt (JSON, as `dataseal use` writes and takes)")


class TradeRequest(BaseModel):
    """A trade offer and the buyer's signature of it, as ``dataseal trade record`` takes them."""

    model_config = ConfigDict(extra="forbid")

    offer: dict[str, Any]
    signature: dict[str, Any]


class OperationOut(BaseModel):
    """A write accepted: its status, transactions and, once mined, its result (or, failed, its error)."""

    model_config = ConfigDict(frozen=True, json_schema_extra={"examples": [{
        "operation": "op_3f2a9c0e1b7d4a6f8e5c2b1a0d9e8f7c", "kind": "register", "status": "mined",
        "tx_hash": TX_EXAMPLE, "tx_hashes": [TX_EXAMPLE], "poll": "/operations/op_3f2a9c0e1b7d4a6f8e5c2b1a0d9e8f7c",
        "result": {"asset_id": 8}, "error": None}]})

    operation: str
    kind: str
    status: Literal["queued", "submitted", "mined", "failed"]
    tx_hash: str | None = Field(description="The latest transaction sent")
    tx_hashes: list[str]
    poll: str = Field(description="Where to read the operation's status")
    result: dict[str, Any] | None = Field(description="Once mined: the asset id, grant id, usage or trade recorded")
    error: dict[str, Any] | None = Field(description="Once failed: the error body, as a refused request answers it")
