"""Usage receipts checked against an asset's trail: was each one recorded on chain, under its own grant, for the
work it says, and did the job stay inside the grant's scope, window and the asset?

For each receipt (:class:`~dataseal.registry.receipts.UsageReceipt`), :func:`compute_receipt_checks` finds:

- where the chain recorded it: a ``UsageRecorded`` of its grant whose receipt hash is the receipt's hash
  (with the same units), or a ``UsageBatchRecorded`` of its grant whose receipts root has the receipt as a
  member — by a batch proof given for it, or because receipts in hand make up the batch (a set of them whose
  root is the batch's root: grouped by their batch proofs, by the batch the registry recorded them in
  (``batch_roots``), else searched among the grant's receipts in hand);
- for a batch whose receipts are all in hand, that their number is the batch's count and their units add up to
  the batch's units (a batch recorded with fewer units than its receipts used leaves usage unmetered); when only
  some of them are in hand, the batch's units are "not checked" (``batch_complete`` False);
- that it belongs to this chain and GrantRegistry, and that its purpose is the grant's (the grant records
  the keccak of the purpose text);
- that the job's time span lies inside the grant's window;
- that the rows, chunks or files it touched exist in the asset (its unit and leaf count, ``leaves`` by asset id,
  from the registered manifest when the auditor has it; "not checked" otherwise);
- that they lie inside the grant's scope root (nothing to prove for a grant over the whole asset): by a scope
  multiproof given for it, or computed from the scope's indexes when the auditor holds them (``scopes``, keyed
  by scope root).

:func:`compute_asset_receipt_checks` runs the checks for a registry: the asset's trail recomputed from the chain,
the batch each receipt was recorded in as this registry's database knows it, and the asset's leaves from the
manifest it stored. :func:`verify_receipt_checks` raises :class:`~.errors.ReceiptMismatch` naming the first
problem.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import combinations
from math import comb
from typing import Final

from pydantic import BaseModel, ConfigDict
from sqlmodel import col, select

from dataseal.registry.audit.entries import AssetSubject, TrailEntry
from dataseal.registry.audit.errors import ReceiptMismatch
from dataseal.registry.audit.service import chain_source
from dataseal.registry.audit.sources import collect_trail
from dataseal.registry.certificates.compute import get_stored_manifest
from dataseal.registry.db import Database
from dataseal.registry.db.models.receipts import ReceiptRecord
from dataseal.registry.receipts import (
    AssetLeaves,
    ReceiptBatchProof,
    ReceiptError,
    UsageReceipt,
    compute_asset_leaves,
    compute_receipts_root,
    verify_receipt_in_asset,
    verify_receipt_in_batch,
    verify_receipt_in_window,
)
from dataseal.registry.registry import Registry
from dataseal.registry.scope import IndexTree, ScopeError, ScopeProof, verify_receipt_in_scope

ZERO_ROOT = "0x" + "00" * 32
#: The most subsets of a grant's receipts in hand tried against one batch when nothing says which are its own.
MAX_BATCH_SEARCH: Final = 4096
NOT_CHECKED: Final = "not checked"


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
    batch_root: str | None = None  # the batch that holds it, when recorded in one
    batch_complete: bool | None = None  # all the batch's receipts in hand: its count and units were compared
    scope: str | None = None  # "whole asset" or "inside"
    extent: str | None = None  # "inside the asset's N rows" or "not checked" (the asset's leaves unknown)
    problems: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_json_data(self) -> dict[str, object]:
        data = self.model_dump(mode="json")
        data["ok"] = self.ok
        return data


@dataclass(frozen=True)
class _InHand:
    """Receipts in hand whose root is a batch's root: the whole batch."""

    batch: TrailEntry
    receipts: tuple[UsageReceipt, ...]

    def problems(self) -> list[str]:
        """The batch's count and units against its receipts'."""
        args, found = self.batch.args, []
        units, count = sum(r.units for r in self.receipts), len(self.receipts)
        if int(args["count"]) != count:
            found.append(f"its batch {args['receipts_root']} records {args['count']} receipts, but its root is that "
                         f"of the {count} receipts in hand")
        if int(args["units"]) != units:
            found.append(f"its batch {args['receipts_root']} records {args['units']} units, but its {count} receipts "
                         f"add up to {units} units")
        return found


def compute_receipt_checks(
    entries: Sequence[TrailEntry],
    receipts: Sequence[UsageReceipt],
    *,
    chain_id: int,
    grant_registry: str,
    batch_proofs: Mapping[str, ReceiptBatchProof] | None = None,
    scope_proofs: Mapping[str, ScopeProof] | None = None,
    scopes: Mapping[str, Iterable[int]] | None = None,
    batch_roots: Mapping[str, str] | None = None,
    leaves: Mapping[int, AssetLeaves] | None = None,
) -> list[ReceiptCheck]:
    """Check each of ``receipts`` against ``entries`` (the trail of their asset, whole). Proofs are keyed by
    receipt hash (0x-hex), scopes by scope root (0x-hex); ``batch_roots`` (receipt hash -> receipts root) is
    where a registry says it recorded a receipt (a hint to find its batch, not a proof); ``leaves`` holds the
    assets' leaves by asset id, where known."""
    grants = {e.args["grant_id"]: e for e in entries if e.event == "GrantCreated"}
    singles: dict[str, list[TrailEntry]] = {}
    batches: dict[int, list[TrailEntry]] = {}
    for e in entries:
        if e.event == "UsageRecorded":
            singles.setdefault(e.args["receipt_hash"], []).append(e)
        elif e.event == "UsageBatchRecorded":
            batches.setdefault(e.args["grant_id"], []).append(e)
    proofs = batch_proofs or {}
    by_batch = _batches_in_hand(receipts, singles, batches, proofs, batch_roots or {})
    trees = {root: IndexTree.of(indexes) for root, indexes in (scopes or {}).items()}
    checks = []
    for receipt in receipts:
        problems: list[str] = []
        found: TrailEntry | None = None
        how: str | None = None
        complete: bool | None = None
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
            in_hand = by_batch.get(digest)
            found, problem = _batch_of(receipt, batches.get(receipt.grant_id, []), proofs.get(digest), in_hand)
            how = "batch" if found is not None else None
            if problem:
                problems.append(problem)
            if found is not None:
                complete = in_hand is not None and in_hand.batch == found
                if complete and in_hand is not None:
                    problems.extend(in_hand.problems())
        extent = scope = None
        if grant is not None:
            try:
                verify_receipt_in_window(receipt, int(grant.args["valid_from"]), int(grant.args["expires_at"]),
                                         where="it")
            except ReceiptError as exc:
                problems.append(exc.message)
            extent, problem = _extent_of(receipt, (leaves or {}).get(int(grant.args["asset_id"])))
            if problem:
                problems.append(problem)
            scope, problem = _scope_of(receipt, grant.args["scope_root"], (scope_proofs or {}).get(digest), trees)
            if problem:
                problems.append(problem)
        checks.append(ReceiptCheck(
            receipt_hash=digest, grant_id=receipt.grant_id, job_id=receipt.job_id, recorded=how,
            tx_hash=found.tx_hash if found else None, block_number=found.block_number if found else None,
            log_index=found.log_index if found else None,
            batch_root=found.args["receipts_root"] if found is not None and how == "batch" else None,
            batch_complete=complete, scope=scope, extent=extent, problems=tuple(problems)))
    return checks


def compute_asset_receipt_checks(
    registry: Registry,
    asset_id: int,
    receipts: Sequence[UsageReceipt],
    *,
    batch_proofs: Mapping[str, ReceiptBatchProof] | None = None,
    scopes: Mapping[str, Iterable[int]] | None = None,
) -> list[ReceiptCheck]:
    """:func:`compute_receipt_checks` of ``receipts`` against asset ``asset_id``'s whole trail, recomputed from the
    registry's chain (not its index), with what the registry's database adds: the batch it recorded each receipt
    in, and the asset's leaves from the manifest it stored (the extent is "not checked" without one)."""
    deployment = registry.context.deployment()
    entries = collect_trail(chain_source(registry), AssetSubject(asset_id))
    return compute_receipt_checks(entries, receipts, chain_id=deployment.chain_id,
                                  grant_registry=deployment.grant_registry, batch_proofs=batch_proofs, scopes=scopes,
                                  batch_roots=get_batch_roots(registry.db, receipts),
                                  leaves=get_asset_leaves(registry.db, entries))


def get_batch_roots(db: Database, receipts: Sequence[UsageReceipt]) -> dict[str, str]:
    """receipt hash -> the receipts root of the batch the registry ``db`` recorded it in (receipts it recorded alone
    or not at all are left out)."""
    hashes = [r.hash_hex for r in receipts]
    found: dict[str, str] = {}
    with db.session() as session:
        for start in range(0, len(hashes), 500):
            chunk = hashes[start:start + 500]
            rows = session.exec(select(ReceiptRecord).where(col(ReceiptRecord.receipt_hash).in_(chunk)))
            found.update({row.receipt_hash: row.batch_root for row in rows if row.batch_root is not None})
    return found


def get_asset_leaves(db: Database, entries: Sequence[TrailEntry]) -> dict[int, AssetLeaves]:
    """asset id -> its leaves, for the assets registered in ``entries`` whose manifest the registry ``db`` stored."""
    found: dict[int, AssetLeaves] = {}
    for e in entries:
        if e.event == "AssetRegistered" and e.asset_id is not None:
            manifest = get_stored_manifest(db, e.args["manifest_hash"])
            if manifest is not None and manifest.tree.root == e.args["content_root"]:
                found[e.asset_id] = compute_asset_leaves(manifest)
    return found


def _batches_in_hand(receipts: Sequence[UsageReceipt], singles: Mapping[str, list[TrailEntry]],
                     batches: Mapping[int, list[TrailEntry]], proofs: Mapping[str, ReceiptBatchProof],
                     batch_roots: Mapping[str, str]) -> dict[str, _InHand]:
    """receipt hash -> the whole batch it is in, for the receipts in hand that make up a batch of their grant (see
    :func:`_match_batches`)."""
    pending: dict[int, list[UsageReceipt]] = {}
    for r in receipts:
        if r.hash_hex not in singles:
            pending.setdefault(r.grant_id, []).append(r)
    found: dict[str, _InHand] = {}
    for grant_id, group in pending.items():
        for whole in _match_batches(group, batches.get(grant_id, []), proofs, batch_roots):
            found.update({r.hash_hex: whole for r in whole.receipts})
    return found


def _match_batches(group: Sequence[UsageReceipt], batches: Sequence[TrailEntry],
                   proofs: Mapping[str, ReceiptBatchProof], batch_roots: Mapping[str, str]) -> list[_InHand]:
    """The batches of one grant that receipts of ``group`` make up, each matched separately by a set of receipts
    whose root is its root: first the receipts a batch proof or the registry places in it, then all the grant's
    other receipts together, then (when few enough) their subsets of the batch's count."""
    open_batches = {b.args["receipts_root"]: b for b in batches}
    left = list(group)
    matched: list[_InHand] = []

    def take(members: Sequence[UsageReceipt], root: str) -> None:
        matched.append(_InHand(batch=open_batches.pop(root), receipts=tuple(members)))
        taken = {r.hash_hex for r in members}
        left[:] = [r for r in left if r.hash_hex not in taken]

    hinted: dict[str, list[UsageReceipt]] = {}
    for r in group:
        proof = proofs.get(r.hash_hex)
        hint = proof.receipts_root if proof is not None else batch_roots.get(r.hash_hex)
        if hint is not None and hint in open_batches:
            hinted.setdefault(hint, []).append(r)
    for root, members in hinted.items():
        if _root_of(members) == root:
            take(members, root)
    every = _root_of(left) if left else None
    if every is not None and every in open_batches:
        take(list(left), every)
    for root, batch in list(open_batches.items()):
        size = int(batch.args["count"])
        if not 0 < size <= len(left) or comb(len(left), size) > MAX_BATCH_SEARCH:
            continue
        subset = next((list(c) for c in combinations(left, size) if _root_of(list(c)) == root), None)
        if subset is not None:
            take(subset, root)
    return matched


def _root_of(receipts: Sequence[UsageReceipt]) -> str | None:
    try:
        return "0x" + compute_receipts_root(receipts).hex()
    except ReceiptError:
        return None


def _batch_of(receipt: UsageReceipt, batches: list[TrailEntry], proof: ReceiptBatchProof | None,
              in_hand: _InHand | None) -> tuple[TrailEntry | None, str | None]:
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
        return in_hand.batch, None
    return None, (f"no usage record of grant {receipt.grant_id} has its hash, and no batch of the grant is proven to "
                  "hold it (give its batch proof, or all the receipts of its batch)")


def _extent_of(receipt: UsageReceipt, leaves: AssetLeaves | None) -> tuple[str, str | None]:
    if leaves is None:
        return NOT_CHECKED, None
    try:
        verify_receipt_in_asset(receipt, leaves, where="it")
    except ReceiptError as exc:
        return f"beyond the asset's {leaves.describe()}", exc.message
    return f"inside the asset's {leaves.describe()}", None


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
