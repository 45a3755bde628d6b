"""Encumbrances and usage accounting computed from a real asset trail, at moments along its history."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from dataseal.registry.audit import (
    AssetSubject,
    AuditInputError,
    ChainTrailSource,
    TrailEntry,
    collect_trail,
    compute_encumbrances,
    compute_grants,
    compute_usage_by_period,
)
from tests.registry.audit.conftest import History


@pytest.fixture(scope="module")
def trail(history: History) -> list[TrailEntry]:
    return collect_trail(ChainTrailSource(history.chain.w3, history.chain.deployment), AssetSubject(history.asset))


def time_of(trail: list[TrailEntry], event: str, grant_id: int) -> datetime:
    return next(e.time for e in trail if e.event == event and e.grant_id == grant_id)


def test_the_grants_that_bind_the_asset_along_its_history(trail: list[TrailEntry], history: History) -> None:
    at_end = trail[-1].time
    bound = compute_encumbrances(trail, at_end)
    assert [g.grant_id for g in bound] == [history.grant, history.licence_grant]  # grant 2 was revoked
    first, licence = bound
    assert (first.grantee, first.quota, first.used, first.remaining) == (history.chain.user.address, 100, 25, 75)
    assert first.expires_at == datetime.fromtimestamp(history.expires_at, UTC) and first.trade_id is None
    assert (licence.grantee, licence.used, licence.remaining, licence.trade_id) == (
        history.chain.buyer.address, 2, 18, history.licence_trade)

    before_revocation = time_of(trail, "GrantRevoked", history.revoked_grant) - timedelta(seconds=1)
    assert [g.grant_id for g in compute_encumbrances(trail, before_revocation)] == [history.grant,
                                                                                   history.revoked_grant]
    after_two_uses = time_of(trail, "UsageBatchRecorded", history.grant) - timedelta(seconds=1)
    assert compute_encumbrances(trail, after_two_uses)[0].used == 15  # usage counted up to the moment
    assert compute_encumbrances(trail, trail[0].time) == []  # before any grant
    expired = datetime.fromtimestamp(history.expires_at, UTC)
    assert compute_encumbrances(trail, expired) == []  # expires_at is the first moment it no longer binds
    assert [g.grant_id for g in compute_grants(trail, expired)] == [history.grant, history.licence_grant]


def test_a_grant_with_its_quota_used_up_no_longer_binds(trail: list[TrailEntry], history: History) -> None:
    licence_usage = next(e for e in trail if e.event == "UsageRecorded" and e.grant_id == history.licence_grant)
    exhausted = [e.replaced(args={**e.args, "units": 20}) if e == licence_usage else e for e in trail]
    assert [g.grant_id for g in compute_encumbrances(exhausted, trail[-1].time)] == [history.grant]


def test_usage_per_grant_and_period(trail: list[TrailEntry], history: History) -> None:
    days = compute_usage_by_period(trail, "day")
    assert [(u.grant_id, u.units, u.records, u.receipts) for u in days] == [
        (history.grant, 5, 1, 1), (history.grant, 5, 1, 1), (history.grant, 5, 1, 1), (history.grant, 10, 1, 4),
        (history.licence_grant, 2, 1, 1)]
    first_day = next(e.time for e in trail if e.event == "UsageRecorded")
    assert days[0].period == first_day.strftime("%Y-%m-%d")
    months = compute_usage_by_period(trail, "month")
    assert sum(u.units for u in months if u.grant_id == history.grant) == 25
    assert sum(u.receipts for u in months) == 3 + 4 + 1 and all(len(u.period) == 7 for u in months)


def test_bad_periods_and_naive_moments_are_refused(trail: list[TrailEntry]) -> None:
    with pytest.raises(AuditInputError) as period:
        compute_usage_by_period(trail, "week")  # type: ignore[arg-type]
    assert "by day or month, not 'week'" in period.value.message
    with pytest.raises(AuditInputError) as naive:
        compute_encumbrances(trail, datetime(2030, 1, 1))
    assert "has no time zone" in naive.value.message
