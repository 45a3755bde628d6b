"""Serving first: the miner gives way to requests being served.

The miner and the threads serving requests share one interpreter lock. A request that came
while a block executes would wait for it at every step that lets the lock go (the socket,
SQLite, signature recovery): a millisecond or more per request, which a client sending one
transaction after another pays on each. So a request being served (:meth:`ServingFirst.serving`,
entered by the HTTP server) makes the miner pause at its next jump or transaction
(:meth:`ServingFirst.give_way`, called through :func:`dataseal.chain.embedded.interpreter.hooks.give_way`)
until no request is — for ``limit`` seconds at most, then as long again without pausing: a lone
client's requests are answered as on an idle node, and under a flood of requests, or during a
slow eth_call, the miner still gets half the time. A request that waits for a block (a pending
transaction's receipt, a block being built) steps aside meanwhile (:meth:`ServingFirst.stepping_aside`).
"""
from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from dataseal.chain.embedded.clock import Clock


class ServingFirst:
    """Counts the requests being served (once per thread, however nested) and pauses the miner for them."""

    def __init__(self, clock: Clock, limit: float) -> None:
        self._clock = clock
        self._limit = limit  # the longest one pause lasts
        self._serving = 0  # requests being served
        self._changed = threading.Condition(threading.Lock())  # notified when none is served any more
        self._depth = threading.local()  # per thread: how many serving() it is inside
        self._owed_until = 0.0  # the miner does not pause again before then (clock.monotonic)

    @property
    def being_served(self) -> int:
        """How many requests are being served (threads inside :meth:`serving`, not stepping aside)."""
        return self._serving

    @contextmanager
    def serving(self) -> Iterator[None]:
        """Mark a request being served by this thread: the miner pauses meanwhile."""
        depth = getattr(self._depth, "n", 0)
        self._depth.n = depth + 1
        if depth == 0:
            self._count(+1)
        try:
            yield
        finally:
            self._depth.n = depth
            if depth == 0:
                self._count(-1)

    @contextmanager
    def stepping_aside(self) -> Iterator[None]:
        """A request that waits or runs long does not hold the miner back meanwhile."""
        depth = getattr(self._depth, "n", 0)
        if depth:
            self._depth.n = 0
            self._count(-1)
        try:
            yield
        finally:
            if depth:
                self._count(+1)
                self._depth.n = depth

    def _count(self, step: int) -> None:
        with self._changed:
            self._serving += step
            if not self._serving:
                self._changed.notify_all()

    def give_way(self) -> None:
        """The miner (lock released, between transactions and at jumps): pause while requests are served.

        A pause lasts until no request is being served, or ``limit`` seconds; one that ended with
        requests still being served is followed by as long a run without pausing, so that a flood
        of requests (or one slow eth_call) costs the miner at most half its time.
        """
        if not self._serving:
            return
        clock = self._clock
        paused_at = clock.monotonic()
        if paused_at < self._owed_until:
            return
        deadline = paused_at + self._limit
        with self._changed:
            while self._serving and (left := deadline - clock.monotonic()) > 0:
                clock.wait(self._changed, left)
            still_serving = self._serving > 0
        if still_serving:
            resumed = clock.monotonic()
            self._owed_until = resumed + (resumed - paused_at)
