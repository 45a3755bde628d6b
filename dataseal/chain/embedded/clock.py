"""The embedded chain's sense of time, passed in so that tests can drive it.

Everything in the chain that reads the time or waits for something goes through one
:class:`Clock`: the monotonic time of deadlines (linger, the miner's pauses, call time limits,
receipt waits), the wall time that stamps blocks, and waiting on a condition variable for at
most a while. :data:`SYSTEM_CLOCK` is the real one; a test's clock can hold time still, move it
by hand, and see who waits for how long, so that timing behaviour is checked without racing
the wall clock.
"""
from __future__ import annotations

import threading
import time
from typing import Protocol


class Clock(Protocol):
    def monotonic(self) -> float:
        """Seconds on a clock that never goes back (deadlines, durations)."""
        ...

    def time(self) -> float:
        """Seconds since the Unix epoch (block timestamps, the chain's creation time)."""
        ...

    def wait(self, condition: threading.Condition, timeout: float | None) -> bool:
        """``condition.wait(timeout)``: the caller holds the condition's lock and checks again
        what it waits for when this returns (it may return early, as a condition may wake
        spuriously); ``timeout`` None waits until notified."""
        ...


class SystemClock:
    """The real clock: :func:`time.monotonic`, :func:`time.time`, ``Condition.wait``."""

    monotonic = staticmethod(time.monotonic)
    time = staticmethod(time.time)

    def wait(self, condition: threading.Condition, timeout: float | None) -> bool:
        return condition.wait(timeout)


SYSTEM_CLOCK: Clock = SystemClock()
