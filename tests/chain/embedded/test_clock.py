"""The chain's clock (dataseal.chain.embedded.clock): the system's, and the manual one the tests drive."""
from __future__ import annotations

import threading
import time

from dataseal.chain.embedded.clock import SYSTEM_CLOCK
from tests.chain.embedded.clocks import ManualClock, until


def test_the_system_clock_is_the_time_modules() -> None:
    assert SYSTEM_CLOCK.time is time.time and SYSTEM_CLOCK.monotonic is time.monotonic
    condition = threading.Condition()
    with condition:
        assert SYSTEM_CLOCK.wait(condition, 0) is False  # nobody notified: the timeout


def test_a_manual_clock_moves_only_when_told_and_wakes_the_waits_it_passes() -> None:
    clock = ManualClock(start=100.0, wall=2_000.0)
    assert (clock.monotonic(), clock.time()) == (100.0, 2_000.0)
    condition = threading.Condition()
    woken: list[bool] = []

    def sleep() -> None:
        with condition:
            woken.append(clock.wait(condition, 5.0))

    thread = threading.Thread(target=sleep, name="sleeper")
    thread.start()
    assert clock.sleeper("sleeper").timeout == 5.0
    clock.advance(4.0)
    assert clock.sleepers("sleeper")  # not yet
    clock.advance(1.0)
    until(lambda: not thread.is_alive(), "the wait ending")
    assert woken and clock.monotonic() == 105.0 and clock.reads("MainThread") >= 2
