"""Ownership: the caller proves it holds the key of an asset's owner by signing a one-time server challenge (EIP-191;
:mod:`dataseal.api.ownership` says how challenges are made and checked). Open to everyone: the answer says whether
the signer is the owner on chain, at which block."""
from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool

from dataseal.api.deps import RegistryDep
from dataseal.api.models import ChallengeOut, ErrorResponse, OwnershipOut, OwnershipProofIn
from dataseal.api.ownership import (
    ANY_SIGNER,
    ChallengeUsed,
    compute_challenge,
    load_challenge_secret,
    parse_challenge,
    parse_signature,
)
from dataseal.api.routes.assets import AssetId, read_asset
from dataseal.api.routes.verify import JSON_ONLY, JSON_ONLY_RESPONSES
from dataseal.api.security import HEADER_SIGNATURE, ReplayedRequest, Unauthorized, compute_signer, record_signed_request
from dataseal.chain.contracts.revert import as_chain_error
from dataseal.errors import InternalError, InvalidInput
from dataseal.registry.registry import Registry

router = APIRouter(tags=["ownership"])

_REFUSED: dict[int | str, dict[str, Any]] = {
    409: {"model": ErrorResponse, "description": "The challenge expired, or was answered already"}}


def _clock(request: Request) -> Callable[[], float]:
    clock: Callable[[], float] | None = getattr(request.app.state, "clock", None)
    return clock or time.time


def get_challenge_secret(request: Request) -> bytes:
    """The app's secret for the challenges' HMAC: ``app.state.challenge_secret`` when set, else the service's
    (:func:`~dataseal.api.ownership.load_challenge_secret` of its registry's settings: every replica the same),
    loaded on first use and kept there. It may read or make a file: call it off the event loop."""
    state = request.app.state
    secret: bytes | None = getattr(state, "challenge_secret", None)
    if secret is None:
        registry: Registry | None = getattr(state, "registry", None)
        if registry is None:
            raise InternalError("this API was started without a registry to take its ownership challenges' secret "
                                "from", hint="start it through create_app(registry)")
        secret = state.challenge_secret = load_challenge_secret(registry.settings)
    return secret


def _registry_of(registry: Registry) -> tuple[int, str]:
    context = registry.context
    return context.connection.chain_id, context.contracts().registry.address


@router.post("/assets/{asset_id}/ownership/challenge", response_model=ChallengeOut,
             summary="A one-time challenge to sign with the owner's key")
def create_challenge(asset_id: AssetId, request: Request, registry: RegistryDep) -> ChallengeOut:
    """A text naming the asset, this registry's chain and AssetRegistry, a random nonce and an expiry (5 minutes),
    bound to this server: sign it (EIP-191) with the key of the asset's owner and send it to
    ``POST /assets/{asset_id}/ownership/proof``. It is accepted once."""
    read_asset(registry, asset_id)  # an unknown asset: the same 404 as /assets/{id}
    chain_id, address = _registry_of(registry)
    challenge = compute_challenge(get_challenge_secret(request), asset_id=asset_id, chain_id=chain_id,
                                  registry=address, now=_clock(request)())
    return ChallengeOut(asset_id=asset_id, challenge=challenge.text, nonce=challenge.nonce,
                        expires_at=datetime.fromtimestamp(challenge.expires, UTC))


@router.post("/assets/{asset_id}/ownership/proof", response_model=OwnershipOut, dependencies=JSON_ONLY,
             responses={**_REFUSED, **JSON_ONLY_RESPONSES},
             summary="Check a signed challenge against the asset's owner on chain")
async def prove_ownership(asset_id: AssetId, body: OwnershipProofIn, request: Request,
                          registry: RegistryDep) -> OwnershipOut:
    """Whether the challenge (issued by this registry for this asset, not expired, not answered before) was signed
    by the asset's owner on chain now. A signature by anyone else answers ``owner: false`` (and uses the challenge
    up too)."""
    now = _clock(request)()

    def check() -> OwnershipOut:
        secret = get_challenge_secret(request)
        chain_id, address = _registry_of(registry)
        challenge = parse_challenge(secret, body.challenge, asset_id=asset_id, chain_id=chain_id, registry=address,
                                    now=now)
        signature = parse_signature(body.signature)
        try:
            signer = compute_signer(challenge.text, signature)
        except Unauthorized as exc:  # said of the signature header there: here it is the body's field
            raise InvalidInput(exc.message.replace(HEADER_SIGNATURE, "the signature"),
                               hint="sign the challenge's text exactly as given (EIP-191) with a standard Ethereum "
                                    "library", options=("signature",)) from None
        read_asset(registry, asset_id)
        w3 = registry.context.connection.w3
        contract = registry.context.contracts().registry.contract
        try:
            block = int(w3.eth.block_number)
            owner, _status = contract.functions.ownerAndStatus(asset_id).call(block_identifier=block)
        except Exception as exc:
            raise as_chain_error(exc, "AssetRegistry.ownerAndStatus") from exc
        try:
            record_signed_request(registry.db, ANY_SIGNER, challenge.text, challenge.expires, now=now)
        except ReplayedRequest:
            raise ChallengeUsed(f"the challenge {challenge.nonce} was answered already: a challenge is accepted once",
                                hint="ask for a new challenge and sign it", options=("challenge",)) from None
        owner_address = w3.to_checksum_address(owner)
        return OwnershipOut(asset_id=asset_id, owner=signer == owner_address, address=signer,
                            owner_on_chain=owner_address, chain_id=chain_id, checked_at_block=block)

    return await run_in_threadpool(check)
