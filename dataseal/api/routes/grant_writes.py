"""Writes of grants, usage and trades (see :mod:`dataseal.api.routes.writes` for how a write is authenticated,
checked, queued and followed). The operator account sends every transaction: a relayed grant carries the owner's
EIP-712 signature; usage and trades are recorded by the operator as the grantee's USAGE operator or the seller's
TRADE operator on the TransactionLedger (or as the grantee or seller itself)."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from fastapi.responses import JSONResponse

from dataseal.api.deps import JSON_ONLY, RegistryDep
from dataseal.api.errors import RequestShapeError
from dataseal.api.operations import Handler
from dataseal.api.routes.writes import accept, answer_made
from dataseal.api.security import HEADER_AUTHORIZATION, HEADER_SIGNATURE, IdempotencyDep, Writer, WriterDep
from dataseal.api.write_models import (
    WRITE_ERROR_RESPONSES,
    Forbidden,
    GrantRequest,
    OperationOut,
    TradeRequest,
    UsageRequest,
    naming_fields,
)
from dataseal.chain.contracts.records import TRADE, USAGE, ZERO32, GrantTerms
from dataseal.chain.contracts.revert import format_time
from dataseal.chain.values import address as checked_address
from dataseal.errors import InvalidInput
from dataseal.registry.outbox import Hook
from dataseal.registry.receipts import ReceiptError, UsageReceipt, load_receipt, purpose_hash
from dataseal.registry.registry import Registry
from dataseal.registry.services.grant_terms import compute_next_block_time
from dataseal.registry.services.grants import compute_grant_request, grant
from dataseal.registry.services.manifest_writes import operator_address
from dataseal.registry.services.relay_writes import (
    RelayedGrant,
    asset_owner,
    check_grant_relay,
    check_trade,
    check_usage,
    grant_relay_key,
    may_act_for,
    relay_grant,
)
from dataseal.registry.services.trades import (
    TradeError,
    TradeOffer,
    TradeSignature,
    load_offer,
    load_signature,
    record_trade,
)
from dataseal.registry.services.usage import use
from dataseal.registry.services.writer import Clock

router = APIRouter(tags=["writes"], responses=WRITE_ERROR_RESPONSES)

GrantId = Annotated[int, Path(ge=1, le=2**256 - 1, description="The grant's id")]

#: What the grants library calls the request's fields (``dataseal grant`` takes ``--until``).
_GRANT_RENAMED = {"until": "expires_at"}
_GRANT_FIELDS = frozenset(GrantRequest.model_fields)
_USAGE_FIELDS = frozenset(UsageRequest.model_fields)
_TRADE_FIELDS = frozenset(TradeRequest.model_fields)


def _relayed(body: GrantRequest) -> RelayedGrant:
    assert body.signature is not None and body.deadline is not None
    terms = GrantTerms(body.asset_id, checked_address(body.grantee, "grantee"), purpose_hash(body.purpose),
                       body.valid_from, body.expires_at, body.quota,
                       bytes.fromhex(body.scope_root[2:]) if body.scope_root else ZERO32)
    return RelayedGrant(terms, body.purpose, body.deadline, bytes.fromhex(body.signature[2:]))


def _operator_grant_key(registry: Registry, body: GrantRequest, grantor: str) -> str:
    deployment = registry.context.deployment()
    return "grant:{}:{}:{}".format(deployment.chain_id, deployment.grant_registry, compute_grant_request(
        deployment.chain_id, deployment.grant_registry, body.asset_id, checked_address(body.grantee, "grantee"),
        grantor, purpose_hash(body.purpose), body.valid_from, body.expires_at, body.quota, ZERO32, None))


@router.post("/grants", status_code=202, response_model=OperationOut, dependencies=JSON_ONLY,
             summary="Relay an owner's EIP-712 grantBySig signature, or grant as the operator account")
def post_grant(request: Request, body: GrantRequest, registry: RegistryDep, writer: WriterDep,
               idempotency: IdempotencyDep) -> JSONResponse:
    """With ``signature`` and ``deadline``: the asset owner's signed Grant, sent by the operator account (a signed
    request must be the owner's). Without: the operator account grants an asset it owns (an operator API key).
    Checked at once: the asset exists and is Active, the signature is the owner's with its current nonce, the
    deadline and the window are still ahead."""
    replayed = idempotency.replay()
    if replayed is not None:
        return replayed
    with naming_fields(_GRANT_FIELDS, renamed=_GRANT_RENAMED):
        return _post_grant(request, body, registry, writer, idempotency)


def _post_grant(request: Request, body: GrantRequest, registry: Registry, writer: Writer,
                idempotency: IdempotencyDep) -> JSONResponse:
    if (body.signature is None) != (body.deadline is None):
        raise RequestShapeError("a relayed grant gives both signature and deadline",
                                hint="give both (relay the owner's signature), or neither (grant as the operator)",
                                options=("deadline",))
    if int(body.grantee, 16) == 0:
        raise InvalidInput("the grantee is the zero address: the GrantRegistry refuses a grant to it (no one holds "
                           "its key)", hint="give the address of the account the data is granted to",
                           options=("grantee",))
    stored = body.model_dump(mode="json")
    if body.signature is not None:
        relayed = _relayed(body)
        key = grant_relay_key(registry, relayed.signature)
        made = answer_made(request, idempotency, "grant-relay", key, stored)
        if made is not None:
            return made
        owner = check_grant_relay(registry, relayed)
        if writer.address is not None and writer.address != owner:
            raise Forbidden(f"the request is signed by {writer.address}; asset {body.asset_id}'s owner, who signed "
                            f"the grant, is {owner}", hint="sign the request with the owner's key, or send it with "
                            "an operator API key", options=(HEADER_SIGNATURE,))
        return accept(request, idempotency, "grant-relay", key, writer, stored)
    if writer.kind != "api_key":
        raise Forbidden(f"{writer} may not grant as the operator account", hint="relay the asset owner's signed "
                        "EIP-712 Grant (signature and deadline)", options=(HEADER_AUTHORIZATION,))
    if body.scope_root is not None:
        raise RequestShapeError("a scope root is only taken with the owner's signature of it",
                                hint="grant the whole asset, or relay the owner's signed Grant",
                                options=("scope_root",))
    owner, me = asset_owner(registry, body.asset_id), operator_address(registry)
    if owner != me:
        raise Forbidden(f"asset {body.asset_id} is owned by {owner}, not by the operator account {me}",
                        hint="relay the owner's signed EIP-712 Grant (signature and deadline)")
    now = compute_next_block_time(registry)
    if body.expires_at <= max(body.valid_from, now):
        raise InvalidInput(f"the grant's window ends at {format_time(body.expires_at)}, not after its start "
                           f"{format_time(body.valid_from)} and the chain's time {format_time(now)}",
                           hint="give a window that ends later", options=("expires_at",))
    return accept(request, idempotency, "grant", _operator_grant_key(registry, body, me), writer, stored)


def _receipt(data: Mapping[str, Any]) -> UsageReceipt:
    try:
        return load_receipt(dict(data), where="the body's receipt")
    except ReceiptError as exc:
        raise InvalidInput(exc.message, hint=exc.hint, options=("receipt",)) from None


def _authorised(registry: Registry, writer: Writer, account: str, power: int, what: str) -> None:
    """The writer may act for ``account`` (itself, or its operator with ``power``) and so may the operator account,
    which sends the transaction; else 403 saying who must authorise whom."""
    name = "USAGE" if power == USAGE else "TRADE"
    if writer.address is not None and not may_act_for(registry, account, writer.address, power):
        raise Forbidden(f"the request is signed by {writer.address}, who is neither {account} nor an operator "
                        f"{account} gave the {name} power: only they may {what}",
                        hint=f"sign the request with {account}'s key", options=(HEADER_SIGNATURE,))
    me = operator_address(registry)
    if not may_act_for(registry, account, me, power):
        raise Forbidden(f"this registry's operator account {me} may not {what} for {account}: {account} has not "
                        f"made it an operator with the {name} power on the TransactionLedger",
                        hint=f"{account} authorises {me} (setOperator with the {name} power), then send it again")


@router.post("/grants/{grant_id}/usage", status_code=202, response_model=OperationOut, dependencies=JSON_ONLY,
             summary="Record usage under a grant (a usage receipt), sent by the operator account")
def post_usage(request: Request, grant_id: GrantId, body: UsageRequest, registry: RegistryDep, writer: WriterDep,
               idempotency: IdempotencyDep) -> JSONResponse:
    """Checked at once: the grant exists (404), the receipt is of this grant and of these units (400), the grant is
    not revoked, expired or used up (409), and the grantee made the operator account its USAGE operator (403)."""
    replayed = idempotency.replay()
    if replayed is not None:
        return replayed
    with naming_fields(_USAGE_FIELDS, rest="receipt"):
        return _post_usage(request, grant_id, body, registry, writer, idempotency)


def _post_usage(request: Request, grant_id: int, body: UsageRequest, registry: Registry, writer: Writer,
                idempotency: IdempotencyDep) -> JSONResponse:
    receipt = _receipt(body.receipt)
    deployment = registry.context.deployment()
    key = f"use:{deployment.chain_id}:{deployment.transaction_ledger}:{grant_id}:{receipt.hash_hex}"
    stored = {"grant_id": grant_id, **body.model_dump(mode="json")}
    made = answer_made(request, idempotency, "usage", key, stored)
    if made is not None:
        return made
    state = check_usage(registry, grant_id, body.units, receipt)
    _authorised(registry, writer, state.grant.grantee, USAGE, f"record usage under grant {grant_id}")
    return accept(request, idempotency, "usage", key, writer, stored)


def _trade(body: TradeRequest) -> tuple[TradeOffer, TradeSignature]:
    """The body's offer and signature; a malformed one is refused naming its field (not the offer's own fields,
    which are the CLI's parameters)."""
    try:
        offer = load_offer(body.offer, "the body's offer")
    except TradeError as exc:
        raise InvalidInput(exc.message, hint=exc.hint, options=("offer",)) from None
    try:
        return offer, load_signature(body.signature, "the body's signature")
    except TradeError as exc:
        raise InvalidInput(exc.message, hint=exc.hint, options=("signature",)) from None


@router.post("/trades", status_code=202, response_model=OperationOut, dependencies=JSON_ONLY,
             summary="Record a trade (an offer and the buyer's signature), sent by the operator account")
def post_trade(request: Request, body: TradeRequest, registry: RegistryDep, writer: WriterDep,
               idempotency: IdempotencyDep) -> JSONResponse:
    """Checked at once: the buyer's signature (400), its nonce still unused (409), and the seller made the operator
    account its TRADE operator (403)."""
    replayed = idempotency.replay()
    if replayed is not None:
        return replayed
    with naming_fields(_TRADE_FIELDS, rest="offer"):
        return _post_trade(request, body, registry, writer, idempotency)


def _post_trade(request: Request, body: TradeRequest, registry: Registry, writer: Writer,
                idempotency: IdempotencyDep) -> JSONResponse:
    offer, signature = _trade(body)
    key, stored = f"trade:{offer.chain_id}:{offer.ledger}:{offer.hash_hex}", body.model_dump(mode="json")
    made = answer_made(request, idempotency, "trade", key, stored)
    if made is not None:
        return made
    check_trade(registry, offer, signature)
    _authorised(registry, writer, offer.seller, TRADE, f"record trades of asset {offer.asset_id}")
    return accept(request, idempotency, "trade", key, writer, stored)


# ---------------------------------------------------------------------------------- the worker's handlers


def _run_grant(registry: Registry, request: Mapping[str, Any], hook: Hook, clock: Clock) -> dict[str, Any]:
    body = GrantRequest.model_validate(dict(request))
    with naming_fields(_GRANT_FIELDS, renamed=_GRANT_RENAMED):
        done = grant(registry, body.asset_id, body.grantee, body.purpose, body.valid_from, body.expires_at,
                     body.quota, hook=hook)
    return {"grant_id": done.grant.grant_id, "tx_hash": done.grant.tx.tx_hash, **done.to_json()}


def _run_grant_relay(registry: Registry, request: Mapping[str, Any], hook: Hook, clock: Clock) -> dict[str, Any]:
    with naming_fields(_GRANT_FIELDS, renamed=_GRANT_RENAMED):
        return relay_grant(registry, _relayed(GrantRequest.model_validate(dict(request))), hook=hook)


def _run_usage(registry: Registry, request: Mapping[str, Any], hook: Hook, clock: Clock) -> dict[str, Any]:
    body = UsageRequest.model_validate({k: v for k, v in request.items() if k != "grant_id"})
    with naming_fields(_USAGE_FIELDS, rest="receipt"):
        done = use(registry, int(request["grant_id"]), body.units, _receipt(body.receipt), hook=hook)
    return {"sequence": done.record.sequence, "tx_hash": done.record.tx.tx_hash, **done.to_json()}


def _run_trade(registry: Registry, request: Mapping[str, Any], hook: Hook, clock: Clock) -> dict[str, Any]:
    offer, signature = _trade(TradeRequest.model_validate(dict(request)))
    with naming_fields(_TRADE_FIELDS, rest="offer"):
        done = record_trade(registry, offer, signature, hook=hook)
    return {"trade_id": done.record.trade_id, "tx_hash": done.record.tx.tx_hash, **done.to_json()}


HANDLERS: dict[str, Handler] = {"grant": _run_grant, "grant-relay": _run_grant_relay, "usage": _run_usage,
                                "trade": _run_trade}
