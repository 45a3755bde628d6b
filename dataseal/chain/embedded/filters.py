"""The filter API: eth_newFilter, eth_newBlockFilter, eth_newPendingTransactionFilter,
eth_getFilterChanges, eth_getFilterLogs and eth_uninstallFilter, as geth answers them.

A filter is installed on the chain (so every client of it, in-process or over HTTP, sees the
same ones) and named by a random 128-bit id written as a hex quantity (geth's ``rpc.NewID``).
Each poll answers what happened since the previous one (since the install for the first):

- a log filter, the logs of the blocks mined since, that match its addresses and topics and
  lie within its ``fromBlock``/``toBlock`` when these are numbers (tags do not bound the
  changes, as in geth); eth_getFilterLogs runs its whole query as eth_getLogs would;
- a block filter, the hashes of the blocks mined since;
- a pending-transaction filter, the hashes of the transactions accepted since. The chain tells
  :meth:`Filters.transaction_accepted` of each (O(1), and nothing while no such filter is
  installed); the last ``PENDING_REMEMBERED`` hashes are kept, so a filter polled more rarely
  than that many transactions misses the oldest.

Blocks are final here (one producer, no reorganisations), so a block number is an exact cursor.
A poll reads at most ``Tuning.max_log_block_range`` blocks and stops once its logs reach
``Tuning.max_log_results``; the next poll goes on from there. A filter not polled for
``FILTER_TIMEOUT`` seconds (geth's 5 minutes, on the chain's clock) is removed; at most
``MAX_FILTERS`` are installed at a time. An unknown or expired id is "filter not found".
"""
from __future__ import annotations

import secrets
import threading
from collections import deque
from dataclasses import dataclass, field
from itertools import islice
from typing import Literal

from dataseal.chain.embedded.core import ChainCore
from dataseal.chain.embedded.errors import InvalidParams, LimitExceeded, RpcError
from dataseal.chain.embedded.logs import LogScanner
from dataseal.chain.embedded.records import LogFilter, LogRecord
from dataseal.chain.embedded.settings import Tuning
from dataseal.errors import ErrorKind

FILTER_TIMEOUT = 300.0  # seconds without a poll before a filter is removed (geth's)
MAX_FILTERS = 1_000  # installed at a time
PENDING_REMEMBERED = 10_000  # accepted transactions' hashes kept for pending-transaction filters

FilterKind = Literal["logs", "blocks", "pending"]


class FilterNotFound(RpcError):
    """An id that names no installed filter (never installed, uninstalled, or expired)."""

    kind = ErrorKind.NOT_FOUND


@dataclass
class _Filter:
    kind: FilterKind
    criteria: LogFilter | None
    next_block: int  # the first block not reported yet
    seen: int  # pending transactions: how many hashes the feed had at the last poll
    deadline: float  # removed unless polled before
    poll: threading.Lock = field(default_factory=threading.Lock)  # one poll of a filter at a time


class Filters:
    """The installed filters of one chain (see the module doc)."""

    def __init__(self, core: ChainCore, scanner: LogScanner, tuning: Tuning) -> None:
        self._core = core
        self._scanner = scanner
        self._tuning = tuning
        self._lock = threading.Lock()  # the filters and the feed (never taken before the core's lock)
        self._filters: dict[str, _Filter] = {}
        self._feed: deque[bytes] = deque(maxlen=PENDING_REMEMBERED)
        self._fed = 0  # hashes ever put in the feed
        self._listeners = 0  # pending-transaction filters installed

    # ----------------------------------------------------------------------------- the chain's side

    def transaction_accepted(self, tx_hash: bytes) -> None:
        """A transaction was accepted (O(1); nothing to do while no pending-transaction filter is installed)."""
        if self._listeners:
            with self._lock:
                self._feed.append(tx_hash)
                self._fed += 1

    # ----------------------------------------------------------------------------- installing

    def new_log_filter(self, criteria: LogFilter) -> str:
        if criteria.block_hash is not None:
            raise InvalidParams(
                "eth_newFilter: a filter cannot name a blockHash (it reports new blocks); ask eth_getLogs for the "
                "logs of one block"
            )
        self._scanner.check_size(criteria)
        for end, name in ((criteria.from_block, "fromBlock"), (criteria.to_block, "toBlock")):
            if isinstance(end, int) and end < 0:
                raise InvalidParams(f"eth_newFilter: {name} {end} is not a block number: they count from 0")
        if (isinstance(criteria.from_block, int) and isinstance(criteria.to_block, int)
                and criteria.from_block > criteria.to_block):
            raise InvalidParams(
                f"eth_newFilter: invalid block range: fromBlock {criteria.from_block} is after toBlock "
                f"{criteria.to_block}"
            )
        return self._install("logs", criteria)

    def new_block_filter(self) -> str:
        return self._install("blocks", None)

    def new_pending_filter(self) -> str:
        return self._install("pending", None)

    def uninstall(self, filter_id: str) -> bool:
        """Remove a filter; whether there was one with this id (geth: false, not an error, when not)."""
        with self._lock:
            self._expire()
            found = self._filters.pop(filter_id.lower(), None)
            if found is not None:
                self._forget(found)
            return found is not None

    # ----------------------------------------------------------------------------- polling

    def changes(self, filter_id: str) -> list[LogRecord] | list[bytes]:
        """What happened since the filter's last poll: logs, or block or transaction hashes."""
        core = self._core
        flt = self._polled(filter_id)
        with flt.poll:
            if flt.kind == "pending":
                with self._lock:
                    kept = len(self._feed)
                    start = max(flt.seen, self._fed - kept)
                    hashes = list(islice(self._feed, start - (self._fed - kept), None))
                    flt.seen = self._fed
                return hashes
            with core.locked():
                head = int(core.head.block_number)
            first = flt.next_block
            if flt.kind == "blocks":
                last = min(head, first + self._tuning.max_log_block_range - 1)
                with self._scanner.scanning():
                    block_hashes = [bytes(core.header_at(n).hash) for n in range(first, last + 1)]
                flt.next_block = max(first, last + 1)
                return block_hashes
            assert flt.criteria is not None
            low, high = first, head
            if isinstance(flt.criteria.from_block, int):
                low = max(low, flt.criteria.from_block)
            if isinstance(flt.criteria.to_block, int):
                high = min(high, flt.criteria.to_block)
            if low > high:
                flt.next_block = max(first, head + 1)
                return []
            with self._scanner.scanning():
                logs, scanned = self._scanner.changes(flt.criteria, low, high)
            flt.next_block = scanned + 1 if scanned < high else max(first, head + 1)
            return logs

    def logs(self, filter_id: str) -> list[LogRecord]:
        """eth_getFilterLogs: the whole query of a log filter (its deadline unchanged, as in geth)."""
        with self._lock:
            self._expire()
            flt = self._filters.get(filter_id.lower())
        if flt is None or flt.criteria is None:
            raise _not_found()
        return self._scanner.find(flt.criteria)

    # ----------------------------------------------------------------------------- internals

    def _install(self, kind: FilterKind, criteria: LogFilter | None) -> str:
        core = self._core
        with core.locked():
            next_block = int(core.head.block_number) + 1
        with self._lock:
            self._expire()
            if len(self._filters) >= MAX_FILTERS:
                raise LimitExceeded(
                    f"too many filters: {MAX_FILTERS} are installed; uninstall the ones no longer polled "
                    f"(eth_uninstallFilter), or wait: a filter not polled for {FILTER_TIMEOUT:g} s is removed"
                )
            filter_id = _new_id()
            while filter_id in self._filters:  # pragma: no cover - 128 random bits
                filter_id = _new_id()
            self._filters[filter_id] = _Filter(kind, criteria, next_block, self._fed, self._deadline())
            if kind == "pending":
                self._listeners += 1
            return filter_id

    def _polled(self, filter_id: str) -> _Filter:
        with self._lock:
            self._expire()
            flt = self._filters.get(filter_id.lower())
            if flt is None:
                raise _not_found()
            flt.deadline = self._deadline()
            return flt

    def _deadline(self) -> float:
        return self._core.clock.monotonic() + FILTER_TIMEOUT

    def _expire(self) -> None:
        """Remove the filters whose deadline passed (self._lock held)."""
        now = self._core.clock.monotonic()
        for filter_id in [i for i, f in self._filters.items() if f.deadline <= now]:
            self._forget(self._filters.pop(filter_id))

    def _forget(self, flt: _Filter) -> None:
        if flt.kind == "pending":
            self._listeners -= 1
            if not self._listeners:
                self._feed.clear()


def _new_id() -> str:
    """geth's rpc.NewID: 16 random bytes as a hex quantity (no leading zeros)."""
    return hex(secrets.randbits(128))


def _not_found() -> FilterNotFound:
    return FilterNotFound("filter not found")
