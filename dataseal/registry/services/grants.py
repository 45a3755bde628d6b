"""Grants: authorise an account to use an asset for a purpose, in a window, up to a quota, over a scope.

    from dataseal.registry.registry import Registry
    from dataseal.registry.services.grants import grant, revoke, grant_state

    with Registry.open(Settings.load(data_dir="./.dataseal")) as registry:
        done = grant(registry, asset_id=1, grantee="0xAb…", purpose="credit scoring model training",
                     valid_from="now", until="90d", quota=1000, scope=[*range(1000)])
        print(done.grant.grant_id, done.grant.tx.tx_hash)
        state = grant_state(registry, done.grant.grant_id)      # purpose text, remaining units, usable now?
        revoked = revoke(registry, done.grant.grant_id, reason="contract ended")   # .already_done on a rerun

A grant's purpose is a bytes32 on chain: the keccak256 of the purpose text (UTF-8). The text itself, and the
indexes behind a scope root (:mod:`dataseal.registry.scope`), are kept in the registry database
(:class:`GrantPurposeRecord`, :class:`GrantScopeRecord`): the chain keeps only their hashes. Reading and keeping
them, and the times below, are :mod:`~dataseal.registry.services.grant_terms`.

Times (``valid_from``, ``until``) are Unix seconds, aware datetimes, or text (``resolve_time``): ``now``,
an ISO 8601 date or date-time (UTC unless it names a zone), or a duration (``30d``, ``12h``, ``90m``, ``45s``,
``2w``). ``now`` is the time the next block will carry (``compute_next_block_time``): what the contract
compares the window with, not the latest block's time, which on an idle node is hours old. A duration for
``valid_from`` counts from now; for ``until`` from the start of the window.

Every write goes through the :mod:`~dataseal.registry.outbox`, so that a run that dies half-way is finished by
the next one, never done twice. A revocation is known by its grant. A grant has no natural key on chain (two
grants of the same terms are two grants), so it is known by its request: the hash of its terms as given (the
asset, grantee, grantor, purpose, ``valid_from`` and ``until`` as written, quota, scope root) and of an optional
``request`` id. The first run records the request with the terms it resolved (the window's start and end) and
the block it started from before anything is sent; a rerun with the same request finishes that grant (the same
terms, found on chain by the grantor's GrantCreated event with them in a later block, and not a grant another
request of this registry holds) instead of making another. Once the grant is made and handed back, a request
without ``request`` id is closed: the same command run again later makes a new grant. With a ``request`` id it
stays: the same id always gives the same grant.

Each write checks what the chain would refuse before sending (the asset's owner and status, the window, the
quota, the grant's status), and a grant's scope against the asset's leaves (when this registry stored the asset's
manifest: a usage receipt's indexes are checked against them too), so that a refusal is a clear
:class:`GrantError` rather than a spent transaction; if the chain refuses anyway, its error arrives decoded
(:class:`~dataseal.chain.errors.ContractRevert`).
"""
from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from eth_utils import keccak
from hexbytes import HexBytes
from sqlmodel import select
from web3.exceptions import TransactionNotFound

from dataseal.chain.accounts.passwords import PasswordSource
from dataseal.chain.connection.failures import is_connection_failure, unreachable
from dataseal.chain.contracts.client import ESTIMATE
from dataseal.chain.contracts.logs import LogReader
from dataseal.chain.contracts.records import (
    ZERO32,
    AssetStatus,
    Grant,
    GrantRecord,
    GrantRevocation,
    GrantStatus,
    TxRef,
)
from dataseal.chain.contracts.revert import format_time
from dataseal.chain.errors import ContractRevert
from dataseal.chain.sending.sender import TxSender
from dataseal.chain.values import address
from dataseal.errors import ErrorKind, InvalidInput
from dataseal.registry.db.models.local import OutboxState, OutboxTx
from dataseal.registry.outbox import Delivered, Hook, Outbox, get_record
from dataseal.registry.receipts import purpose_hash
from dataseal.registry.registry import Registry
from dataseal.registry.scope import IndexTree, format_ranges
from dataseal.registry.sealing.canonical import canonical_json_bytes
from dataseal.registry.services.grant_terms import (
    GrantError,
    compute_next_block_time,
    format_count,
    get_asset_leaves,
    get_purpose_text,
    record_purpose,
    record_scope,
    resolve_time,
    scope_tree,
    verify_scope_in_asset,
)
from dataseal.registry.services.writer import owner_of

MAX_UINT64 = 2**64 - 1
GRANT_CREATED = "0x" + keccak(
    text="GrantCreated(uint256,uint256,address,address,bytes32,uint64,uint64,uint64,bytes32)").hex()
GRANT_REVOKED = "0x" + keccak(text="GrantRevoked(uint256,uint256,address,bytes32)").hex()


# ----------------------------------------------------------------------------------------------- shared


def acting_for(registry: Registry, account: str, power: int, *, earlier: str | None = None) -> Callable[[], list[str]]:
    """The accounts that act for ``account`` with ``power`` (USAGE or TRADE): itself, and the keystore's accounts it
    made its operators with that power (read when asked: see :func:`signing_sender`). ``earlier``: the account an
    earlier run of the same write sent from, which alone acts when the keystore holds it (a rerun signs as the run
    it finishes)."""
    def read() -> list[str]:
        held = [entry.address for entry in registry.context.keystore.list()]
        if earlier is not None and earlier.lower() in {address.lower() for address in held}:
            return [earlier]
        ledger = registry.context.contracts().ledger
        others = [a for a in held if a.lower() != account.lower()]
        return [account, *(a for a in others if ledger.operator_powers(account, a) & power)]
    return read


def signing_sender(registry: Registry, sender: TxSender | None = None, passwords: Sequence[PasswordSource] = (),
                   acting: Callable[[], Iterable[str]] | None = None) -> TxSender:
    """``sender``, or the settings' signing account unlocked (with ``passwords`` as the front door's sources; when
    the keystore holds several accounts and none is named, the one of ``acting()``, the accounts that can act)."""
    if sender is not None:
        return sender
    context = registry.context
    return context.sender(context.unlock(*passwords, acting=acting))


def writes_outbox(registry: Registry, signer: TxSender, hook: Hook | None = None) -> Outbox:
    """The outbox of ``signer``'s writes on the registry's chain (``hook`` sees its moments: tests crash there)."""
    context = registry.context
    return Outbox(registry.db, context.connection.w3, signer, chain_id=context.deployment().chain_id, hook=hook)


def delivered_receipt(registry: Registry, delivered: Delivered) -> Any:
    """The receipt of a delivered write: the one delivery saw, else its transaction's, else None (the chain showed
    the write done without a transaction of ours to point at)."""
    if delivered.receipt is not None:
        return delivered.receipt
    if delivered.tx_hash:
        connection = registry.context.connection
        try:
            return connection.w3.eth.get_transaction_receipt(HexBytes(delivered.tx_hash))
        except TransactionNotFound:
            return None
        except Exception as exc:
            if is_connection_failure(exc):
                raise unreachable(connection.endpoint, exc) from exc
            return None  # the node's other answers: the logs answer instead
    return None


def topic_of(value: int | str) -> str:
    """An indexed uint256 or address as a log topic."""
    raw = value.to_bytes(32, "big") if isinstance(value, int) else bytes.fromhex(value[2:]).rjust(32, b"\0")
    return "0x" + raw.hex()


@dataclass(frozen=True)
class GrantState:
    """A grant as the chain has it now: its state (``grant``), its creation (``created``: purpose hash, grantor,
    the transaction), the purpose text when this registry knows it, and the chain's time (``now``: the time the next
    block will carry)."""

    grant: Grant
    created: GrantRecord
    purpose: str | None
    now: int

    @property
    def remaining(self) -> int:
        return self.grant.quota - self.grant.used

    def to_json(self) -> dict[str, Any]:
        return {"grant": self.grant.to_json(), "created": self.created.to_json(), "purpose": self.purpose,
                "remaining": self.remaining, "now": self.now,
                "usable": self.problem() is None}

    def problem(self, units: int = 1, *, lasting: bool = False) -> tuple[str, str] | None:
        """Why ``units`` cannot be used under the grant now, and what to do (None: they can, as far as the grant
        goes; the asset's status and the recorder's rights are checked apart). With ``lasting``, only the problems
        time does not cure: a grant revoked or expired, or without the units left (they only go down) — not a
        window that has yet to open."""
        g = self.grant
        new_grant = "ask the asset owner for a new grant"
        if g.status != GrantStatus.Active:
            return f"grant {g.grant_id} is {g.status.name}", new_grant
        if self.now < g.valid_from and not lasting:
            return (f"grant {g.grant_id} starts at {format_time(g.valid_from)}; it is now {format_time(self.now)}",
                    "wait until the grant's window opens")
        if self.now >= g.expires_at:
            return (f"grant {g.grant_id} expired at {format_time(g.expires_at)}; it is now {format_time(self.now)}",
                    new_grant)
        if units > self.remaining:
            return (f"grant {g.grant_id} has {self.remaining} of its {format_count(g.quota, 'unit')} left, "
                    f"{format_count(units, 'unit')} {'was' if units == 1 else 'were'} asked for",
                    "ask the asset owner for a new grant with a larger quota, or record fewer units")
        return None


def grant_created(registry: Registry, grant_id: int) -> GrantRecord:
    """The GrantCreated event of ``grant_id`` (its purpose hash and grantor are in it, not in the state)."""
    context = registry.context
    deployment = context.deployment()
    contracts = context.contracts()
    reader = LogReader(context.connection.w3, endpoint=context.connection.endpoint)
    topic = GRANT_CREATED
    for log in reader.logs(deployment.grant_registry, deployment.deploy_block,
                           topics=[topic, "0x" + grant_id.to_bytes(32, "big").hex()]):
        record = contracts.decoder.decode_log(log)
        if isinstance(record, GrantRecord) and record.grant_id == grant_id:
            return record
    raise GrantError(f"no GrantCreated event for grant {grant_id} at {deployment.grant_registry}",
                     hint="check the grant id and the chain you are connected to", kind=ErrorKind.NOT_FOUND)


def grant_state(registry: Registry, grant_id: int, clock: Callable[[], float] = time.time) -> GrantState:
    """The grant ``grant_id`` now (``now``: the time the next block will carry, :func:`compute_next_block_time`, what
    a use sent now is checked against); a grant the chain does not know raises (decoded ``UnknownGrant``)."""
    _check_id(grant_id, "grant")
    grants = registry.context.contracts().grants
    state = grants.grant_of(grant_id)
    created = grant_created(registry, grant_id)
    purpose = get_purpose_text(registry, created.purpose)
    return GrantState(state, created, purpose, compute_next_block_time(registry, clock))


def _check_id(value: int, what: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value < 2**256:
        raise InvalidInput(f"{value!r} is not a {what} id ({what} ids are whole numbers from 1)",
                           hint=f"give the {what}'s number (1, 2, ...)")


# ----------------------------------------------------------------------------------------------- grant


@dataclass(frozen=True)
class GrantResult:
    """What :func:`grant` did: the grant as the chain recorded it, its purpose text and its scope (if any);
    ``resumed``: an earlier run of the same request had started it (this run finished it, or found it made)."""

    grant: GrantRecord
    purpose: str
    scope: IndexTree | None
    resumed: bool = False
    scope_unchecked: str | None = None
    """Why the scope's indexes were not checked against the asset's leaves (None: checked, or no scope)."""

    def to_json(self) -> dict[str, Any]:
        return {"grant": self.grant.to_json(), "purpose": self.purpose,
                "scope": None if self.scope is None else {"root": self.scope.root_hex, "count": len(self.scope),
                                                          "indexes": format_ranges(self.scope.indexes)},
                "scope_unchecked": self.scope_unchecked, "resumed": self.resumed}


def _as_given(value: int | datetime | str) -> str:
    """A time as the caller wrote it, for a grant's request key (``now`` stays ``now``: a rerun resolves it to the
    first run's time)."""
    if isinstance(value, datetime):
        return str(int(value.timestamp()))
    if isinstance(value, str):
        return " ".join(value.lower().split())
    return str(value)


def compute_grant_request(chain_id: int, grant_registry: str, asset_id: int, grantee: str, grantor: str,
                          purpose: bytes, valid_from: int | datetime | str, until: int | datetime | str, quota: int,
                          scope_root: bytes, request: str | None = None) -> str:
    """The request key of a grant: keccak256 (0x-hex) of the canonical JSON of its terms as given and ``request``."""
    terms = {"chainId": chain_id, "grantRegistry": grant_registry, "assetId": asset_id, "grantee": grantee,
             "grantor": grantor, "purpose": "0x" + purpose.hex(), "validFrom": _as_given(valid_from),
             "until": _as_given(until), "quota": quota, "scopeRoot": "0x" + scope_root.hex(), "request": request}
    return "0x" + keccak(canonical_json_bytes(terms)).hex()


def get_grant_made(registry: Registry, grantor: str, terms: dict[str, Any], *,
                   claimed: frozenset[str] = frozenset()) -> GrantRecord | None:
    """The grant ``grantor`` made with exactly ``terms`` (a grant request's outbox payload) after the block the
    request started at (its transaction cannot be in a block mined before it was sent), leaving out the grants
    whose ids or transaction hashes are in ``claimed`` (other requests' grants, :func:`compute_claimed_grants`);
    None when there is none."""
    context = registry.context
    deployment = context.deployment()
    decoder = context.contracts().decoder
    reader = LogReader(context.connection.w3, endpoint=context.connection.endpoint)
    wanted = (int(terms["assetId"]), str(terms["grantee"]), grantor, str(terms["purpose"]), int(terms["validFrom"]),
              int(terms["expiresAt"]), int(terms["quota"]), str(terms["scopeRoot"]))
    for log in reader.logs(deployment.grant_registry, int(terms["fromBlock"]) + 1,
                           topics=[GRANT_CREATED, None, topic_of(wanted[0]), topic_of(wanted[1])]):
        record = decoder.decode_log(log)
        if isinstance(record, GrantRecord) and (
                record.asset_id, record.grantee, record.grantor, "0x" + record.purpose.hex(), record.valid_from,
                record.expires_at, record.quota, "0x" + record.scope_root.hex()) == wanted and not (
                str(record.grant_id) in claimed or record.tx.tx_hash.lower() in claimed):
            return record
    return None


def compute_claimed_grants(registry: Registry, key: str) -> frozenset[str]:
    """The grants the outbox gives to grant requests other than ``key``: their ids (a closed request is kept as
    ``<key>#<grant id>``) and their transaction hashes (lower-case 0x-hex), so that a rerun of ``key`` does not take
    another request's grant of the same terms for its own."""
    with registry.db.session() as session:
        rows = session.exec(select(OutboxTx).where(OutboxTx.kind == "grant", OutboxTx.key != key)).all()
        claimed = {row.tx_hash.lower() for row in rows if row.tx_hash}
        claimed.update(row.key.rpartition("#")[2] for row in rows if "#" in row.key)
    return frozenset(claimed)


def _grant_made(registry: Registry, delivered: Delivered, grantor: str) -> GrantRecord:
    receipt = delivered_receipt(registry, delivered)
    if receipt is not None:
        for record in registry.context.contracts().decoder.decode_receipt(receipt):
            if isinstance(record, GrantRecord):
                return record
    found = get_grant_made(registry, grantor, delivered.payload,
                           claimed=compute_claimed_grants(registry, delivered.key))
    if found is None:  # pragma: no cover - delivered means the chain has it
        raise GrantError(f"the grant of request {delivered.key} was delivered but its GrantCreated event is not in "
                         "the logs", hint="check the node, then run again", kind=ErrorKind.UNAVAILABLE)
    return found


def grant(
    registry: Registry,
    asset_id: int,
    grantee: str,
    purpose: str,
    valid_from: int | datetime | str,
    until: int | datetime | str,
    quota: int,
    scope: Iterable[int] | Path | str | None = None,
    *,
    request: str | None = None,
    sender: TxSender | None = None,
    passwords: Sequence[PasswordSource] = (),
    hook: Hook | None = None,
    clock: Callable[[], float] = time.time,
) -> GrantResult:
    """Grant ``grantee`` the use of ``asset_id`` for ``purpose`` (text; its keccak256 goes on chain) from
    ``valid_from`` until ``until`` (exclusive), up to ``quota`` units, over ``scope`` (indexes, a scope file, or
    None for the whole asset). The signing account must own the asset, which must be Active. A scope's indexes
    must be the asset's leaves (0 to its leaf count - 1), checked when this registry stored the asset's manifest;
    otherwise the result's ``scope_unchecked`` says why they were not.

    ``now`` and the window's checks use the time the next block will carry (:func:`compute_next_block_time`;
    ``clock`` stands for the node's clock where the node does not tell it), as the contract does: the window must
    end after it starts and after that time. Should the chain still refuse the window (the block came later than
    that), the refusal is a :class:`GrantError` naming the window and the chain's time.

    A rerun of the same request (the same terms as given, and ``request`` id) after a crash finishes the same
    grant (see the module documentation); ``hook(moment)`` sees the outbox's moments (``"grant:prepared"``, ...).
    """
    _check_id(asset_id, "asset")
    who = address(grantee, "grantee")
    if int(who, 16) == 0:
        raise GrantError("the grantee cannot be the zero address", hint="grant to an account", options=("grantee",))
    if not purpose.strip():
        raise GrantError("the purpose is empty", hint="say what the data may be used for (用途)", options=("purpose",))
    if isinstance(quota, bool) or not isinstance(quota, int) or not 1 <= quota <= MAX_UINT64:
        raise GrantError(f"the quota {quota!r} is not a number of units from 1 to {MAX_UINT64}",
                         hint="give the usage units the grant allows in total", options=("quota",))
    if request is not None and (not isinstance(request, str) or not request.strip()):
        raise InvalidInput(f"a request id is a non-empty text, got {request!r}",
                           hint="name the request (any text), or leave it out", options=("request",))
    tree = scope_tree(scope)
    now = compute_next_block_time(registry, clock)
    start = resolve_time(valid_from, now, "valid_from")
    end = resolve_time(until, now, "until", base=start)
    signer = signing_sender(registry, sender, passwords, acting=owner_of(registry, asset_id))
    deployment = registry.context.deployment()
    digest = purpose_hash(purpose)
    scope_root = tree.root if tree else ZERO32
    key = "grant:{}:{}:{}".format(deployment.chain_id, deployment.grant_registry, compute_grant_request(
        deployment.chain_id, deployment.grant_registry, asset_id, who, signer.address, digest, valid_from, until,
        quota, scope_root, request))
    outbox = writes_outbox(registry, signer, hook)

    def made() -> bool:
        row = outbox.get(key)
        return row is not None and get_grant_made(registry, signer.address, row.payload,
                                                  claimed=compute_claimed_grants(registry, key)) is not None

    earlier = outbox.reconcile(key, made)  # an earlier run of this request: made, or nothing of it anywhere
    if earlier is not None:
        return _granted(registry, outbox, earlier, signer.address, purpose, tree, request)
    if end <= start:
        raise GrantError(f"the window ends ({format_time(end)}) before it starts ({format_time(start)})",
                         hint="give an end after the start", options=("until",))
    if end <= now:
        raise GrantError(f"the window ends at {format_time(end)}, already past (the next block will carry "
                         f"{format_time(now)}, the time the chain checks the window against)",
                         hint="give an end in the future", options=("until",))
    asset = registry.context.contracts().registry.asset(asset_id)  # UnknownAsset, decoded, if there is none
    if asset.owner != signer.address:
        raise GrantError(f"{signer.address} does not own asset {asset_id} (its owner is {asset.owner}): only the "
                         "owner grants its use", hint="sign with the owner's account", options=("account",),
                         kind=ErrorKind.CONFLICT)
    if asset.status != AssetStatus.Active:
        raise GrantError(f"asset {asset_id} is {asset.status.name}: grants are made on Active assets only",
                         hint="wait until it is Active (past its notice period, not disputed or suspended)",
                         kind=ErrorKind.CONFLICT)
    scope_unchecked = None
    if tree is not None:
        leaves = get_asset_leaves(registry, asset_id, asset)
        if leaves is None:
            scope_unchecked = (f"this registry holds no manifest of asset {asset_id}, so the scope's indexes were not "
                               "checked against its leaves")
        else:
            verify_scope_in_asset(tree, asset_id, leaves)
    with registry.db.session() as session:  # the preimages first: harmless if the grant then fails
        record_purpose(session, purpose)
        if tree is not None:
            record_scope(session, tree)
    connection = registry.context.connection
    terms = {"assetId": asset_id, "grantee": who, "purpose": "0x" + digest.hex(), "validFrom": start,
             "expiresAt": end, "quota": quota, "scopeRoot": "0x" + scope_root.hex(),
             "fromBlock": connection.call(lambda: int(connection.w3.eth.block_number), "reading the block number")}
    if outbox.get(key) is None:
        outbox.prepare(key, "grant", terms)
    else:  # an earlier run's intent that never reached the chain: start it again with this run's terms
        outbox.renew(key, terms)
    client = registry.context.contracts(signer).grants
    try:
        delivered = outbox.deliver(
            key, lambda: client.submit_grant(asset_id, who, digest, start, end, quota, scope_root, gas=ESTIMATE), made)
    except ContractRevert as exc:
        if exc.name != "InvalidValidity" or "timestamp" not in exc.args_by_name:
            raise
        chain_time = int(exc.args_by_name["timestamp"])
        raise GrantError(
            f"the chain refused the window {format_time(start)} .. {format_time(end)}: its block is stamped "
            f"{format_time(chain_time)}, {'at or after the end' if end <= chain_time else 'and the window is empty'}",
            hint="give a later end (a duration such as 30d counts from the start), then run again",
            options=("until",)) from None
    return _granted(registry, outbox, delivered, signer.address, purpose, tree, request, scope_unchecked)


def _granted(registry: Registry, outbox: Outbox, delivered: Delivered, grantor: str, purpose: str,
             tree: IndexTree | None, request: str | None, scope_unchecked: str | None = None) -> GrantResult:
    """The result of a delivered grant; a request without an id is closed (the same terms make a new grant)."""
    record = _grant_made(registry, delivered, grantor)
    # a grant the chain showed made has no transaction in its record yet: it is what keeps other requests from it
    outbox.mark_done(delivered.key, tx_hash=record.tx.tx_hash, block_number=record.tx.block_number)
    if request is None:
        outbox.retire(delivered.key, str(record.grant_id))
    return GrantResult(record, purpose, tree, resumed=delivered.resumed, scope_unchecked=scope_unchecked)


# ----------------------------------------------------------------------------------------------- revoke


@dataclass(frozen=True)
class RevokeResult:
    """What :func:`revoke` did: the chain's record of the revocation, the reason text when known (given in this run
    or an earlier one of this registry, and matching the reason hash on chain); ``resumed``: an earlier run of this
    registry had started it and this run finished it; ``already_done``: the grant was revoked before this run (by
    an earlier run, or elsewhere), and nothing was sent."""

    revocation: GrantRevocation
    reason: str | None
    resumed: bool = False
    already_done: bool = False

    @property
    def grant_id(self) -> int:
        return self.revocation.grant_id

    @property
    def asset_id(self) -> int:
        return self.revocation.asset_id

    @property
    def by(self) -> str:
        return self.revocation.by

    @property
    def reason_hash(self) -> bytes:
        return self.revocation.reason_hash

    @property
    def tx(self) -> TxRef:
        return self.revocation.tx

    def to_json(self) -> dict[str, Any]:
        return {"revocation": self.revocation.to_json(), "reason": self.reason, "resumed": self.resumed,
                "already_done": self.already_done}


def revoke(
    registry: Registry,
    grant_id: int,
    reason: str | None = None,
    *,
    sender: TxSender | None = None,
    passwords: Sequence[PasswordSource] = (),
    hook: Hook | None = None,
) -> RevokeResult:
    """Revoke ``grant_id`` (the asset's current owner), with the keccak256 of ``reason`` (text) on chain. A rerun
    after a crash finishes the same revocation (``resumed``). A grant revoked already — by an earlier run, or
    elsewhere — sends nothing and unlocks no account: its revocation is returned with ``already_done``."""
    _check_id(grant_id, "grant")
    contracts = registry.context.contracts()
    state = contracts.grants.grant_of(grant_id)  # UnknownGrant, decoded
    deployment = registry.context.deployment()
    key = f"revoke:{deployment.chain_id}:{deployment.grant_registry}:{grant_id}"
    row = get_record(registry.db, key)
    if state.status == GrantStatus.Revoked and (row is None or row.state in (OutboxState.MINED, OutboxState.FAILED)):
        found = _revocation_in_logs(registry, grant_id)
        return RevokeResult(found, _reason_text(found, reason, row.payload if row else None), already_done=True)
    signer = signing_sender(registry, sender, passwords, acting=owner_of(registry, state.asset_id))
    outbox = writes_outbox(registry, signer, hook)

    def revoked() -> bool:
        return contracts.grants.grant_of(grant_id).status == GrantStatus.Revoked

    earlier = outbox.reconcile(key, revoked)
    if earlier is not None:
        found = _revocation(registry, earlier, grant_id)
        return RevokeResult(found, _reason_text(found, reason, earlier.payload), resumed=True)
    if state.status != GrantStatus.Active:
        raise GrantError(f"grant {grant_id} is {state.status.name}, not Active", hint="nothing to revoke",
                         kind=ErrorKind.CONFLICT)
    owner = contracts.registry.asset(state.asset_id).owner
    if owner != signer.address:
        raise GrantError(f"{signer.address} does not own asset {state.asset_id} (its owner is {owner}): only the "
                         "owner revokes its grants", hint="sign with the owner's account", options=("account",),
                         kind=ErrorKind.CONFLICT)
    reason_hash = keccak(text=reason) if reason else ZERO32
    payload = {"grantId": grant_id, "reasonHash": "0x" + reason_hash.hex(), "reason": reason or None}
    if outbox.get(key) is None:
        outbox.prepare(key, "revoke", payload)
    else:  # an earlier run's intent that never reached the chain (or reverted): this run's reason
        outbox.renew(key, payload)
    client = registry.context.contracts(signer).grants
    delivered = outbox.deliver(key, lambda: client.submit_revoke(grant_id, reason_hash, gas=ESTIMATE), revoked)
    found = _revocation(registry, delivered, grant_id)
    return RevokeResult(found, _reason_text(found, reason, payload), resumed=delivered.resumed)


def _reason_text(revocation: GrantRevocation, given: str | None, payload: dict[str, Any] | None) -> str | None:
    """The reason text of ``revocation``: the one an earlier run of this registry sent (its outbox ``payload``) or
    the one ``given``, whichever hashes to the reason hash on chain; None when neither does (or there was none)."""
    for text in ((payload or {}).get("reason"), given):
        if isinstance(text, str) and text and keccak(text=text) == revocation.reason_hash:
            return text
    return None


def _revocation(registry: Registry, delivered: Delivered, grant_id: int) -> GrantRevocation:
    """The GrantRevoked record of a delivered revocation: from its receipt, else from the logs."""
    receipt = delivered_receipt(registry, delivered)
    if receipt is not None:
        for record in registry.context.contracts().decoder.decode_receipt(receipt):
            if isinstance(record, GrantRevocation) and record.grant_id == grant_id:
                return record
    return _revocation_in_logs(registry, grant_id)


def _revocation_in_logs(registry: Registry, grant_id: int) -> GrantRevocation:
    """The GrantRevoked record of ``grant_id`` in the chain's logs (a grant is revoked once)."""
    context = registry.context
    decoder = context.contracts().decoder
    deployment = context.deployment()
    reader = LogReader(context.connection.w3, endpoint=context.connection.endpoint)
    for log in reader.logs(deployment.grant_registry, deployment.deploy_block,
                           topics=[GRANT_REVOKED, topic_of(grant_id)]):
        found = decoder.decode_log(log)
        if isinstance(found, GrantRevocation) and found.grant_id == grant_id:
            return found
    raise GrantError(  # pragma: no cover - a revoked grant has its event
        f"grant {grant_id} is revoked but its GrantRevoked event is not in the logs of {deployment.grant_registry}",
        hint="check the node, then run again", kind=ErrorKind.UNAVAILABLE)
