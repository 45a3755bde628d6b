"""Grants: authorise an account to use an asset for a purpose, in a window, up to a quota, over a scope.

    from dataseal.registry.registry import Registry
    from dataseal.registry.services.grants import grant, revoke, grant_state

    with Registry.open(Settings.load(data_dir="./.dataseal")) as registry:
        done = grant(registry, asset_id=1, grantee="0xAb…", purpose="credit scoring model training",
                     valid_from="now", until="90d", quota=1000, scope=[*range(1000)])
        print(done.grant.grant_id, done.grant.tx.tx_hash)
        state = grant_state(registry, done.grant.grant_id)      # purpose text, remaining units, usable now?
        revoke(registry, done.grant.grant_id, reason="contract ended")

A grant's purpose is a bytes32 on chain: the keccak256 of the purpose text (UTF-8). The text itself, and the
indexes behind a scope root (:mod:`dataseal.registry.scope`), are kept in the registry database
(:class:`GrantPurposeRecord`, :class:`GrantScopeRecord`): the chain keeps only their hashes.

Times (``valid_from``, ``until``) are Unix seconds, aware datetimes, or text (:func:`resolve_time`): ``now``,
an ISO 8601 date or date-time (UTC unless it names a zone), or a duration (``30d``, ``12h``, ``90m``, ``45s``,
``2w``). A duration for ``valid_from`` counts from now (the chain's clock, not this machine's); for ``until``
from the start of the window.

Each write checks what the chain would refuse before sending (the asset's owner and status, the window, the
quota, the grant's status), so that a refusal is a clear :class:`GrantError` rather than a spent transaction;
if the chain refuses anyway, its error arrives decoded (:class:`~dataseal.chain.errors.ContractRevert`).
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from eth_utils import keccak
from sqlmodel import Session

from dataseal.chain.accounts.passwords import PasswordSource
from dataseal.chain.contracts.logs import LogReader
from dataseal.chain.contracts.records import (
    ZERO32,
    AssetStatus,
    Grant,
    GrantRecord,
    GrantRevocation,
    GrantStatus,
)
from dataseal.chain.contracts.revert import format_time
from dataseal.chain.sending.sender import TxSender
from dataseal.chain.values import address
from dataseal.errors import DatasealError, ErrorKind, InvalidInput
from dataseal.registry.db.models.receipts import GrantPurposeRecord, GrantScopeRecord
from dataseal.registry.receipts import purpose_hash
from dataseal.registry.registry import Registry
from dataseal.registry.scope import IndexTree, format_ranges, parse_ranges, read_scope_file

MAX_UINT64 = 2**64 - 1
GRANT_CREATED = "0x" + keccak(
    text="GrantCreated(uint256,uint256,address,address,bytes32,uint64,uint64,uint64,bytes32)").hex()
#: GrantRegistry stores windows in 40 bits.
MAX_GRANT_TIME = 2**40 - 1

_DURATION = re.compile(r"^(\d+)\s*([smhdw])$")
_DURATION_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86_400, "w": 604_800}
_WHEN = ("give now, an ISO date or date-time (2026-03-01, 2026-03-01T12:00:00Z), Unix seconds, or a duration "
         "such as 30d, 12h, 90m")


class GrantError(DatasealError):
    """A grant cannot be made, revoked or used as asked (bad terms, not the owner, not usable now)."""


# ----------------------------------------------------------------------------------------------- shared


def signing_sender(registry: Registry, sender: TxSender | None = None,
                   passwords: Sequence[PasswordSource] = ()) -> TxSender:
    """``sender``, or the settings' signing account unlocked (with ``passwords`` as the front door's sources)."""
    if sender is not None:
        return sender
    context = registry.context
    return context.sender(context.unlock(*passwords))


def chain_now(registry: Registry) -> int:
    """The latest block's timestamp: the time the contracts see (the embedded chain's clock may not be ours)."""
    connection = registry.context.connection
    return connection.call(lambda: int(connection.w3.eth.get_block("latest")["timestamp"]), "reading the time")


def resolve_time(value: int | datetime | str, now: int, what: str, *, base: int | None = None) -> int:
    """``value`` as Unix seconds: an int as it is, an aware datetime, or text (see the module documentation).
    A duration counts from ``base`` (default ``now``). :class:`InvalidInput` naming ``what`` when it is none."""
    if isinstance(value, bool):
        raise InvalidInput(f"{what} {value!r} is not a time", hint=_WHEN, options=(what,))
    if isinstance(value, int):
        seconds = value
    elif isinstance(value, datetime):
        if value.tzinfo is None:
            raise InvalidInput(f"{what} {value.isoformat()} has no time zone", hint="give an aware (UTC) datetime",
                               options=(what,))
        seconds = int(value.timestamp())
    elif isinstance(value, str):
        text = value.strip()
        found = _DURATION.match(text.lower())
        if text.lower() == "now":
            seconds = now
        elif found:
            seconds = (now if base is None else base) + int(found.group(1)) * _DURATION_SECONDS[found.group(2)]
        elif text.isdigit():
            seconds = int(text)
        else:
            try:
                moment = datetime.fromisoformat(text.replace("Z", "+00:00") if text.endswith("Z") else text)
            except ValueError:
                raise InvalidInput(f"{what} {value!r} is not a time", hint=_WHEN, options=(what,)) from None
            seconds = int((moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp())
    else:
        raise InvalidInput(f"{what} is {type(value).__name__}, not a time", hint=_WHEN, options=(what,))
    if not 0 <= seconds <= MAX_GRANT_TIME:
        raise InvalidInput(f"{what} {value!r} is out of range (0 to {MAX_GRANT_TIME} Unix seconds)", hint=_WHEN,
                           options=(what,))
    return seconds


@dataclass(frozen=True)
class GrantState:
    """A grant as the chain has it now: its state (``grant``), its creation (``created``: purpose hash, grantor,
    the transaction), the purpose text when this registry knows it, and the chain's time."""

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

    def problem(self, units: int = 1) -> tuple[str, str] | None:
        """Why ``units`` cannot be used under the grant now, and what to do (None: they can, as far as the grant
        goes; the asset's status and the recorder's rights are checked apart)."""
        g = self.grant
        new_grant = "ask the asset owner for a new grant"
        if g.status != GrantStatus.Active:
            return f"grant {g.grant_id} is {g.status.name}", new_grant
        if self.now < g.valid_from:
            return (f"grant {g.grant_id} starts at {format_time(g.valid_from)}; it is now {format_time(self.now)}",
                    "wait until the grant's window opens")
        if self.now >= g.expires_at:
            return (f"grant {g.grant_id} expired at {format_time(g.expires_at)}; it is now {format_time(self.now)}",
                    new_grant)
        if units > self.remaining:
            return (f"grant {g.grant_id} has {self.remaining} of its {g.quota} units left, {units} were asked for",
                    "ask the asset owner for a larger quota, or record fewer units")
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


def grant_state(registry: Registry, grant_id: int) -> GrantState:
    """The grant ``grant_id`` now; a grant the chain does not know raises (decoded ``UnknownGrant``)."""
    _check_id(grant_id, "grant")
    grants = registry.context.contracts().grants
    state = grants.grant_of(grant_id)
    created = grant_created(registry, grant_id)
    return GrantState(state, created, get_purpose_text(registry, created.purpose), chain_now(registry))


def get_purpose_text(registry: Registry, digest: bytes) -> str | None:
    """The purpose text whose keccak256 is ``digest``, if this registry recorded it."""
    with registry.db.session() as session:
        row = session.get(GrantPurposeRecord, "0x" + digest.hex())
        return row.text if row is not None else None


def get_scope_indexes(registry: Registry, scope_root: bytes) -> tuple[int, ...] | None:
    """The indexes behind ``scope_root``, if this registry recorded them."""
    with registry.db.session() as session:
        row = session.get(GrantScopeRecord, "0x" + scope_root.hex())
        return parse_ranges(row.indexes) if row is not None else None


def record_purpose(session: Session, text: str) -> bytes:
    """Keep ``text`` behind its hash (idempotent); the hash."""
    digest = purpose_hash(text)
    key = "0x" + digest.hex()
    if session.get(GrantPurposeRecord, key) is None:
        session.add(GrantPurposeRecord(purpose_hash=key, text=text, created_at=datetime.now(UTC)))
    return digest


def record_scope(session: Session, tree: IndexTree) -> None:
    """Keep the indexes behind ``tree``'s root (idempotent)."""
    if session.get(GrantScopeRecord, tree.root_hex) is None:
        session.add(GrantScopeRecord(scope_root=tree.root_hex, index_count=len(tree),
                                     indexes=format_ranges(tree.indexes), created_at=datetime.now(UTC)))


def scope_tree(scope: Iterable[int] | Path | str | None) -> IndexTree | None:
    """A scope from indexes, or from a scope file (:func:`~dataseal.registry.scope.read_scope_file`); None: none."""
    if scope is None:
        return None
    if isinstance(scope, (Path, str)):
        return IndexTree.of(read_scope_file(Path(scope)), f"scope file {scope}")
    return IndexTree.of(scope)


def _check_id(value: int, what: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value < 2**256:
        raise InvalidInput(f"{what} id {value!r} is not one", hint=f"give the {what}'s number (1, 2, ...)")


# ----------------------------------------------------------------------------------------------- grant


@dataclass(frozen=True)
class GrantResult:
    """What :func:`grant` did: the grant as the chain recorded it, its purpose text and its scope (if any)."""

    grant: GrantRecord
    purpose: str
    scope: IndexTree | None

    def to_json(self) -> dict[str, Any]:
        return {"grant": self.grant.to_json(), "purpose": self.purpose,
                "scope": None if self.scope is None else {"root": self.scope.root_hex, "count": len(self.scope),
                                                          "indexes": format_ranges(self.scope.indexes)}}


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
    sender: TxSender | None = None,
    passwords: Sequence[PasswordSource] = (),
) -> GrantResult:
    """Grant ``grantee`` the use of ``asset_id`` for ``purpose`` (text; its keccak256 goes on chain) from
    ``valid_from`` until ``until`` (exclusive), up to ``quota`` units, over ``scope`` (indexes, a scope file, or
    None for the whole asset). The signing account must own the asset, which must be Active."""
    _check_id(asset_id, "asset")
    who = address(grantee, "grantee")
    if int(who, 16) == 0:
        raise GrantError("the grantee cannot be the zero address", hint="grant to an account", options=("grantee",))
    if not purpose.strip():
        raise GrantError("the purpose is empty", hint="say what the data may be used for (用途)", options=("purpose",))
    if isinstance(quota, bool) or not isinstance(quota, int) or not 1 <= quota <= MAX_UINT64:
        raise GrantError(f"the quota {quota!r} is not a number of units from 1 to {MAX_UINT64}",
                         hint="give the usage units the grant allows in total", options=("quota",))
    tree = scope_tree(scope)
    now = chain_now(registry)
    start = resolve_time(valid_from, now, "valid_from")
    end = resolve_time(until, now, "until", base=start)
    if end <= start:
        raise GrantError(f"the window ends ({format_time(end)}) before it starts ({format_time(start)})",
                         hint="give an end after the start", options=("until",))
    if end <= now:
        raise GrantError(f"the window ends at {format_time(end)}, already past (it is now {format_time(now)})",
                         hint="give an end in the future", options=("until",))
    signer = signing_sender(registry, sender, passwords)
    asset = registry.context.contracts().registry.asset(asset_id)  # UnknownAsset, decoded, if there is none
    if asset.owner != signer.address:
        raise GrantError(f"{signer.address} does not own asset {asset_id} (its owner is {asset.owner}): only the "
                         "owner grants its use", hint="sign with the owner's account", options=("account",),
                         kind=ErrorKind.CONFLICT)
    if asset.status != AssetStatus.Active:
        raise GrantError(f"asset {asset_id} is {asset.status.name}: grants are made on Active assets only",
                         hint="wait until it is Active (past its notice period, not disputed or suspended)",
                         kind=ErrorKind.CONFLICT)
    with registry.db.session() as session:  # the preimages first: harmless if the grant then fails
        digest = record_purpose(session, purpose)
        if tree is not None:
            record_scope(session, tree)
    contracts = registry.context.contracts(signer)
    record = contracts.grants.grant(asset_id, who, digest, start, end, quota, tree.root if tree else ZERO32)
    return GrantResult(record, purpose, tree)


# ----------------------------------------------------------------------------------------------- revoke


def revoke(
    registry: Registry,
    grant_id: int,
    reason: str | None = None,
    *,
    sender: TxSender | None = None,
    passwords: Sequence[PasswordSource] = (),
) -> GrantRevocation:
    """Revoke ``grant_id`` (the asset's current owner), with the keccak256 of ``reason`` (text) on chain."""
    _check_id(grant_id, "grant")
    contracts = registry.context.contracts()
    state = contracts.grants.grant_of(grant_id)  # UnknownGrant, decoded
    if state.status != GrantStatus.Active:
        raise GrantError(f"grant {grant_id} is already {state.status.name}", hint="nothing to revoke",
                         kind=ErrorKind.CONFLICT)
    signer = signing_sender(registry, sender, passwords)
    owner = contracts.registry.asset(state.asset_id).owner
    if owner != signer.address:
        raise GrantError(f"{signer.address} does not own asset {state.asset_id} (its owner is {owner}): only the "
                         "owner revokes its grants", hint="sign with the owner's account", options=("account",),
                         kind=ErrorKind.CONFLICT)
    reason_hash = keccak(text=reason) if reason else ZERO32
    return registry.context.contracts(signer).grants.revoke(grant_id, reason_hash)
