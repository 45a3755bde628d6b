"""The embedded chain: a persistent single-node EVM chain on py-evm.

:class:`EmbeddedChain` owns one SQLite file (:mod:`chain.embedded.store`), the py-evm chain
over it, the pool of accepted transactions and the miner. Everything that touches py-evm or the
file runs under one lock, so the JSON-RPC server's threads, the miner thread and in-process
callers may share one instance — with one exception: while the miner executes a block's
transactions, which writes nothing (py-evm keeps the new state in memory until it is committed),
it releases the lock, so that transactions keep being accepted and reads answered meanwhile.

Transactions
    :meth:`EmbeddedChain.send_raw_transaction` checks a signed transaction (decoding, chain id,
    signature, nonce, fees, funds) and answers geth's error messages when it refuses one. An
    accepted transaction is written to the journal before its hash is returned, so a crash
    between acceptance and mining does not lose it: the journal is replayed on the next open.

Blocks
    The miner takes every pending transaction that fits (30M gas per block) and builds one block
    with :meth:`DatasealVM.apply_transaction`, one transaction at a time: one that turns out to be
    invalid when its turn comes (its sender's funds were spent by an earlier transaction) is
    dropped with its reason, without costing the others their block. One whose fee cap is below
    the block's base fee (the base fee rose after it was accepted) is not invalid, only too cheap
    for now: like a real node's pool, the chain keeps it pending — its sender's later transactions
    wait behind it — until the base fee falls back to its cap or a same-nonce replacement paying
    more arrives. The base fee of an idle chain falls only as blocks are made (1/8 per empty
    block), so while such a transaction waits and nothing else can be mined, the automatic miner
    makes empty blocks, each lowering the base fee, until it fits (a few dozen blocks at most: the
    base fee cannot have risen far above a cap it once met). Should the base fee stop falling (its
    floor), the miner makes nothing and sleeps until a transaction arrives or a block is mined
    another way; it never spins on a transaction it cannot include. The block — state, bodies,
    receipts, indexes, canonical head and the journal clean-up — commits as one SQLite
    transaction. Modes (:class:`Mining`): ``idle`` mines as soon as transactions wait (a burst
    gathers for a few milliseconds first, and what arrives while a block is built goes into the
    next one), ``interval`` every N seconds, ``manual`` only on :meth:`EmbeddedChain.mine`.

Serving first
    The miner and the threads serving requests share one interpreter lock. A request that came
    while a block executes would wait for it at every step that lets the lock go (the socket,
    SQLite, signature recovery): a millisecond or more per request, which a client sending one
    transaction after another pays on each. So a request being served (:meth:`EmbeddedChain.serving`,
    entered by the HTTP server) makes the miner pause at its next jump or transaction until no
    request is (for ``Tuning.miner_give_way`` at most, then as long again without pausing): a lone
    client's requests are answered as on an idle node, and under a flood of requests, or during
    a slow eth_call, the miner still gets half the time. A request that waits for a block (a
    pending transaction's receipt, a block being built) steps aside meanwhile.

Calls
    eth_call and eth_estimateGas run on a VM of their own over the state of the block they name,
    without the chain's lock: the state is content-addressed and never rewritten, and the store
    serialises its reads, so a slow call delays neither the miner nor other requests. Like geth,
    a call gets at most ``Tuning.call_gas_cap`` gas (``RPCGasCap``, 50M) and
    ``Tuning.call_timeout`` seconds (``RPCEVMTimeout``, 5 s); a call still running then
    is stopped with an error saying so.
"""
from __future__ import annotations

import json
import logging
import math
import os
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, cast

from eth.abc import (
    BlockAPI,
    BlockHeaderAPI,
    ComputationAPI,
    MessageAPI,
    OpcodeAPI,
    ReceiptAPI,
    SignedTransactionAPI,
    StateAPI,
    TransactionContextAPI,
    VirtualMachineAPI,
)
from eth.constants import BLANK_ROOT_HASH, POST_MERGE_DIFFICULTY, POST_MERGE_MIX_HASH, POST_MERGE_NONCE
from eth.exceptions import HeaderNotFound, OutOfGas, Revert, TransactionNotFound
from eth.vm.chain_context import ChainContext
from eth.vm.forks.london.headers import calculate_expected_base_fee_per_gas
from eth.vm.opcode_values import JUMP, JUMPI
from eth.vm.spoof import SpoofTransaction
from eth_bloom import BloomFilter
from eth_typing import Address, BlockNumber, Hash32
from eth_utils import ValidationError, to_canonical_address, to_checksum_address
from lru import LRU

from dataseal.chain.embedded.clock import SYSTEM_CLOCK, Clock
from dataseal.chain.embedded.defaults import DEFAULT_CHAIN_ID
from dataseal.chain.embedded.errors import (
    INVALID_PARAMS,
    BlockNotFound,
    ChainStoreError,
    EmbeddedChainError,
    ExecutionFailed,
    ExecutionReverted,
    GenesisMismatchError,
    InvalidParams,
    LimitExceeded,
    TransactionRejected,
)
from dataseal.chain.embedded.giveway import MINER, give_way
from dataseal.chain.embedded.pool import PendingPool, PendingTx
from dataseal.chain.embedded.records import (
    BLOCK_TAGS,
    BlockRef,
    CallRequest,
    FeeHistory,
    LogFilter,
    LogRecord,
    MinedBlock,
    ReceiptRecord,
    TransactionRecord,
)
from dataseal.chain.embedded.settings import Genesis, Mining, Tuning
from dataseal.chain.embedded.store import ChainStore, SQLiteAtomicDB
from dataseal.chain.embedded.tries import ordered_trie_root_and_nodes
from dataseal.chain.embedded.vm import (
    EXTRA_DATA,
    ZERO_ADDRESS,
    CallVM,
    DatasealChain,
    DatasealVM,
    EstimationComputation,
    EstimationState,
    chain_class,
    use_native_keccak,
    wrapped_opcode,
)

__all__ = ["CHAIN_FILENAME", "EmbeddedChain", "Genesis", "Mining", "Tuning", "chain_file"]

logger = logging.getLogger("dataseal.chain.embedded")

CHAIN_FILENAME = "chain.sqlite"  # inside the data folder, beside keystore/ and deployments.json
REPLACEMENT_BUMP_PERCENT = 10  # geth's default price bump for a replacement
SUGGESTED_PRIORITY_FEE = 10**9  # 1 gwei, as hardhat and geth's default suggest
BLOB_TX_TYPE = 3
SSTORE_SENTRY_GAS = 2_300  # EIP-2200: SSTORE fails unless more than this is left

def chain_file(data_dir: Path | str) -> Path:
    """The embedded chain's SQLite file in a data folder."""
    return Path(data_dir) / CHAIN_FILENAME


class _BlockData:
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


class _ExecutedBlock:
    """What executing a block's transactions produced, before anything is written."""

    def __init__(self, header: BlockHeaderAPI) -> None:
        self.header = header  # with the gas used and bloom of the included transactions
        self.included: list[PendingTx] = []
        self.receipts: list[ReceiptAPI] = []
        self.dropped: list[tuple[PendingTx, str]] = []  # (transaction, reason)
        self.fee_waiting = False  # a transaction waits for the base fee to fall to its fee cap
        self.wanted = False  # whether a block is to be written (transactions, or an empty block asked for)
        self.tx_trie: tuple[Hash32, dict[Hash32, bytes]] = (BLANK_ROOT_HASH, {})
        self.receipt_trie: tuple[Hash32, dict[Hash32, bytes]] = (BLANK_ROOT_HASH, {})


class _Poisoned(Exception):
    """A transaction whose execution raised something other than a validation error."""

    def __init__(self, entry: PendingTx, cause: BaseException) -> None:
        super().__init__(f"{type(cause).__name__}: {cause}")
        self.entry = entry


class _BelowIntrinsicGas(ExecutionFailed):
    """A call given less gas than its intrinsic gas (estimation tries such limits and moves on)."""


class _CallBudget:
    """The time one eth_call / eth_estimateGas may execute for; cancelled when the chain closes."""

    __slots__ = ("seconds", "deadline", "cancelled", "stopped", "_now")

    def __init__(self, seconds: float, clock: Clock = SYSTEM_CLOCK) -> None:
        self._now = clock.monotonic
        self.seconds = seconds
        self.deadline = self._now() + seconds
        self.cancelled = False
        self.stopped = False  # an execution was stopped by it

    def cancel(self) -> None:
        self.cancelled = True
        self.deadline = -math.inf

    def check(self) -> None:
        if self._now() > self.deadline:
            self.stopped = True
            raise _CallStopped()


class _CallStopped(Exception):
    """A call's time ran out. Not a py-evm VMError, so no frame of the EVM catches it: it ends the
    whole execution, whose changes the caller reverts."""


def _deadline_checked(opcode: int) -> OpcodeAPI:
    """An opcode that checks the call's time first: JUMP and JUMPI, which every loop executes."""
    return wrapped_opcode(EstimationComputation.opcodes, opcode,
                          lambda computation: cast(_TimedState, computation.state).budget.check())


class _TimedComputation(EstimationComputation):
    """Checks the call's time at every jump and every new frame (CALL, CREATE: recursion without
    loops), so that no call runs much past its time limit whatever its code and gas."""

    opcodes = {
        **EstimationComputation.opcodes,
        JUMP: _deadline_checked(JUMP),
        JUMPI: _deadline_checked(JUMPI),
    }

    @classmethod
    def apply_computation(
        cls,
        state: StateAPI,
        message: MessageAPI,
        transaction_context: TransactionContextAPI,
        parent_computation: ComputationAPI | None = None,
    ) -> ComputationAPI:
        cast(_TimedState, state).budget.check()
        return super().apply_computation(state, message, transaction_context, parent_computation)


class _TimedState(EstimationState):
    computation_class = _TimedComputation
    budget = _CallBudget(math.inf)  # replaced by each call's own


class _TimedCallVM(CallVM):
    """The VM of eth_call / eth_estimateGas, with the time limit."""

    _state_class = _TimedState


class EmbeddedChain:
    """A persistent single-node chain. Open with :meth:`open`; close with :meth:`close`."""

    def __init__(
        self,
        store: ChainStore,
        chain: DatasealChain,
        *,
        created: bool,
        mining: Mining,
        tuning: Tuning,
        clock: Clock,
    ) -> None:
        self._store = store
        self._chain = chain
        self.created = created
        self.mining = mining
        self.tuning = tuning
        self.clock = clock
        self.chain_id = int(chain.chain_id)
        self._lock = threading.RLock()
        self._work = threading.Condition(self._lock)
        self._mined = threading.Condition(self._lock)
        self._pool = PendingPool()
        self._head: BlockHeaderAPI = chain.get_canonical_head()
        self._head_state: StateAPI | None = None
        self._head_call_vm: VirtualMachineAPI | None = None
        self._blocks: Any = LRU(128)  # block hash -> _BlockData
        self._dropped: Any = LRU(4096)  # tx hash -> reason it was dropped at mining
        self._builder = DatasealVM.get_transaction_builder()
        self._stopping = False
        self._closed = False
        self._miner: threading.Thread | None = None
        self._miner_token = object()
        self._miner_failed: str | None = None
        self._waiters = 0  # threads waiting for a pending transaction's block
        self._busy = 0  # threads inside a chain method (running, queued for the lock, or waiting)
        self._busy_lock = threading.Lock()
        self._next_block_at = 0.0  # interval mining: when (clock.monotonic) the next block is due
        self._building = False  # a block is being executed (possibly with the lock released)
        self._changes = 0  # bumped when a transaction is accepted or a block is made: wakes a stalled miner
        self._calls: set[_CallBudget] = set()  # eth_call / eth_estimateGas executing without the lock
        self._calls_done = threading.Condition(self._lock)
        self._serving = 0  # requests being served: the miner gives way to them
        self._serving_changed = threading.Condition(threading.Lock())
        self._serving_depth = threading.local()  # per thread: how many serving() it is inside
        self._miner_owed_until = 0.0  # the miner does not pause again before then (clock.monotonic; see _give_way)

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
                chain = _create_genesis(store, genesis or Genesis(), clock)
            else:
                chain = _reopen(store, genesis)
            instance = cls(store, chain, created=created, mining=mining, tuning=tuning, clock=clock)
            instance._replay_journal()
        except BaseException:
            store.close()
            raise
        if mining.automatic:
            instance._start_miner()
        return instance

    def close(self, *, flush: bool = True) -> None:
        """Stop the miner and close the file. With ``flush`` (and automatic mining) the pending
        transactions are mined first; otherwise — and those waiting for the base fee to fall —
        they stay in the journal for the next open. Calls still running are stopped."""
        with self._lock:
            if self._closed:
                return
            self._stopping = True
            self._work.notify_all()
            self._mined.notify_all()
        if self._miner is not None:
            self._miner.join()
        with self._lock:
            while self._calls:  # calls running without the lock: stop them before the file closes
                for budget in self._calls:
                    budget.cancel()
                self.clock.wait(self._calls_done, None)
            try:
                if flush and self.mining.automatic:
                    for _ in range(1000):
                        if not self._pool or self._mine_locked() is None:
                            break
            except Exception:
                logger.exception("mining the pending transactions at shutdown failed; they stay in the journal")
            finally:
                self._closed = True
                self._store.close()

    def __enter__(self) -> EmbeddedChain:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def path(self) -> Path:
        return self._store.path

    @property
    def closed(self) -> bool:
        return self._closed

    def meta(self, key: str) -> str | None:
        with self._locked():
            return self._store.get_meta(key)

    def set_meta(self, key: str, value: str) -> None:
        if key in _RESERVED_META:
            raise EmbeddedChainError(f"meta key {key!r} is set at genesis and cannot change")
        with self._locked():
            self._store.set_meta({key: value})

    @property
    def genesis_alloc(self) -> dict[str, int]:
        with self._locked():
            return _recorded_alloc(self._store)

    @property
    def gas_limit(self) -> int:
        return int(self._head.gas_limit)

    def integrity_check(self) -> str:
        with self._locked():
            return self._store.integrity_check()

    @contextmanager
    def _locked(self) -> Iterator[None]:
        with self._busy_lock:
            self._busy += 1
        try:
            with self._lock:
                if self._closed:
                    raise EmbeddedChainError(f"the chain {self._store.path} is closed; open it again")
                yield
        finally:
            with self._busy_lock:
                self._busy -= 1

    # ============================================================================= serving first

    @contextmanager
    def serving(self) -> Iterator[None]:
        """Mark a request being served by this thread: the miner pauses meanwhile (module doc)."""
        depth = getattr(self._serving_depth, "n", 0)
        self._serving_depth.n = depth + 1
        if depth == 0:
            self._serve_count(+1)
        try:
            yield
        finally:
            self._serving_depth.n = depth
            if depth == 0:
                self._serve_count(-1)

    @contextmanager
    def stepping_aside(self) -> Iterator[None]:
        """A request that waits or runs long does not hold the miner back meanwhile."""
        depth = getattr(self._serving_depth, "n", 0)
        if depth:
            self._serving_depth.n = 0
            self._serve_count(-1)
        try:
            yield
        finally:
            if depth:
                self._serve_count(+1)
                self._serving_depth.n = depth

    def _serve_count(self, step: int) -> None:
        with self._serving_changed:
            self._serving += step
            if not self._serving:
                self._serving_changed.notify_all()

    def _give_way(self) -> None:
        """The miner (lock released, between transactions and at jumps): pause while requests are served.

        A pause lasts until no request is being served, or ``tuning.miner_give_way``; one that ended
        with requests still being served is followed by as long a run without pausing, so that a
        flood of requests (or one slow eth_call) costs the miner at most half its time.
        """
        if not self._serving:
            return
        clock = self.clock
        paused_at = clock.monotonic()
        if paused_at < self._miner_owed_until:
            return
        deadline = paused_at + self.tuning.miner_give_way
        with self._serving_changed:
            while self._serving and (left := deadline - clock.monotonic()) > 0:
                clock.wait(self._serving_changed, left)
            still_serving = self._serving > 0
        if still_serving:
            resumed = clock.monotonic()
            self._miner_owed_until = resumed + (resumed - paused_at)

    # ============================================================================= transactions

    def send_raw_transaction(self, raw: bytes) -> bytes:
        """Accept a signed transaction; its hash. Raises :class:`TransactionRejected` with the reason."""
        tx, sender = self._decode(raw)
        with self._locked():
            if self._stopping:
                raise TransactionRejected("the node is shutting down: send the transaction again after it restarts")
            if self._miner_failed is not None:
                raise TransactionRejected(
                    f"the node's miner stopped ({self._miner_failed}): restart the node; accepted transactions are kept"
                )
            self._admit(tx, raw, sender, journal=True)
            self._changes += 1
            if self.mining.mode == "idle":
                self._work.notify()
        return bytes(tx.hash)

    def pending_nonce(self, address: bytes) -> int:
        """The nonce of ``address``'s next transaction, counting its pending ones."""
        with self._locked():
            return self._pool.next_nonce(address, self._state_at(self._head).get_nonce(Address(address)))

    @property
    def pending_count(self) -> int:
        with self._locked():
            return len(self._pool)

    def dropped_reason(self, tx_hash: bytes) -> str | None:
        """Why an accepted transaction was dropped when its block was built (None if it was not)."""
        with self._locked():
            return cast(str | None, self._dropped.get(tx_hash))

    def mine(self, *, timestamp: int | None = None) -> MinedBlock:
        """Mine one block now with the pending transactions that fit (an empty block if none)."""
        with self._locked():
            if timestamp is not None and timestamp < self._head.timestamp:
                raise InvalidParams(
                    f"timestamp {timestamp} is before the latest block's ({self._head.timestamp}): "
                    "block timestamps never go backwards"
                )
            mined = self._mine_locked(timestamp=timestamp, allow_empty=True)
            assert mined is not None
            return mined

    def wait_until_mined(self, tx_hash: bytes, timeout: float) -> bool:
        """Wait up to ``timeout`` seconds while ``tx_hash`` is pending; whether it left the pool."""
        deadline = self.clock.monotonic() + timeout
        with self._locked():
            while tx_hash in self._pool:
                remaining = deadline - self.clock.monotonic()
                if remaining <= 0 or not self._miner_running():
                    return False
                self._wait_for_block(remaining)
            return True

    def _wait_for_block(self, timeout: float) -> None:
        """Wait (lock held) for the next block, telling an idle miner not to linger."""
        self._waiters += 1
        try:
            self._work.notify()
            with self.stepping_aside():
                self.clock.wait(self._mined, timeout)
        finally:
            self._waiters -= 1

    def _decode(self, raw: bytes) -> tuple[SignedTransactionAPI, bytes]:
        max_bytes = self.tuning.max_tx_bytes
        if len(raw) > max_bytes:
            raise TransactionRejected(
                f"oversized data: the transaction is {len(raw)} bytes, at most {max_bytes} (spread the data over "
                "several transactions, or keep it off chain and send its hash)"
            )
        if raw[:1] == bytes([BLOB_TX_TYPE]):
            raise TransactionRejected(
                "blob transactions (type 3) are not supported by the embedded chain: send the data as calldata "
                "in a type 2 (EIP-1559) transaction"
            )
        try:
            tx = self._builder.decode(raw)
        except Exception as exc:  # rlp and py-evm raise several unrelated types for malformed bytes
            raise TransactionRejected(
                f"the bytes are not a signed transaction ({type(exc).__name__}: {exc}): send the raw bytes that "
                "signing produced (e.g. eth_account's SignedTransaction.raw_transaction)",
                code=INVALID_PARAMS,
            ) from None
        try:
            tx.validate()
        except ValidationError as exc:
            raise TransactionRejected(f"invalid transaction: {exc}") from None
        chain_id = tx.chain_id
        if chain_id is None:
            raise TransactionRejected(
                "only replay-protected (EIP-155) transactions are accepted: sign with chain id "
                f"{self.chain_id}"
            )
        if chain_id != self.chain_id:
            raise TransactionRejected(
                f"invalid chain id: the transaction is signed for chain {chain_id}, this chain is {self.chain_id}: "
                "sign it again with this chain's id (eth_chainId)"
            )
        try:
            sender = bytes(tx.sender)
        except Exception as exc:  # eth_keys raises BadSignature or ValidationError
            raise TransactionRejected(
                f"invalid signature: {exc} (sign the transaction again with the sending account's key)"
            ) from None
        return tx, sender

    def _admit(self, tx: SignedTransactionAPI, raw: bytes, sender: bytes, *, journal: bool) -> PendingTx:
        tx_hash = bytes(tx.hash)

        def who() -> str:  # the sender as a person reads it, for a refusal's message
            return to_checksum_address(sender)

        if tx_hash in self._pool:
            raise TransactionRejected(f"already known: transaction 0x{tx_hash.hex()} is pending")
        state = self._state_at(self._head)
        state_nonce = state.get_nonce(Address(sender))
        nonce = int(tx.nonce)
        if nonce < state_nonce:
            raise TransactionRejected(
                f"nonce too low: address {who()}, tx: {nonce} state: {state_nonce} (the next nonce is "
                f"{self._pool.next_nonce(sender, state_nonce)}; ask eth_getTransactionCount with \"pending\")"
            )
        expected = self._pool.next_nonce(sender, state_nonce)
        if nonce > expected:
            raise TransactionRejected(
                f"nonce too high: address {who()}, tx: {nonce}, next: {expected} (this node keeps no gapped "
                "transactions: send the missing nonces first)"
            )
        wanted = max(int(tx.intrinsic_gas), _calldata_floor(bytes(tx.data)))
        if tx.gas < wanted:
            raise TransactionRejected(
                f"intrinsic gas too low: have {tx.gas}, want {wanted} (sign it again with a gas limit of at least "
                f"{wanted}; eth_estimateGas tells what it needs)"
            )
        gas_limit = int(self._head.gas_limit)
        if tx.gas > gas_limit:
            raise TransactionRejected(
                f"exceeds block gas limit: the transaction asks for {tx.gas} gas, blocks hold {gas_limit} (lower "
                "its gas limit to what eth_estimateGas says, or split the work over several transactions)"
            )
        base_fee = self.next_base_fee()
        max_fee = int(tx.max_fee_per_gas)
        if max_fee < base_fee and journal:  # (a journalled one was accepted once: it waits for the fee to fall)
            raise TransactionRejected(
                f"max fee per gas less than block base fee: address {who()}, maxFeePerGas: {max_fee}, "
                f"baseFee: {base_fee} (raise maxFeePerGas to at least the base fee; eth_gasPrice suggests one)"
            )
        replacing = self._pool.at_nonce(sender, nonce) if nonce < expected else None
        if replacing is not None:
            old = replacing.tx
            bump = 100 + REPLACEMENT_BUMP_PERCENT
            if (max_fee * 100 < int(old.max_fee_per_gas) * bump
                    or int(tx.max_priority_fee_per_gas) * 100 < int(old.max_priority_fee_per_gas) * bump):
                raise TransactionRejected(
                    f"replacement transaction underpriced: transaction 0x{bytes(replacing.hash).hex()} with nonce "
                    f"{nonce} is pending; a replacement must raise both fee caps by {REPLACEMENT_BUMP_PERCENT}%"
                )
        balance = state.get_balance(Address(sender))
        cost = int(tx.gas) * max_fee + int(tx.value)
        if balance < cost:
            raise TransactionRejected(
                f"insufficient funds for gas * price + value: address {who()} have {balance} want {cost} (fund "
                "the account, or lower the value, gas limit or fee cap)"
            )
        if replacing is not None:
            if journal:
                self._store.journal_replace(replacing.hash, tx_hash, raw)
            return self._pool.replace(replacing, tx, raw)
        if journal:
            self._store.journal_add(tx_hash, raw)
        return self._pool.add(tx, raw, sender)

    def _replay_journal(self) -> None:
        stale: list[bytes] = []
        for tx_hash, raw in self._store.journal_items():
            try:
                tx, sender = self._decode(raw)
                self._admit(tx, raw, sender, journal=False)
            except TransactionRejected as exc:
                logger.warning("journalled transaction 0x%s dropped on reopening: %s", tx_hash.hex(), exc.message)
                self._dropped[tx_hash] = exc.message
                stale.append(tx_hash)
        self._store.journal_remove(stale)
        if self._pool:
            logger.info("%d journalled transaction(s) waiting to be mined", len(self._pool))

    # ============================================================================= mining

    def set_mining(self, mining: Mining) -> None:
        """Switch the mining mode (the running miner finishes its block and stops first)."""
        with self._locked():
            self._miner_token = object()  # tells the running miner to stop
            self._work.notify_all()
            old = self._miner
        if old is not None:
            old.join()
        with self._locked():
            self.mining = mining
            self._miner = None
            if mining.automatic:
                self._start_miner()
            self._mined.notify_all()

    def _start_miner(self) -> None:
        token = self._miner_token = object()
        self._miner = threading.Thread(target=self._miner_loop, args=(token,), name="dataseal-miner", daemon=True)
        self._miner.start()

    def _miner_running(self) -> bool:
        return self._miner is not None and self._miner.is_alive() and not self._stopping

    def _miner_loop(self, token: object) -> None:
        def stop() -> bool:
            return self._stopping or self._miner_token is not token

        stalled_at: int | None = None  # the change count when a try made nothing: wait for the next change
        try:
            with self._lock:
                while not stop():
                    if self.mining.mode == "idle":
                        while (not self._pool or self._changes == stalled_at) and not stop():
                            self.clock.wait(self._work, None)
                        self._linger(stop)
                    else:
                        deadline = self._next_block_at = self.clock.monotonic() + self.mining.block_time
                        while not stop() and (remaining := deadline - self.clock.monotonic()) > 0:
                            self.clock.wait(self._work, remaining)
                    if stop():
                        break
                    if self._pool:
                        before = self._changes
                        self._mine_guarded()
                        # Nothing could be mined (transactions waiting for the base fee to fall, and
                        # it does not): sleep until a transaction arrives or a block is made otherwise.
                        stalled_at = before if self._changes == before else None
        except BaseException as exc:  # the miner must never die silently
            self._miner_failed = f"{type(exc).__name__}: {exc}"
            logger.exception("the miner stopped")
            raise

    def _linger(self, stop: Callable[[], bool]) -> None:
        """Idle mining: let a burst of transactions gather before mining, so that they share a
        block (a block costs py-evm several milliseconds beyond its transactions: state root,
        tries, header, commit). Mine once no transaction arrived for ``tuning.idle_gap`` (the
        senders paused), ``tuning.idle_batch`` transactions or a block's gas wait, or
        ``tuning.idle_linger`` passed; and at once when someone waits for a receipt and no other request is at the chain
        (a lone client sending one transaction at a time; when other requests are, some of them
        sends, they are let in first)."""
        clock, tuning = self.clock, self.tuning
        now = clock.monotonic()
        deadline = now + tuning.idle_linger
        seen, last_arrival = len(self._pool), now
        while not stop() and self._pool.total_gas < self.gas_limit and len(self._pool) < tuning.idle_batch:
            now = clock.monotonic()
            if len(self._pool) != seen:
                seen, last_arrival = len(self._pool), now
            if self._waiters and self._busy <= self._waiters:
                return
            until = min(deadline, last_arrival + tuning.idle_gap)
            if now >= until:
                return
            clock.wait(self._work, min(until - now, 0.001) if self._waiters else until - now)

    def _mine_guarded(self) -> None:
        try:
            self._mine_locked(concurrent=True, lower_fee=True)
        except Exception:
            # Not attributable to one transaction (disk full, a bug): the block was rolled back.
            logger.exception("building a block failed; retrying in a second")
            self._changes += 1  # (not a stall: try again)
            self.clock.wait(self._work, 1.0)

    def _mine_locked(
        self, *, timestamp: int | None = None, allow_empty: bool = False, concurrent: bool = False,
        lower_fee: bool = False,
    ) -> MinedBlock | None:
        while self._building:  # the miner is executing a block with the lock released: build on top of it
            with self.stepping_aside():
                self.clock.wait(self._mined, None)
        candidates = self._pool.ordered()
        while True:
            try:
                return self._build_block(candidates, timestamp, allow_empty, concurrent=concurrent,
                                         lower_fee=lower_fee)
            except _Poisoned as poisoned:
                entry = poisoned.entry
                logger.error("transaction 0x%s could not be executed (%s); dropping it", entry.hash.hex(), poisoned)
                losers = [c for c in candidates if c.sender == entry.sender and c.nonce >= entry.nonce]
                reason = f"the node could not execute it: {poisoned}"
                with self._store.transaction():
                    self._store.journal_remove(c.hash for c in losers)
                for loser in losers:
                    self._pool.remove(loser.hash)
                    self._dropped[loser.hash] = reason
                candidates = [c for c in candidates if c not in losers]
                self._mined.notify_all()

    def _build_block(
        self, candidates: list[PendingTx], timestamp: int | None, allow_empty: bool, *, concurrent: bool = False,
        lower_fee: bool = False,
    ) -> MinedBlock | None:
        """Build, commit and announce one block on the head (the lock held).

        The transactions run first, with nothing written: py-evm keeps the new state in memory
        until :meth:`_commit_block`. With ``concurrent`` (the miner thread, holding the lock once)
        the lock is released meanwhile, so that transactions keep being accepted and reads keep
        being answered while the block executes; :attr:`_building` tells another builder to wait.
        Only this builder writes blocks, so what the readers see does not change under it.
        With ``lower_fee`` (the miner) an empty block is made when transactions wait for the base
        fee to fall and it falls after this block.
        """
        parent = self._head
        stamp = max(int(parent.timestamp), int(self.clock.time()) if timestamp is None else timestamp)
        header = self._chain.create_header_from_parent(parent, timestamp=stamp, coinbase=ZERO_ADDRESS)
        vm = self._chain.get_vm(header)
        self._building = True
        try:
            if concurrent:
                self._lock.release()
                MINER.give_way = self._give_way
            try:
                built = self._execute_block(vm, header, candidates, allow_empty, lower_fee=lower_fee)
            finally:
                if concurrent:
                    MINER.give_way = None
                    self._lock.acquire()
            return self._commit_block(vm, parent, built)
        finally:
            self._building = False
            self._mined.notify_all()

    def _execute_block(
        self, vm: VirtualMachineAPI, header: BlockHeaderAPI, candidates: list[PendingTx], allow_empty: bool,
        *, lower_fee: bool = False,
    ) -> _ExecutedBlock:
        """Run the candidates on ``vm``; compute the block's tries and state root in memory (no writes)."""
        current = header
        built = _ExecutedBlock(header)
        base_fee = _base_fee(header)
        blocked: dict[bytes, str | None] = {}  # sender -> why its later transactions are dropped (None: they wait)
        for entry in candidates:
            if entry.sender in blocked:
                reason = blocked[entry.sender]
                if reason is not None:
                    reason = f"dropped with the transaction before it from the same sender ({reason})"
                    built.dropped.append((entry, reason))
                continue
            if current.gas_used + entry.tx.gas > current.gas_limit:
                blocked[entry.sender] = None  # waits for the next block, with its sender's later ones
                continue
            if int(entry.tx.max_fee_per_gas) < base_fee:
                # Valid, only too cheap for this block: it waits (with its sender's later ones) for the
                # base fee to fall, or for a replacement paying more. py-evm would call it invalid.
                blocked[entry.sender] = None
                built.fee_waiting = True
                continue
            give_way()  # the miner, the lock released (see _build_block): requests being served first
            try:
                receipt, _ = vm.apply_transaction(current, entry.tx)
            except ValidationError as exc:
                reason = str(exc)
                blocked[entry.sender] = reason
                built.dropped.append((entry, reason))
                continue
            except Exception as exc:
                raise _Poisoned(entry, exc) from exc
            current = vm.add_receipt_to_header(current, receipt)
            # (no vm.increment_blob_gas_used: blob transactions are refused, and it adds 0 for the others)
            built.included.append(entry)
            built.receipts.append(receipt)
        built.header = current
        falling = lower_fee and built.fee_waiting and calculate_expected_base_fee_per_gas(current) < base_fee
        if built.included or allow_empty or falling:
            built.wanted = True
            give_way()  # (the miner: requests being served first, here and in the state root's work)
            built.tx_trie = ordered_trie_root_and_nodes([e.tx.encode() for e in built.included])
            built.receipt_trie = ordered_trie_root_and_nodes([r.encode() for r in built.receipts])
            give_way()
            vm.state.make_state_root()  # the trie work; finalizing adds only the coinbase's touch
        return built

    def _commit_block(self, vm: VirtualMachineAPI, parent: BlockHeaderAPI, built: _ExecutedBlock) -> MinedBlock | None:
        """Write an executed block as one SQLite transaction, then make it the head (the lock held)."""
        mined_block: BlockAPI | None = None
        included, dropped = built.included, built.dropped
        with self._store.transaction():
            if built.wanted:
                # What vm.set_block_transactions_and_withdrawals does, with the tries computed above.
                tx_root, tx_nodes = built.tx_trie
                receipt_root, receipt_nodes = built.receipt_trie
                self._chain.chaindb.persist_trie_data_dict(tx_nodes)
                self._chain.chaindb.persist_trie_data_dict(receipt_nodes)
                # What vm.pack_block + vm.finalize_block do (no block rewards since the merge: finalizing
                # is persisting the state and stamping its root), without their Block.copy(), which
                # deep-copies every transaction of the block twice: the block is built once instead.
                # vm.mine_block() would also validate the block, rebuilding its transaction trie: this
                # builder made the trie a moment ago, so only the header is checked against its parent.
                vm.state.persist()
                header = built.header.copy(transaction_root=tx_root, receipt_root=receipt_root,
                                           mix_hash=os.urandom(32), state_root=vm.state.state_root)
                empty = vm.get_block()
                mined_block = type(empty)(header=header, transactions=[e.tx for e in included],
                                          uncles=[], withdrawals=empty.withdrawals)
                vm.validate_header(mined_block.header, parent)
                self._chain.chaindb.persist_block(mined_block)
            self._store.journal_remove([e.hash for e in included] + [e.hash for e, _ in dropped])
        # committed
        for entry in included:
            self._pool.remove(entry.hash)
        for entry, reason in dropped:
            self._pool.remove(entry.hash)
            self._dropped[entry.hash] = reason
            logger.warning("transaction 0x%s from %s dropped: %s", entry.hash.hex(),
                           to_checksum_address(entry.sender), reason)
        if mined_block is None:
            if dropped:
                self._changes += 1
                self._mined.notify_all()
            return None
        self._head = mined_block.header
        self._head_state = None
        self._head_call_vm = None
        self._changes += 1
        self._work.notify()  # a stalled miner: the base fee changed
        self._blocks[mined_block.hash] = _BlockData(mined_block, built.receipts, [e.sender for e in included])
        self._mined.notify_all()
        return MinedBlock(
            number=int(mined_block.number),
            hash=bytes(mined_block.hash),
            transactions=tuple(e.hash for e in included),
            dropped=tuple((e.hash, reason) for e, reason in dropped),
        )

    # ============================================================================= blocks

    def head(self) -> BlockHeaderAPI:
        with self._locked():
            return self._head

    def header_for(self, ref: BlockRef) -> BlockHeaderAPI:
        """The header named by ``ref``; raises :class:`BlockNotFound`."""
        with self._locked():
            return self._header_for(ref)

    def _header_for(self, ref: BlockRef) -> BlockHeaderAPI:
        if isinstance(ref, str):
            if ref == "earliest":
                return self._header_at(0)
            if ref in BLOCK_TAGS:
                return self._head
            raise InvalidParams(
                f"unknown block tag {ref!r}: use a number, a block hash, or one of {', '.join(BLOCK_TAGS)}"
            )
        if isinstance(ref, bytes):
            header = self._header_by_hash(ref)
            if header is None:
                raise BlockNotFound(f"unknown block: no canonical block has hash 0x{ref.hex()}")
            return header
        if ref > self._head.block_number:
            raise BlockNotFound(
                f"header not found: block {ref} is beyond the head of this chain ({self._head.block_number})"
            )
        return self._header_at(ref)

    def _header_at(self, number: int) -> BlockHeaderAPI:
        return self._chain.get_canonical_block_header_by_number(BlockNumber(number))

    def _header_by_hash(self, block_hash: bytes) -> BlockHeaderAPI | None:
        try:
            header = self._chain.get_block_header_by_hash(Hash32(block_hash))
        except (HeaderNotFound, ValidationError):
            return None
        if header.block_number > self._head.block_number:
            return None
        if self._chain.get_canonical_block_hash(header.block_number) != header.hash:
            return None
        return header

    def block_by_ref(self, ref: BlockRef) -> BlockAPI | None:
        """The block named by ``ref``, or None when there is no such block."""
        with self._locked():
            try:
                header = self._header_for(ref)
            except BlockNotFound:
                return None
            return self._block_data(header).block

    def _block_data(self, header: BlockHeaderAPI) -> _BlockData:
        data = self._blocks.get(header.hash)
        if data is None:
            block = self._chain.get_block_by_header(header)
            data = _BlockData(block, block.get_receipts(self._chain.chaindb))
            self._blocks[header.hash] = data
        return cast(_BlockData, data)

    def block_senders(self, block: BlockAPI) -> list[bytes]:
        with self._locked():
            data = self._block_data(block.header)
            return [data.sender(i) for i in range(len(data.receipts))]

    def block_receipts(self, ref: BlockRef) -> list[ReceiptRecord] | None:
        with self._locked():
            try:
                header = self._header_for(ref)
            except BlockNotFound:
                return None
            data = self._block_data(header)
            return [self._receipt_record(data, i) for i in range(len(data.receipts))]

    # ============================================================================= transactions (reads)

    def get_transaction(self, tx_hash: bytes) -> TransactionRecord | None:
        with self._locked():
            location = self._locate(tx_hash)
            if location is not None:
                data, index = location
                return TransactionRecord(data.block.transactions[index], data.sender(index), data.header, index)
            entry = self._pool.get(tx_hash)
            if entry is not None:
                return TransactionRecord(entry.tx, entry.sender, None, None)
            return None

    def get_receipt(self, tx_hash: bytes, *, wait: float | None = None) -> ReceiptRecord | None:
        """The receipt of a mined transaction. For a pending one, wait up to ``wait`` seconds
        (default ``tuning.receipt_wait``) for its block when mining is automatic and the block is due by
        then; otherwise answer None at once, as for an unknown transaction."""
        deadline: float | None = None
        with self._locked():
            while True:
                location = self._locate(tx_hash)
                if location is not None:
                    return self._receipt_record(*location)
                if tx_hash not in self._pool or not self._miner_running():
                    return None
                if deadline is None:
                    deadline = self.clock.monotonic() + (self.tuning.receipt_wait if wait is None else wait)
                    if self.mining.mode == "interval" and self._next_block_at > deadline:
                        return None  # its block comes later than anyone would wait here
                remaining = deadline - self.clock.monotonic()
                if remaining <= 0:
                    return None
                self._wait_for_block(remaining)

    def _locate(self, tx_hash: bytes) -> tuple[_BlockData, int] | None:
        try:
            number, index = self._chain.chaindb.get_transaction_index(Hash32(tx_hash))
        except TransactionNotFound:
            return None
        if number > self._head.block_number:
            return None
        header = self._header_at(number)
        data = self._block_data(header)
        if index >= len(data.receipts) or data.block.transactions[index].hash != tx_hash:
            return None
        return data, index

    def _receipt_record(self, data: _BlockData, index: int) -> ReceiptRecord:
        return ReceiptRecord(
            tx=data.block.transactions[index],
            sender=data.sender(index),
            header=data.header,
            index=index,
            receipt=data.receipts[index],
            gas_used=data.gas_used(index),
            first_log_index=data.log_offsets[index],
        )

    # ============================================================================= state

    def _state_at(self, header: BlockHeaderAPI) -> StateAPI:
        if header.hash == self._head.hash:
            if self._head_state is None:
                self._head_state = self._chain.get_vm(self._head).state
            return self._head_state
        return self._chain.get_vm(header).state

    def get_balance(self, address: bytes, ref: BlockRef = "latest") -> int:
        with self._locked():
            return int(self._state_at(self._header_for(ref)).get_balance(Address(address)))

    def get_nonce(self, address: bytes, ref: BlockRef = "latest") -> int:
        if ref == "pending":
            return self.pending_nonce(address)
        with self._locked():
            return int(self._state_at(self._header_for(ref)).get_nonce(Address(address)))

    def get_code(self, address: bytes, ref: BlockRef = "latest") -> bytes:
        with self._locked():
            return bytes(self._state_at(self._header_for(ref)).get_code(Address(address)))

    def get_storage_at(self, address: bytes, slot: int, ref: BlockRef = "latest") -> int:
        with self._locked():
            return int(self._state_at(self._header_for(ref)).get_storage(Address(address), slot))

    # ============================================================================= execution

    def call(self, request: CallRequest, ref: BlockRef = "latest") -> bytes:
        """Execute ``request`` on the state after block ``ref`` and return its output.

        Runs without the chain's lock, with at most ``tuning.call_gas_cap`` gas for at most
        ``tuning.call_timeout`` seconds. Raises :class:`ExecutionReverted` (with the revert bytes) or
        :class:`ExecutionFailed` (out of gas, invalid, stopped at the time limit).
        """
        with self._calling(ref) as (header, vm, budget):
            gas = self._call_gas(header, request)
            computation = self._execute(vm, request, gas, budget)
        if computation.is_error:
            raise _execution_error(computation, gas)
        return bytes(computation.output)

    def estimate_gas(self, request: CallRequest, ref: BlockRef = "latest") -> int:
        """The gas limit ``request`` needs to succeed.

        One execution at the cap tells what the transaction uses. When its code neither calls out
        nor reads its remaining gas, nothing it does depends on the limit except running out and
        SSTORE's refusal to run with 2300 gas or less left, so what it used (plus 2300 if it stored)
        is enough.
        Otherwise that is checked by executing again (adding the 1/64 each call withholds if
        needed) and, if still short, by bisection to within 0.5 %. All executions together get
        ``tuning.call_timeout`` seconds, without the chain's lock (as :meth:`call`).
        """
        with self._calling(ref) as (header, vm, budget):
            cap = self._call_gas(header, request)
            computation = self._execute(vm, request, cap, budget)
            if computation.is_error:
                raise _execution_error(computation, cap)
            used = max(cap - computation.get_gas_remaining(), _calldata_floor(request.data))
            if not computation.children and not getattr(computation, "read_gas", False):
                enough = used + (SSTORE_SENTRY_GAS if getattr(computation, "stored", False) else 0)
                if enough <= cap:
                    return enough

            def succeeds(gas: int) -> bool:
                try:
                    return not self._execute(vm, request, gas, budget).is_error
                except _BelowIntrinsicGas:
                    return False

            if used >= cap or succeeds(used):
                return min(used, cap)
            low, high = used, cap
            retry = min(cap, used * 64 // 63 + SSTORE_SENTRY_GAS)
            if succeeds(retry):
                high = retry
            else:
                low = retry
            while high - low > max(1_000, high // 200):  # an estimate may run a little high, never low
                middle = (low + high) // 2
                if succeeds(middle):
                    high = middle
                else:
                    low = middle
            return high

    def _call_gas(self, header: BlockHeaderAPI, request: CallRequest) -> int:
        """The gas a call runs with: what it asks for (the block's gas limit if nothing), capped
        at the block's gas limit and ``tuning.call_gas_cap``."""
        cap = min(int(header.gas_limit), self.tuning.call_gas_cap)
        return cap if request.gas is None else min(request.gas, cap)

    @contextmanager
    def _calling(self, ref: BlockRef) -> Iterator[tuple[BlockHeaderAPI, VirtualMachineAPI, _CallBudget]]:
        """A VM over the state after block ``ref``, for executing calls without the chain's lock.

        The state of a block is never rewritten (trie nodes are stored by their hash; nothing is
        pruned) and the store serialises reads, so a VM of the call's own reads it safely while
        the miner builds and commits blocks. The head's VM (warm caches) is lent to one call at a
        time and taken back unless the call failed midway or the head moved on.
        """
        with self._locked():
            header = self._header_for(ref)
            vm: VirtualMachineAPI | None = None
            if header.hash == self._head.hash:
                vm, self._head_call_vm = self._head_call_vm, None
            if vm is None:
                vm = self._new_call_vm(header)
            budget = _CallBudget(self.tuning.call_timeout, self.clock)
            if self._stopping:
                budget.cancel()
            self._calls.add(budget)
        clean = False  # whether the VM's state is as it was (a stopped execution may leave it half reverted)
        try:
            yield header, vm, budget
            clean = True
        except EmbeddedChainError:
            clean = not budget.stopped
            raise
        finally:
            with self._lock:
                self._calls.discard(budget)
                if clean and header.hash == self._head.hash and self._head_call_vm is None:
                    self._head_call_vm = vm
                self._calls_done.notify_all()

    def _new_call_vm(self, header: BlockHeaderAPI) -> VirtualMachineAPI:
        # Calls pay nothing: the block's base fee is zeroed so that a zero gas price is valid.
        return _TimedCallVM(
            header=header.copy(base_fee_per_gas=0),
            chaindb=self._chain.chaindb,
            chain_context=ChainContext(self.chain_id),
            consensus_context=self._chain.consensus_context,
        )

    def _execute(
        self, vm: VirtualMachineAPI, request: CallRequest, gas: int, budget: _CallBudget
    ) -> ComputationAPI:
        state = vm.state
        sender = request.sender or ZERO_ADDRESS
        builder: Any = vm.get_transaction_builder()
        unsigned = builder.new_unsigned_dynamic_fee_transaction(
            chain_id=self.chain_id,
            nonce=state.get_nonce(Address(sender)),
            max_priority_fee_per_gas=0,
            max_fee_per_gas=0,
            gas=gas,
            to=request.to or b"",
            value=request.value,
            data=request.data,
            access_list=request.access_list,
        )
        spoofed = cast(SignedTransactionAPI, SpoofTransaction(unsigned, from_=sender))
        intrinsic = max(int(spoofed.intrinsic_gas), _calldata_floor(request.data))
        if gas < intrinsic:
            raise _BelowIntrinsicGas(
                f"gas required exceeds allowance ({gas}): the intrinsic gas alone is {intrinsic}; give it at least "
                f"{intrinsic} gas"
            )
        cast(_TimedState, state).budget = budget
        snapshot = state.snapshot()
        try:
            return state.apply_transaction(spoofed)
        except ValidationError as exc:
            raise ExecutionFailed(str(exc)) from None
        except _CallStopped:
            if budget.cancelled:
                raise ExecutionFailed(
                    "the node is shutting down: the call was stopped; send it again once the node is back"
                ) from None
            seconds = f"{budget.seconds:g}"
            raise ExecutionFailed(
                f"execution aborted (timeout = {seconds}s): the call was stopped after {seconds} s of EVM execution "
                f"with {gas} gas left to burn; give it a lower gas limit, or fix the code it runs (an endless loop?)"
            ) from None
        finally:
            state.revert(snapshot)

    # ============================================================================= logs

    def get_logs(self, flt: LogFilter) -> list[LogRecord]:
        with self._locked():
            if flt.block_hash is not None:
                header = self._header_by_hash(flt.block_hash)
                if header is None:
                    raise BlockNotFound(f"unknown block: no canonical block has hash 0x{flt.block_hash.hex()}")
                headers: Iterator[BlockHeaderAPI] = iter([header])
            else:
                first = self._range_end(flt.from_block)
                last = min(self._range_end(flt.to_block), int(self._head.block_number))
                if first > last:
                    if first <= self._head.block_number:
                        raise InvalidParams(f"invalid block range: fromBlock {first} is after toBlock {last}")
                    return []
                if last - first + 1 > self.tuning.max_log_block_range:
                    raise LimitExceeded(
                        f"block range too large: {last - first + 1} blocks ({first}..{last}) asked, at most "
                        f"{self.tuning.max_log_block_range} per eth_getLogs call: split the range"
                    )
                headers = (self._header_at(n) for n in range(first, last + 1))
            found: list[LogRecord] = []
            for header in headers:
                if not _bloom_may_match(header.bloom, flt):
                    continue
                data = self._block_data(header)
                for tx_index, receipt in enumerate(data.receipts):
                    for offset, log in enumerate(receipt.logs):
                        topics = tuple(int(t).to_bytes(32, "big") for t in log.topics)
                        if not _log_matches(log.address, topics, flt):
                            continue
                        found.append(LogRecord(
                            address=bytes(log.address), topics=topics, data=bytes(log.data), header=header,
                            tx_hash=bytes(data.block.transactions[tx_index].hash), tx_index=tx_index,
                            log_index=data.log_offsets[tx_index] + offset,
                        ))
                        if len(found) > self.tuning.max_log_results:
                            raise LimitExceeded(
                                f"query returned more than {self.tuning.max_log_results} results: ask for a smaller "
                                "block range "
                                f"(the limit was reached in block {header.block_number})"
                            )
            return found

    def _range_end(self, ref: BlockRef) -> int:
        if isinstance(ref, int):
            return ref
        return int(self._header_for(ref).block_number)

    # ============================================================================= fees

    def next_base_fee(self) -> int:
        """The base fee of the next block."""
        with self._locked():
            return int(calculate_expected_base_fee_per_gas(self._head))

    def suggested_priority_fee(self) -> int:
        return SUGGESTED_PRIORITY_FEE

    def fee_history(self, count: int, newest: BlockRef, percentiles: Sequence[float]) -> FeeHistory:
        with self._locked():
            last = self._header_for(newest)
            count = min(count, int(last.block_number) + 1)
            first = int(last.block_number) - count + 1
            base_fees: list[int] = []
            ratios: list[float] = []
            rewards: list[list[int]] = []
            for number in range(first, int(last.block_number) + 1):
                header = last if number == last.block_number else self._header_at(number)
                base_fees.append(_base_fee(header))
                ratios.append(header.gas_used / header.gas_limit)
                if percentiles:
                    rewards.append(self._rewards(header, percentiles))
            base_fees.append(int(calculate_expected_base_fee_per_gas(last)))
            return FeeHistory(first, base_fees, ratios, rewards if percentiles else None)

    def _rewards(self, header: BlockHeaderAPI, percentiles: Sequence[float]) -> list[int]:
        """geth's algorithm: the effective tips of the block's transactions, weighted by gas used."""
        data = self._block_data(header)
        if not data.receipts:
            return [0 for _ in percentiles]
        base_fee = _base_fee(header)
        tips = sorted(
            (min(int(tx.max_priority_fee_per_gas), int(tx.max_fee_per_gas) - base_fee), data.gas_used(i))
            for i, tx in enumerate(data.block.transactions)
        )
        rewards: list[int] = []
        index, cumulative = 0, tips[0][1]
        for percentile in percentiles:
            threshold = header.gas_used * percentile / 100
            while cumulative < threshold and index < len(tips) - 1:
                index += 1
                cumulative += tips[index][1]
            rewards.append(tips[index][0])
        return rewards


_RESERVED_META = {"chain_id", "gas_limit", "genesis_alloc", "genesis_hash", "created_at", "fork"}


def _create_genesis(store: ChainStore, genesis: Genesis, clock: Clock) -> DatasealChain:
    chain_id = DEFAULT_CHAIN_ID if genesis.chain_id is None else genesis.chain_id
    alloc = genesis.normalized_alloc()
    params = {
        "coinbase": ZERO_ADDRESS,
        "difficulty": POST_MERGE_DIFFICULTY,
        "extra_data": EXTRA_DATA,
        "gas_limit": genesis.gas_limit,
        "mix_hash": POST_MERGE_MIX_HASH,
        "nonce": POST_MERGE_NONCE,
        "receipt_root": BLANK_ROOT_HASH,
        "timestamp": int(clock.time()),
        "transaction_root": BLANK_ROOT_HASH,
    }
    state = {
        to_canonical_address(address): {"balance": wei, "nonce": 0, "code": b"", "storage": {}}
        for address, wei in alloc.items()
    }
    with store.transaction():  # the genesis block and the settings appear together or not at all
        created = chain_class(chain_id).from_genesis(SQLiteAtomicDB(store), cast(Any, params), cast(Any, state))
        chain = cast(DatasealChain, created)
        store.set_meta({
            "chain_id": str(chain_id),
            "gas_limit": str(genesis.gas_limit),
            "genesis_alloc": json.dumps({a: str(w) for a, w in alloc.items()}, sort_keys=True),
            "genesis_hash": "0x" + bytes(chain.get_canonical_head().hash).hex(),
            "created_at": str(int(clock.time())),
            "fork": "prague",
        })
    return chain


def _recorded_alloc(store: ChainStore) -> dict[str, int]:
    """The genesis funding recorded in the chain's settings."""
    try:
        return {a: int(w) for a, w in json.loads(store.get_meta("genesis_alloc") or "{}").items()}
    except (ValueError, TypeError, AttributeError):
        raise _damaged(store, "its recorded genesis funding is not a map of addresses to wei") from None


def _damaged(store: ChainStore, what: str) -> ChainStoreError:
    return ChainStoreError(f"the chain in {store.path} is damaged: {what}",
                           hint="restore it from a backup, or move it away to start a new chain")


def _reopen(store: ChainStore, genesis: Genesis | None) -> DatasealChain:
    try:
        chain_id = int(store.get_meta("chain_id") or 0)
    except ValueError:
        raise _damaged(store, f"its recorded chain id {store.get_meta('chain_id')!r} is not a number") from None
    if genesis is not None:
        if genesis.chain_id is not None and genesis.chain_id != chain_id:
            raise GenesisMismatchError(
                f"the chain in {store.path} has chain id {chain_id}, not {genesis.chain_id}: drop the chain id "
                "option to use it, or choose another data folder for a new chain"
            )
        recorded = _recorded_alloc(store)
        missing = {a: w for a, w in genesis.normalized_alloc().items() if recorded.get(a) != w}
        if missing:
            listed = ", ".join(f"{a} ({w} wei)" for a, w in missing.items())
            raise GenesisMismatchError(
                f"the chain in {store.path} already exists and its genesis did not fund {listed}: funding applies "
                "only when a chain is created; send funds from a funded account instead, or use a new data folder"
            )
    try:
        chain = cast(DatasealChain, chain_class(chain_id)(SQLiteAtomicDB(store)))
        head = chain.get_canonical_head()
        genesis_hash = "0x" + bytes(chain.get_canonical_block_hash(BlockNumber(0))).hex()
    except Exception as exc:  # py-evm raises many types for a damaged database
        raise ChainStoreError(
            f"the chain in {store.path} cannot be read ({type(exc).__name__}: {exc}): restore it from a backup, or "
            "move the file away to start a new chain"
        ) from None
    if genesis_hash != store.get_meta("genesis_hash"):
        raise ChainStoreError(
            f"the chain in {store.path} is inconsistent: its genesis block is {genesis_hash}, its settings say "
            f"{store.get_meta('genesis_hash')}: restore it from a backup, or move it away to start a new chain"
        )
    logger.debug("reopened chain %d at block %d", chain_id, head.block_number)
    return chain


def _execution_error(computation: ComputationAPI, gas: int) -> EmbeddedChainError:
    error = computation.error
    if isinstance(error, Revert):
        data = error.args[0] if error.args and isinstance(error.args[0], bytes) else bytes(computation.output)
        return ExecutionReverted(data)
    if isinstance(error, OutOfGas):
        return ExecutionFailed(
            f"gas required exceeds allowance ({gas}): the call ran out of gas; give it more gas (a call gets at most "
            "the block gas limit and the node's call gas cap), or check the code for an unbounded loop"
        )
    return ExecutionFailed(f"execution failed: {type(error).__name__}: {error}")


def _base_fee(header: BlockHeaderAPI) -> int:
    return int(header.base_fee_per_gas or 0)


def _calldata_floor(data: bytes) -> int:
    """EIP-7623: the least gas a transaction with this calldata is charged."""
    zeros = data.count(0)
    return 21_000 + 10 * (zeros + 4 * (len(data) - zeros))


def _bloom_may_match(bloom: int, flt: LogFilter) -> bool:
    if not flt.addresses and not any(flt.topics):
        return True
    bits = BloomFilter(bloom)
    if flt.addresses and not any(address in bits for address in flt.addresses):
        return False
    return all(not options or any(topic in bits for topic in options) for options in flt.topics)


def _log_matches(address: bytes, topics: tuple[bytes, ...], flt: LogFilter) -> bool:
    if flt.addresses and address not in flt.addresses:
        return False
    if len(flt.topics) > len(topics) and any(flt.topics[len(topics):]):
        return False
    return all(options is None or topic in options for options, topic in zip(flt.topics, topics, strict=False))
