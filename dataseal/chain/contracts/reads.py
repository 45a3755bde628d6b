"""Reads pinned to the chain's head and answered once per head: for a service answering many readers.

A verify or an asset page costs two or three ``eth_call`` round trips, each run by the node's EVM. Under load
the same few calls are asked for again and again while the head does not move, so a read-only client given a
:class:`HeadReads` makes each call at the head block this last saw and keeps its answer until the head moves:

- the head (block number) is asked for at most once every ``max_age`` seconds (the clock is injected), or
  again after :meth:`HeadReads.invalidate` (a service calls it when its own write is mined, so that its
  readers see the write at once);
- every call is made at that block number (``block_identifier``), so an answer is exactly the chain's at that
  block, never a mix; answers are dropped when the head moves.

An answer is therefore at most ``max_age`` seconds older than the chain's head. Writers and the services that
read what they just wrote use clients without it.

Inside :func:`dataseal.cached.cached_only` (an API's event loop) nothing waits for the chain: a head older than
``max_age`` is read while a thread asks for the next in the background, and a read that would wait — no head known,
one invalidated or failed, an answer not held — raises :class:`~dataseal.cached.NotCached` instead.
"""
from __future__ import annotations

import copy
import threading
import time
from collections.abc import Callable, Hashable
from typing import Any

from web3 import Web3

from dataseal.cached import NotCached, is_cached_only, require_io
from dataseal.chain.contracts.revert import as_chain_error
from dataseal.chain.errors import ChainError

DEFAULT_MAX_AGE = 0.25
"""Seconds a head is trusted before it is asked for again."""
MAX_ENTRIES = 8192
"""Answers kept for one head; past it they are dropped (a reader asking for many ids is not an attack on memory)."""


class HeadReads:
    """Call answers at the head last seen, shared by the threads of one service (see the module's text)."""

    def __init__(self, w3: Web3, *, max_age: float = DEFAULT_MAX_AGE,
                 clock: Callable[[], float] = time.monotonic, max_entries: int = MAX_ENTRIES) -> None:
        if max_age < 0:
            raise ValueError("max_age must be ≥ 0")
        self.w3 = w3
        self.max_age = max_age
        self.max_entries = max_entries
        self._clock = clock
        self._lock = threading.Lock()
        self._asking = threading.Lock()
        self._invalidated = False
        self._failure: ChainError | None = None
        """Why the last asking failed (None once one succeeds); ``_failures`` counts them."""
        self._failures = 0
        self._invalidations = 0
        self._head: int | None = None
        self._asked_at = 0.0
        self._answers: dict[Hashable, Any] = {}

    def __repr__(self) -> str:
        return f"HeadReads(head={self._head}, max_age={self.max_age}, answers={len(self._answers)})"

    def head(self) -> int:
        """The block number reads are made at: the head last seen, asked for again when older than ``max_age``.

        One thread asks; the others read at the head known meanwhile, unless none is known yet, a write was mined
        since (:meth:`invalidate`) or the last asking failed: then they wait for the answer (and a reader that
        waited while an asking failed is told that failure, rather than asking again in turn). Inside
        :func:`~dataseal.cached.cached_only` (an event loop) nothing waits: the head known is read while a thread of
        this object's asks in the background, and where a reader would wait it raises
        :class:`~dataseal.cached.NotCached`."""
        now = self._clock()
        with self._lock:
            if self._head is not None and now - self._asked_at < self.max_age:
                return self._head
            known, wait = self._head, self._head is None or self._invalidated or self._failure is not None
            failures_seen = self._failures
        if is_cached_only():
            if wait:
                raise NotCached("the chain's head")
            if self._asking.acquire(blocking=False):
                try:
                    threading.Thread(target=self._ask_holding, name="dataseal-head", daemon=True).start()
                except BaseException:  # no thread to release it: release it here, or every waiting reader hangs
                    self._asking.release()
                    raise
            assert known is not None
            return known
        if not self._asking.acquire(blocking=wait):
            assert known is not None
            return known
        try:
            with self._lock:
                failure = self._failure if self._failures != failures_seen else None
            if failure is not None:  # the asking this reader waited for failed: its answer, not another ask
                raise copy.copy(failure)
            return self._ask(now)
        finally:
            self._asking.release()

    def _ask_holding(self) -> None:
        """Ask for the head in the background (the asking lock taken by the caller, released here); a failure
        is kept for the next reader, who waits and is told (``_failure``)."""
        try:
            self._ask(self._clock())
        except Exception:  # kept in _failure: the next reader asks again and is told
            pass
        finally:
            self._asking.release()

    def _ask(self, now: float) -> int:
        """Ask the chain for its head (the asking lock held) and keep it, or the failure."""
        with self._lock:  # another thread may have asked while this one waited
            if self._head is not None and now - self._asked_at < self.max_age:
                return self._head
            asked_after = self._invalidations
        try:
            number = int(self.w3.eth.block_number)
        except Exception as exc:
            error = exc if isinstance(exc, ChainError) else as_chain_error(exc, "eth_blockNumber")
            with self._lock:
                self._failure = error
                self._failures += 1
            if error is exc:
                raise
            raise error from exc
        with self._lock:
            self._failure = None
            if number != self._head:
                self._answers.clear()
                self._head = number
            if asked_after == self._invalidations:  # not invalidated while asking: this head is fresh
                self._asked_at, self._invalidated = now, False
        return number

    def invalidate(self) -> None:
        """Ask for the head at the next read (a write was mined: readers should see it), and have readers wait
        for that answer rather than read at the head known before."""
        with self._lock:
            self._asked_at = float("-inf")
            self._invalidated = True
            self._invalidations += 1

    def read(self, key: Hashable, call: Callable[[int], Any]) -> Any:
        """``call(block)``'s answer at the current head, made once per head for ``key`` (a revert is not kept)."""
        block = self.head()
        with self._lock:
            if self._head == block and key in self._answers:
                return self._answers[key]
        require_io(f"a call at block {block}")
        answer = call(block)
        with self._lock:
            if self._head == block:
                if len(self._answers) >= self.max_entries:
                    self._answers.clear()
                self._answers[key] = answer
        return answer
