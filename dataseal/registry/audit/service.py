"""The audit as a service over a :class:`~dataseal.registry.registry.Registry`: where trails are read from,
and the completeness check against the chain's logs.

:func:`trail_source` is the one place that chooses the source the front doors read: the chain's logs
for now; the registry's index (:class:`~dataseal.registry.audit.db_source.DbTrailSource`) once the
indexer fills it. :func:`chain_source` is always the chain: what the check compares against.
"""
from __future__ import annotations

from dataseal.registry.audit.entries import AssetSubject, Cursor, Subject
from dataseal.registry.audit.sources import (
    DEFAULT_PAGE,
    ChainTrailSource,
    TrailPage,
    TrailSource,
    collect_trail,
    trail_page,
)
from dataseal.registry.audit.verify import TrailDifferences, compute_trail_differences
from dataseal.registry.registry import Registry


def chain_source(registry: Registry) -> ChainTrailSource:
    """Trails recomputed from the logs of the registry's chain (no database)."""
    context = registry.context
    return ChainTrailSource(context.connection.w3, context.deployment(), endpoint=context.connection.endpoint)


def trail_source(registry: Registry) -> TrailSource:
    """The source the front doors read trails from."""
    return chain_source(registry)


def audit_page(registry: Registry, subject: Subject, *, after: Cursor | None = None,
               limit: int = DEFAULT_PAGE) -> TrailPage:
    """One page of ``subject``'s trail from :func:`trail_source`."""
    return trail_page(trail_source(registry), subject, after=after, limit=limit)


def compute_audit_differences(registry: Registry, subject: Subject) -> TrailDifferences:
    """``subject``'s whole trail from :func:`trail_source` against the one recomputed from ``eth_getLogs``
    (usage sequence gaps are checked in asset trails, where all of a grant's usage appears)."""
    recorded = collect_trail(trail_source(registry), subject)
    recomputed = collect_trail(chain_source(registry), subject)
    return compute_trail_differences(recorded, recomputed, subject=str(subject),
                                     check_sequences=isinstance(subject, AssetSubject))
