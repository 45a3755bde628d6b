"""The indexer: follows a deployment's events into the registry database.

It reads ``eth_getLogs`` in pages (:class:`~dataseal.chain.contracts.logs.LogReader`), decodes each log
(:class:`~dataseal.chain.contracts.events.EventDecoder`) and writes each page in one database transaction:
the raw logs, one :class:`~dataseal.registry.db.models.chain.ChainEvent` per log (keyed by transaction hash
and log index) with the accounts it names, the projections, the checkpoints, and the last block indexed.
A restart resumes after that block: no gap, no duplicate.

Reorganisations (the pattern of Ponder and SQD): the indexer keeps a checkpoint (number, hash, parent hash,
time) of every block of the unconfirmed window near the tip (:attr:`Indexer.reorg_window` blocks), of every
block with events, and of the last block of each page. Before reading on, it compares the node's hash of the
last block indexed with its checkpoint, and each new block's parent hash with the block before it; on a
difference it walks back through its checkpoints to the newest block the node still has (the common
ancestor), deletes every row above it in one transaction, rebuilds the projections of the assets and grants
those rows touched from the events that remain, and indexes the new blocks. A reorganisation deeper than
the window raises :class:`ReorgTooDeep` (The Graph bounds it at 250 blocks as well).

Old blocks are not fetched one by one: headers are read only for the window, the page ends, and the blocks
with events whose logs carry no ``blockTimestamp`` (hardhat's do not; anvil's and the embedded chain's do),
in JSON-RPC batches.
"""
from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Table, and_, delete, func, insert, or_, select, text
from sqlmodel import Session
from web3 import Web3

from dataseal.chain.contracts.deployment import Deployment
from dataseal.chain.contracts.events import EventDecoder, as_hex, as_int
from dataseal.chain.contracts.logs import LogReader
from dataseal.chain.contracts.records import Record
from dataseal.chain.errors import ChainError
from dataseal.errors import ConfigError, Conflict
from dataseal.registry.db import Database
from dataseal.registry.db.models.chain import (
    CHAIN_TABLES,
    AssetRow,
    BatchRow,
    ChainEvent,
    Checkpoint,
    EventAccount,
    GrantRow,
    IndexerState,
    RawLog,
    TradeRow,
    UsageRow,
    table_of,
)
from dataseal.registry.indexer.blocks import BlockHeader, BlockReader
from dataseal.registry.indexer.projection import (
    ASSET_EVENTS,
    GRANT_EVENTS,
    Projector,
    event_ids,
    event_names,
    named_accounts,
    record_args,
    utc,
)

#: How deep a reorganisation the indexer repairs (The Graph's bound; Envio's is 200).
DEFAULT_REORG_WINDOW = 250
DEFAULT_PAGE_BLOCKS = 2000
#: Events one sync writes after which PostgreSQL's statistics of the chain tables are refreshed (see
#: :meth:`Indexer._analyze`).
ANALYZE_AFTER_EVENTS = 10_000
#: How many times one sync re-reads after finding the chain changed under it before giving up.
MAX_REORGS_PER_SYNC = 20
REBUILD_HINT = "empty the index and index the chain again from the deployment block (the chain is the source of truth)"

#: ``progress(phase, done, total)``: blocks indexed of the blocks this sync reads.
ProgressCallback = Callable[[str, int, int | None], None]

ASSETS, BATCHES, CHECKPOINTS = table_of(AssetRow), table_of(BatchRow), table_of(Checkpoint)
ACCOUNTS, EVENTS, GRANTS = table_of(EventAccount), table_of(ChainEvent), table_of(GrantRow)
RAW_LOGS, TRADES, USAGE = table_of(RawLog), table_of(TradeRow), table_of(UsageRow)


class ReorgTooDeep(Conflict):
    """The node no longer has blocks the index holds, and no common ancestor within the reorg window."""


class IndexerStateError(Conflict):
    """The index's state does not match what this indexer expects (another indexer writing the database)."""


@dataclass(frozen=True)
class SyncReport:
    """What one :meth:`Indexer.sync` did.

    ``from_block``..``to_block``: the blocks read (``blocks`` of them; none when the index was up to date);
    ``events``: events indexed; ``reorgs``: reorganisations repaired, ``dropped_blocks``: blocks rolled back
    for them; ``tip``: the node's latest block, ``lag``: blocks between it and the last block indexed (at
    least the confirmations); ``started_over``: why the index was emptied first (another deployment), or None.
    """

    chain_id: int
    from_block: int
    to_block: int
    blocks: int
    events: int
    reorgs: int
    dropped_blocks: int
    tip: int
    lag: int
    started_over: str | None = None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class _Page:
    """What one page read off the chain: its logs, and the headers fetched for it."""

    start: int
    end: int
    logs: list[Any]
    headers: dict[int, BlockHeader]


class _ChainMoved(Exception):
    """The chain changed while a page was read (internal: the page is read again)."""

    def __init__(self, below: int) -> None:
        super().__init__(below)
        self.below = below  # the block from which the index's checkpoints must be checked again


def _now() -> datetime:
    return datetime.now(UTC)


class Indexer:
    """Indexes ``deployment``'s events from node ``w3`` into ``db``.

    ``confirmations``: blocks to leave unindexed behind the node's latest (0 on the embedded chain, whose
    blocks are final); ``page_blocks``: blocks per ``eth_getLogs`` page and database transaction (smaller
    when the node refuses a page); ``reorg_window``: the deepest reorganisation repaired; ``endpoint`` names
    the node in messages; ``clock`` gives the time of :attr:`IndexerState.updated_at`.
    """

    def __init__(
        self,
        db: Database,
        w3: Web3,
        deployment: Deployment,
        *,
        confirmations: int = 0,
        page_blocks: int = DEFAULT_PAGE_BLOCKS,
        reorg_window: int = DEFAULT_REORG_WINDOW,
        endpoint: str = "the node",
        clock: Callable[[], datetime] = _now,
    ) -> None:
        for name, value, low in (("confirmations", confirmations, 0), ("page_blocks", page_blocks, 1),
                                 ("reorg_window", reorg_window, 1)):
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                raise ConfigError(f"the indexer's {name.replace('_', ' ')} must be a whole number of at least {low}, "
                                  f"got {value!r}", hint=f"give {name.replace('_', ' ')} as a number from {low} up",
                                  options=(name,) if name == "confirmations" else ())
        self.db = db
        self.w3 = w3
        self.deployment = deployment
        self.confirmations = confirmations
        self.reorg_window = reorg_window
        self.endpoint = endpoint
        self.clock = clock
        reader = _plain_reader(w3)
        self.logs = LogReader(reader, page_blocks=page_blocks, endpoint=endpoint, raw=True)
        self.blocks = BlockReader(reader, endpoint=endpoint)
        self.decoder = EventDecoder(deployment)
        self._contracts = {address.lower(): name for name, address in deployment.addresses().items()}
        self._checksummed = deployment.addresses()
        self._addresses = list(self._checksummed.values())
        self._grant_assets: dict[int, int] = {}

    def __repr__(self) -> str:
        return f"Indexer(chain {self.deployment.chain_id}, AssetRegistry {self.deployment.asset_registry})"

    # ----------------------------------------------------------------------------- public

    def sync(self, to_block: int | None = None, progress: ProgressCallback | None = None) -> SyncReport:
        """Index up to ``to_block`` (default: the node's latest block less the confirmations) and report."""
        tip = self.logs.latest_block()
        target = tip - self.confirmations if to_block is None else min(int(to_block), tip - self.confirmations)
        started_over = self._open_state()
        reorgs = dropped = events = blocks = 0
        first = self.last_block() + 1
        depth = self._check_last_block()
        if depth is not None:
            reorgs, dropped = 1, depth
            first = self.last_block() + 1
        total = max(0, target - first + 1)
        if progress is not None:
            progress("index", 0, total)
        while True:
            start = self.last_block() + 1
            if start > target:
                break
            end = min(start + self.logs.page_blocks - 1, target)
            try:
                page = self._read(start, end, tip)
            except _ChainMoved as moved:
                reorgs += 1
                if reorgs > MAX_REORGS_PER_SYNC:
                    raise ChainError(f"the chain at {self.endpoint} kept reorganising while blocks {start}..{end} "
                                     f"were read ({reorgs} times in one sync)", hint="try again later") from None
                dropped += self._repair_from(moved.below)
                continue
            events += self._write(page)
            blocks += page.end - page.start + 1
            if progress is not None:
                progress("index", min(total, max(0, page.end - first + 1)), total)
        self._prune_checkpoints(tip)
        if events >= ANALYZE_AFTER_EVENTS:
            self._analyze()
        last = self.last_block()
        return SyncReport(self.deployment.chain_id, first, last, blocks, events, reorgs, dropped, tip,
                          max(0, tip - last), started_over)

    def follow(
        self,
        stop: threading.Event,
        poll_interval: float = 1.0,
        *,
        progress: ProgressCallback | None = None,
        on_sync: Callable[[SyncReport], None] | None = None,
    ) -> None:
        """Sync, then again every ``poll_interval`` seconds, until ``stop`` is set; ``on_sync`` gets each report
        (it may set ``stop`` itself)."""
        if poll_interval < 0:
            raise ConfigError(f"the poll interval must be 0 s or more, got {poll_interval!r}",
                              hint="give a number of seconds", options=("poll_interval",))
        while not stop.is_set():
            report = self.sync(progress=progress)
            if on_sync is not None:
                on_sync(report)
            stop.wait(poll_interval)

    def last_block(self) -> int:
        """The last block indexed (the deployment block less one before the first page)."""
        with self.db.session() as session:
            state = session.get(IndexerState, 1)
            return self.deployment.deploy_block - 1 if state is None else state.last_block

    def clear(self) -> int:
        """Empty every chain table (the next sync indexes from the deployment block); returns the events dropped."""
        with self.db.session() as session:
            count = _count_events(session)
            _clear(session)
        self._grant_assets.clear()
        return count

    # ----------------------------------------------------------------------------- state

    def _open_state(self) -> str | None:
        """Create the state row, or start over when it belongs to another deployment (and say why)."""
        d = self.deployment
        with self.db.session() as session:
            state = session.get(IndexerState, 1)
            if state is not None and _same_deployment(state, d):
                return None
            reason = None
            if state is not None:
                count = _count_events(session)
                reason = (f"the index held chain {state.chain_id}'s deployment with AssetRegistry "
                          f"{state.asset_registry} (from block {state.deploy_block}); it now follows chain "
                          f"{d.chain_id}'s with AssetRegistry {d.asset_registry} (from block {d.deploy_block}): "
                          f"its {count} events were dropped and indexing starts over")
                _clear(session)
                session.expunge(state)
            session.add(IndexerState(
                id=1, chain_id=d.chain_id, asset_registry=d.asset_registry, grant_registry=d.grant_registry,
                transaction_ledger=d.transaction_ledger, deploy_block=d.deploy_block, last_block=d.deploy_block - 1,
                updated_at=self.clock(),
            ))
        self._grant_assets.clear()
        return reason

    # ----------------------------------------------------------------------------- reading

    def _check_last_block(self) -> int | None:
        """Compare the node's hash of the last block indexed with the checkpoint; on a difference repair and
        return the blocks dropped (None when they agree)."""
        last = self.last_block()
        if last < self.deployment.deploy_block:
            return None
        with self.db.session() as session:
            checkpoint = session.get(Checkpoint, last)
        if checkpoint is None:
            return None
        header = self.blocks.header(last)
        if header is not None and header.hash == checkpoint.hash:
            return None
        return self._repair_from(last)

    def _read(self, start: int, end: int, tip: int) -> _Page:
        """Read blocks ``start..end``; raises :class:`_ChainMoved` when they do not follow the index's last block
        or changed while read."""
        logs: list[Any] = list(self.logs.logs(self._addresses, start, end))
        window_start = max(start, tip - self.reorg_window + 1)
        wanted = set(range(window_start, end + 1)) if window_start <= end else set()
        wanted.add(end)
        times: dict[int, tuple[int, str]] = {}  # block -> (time, hash) from its logs, where they carry the time
        for log in logs:
            number = as_int(log["blockNumber"])
            stamp = log.get("blockTimestamp")
            if stamp is None:
                wanted.add(number)
            elif number not in times:
                times[number] = (as_int(stamp), as_hex(log["blockHash"]))
        headers = self.blocks.headers(wanted)
        if end not in headers or any(n not in headers for n in wanted if n >= window_start):
            raise _ChainMoved(start - 1)  # the node's chain got shorter while it was read
        for log in logs:
            number = as_int(log["blockNumber"])
            header = headers.get(number)
            if header is not None and header.hash != as_hex(log["blockHash"]):
                raise _ChainMoved(start - 1)
            if header is None and number not in times:
                raise _ChainMoved(start - 1)
        if window_start <= end:  # each block's parent is the block before (the first: the index's last block)
            expected = self._stored_hash(start - 1) if window_start == start else None
            for number in range(window_start, end + 1):
                if expected is not None and headers[number].parent_hash != expected:
                    raise _ChainMoved(start - 1)
                expected = headers[number].hash
        for number, (stamp, block_hash) in times.items():  # blocks known from their logs only: no parent hash
            if number not in headers:
                headers[number] = BlockHeader(number, block_hash, "", stamp)
        return _Page(start, end, logs, headers)

    def _stored_hash(self, number: int) -> str | None:
        with self.db.session() as session:
            checkpoint = session.get(Checkpoint, number)
            return None if checkpoint is None else checkpoint.hash

    # ----------------------------------------------------------------------------- writing

    def _write(self, page: _Page) -> int:
        """Write one page in one transaction; returns the events written."""
        names = event_names()
        with self.db.session() as session:
            state = _locked_state(session)
            if state.last_block != page.start - 1:
                raise IndexerStateError(
                    f"the index's last block changed to {state.last_block} while this indexer read blocks "
                    f"{page.start}..{page.end} after block {page.start - 1}",
                    hint="run one indexer per database; this one can simply be started again")
            raw_rows: list[dict[str, Any]] = []
            event_rows: list[dict[str, Any]] = []
            accounts: list[list[tuple[str, str]]] = []
            projector = Projector(session, self._grant_assets)
            block_times: dict[int, datetime] = {}
            decode = self.decoder.decode_log
            for log in page.logs:
                record = decode(log)
                if record is None:
                    continue
                tx = record.tx
                topics = [_hex_text(t) for t in log["topics"]]
                contract = self._contracts[str(log["address"]).lower()]
                block_time = block_times.get(tx.block_number)
                if block_time is None:
                    block_time = block_times[tx.block_number] = utc(page.headers[tx.block_number].timestamp)
                raw_rows.append({"tx_hash": tx.tx_hash, "log_index": tx.log_index, "block_number": tx.block_number,
                                 "block_hash": tx.block_hash, "address": self._checksummed[contract],
                                 "topics": topics, "data": _hex_text(log["data"])})
                args = record_args(record)
                event_rows.append(self._event_row(record, args, contract, names[(contract, topics[0])], block_time,
                                                  projector))
                accounts.append(named_accounts(args))
                projector.apply(record, block_time)
            if raw_rows:
                insert_rows(session, RAW_LOGS, raw_rows)  # (first: on SQLite this takes the write lock)
                ids = _next_event_ids(session, len(event_rows))
                if ids is None:
                    ids = list(session.execute(
                        insert(EVENTS).returning(EVENTS.c.id, sort_by_parameter_order=True), event_rows
                    ).scalars())
                else:
                    for event_id, row in zip(ids, event_rows, strict=True):
                        row["id"] = event_id
                    insert_rows(session, EVENTS, event_rows)
                account_rows = [
                    {"event_id": event_id, "role": role, "address": address, "block_number": row["block_number"],
                     "log_index": row["log_index"]}
                    for event_id, row, named in zip(ids, event_rows, accounts, strict=True) for role, address in named
                ]
                insert_rows(session, ACCOUNTS, account_rows)
            projector.finish()
            session.flush()  # the projector's assets and grants
            insert_rows(session, USAGE, projector.usage)
            insert_rows(session, TRADES, projector.trades)
            insert_rows(session, BATCHES, projector.batches)
            number = CHECKPOINTS.c.number  # (none above the last block indexed: a rollback deletes them)
            session.execute(delete(CHECKPOINTS).where(number >= page.start, number <= page.end))
            insert_rows(session, CHECKPOINTS, [
                {"number": n, "hash": header.hash, "parent_hash": header.parent_hash or None,
                 "timestamp": header.timestamp} for n, header in sorted(page.headers.items())
            ])
            state.last_block = page.end
            state.updated_at = self.clock()
        return len(event_rows)

    def _event_row(self, record: Record, args: dict[str, Any], contract: str, event: str, block_time: datetime,
                   projector: Projector) -> dict[str, Any]:
        asset_id, grant_id, trade_id = event_ids(record)
        if asset_id is None and grant_id is not None:
            asset_id = projector.asset_of_grant(grant_id)
        tx = record.tx
        return {"block_number": tx.block_number, "log_index": tx.log_index, "tx_hash": tx.tx_hash,
                "block_hash": tx.block_hash, "block_time": block_time, "contract": contract, "event": event,
                "asset_id": asset_id, "grant_id": grant_id, "trade_id": trade_id, "args": args}

    # ----------------------------------------------------------------------------- reorganisations

    def _repair_from(self, suspect: int) -> int:
        """Find the newest checkpoint at or below ``suspect`` that the node still has, roll back to it and return
        the blocks dropped; :class:`ReorgTooDeep` when there is none within the window."""
        last = self.last_block()
        suspect = min(suspect, last)
        floor = suspect - self.reorg_window
        number_col = CHECKPOINTS.c.number
        with self.db.session() as session:
            checkpoints = [(int(row[0]), str(row[1])) for row in session.execute(
                select(number_col, CHECKPOINTS.c.hash)
                .where(number_col >= max(floor, 0), number_col <= suspect)
                .order_by(number_col.desc())
            )]
        node = self.blocks.headers(number for number, _ in checkpoints)
        ancestor = next((number for number, stored in checkpoints
                         if number in node and node[number].hash == stored), None)
        if ancestor is None:
            if floor > self.deployment.deploy_block - 1:
                stored = checkpoints[0][1] if checkpoints else "no checkpoint"
                raise ReorgTooDeep(
                    f"the chain at {self.endpoint} reorganised deeper than {self.reorg_window} blocks: no block the "
                    f"index holds from block {floor + 1} to {suspect} is on it any more (the newest: "
                    f"{stored} in the index)", hint=REBUILD_HINT, options=("rebuild",))
            ancestor = self.deployment.deploy_block - 1
        self._rollback(ancestor)
        return last - ancestor

    def _rollback(self, ancestor: int) -> None:
        """Delete every row above block ``ancestor`` and rebuild the projections they touched, in one transaction."""
        with self.db.session() as session:
            state = _locked_state(session)
            rollback_to(session, ancestor)
            state.last_block = ancestor
            state.updated_at = self.clock()
        self._grant_assets.clear()

    def _analyze(self) -> None:
        """Refresh PostgreSQL's statistics of the tables a large sync filled (``ANALYZE``, as after any bulk load):
        until autovacuum comes by, the planner would take an asset with 100,000 usage events for one with a few
        hundred, and read all of them and sort them to serve the first page of its trail (50 ms instead of 5)."""
        if self.db.dialect != "postgresql":
            return
        with self.db.session() as session:
            session.execute(text("ANALYZE " + ", ".join(table.name for table in (EVENTS, ACCOUNTS, RAW_LOGS, USAGE))))

    def _prune_checkpoints(self, tip: int) -> None:
        """Drop the checkpoints below the window that neither carry events nor mark the last block indexed."""
        floor = tip - self.reorg_window
        number = CHECKPOINTS.c.number
        with self.db.session() as session:
            state = session.get(IndexerState, 1)
            keep = -1 if state is None else state.last_block
            with_events = select(RAW_LOGS.c.block_number).distinct()
            session.execute(delete(CHECKPOINTS).where(number < floor, number != keep, number.not_in(with_events)))


def rollback_to(session: Session, ancestor: int) -> None:
    """Delete the chain rows above block ``ancestor`` and rebuild the asset and grant rows they touched from the
    events that remain (the caller's transaction; the indexer state is the caller's to move)."""
    above = EVENTS.c.block_number > ancestor
    assets: set[int] = set(session.execute(
        select(EVENTS.c.asset_id).where(above, EVENTS.c.asset_id.is_not(None)).distinct()).scalars())
    grants: set[int] = set(session.execute(
        select(EVENTS.c.grant_id).where(above, EVENTS.c.grant_id.is_not(None)).distinct()).scalars())
    session.execute(delete(ACCOUNTS).where(ACCOUNTS.c.block_number > ancestor))
    session.execute(delete(EVENTS).where(above))
    for table in (RAW_LOGS, USAGE, TRADES, BATCHES):
        session.execute(delete(table).where(table.c.block_number > ancestor))
    session.execute(delete(CHECKPOINTS).where(CHECKPOINTS.c.number > ancestor))
    if assets:
        session.execute(delete(ASSETS).where(ASSETS.c.asset_id.in_(assets)))
    if grants:
        session.execute(delete(GRANTS).where(GRANTS.c.grant_id.in_(grants)))
    if assets or grants:
        _replay(session, assets, grants)


def _replay(session: Session, assets: set[int], grants: set[int]) -> None:
    """Rebuild the rows of ``assets`` and ``grants`` from their events in the index (usage: from its rows)."""
    state = session.get(IndexerState, 1)
    if state is None:
        return
    condition = or_(
        and_(EVENTS.c.asset_id.in_(assets), EVENTS.c.event.in_(ASSET_EVENTS)),
        and_(EVENTS.c.grant_id.in_(grants), EVENTS.c.event.in_(GRANT_EVENTS)),
    )
    rows = session.execute(
        select(RAW_LOGS.c.address, RAW_LOGS.c.topics, RAW_LOGS.c.data, RAW_LOGS.c.tx_hash, RAW_LOGS.c.log_index,
               RAW_LOGS.c.block_number, RAW_LOGS.c.block_hash, EVENTS.c.block_time)
        .join(EVENTS, and_(EVENTS.c.tx_hash == RAW_LOGS.c.tx_hash, EVENTS.c.log_index == RAW_LOGS.c.log_index))
        .where(condition)
        .order_by(EVENTS.c.block_number, EVENTS.c.log_index)
    ).all()
    decoder = EventDecoder({"AssetRegistry": state.asset_registry, "GrantRegistry": state.grant_registry,
                            "TransactionLedger": state.transaction_ledger})
    projector = Projector(session, {})
    for row in rows:
        raw: Any = row
        record = decoder.decode_log({"address": raw.address, "topics": raw.topics, "data": raw.data,
                                     "transactionHash": raw.tx_hash, "logIndex": raw.log_index,
                                     "blockNumber": raw.block_number, "blockHash": raw.block_hash})
        if record is not None:
            projector.apply(record, raw.block_time)
    projector.finish()
    session.flush()
    for grant_id in grants:
        grant = session.get(GrantRow, grant_id)
        if grant is None:
            continue
        usage = session.execute(select(USAGE.c.units, USAGE.c.sequence).where(USAGE.c.grant_id == grant_id)).all()
        grant.used = sum(int(row[0]) for row in usage)
        grant.sequence = max((int(row[1]) for row in usage), default=0)


def _plain_reader(w3: Web3) -> Web3:
    """A Web3 on ``w3``'s provider that hands out logs as plain dicts: web3's AttributeDict conversion (and ENS
    name resolution, which reads do not need) cost as much as decoding the logs does."""
    reader = Web3(w3.provider)
    for name in ("attrdict", "ens_name_to_address"):
        try:
            reader.middleware_onion.remove(name)
        except ValueError:  # (not there)
            pass
    return reader


def insert_rows(session: Session, table: Table, rows: list[dict[str, Any]]) -> None:
    """Insert ``rows`` (dicts of the same keys) into ``table`` in the session's transaction.

    On PostgreSQL through psycopg, one ``COPY … FROM STDIN`` stream (the values bound as SQLAlchemy binds them:
    each column type's bind processor): an ``executemany`` there is a statement per row, which took most of a
    page's writing time. Elsewhere one ``executemany``.
    """
    if not rows:
        return
    connection = session.connection()
    dialect = connection.dialect
    if dialect.name != "postgresql" or dialect.driver != "psycopg":
        session.execute(insert(table), rows)
        return
    keys = list(rows[0])
    bind = [(key, table.c[key].type.dialect_impl(dialect).bind_processor(dialect)) for key in keys]
    copy_sql = "COPY {} ({}) FROM STDIN".format(
        dialect.identifier_preparer.format_table(table),
        ", ".join(dialect.identifier_preparer.format_column(table.c[key]) for key in keys))
    driver: Any = connection.connection.driver_connection  # (psycopg's, in the session's transaction)
    with driver.cursor() as cursor, cursor.copy(copy_sql) as copy:
        for row in rows:
            copy.write_row([row[key] if process is None else process(row[key]) for key, process in bind])


def _hex_text(value: Any) -> str:
    """A field of a log the decoder has read (so valid hex) as lowercase 0x-hex: as the node sent it, lowercased."""
    return value.lower() if isinstance(value, str) and value[:2] == "0x" else as_hex(value)


def _next_event_ids(session: Session, count: int) -> list[int] | None:
    """``count`` new event ids, taken the way the database would assign them, so that the events go in as one
    plain bulk insert (an ``INSERT … RETURNING`` of many rows costs more than the rest of a page's writing);
    None on a database where that is not known (the caller inserts with ``RETURNING``).

    SQLite assigns the largest id plus one (the table is not ``AUTOINCREMENT``; the caller holds the write
    lock); PostgreSQL takes them from the column's sequence, as a ``DEFAULT`` would.
    """
    dialect = session.get_bind().dialect.name
    if dialect == "sqlite":
        top = int(session.execute(select(func.max(EVENTS.c.id))).scalar_one() or 0)
        return list(range(top + 1, top + 1 + count))
    if dialect == "postgresql":
        taken: Iterable[Any] = session.execute(text(
            "SELECT nextval(pg_get_serial_sequence('chain_event', 'id')) FROM generate_series(1, :count)"),
            {"count": count}).scalars()
        return sorted(int(event_id) for event_id in taken)
    return None


def _locked_state(session: Session) -> IndexerState:
    state = session.get(IndexerState, 1, with_for_update=True)
    if state is None:
        raise IndexerStateError("the index has no state row (it was emptied while this indexer ran)",
                                hint="start the indexer again")
    return state


def _same_deployment(state: IndexerState, deployment: Deployment) -> bool:
    return (state.chain_id, state.asset_registry, state.grant_registry, state.transaction_ledger,
            state.deploy_block) == (deployment.chain_id, deployment.asset_registry, deployment.grant_registry,
                                    deployment.transaction_ledger, deployment.deploy_block)


def _count_events(session: Session) -> int:
    return int(session.execute(select(func.count()).select_from(EVENTS)).scalar_one())


def _clear(session: Session) -> None:
    for model in CHAIN_TABLES:
        session.execute(delete(table_of(model)))

