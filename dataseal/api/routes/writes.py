"""Writes: register from a manifest (by the operator account, or relaying an owner's registerBySig signature), and
the operations they answer with.

Every write needs a writer (:data:`~dataseal.api.security.WriterDep`: an operator API key, or a request signed by
the acting address) and honours ``Idempotency-Key``. What can be refused at once is refused at once (4xx); the rest
is queued as an operation (``202 Accepted``, :class:`~dataseal.api.write_models.OperationOut`) that the app's worker
carries out; ``GET /operations/{id}`` follows it. The service signs with its own operator account; it never asks
for a user's private key: an owner's part is their EIP-712 signature.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from fastapi.responses import JSONResponse

from dataseal.api.deps import JSON_ONLY, RegistryDep
from dataseal.api.models import ERROR_RESPONSES
from dataseal.api.operations import Handler, Operations
from dataseal.api.security import IdempotencyDep, Writer, WriterDep
from dataseal.api.write_models import (
    WRITE_ERROR_RESPONSES,
    Forbidden,
    InvalidManifest,
    OperationOut,
    RegisterRequest,
    RelayRegisterRequest,
    naming_fields,
)
from dataseal.chain.values import address as checked_address
from dataseal.errors import InternalError
from dataseal.registry.manifest import Manifest, ManifestError, load_manifest
from dataseal.registry.outbox import Hook
from dataseal.registry.registry import Registry
from dataseal.registry.services.manifest_writes import (
    RelayedSignature,
    check_manifest_registration,
    register_manifest,
    registration_key,
)
from dataseal.registry.services.writer import Clock

router = APIRouter(tags=["writes"], responses=ERROR_RESPONSES)

#: The fields of a registration's request (the library's errors name them so).
_REGISTER_FIELDS = frozenset(RelayRegisterRequest.model_fields)

OperationId = Annotated[str, Path(pattern=r"^op_[0-9a-f]{32}$", description="The operation's id (op_ and 32 hex "
                                                                             "digits)")]


def get_operations(request: Request) -> Operations:
    operations = getattr(request.app.state, "operations", None)
    if not isinstance(operations, Operations):
        raise InternalError("this API was started without its write worker", hint="start it through create_app")
    return operations


def _manifest(data: Mapping[str, Any]) -> Manifest:
    try:
        return load_manifest(dict(data), where="the body's manifest")
    except ManifestError as exc:
        raise InvalidManifest(exc.message, hint=exc.hint, options=("manifest",)) from None


def _leaves(leaves: list[str] | None) -> list[bytes] | None:
    return None if leaves is None else [bytes.fromhex(leaf[2:]) for leaf in leaves]


def _relay(body: RelayRegisterRequest) -> RelayedSignature:
    return RelayedSignature(checked_address(body.owner, "owner"), body.deadline, bytes.fromhex(body.signature[2:]),
                            bytes.fromhex(body.salt[2:]) if body.salt else None)


def answer_made(request: Request, idempotency: IdempotencyDep, kind: str, natural_key: str,
                stored: dict[str, Any]) -> JSONResponse | None:
    """The answer to a write posted again whose operation exists (it is not checked again: once made, it would no
    longer pass its checks); None when there is none."""
    made = get_operations(request).find(kind, natural_key, stored)
    return None if made is None else idempotency.store(202, made)


def accept(request: Request, idempotency: IdempotencyDep, kind: str, natural_key: str, writer: Writer,
           stored: dict[str, Any]) -> JSONResponse:
    """Queue the write (or find the operation already made of it) and answer 202 with it, stored under the
    request's Idempotency-Key."""
    answer = get_operations(request).submit(kind, natural_key, str(writer), stored)
    return idempotency.store(202, answer)


@router.post("/assets", status_code=202, response_model=OperationOut, responses=WRITE_ERROR_RESPONSES,
             dependencies=JSON_ONLY,
             summary="Register an asset from its manifest, as the operator account (an operator API key)")
def post_asset(request: Request, body: RegisterRequest, registry: RegistryDep, writer: WriterDep,
               idempotency: IdempotencyDep) -> JSONResponse:
    """The client sealed its data itself and sends the manifest (and, to have proofs served, the leaf digests); the
    operator account registers it as owner, committing first where the deployment requires it. Checked at once:
    the manifest, the leaves against its root, the root still free, the validity end."""
    replayed = idempotency.replay()
    if replayed is not None:
        return replayed
    if writer.kind != "api_key":
        raise Forbidden(f"{writer} may not register as the operator account: POST /assets registers with the "
                        "operator's own account, for an operator API key",
                        hint="to register as yourself, sign the EIP-712 Register message and send it to "
                             "POST /assets/relay", options=("Authorization",))
    manifest = _manifest(body.manifest)
    key, stored = registration_key(registry, manifest.tree.root), body.model_dump(mode="json")
    made = answer_made(request, idempotency, "register", key, stored)
    if made is not None:
        return made
    with naming_fields(_REGISTER_FIELDS):
        check_manifest_registration(registry, manifest, leaves=_leaves(body.leaves),
                                    classification=body.classification, valid_until=body.valid_until)
    return accept(request, idempotency, "register", key, writer, stored)


@router.post("/assets/relay", status_code=202, response_model=OperationOut, responses=WRITE_ERROR_RESPONSES,
             dependencies=JSON_ONLY,
             summary="Relay an owner's EIP-712 registerBySig signature: the owner registers, the operator sends it")
def post_asset_relay(request: Request, body: RelayRegisterRequest, registry: RegistryDep, writer: WriterDep,
                     idempotency: IdempotencyDep) -> JSONResponse:
    """Checked at once, besides what ``POST /assets`` checks: the signature recovers to the owner with the owner's
    current nonce, and its deadline leaves time to send it (a commitment's minimum age included). A signed request
    must be signed by the owner."""
    replayed = idempotency.replay()
    if replayed is not None:
        return replayed
    relay = _relay(body)
    if writer.address is not None and writer.address != relay.owner:
        raise Forbidden(f"the request is signed by {writer.address}, the registration is {relay.owner}'s",
                        hint="sign the request with the owner's key, or send it with an operator API key",
                        options=("X-Dataseal-Signature",))
    manifest = _manifest(body.manifest)
    key, stored = registration_key(registry, manifest.tree.root), body.model_dump(mode="json")
    made = answer_made(request, idempotency, "relay", key, stored)
    if made is not None:
        return made
    with naming_fields(_REGISTER_FIELDS):
        check_manifest_registration(registry, manifest, leaves=_leaves(body.leaves),
                                    classification=body.classification, valid_until=body.valid_until, relay=relay)
    return accept(request, idempotency, "relay", key, writer, stored)


@router.get("/operations/{operation_id}", response_model=OperationOut, summary="A write's status and result")
def get_operation(request: Request, operation_id: OperationId) -> dict[str, Any]:
    return get_operations(request).get(operation_id)


# ---------------------------------------------------------------------------------- the worker's handlers


def _run_register(registry: Registry, request: Mapping[str, Any], hook: Hook, clock: Clock) -> dict[str, Any]:
    body = RegisterRequest.model_validate(dict(request))
    with naming_fields(_REGISTER_FIELDS):
        done = register_manifest(registry, _manifest(body.manifest), leaves=_leaves(body.leaves),
                                 classification=body.classification, valid_until=body.valid_until, clock=clock,
                                 hook=hook)
    return done.to_json()


def _run_relay(registry: Registry, request: Mapping[str, Any], hook: Hook, clock: Clock) -> dict[str, Any]:
    body = RelayRegisterRequest.model_validate(dict(request))
    with naming_fields(_REGISTER_FIELDS):
        done = register_manifest(registry, _manifest(body.manifest), leaves=_leaves(body.leaves),
                                 classification=body.classification, valid_until=body.valid_until,
                                 relay=_relay(body), clock=clock, hook=hook)
    return done.to_json()


HANDLERS: dict[str, Handler] = {"register": _run_register, "relay": _run_relay}
