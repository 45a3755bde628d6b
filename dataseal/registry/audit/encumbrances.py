"""What binds an asset, and how much of it was used: computed from its trail alone.

- :func:`compute_encumbrances`: the grants that bind the asset at a moment — a buyer's question before a
  trade. A grant binds while it is not revoked, the moment is in its window (``valid_from <= t <
  expires_at``, as the GrantRegistry checks it) and quota is left.
- :func:`compute_usage_by_period`: usage per grant and per day or month (UTC): units, usage records, and
  receipts (a batch record counts its receipts).
"""
from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict

from dataseal.registry.audit.entries import USAGE_EVENTS, TrailEntry
from dataseal.registry.audit.errors import AuditInputError

Period = Literal["day", "month"]


class Encumbrance(BaseModel):
    """A grant on the asset, with what it has used up to the moment asked about."""

    model_config = ConfigDict(frozen=True)

    grant_id: int
    asset_id: int
    grantee: str
    grantor: str
    purpose: str
    valid_from: datetime
    expires_at: datetime
    quota: int
    used: int
    scope_root: str
    trade_id: int | None = None  # the licence sale that created it, if any

    @property
    def remaining(self) -> int:
        return max(self.quota - self.used, 0)


class UsagePeriod(BaseModel):
    """Usage of one grant in one period (``2024-05-01`` for a day, ``2024-05`` for a month, UTC)."""

    model_config = ConfigDict(frozen=True)

    grant_id: int
    period: str
    units: int
    records: int
    receipts: int


def compute_grants(entries: Sequence[TrailEntry], at: datetime) -> list[Encumbrance]:
    """Every grant the trail creates up to ``at``, not revoked by then, with its usage up to ``at``."""
    if at.tzinfo is None:
        raise AuditInputError(f"the moment {at.isoformat()} has no time zone", hint="give an aware (UTC) time")
    grants: dict[int, Encumbrance] = {}
    revoked: set[int] = set()
    used: dict[int, int] = {}
    licences: dict[int, int] = {}
    for e in entries:
        if e.time > at:
            break
        a = e.args
        if e.event == "GrantCreated":
            grants[a["grant_id"]] = Encumbrance(
                grant_id=a["grant_id"], asset_id=a["asset_id"], grantee=a["grantee"], grantor=a["grantor"],
                purpose=a["purpose"], valid_from=_utc(a["valid_from"]), expires_at=_utc(a["expires_at"]),
                quota=a["quota"], used=0, scope_root=a["scope_root"])
        elif e.event == "GrantRevoked":
            revoked.add(a["grant_id"])
        elif e.event in USAGE_EVENTS:
            used[a["grant_id"]] = used.get(a["grant_id"], 0) + int(a["units"])
        elif e.event == "TradeRecorded" and a["grant_id"]:
            licences[a["grant_id"]] = a["trade_id"]
    return [g.model_copy(update={"used": used.get(g.grant_id, 0), "trade_id": licences.get(g.grant_id)})
            for grant_id, g in sorted(grants.items()) if grant_id not in revoked]


def compute_encumbrances(entries: Sequence[TrailEntry], at: datetime) -> list[Encumbrance]:
    """The grants that bind the asset at ``at``: not revoked, in their window, with quota left (``entries``:
    the asset's whole trail, in chain order)."""
    return [g for g in compute_grants(entries, at) if g.valid_from <= at < g.expires_at and g.remaining > 0]


def compute_usage_by_period(entries: Sequence[TrailEntry], period: Period = "month") -> list[UsagePeriod]:
    """Usage per grant and per ``period`` ("day" or "month", UTC), by grant then period."""
    if period not in ("day", "month"):
        raise AuditInputError(f"usage is counted by day or month, not {period!r}", hint="give day or month")
    pattern = "%Y-%m-%d" if period == "day" else "%Y-%m"
    totals: dict[tuple[int, str], list[int]] = {}
    for e in entries:
        if e.event not in USAGE_EVENTS:
            continue
        key = (int(e.args["grant_id"]), e.time.astimezone(UTC).strftime(pattern))
        row = totals.setdefault(key, [0, 0, 0])
        row[0] += int(e.args["units"])
        row[1] += 1
        row[2] += int(e.args.get("count", 1))
    return [UsagePeriod(grant_id=g, period=p, units=u, records=r, receipts=c)
            for (g, p), (u, r, c) in sorted(totals.items())]


def _utc(timestamp: int) -> datetime:
    return datetime.fromtimestamp(int(timestamp), UTC)
