"""Usage: record what a job used under a grant, with the hash of its receipt (:mod:`dataseal.registry.receipts`).

    from dataseal.registry.services.usage import new_receipt, use, use_batch

    receipt = new_receipt(registry, grant_id=3, job_id="train-42", unit="row", indexes=["0-999"],
                          started_at=start, ended_at=end, units=10, result_hash=digest)
    done = use(registry, 3, 10, receipt)            # UsageRecorded: done.record.sequence, done.record.tx
    batch = use_batch(registry, 3, receipts)         # one UsageBatchRecorded for many receipts

Before anything is sent, :func:`use` checks the receipt against the grant on chain — the same chain,
GrantRegistry and grant, the grant's purpose, the units, a job that ran inside the grant's window — and that the
grant can take them now (Active, inside its window by the chain's clock, enough quota left), that the signing
account is the grantee or its USAGE operator, and, when this registry knows them, that the indexes the receipt
touched exist in the asset (the unit and leaf count of the manifest it stored for the asset) and lie inside the
grant's scope root. Each failure is one :class:`UsageError` saying what and what to do; should the chain refuse
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

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal, TypeVar

from eth_utils import keccak

from dataseal.chain.accounts.passwords import PasswordSource
from dataseal.chain.contracts.client import ESTIMATE
from dataseal.chain.contracts.logs import LogReader
from dataseal.chain.contracts.records import USAGE, AssetStatus, UsageBatchRecord, UsageRecord
from dataseal.chain.sending.sender import TxSender
from dataseal.errors import DatasealError, ErrorKind
from dataseal.registry.certificates.compute import get_stored_manifest
from dataseal.registry.db.models.receipts import RECORDED, SENT, ReceiptBatchRecord, ReceiptRecord
from dataseal.registry.outbox import Delivered, Hook, Outbox, get_record
from dataseal.registry.receipts import (
    AssetLeaves,
    ReceiptBatch,
    ReceiptError,
    UsageReceipt,
    build_receipt,
    compute_asset_leaves,
    read_receipt,
    read_receipts,
    verify_receipt_in_asset,
    verify_receipt_in_window,
)
from dataseal.registry.registry import Registry
from dataseal.registry.scope import IndexTree
from dataseal.registry.services.grants import (
    GrantState,
    delivered_receipt,
    get_scope_indexes,
    grant_state,
    signing_sender,
    writes_outbox,
)

USAGE_RECORDED = "0x" + keccak(text="UsageRecorded(uint256,address,uint64,uint64,bytes32)").hex()
USAGE_BATCH_RECORDED = "0x" + keccak(text="UsageBatchRecorded(uint256,address,uint64,uint64,bytes32,uint32)").hex()
MAX_BATCH = 2**32 - 1


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
) -> UsageReceipt:
    """A receipt of a job under ``grant_id``, with the chain id, GrantRegistry and purpose filled in from the
    chain. ``purpose`` is the grant's purpose text: needed when this registry did not record it (the grantor's
    did), and checked against the grant's purpose hash either way."""
    state = grant_state(registry, grant_id)
    text = purpose if purpose is not None else state.purpose
    if text is None:
        raise UsageError(f"this registry does not know the purpose text of grant {grant_id} (its hash is "
                         f"0x{state.created.purpose.hex()})", hint="give the purpose text the grant was made for",
                         options=("purpose",))
    if keccak(text=text) != state.created.purpose:
        raise UsageError(f"the purpose {text!r} is not grant {grant_id}'s: its keccak256 is 0x{keccak(text=text).hex()}"
                         f", the grant's is 0x{state.created.purpose.hex()}",
                         hint="give the purpose text exactly as the grant was made", options=("purpose",))
    deployment = registry.context.deployment()
    return build_receipt(chain_id=deployment.chain_id, grant_registry=deployment.grant_registry, grant_id=grant_id,
                         job_id=job_id, purpose=text, unit=unit, indexes=indexes, touched_root=touched_root,
                         touched_count=touched_count, started_at=started_at, ended_at=ended_at, units=units,
                         result_hash=result_hash, disclose_indexes=disclose_indexes)


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
        raise UsageError(f"{units} units were asked to be recorded, but {where} says the job used {receipt.units}",
                         hint="record the units the receipt states", options=("units",))


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


def _verify_in_window_and_asset(registry: Registry, state: GrantState, receipts: Sequence[UsageReceipt]) -> None:
    """Each job ran inside the grant's window, and touched indexes of the asset's leaves (checked when this registry
    stored the asset's manifest: its unit and leaf count)."""
    leaves = get_asset_leaves(registry, state.grant.asset_id)
    for receipt in receipts:
        where = f"receipt {receipt.hash_hex} (job {receipt.job_id!r})"
        try:
            verify_receipt_in_window(receipt, state.grant.valid_from, state.grant.expires_at, where=where)
            if leaves is not None:
                verify_receipt_in_asset(receipt, leaves, where=where)
        except ReceiptError as exc:
            raise UsageError(exc.message, hint=exc.hint, kind=exc.kind) from None


def get_asset_leaves(registry: Registry, asset_id: int) -> AssetLeaves | None:
    """The unit and number of leaves of asset ``asset_id``, from the manifest this registry stored for it (None when
    it stored none)."""
    asset = registry.context.contracts().registry.asset(asset_id)
    manifest = get_stored_manifest(registry.db, "0x" + asset.manifest_hash.hex())
    if manifest is None or manifest.tree.root != "0x" + asset.content_root.hex():
        return None
    return compute_asset_leaves(manifest)


def _verify_in_known_scope(registry: Registry, state: GrantState, receipts: Sequence[UsageReceipt]) -> None:
    """When this registry knows the indexes behind the grant's scope root, the listed indexes must be inside."""
    root = state.grant.scope_root
    if root == b"\0" * 32:
        return
    known = get_scope_indexes(registry, root)
    if known is None:
        return
    scope = IndexTree.of(known)
    for receipt in receipts:
        if receipt.touched.indexes is not None:
            outside = [i for i in receipt.touched.indexes if i not in scope]
            if outside:
                raise UsageError(f"receipt {receipt.hash_hex} (job {receipt.job_id!r}) touched {len(outside)} "
                                 f"{receipt.touched.unit}s outside grant {state.grant.grant_id}'s scope (first: "
                                 f"{outside[0]})", hint="record only work inside the grant's scope",
                                 kind=ErrorKind.CONFLICT)


# ----------------------------------------------------------------------------------------------- use


def use(
    registry: Registry,
    grant_id: int,
    units: int,
    receipt: UsageReceipt | Path,
    *,
    sender: TxSender | None = None,
    passwords: Sequence[PasswordSource] = (),
    hook: Hook | None = None,
) -> UsageResult:
    """Record ``units`` used under ``grant_id`` for the job of ``receipt`` (a receipt, or its file). ``hook(moment)``
    sees the outbox's moments (``"use:prepared"``, ...)."""
    if isinstance(receipt, Path):
        receipt = read_receipt(receipt)
    state = grant_state(registry, grant_id)
    deployment = registry.context.deployment()
    verify_receipt_for_grant(state, deployment.chain_id, deployment.grant_registry, receipt, units)
    digest, key = receipt.hash, receipt.hash_hex
    first_block = state.created.tx.block_number
    write = f"use:{deployment.chain_id}:{deployment.transaction_ledger}:{grant_id}:{key}"

    def recorded() -> bool:
        return get_usage_record(registry, grant_id, digest, first_block) is not None

    signer, outbox = _reconciled(registry, write, recorded, sender, passwords, hook)
    prior = get_usage_record(registry, grant_id, digest, first_block)
    if isinstance(prior, UsageRecord):
        if outbox is not None:
            outbox.mark_done(write, tx_hash=prior.tx.tx_hash, block_number=prior.tx.block_number)
        _mark_recorded(registry, receipt, prior, None)
        return UsageResult(receipt, prior, already_recorded=True)
    if prior is not None:  # pragma: no cover - a receipt hash is never a batch's root in practice
        raise UsageError(f"{key} is recorded as the root of a batch under grant {grant_id}", hint="nothing to do",
                         kind=ErrorKind.CONFLICT)
    with registry.db.session() as session:
        row = session.get(ReceiptRecord, key)
        if row is not None and row.batch_root is not None and row.state == RECORDED:
            raise UsageError(f"receipt {key} was recorded in the batch {row.batch_root} (tx {row.tx_hash})",
                             hint="nothing to do: each receipt is recorded once", kind=ErrorKind.CONFLICT)
    signer = signer or signing_sender(registry, sender, passwords)
    outbox = outbox or writes_outbox(registry, signer, hook)
    _verify_can_record(registry, state, signer, units)
    _verify_in_window_and_asset(registry, state, [receipt])
    _verify_in_known_scope(registry, state, [receipt])
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
    sender: TxSender | None = None,
    passwords: Sequence[PasswordSource] = (),
    hook: Hook | None = None,
) -> UsageBatchResult:
    """Record the receipts (or the ``*.json`` receipts of a folder) of many jobs under ``grant_id`` at once: their
    units added up, committed by the root of their hashes (:class:`ReceiptBatch`). ``hook(moment)`` sees the
    outbox's moments (``"use-batch:prepared"``, ...)."""
    listed = read_receipts(receipts) if isinstance(receipts, Path) else list(receipts)
    batch = ReceiptBatch(listed)
    if len(batch) > MAX_BATCH:
        raise UsageError(f"a batch holds at most {MAX_BATCH} receipts, got {len(batch)}", hint="split the batch")
    state = grant_state(registry, grant_id)
    deployment = registry.context.deployment()
    for receipt in listed:
        verify_receipt_for_grant(state, deployment.chain_id, deployment.grant_registry, receipt,
                                 where=f"receipt {receipt.hash_hex} (job {receipt.job_id!r})")
    first_block = state.created.tx.block_number
    write = f"use-batch:{deployment.chain_id}:{deployment.transaction_ledger}:{grant_id}:{batch.root_hex}"

    def batch_record() -> UsageBatchRecord | None:
        found = get_usage_record(registry, grant_id, batch.root, first_block)
        return found if isinstance(found, UsageBatchRecord) else None

    signer, outbox = _reconciled(registry, write, lambda: batch_record() is not None, sender, passwords, hook)
    records = usage_records(registry, grant_id, first_block)
    for record in records:
        if isinstance(record, UsageBatchRecord) and record.receipts_root == batch.root:
            if outbox is not None:
                outbox.mark_done(write, tx_hash=record.tx.tx_hash, block_number=record.tx.block_number)
            _mark_batch_recorded(registry, batch, grant_id, record)
            return UsageBatchResult(batch, record, already_recorded=True)
    single = {r.receipt_hash for r in records if isinstance(r, UsageRecord)}
    twice = [r for r in listed if r.hash in single]
    with registry.db.session() as session:
        in_batches = [r for r in listed if (row2 := session.get(ReceiptRecord, r.hash_hex)) is not None
                      and row2.state == RECORDED and row2.batch_root not in (None, batch.root_hex)]
    if twice or in_batches:
        first = (twice or in_batches)[0]
        raise UsageError(f"{len(twice) + len(in_batches)} of the receipts are recorded already (first: "
                         f"{first.hash_hex}, job {first.job_id!r})",
                         hint="leave the recorded receipts out of the batch: each receipt is recorded once",
                         kind=ErrorKind.CONFLICT)
    signer = signer or signing_sender(registry, sender, passwords)
    outbox = outbox or writes_outbox(registry, signer, hook)
    _verify_can_record(registry, state, signer, batch.units)
    _verify_in_window_and_asset(registry, state, listed)
    _verify_in_known_scope(registry, state, listed)
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
                passwords: Sequence[PasswordSource], hook: Hook | None) -> tuple[TxSender | None, Outbox | None]:
    """When an earlier run started the write ``key``: settle what it sent (waited for, never sent again; the chain
    then decides) and return the signer and outbox; (None, None) otherwise, without unlocking the account."""
    if get_record(registry.db, key) is None:
        return None, None
    signer = signing_sender(registry, sender, passwords)
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

