"""Usage receipts checked against an asset's trail: was each one recorded on chain, under its own grant, and did
the job stay inside the grant's scope?

For each receipt (:class:`~dataseal.registry.receipts.UsageReceipt`), :func:`compute_receipt_checks` finds:

- where the chain recorded it: a ``UsageRecorded`` of its grant whose receipt hash is the receipt's hash
  (with the same units), or a ``UsageBatchRecorded`` of its grant whose receipts root has the receipt as a
  member — by a batch proof given for it, or because the receipts of that grant in hand, together, make up
  the batch (same root, same count);
- that it belongs to this chain and GrantRegistry, and that its purpose is the grant's (the grant records
  the keccak of the purpose text);
- that the rows, chunks or files it touched lie inside the grant's scope root (nothing to prove for a grant
  over the whole asset): by a scope multiproof given for it, or computed from the scope's indexes when the
  auditor holds them (``scopes``, keyed by scope root).

:func:`verify_receipt_checks` raises :class:`~.errors.ReceiptMismatch` naming the first problem.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from pydantic import BaseModel, ConfigDict

from dataseal.registry.audit.entries import TrailEntry
from dataseal.registry.audit.errors import ReceiptMismatch
from dataseal.registry.receipts import (
    ReceiptBatchProof,
    ReceiptError,
    UsageReceipt,
    compute_receipts_root,
    verify_receipt_in_batch,
)
from dataseal.registry.scope import IndexTree, ScopeError, ScopeProof, verify_receipt_in_scope

ZERO_ROOT = "0x" + "00" * 32


class ReceiptCheck(BaseModel):
    """What the audit found for one receipt (``ok`` when no problem)."""

    model_config = ConfigDict(frozen=True)

    receipt_hash: str
    grant_id: int
    job_id: str
    recorded: str | None = None  # "usage" or "batch": how the chain recorded it
    tx_hash: str | None = None
    block_number: int | None = None
    log_index: int | None = None
    scope: str | None = None  # "whole asset" or "inside"
    problems: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_json_data(self) -> dict[str, object]:
        data = self.model_dump(mode="json")
        data["ok"] = self.ok
        return data


def compute_receipt_checks(
    entries: Sequence[TrailEntry],
    receipts: Sequence[UsageReceipt],
    *,
    chain_id: int,
    grant_registry: str,
    batch_proofs: Mapping[str, ReceiptBatchProof] | None = None,
    scope_proofs: Mapping[str, ScopeProof] | None = None,
    scopes: Mapping[str, Iterable[int]] | None = None,
) -> list[ReceiptCheck]:
    """Check each of ``receipts`` against ``entries`` (the trail of their asset, whole). Proofs are keyed by
    receipt hash (0x-hex), scopes by scope root (0x-hex)."""
    grants = {e.args["grant_id"]: e for e in entries if e.event == "GrantCreated"}
    singles: dict[str, list[TrailEntry]] = {}
    batches: dict[int, list[TrailEntry]] = {}
    for e in entries:
        if e.event == "UsageRecorded":
            singles.setdefault(e.args["receipt_hash"], []).append(e)
        elif e.event == "UsageBatchRecorded":
            batches.setdefault(e.args["grant_id"], []).append(e)
    by_batch = _batches_in_hand(receipts, singles, batches)
    trees = {root: IndexTree.of(indexes) for root, indexes in (scopes or {}).items()}
    checks = []
    for receipt in receipts:
        problems: list[str] = []
        found: TrailEntry | None = None
        how: str | None = None
        digest = receipt.hash_hex
        if receipt.chain_id != chain_id or receipt.grant_registry.lower() != grant_registry.lower():
            problems.append(f"it is for chain {receipt.chain_id} and GrantRegistry {receipt.grant_registry}, not "
                            f"chain {chain_id} and {grant_registry}")
        grant = grants.get(receipt.grant_id)
        if grant is None:
            problems.append(f"grant {receipt.grant_id} is not one of this asset's grants")
        elif "0x" + receipt.purpose_hash.hex() != grant.args["purpose"]:
            problems.append(f"its purpose {receipt.purpose!r} is not grant {receipt.grant_id}'s (the grant records "
                            f"{grant.args['purpose']})")
        recorded = singles.get(digest, [])
        mine = [e for e in recorded if e.args["grant_id"] == receipt.grant_id]
        if mine:
            found, how = mine[0], "usage"
            if int(found.args["units"]) != receipt.units:
                problems.append(f"recorded with {found.args['units']} units, the receipt says {receipt.units}")
        elif recorded:
            problems.append(f"it was recorded under grant {recorded[0].args['grant_id']}, not its own grant "
                            f"{receipt.grant_id}")
        else:
            found, problem = _batch_of(receipt, batches.get(receipt.grant_id, []), (batch_proofs or {}).get(digest),
                                       by_batch.get(digest))
            how = "batch" if found is not None else None
            if problem:
                problems.append(problem)
        scope = None
        if grant is not None:
            scope, problem = _scope_of(receipt, grant.args["scope_root"], (scope_proofs or {}).get(digest), trees)
            if problem:
                problems.append(problem)
        checks.append(ReceiptCheck(
            receipt_hash=digest, grant_id=receipt.grant_id, job_id=receipt.job_id, recorded=how,
            tx_hash=found.tx_hash if found else None, block_number=found.block_number if found else None,
            log_index=found.log_index if found else None, scope=scope, problems=tuple(problems)))
    return checks


def _batches_in_hand(receipts: Sequence[UsageReceipt], singles: Mapping[str, list[TrailEntry]],
                     batches: Mapping[int, list[TrailEntry]]) -> dict[str, TrailEntry]:
    """receipt hash -> batch record, for the receipts of a grant that together make up one of its batches."""
    pending: dict[int, list[UsageReceipt]] = {}
    for r in receipts:
        if r.hash_hex not in singles:
            pending.setdefault(r.grant_id, []).append(r)
    found: dict[str, TrailEntry] = {}
    for grant_id, group in pending.items():
        try:
            root = "0x" + compute_receipts_root(group).hex()
        except ReceiptError:
            continue
        for batch in batches.get(grant_id, []):
            if batch.args["receipts_root"] == root and int(batch.args["count"]) == len(group):
                found.update({r.hash_hex: batch for r in group})
    return found


def _batch_of(receipt: UsageReceipt, batches: list[TrailEntry], proof: ReceiptBatchProof | None,
              in_hand: TrailEntry | None) -> tuple[TrailEntry | None, str | None]:
    if proof is not None:
        batch = next((b for b in batches if b.args["receipts_root"] == proof.receipts_root), None)
        if batch is None:
            return None, (f"its batch proof is for receipts root {proof.receipts_root}, which no batch of grant "
                          f"{receipt.grant_id} recorded")
        try:
            verify_receipt_in_batch(receipt, proof, bytes.fromhex(proof.receipts_root[2:]))
        except ReceiptError as exc:
            return None, exc.message
        return batch, None
    if in_hand is not None:
        return in_hand, None
    return None, (f"no usage record of grant {receipt.grant_id} has its hash, and no batch of the grant is proven to "
                  "hold it (give its batch proof, or all the receipts of its batch)")


def _scope_of(receipt: UsageReceipt, scope_root: str, proof: ScopeProof | None,
              trees: Mapping[str, IndexTree]) -> tuple[str | None, str | None]:
    if scope_root == ZERO_ROOT:
        return "whole asset", None
    try:
        if proof is None and scope_root in trees and receipt.touched.indexes is not None:
            proof = trees[scope_root].multiproof(receipt.touched.indexes)
        verify_receipt_in_scope(receipt, scope_root, proof)
    except ScopeError as exc:
        return None, exc.message
    return "inside", None


def verify_receipt_checks(checks: Sequence[ReceiptCheck]) -> None:
    """Raise :class:`ReceiptMismatch` naming the first problem, unless every receipt checked out."""
    bad = [c for c in checks if not c.ok]
    if bad:
        first = bad[0]
        raise ReceiptMismatch(
            f"{len(bad)} of {len(checks)} receipts do not match the chain (first: receipt {first.receipt_hash} of "
            f"grant {first.grant_id}, job {first.job_id!r}: {first.problems[0]})",
            hint="check that these are the receipts the grantee recorded, with their batch and scope proofs")
