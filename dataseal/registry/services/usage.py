"""Usage: record what a job used under a grant, with the hash of its receipt (:mod:`dataseal.registry.receipts`).

    from dataseal.registry.services.usage import use, use_batch
    from dataseal.registry.services.usage_receipts import new_receipt

    receipt = new_receipt(registry, grant_id=3, job_id="train-42", unit="row", indexes=["0-999"],
                          started_at=start, ended_at=end, units=10, result_hash=digest)
    done = use(registry, 3, 10, receipt)            # UsageRecorded: done.record.sequence, done.record.tx
    batch = use_batch(registry, 3, receipts)         # one UsageBatchRecorded for many receipts

Before anything is sent, :func:`use` checks the receipt against the grant on chain — the same chain,
GrantRegistry and grant, the grant's purpose, the units, a job that ran inside the grant's window — and that the
grant can take them now (Active, inside its window by the chain's clock, enough quota left), that the signing
account is the grantee or its USAGE operator, that the indexes the receipt touched exist in the asset (when this
registry stored the asset's manifest: its unit and leaf count) and lie inside the grant's scope root (always: a
receipt whose indexes or scope cannot be had is refused; see
:func:`~dataseal.registry.services.usage_receipts.verify_receipt_fits_grant`), and that the receipt is not recorded
already (:func:`verify_not_recorded_elsewhere`). Writing a receipt
(:mod:`~dataseal.registry.services.usage_receipts`) runs the same checks of the receipt's content. Each failure is one
:class:`~dataseal.registry.services.usage_receipts.UsageError` saying what and what to do; should the chain refuse
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

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from eth_utils import keccak

from dataseal.chain.accounts.passwords import PasswordSource
from dataseal.chain.contracts.client import ESTIMATE
from dataseal.chain.contracts.logs import LogReader
from dataseal.chain.contracts.records import USAGE, AssetStatus, UsageBatchRecord, UsageRecord
from dataseal.chain.sending.sender import TxSender
from dataseal.errors import ErrorKind
from dataseal.registry.db.models.local import OutboxState
from dataseal.registry.db.models.receipts import RECORDED, SENT, ReceiptBatchRecord, ReceiptRecord
from dataseal.registry.outbox import Delivered, Hook, Outbox, get_record
from dataseal.registry.receipts import (
    ReceiptBatch,
    UsageReceipt,
    read_receipt,
    read_receipts,
)
from dataseal.registry.registry import Registry
from dataseal.registry.scope import (
    ScopeProof,
)
from dataseal.registry.services.grants import (
    GrantState,
    acting_for,
    delivered_receipt,
    grant_state,
    signing_sender,
    writes_outbox,
)
from dataseal.registry.services.usage_receipts import (
    UsageError,
    compute_given_scope,
    get_grant_scope,
    keep_indexes,
    verify_receipt_fits_grant,
    verify_receipt_for_grant,
    verify_units,
)

USAGE_RECORDED = "0x" + keccak(text="UsageRecorded(uint256,address,uint64,uint64,bytes32)").hex()
USAGE_BATCH_RECORDED = "0x" + keccak(text="UsageBatchRecorded(uint256,address,uint64,uint64,bytes32,uint32)").hex()
MAX_BATCH = 2**32 - 1
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
    keep_indexes(registry, [given] if given is not None else [])
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
    keep_indexes(registry, [given] if given is not None else [])
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

