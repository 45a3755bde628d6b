"""Usage: record what a job used under a grant, with the hash of its receipt (:mod:`dataseal.registry.receipts`).

    from dataseal.registry.services.usage import new_receipt, use, use_batch

    receipt = new_receipt(registry, grant_id=3, job_id="train-42", unit="row", indexes=["0-999"],
                          started_at=start, ended_at=end, units=10, result_hash=digest)
    done = use(registry, 3, 10, receipt)            # UsageRecorded: done.record.sequence, done.record.tx
    batch = use_batch(registry, 3, receipts)         # one UsageBatchRecorded for many receipts

Before anything is sent, :func:`use` checks the receipt against the grant on chain — the same chain,
GrantRegistry and grant, the grant's purpose, the units, a job that ran inside the grant's window — and that the
grant can take them now (Active, inside its window by the chain's clock, enough quota left), that the signing
account is the grantee or its USAGE operator, that the indexes the receipt touched exist in the asset (when this
registry stored the asset's manifest: its unit and leaf count) and lie inside the grant's scope root (always: a
receipt whose indexes or scope cannot be had is refused; see :func:`verify_receipt_fits_grant`), and that the
receipt is not recorded already (:func:`verify_not_recorded_elsewhere`). :func:`new_receipt` runs the same checks
of the receipt's content. Each failure is one :class:`UsageError` saying what and what to do; should the chain refuse
anyway, its error arrives decoded.

A receipt is recorded once. Its hash is the natural key: before sending, the chain is asked whether a
UsageRecorded event under the grant already carries it (then the existing record is returned, with
``already_recorded``). The transaction goes through the :mod:`~dataseal.registry.outbox` (key
``use:<chain>:<ledger>:<grant>:<receipt hash>``), so that a run that died at any moment — even between the node
taking the transaction and its hash being recorded — is finished by the next one: the earlier transaction is
waited for, found on chain, and never sent a second time. Batches are keyed the same way by their receipts root
(``use-batch:...``).
"""
from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal, TypeVar

from eth_utils import keccak

from dataseal.chain.accounts.passwords import PasswordSource
from dataseal.chain.contracts.client import ESTIMATE
from dataseal.chain.contracts.deployment import load_deployments
from dataseal.chain.contracts.logs import LogReader
from dataseal.chain.contracts.records import USAGE, AssetStatus, UsageBatchRecord, UsageRecord
from dataseal.chain.errors import NodeUnreachable
from dataseal.chain.sending.sender import TxSender
from dataseal.errors import DatasealError, ErrorKind
from dataseal.registry.db.models.chain import GrantRow
from dataseal.registry.db.models.local import OutboxState
from dataseal.registry.db.models.receipts import RECORDED, SENT, ReceiptBatchRecord, ReceiptRecord
from dataseal.registry.outbox import Delivered, Hook, Outbox, get_record
from dataseal.registry.receipts import (
    MAX_UNITS,
    ReceiptBatch,
    ReceiptError,
    UsageReceipt,
    build_receipt,
    purpose_hash,
    read_receipt,
    read_receipts,
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
from dataseal.registry.services.grants import (
    GrantState,
    acting_for,
    delivered_receipt,
    format_count,
    get_asset_leaves,
    get_purpose_text,
    get_scope_indexes,
    grant_state,
    record_scope,
    scope_tree,
    signing_sender,
    writes_outbox,
)

USAGE_RECORDED = "0x" + keccak(text="UsageRecorded(uint256,address,uint64,uint64,bytes32)").hex()
USAGE_BATCH_RECORDED = "0x" + keccak(text="UsageBatchRecorded(uint256,address,uint64,uint64,bytes32,uint32)").hex()
MAX_BATCH = 2**32 - 1
#: The longest job id a receipt holds (its ``jobId``).
MAX_JOB_ID = 256
_HASH32 = re.compile(r"0x[0-9a-fA-F]{64}")


class UsageError(DatasealError):
    """Usage cannot be recorded as asked: a receipt that does not match its grant, or a grant that cannot take it."""


@dataclass(frozen=True)
class UsageResult:
    """What :func:`use` did: the chain's record of the receipt, and whether it was there already."""

    receipt: UsageReceipt
    record: UsageRecord
    already_recorded: bool

    def to_json(self) -> dict[str, Any]:
        return {"receipt_hash": self.receipt.hash_hex, "record": self.record.to_json(),
                "already_recorded": self.already_recorded}


@dataclass(frozen=True)
class UsageBatchResult:
    """What :func:`use_batch` did: the batch (its tree proves each receipt's membership) and the chain's record."""

    batch: ReceiptBatch
    record: UsageBatchRecord
    already_recorded: bool

    def to_json(self) -> dict[str, Any]:
        return {"receipts_root": self.batch.root_hex, "count": len(self.batch), "units": self.batch.units,
                "receipt_hashes": [r.hash_hex for r in self.batch.receipts], "record": self.record.to_json(),
                "already_recorded": self.already_recorded}


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
    _keep_indexes(registry, [t for t in (given, hidden) if t is not None])
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
    _keep_indexes(registry, [hidden] if hidden is not None else [])
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


def _keep_indexes(registry: Registry, trees: Sequence[IndexTree]) -> None:
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


# ----------------------------------------------------------------------------------------------- reads


def usage_records(registry: Registry, grant_id: int, from_block: int | None = None
                  ) -> list[UsageRecord | UsageBatchRecord]:
    """Every usage record of ``grant_id`` on chain, in chain order (from ``from_block``, default the deployment's
    first block)."""
    context = registry.context
    deployment = context.deployment()
    decoder = context.contracts().decoder
    reader = LogReader(context.connection.w3, endpoint=context.connection.endpoint)
    found: list[UsageRecord | UsageBatchRecord] = []
    start = deployment.deploy_block if from_block is None else from_block
    for log in reader.logs(deployment.transaction_ledger, start,
                           topics=[[USAGE_RECORDED, USAGE_BATCH_RECORDED], "0x" + grant_id.to_bytes(32, "big").hex()]):
        record = decoder.decode_log(log)
        if isinstance(record, (UsageRecord, UsageBatchRecord)) and record.grant_id == grant_id:
            found.append(record)
    return found


def get_usage_record(registry: Registry, grant_id: int, digest: bytes, from_block: int | None = None
                     ) -> UsageRecord | UsageBatchRecord | None:
    """The chain's record of the receipt hash or receipts root ``digest`` under ``grant_id``, or None."""
    for record in usage_records(registry, grant_id, from_block):
        if (record.receipt_hash if isinstance(record, UsageRecord) else record.receipts_root) == digest:
            return record
    return None


def _verify_can_record(registry: Registry, state: GrantState, signer: TxSender, units: int) -> None:
    problem = state.problem(units)
    if problem is not None:
        raise UsageError(problem[0], hint=problem[1], kind=ErrorKind.CONFLICT)
    asset_status = registry.context.contracts().registry.status_of(state.grant.asset_id)
    if asset_status != AssetStatus.Active:
        raise UsageError(f"asset {state.grant.asset_id} of grant {state.grant.grant_id} is {asset_status.name}: usage "
                         "is recorded against Active assets only", hint="wait until the asset is Active again",
                         kind=ErrorKind.CONFLICT)
    grantee = state.grant.grantee
    if signer.address != grantee:
        powers = registry.context.contracts().ledger.operator_powers(grantee, signer.address)
        if not powers & USAGE:
            raise UsageError(f"{signer.address} is neither grantee {grantee} of grant {state.grant.grant_id} nor an "
                             "operator it gave the USAGE power", hint="sign with the grantee's account",
                             options=("account",), kind=ErrorKind.CONFLICT)


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


def _batch_key(chain_id: int, ledger: str, grant_id: int, root_hex: str) -> str:
    return f"use-batch:{chain_id}:{ledger}:{grant_id}:{root_hex}"


def verify_not_recorded_elsewhere(registry: Registry, grant_id: int, receipts: Sequence[UsageReceipt],
                                  records: Sequence[UsageRecord | UsageBatchRecord], *,
                                  batch_root: bytes | None = None) -> None:
    """Check that none of ``receipts`` is recorded already under ``grant_id`` in another record than the one being
    made (alone: ``batch_root`` None; or the batch with ``batch_root``): :class:`UsageError` (conflict) naming the
    earlier transaction.

    ``records`` are the grant's usage records on chain (:func:`usage_records`). A receipt recorded alone is found
    there by its hash, whatever database asks. A batch commits only the root of its receipts' hashes, so a
    receipt's membership in a batch on chain is known only where the batch's receipts are known: this registry's
    database (the receipts it recorded in batches); a receipt in a batch whose transaction was sent but is not yet
    seen on chain is refused too (that batch is to be finished first)."""
    singles = {r.receipt_hash: r for r in records if isinstance(r, UsageRecord)}
    batches = {"0x" + r.receipts_root.hex(): r for r in records if isinstance(r, UsageBatchRecord)}
    own = None if batch_root is None else "0x" + batch_root.hex()
    with registry.db.session() as session:
        known = {r.hash_hex: row.batch_root for r in receipts
                 if (row := session.get(ReceiptRecord, r.hash_hex)) is not None and row.batch_root not in (None, own)}
    deployment = registry.context.deployment()
    found: list[tuple[UsageReceipt, str]] = []
    pending: list[tuple[UsageReceipt, str]] = []
    for receipt in receipts:
        single = singles.get(receipt.hash) if batch_root is not None else None
        root = known.get(receipt.hash_hex)
        if single is not None:
            found.append((receipt, f"alone (tx {single.tx.tx_hash}, block {single.tx.block_number}, sequence "
                                   f"{single.sequence})"))
        elif root is not None and root in batches:
            batch = batches[root]
            found.append((receipt, f"in the batch {root} (tx {batch.tx.tx_hash}, block {batch.tx.block_number}, "
                                   f"sequence {batch.sequence})"))
        elif root is not None:
            sent = get_record(registry.db, _batch_key(deployment.chain_id, deployment.transaction_ledger, grant_id,
                                                      root))
            if sent is not None and (sent.state in (OutboxState.SENT, OutboxState.MINED)
                                     or (sent.state == OutboxState.PREPARED and sent.attempts > 0)):
                pending.append((receipt, f"in the batch {root}, whose transaction "
                                         f"{sent.tx_hash or '(hash not recorded)'} was sent and is not yet seen on "
                                         "chain"))
    alone = batch_root is None
    if found:
        receipt, how = found[0]
        what = (f"receipt {receipt.hash_hex} (job {receipt.job_id!r}) was recorded {how} under grant {grant_id}"
                if alone else f"{len(found)} of the {len(receipts)} receipts {'was' if len(found) == 1 else 'were'} "
                f"recorded already under grant "
                f"{grant_id} (first: receipt {receipt.hash_hex}, job {receipt.job_id!r}, {how})")
        raise UsageError(what, hint="nothing to record for it: each receipt is recorded once" if alone else
                         "leave the recorded receipts out of the batch: each receipt is recorded once",
                         kind=ErrorKind.CONFLICT)
    if pending:
        receipt, how = pending[0]
        raise UsageError(f"receipt {receipt.hash_hex} (job {receipt.job_id!r}) is {how}",
                         hint="finish that batch first (record its receipts as a batch again); each receipt is "
                         "recorded once", kind=ErrorKind.CONFLICT)


# ----------------------------------------------------------------------------------------------- use


def use(
    registry: Registry,
    grant_id: int,
    units: int,
    receipt: UsageReceipt | Path,
    *,
    touched: Iterable[int | str] | None = None,
    scope: Iterable[int] | Path | None = None,
    scope_proof: ScopeProof | None = None,
    sender: TxSender | None = None,
    passwords: Sequence[PasswordSource] = (),
    hook: Hook | None = None,
) -> UsageResult:
    """Record ``units`` used under ``grant_id`` for the job of ``receipt`` (a receipt, or its file). For a grant
    over part of the asset, ``touched`` reveals the indexes of a receipt that gives only their root (when this
    registry did not write it), and ``scope`` (the grant's scope, kept once checked) or ``scope_proof`` (a
    multiproof of the touched indexes) lets the scope be checked when this registry does not hold it (see
    :func:`verify_receipt_fits_grant`). ``hook(moment)`` sees the outbox's moments (``"use:prepared"``, ...)."""
    verify_units(units)
    if isinstance(receipt, Path):
        receipt = read_receipt(receipt)
    state = grant_state(registry, grant_id)
    deployment = registry.context.deployment()
    verify_receipt_for_grant(state, deployment.chain_id, deployment.grant_registry, receipt, units)
    given = compute_given_scope(state, scope)
    digest, key = receipt.hash, receipt.hash_hex
    first_block = state.created.tx.block_number
    write = f"use:{deployment.chain_id}:{deployment.transaction_ledger}:{grant_id}:{key}"

    def recorded() -> bool:
        return get_usage_record(registry, grant_id, digest, first_block) is not None

    signer, outbox = _reconciled(registry, write, recorded, sender, passwords, hook, state.grant.grantee)
    records = usage_records(registry, grant_id, first_block)
    prior = next((r for r in records if isinstance(r, UsageRecord) and r.receipt_hash == digest), None)
    if prior is not None:
        if outbox is not None:
            outbox.mark_done(write, tx_hash=prior.tx.tx_hash, block_number=prior.tx.block_number)
        _mark_recorded(registry, receipt, prior, None)
        return UsageResult(receipt, prior, already_recorded=True)
    verify_not_recorded_elsewhere(registry, grant_id, [receipt], records)
    signer = signer or signing_sender(registry, sender, passwords,
                                     acting=acting_for(registry, state.grant.grantee, USAGE))
    outbox = outbox or writes_outbox(registry, signer, hook)
    _verify_can_record(registry, state, signer, units)
    verify_receipt_fits_grant(registry, state, [receipt], scope=given or get_grant_scope(registry, state),
                              touched={key: touched} if touched is not None else None,
                              scope_proofs={key: scope_proof} if scope_proof is not None else None)
    _keep_indexes(registry, [given] if given is not None else [])
    _mark_prepared(registry, receipt, None)
    _prepare(outbox, write, "use", {"grantId": grant_id, "units": units, "receiptHash": key})
    ledger = registry.context.contracts(signer).ledger

    def send() -> Any:
        submitted = ledger.submit_record_usage(grant_id, units, digest, gas=ESTIMATE)
        _mark_sent(registry, [key], submitted.tx_hash)
        return submitted

    delivered = outbox.deliver(write, send, recorded)
    record = _delivered_record(registry, delivered, UsageRecord, lambda: get_usage_record(
        registry, grant_id, digest, first_block))
    _mark_recorded(registry, receipt, record, None)
    return UsageResult(receipt, record, already_recorded=delivered.resumed)


def use_batch(
    registry: Registry,
    grant_id: int,
    receipts: Sequence[UsageReceipt] | Path,
    *,
    touched: Mapping[str, Iterable[int | str]] | None = None,
    scope: Iterable[int] | Path | None = None,
    sender: TxSender | None = None,
    passwords: Sequence[PasswordSource] = (),
    hook: Hook | None = None,
) -> UsageBatchResult:
    """Record the receipts (or the ``*.json`` receipts of a folder) of many jobs under ``grant_id`` at once: their
    units added up, committed by the root of their hashes (:class:`ReceiptBatch`). ``touched`` (by receipt hash)
    and ``scope`` are as for :func:`use`. A receipt recorded already — alone, or in another batch this registry
    recorded — is refused (:func:`verify_not_recorded_elsewhere`). ``hook(moment)`` sees the outbox's moments
    (``"use-batch:prepared"``, ...)."""
    listed = read_receipts(receipts) if isinstance(receipts, Path) else list(receipts)
    batch = ReceiptBatch(listed)
    if len(batch) > MAX_BATCH:
        raise UsageError(f"a batch holds at most {MAX_BATCH} receipts, got {len(batch)}", hint="split the batch")
    state = grant_state(registry, grant_id)
    deployment = registry.context.deployment()
    for receipt in listed:
        verify_receipt_for_grant(state, deployment.chain_id, deployment.grant_registry, receipt,
                                 where=f"receipt {receipt.hash_hex} (job {receipt.job_id!r})")
    given = compute_given_scope(state, scope)
    first_block = state.created.tx.block_number
    write = _batch_key(deployment.chain_id, deployment.transaction_ledger, grant_id, batch.root_hex)

    def batch_record() -> UsageBatchRecord | None:
        found = get_usage_record(registry, grant_id, batch.root, first_block)
        return found if isinstance(found, UsageBatchRecord) else None

    signer, outbox = _reconciled(registry, write, lambda: batch_record() is not None, sender, passwords, hook,
                                 state.grant.grantee)
    records = usage_records(registry, grant_id, first_block)
    for record in records:
        if isinstance(record, UsageBatchRecord) and record.receipts_root == batch.root:
            if outbox is not None:
                outbox.mark_done(write, tx_hash=record.tx.tx_hash, block_number=record.tx.block_number)
            _mark_batch_recorded(registry, batch, grant_id, record)
            return UsageBatchResult(batch, record, already_recorded=True)
    verify_not_recorded_elsewhere(registry, grant_id, listed, records, batch_root=batch.root)
    signer = signer or signing_sender(registry, sender, passwords,
                                     acting=acting_for(registry, state.grant.grantee, USAGE))
    outbox = outbox or writes_outbox(registry, signer, hook)
    _verify_can_record(registry, state, signer, batch.units)
    verify_receipt_fits_grant(registry, state, listed, scope=given or get_grant_scope(registry, state),
                              touched=touched)
    _keep_indexes(registry, [given] if given is not None else [])
    now = datetime.now(UTC)
    with registry.db.session() as session:
        if session.get(ReceiptBatchRecord, batch.root_hex) is None:
            session.add(ReceiptBatchRecord(receipts_root=batch.root_hex, grant_id=grant_id, count=len(batch),
                                           units=batch.units, created_at=now))
    for receipt in listed:
        _mark_prepared(registry, receipt, batch.root_hex)
    _prepare(outbox, write, "use-batch", {"grantId": grant_id, "units": batch.units, "receiptsRoot": batch.root_hex,
                                          "count": len(batch)})
    ledger = registry.context.contracts(signer).ledger

    def send() -> Any:
        submitted = ledger.submit_record_usage_batch(grant_id, batch.units, batch.root, len(batch), gas=ESTIMATE)
        _mark_sent(registry, [r.hash_hex for r in listed], submitted.tx_hash, batch_root=batch.root_hex)
        return submitted

    delivered = outbox.deliver(write, send, lambda: batch_record() is not None)
    record = _delivered_record(registry, delivered, UsageBatchRecord, batch_record)
    _mark_batch_recorded(registry, batch, grant_id, record)
    return UsageBatchResult(batch, record, already_recorded=delivered.resumed)


def _reconciled(registry: Registry, key: str, done: Callable[[], bool], sender: TxSender | None,
                passwords: Sequence[PasswordSource], hook: Hook | None,
                grantee: str | None = None) -> tuple[TxSender | None, Outbox | None]:
    """When an earlier run started the write ``key``: settle what it sent (waited for, never sent again; the chain
    then decides) and return the signer and outbox; (None, None) otherwise, without unlocking the account."""
    row = get_record(registry.db, key)
    if row is None:
        return None, None
    acting = acting_for(registry, grantee, USAGE, earlier=row.sender) if grantee is not None else None
    signer = signing_sender(registry, sender, passwords, acting=acting)
    outbox = writes_outbox(registry, signer, hook)
    outbox.reconcile(key, done)
    return signer, outbox


def _prepare(outbox: Outbox, key: str, kind: str, payload: dict[str, Any]) -> None:
    """Prepare ``key``, or start again an intent an earlier run left that never reached the chain."""
    if outbox.get(key) is None:
        outbox.prepare(key, kind, payload)
    else:
        outbox.renew(key, payload)


R = TypeVar("R", UsageRecord, UsageBatchRecord)


def _delivered_record(registry: Registry, delivered: Delivered, kind: type[R], find: Callable[[], Any]) -> R:
    """The record a delivered usage write emitted: from its receipt, else from the logs (``find``)."""
    receipt = delivered_receipt(registry, delivered)
    if receipt is not None:
        for record in registry.context.contracts().decoder.decode_receipt(receipt):
            if isinstance(record, kind):
                return record
    found = find()
    if not isinstance(found, kind):  # pragma: no cover - delivered means the chain has it
        raise UsageError(f"the usage write {delivered.key} was delivered but its {kind.__name__} event is not in the "
                         "logs", hint="check the node, then run again", kind=ErrorKind.UNAVAILABLE)
    return found


# ----------------------------------------------------------------------------------------------- bookkeeping


def _mark_prepared(registry: Registry, receipt: UsageReceipt, batch_root: str | None) -> None:
    with registry.db.session() as session:
        row = session.get(ReceiptRecord, receipt.hash_hex)
        if row is None:
            session.add(ReceiptRecord(
                receipt_hash=receipt.hash_hex, chain_id=receipt.chain_id, grant_registry=receipt.grant_registry,
                grant_id=receipt.grant_id, job_id=receipt.job_id, units=receipt.units, batch_root=batch_root,
                receipt=receipt.canonical_bytes().decode("utf-8"), created_at=datetime.now(UTC)))
        elif row.state != RECORDED:
            row.batch_root = batch_root
            session.add(row)


def _mark_sent(registry: Registry, keys: Sequence[str], tx_hash: str, *, batch_root: str | None = None) -> None:
    with registry.db.session() as session:
        for key in keys:
            row = session.get(ReceiptRecord, key)
            if row is not None:
                row.state, row.tx_hash = SENT, tx_hash
                session.add(row)
        if batch_root is not None:
            batch = session.get(ReceiptBatchRecord, batch_root)
            if batch is not None:
                batch.state, batch.tx_hash = SENT, tx_hash
                session.add(batch)


def _mark_recorded(registry: Registry, receipt: UsageReceipt, record: UsageRecord | UsageBatchRecord,
                   batch_root: str | None) -> None:
    _mark_prepared(registry, receipt, batch_root)
    with registry.db.session() as session:
        row = session.get(ReceiptRecord, receipt.hash_hex)
        assert row is not None
        row.state, row.tx_hash, row.block_number = RECORDED, record.tx.tx_hash, record.tx.block_number
        row.sequence, row.recorded_at, row.batch_root = record.sequence, datetime.now(UTC), batch_root
        session.add(row)


def _mark_batch_recorded(registry: Registry, batch: ReceiptBatch, grant_id: int, record: UsageBatchRecord) -> None:
    now = datetime.now(UTC)
    with registry.db.session() as session:
        row = session.get(ReceiptBatchRecord, batch.root_hex)
        if row is None:
            row = ReceiptBatchRecord(receipts_root=batch.root_hex, grant_id=grant_id, count=len(batch),
                                     units=batch.units, created_at=now)
        row.state, row.tx_hash, row.block_number = RECORDED, record.tx.tx_hash, record.tx.block_number
        row.sequence, row.recorded_at = record.sequence, now
        session.add(row)
    for receipt in batch.receipts:
        _mark_recorded(registry, receipt, record, batch.root_hex)

