"""eth_getLogs: the logs of a block range (or of one block by hash) that match a filter.

A scan reads the head under the chain's lock, then lets it go: the blocks up to that head never
change (one producer, no reorganisations), so it reads them without the lock while blocks are
mined and other requests are answered (:mod:`.core`). Between blocks it checks whether the chain
is stopping (``ChainCore.stopping``, which :meth:`EmbeddedChain.close` sets): if so the scan ends
at once with an error, and closing waits for the scans still running (:meth:`LogScanner.stop_all`).

Each block's bloom is asked first, with the bloom bits of the filter's addresses and topics
computed once per query; only blocks that may hold a match are decoded (through the core's
block cache). Like geth's ``--rpc.getlogmaxaddrs``, a filter names at most
``Tuning.max_log_addresses`` addresses (and as many alternatives per topic position); a query
spans at most ``Tuning.max_log_block_range`` blocks and returns at most ``Tuning.max_log_results``
logs. Beyond that it is refused with a JSON-RPC "limit exceeded" error that says what to ask
instead (for too many results, a block range that fits, as geth and Alchemy do).

A log matches a filter's topics only if it has at least as many topics as the filter has
positions, ``null`` positions included (geth's ``filterLogs``): ``[null, null, null]`` asks for
logs with three topics or more.
"""
from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

from eth.abc import BlockHeaderAPI
from eth_bloom import BloomFilter

from dataseal.chain.embedded.core import ChainCore
from dataseal.chain.embedded.errors import BlockNotFound, InvalidParams, LimitExceeded, RpcError
from dataseal.chain.embedded.records import BlockRef, LogFilter, LogRecord
from dataseal.chain.embedded.settings import Tuning
from dataseal.errors import ErrorKind

Progress = Callable[[int], None]  # called with each block's number before the block is read


class ScanStopped(RpcError):
    """A log scan ended early because the chain is stopping."""

    kind = ErrorKind.UNAVAILABLE


@dataclass(frozen=True)
class _Matcher:
    """A filter prepared for scanning: bloom masks computed once, alternatives as sets."""

    addresses: frozenset[bytes]
    address_masks: tuple[int, ...]
    topics: tuple[frozenset[bytes] | None, ...]
    topic_masks: tuple[tuple[int, ...] | None, ...]

    @classmethod
    def of(cls, flt: LogFilter) -> _Matcher:
        return cls(
            addresses=frozenset(flt.addresses),
            address_masks=tuple(_mask(a) for a in set(flt.addresses)),
            topics=tuple(None if not options else frozenset(options) for options in flt.topics),
            topic_masks=tuple(None if not options else tuple(_mask(t) for t in set(options)) for options in flt.topics),
        )

    def may_match(self, bloom: int) -> bool:
        """Whether a block with this bloom may hold a matching log (a block without logs has bloom 0)."""
        if not bloom:
            return False
        if self.address_masks and not any(bloom & m == m for m in self.address_masks):
            return False
        return all(masks is None or any(bloom & m == m for m in masks) for masks in self.topic_masks)

    def matches(self, address: bytes, topics: Sequence[bytes]) -> bool:
        if self.addresses and address not in self.addresses:
            return False
        if len(self.topics) > len(topics):  # geth: fewer topics than the filter's positions, null ones included
            return False
        return all(options is None or topic in options for options, topic in zip(self.topics, topics, strict=False))


def _mask(value: bytes) -> int:
    return int(BloomFilter.from_iterable([value]))


class LogScanner:
    """The log queries of one chain (see the module doc)."""

    def __init__(self, core: ChainCore, tuning: Tuning) -> None:
        self._core = core
        self._tuning = tuning
        self._running = 0  # scans reading blocks without the lock
        self._done = threading.Condition(core.lock)  # notified as each ends

    # ----------------------------------------------------------------------------- queries

    def find(self, flt: LogFilter, *, progress: Progress | None = None) -> list[LogRecord]:
        """The logs matching ``flt``, in chain order (eth_getLogs). ``progress``, if given, is
        called with each block's number before that block is read (without the lock)."""
        self.check_size(flt)
        matcher = _Matcher.of(flt)
        core, tuning = self._core, self._tuning
        with core.locked():
            if flt.block_hash is not None:
                header = core.header_by_hash(flt.block_hash)
                if header is None:
                    raise BlockNotFound(f"unknown block: no canonical block has hash 0x{flt.block_hash.hex()}")
                first = last = int(header.block_number)
            else:
                first = self._range_end(flt.from_block)
                last = min(self._range_end(flt.to_block), int(core.head.block_number))
                if first > last:
                    if first <= core.head.block_number:
                        raise InvalidParams(f"invalid block range: fromBlock {first} is after toBlock {last}")
                    return []
                if last - first + 1 > tuning.max_log_block_range:
                    suggested = first + tuning.max_log_block_range - 1
                    raise LimitExceeded(
                        f"block range too large: {last - first + 1} blocks ({first}..{last}) asked, at most "
                        f"{tuning.max_log_block_range} per eth_getLogs call: split the range, e.g. "
                        f"[{hex(first)}, {hex(suggested)}] first"
                    )
        with self.scanning():
            found, _ = self._scan(matcher, first, last, progress=progress, stop_at_limit=False)
        return found

    def changes(self, flt: LogFilter, first: int, last: int) -> tuple[list[LogRecord], int]:
        """The logs matching ``flt`` in blocks ``first..last`` (at most the head read under the lock by the
        caller; the caller holds :meth:`scanning`), for a filter's changes: at most
        ``max_log_block_range`` blocks are read, and reading stops after the block where the logs reach
        ``max_log_results``. The logs, and the last block read (the next poll goes on after it)."""
        last = min(last, first + self._tuning.max_log_block_range - 1)
        if first > last:
            return [], last
        return self._scan(_Matcher.of(flt), first, last, progress=None, stop_at_limit=True)

    def check_size(self, flt: LogFilter) -> None:
        """Refuse a filter naming more addresses, or more alternatives for one topic, than a query may."""
        cap = self._tuning.max_log_addresses
        if len(flt.addresses) > cap:
            raise LimitExceeded(
                f"too many addresses: the filter names {len(flt.addresses)}, at most {cap} per query: split them "
                f"over several queries of {cap} or fewer"
            )
        for position, options in enumerate(flt.topics):
            if options is not None and len(options) > cap:
                raise LimitExceeded(
                    f"too many topics: the filter gives {len(options)} alternatives for topic {position}, at most "
                    f"{cap} per position: split them over several queries"
                )

    # ----------------------------------------------------------------------------- without the lock

    @contextmanager
    def scanning(self) -> Iterator[None]:
        """A stretch of reading blocks without the lock: counted, so that closing waits for its end."""
        core = self._core
        with core.locked():
            if core.stopping:
                raise _stopped()
            self._running += 1
        try:
            yield
        finally:
            with core.lock:
                self._running -= 1
                self._done.notify_all()

    def stop_all(self) -> None:
        """Wait for the scans running to end (the chain closing: ``core.stopping`` set, the core's lock held)."""
        while self._running:
            self._core.clock.wait(self._done, None)

    def _scan(
        self, matcher: _Matcher, first: int, last: int, *, progress: Progress | None, stop_at_limit: bool
    ) -> tuple[list[LogRecord], int]:
        core, limit = self._core, self._tuning.max_log_results
        found: list[LogRecord] = []
        for number in range(first, last + 1):
            if core.stopping:
                raise _stopped()
            if progress is not None:
                progress(number)
            header = core.header_at(number)
            if not matcher.may_match(header.bloom):
                continue
            before = len(found)
            self._collect(header, matcher, found)
            if len(found) > limit and not stop_at_limit:
                raise _too_many(limit, first, number, alone=len(found) - before > limit)
            if len(found) >= limit and stop_at_limit:
                return found, number
        return found, last

    def _collect(self, header: BlockHeaderAPI, matcher: _Matcher, found: list[LogRecord]) -> None:
        data = self._core.block_data(header)
        for tx_index, receipt in enumerate(data.receipts):
            for offset, log in enumerate(receipt.logs):
                address = bytes(log.address)
                if matcher.addresses and address not in matcher.addresses:
                    continue
                topics = tuple(int(t).to_bytes(32, "big") for t in log.topics)
                if not matcher.matches(address, topics):
                    continue
                found.append(LogRecord(
                    address=address, topics=topics, data=bytes(log.data), header=header,
                    tx_hash=bytes(data.block.transactions[tx_index].hash), tx_index=tx_index,
                    log_index=data.log_offsets[tx_index] + offset,
                ))

    def _range_end(self, ref: BlockRef) -> int:
        if isinstance(ref, int):
            if ref < 0:
                raise InvalidParams(f"block {ref} is not a block number: they count from 0")
            return ref
        return int(self._core.header_for(ref).block_number)


def _too_many(limit: int, first: int, reached: int, *, alone: bool) -> LimitExceeded:
    if alone or reached == first:
        return LimitExceeded(
            f"query returned more than {limit} results: block {reached} alone holds more matching logs than that; "
            "narrow the addresses or topics"
        )
    return LimitExceeded(
        f"query returned more than {limit} results: narrow the block range, e.g. to "
        f"[{hex(first)}, {hex(reached - 1)}] (the limit was reached in block {reached}), or the addresses and topics"
    )


def _stopped() -> ScanStopped:
    return ScanStopped("the node is shutting down: the log query was stopped; send it again once the node is back")
