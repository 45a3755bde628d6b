"""Writes made for someone else by the registry's signing account (the operator), as the HTTP API makes them:

- :func:`relay_grant`: an asset owner's EIP-712 ``Grant`` signature sent with grantBySig (the owner is the grantor);
  :func:`check_grant_relay` refuses before anything is sent what the chain would refuse (an unknown or inactive
  asset, a signature that is not the owner's with the owner's current nonce, a deadline too near, a window that
  ends before it starts or before now);
- :func:`check_usage` and :func:`check_trade`: what :func:`dataseal.registry.services.usage.use` and
  :func:`dataseal.registry.services.trades.record_trade` would refuse, checked before their operation is queued,
  including whether the signing account may record for the grantee (its USAGE operator) or the seller (TRADE).

The natural key of each write is its outbox key: a relayed grant's is the owner's nonce it consumes.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_utils import keccak

from dataseal.chain.accounts.eip712 import GRANT_TYPE, GRANTS_DOMAIN_NAME, Domain, typed_data
from dataseal.chain.contracts.client import ESTIMATE
from dataseal.chain.contracts.records import TRADE, USAGE, AssetStatus, GrantRecord, GrantTerms
from dataseal.chain.contracts.revert import format_time
from dataseal.chain.errors import ContractRevert
from dataseal.errors import ErrorKind, InvalidInput, NotFound
from dataseal.registry.outbox import Hook
from dataseal.registry.receipts import UsageReceipt
from dataseal.registry.registry import Registry
from dataseal.registry.services.grant_terms import GrantError, compute_next_block_time, record_purpose
from dataseal.registry.services.grants import (
    GrantState,
    delivered_receipt,
    grant_state,
    signing_sender,
    writes_outbox,
)
from dataseal.registry.services.manifest_writes import DEADLINE_MARGIN, operator_address
from dataseal.registry.services.trades import TradeOffer, TradeSignature, verify_signature
from dataseal.registry.services.usage_receipts import verify_receipt_for_grant, verify_units


@dataclass(frozen=True)
class RelayedGrant:
    """What an owner signed for grantBySig, with the purpose's text (its keccak256 is the signed purpose)."""

    terms: GrantTerms
    purpose_text: str
    deadline: int
    signature: bytes


def grants_domain(registry: Registry) -> Domain:
    deployment = registry.context.deployment()
    return Domain(GRANTS_DOMAIN_NAME, deployment.chain_id, deployment.grant_registry)


def recover_grant_signer(registry: Registry, relayed: RelayedGrant, nonce: int) -> str | None:
    t = relayed.terms
    message = {"assetId": t.asset_id, "grantee": t.grantee, "purpose": t.purpose, "validFrom": t.valid_from,
               "expiresAt": t.expires_at, "quota": t.quota, "scopeRoot": t.scope_root, "nonce": nonce,
               "deadline": relayed.deadline}
    try:
        encoded = encode_typed_data(full_message=typed_data(GRANT_TYPE, grants_domain(registry), message))
        return str(Account.recover_message(encoded, signature=relayed.signature))
    except Exception:
        return None


def asset_owner(registry: Registry, asset_id: int) -> str:
    """The owner of an Active ``asset_id``; :class:`NotFound` if there is no such asset, :class:`GrantError`
    (conflict) if it is not Active."""
    client = registry.context.contracts().registry
    try:
        asset = client.asset(asset_id)
    except ContractRevert as exc:
        if exc.name == "UnknownAsset":
            raise NotFound(f"no asset {asset_id} on this registry's chain", hint="check the asset id") from None
        raise
    if asset.status != AssetStatus.Active:
        raise GrantError(f"asset {asset_id} is {asset.status.name}: grants are made on Active assets only",
                         hint="wait until the asset is Active", kind=ErrorKind.CONFLICT)
    return asset.owner


def grant_relay_key(registry: Registry, signature: bytes) -> str:
    """The outbox key of a relayed grant: its signature's (one signature makes one grant: it consumes a nonce)."""
    deployment = registry.context.deployment()
    return f"grant-sig:{deployment.chain_id}:{deployment.grant_registry}:0x{keccak(signature).hex()}"


def check_grant_relay(registry: Registry, relayed: RelayedGrant) -> str:
    """The owner who signed ``relayed``; refuses what grantBySig would refuse."""
    t = relayed.terms
    owner = asset_owner(registry, t.asset_id)
    nonce = registry.context.contracts().grants.nonce_of(owner)
    signer = recover_grant_signer(registry, relayed, nonce)
    if signer != owner:
        raise InvalidInput(
            f"the grantBySig signature is not the asset owner {owner}'s signature of these terms with its nonce "
            f"{nonce}" + (f" (it recovers to {signer})" if signer else ""),
            hint="sign the EIP-712 Grant message of exactly these terms (the purpose as its keccak256), the owner's "
                 "current nonce and the deadline, with the asset owner's key")
    now = compute_next_block_time(registry)
    if relayed.deadline < now + DEADLINE_MARGIN:
        raise InvalidInput(f"the signature's deadline {format_time(relayed.deadline)} is before "
                           f"{format_time(now + DEADLINE_MARGIN)} (the chain's time {format_time(now)} plus "
                           f"{DEADLINE_MARGIN} s)", hint="sign again with a later deadline", options=("deadline",))
    if t.expires_at <= max(t.valid_from, now):
        raise InvalidInput(f"the grant's window ends at {format_time(t.expires_at)}, not after its start "
                           f"{format_time(t.valid_from)} and the chain's time {format_time(now)}",
                           hint="sign a window that ends later", options=("expires_at",))
    return owner


def relay_grant(registry: Registry, relayed: RelayedGrant, *, hook: Hook | None = None) -> dict[str, Any]:
    """Send ``relayed`` with grantBySig (once: a rerun finds the grant its nonce made); the grant made."""
    t = relayed.terms
    owner = asset_owner(registry, t.asset_id)
    signer = signing_sender(registry)
    outbox = writes_outbox(registry, signer, hook)
    grants = registry.context.contracts().grants
    nonce = _nonce_of(registry, relayed, owner)
    key = grant_relay_key(registry, relayed.signature)
    with registry.db.session() as session:
        record_purpose(session, relayed.purpose_text)

    def made() -> bool:
        return grants.nonce_of(owner) > nonce

    if outbox.get(key) is None:
        check_grant_relay(registry, relayed)
        outbox.prepare(key, "grant", {"assetId": t.asset_id, "grantee": t.grantee, "nonce": nonce})
    client = registry.context.contracts(signer).grants
    delivered = outbox.deliver(key, lambda: client.submit_grant_by_sig(t, relayed.deadline, relayed.signature,
                                                                      gas=ESTIMATE), made)
    receipt = delivered_receipt(registry, delivered)
    record = next((r for r in registry.context.contracts().decoder.decode_receipt(receipt)
                   if isinstance(r, GrantRecord)), None) if receipt is not None else None
    if record is None:
        raise GrantError(f"the grant of nonce {nonce} of {owner} was made, but its transaction's receipt is not "
                         "available", hint="read the owner's grants of the asset", kind=ErrorKind.UNAVAILABLE)
    return {"grant_id": record.grant_id, "asset_id": record.asset_id, "grantee": record.grantee,
            "grantor": record.grantor, "tx_hash": record.tx.tx_hash, "block_number": record.tx.block_number}


def _nonce_of(registry: Registry, relayed: RelayedGrant, owner: str) -> int:
    """The nonce ``relayed`` was signed with: the owner's current one, or (a rerun after it was used) the one the
    signature recovers with among the last few."""
    current = registry.context.contracts().grants.nonce_of(owner)
    for nonce in range(current, max(-1, current - 8), -1):
        if recover_grant_signer(registry, relayed, nonce) == owner:
            return nonce
    return current


# ---------------------------------------------------------------------------------- usage and trades


def may_act_for(registry: Registry, account: str, actor: str, power: int) -> bool:
    """Whether ``actor`` is ``account`` or an operator it gave ``power`` (USAGE or TRADE) on the ledger."""
    return actor == account or bool(registry.context.contracts().ledger.operator_powers(account, actor) & power)


def check_usage(registry: Registry, grant_id: int, units: int, receipt: UsageReceipt) -> GrantState:
    """Refuse now what recording ``units`` of ``receipt`` under ``grant_id`` would be refused for, but whether the
    signing account may record for the grantee (the caller says who must authorise whom): an unknown grant (404),
    a receipt of another grant (400), a grant revoked, expired or used up (409)."""
    verify_units(units)
    state = grant_state(registry, grant_id)
    deployment = registry.context.deployment()
    verify_receipt_for_grant(state, deployment.chain_id, deployment.grant_registry, receipt, units)
    problem = state.problem(units)
    if problem is not None:
        raise GrantError(problem[0], hint=problem[1], kind=ErrorKind.CONFLICT)
    return state


def check_trade(registry: Registry, offer: TradeOffer, signature: TradeSignature) -> None:
    """Refuse now a trade whose buyer's signature is not the buyer's, or made with a used nonce."""
    verify_signature(offer, signature)
    nonce = registry.context.contracts().ledger.nonce_of(offer.buyer)
    if nonce != signature.nonce:
        raise GrantError(f"the buyer's signature was made with nonce {signature.nonce}, but the buyer's next nonce is "
                         f"{nonce}", hint="ask the buyer to sign the offer again", kind=ErrorKind.CONFLICT)


def operator_may(registry: Registry, account: str, power: int) -> tuple[str, bool]:
    """The signing account, and whether it may act for ``account`` with ``power``."""
    me = operator_address(registry)
    return me, may_act_for(registry, account, me, power)


POWERS: dict[int, str] = {USAGE: "USAGE", TRADE: "TRADE"}


def describe_powers(powers: Sequence[int]) -> str:
    return " and ".join(POWERS.get(p, str(p)) for p in powers)
