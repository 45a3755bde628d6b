"""What every part of the embedded chain shares, and the reads: :class:`ChainCore`.

One SQLite file (:class:`ChainStore`), py-evm's chain over it, the head, the pool of accepted
transactions and the lock that guards them all. The parts of the chain — admission, the miner,
calls, logs, fees — each take the core and use it under its lock (the methods here that say
"the lock held"); :meth:`ChainCore.locked` is how a public method takes it. Blocks are read
through a cache of decoded blocks with their receipts (:class:`BlockData`), so that serving a
receipt does not decode its whole block again.

Blocks up to the head never change (one producer, no reorganisations) and the store serialises
its reads, so a long read of blocks at or below a head read under the lock — a log scan — may
go on without the lock (:meth:`ChainCore.header_at` and :meth:`ChainCore.block_data` need no
lock for such blocks; the cache has a lock of its own).
"""
from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any, cast

from eth.abc import BlockAPI, BlockHeaderAPI, ReceiptAPI, StateAPI
from eth.exceptions import HeaderNotFound, TransactionNotFound
from eth_typing import BlockNumber, Hash32
from eth_utils import ValidationError
from lru import LRU

from dataseal.chain.embedded.clock import Clock
from dataseal.chain.embedded.errors import BlockNotFound, EmbeddedChainError, InvalidParams
from dataseal.chain.embedded.pool import PendingPool
from dataseal.chain.embedded.records import BLOCK_TAGS, BlockRef, ReceiptRecord
from dataseal.chain.embedded.store import ChainStore
from dataseal.chain.embedded.vm import DatasealChain
from dataseal.errors import ErrorKind

BLOCKS_CACHED = 128  # decoded blocks with their receipts
DROPPED_REMEMBERED = 4096  # why a transaction was dropped, for dropped_reason()


class BlockData:
    """A block with its receipts, cached: serving a receipt must not decode the whole block again."""

    __slots__ = ("block", "receipts", "log_offsets", "cumulative_gas", "_senders")

    def __init__(self, block: BlockAPI, receipts: Sequence[ReceiptAPI], senders: Sequence[bytes] | None = None):
        self.block = block
        self.receipts = tuple(receipts)
        offsets, total = [], 0
        for receipt in self.receipts:
            offsets.append(total)
            total += len(receipt.logs)
        self.log_offsets = tuple(offsets)
        self.cumulative_gas = tuple(int(r.gas_used) for r in self.receipts)
        self._senders: list[bytes | None] = list(senders) if senders else [None] * len(self.receipts)

    @property
    def header(self) -> BlockHeaderAPI:
        return self.block.header

    def sender(self, index: int) -> bytes:
        sender = self._senders[index]
        if sender is None:
            sender = self._senders[index] = bytes(self.block.transactions[index].sender)
        return sender

    def gas_used(self, index: int) -> int:
        return self.cumulative_gas[index] - (self.cumulative_gas[index - 1] if index else 0)

    def receipt_record(self, index: int) -> ReceiptRecord:
        return ReceiptRecord(
            tx=self.block.transactions[index],
            sender=self.sender(index),
            header=self.header,
            index=index,
            receipt=self.receipts[index],
            gas_used=self.gas_used(index),
            first_log_index=self.log_offsets[index],
        )


class ChainCore:
    """The shared state of one open chain. Everything here is guarded by :attr:`lock` (an RLock);
    :attr:`work` wakes the miner (a transaction arrived, someone waits for a block, the mode
    changed), :attr:`mined` tells waiters that a block was made or the pool changed."""

    def __init__(self, store: ChainStore, chain: DatasealChain, clock: Clock) -> None:
        self.store = store
        self.chain = chain  # py-evm's
        self.clock = clock
        self.chain_id = int(chain.chain_id)
        self.lock = threading.RLock()
        self.work = threading.Condition(self.lock)
        self.mined = threading.Condition(self.lock)
        self.pool = PendingPool()
        self.head: BlockHeaderAPI = chain.get_canonical_head()
        self._head_state: StateAPI | None = None
        self._blocks: Any = LRU(BLOCKS_CACHED)  # block hash -> BlockData
        self._blocks_lock = threading.Lock()  # the cache is also read by scans running without the lock
        self.dropped: Any = LRU(DROPPED_REMEMBERED)  # tx hash -> why it was dropped
        self.changes = 0  # bumped when a transaction is accepted or a block is made: wakes a stalled miner
        self.stopping = False  # closing: no new transactions, the miner stops, log scans end at the next block
        self.closed = False
        self.busy = 0  # threads inside a chain method (running, queued for the lock, or waiting)
        self._busy_lock = threading.Lock()

    @contextmanager
    def locked(self) -> Iterator[None]:
        """The lock, for a public method: counted as busy meanwhile; refused once the chain is closed."""
        with self._busy_lock:
            self.busy += 1
        try:
            with self.lock:
                if self.closed:
                    raise EmbeddedChainError(f"the chain {self.store.path} is closed", hint="open it again",
                                             kind=ErrorKind.UNAVAILABLE)
                yield
        finally:
            with self._busy_lock:
                self.busy -= 1

    # ----------------------------------------------------------------------------- headers (the lock held)

    def header_for(self, ref: BlockRef) -> BlockHeaderAPI:
        """The header named by ``ref``; raises :class:`BlockNotFound` or :class:`InvalidParams`."""
        if isinstance(ref, str):
            if ref == "earliest":
                return self.header_at(0)
            if ref in BLOCK_TAGS:
                return self.head
            raise InvalidParams(
                f"unknown block tag {ref!r}: use a number, a block hash, or one of {', '.join(BLOCK_TAGS)}"
            )
        if isinstance(ref, bytes):
            header = self.header_by_hash(ref)
            if header is None:
                raise BlockNotFound(f"unknown block: no canonical block has hash 0x{ref.hex()}")
            return header
        if ref < 0:
            raise InvalidParams(f"block {ref} is not a block number: they count from 0")
        if ref > self.head.block_number:
            raise BlockNotFound(
                f"header not found: block {ref} is beyond the head of this chain ({self.head.block_number})"
            )
        return self.header_at(ref)

    def header_at(self, number: int) -> BlockHeaderAPI:
        """The canonical header at ``number`` (no lock needed when ``number`` is at most a head read under it)."""
        return self.chain.get_canonical_block_header_by_number(BlockNumber(number))

    def header_by_hash(self, block_hash: bytes) -> BlockHeaderAPI | None:
        """The canonical header with this hash, None if there is none (up to the head)."""
        try:
            header = self.chain.get_block_header_by_hash(Hash32(block_hash))
        except (HeaderNotFound, ValidationError):
            return None
        if header.block_number > self.head.block_number:
            return None
        if self.chain.get_canonical_block_hash(header.block_number) != header.hash:
            return None
        return header

    # ----------------------------------------------------------------------------- blocks (the lock held)

    def block_data(self, header: BlockHeaderAPI) -> BlockData:
        """The block of a canonical ``header`` with its receipts (no lock needed: a mined block never changes)."""
        with self._blocks_lock:
            data = self._blocks.get(header.hash)
        if data is None:
            block = self.chain.get_block_by_header(header)
            data = BlockData(block, block.get_receipts(self.chain.chaindb))
            with self._blocks_lock:
                self._blocks[header.hash] = data
        return cast(BlockData, data)

    def locate(self, tx_hash: bytes) -> tuple[BlockData, int] | None:
        """The block holding a mined transaction and its index there; None when it is not mined."""
        try:
            number, index = self.chain.chaindb.get_transaction_index(Hash32(tx_hash))
        except TransactionNotFound:
            return None
        if number > self.head.block_number:
            return None
        data = self.block_data(self.header_at(number))
        if index >= len(data.receipts) or data.block.transactions[index].hash != tx_hash:
            return None
        return data, index

    def state_at(self, header: BlockHeaderAPI) -> StateAPI:
        """The state after the block ``header`` (the head's is kept for the next reads)."""
        if header.hash == self.head.hash:
            if self._head_state is None:
                self._head_state = self.chain.get_vm(self.head).state
            return self._head_state
        return self.chain.get_vm(header).state

    # ----------------------------------------------------------------------------- changes (the lock held)

    def new_head(self, block: BlockAPI, receipts: Sequence[ReceiptAPI], senders: Sequence[bytes]) -> None:
        """A block was committed on top of the head: it is the head now; tell the waiters."""
        self.head = block.header
        self._head_state = None
        with self._blocks_lock:
            self._blocks[block.hash] = BlockData(block, receipts, senders)
        self.changed()
        self.work.notify()  # a stalled miner: the base fee changed
        self.mined.notify_all()

    def changed(self) -> None:
        """Something a stalled miner waits for happened (a transaction accepted, a block, a retry due)."""
        self.changes += 1
