"""The audit trail: everything that happened to an asset or an account, in chain order.

- :mod:`.entries`: :class:`TrailEntry` (one event: position, time, what, whom, a one-line summary),
  subjects and cursors;
- :mod:`.sources`: the :class:`TrailSource` protocol and :class:`ChainTrailSource` (straight from
  ``eth_getLogs``, no database); :mod:`.db_source` reads the indexer's tables;
- :mod:`.exports`: JSON, CSV and W3C PROV-JSON;
- :mod:`.verify`: the recorded trail against the one recomputed from the logs, and usage sequence gaps;
- :mod:`.encumbrances`: the grants that bind an asset at a moment, usage per grant and period;
- :mod:`.receipts`: usage receipts checked against the trail and against their grant's scope.
"""
from dataseal.registry.audit.encumbrances import (
    Encumbrance,
    UsagePeriod,
    compute_encumbrances,
    compute_grants,
    compute_usage_by_period,
)
from dataseal.registry.audit.entries import (
    AccountSubject,
    AssetSubject,
    Cursor,
    Party,
    Subject,
    TrailEntry,
    compute_entry,
    entry_of_record,
    parse_cursor,
    parse_subject,
)
from dataseal.registry.audit.errors import AuditInputError, ReceiptMismatch, TrailMismatch, UnknownAsset
from dataseal.registry.audit.exports import CSV_COLUMNS, compute_csv, compute_prov
from dataseal.registry.audit.sources import (
    DEFAULT_PAGE,
    ChainTrailSource,
    TrailPage,
    TrailSource,
    collect_trail,
    trail_page,
)
from dataseal.registry.audit.verify import (
    SequenceGap,
    TrailDifferences,
    compute_sequence_gaps,
    compute_trail_differences,
    verify_trail_differences,
)

__all__ = [
    "CSV_COLUMNS",
    "DEFAULT_PAGE",
    "AccountSubject",
    "AssetSubject",
    "AuditInputError",
    "ChainTrailSource",
    "Cursor",
    "Encumbrance",
    "Party",
    "ReceiptMismatch",
    "SequenceGap",
    "Subject",
    "TrailDifferences",
    "TrailEntry",
    "TrailMismatch",
    "TrailPage",
    "TrailSource",
    "UnknownAsset",
    "UsagePeriod",
    "collect_trail",
    "compute_csv",
    "compute_encumbrances",
    "compute_entry",
    "compute_grants",
    "compute_prov",
    "compute_sequence_gaps",
    "compute_trail_differences",
    "compute_usage_by_period",
    "entry_of_record",
    "parse_cursor",
    "parse_subject",
    "trail_page",
    "verify_trail_differences",
]
