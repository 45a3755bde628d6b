"""Where a trail comes from: the :class:`TrailSource` protocol, and :class:`ChainTrailSource`, which reads it
straight from the chain's logs (no database: what an auditor recomputes to check the registry's index).

What belongs to a trail:

- an asset's: every event naming the asset (registration, status changes — notice, objections, review,
  cancellation, suspension —, renewals, transfers and approvals, grants, revocations, trades, reservations
  of its root), the registrations of its versions and derived assets (``AssetRegistered`` whose parent is
  the asset), and the usage recorded under its grants (usage names the grant, not the asset);
- an account's: every event naming the address, in any role.

Pages are in chain order and hold the entries strictly after a :class:`Cursor`; a page that is not the
last gives the cursor of its last entry as ``next_cursor``.
"""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from hexbytes import HexBytes
from web3 import Web3

from dataseal.chain.contracts.deployment import Deployment
from dataseal.chain.contracts.logs import LogReader
from dataseal.chain.contracts.records import GrantRecord, Record, UsageBatchRecord, UsageRecord
from dataseal.chain.errors import ChainError
from dataseal.errors import ErrorKind
from dataseal.registry.audit.entries import (
    AccountSubject,
    AssetSubject,
    Cursor,
    Subject,
    TrailEntry,
    entry_of_record,
)
from dataseal.registry.audit.errors import AuditInputError, UnknownAsset

DEFAULT_PAGE = 1000
MAX_PAGE = 100_000


@dataclass(frozen=True)
class TrailPage:
    """Entries of a trail after a cursor, and where the next page starts (None: this was the last)."""

    subject: Subject
    entries: tuple[TrailEntry, ...]
    next_cursor: Cursor | None

    def to_json_data(self) -> dict[str, object]:
        subject: dict[str, object] = (
            {"asset_id": self.subject.asset_id} if isinstance(self.subject, AssetSubject)
            else {"address": self.subject.address}
        )
        return {"subject": subject, "entries": [e.to_json_data() for e in self.entries],
                "next": str(self.next_cursor) if self.next_cursor is not None else None}


class TrailSource(Protocol):
    """Something that serves trails page by page (the chain's logs, or the registry's index)."""

    def asset_trail(self, asset_id: int, *, after: Cursor | None = None, limit: int = DEFAULT_PAGE) -> TrailPage:
        """The trail of an asset; :class:`UnknownAsset` if it was never registered."""
        ...

    def account_trail(self, address: str, *, after: Cursor | None = None, limit: int = DEFAULT_PAGE) -> TrailPage:
        """The trail of an account (empty if no event names it)."""
        ...


def trail_page(source: TrailSource, subject: Subject, *, after: Cursor | None = None,
               limit: int = DEFAULT_PAGE) -> TrailPage:
    """One page of ``subject``'s trail from ``source``."""
    if isinstance(subject, AssetSubject):
        return source.asset_trail(subject.asset_id, after=after, limit=limit)
    return source.account_trail(subject.address, after=after, limit=limit)


def collect_trail(source: TrailSource, subject: Subject, *, after: Cursor | None = None,
                  page: int = DEFAULT_PAGE) -> list[TrailEntry]:
    """The whole trail of ``subject`` (after ``after``), read page by page."""
    entries: list[TrailEntry] = []
    cursor = after
    while True:
        found = trail_page(source, subject, after=cursor, limit=page)
        entries.extend(found.entries)
        if found.next_cursor is None:
            return entries
        cursor = found.next_cursor


def check_limit(limit: int) -> None:
    if not 1 <= limit <= MAX_PAGE:
        raise AuditInputError(f"a trail page holds 1 to {MAX_PAGE:,} entries, not {limit}",
                              hint=f"ask for at most {MAX_PAGE:,} entries a page and follow the next cursor",
                              options=("limit",))


def belongs_to_asset(entry: TrailEntry, asset_id: int) -> bool:
    """Whether ``entry`` is part of asset ``asset_id``'s trail (see the module documentation)."""
    if entry.asset_id == asset_id:
        return True
    return entry.event == "AssetRegistered" and entry.args.get("parent_id") == asset_id


def belongs_to_account(entry: TrailEntry, address: str) -> bool:
    """Whether ``entry`` is part of the account's trail: it names the address."""
    return entry.names(address)


class ChainTrailSource:
    """Trails recomputed from ``eth_getLogs`` over the deployment's contracts, from its deploy block.

    Each request reads the logs from the deploy block up to the chain's head at that moment (usage is tied
    to its asset through the grant, so the grants before the cursor must be seen too) and stops once the
    page is full. Block times come from the headers of the blocks that have entries (one request per block,
    cached); a header whose hash is not the log's means the chain reorganised during the read.
    """

    def __init__(self, w3: Web3, deployment: Deployment, *, reader: LogReader | None = None,
                 endpoint: str = "the node") -> None:
        self.w3 = w3
        self.deployment = deployment
        self.reader = reader or LogReader(w3, endpoint=endpoint)
        self.endpoint = endpoint
        self._times: dict[int, tuple[str, datetime]] = {}

    # ----------------------------------------------------------------------------- TrailSource

    def asset_trail(self, asset_id: int, *, after: Cursor | None = None, limit: int = DEFAULT_PAGE) -> TrailPage:
        check_limit(limit)
        subject = AssetSubject(asset_id)
        kept: list[TrailEntry] = []
        for entry in self._entries(lambda e: belongs_to_asset(e, asset_id), after=after):
            kept.append(entry)
            if len(kept) > limit:
                break
        if not kept and after is None:  # its registration would be the first entry
            raise UnknownAsset(
                f"asset {asset_id} is not registered on chain {self.deployment.chain_id} (AssetRegistry at "
                f"{self.deployment.asset_registry})", hint="check the asset id, and that this is the chain and "
                "deployment it was registered on", options=("rpc_url", "data_dir"))
        return _page(subject, kept, limit)

    def account_trail(self, address: str, *, after: Cursor | None = None, limit: int = DEFAULT_PAGE) -> TrailPage:
        check_limit(limit)
        kept: list[TrailEntry] = []
        for entry in self._entries(lambda e: belongs_to_account(e, address), after=after):
            kept.append(entry)
            if len(kept) > limit:
                break
        return _page(AccountSubject(address), kept, limit)

    # ----------------------------------------------------------------------------- reading

    def entries(self) -> Iterator[TrailEntry]:
        """Every event of the deployment as a trail entry, in chain order."""
        return self._entries(lambda e: True, after=None)

    def _entries(self, keep: _Keep, *, after: Cursor | None) -> Iterator[TrailEntry]:
        grant_assets: dict[int, int] = {}
        head = self.reader.latest_block()
        for record in self.reader.records(self.deployment, to_block=head):
            if isinstance(record, GrantRecord):
                grant_assets[record.grant_id] = record.asset_id
            tx = record.tx
            if after is not None and (tx.block_number, tx.log_index) <= after:
                continue
            asset_id = grant_assets.get(record.grant_id) if isinstance(record, (UsageRecord, UsageBatchRecord)) \
                else None
            probe = entry_of_record(record, _EPOCH, asset_id=asset_id)  # relevance needs no time
            if keep(probe):
                yield probe.replaced(time=self._block_time(record))

    def _block_time(self, record: Record) -> datetime:
        tx = record.tx
        cached = self._times.get(tx.block_number)
        if cached is None:
            try:
                block = self.w3.eth.get_block(tx.block_number)
            except Exception as exc:
                raise ChainError(f"reading block {tx.block_number} at {self.endpoint} failed: {exc}",
                                 hint="check that the node answers, then run again", options=("rpc_url",),
                                 kind=ErrorKind.UNAVAILABLE) from exc
            cached = (HexBytes(block["hash"]).to_0x_hex(), datetime.fromtimestamp(int(block["timestamp"]), UTC))
            self._times[tx.block_number] = cached
        block_hash, time = cached
        if block_hash != tx.block_hash:
            self._times.pop(tx.block_number, None)
            raise ChainError(
                f"block {tx.block_number} changed while the trail was read (its log said {tx.block_hash}, its header "
                f"now says {block_hash}): the chain reorganised", hint="run again once the chain has settled",
                kind=ErrorKind.UNAVAILABLE)
        return time


class _Keep(Protocol):
    def __call__(self, entry: TrailEntry) -> bool: ...


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _page(subject: Subject, kept: list[TrailEntry], limit: int) -> TrailPage:
    if len(kept) > limit:
        page = kept[:limit]
        return TrailPage(subject, tuple(page), page[-1].cursor)
    return TrailPage(subject, tuple(kept), None)
