"""A clock for the embedded chain's timing tests: time moves only when the test says so.

:class:`ManualClock` implements :class:`dataseal.chain.embedded.clock.Clock`. Its time stands
still until :meth:`ManualClock.advance` (or, with ``tick``, moves by ``tick`` at every reading),
so a deadline passes exactly when a test decides, however slow the machine. Every wait goes
through it, so a test can see who waits and for how long (:meth:`ManualClock.sleeper`) instead
of guessing with ``time.sleep``. A wait with a timeout returns when notified, or once the clock
has been advanced past its deadline; a wait without one only when notified.
"""
from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

T = TypeVar("T")

HANG_GUARD_SECONDS = 60.0  # how long a test waits for something that should happen at once (not a time limit)


@dataclass(frozen=True)
class Sleeper:
    """A thread waiting on the clock: its name, and how long it asked to wait (None: until notified)."""

    thread: str
    timeout: float | None
    condition: threading.Condition
    deadline: float | None


class ManualClock:
    def __init__(self, *, start: float = 1_000.0, wall: float = 1_900_000_000.0, tick: float = 0.0) -> None:
        self._lock = threading.Lock()
        self._now = start
        self._wall_offset = wall - start
        self._tick = tick
        self._sleepers: list[Sleeper] = []
        self._reads: Counter[str] = Counter()  # thread name -> readings of the time
        self.history: list[Sleeper] = []  # every wait, in order

    # ----------------------------------------------------------------- the Clock protocol

    def monotonic(self) -> float:
        with self._lock:
            now = self._now
            self._now += self._tick
            self._reads[threading.current_thread().name] += 1
        return now

    def time(self) -> float:
        return self.monotonic() + self._wall_offset

    def wait(self, condition: threading.Condition, timeout: float | None) -> bool:
        with self._lock:
            deadline = None if timeout is None else self._now + timeout
            sleeper = Sleeper(threading.current_thread().name, timeout, condition, deadline)
            if deadline is not None and deadline <= self._now:
                self.history.append(sleeper)
                return False
            self._sleepers.append(sleeper)
            self.history.append(sleeper)
        try:
            return condition.wait()  # woken by the code under test's notify, or by advance()
        finally:
            with self._lock:
                self._sleepers.remove(sleeper)

    # ----------------------------------------------------------------- for the test

    def advance(self, seconds: float) -> None:
        """Move time on, and wake every wait whose deadline it passes."""
        with self._lock:
            self._now += seconds
            due = [s for s in self._sleepers if s.deadline is not None and s.deadline <= self._now]
        for sleeper in due:
            with sleeper.condition:
                sleeper.condition.notify_all()

    def reads(self, thread: str) -> int:
        """How often ``thread`` read the time."""
        with self._lock:
            return self._reads[thread]

    def sleepers(self, thread: str | None = None) -> list[Sleeper]:
        with self._lock:
            return [s for s in self._sleepers if thread is None or s.thread == thread]

    def sleeper(self, thread: str, predicate: Callable[[Sleeper], bool] = lambda s: True) -> Sleeper:
        """The wait ``thread`` is in once it is in one that ``predicate`` accepts (waiting for it)."""
        return until(lambda: next((s for s in self.sleepers(thread) if predicate(s)), None),
                     f"{thread} waiting on the clock")


def until(found: Callable[[], T | None], what: str) -> T:
    """``found()`` once it is truthy, asking again every millisecond; fails the test if it never is
    (after HANG_GUARD_SECONDS: a guard against a hang, not a time limit on what is tested)."""
    give_up = time.monotonic() + HANG_GUARD_SECONDS
    while True:
        value = found()
        if value:
            return value
        if time.monotonic() > give_up:
            raise AssertionError(f"never happened: {what}")
        time.sleep(0.001)
