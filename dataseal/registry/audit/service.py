"""The audit as a service over a :class:`~dataseal.registry.registry.Registry`: trails read from the registry's
index, brought up to date first, and checked against the chain's logs.

:class:`Audit` is what a front door opens: it runs the indexer once (incremental: only the blocks since the
last run are read) unless told to read the index as it is, then serves from the index
(:class:`~dataseal.registry.audit.db_source.DbTrailSource`) an asset's or an account's trail, page by page or
whole, the grants that bind an asset at a moment and the usage per grant and period; and compares an indexed
trail with the one :func:`chain_source` recomputes from ``eth_getLogs`` (the completeness check). The
comparison covers the blocks the index holds: blocks mined since (or left unconfirmed) are not a difference.

    with Registry(settings) as registry:
        audit = Audit(registry)
        page = audit.page(AssetSubject(7))
        binding = audit.compute_encumbrances(7, datetime.now(UTC))
        differences = audit.compute_differences(AssetSubject(7))

Reading the index as it is (``sync=False``) needs no node: an auditor handed a copy of a registry's database
reads what it recorded, then checks it against any node of the chain.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from eth_utils import keccak
from hexbytes import HexBytes
from web3.exceptions import BlockNotFound

from dataseal.errors import Conflict, NotFound
from dataseal.registry.audit.db_source import DbTrailSource
from dataseal.registry.audit.encumbrances import (
    Encumbrance,
    Period,
    UsagePeriod,
    compute_encumbrances,
    compute_usage_by_period,
)
from dataseal.registry.audit.entries import AssetSubject, Cursor, Subject, TrailEntry
from dataseal.registry.audit.errors import UnknownAsset
from dataseal.registry.audit.sources import DEFAULT_PAGE, ChainTrailSource, TrailPage, collect_trail, trail_page
from dataseal.registry.audit.verify import TrailDifferences, compute_trail_differences
from dataseal.registry.db.models.chain import Checkpoint, IndexerState
from dataseal.registry.db.models.receipts import GrantPurposeRecord
from dataseal.registry.indexer import Indexer, SyncReport
from dataseal.registry.indexer.indexer import ProgressCallback
from dataseal.registry.registry import Registry


class IndexEmpty(NotFound):
    """The registry's index holds nothing yet (no deployment was ever indexed into it)."""


class IndexOfAnotherDeployment(Conflict):
    """The index follows another chain or deployment than the node the audit checks it against."""


@dataclass(frozen=True)
class IndexView:
    """What the index the trails are read from covers: the deployment it follows and the last block it holds;
    ``synced``: the sync this audit ran first (None: the index was read as it was)."""

    chain_id: int
    asset_registry: str
    deploy_block: int
    last_block: int
    database: str
    synced: SyncReport | None

    def to_json(self) -> dict[str, object]:
        return {"chain_id": self.chain_id, "asset_registry": self.asset_registry, "last_block": self.last_block,
                "database": self.database, "synced": self.synced.to_json() if self.synced is not None else None}


def chain_source(registry: Registry) -> ChainTrailSource:
    """Trails recomputed from the logs of the registry's chain (no database)."""
    context = registry.context
    return ChainTrailSource(context.connection.w3, context.deployment(), endpoint=context.connection.endpoint)


def sync_index(registry: Registry, *, progress: ProgressCallback | None = None) -> SyncReport:
    """Bring the registry's index up to the chain's latest block (less the settings' confirmations)."""
    context = registry.context  # the node first: a folder without a chain is refused before a database is made
    deployment = context.deployment()
    indexer = Indexer(registry.db, context.connection.w3, deployment, confirmations=registry.settings.confirmations,
                      endpoint=context.connection.endpoint)
    return indexer.sync(progress=progress)


def read_index_view(registry: Registry, synced: SyncReport | None = None) -> IndexView:
    """What the registry's index covers; :class:`IndexEmpty` when nothing was ever indexed into it."""
    settings = registry.settings
    if settings.database_url is None and not (Path(settings.data_dir) / "registry.sqlite").exists():
        raise IndexEmpty(f"there is no registry database in {settings.data_dir} (registry.sqlite): nothing was "
                         "indexed there", hint="check the data folder, or index the chain into it first",
                         options=("data_dir", "database_url"))
    db = registry.db
    with db.session() as session:
        state = session.get(IndexerState, 1)
        view = None if state is None else IndexView(state.chain_id, state.asset_registry, state.deploy_block,
                                                    state.last_block, db.url, synced)
    if view is None:
        raise IndexEmpty(f"the registry's index at {db.url} is empty: no chain was indexed into it",
                         hint="index the chain first", options=("database_url",))
    return view


class Audit:
    """Trails from the registry's index (synced first unless ``sync`` is False), checked against the chain.

    ``progress(phase, done, total)`` follows the sync (blocks indexed of the blocks to read).
    """

    def __init__(self, registry: Registry, *, sync: bool = True, progress: ProgressCallback | None = None) -> None:
        self.registry = registry
        report = sync_index(registry, progress=progress) if sync else None
        self.index = read_index_view(registry, report)
        self.source = DbTrailSource(registry.db)

    def __repr__(self) -> str:
        return f"Audit(chain {self.index.chain_id} up to block {self.index.last_block}, {self.index.database})"

    # ----------------------------------------------------------------------------- trails

    def page(self, subject: Subject, *, after: Cursor | None = None, limit: int = DEFAULT_PAGE) -> TrailPage:
        """One page of ``subject``'s indexed trail (entries after ``after``)."""
        try:
            return trail_page(self.source, subject, after=after, limit=limit)
        except UnknownAsset as unknown:
            raise self._unknown(subject) from unknown

    def collect(self, subject: Subject) -> list[TrailEntry]:
        """``subject``'s whole indexed trail, in chain order."""
        try:
            return collect_trail(self.source, subject)
        except UnknownAsset as unknown:
            raise self._unknown(subject) from unknown

    def _unknown(self, subject: Subject) -> UnknownAsset:
        index = self.index
        where = f"chain {index.chain_id} (AssetRegistry at {index.asset_registry})"
        if index.synced is not None:
            return UnknownAsset(f"{subject} is not registered on {where}, up to block {index.last_block}",
                                hint="check the asset id, and that this is the chain and deployment it was registered "
                                "on", options=("rpc_url", "data_dir"))
        return UnknownAsset(f"{subject} is not in the registry's index of {where}, which was not brought up to date "
                            f"and ends at block {index.last_block}",
                            hint="check the asset id; if it was registered lately, bring the index up to date first",
                            options=("database_url",))

    # ----------------------------------------------------------------------------- completeness

    def compute_differences(self, subject: Subject) -> TrailDifferences:
        """``subject``'s indexed trail against the one recomputed from ``eth_getLogs`` over the blocks the index
        holds (usage sequence gaps are checked in asset trails, where all of a grant's usage appears)."""
        chain = chain_source(self.registry)
        self._verify_same_deployment(chain)
        recorded = self.collect(subject)
        recomputed = [e for e in collect_trail(chain, subject) if e.block_number <= self.index.last_block]
        return compute_trail_differences(recorded, recomputed, subject=str(subject),
                                         check_sequences=isinstance(subject, AssetSubject))

    def _verify_same_deployment(self, chain: ChainTrailSource) -> None:
        """Refuse to compare an index with a node of another chain: another deployment, or the same addresses on
        another chain (the index's last block is not the node's)."""
        deployment, index = chain.deployment, self.index
        if (deployment.chain_id, deployment.asset_registry) != (index.chain_id, index.asset_registry):
            raise IndexOfAnotherDeployment(
                f"the registry's index follows chain {index.chain_id}'s AssetRegistry at {index.asset_registry}, "
                f"but {chain.endpoint} serves chain {deployment.chain_id}'s at {deployment.asset_registry}: there is "
                "nothing to compare", hint="check it against a node of the chain the index follows",
                options=("rpc_url", "data_dir"))
        with self.registry.db.session() as session:
            checkpoint = session.get(Checkpoint, index.last_block)
            indexed = checkpoint.hash if checkpoint is not None else None
        if indexed is None:
            return
        try:
            block = chain.w3.eth.get_block(index.last_block)
            found = HexBytes(block["hash"]).to_0x_hex()
        except BlockNotFound:
            found = None
        if found != indexed:
            raise IndexOfAnotherDeployment(
                f"the registry's index holds block {index.last_block} of chain {index.chain_id} with hash {indexed}, "
                f"but {chain.endpoint} " + (f"has {found} there" if found else "has no such block") + ": the node "
                "is on another chain with the same id, or the chain reorganised since it was indexed",
                hint="bring the index up to date, or check it against a node of the chain the index follows",
                options=("rpc_url", "data_dir"))

    # ----------------------------------------------------------------------------- accounting

    def compute_encumbrances(self, asset_id: int, at: datetime) -> list[Encumbrance]:
        """The grants that bind ``asset_id`` at ``at`` (an aware time): not revoked, in their window, with quota
        left, from its indexed trail up to ``at``."""
        return compute_encumbrances(self.collect(AssetSubject(asset_id)), at)

    def compute_encumbrances_now(self, asset_id: int, now: datetime) -> tuple[datetime, list[Encumbrance]]:
        """The grants that bind ``asset_id`` now, and the moment asked about: ``now`` (the next block's time when
        the node is asked, this machine's clock otherwise), or the time of the trail's last event when that is
        later (a node that makes blocks faster than one a second, such as hardhat, stamps them in the future; a
        grant made a moment ago would otherwise not have started yet)."""
        trail = self.collect(AssetSubject(asset_id))
        moment = max([now, *(entry.time for entry in trail[-1:])])
        return moment, compute_encumbrances(trail, moment)

    def get_purpose_text(self, purpose_hash: str) -> str | None:
        """The text of a grant's purpose (``purpose_hash``: 0x-hex keccak256 of its UTF-8), when this registry recorded
        it (a recorded text that does not hash to it is not returned)."""
        with self.registry.db.session() as session:
            row = session.get(GrantPurposeRecord, purpose_hash.lower())
            text = row.text if row is not None else None
        return text if text is not None and "0x" + keccak(text=text).hex() == purpose_hash.lower() else None

    def compute_usage(self, subject: Subject, period: Period = "month") -> list[UsagePeriod]:
        """Usage in ``subject``'s indexed trail per grant and per day or month (UTC)."""
        return compute_usage_by_period(self.collect(subject), period)


# ---------------------------------------------------------------------------------- one-call helpers


def trail_source(registry: Registry) -> DbTrailSource:
    """The registry's index brought up to date, as a trail source."""
    return Audit(registry).source


def audit_page(registry: Registry, subject: Subject, *, after: Cursor | None = None,
               limit: int = DEFAULT_PAGE) -> TrailPage:
    """One page of ``subject``'s trail from the index, brought up to date first."""
    return Audit(registry).page(subject, after=after, limit=limit)


def compute_audit_differences(registry: Registry, subject: Subject) -> TrailDifferences:
    """``subject``'s trail in the index (brought up to date first) against the one recomputed from the logs."""
    return Audit(registry).compute_differences(subject)
