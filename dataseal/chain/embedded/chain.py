"""The embedded chain: a persistent single-node EVM chain on py-evm.

:class:`EmbeddedChain` is what its users hold — the JSON-RPC dispatcher, the in-process web3
provider, ``dataseal node``, tests. It owns one SQLite file (:mod:`.store`), the py-evm chain over
it, the pool of accepted transactions and the miner, and hands each concern to a part of its own:

- :mod:`.core`: the shared state under one lock, and the reads of blocks, transactions and state;
- :mod:`.admission`: whether a signed transaction is accepted (geth's messages when not), and the
  journal that keeps accepted transactions across a crash;
- :mod:`.mining` and :mod:`.building`: when blocks are made, and making them;
- :mod:`.serving`: the miner pausing while requests are served;
- :mod:`.calls`: eth_call and eth_estimateGas, without the lock, bounded in gas and time;
- :mod:`.logs` and :mod:`.fees`: eth_getLogs (without the lock), the base fee and eth_feeHistory;
- :mod:`.filters`: the filter API (eth_newFilter and the rest), installed on the chain;
- :mod:`.genesis`: creating and reopening a chain;
- :mod:`.vm` and :mod:`.interpreter`: the chain's rules and the EVM that runs them, fast (py-evm
  with speed-ups) or stock (py-evm as it is), as ``Tuning.interpreter`` says.

Everything that touches py-evm or the file runs under the core's lock, so the JSON-RPC server's
threads, the miner thread and in-process callers may share one instance — with two exceptions:
while the miner executes a block's transactions, which writes nothing (py-evm keeps the new state
in memory until it is committed), it releases the lock, so that transactions keep being accepted
and reads answered meanwhile; and calls and log scans execute without it. What the chain may spend is set by
its :class:`Tuning`; the time it reads and waits on comes from its :class:`Clock`.
"""
from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import cast

from eth._utils.calculations import fake_exponential
from eth.abc import BlockAPI, BlockHeaderAPI
from eth.vm.forks.cancun.constants import MIN_BLOB_BASE_FEE
from eth.vm.forks.prague.constants import BLOB_BASE_FEE_UPDATE_FRACTION_PRAGUE
from eth_typing import Address

from dataseal.chain.embedded.admission import admit, decode_transaction, replay_journal
from dataseal.chain.embedded.calls import CallRunner
from dataseal.chain.embedded.clock import SYSTEM_CLOCK, Clock
from dataseal.chain.embedded.core import ChainCore
from dataseal.chain.embedded.errors import BlockNotFound, EmbeddedChainError, InvalidParams, TransactionRefused
from dataseal.chain.embedded.fees import SUGGESTED_PRIORITY_FEE, fee_history, next_base_fee
from dataseal.chain.embedded.filters import Filters
from dataseal.chain.embedded.genesis import RESERVED_META, create_genesis, recorded_alloc, reopen
from dataseal.chain.embedded.interpreter import use_native_keccak
from dataseal.chain.embedded.logs import LogScanner, Progress
from dataseal.chain.embedded.mining import Miner
from dataseal.chain.embedded.records import (
    BlockRef,
    CallRequest,
    FeeHistory,
    LogFilter,
    LogRecord,
    MinedBlock,
    ReceiptRecord,
    StateOverride,
    TransactionRecord,
)
from dataseal.chain.embedded.serving import ServingFirst
from dataseal.chain.embedded.settings import Genesis, Mining, Tuning
from dataseal.chain.embedded.store import ChainStore
from dataseal.chain.embedded.vm import DatasealChain, DatasealVM
from dataseal.errors import ErrorKind

__all__ = ["CHAIN_FILENAME", "EmbeddedChain", "Genesis", "Mining", "Tuning", "chain_file"]

logger = logging.getLogger("dataseal.chain.embedded")

CHAIN_FILENAME = "chain.sqlite"  # inside the data folder, beside keystore/ and deployments.json


def chain_file(data_dir: Path | str) -> Path:
    """The embedded chain's SQLite file in a data folder."""
    return Path(data_dir) / CHAIN_FILENAME


class EmbeddedChain:
    """A persistent single-node chain. Open with :meth:`open`; close with :meth:`close`."""

    def __init__(
        self, store: ChainStore, chain: DatasealChain, *, created: bool, mining: Mining, tuning: Tuning, clock: Clock
    ) -> None:
        self.created = created
        self.tuning = tuning
        self.clock = clock
        self._core = core = ChainCore(store, chain, clock)
        self.chain_id = core.chain_id
        self._serving = ServingFirst(clock, tuning.miner_give_way)
        self._miner = Miner(core, self._serving, tuning, mining)
        self._calls = CallRunner(core, tuning)
        self._logs = LogScanner(core, tuning)
        self._filters = Filters(core, self._logs, tuning)
        self._builder = DatasealVM.get_transaction_builder()

    # ============================================================================= lifecycle

    @classmethod
    def open(
        cls,
        path: Path | str,
        *,
        genesis: Genesis | None = None,
        mining: Mining | None = None,
        tuning: Tuning | None = None,
        clock: Clock | None = None,
    ) -> EmbeddedChain:
        """Open the chain in the SQLite file ``path``, creating it (with ``genesis``) if it has none.

        Reopening checks ``genesis`` against the chain's own: a different chain id, or funding
        it did not get at its genesis, raises :class:`GenesisMismatchError`. Journalled
        transactions are re-admitted; the miner starts unless ``mining`` is manual. ``tuning``
        (default: :class:`Tuning`'s values) sets the knobs, ``clock`` (default: the system's)
        tells the time and waits.
        """
        mining = mining or Mining()
        tuning = tuning or Tuning()
        clock = clock or SYSTEM_CLOCK
        use_native_keccak()
        store = ChainStore(path, cache_entries=tuning.cache_entries)
        try:
            created = store.get_meta("chain_id") is None
            if created:
                chain = create_genesis(store, genesis or Genesis(), clock, tuning.interpreter)
            else:
                chain = reopen(store, genesis, tuning.interpreter)
            instance = cls(store, chain, created=created, mining=mining, tuning=tuning, clock=clock)
            replay_journal(instance._core, instance._builder, tuning.max_tx_bytes)
        except BaseException:
            store.close()
            raise
        if mining.automatic:
            instance._miner.start()
        return instance

    def close(self, *, flush: bool = True) -> None:
        """Stop the miner and close the file. With ``flush`` (and automatic mining) the pending
        transactions are mined first; otherwise — and those waiting for the base fee to fall —
        they stay in the journal for the next open. Calls still running are stopped."""
        core = self._core
        with core.lock:
            if core.closed:
                return
            core.stopping = True
            core.work.notify_all()
            core.mined.notify_all()
        self._miner.join()
        with core.lock:
            self._calls.stop_all()  # calls running without the lock: stopped before the file closes
            self._logs.stop_all()  # log scans running without it: they end at their next block (core.stopping)
            try:
                if flush and self.mining.automatic:
                    self._miner.flush()
            except Exception:
                logger.exception("mining the pending transactions at shutdown failed; they stay in the journal")
            finally:
                core.closed = True
                core.store.close()

    def __enter__(self) -> EmbeddedChain:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def path(self) -> Path:
        return self._core.store.path

    @property
    def closed(self) -> bool:
        return self._core.closed

    @property
    def block_number(self) -> int:
        """The head's number, read without the lock (once closed: the block the chain stopped at)."""
        return int(self._core.head.block_number)

    @property
    def miner_failure(self) -> str | None:
        """Why the miner thread died, None unless it did (no block is then made but by :meth:`mine`)."""
        return self._miner.failed

    @property
    def interpreter(self) -> str:
        """Which EVM interpreter executes transactions and calls (``Tuning.interpreter``)."""
        return self.tuning.interpreter

    def meta(self, key: str) -> str | None:
        with self._core.locked():
            return self._core.store.get_meta(key)

    def set_meta(self, key: str, value: str) -> None:
        if key in RESERVED_META:
            raise EmbeddedChainError(f"meta key {key!r} is set at genesis and cannot change",
                                     hint="use another key, or a new chain", kind=ErrorKind.CONFLICT)
        with self._core.locked():
            self._core.store.set_meta({key: value})

    @property
    def genesis_alloc(self) -> dict[str, int]:
        with self._core.locked():
            return recorded_alloc(self._core.store)

    @property
    def gas_limit(self) -> int:
        return int(self._core.head.gas_limit)

    def integrity_check(self) -> str:
        with self._core.locked():
            return self._core.store.integrity_check()

    # ============================================================================= serving first

    @contextmanager
    def serving(self) -> Iterator[None]:
        """Mark a request being served by this thread: the miner pauses meanwhile (:mod:`.serving`)."""
        with self._serving.serving():
            yield

    @contextmanager
    def stepping_aside(self) -> Iterator[None]:
        """A request that waits or runs long does not hold the miner back meanwhile."""
        with self._serving.stepping_aside():
            yield

    # ============================================================================= transactions

    def send_raw_transaction(self, raw: bytes) -> bytes:
        """Accept a signed transaction; its hash. Raises :class:`TransactionRefused` with the reason."""
        core = self._core
        tx, sender = decode_transaction(raw, chain_id=self.chain_id, builder=self._builder,
                                        max_bytes=self.tuning.max_tx_bytes)
        with core.locked():
            if core.stopping:
                raise TransactionRefused("the node is shutting down: send the transaction again after it restarts")
            if self._miner.failed is not None:
                raise TransactionRefused(
                    f"the node's miner stopped ({self._miner.failed}): restart the node; accepted transactions are kept"
                )
            admit(core, tx, raw, sender, journal=True)
            core.changed()
            tx_hash = bytes(tx.hash)
            self._filters.transaction_accepted(tx_hash)  # O(1): nothing while no pending-transaction filter is in
            if self.mining.mode == "idle":
                core.work.notify()
        return tx_hash

    def pending_nonce(self, address: bytes) -> int:
        """The nonce of ``address``'s next transaction, counting its pending ones."""
        core = self._core
        with core.locked():
            return core.pool.next_nonce(address, core.state_at(core.head).get_nonce(_account(address)))

    @property
    def pending_count(self) -> int:
        with self._core.locked():
            return len(self._core.pool)

    def dropped_reason(self, tx_hash: bytes) -> str | None:
        """Why an accepted transaction was dropped when its block was built (None if it was not)."""
        with self._core.locked():
            return cast(str | None, self._core.dropped.get(tx_hash))

    # ============================================================================= mining

    @property
    def mining(self) -> Mining:
        return self._miner.mining

    def set_mining(self, mining: Mining) -> None:
        """Switch the mining mode (the running miner finishes its block and stops first)."""
        self._miner.set_mining(mining)

    def mine(self, *, timestamp: int | None = None) -> MinedBlock:
        """Mine one block now with the pending transactions that fit (an empty block if none)."""
        core = self._core
        with core.locked():
            if timestamp is not None and timestamp < core.head.timestamp:
                raise InvalidParams(
                    f"timestamp {timestamp} is before the latest block's ({core.head.timestamp}): "
                    "block timestamps never go backwards"
                )
            mined = self._miner.mine(timestamp=timestamp, allow_empty=True)
            assert mined is not None  # (allow_empty: a block is always wanted)
            return mined

    def wait_until_mined(self, tx_hash: bytes, timeout: float) -> bool:
        """Wait up to ``timeout`` seconds while ``tx_hash`` is pending; whether it left the pool."""
        core = self._core
        deadline = self.clock.monotonic() + timeout
        with core.locked():
            while tx_hash in core.pool:
                remaining = deadline - self.clock.monotonic()
                if remaining <= 0 or not self._miner.running:
                    return False
                self._miner.wait_for_block(remaining)
            return True

    # ============================================================================= blocks

    def head(self) -> BlockHeaderAPI:
        with self._core.locked():
            return self._core.head

    def header_for(self, ref: BlockRef) -> BlockHeaderAPI:
        """The header named by ``ref``; raises :class:`BlockNotFound`."""
        with self._core.locked():
            return self._core.header_for(ref)

    def block_by_ref(self, ref: BlockRef) -> BlockAPI | None:
        """The block named by ``ref``, or None when there is no such block."""
        core = self._core
        with core.locked():
            try:
                header = core.header_for(ref)
            except BlockNotFound:
                return None
            return core.block_data(header).block

    def block_senders(self, block: BlockAPI) -> list[bytes]:
        core = self._core
        with core.locked():
            data = core.block_data(block.header)
            return [data.sender(i) for i in range(len(data.receipts))]

    def block_receipts(self, ref: BlockRef) -> list[ReceiptRecord] | None:
        core = self._core
        with core.locked():
            try:
                header = core.header_for(ref)
            except BlockNotFound:
                return None
            data = core.block_data(header)
            return [data.receipt_record(i) for i in range(len(data.receipts))]

    # ============================================================================= transactions (reads)

    def get_transaction(self, tx_hash: bytes) -> TransactionRecord | None:
        core = self._core
        with core.locked():
            location = core.locate(tx_hash)
            if location is not None:
                data, index = location
                return TransactionRecord(data.block.transactions[index], data.sender(index), data.header, index)
            entry = core.pool.get(tx_hash)
            if entry is not None:
                return TransactionRecord(entry.tx, entry.sender, None, None)
            return None

    def get_receipt(self, tx_hash: bytes, *, wait: float | None = None) -> ReceiptRecord | None:
        """The receipt of a mined transaction. For a pending one, wait up to ``wait`` seconds
        (default ``tuning.receipt_wait``) for its block when mining is automatic and the block is due by
        then; otherwise answer None at once, as for an unknown transaction."""
        core, miner = self._core, self._miner
        deadline: float | None = None
        with core.locked():
            while True:
                location = core.locate(tx_hash)
                if location is not None:
                    data, index = location
                    return data.receipt_record(index)
                if tx_hash not in core.pool or not miner.running:
                    return None
                if deadline is None:
                    deadline = self.clock.monotonic() + (self.tuning.receipt_wait if wait is None else wait)
                    if miner.mining.mode == "interval" and miner.next_block_at > deadline:
                        return None  # its block comes later than anyone would wait here
                remaining = deadline - self.clock.monotonic()
                if remaining <= 0:
                    return None
                miner.wait_for_block(remaining)

    # ============================================================================= state

    def get_balance(self, address: bytes, ref: BlockRef = "latest") -> int:
        core = self._core
        with core.locked():
            return int(core.state_at(core.header_for(ref)).get_balance(_account(address)))

    def get_nonce(self, address: bytes, ref: BlockRef = "latest") -> int:
        if ref == "pending":
            return self.pending_nonce(address)
        core = self._core
        with core.locked():
            return int(core.state_at(core.header_for(ref)).get_nonce(_account(address)))

    def get_code(self, address: bytes, ref: BlockRef = "latest") -> bytes:
        core = self._core
        with core.locked():
            return bytes(core.state_at(core.header_for(ref)).get_code(_account(address)))

    def get_storage_at(self, address: bytes, slot: int, ref: BlockRef = "latest") -> int:
        if not 0 <= slot < 2**256:
            raise InvalidParams(f"a storage slot is a number from 0 to 2**256 - 1, got {slot}")
        core = self._core
        with core.locked():
            return int(core.state_at(core.header_for(ref)).get_storage(_account(address), slot))

    # ============================================================================= execution

    def call(
        self, request: CallRequest, ref: BlockRef = "latest", overrides: Sequence[StateOverride] = ()
    ) -> bytes:
        """Execute ``request`` on the state after block ``ref`` and return its output.

        Runs without the chain's lock, with at most ``tuning.call_gas_cap`` gas for at most
        ``tuning.call_timeout`` seconds, on that state changed by ``overrides`` for this call only.
        Raises :class:`ExecutionReverted` (with the revert bytes) or :class:`ExecutionFailed` (out of
        gas, invalid, stopped at the time limit).
        """
        return self._calls.call(request, ref, overrides)

    def estimate_gas(
        self, request: CallRequest, ref: BlockRef = "latest", overrides: Sequence[StateOverride] = ()
    ) -> int:
        """The gas limit ``request`` needs to succeed (see :meth:`CallRunner.estimate_gas`); like
        :meth:`call`, without the chain's lock and within one call's time."""
        return self._calls.estimate_gas(request, ref, overrides)

    # ============================================================================= logs and fees

    def get_logs(self, flt: LogFilter, *, progress: Progress | None = None) -> list[LogRecord]:
        """The logs matching ``flt`` (eth_getLogs), read without the chain's lock; ``progress``, if
        given, is called with each block's number before the block is read. Raises
        :class:`LimitExceeded` when the filter asks too much (see :mod:`.logs`)."""
        return self._logs.find(flt, progress=progress)

    # ============================================================================= filters

    def new_filter(self, criteria: LogFilter) -> str:
        """Install a log filter (eth_newFilter); its id. See :mod:`.filters`."""
        return self._filters.new_log_filter(criteria)

    def new_block_filter(self) -> str:
        return self._filters.new_block_filter()

    def new_pending_transaction_filter(self) -> str:
        return self._filters.new_pending_filter()

    def filter_changes(self, filter_id: str) -> list[LogRecord] | list[bytes]:
        """What happened since the filter's last poll: logs for a log filter, hashes otherwise."""
        return self._filters.changes(filter_id)

    def filter_logs(self, filter_id: str) -> list[LogRecord]:
        return self._filters.logs(filter_id)

    def uninstall_filter(self, filter_id: str) -> bool:
        return self._filters.uninstall(filter_id)

    def next_base_fee(self) -> int:
        """The base fee of the next block."""
        with self._core.locked():
            return next_base_fee(self._core.head)

    def suggested_priority_fee(self) -> int:
        return SUGGESTED_PRIORITY_FEE

    def blob_base_fee(self) -> int:
        """The blob base fee at the head (EIP-4844): 1 wei, the minimum, as this chain carries no blobs."""
        with self._core.locked():
            excess = int(getattr(self._core.head, "excess_blob_gas", 0) or 0)
        return int(fake_exponential(MIN_BLOB_BASE_FEE, excess, BLOB_BASE_FEE_UPDATE_FRACTION_PRAGUE))

    def fee_history(self, count: int, newest: BlockRef, percentiles: Sequence[float]) -> FeeHistory:
        with self._core.locked():
            return fee_history(self._core, count, newest, percentiles)


def _account(address: bytes) -> Address:
    """``address`` as py-evm takes it; :class:`InvalidParams` when it is not 20 bytes."""
    if not isinstance(address, bytes) or len(address) != 20:
        raise InvalidParams(f"an address is 20 bytes, got {address!r}")
    return Address(address)
