"""The completeness check: the trail the registry recorded against the one recomputed from the chain's logs.

Entries are matched by their log (transaction hash, log index). An entry the chain has and the record
lacks is *missing*; one the record has and the chain does not is *extra* (a block a reorganisation
replaced, or a forged row); one both have with different fields is *changed* (the fields are named).
Usage under a grant is numbered 1, 2, 3… by the ledger (``sequence``): in an asset's trail, where all of
a grant's usage appears, a number skipped or repeated is a *gap*.
"""
from __future__ import annotations

from collections.abc import Sequence

from pydantic import BaseModel, ConfigDict

from dataseal.registry.audit.entries import USAGE_EVENTS, TrailEntry
from dataseal.registry.audit.errors import TrailMismatch


class ChangedEntry(BaseModel):
    """An entry both trails have, with different values."""

    model_config = ConfigDict(frozen=True)

    fields: tuple[str, ...]
    recorded: TrailEntry
    recomputed: TrailEntry


class SequenceGap(BaseModel):
    """Usage of ``grant_id`` numbered ``found`` where ``expected`` was due (skipped or repeated numbers)."""

    model_config = ConfigDict(frozen=True)

    grant_id: int
    expected: int
    found: int
    tx_hash: str
    block_number: int
    log_index: int

    def describe(self) -> str:
        what = "repeats" if self.found < self.expected else f"skips {self.expected}..{self.found - 1}"
        return (f"grant {self.grant_id}: usage sequence {self.found} at block {self.block_number} log "
                f"{self.log_index} {what}")


class TrailDifferences(BaseModel):
    """What :func:`compute_trail_differences` found (``ok`` when nothing)."""

    model_config = ConfigDict(frozen=True)

    subject: str
    recorded: int
    recomputed: int
    missing: tuple[TrailEntry, ...] = ()
    extra: tuple[TrailEntry, ...] = ()
    changed: tuple[ChangedEntry, ...] = ()
    gaps: tuple[SequenceGap, ...] = ()

    @property
    def ok(self) -> bool:
        return not (self.missing or self.extra or self.changed or self.gaps)

    def describe(self) -> list[str]:
        """One line per difference, for people."""
        lines = [f"missing  {e.block_number}:{e.log_index} {e.event} {e.tx_hash}: {e.summary}" for e in self.missing]
        lines += [f"extra    {e.block_number}:{e.log_index} {e.event} {e.tx_hash}: {e.summary}" for e in self.extra]
        lines += [f"changed  {c.recorded.block_number}:{c.recorded.log_index} {c.recorded.event} "
                  f"{c.recorded.tx_hash}: {', '.join(c.fields)}" for c in self.changed]
        lines += [f"gap      {g.describe()}" for g in self.gaps]
        return lines

    def to_json_data(self) -> dict[str, object]:
        data = self.model_dump(mode="json")
        data["ok"] = self.ok
        return data


def compute_sequence_gaps(entries: Sequence[TrailEntry]) -> list[SequenceGap]:
    """Skipped or repeated usage sequence numbers per grant, in chain order (each grant's usage counts
    from 1)."""
    last: dict[int, int] = {}
    gaps: list[SequenceGap] = []
    for e in entries:
        if e.event not in USAGE_EVENTS:
            continue
        grant_id, sequence = int(e.args["grant_id"]), int(e.args["sequence"])
        expected = last.get(grant_id, 0) + 1
        if sequence != expected:
            gaps.append(SequenceGap(grant_id=grant_id, expected=expected, found=sequence, tx_hash=e.tx_hash,
                                    block_number=e.block_number, log_index=e.log_index))
        last[grant_id] = max(sequence, last.get(grant_id, 0))
    return gaps


def compute_trail_differences(recorded: Sequence[TrailEntry], recomputed: Sequence[TrailEntry], *, subject: str,
                              check_sequences: bool = True) -> TrailDifferences:
    """Every difference between the ``recorded`` trail and the one ``recomputed`` from the logs, and (with
    ``check_sequences``, for a whole asset trail) the gaps in the recorded usage numbers."""
    mine = {(e.tx_hash, e.log_index): e for e in recorded}
    theirs = {(e.tx_hash, e.log_index): e for e in recomputed}
    missing = tuple(e for key, e in theirs.items() if key not in mine)
    extra = tuple(e for key, e in mine.items() if key not in theirs)
    changed = []
    for key, ours in mine.items():
        truth = theirs.get(key)
        if truth is not None and ours != truth:
            fields = tuple(name for name in TrailEntry.field_names() if getattr(ours, name) != getattr(truth, name))
            changed.append(ChangedEntry(fields=fields, recorded=ours, recomputed=truth))
    gaps = tuple(compute_sequence_gaps(recorded)) if check_sequences else ()
    return TrailDifferences(subject=subject, recorded=len(recorded), recomputed=len(recomputed), missing=missing,
                            extra=extra, changed=tuple(changed), gaps=gaps)


def verify_trail_differences(differences: TrailDifferences) -> None:
    """Raise :class:`TrailMismatch` summing up ``differences`` unless there are none."""
    if differences.ok:
        return
    counts = [f"{len(items)} {name}" for name, items in (("missing", differences.missing),
                                                         ("extra", differences.extra),
                                                         ("changed", differences.changed),
                                                         ("sequence gaps", differences.gaps)) if items]
    first = differences.describe()[0]
    raise TrailMismatch(
        f"the recorded trail of {differences.subject} differs from the chain's logs: {', '.join(counts)} "
        f"(first: {first})",
        hint="re-index the registry from the chain (the chain is the source of truth), then audit again")
