"""The miner: when blocks are made, and making them.

Modes (:class:`Mining`): ``idle`` mines as soon as transactions wait (a burst gathers for a few
milliseconds first, see :meth:`Miner._linger`, and what arrives while a block is built goes into
the next one), ``interval`` every N seconds, ``manual`` only when asked (:meth:`Miner.mine`).

The miner takes every pending transaction that fits and builds one block
(:mod:`dataseal.chain.embedded.building`). The miner thread does it with the chain's lock
released while the transactions execute — nothing is written meanwhile — so that transactions
keep being accepted and reads answered; it gives way to requests being served meanwhile
(:mod:`dataseal.chain.embedded.serving`). The block — state, bodies, receipts, indexes, canonical
head and the journal clean-up — commits as one SQLite transaction.

A transaction whose fee cap is below the block's base fee (the base fee rose after it was
accepted) is kept pending, like a real node's pool does, until the base fee falls back to its cap
or a same-nonce replacement paying more arrives. The base fee of an idle chain falls only as
blocks are made (1/8 per empty block), so while such a transaction waits and nothing else can be
mined, the automatic miner makes empty blocks, each lowering the base fee, until it fits. Should
the base fee stop falling (its floor), the miner makes nothing and sleeps until a transaction
arrives or a block is mined another way; it never spins on a transaction it cannot include.

Blocks are stamped with the wall clock (never before their parent). A timestamp asked for
(:meth:`Miner.mine`, ``evm_mine``) may be at most ``MAX_TIMESTAMP_AHEAD`` seconds ahead of the
clock, and never above ``MAX_TIMESTAMP``: blocks are final, so a block stamped in the far future
would hold every later block there (and contracts reading ``block.timestamp`` into a uint64, or
clients into a double, would break for good).
"""
from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from eth_utils import to_checksum_address

from dataseal.chain.embedded.building import Poisoned, commit_block, execute_block
from dataseal.chain.embedded.core import ChainCore
from dataseal.chain.embedded.errors import InvalidParams
from dataseal.chain.embedded.interpreter.hooks import MINER
from dataseal.chain.embedded.pool import PendingTx
from dataseal.chain.embedded.records import MinedBlock
from dataseal.chain.embedded.serving import ServingFirst
from dataseal.chain.embedded.settings import Mining, Tuning
from dataseal.chain.embedded.vm import ZERO_ADDRESS

logger = logging.getLogger("dataseal.chain.embedded")

FLUSH_BLOCKS = 1000  # at most this many blocks are mined to empty the pool when the chain closes
MAX_TIMESTAMP_AHEAD = 15 * 60  # seconds ahead of the wall clock a block's timestamp may be asked for
MAX_TIMESTAMP = 2**63 - 1  # no block is stamped later (int64: every client and uint64 in contracts hold it)


class Miner:
    """Makes the blocks of one chain: the miner thread in the automatic modes, and :meth:`mine`."""

    def __init__(self, core: ChainCore, serving: ServingFirst, tuning: Tuning, mining: Mining) -> None:
        self._core = core
        self._serving = serving
        self._tuning = tuning
        self.mining = mining
        self._thread: threading.Thread | None = None
        self._token = object()  # the running thread's; replaced to tell it to stop
        self.failed: str | None = None  # why the miner thread died, if it did
        self.waiters = 0  # threads waiting for a pending transaction's block
        self.next_block_at = 0.0  # interval mining: when (clock.monotonic) the next block is due
        self._building = False  # a block is being executed (possibly with the lock released)

    # ----------------------------------------------------------------------------- the thread

    def start(self) -> None:
        """Start the miner thread (the core's lock held, or before anyone else can use the chain)."""
        token = self._token = object()
        self._thread = threading.Thread(target=self._loop, args=(token,), name="dataseal-miner", daemon=True)
        self._thread.start()

    def join(self) -> None:
        """Wait for the miner thread to end (the core's lock not held; told to stop before)."""
        if self._thread is not None:
            self._thread.join()

    @property
    def running(self) -> bool:
        """Whether a miner thread will mine pending transactions."""
        return self._thread is not None and self._thread.is_alive() and not self._core.stopping

    def set_mining(self, mining: Mining) -> None:
        """Switch the mining mode (the running miner finishes its block and stops first)."""
        core = self._core
        with core.locked():
            self._token = object()  # tells the running miner to stop
            core.work.notify_all()
            old = self._thread
        if old is not None:
            old.join()
        with core.locked():
            self.mining = mining
            self._thread = None
            if mining.automatic:
                self.start()
            core.mined.notify_all()

    def _loop(self, token: object) -> None:
        core = self._core
        clock = core.clock

        def stop() -> bool:
            return core.stopping or self._token is not token

        stalled_at: int | None = None  # the change count when a try made nothing: wait for the next change
        try:
            with core.lock:
                while not stop():
                    if self.mining.mode == "idle":
                        while (not core.pool or core.changes == stalled_at) and not stop():
                            clock.wait(core.work, None)
                        self._linger(stop)
                    else:
                        deadline = self.next_block_at = clock.monotonic() + self.mining.block_time
                        while not stop() and (remaining := deadline - clock.monotonic()) > 0:
                            clock.wait(core.work, remaining)
                    if stop():
                        break
                    if core.pool:
                        before = core.changes
                        self._mine_guarded()
                        # Nothing could be mined (transactions waiting for the base fee to fall, and
                        # it does not): sleep until a transaction arrives or a block is made otherwise.
                        stalled_at = before if core.changes == before else None
        except BaseException as exc:  # the miner must never die silently
            self.failed = f"{type(exc).__name__}: {exc}"
            logger.exception("the miner stopped")
            raise

    def _linger(self, stop: Callable[[], bool]) -> None:
        """Idle mining: let a burst of transactions gather before mining, so that they share a
        block (a block costs py-evm several milliseconds beyond its transactions: state root,
        tries, header, commit). Mine once no transaction arrived for ``tuning.idle_gap`` (the
        senders paused), ``tuning.idle_batch`` transactions or a block's gas wait, or
        ``tuning.idle_linger`` passed; and at once when someone waits for a receipt and no other
        request is at the chain (a lone client sending one transaction at a time; when other
        requests are, some of them sends, they are let in first)."""
        core, tuning = self._core, self._tuning
        clock, pool = core.clock, core.pool
        gas_limit = int(core.head.gas_limit)
        now = clock.monotonic()
        deadline = now + tuning.idle_linger
        seen, last_arrival = len(pool), now
        while not stop() and pool.total_gas < gas_limit and len(pool) < tuning.idle_batch:
            now = clock.monotonic()
            if len(pool) != seen:
                seen, last_arrival = len(pool), now
            if self.waiters and core.busy <= self.waiters:
                return
            until = min(deadline, last_arrival + tuning.idle_gap)
            if now >= until:
                return
            clock.wait(core.work, min(until - now, 0.001) if self.waiters else until - now)

    def _mine_guarded(self) -> None:
        try:
            self.mine(concurrent=True, lower_fee=True)
        except Exception:
            # Not attributable to one transaction (disk full, a bug): the block was rolled back.
            logger.exception("building a block failed; retrying in a second")
            self._core.changed()  # (not a stall: try again)
            self._core.clock.wait(self._core.work, 1.0)

    # ----------------------------------------------------------------------------- waiting for blocks

    def wait_for_block(self, timeout: float) -> None:
        """Wait (the core's lock held) for the next block, telling an idle miner not to linger."""
        core = self._core
        self.waiters += 1
        try:
            core.work.notify()
            with self._serving.stepping_aside():
                core.clock.wait(core.mined, timeout)
        finally:
            self.waiters -= 1

    def flush(self) -> None:
        """Mine the pending transactions (the chain closing, the core's lock held) while blocks take some."""
        for _ in range(FLUSH_BLOCKS):
            if not self._core.pool or self.mine() is None:
                break

    # ----------------------------------------------------------------------------- making a block

    def mine(
        self, *, timestamp: int | None = None, allow_empty: bool = False, concurrent: bool = False,
        lower_fee: bool = False,
    ) -> MinedBlock | None:
        """Build, commit and announce a block on the head with the pending transactions that fit (the
        core's lock held); None when no block was wanted. A transaction that breaks the VM is dropped
        (with its sender's later ones) and the block built again without it."""
        core = self._core
        if timestamp is not None:
            latest = min(int(core.clock.time()) + MAX_TIMESTAMP_AHEAD, MAX_TIMESTAMP)
            if timestamp > latest:
                raise InvalidParams(
                    f"timestamp {timestamp} is too far ahead: a block may be stamped at most "
                    f"{MAX_TIMESTAMP_AHEAD} seconds after the node's clock ({latest}); blocks are final, so a "
                    "block in the future would hold the chain's time there for good"
                )
        while self._building:  # the miner is executing a block with the lock released: build on top of it
            with self._serving.stepping_aside():
                core.clock.wait(core.mined, None)
        candidates = core.pool.ordered()
        while True:
            try:
                return self._build(candidates, timestamp, allow_empty, concurrent=concurrent, lower_fee=lower_fee)
            except Poisoned as poisoned:
                entry = poisoned.entry
                logger.error("transaction 0x%s could not be executed (%s); dropping it", entry.hash.hex(), poisoned)
                losers = [c for c in candidates if c.sender == entry.sender and c.nonce >= entry.nonce]
                reason = f"the node could not execute it: {poisoned}"
                with core.store.transaction():
                    core.store.journal_remove(c.hash for c in losers)
                for loser in losers:
                    core.pool.remove(loser.hash)
                    core.dropped[loser.hash] = reason
                candidates = [c for c in candidates if c not in losers]
                core.mined.notify_all()

    def _build(
        self, candidates: list[PendingTx], timestamp: int | None, allow_empty: bool, *, concurrent: bool,
        lower_fee: bool,
    ) -> MinedBlock | None:
        """One block on the head (the lock held).

        The transactions run first, with nothing written: py-evm keeps the new state in memory
        until the commit. With ``concurrent`` (the miner thread, holding the lock once) the lock is
        released meanwhile, so that transactions keep being accepted and reads keep being
        answered while the block executes; ``_building`` tells another builder to wait. Only this
        builder writes blocks, so what the readers see does not change under it. With
        ``lower_fee`` (the miner) an empty block is made when transactions wait for the base fee to
        fall and it falls after this block.
        """
        core = self._core
        parent = core.head
        now = min(int(core.clock.time()), MAX_TIMESTAMP)
        stamp = max(int(parent.timestamp), now if timestamp is None else timestamp)
        header = core.chain.create_header_from_parent(parent, timestamp=stamp, coinbase=ZERO_ADDRESS)
        vm = core.chain.get_vm(header)
        self._building = True
        try:
            if concurrent:
                core.lock.release()
                MINER.give_way = self._serving.give_way
            try:
                built = execute_block(vm, header, candidates, allow_empty, lower_fee=lower_fee)
            finally:
                if concurrent:
                    MINER.give_way = None
                    core.lock.acquire()
            with core.store.transaction():
                block = commit_block(core.chain, vm, parent, built)
                core.store.journal_remove([e.hash for e in built.included] + [e.hash for e, _ in built.dropped])
            # committed
            for entry in built.included:
                core.pool.remove(entry.hash)
            for entry, reason in built.dropped:
                core.pool.remove(entry.hash)
                core.dropped[entry.hash] = reason
                logger.warning("transaction 0x%s from %s dropped: %s", entry.hash.hex(),
                               to_checksum_address(entry.sender), reason)
            if block is None:
                if built.dropped:
                    core.changed()
                    core.mined.notify_all()
                return None
            core.new_head(block, built.receipts, [e.sender for e in built.included])
            return MinedBlock(
                number=int(block.number),
                hash=bytes(block.hash),
                transactions=tuple(e.hash for e in built.included),
                dropped=tuple((e.hash, reason) for e, reason in built.dropped),
            )
        finally:
            self._building = False
            core.mined.notify_all()
