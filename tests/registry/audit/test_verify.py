"""The completeness check on a real trail: a recorded trail with an entry deleted, altered, added or a usage
record dropped is reported entry by entry, and verify_trail_differences raises naming the first difference."""
from __future__ import annotations

import pytest

from dataseal.registry.audit import (
    AccountSubject,
    AssetSubject,
    ChainTrailSource,
    TrailEntry,
    TrailMismatch,
    collect_trail,
    compute_sequence_gaps,
    compute_trail_differences,
    verify_trail_differences,
)
from dataseal.registry.audit.entries import compute_summary
from tests.registry.audit.conftest import History


@pytest.fixture(scope="module")
def truth(history: History) -> list[TrailEntry]:
    return collect_trail(ChainTrailSource(history.chain.w3, history.chain.deployment), AssetSubject(history.asset))


def test_the_same_trail_has_no_differences(truth: list[TrailEntry]) -> None:
    differences = compute_trail_differences(list(truth), truth, subject="asset 1")
    assert differences.ok and differences.describe() == [] and differences.recorded == len(truth)
    verify_trail_differences(differences)  # returns
    assert differences.to_json_data()["ok"] is True


def test_a_deleted_entry_is_missing_and_leaves_a_sequence_gap(truth: list[TrailEntry], history: History) -> None:
    second_use = next(e for e in truth if e.event == "UsageRecorded" and e.args["sequence"] == 2)
    recorded = [e for e in truth if e != second_use]
    differences = compute_trail_differences(recorded, truth, subject="asset 1")
    assert differences.missing == (second_use,) and not differences.extra and not differences.changed
    (gap,) = differences.gaps
    assert (gap.grant_id, gap.expected, gap.found) == (history.grant, 2, 3)
    assert differences.describe()[0].startswith(f"missing  {second_use.block_number}:{second_use.log_index} "
                                                f"UsageRecorded {second_use.tx_hash}")
    assert differences.describe()[1] == (f"gap      grant {history.grant}: usage sequence 3 at block "
                                         f"{gap.block_number} log {gap.log_index} skips 2..2")
    with pytest.raises(TrailMismatch) as mismatch:
        verify_trail_differences(differences)
    assert "the recorded trail of asset 1 differs from the chain's logs: 1 missing, 1 sequence gaps" in str(
        mismatch.value)
    assert "re-index the registry from the chain" in mismatch.value.hint


def test_an_altered_entry_is_changed_naming_its_fields(truth: list[TrailEntry]) -> None:
    usage = next(e for e in truth if e.event == "UsageRecorded")
    args = {**usage.args, "units": 50}
    forged = usage.replaced(args=args, summary=compute_summary(usage.event, args))
    recorded = [forged if e == usage else e for e in truth]
    differences = compute_trail_differences(recorded, truth, subject="asset 1")
    (changed,) = differences.changed
    assert changed.fields == ("summary", "args") and changed.recorded == forged and changed.recomputed == usage
    assert not differences.missing and not differences.extra and not differences.gaps
    moved = [e.replaced(block_hash="0x" + "ee" * 32) if e == usage else e for e in truth]
    assert compute_trail_differences(moved, truth, subject="asset 1").changed[0].fields == ("block_hash",)


def test_an_entry_the_chain_does_not_have_is_extra(truth: list[TrailEntry], history: History) -> None:
    others = collect_trail(ChainTrailSource(history.chain.w3, history.chain.deployment),
                           AccountSubject(history.chain.user.address))
    stranger = next(e for e in others if e.asset_id == history.other_asset)
    recorded = sorted([*truth, stranger], key=lambda e: e.cursor)
    differences = compute_trail_differences(recorded, truth, subject="asset 1")
    assert differences.extra == (stranger,) and not differences.missing and not differences.changed
    # a truncated recomputation: what it lacks shows as extra on the recorded side
    assert compute_trail_differences(truth, truth[:-2], subject="asset 1").extra == tuple(truth[-2:])


def test_sequence_gaps_repeats_and_a_missing_first(truth: list[TrailEntry], history: History) -> None:
    usage = [e for e in truth if e.grant_id == history.grant and e.event.startswith("Usage")]
    assert compute_sequence_gaps(usage) == []
    assert [(g.expected, g.found) for g in compute_sequence_gaps(usage[1:])] == [(1, 2)]
    repeated = compute_sequence_gaps([usage[0], usage[1], usage[1]])
    assert [(g.expected, g.found) for g in repeated] == [(3, 2)] and "repeats" in repeated[0].describe()
    # an account trail (others' usage absent) is compared without the sequence check
    differences = compute_trail_differences(usage[1:], usage[1:], subject="account", check_sequences=False)
    assert differences.ok
