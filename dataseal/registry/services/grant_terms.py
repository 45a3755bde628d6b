"""A grant's terms as the services read and keep them: its times, its purpose text and its scope.

- Times: :func:`resolve_time` turns what is given (Unix seconds, an aware datetime, ``now``, an ISO 8601 date or
  date-time, a duration such as ``30d``) into Unix seconds; ``now`` is :func:`compute_next_block_time`, the time the
  next block will carry (what the contract compares a grant's window with).
- Purpose texts and scopes: the chain keeps only their hashes; this registry keeps what they are hashes of
  (:func:`record_purpose`, :func:`record_scope`; read back with :func:`get_purpose_text`, :func:`get_scope_indexes`).
  A scope is checked against the asset's leaves (:func:`get_asset_leaves`, :func:`verify_scope_in_asset`) when this
  registry stored the asset's manifest.

:class:`GrantError` is the grants' error (:mod:`dataseal.registry.services.grants` makes and revokes them).
"""
from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlmodel import Session

from dataseal.chain.connection.failures import is_connection_failure
from dataseal.chain.contracts.records import (
    Asset,
)
from dataseal.errors import DatasealError, InvalidInput
from dataseal.registry.certificates.compute import get_stored_manifest
from dataseal.registry.db.models.receipts import GrantPurposeRecord, GrantScopeRecord
from dataseal.registry.receipts import AssetLeaves, compute_asset_leaves, purpose_hash
from dataseal.registry.registry import Registry
from dataseal.registry.scope import IndexTree, format_ranges, parse_ranges, read_scope_file

#: GrantRegistry stores windows in 40 bits.
MAX_GRANT_TIME = 2**40 - 1
_DURATION = re.compile(r"^(\d+)\s*([smhdw])$")
_DURATION_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86_400, "w": 604_800}
_WHEN = ("give now, an ISO date or date-time (2026-03-01, 2026-03-01T12:00:00Z), Unix seconds, or a duration "
         "such as 30d, 12h, 90m")


class GrantError(DatasealError):
    """A grant cannot be made, revoked or used as asked (bad terms, not the owner, not usable now)."""


def compute_next_block_time(registry: Registry, clock: Callable[[], float] = time.time) -> int:
    """The timestamp the next block will carry, as near as it can be known before the block is made: the
    ``block.timestamp`` a transaction sent now is checked against.

    A node that builds its pending block (hardhat, anvil, eth-tester: a "pending" block without a number, as the
    JSON-RPC spec has it, or numbered past the latest) stamps it as the next block will be stamped: that stamp is
    the answer. A node whose "pending" is its latest block (the embedded chain, some clients) stamps the next block
    with its clock, never before the latest block: the answer is ``max(latest, clock())``, ``clock`` standing for
    the node's (this machine's by default). The latest block's time alone is stale on an idle node: an hour without
    blocks and it is an hour behind."""
    connection = registry.context.connection

    def read() -> int:
        w3 = connection.w3
        latest = w3.eth.get_block("latest")
        try:
            pending: Any = w3.eth.get_block("pending")
        except Exception as exc:  # a node without a pending block: the clock answers
            if is_connection_failure(exc):
                raise
            pending = None
        if pending and pending.get("timestamp") and (
                pending.get("number") is None or int(pending["number"]) > int(latest["number"])):
            return max(int(pending["timestamp"]), int(latest["timestamp"]))
        return max(int(latest["timestamp"]), int(clock()))

    return connection.call(read, "reading the time")


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


def format_count(count: int, noun: str) -> str:
    """``count`` and ``noun``, plural unless it is 1: ``1 unit``, ``2 units``, ``3 indexes``."""
    if count == 1:
        return f"{count} {noun}"
    return f"{count} {noun}{'es' if noun.endswith(('x', 's', 'ch', 'sh')) else 's'}"


def get_asset_leaves(registry: Registry, asset_id: int, asset: Asset | None = None) -> AssetLeaves | None:
    """The unit and number of leaves of asset ``asset_id`` (``asset``: its state, when read already), from the
    manifest this registry stored for it (None when it stored none)."""
    asset = asset if asset is not None else registry.context.contracts().registry.asset(asset_id)
    manifest = get_stored_manifest(registry.db, "0x" + asset.manifest_hash.hex())
    if manifest is None or manifest.tree.root != "0x" + asset.content_root.hex():
        return None
    return compute_asset_leaves(manifest)


def verify_scope_in_asset(tree: IndexTree, asset_id: int, leaves: AssetLeaves) -> None:
    """Check that every index of the scope ``tree`` is one of the asset's leaves (0 to ``leaves.count - 1``);
    :class:`GrantError` naming the first index beyond them if not."""
    last = leaves.count - 1
    beyond = [i for i in tree.indexes if i > last]
    if beyond:
        raise GrantError(f"the scope lists index {beyond[0]}, beyond asset {asset_id}'s {leaves.describe()} (indexes "
                         f"0 to {last}; {len(beyond)} of the scope's {format_count(len(tree), 'index')} "
                         f"{'is' if len(beyond) == 1 else 'are'} beyond them)",
                         hint=f"give {leaves.unit} indexes from 0 to {last} in the scope", options=("scope",))
