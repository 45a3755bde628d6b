"""Usage receipts: write one for a job under a grant (:func:`new_receipt`, :func:`draft_receipt` when the chain
cannot be reached), and check receipts against their grant (:func:`verify_receipt_fits_grant`) — what
:mod:`dataseal.registry.services.usage` checks again before it records them.

    from dataseal.registry.services.usage_receipts import new_receipt

    receipt = new_receipt(registry, grant_id=3, job_id="train-42", unit="row", indexes=["0-999"],
                          started_at=start, ended_at=end, units=10, result_hash=digest)

The receipt's format and its own checks are :mod:`dataseal.registry.receipts`; the checks here need the grant (on
chain) and what this registry holds (the asset's manifest, the grant's scope, the purpose text). Each failure is one
:class:`UsageError` saying what and what to do.
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Literal

from eth_utils import keccak

from dataseal.chain.contracts.deployment import load_deployments
from dataseal.chain.errors import NodeUnreachable
from dataseal.errors import DatasealError, ErrorKind
from dataseal.registry.db.models.chain import GrantRow
from dataseal.registry.receipts import (
    MAX_UNITS,
    ReceiptError,
    UsageReceipt,
    build_receipt,
    purpose_hash,
    verify_receipt_in_asset,
    verify_receipt_in_window,
)
from dataseal.registry.registry import Registry
from dataseal.registry.scope import (
    ZERO_ROOT,
    IndexTree,
    ScopeError,
    ScopeProof,
    format_ranges,
    parse_indexes,
    verify_indexes_in_scope,
)
from dataseal.registry.services.grant_terms import (
    format_count,
    get_asset_leaves,
    get_purpose_text,
    get_scope_indexes,
    record_scope,
    scope_tree,
)
from dataseal.registry.services.grants import GrantState, grant_state

#: The longest job id a receipt holds (its ``jobId``).
MAX_JOB_ID = 256
_HASH32 = re.compile(r"0x[0-9a-fA-F]{64}")


class UsageError(DatasealError):
    """Usage cannot be recorded as asked: a receipt that does not match its grant, or a grant that cannot take it."""


# ----------------------------------------------------------------------------------------------- receipts


@dataclass(frozen=True)
class DraftReceipt:
    """What :func:`draft_receipt` wrote: the receipt, and why it could not be checked against its grant on chain
    (``unchecked``: the chain could not be reached; None when it was checked)."""

    receipt: UsageReceipt
    unchecked: str | None = None

    @property
    def checked(self) -> bool:
        return self.unchecked is None


def new_receipt(
    registry: Registry,
    grant_id: int,
    job_id: str,
    *,
    unit: Literal["row", "chunk", "file"],
    started_at: datetime | int,
    ended_at: datetime | int,
    units: int,
    result_hash: bytes | str,
    indexes: Iterable[int | str] | None = None,
    touched_root: bytes | str | None = None,
    touched_count: int | None = None,
    purpose: str | None = None,
    disclose_indexes: bool = True,
    scope: Iterable[int] | Path | None = None,
    check: bool = True,
) -> UsageReceipt:
    """A receipt of a job under ``grant_id``, with the chain id, GrantRegistry and purpose filled in from the
    chain. ``purpose`` is the grant's purpose text: needed when this registry did not record it (the grantor's
    did), and checked against the grant's purpose hash either way.

    Unless ``check`` is False, the receipt is checked against the grant as :func:`use` checks it before recording
    (:func:`verify_receipt_fits_grant`: the job's time inside the grant's window, the touched indexes inside the
    asset and the grant's scope), so that a receipt written here is not refused later for what it says. ``scope``
    is the grant's scope (indexes or a scope file) when this registry does not hold it; it is kept once checked.
    The indexes of a receipt written with ``disclose_indexes=False`` are kept in this registry (behind their root)
    so that :func:`use` can check them against the scope without them being in the receipt.

    A grant that cannot take the receipt, and never will, is refused as :func:`use` would refuse it: one revoked
    or expired, or without the receipt's units left (a grant's remaining units only go down). A grant whose
    window has yet to open is not: its receipt is recorded once it opens."""
    verify_receipt_values(job_id, units, result_hash)
    state = grant_state(registry, grant_id)
    text = _purpose_text(grant_id, state.created.purpose, purpose, state.purpose)
    deployment = registry.context.deployment()
    receipt = build_receipt(chain_id=deployment.chain_id, grant_registry=deployment.grant_registry, grant_id=grant_id,
                            job_id=job_id, purpose=text, unit=unit, indexes=indexes, touched_root=touched_root,
                            touched_count=touched_count, started_at=started_at, ended_at=ended_at, units=units,
                            result_hash=result_hash, disclose_indexes=disclose_indexes)
    hidden = _hidden_indexes(receipt, indexes)
    given = compute_given_scope(state, scope)
    if check:
        problem = state.problem(units, lasting=True)
        if problem is not None:
            raise UsageError(problem[0], hint=problem[1], kind=ErrorKind.CONFLICT)
        verify_receipt_fits_grant(registry, state, [receipt], scope=given or get_grant_scope(registry, state),
                                  touched={receipt.hash_hex: hidden.indexes} if hidden is not None else None)
    keep_indexes(registry, [t for t in (given, hidden) if t is not None])
    return receipt


def draft_receipt(
    registry: Registry,
    grant_id: int,
    job_id: str,
    *,
    unit: Literal["row", "chunk", "file"],
    started_at: datetime | int,
    ended_at: datetime | int,
    units: int,
    result_hash: bytes | str,
    indexes: Iterable[int | str] | None = None,
    purpose: str | None = None,
    disclose_indexes: bool = True,
    scope: Iterable[int] | Path | None = None,
) -> DraftReceipt:
    """:func:`new_receipt` (checked) when the chain answers. When its node cannot be reached, the receipt is still
    written — from the data folder's deployment record (the settings' ``chain_id``, or its only deployment) and
    the purpose text given (or the one this registry indexed for the grant) — and ``unchecked`` says why it was
    not checked: :func:`use` checks it before recording."""
    verify_receipt_values(job_id, units, result_hash)
    try:
        return DraftReceipt(new_receipt(registry, grant_id, job_id, unit=unit, started_at=started_at,
                                        ended_at=ended_at, units=units, result_hash=result_hash, indexes=indexes,
                                        purpose=purpose, disclose_indexes=disclose_indexes, scope=scope))
    except NodeUnreachable as exc:
        reason = exc.message
    recorded = load_deployments(registry.data_dir)
    chain_id = registry.settings.chain_id
    if chain_id is None and len(recorded) == 1:
        chain_id = next(iter(recorded))
    deployment = recorded.get(chain_id) if chain_id is not None else None
    if deployment is None:
        chains = ", ".join(str(c) for c in sorted(recorded)) or "none"
        raise UsageError(f"the chain cannot be reached ({reason}), and the data folder records no deployment to "
                         f"write the receipt for{'' if chain_id is None else f' on chain {chain_id}'} (recorded: "
                         f"chains {chains})", hint="connect to the grant's chain, or name the chain the grant is on",
                         options=("rpc_url", "chain_id"), kind=ErrorKind.UNAVAILABLE)
    with registry.db.session() as session:
        row = session.get(GrantRow, grant_id)
        indexed = bytes.fromhex(row.purpose[2:]) if row is not None else None
    known = get_purpose_text(registry, indexed) if indexed is not None else None
    if purpose is None and known is None:
        raise UsageError(f"the chain cannot be reached ({reason}), and this registry does not know the purpose text "
                         f"of grant {grant_id}", hint="give the purpose text the grant was made for, or connect to "
                         "the grant's chain", options=("purpose",), kind=ErrorKind.UNAVAILABLE)
    text = _purpose_text(grant_id, indexed, purpose, known)
    receipt = build_receipt(chain_id=deployment.chain_id, grant_registry=deployment.grant_registry, grant_id=grant_id,
                            job_id=job_id, purpose=text, unit=unit, indexes=indexes, started_at=started_at,
                            ended_at=ended_at, units=units, result_hash=result_hash, disclose_indexes=disclose_indexes)
    hidden = _hidden_indexes(receipt, indexes)
    keep_indexes(registry, [hidden] if hidden is not None else [])
    if scope is not None:  # checked against the grant's scope root only: without the chain, not kept either
        reason += "; the scope given was not checked against the grant, nor kept: give it again when recording"
    return DraftReceipt(receipt, unchecked=reason)


def verify_receipt_values(job_id: str, units: int, result_hash: bytes | str) -> None:
    """Check the values a receipt is written from that its reader would refuse: a job id of 1 to
    :data:`MAX_JOB_ID` characters, units from 1 to :data:`MAX_UNITS`, a 32-byte result hash (``0x`` and 64 hex
    digits, or 32 bytes); :class:`UsageError` naming the value and what to give."""
    if not isinstance(job_id, str) or not 1 <= len(job_id) <= MAX_JOB_ID:
        raise UsageError(f"the job id {job_id!r} is not a text of 1 to {MAX_JOB_ID} characters",
                         hint="give the job's, query's or run's own id", options=("job_id",))
    verify_units(units)
    if isinstance(result_hash, bytes):
        if len(result_hash) != 32:
            raise UsageError(f"the result hash is {format_count(len(result_hash), 'byte')}, not 32",
                             hint="give the 32-byte hash of the job's result", options=("result_hash",))
    elif not isinstance(result_hash, str) or not _HASH32.fullmatch(result_hash):
        raise UsageError(f"the result hash {result_hash!r} is not a 32-byte hash (0x and 64 hex digits)",
                         hint="give the hash of the job's result, or the result file", options=("result_hash",))


def verify_units(units: int) -> None:
    """Check that ``units`` is a number of usage units the ledger takes: 1 to :data:`MAX_UNITS`."""
    if isinstance(units, bool) or not isinstance(units, int) or not 1 <= units <= MAX_UNITS:
        raise UsageError(f"{units!r} is not a number of usage units (1 to {MAX_UNITS})",
                         hint="give the units the job used", options=("units",))


def _purpose_text(grant_id: int, expected: bytes | None, given: str | None, known: str | None) -> str:
    """The purpose text of the receipt: ``given``, else the one this registry ``known``; checked against the
    grant's purpose hash ``expected`` (when known)."""
    text = given if given is not None else known
    if text is None:
        shown = f" (its hash is 0x{expected.hex()})" if expected is not None else ""
        raise UsageError(f"this registry does not know the purpose text of grant {grant_id}{shown}",
                         hint="give the purpose text the grant was made for", options=("purpose",))
    if expected is not None and purpose_hash(text) != expected:
        raise UsageError(f"the purpose {text!r} is not grant {grant_id}'s: its keccak256 is 0x{keccak(text=text).hex()}"
                         f", the grant's is 0x{expected.hex()}",
                         hint="give the purpose text exactly as the grant was made", options=("purpose",))
    return text


def _hidden_indexes(receipt: UsageReceipt, indexes: Iterable[int | str] | None) -> IndexTree | None:
    """The tree of the indexes a receipt written without them touched (None when it lists them, or they were not
    given)."""
    if receipt.touched.indexes is not None or indexes is None:
        return None
    return IndexTree.of(parse_indexes(list(indexes), "touched indexes"), "touched indexes")


def keep_indexes(registry: Registry, trees: Sequence[IndexTree]) -> None:
    """Keep the indexes behind each tree's root (a grant's scope, or what a private receipt touched)."""
    if trees:
        with registry.db.session() as session:
            for tree in trees:
                record_scope(session, tree)


def verify_receipt_for_grant(state: GrantState, chain_id: int, grant_registry: str, receipt: UsageReceipt,
                             units: int | None = None, *, where: str = "the receipt") -> None:
    """Check that ``receipt`` was written for this grant (chain, GrantRegistry, grant id, purpose) and, when
    given, for ``units``; :class:`UsageError` naming the first mismatch."""
    grant_id = state.grant.grant_id
    hint = "use the receipt written for this job under this grant"
    if receipt.grant_id != grant_id:
        raise UsageError(f"{where} is for grant {receipt.grant_id}, not grant {grant_id}", hint=hint)
    if receipt.chain_id != chain_id:
        raise UsageError(f"{where} is for chain {receipt.chain_id}, but this is chain {chain_id}",
                         hint="connect to the receipt's chain", options=("rpc_url",))
    if receipt.grant_registry != grant_registry:
        raise UsageError(f"{where} is for the GrantRegistry at {receipt.grant_registry}, but this deployment's is at "
                         f"{grant_registry}", hint="use the deployment the grant was made in")
    if receipt.purpose_hash != state.created.purpose:
        raise UsageError(f"{where} states the purpose {receipt.purpose!r}, which is not grant {grant_id}'s (keccak256 "
                         f"0x{receipt.purpose_hash.hex()}, the grant's 0x{state.created.purpose.hex()})", hint=hint)
    if units is not None and units != receipt.units:
        raise UsageError(f"{format_count(units, 'unit')} {'was' if units == 1 else 'were'} asked to be recorded, but "
                         f"{where} says the job used {receipt.units}",
                         hint="record the units the receipt states", options=("units",))


# ----------------------------------------------------------------------------------------------- grant scope


def compute_given_scope(state: GrantState, scope: Iterable[int] | Path | None) -> IndexTree | None:
    """The tree of the scope given for the grant (indexes, or a scope file), checked to be the grant's: its root
    is the grant's scope root; None when none is given."""
    if scope is None:
        return None
    tree = scope_tree(scope)
    assert tree is not None
    grant_id, root = state.grant.grant_id, state.grant.scope_root
    if root == ZERO_ROOT:
        raise UsageError(f"a scope was given, but grant {grant_id} covers the whole asset (its scope root is zero)",
                         hint="leave the scope out", options=("scope",))
    if tree.root != root:
        raise UsageError(f"the scope given ({format_count(len(tree), 'index')}: {format_ranges(tree.indexes[:20])}) "
                         "has the root "
                         f"{tree.root_hex}, but grant {grant_id}'s scope root is 0x{root.hex()}",
                         hint="give the scope the grant was made with", options=("scope",))
    return tree


def get_grant_scope(registry: Registry, state: GrantState) -> IndexTree | None:
    """The tree of the grant's scope when this registry holds its indexes (None: it does not, or the grant covers
    the whole asset)."""
    root = state.grant.scope_root
    if root == ZERO_ROOT:
        return None
    known = get_scope_indexes(registry, root)
    return IndexTree.of(known) if known is not None else None


def verify_receipt_fits_grant(
    registry: Registry,
    state: GrantState,
    receipts: Sequence[UsageReceipt],
    *,
    scope: IndexTree | None = None,
    touched: Mapping[str, Iterable[int | str]] | None = None,
    scope_proofs: Mapping[str, ScopeProof] | None = None,
) -> None:
    """Check what each receipt says against its grant — the checks :func:`new_receipt`, :func:`use` and
    :func:`use_batch` share: the job ran inside the grant's window; what it touched exists in the asset (checked
    when this registry stored the asset's manifest: its unit and leaf count); and, for a grant over part of the
    asset (a scope root), every touched index lies inside the scope.

    The scope check needs the touched indexes — listed in the receipt, or for a receipt that gives only their root,
    given in ``touched`` (by receipt hash; checked against that root) or kept by this registry when it wrote the
    receipt — and the scope: a multiproof of those indexes against the grant's scope root (``scope_proofs``, by
    receipt hash), or the scope's tree (``scope``, from :func:`compute_given_scope` or :func:`get_grant_scope`).
    Without them the receipt is refused: an unchecked scope is never taken as inside. :class:`UsageError` names
    the first receipt that does not fit."""
    leaves = get_asset_leaves(registry, state.grant.asset_id)
    for receipt in receipts:
        where = f"receipt {receipt.hash_hex} (job {receipt.job_id!r})"
        indexes = _touched_indexes(registry, receipt, (touched or {}).get(receipt.hash_hex), where)
        try:
            verify_receipt_in_window(receipt, state.grant.valid_from, state.grant.expires_at, where=where)
            if leaves is not None:
                verify_receipt_in_asset(receipt, leaves, where=where)
        except ReceiptError as exc:
            raise UsageError(exc.message, hint=exc.hint, kind=exc.kind) from None
        unit = receipt.touched.unit
        revealed = receipt.touched.indexes is None and indexes is not None
        if leaves is not None and indexes is not None and revealed and indexes[-1] >= leaves.count:
            raise UsageError(f"{where} touched {format_count(sum(1 for i in indexes if i >= leaves.count), unit)} "
                             "beyond the "
                             f"asset's {leaves.describe()} (largest index {indexes[-1]}, the last is "
                             f"{leaves.count - 1})", hint=f"give {unit} indexes from 0 to {leaves.count - 1}",
                             kind=ErrorKind.CONFLICT)
        _verify_in_scope(state, receipt, indexes, scope, (scope_proofs or {}).get(receipt.hash_hex), where)


def _touched_indexes(registry: Registry, receipt: UsageReceipt, revealed: Iterable[int | str] | None,
                     where: str) -> tuple[int, ...] | None:
    """The indexes ``receipt`` touched: listed in it, revealed (checked against its root and count), or kept by this
    registry behind its root; None when none of these has them."""
    touched = receipt.touched
    if touched.indexes is not None:
        return touched.indexes
    if revealed is None:
        return get_scope_indexes(registry, bytes.fromhex(touched.root[2:]))
    try:
        tree = IndexTree.of(parse_indexes(list(revealed), "touched indexes"), "touched indexes")
    except ScopeError as exc:
        raise UsageError(exc.message, hint=exc.hint, options=("touched",)) from None
    if tree.root_hex != touched.root:
        raise UsageError(f"the touched indexes given for {where} ({format_count(len(tree), touched.unit)}: "
                         f"{format_ranges(tree.indexes[:20])}) have the root {tree.root_hex}, but the receipt commits "
                         f"to {format_count(touched.count, touched.unit)} with the root {touched.root}",
                         hint="give the indexes the receipt was written from", options=("touched",))
    return tree.indexes


def _verify_in_scope(state: GrantState, receipt: UsageReceipt, indexes: Sequence[int] | None,
                     scope: IndexTree | None, proof: ScopeProof | None, where: str) -> None:
    root, grant_id = state.grant.scope_root, state.grant.grant_id
    if root == ZERO_ROOT:
        return
    unit = receipt.touched.unit
    if indexes is None:
        raise UsageError(f"{where} gives only the root {receipt.touched.root} of the "
                         f"{format_count(receipt.touched.count, unit)} "
                         f"it touched, so they cannot be checked against grant {grant_id}'s scope 0x{root.hex()}",
                         hint="give the touched indexes the receipt was written from (their root must be the "
                         "receipt's)", options=("touched",))
    if proof is not None:
        try:
            verify_indexes_in_scope(indexes, root, proof)
        except ScopeError as exc:
            raise UsageError(f"{where}: {exc.message}", hint=exc.hint, kind=exc.kind,
                             options=("scope_proof",)) from None
        return
    if scope is None:
        raise UsageError(f"grant {grant_id} covers part of asset {state.grant.asset_id} (scope root 0x{root.hex()}), "
                         f"and this registry does not hold the scope's indexes, so the {unit}s {where} touched cannot "
                         "be checked against it", hint="give the grant's scope (the indexes it was made with) or a "
                         "multiproof of the touched indexes against its scope root", options=("scope", "scope_proof"))
    outside = [i for i in indexes if i not in scope]
    if outside:
        raise UsageError(f"{where} touched {format_count(len(outside), unit)} outside grant {grant_id}'s scope (first: "
                         f"{outside[0]})", hint="record only work inside the grant's scope", kind=ErrorKind.CONFLICT)
