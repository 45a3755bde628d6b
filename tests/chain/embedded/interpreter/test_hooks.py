"""The hooks both interpreters run (dataseal.chain.embedded.interpreter.hooks): jumps giving way in a
block's VM, GAS/SSTORE noted and a deadline checked at jumps and frames in a call's VM."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from dataseal.chain.embedded.interpreter.hooks import MINER, give_way
from tests.chain.embedded.interpreter.evm import execute, genesis_chain

INTERPRETERS = ("fast", "stock")
# Counts down from 100 to 0 (JUMPDEST, SUB, JUMPI back while not 0): 100 jumps, then stops.
COUNTDOWN = bytes.fromhex("6064" "5b" "6001" "90" "03" "80" "6002" "57" "00")
LOOP = bytes.fromhex("5b600056")  # JUMPDEST PUSH1 0 JUMP: until the gas runs out
# Calls the code copy at 0x40 (itself) with all its gas: recursion without a jump, until the depth or gas ends.
RECURSE = bytes.fromhex("6000600060006000600060405af1")


@contextmanager
def giving_way() -> Iterator[list[int]]:
    """This thread acting as the miner: each give-way is counted."""
    counted: list[int] = []
    MINER.give_way = lambda: counted.append(1)
    try:
        yield counted
    finally:
        MINER.give_way = None


class Stop(Exception):
    pass


class Countdown:
    """A deadline that passes after ``checks`` checks."""

    def __init__(self, checks: int) -> None:
        self.left = checks
        self.checks = 0

    def check(self) -> None:
        self.checks += 1
        self.left -= 1
        if self.left < 0:
            raise Stop()


@pytest.mark.parametrize("name", INTERPRETERS)
def test_a_blocks_jumps_give_way_on_the_miner_thread_only(name: str) -> None:
    genesis_chain(name)  # built before the hook: its state root's work gives way too, and is not a jump
    with giving_way() as counted:
        computation, _ = execute(name, "block", COUNTDOWN)
    assert computation.is_success and len(counted) == 100  # one per JUMPI
    computation, _ = execute(name, "block", COUNTDOWN)  # another thread (no hook): nothing to call
    assert computation.is_success and MINER.give_way is None
    give_way()  # without the hook: nothing happens


@pytest.mark.parametrize("name", INTERPRETERS)
def test_a_calls_jumps_never_give_way(name: str) -> None:
    genesis_chain(name)  # built before the hook (its state root's work gives way): this test alone failed on it
    with giving_way() as counted:
        computation, _ = execute(name, "call", COUNTDOWN)
    assert computation.is_success and counted == []


@pytest.mark.parametrize("name", INTERPRETERS)
@pytest.mark.parametrize(("code", "notes"), [
    (bytes.fromhex("5a5000"), (True, False)),  # GAS POP STOP
    (bytes.fromhex("6001600055"), (False, True)),  # SSTORE(0, 1)
    (bytes.fromhex("5a600055"), (True, True)),  # SSTORE(0, GAS)
    (COUNTDOWN, (False, False)),
], ids=["gas", "sstore", "both", "neither"])
def test_a_call_notes_whether_it_read_its_gas_or_stored(name: str, code: bytes, notes: tuple[bool, bool]) -> None:
    computation, _ = execute(name, "call", code)
    assert computation.is_success
    assert (computation.read_gas, computation.stored) == notes


@pytest.mark.parametrize("name", INTERPRETERS)
def test_a_calls_deadline_is_checked_at_every_jump(name: str) -> None:
    deadline = Countdown(50)
    with pytest.raises(Stop):  # not a VM error: no frame catches it, the whole execution ends
        execute(name, "call", LOOP, gas=10_000_000, deadline=deadline)
    assert deadline.checks == 51  # the first frame's, then one per jump until the deadline passed
    computation, _ = execute(name, "block", LOOP, gas=10_000_000, deadline=Countdown(0))
    assert computation.is_error  # a block's VM has no deadline: the loop ran out of gas


@pytest.mark.parametrize("name", INTERPRETERS)
def test_a_calls_deadline_is_checked_at_every_frame(name: str) -> None:
    deadline = Countdown(10)
    with pytest.raises(Stop):
        execute(name, "call", RECURSE, gas=10_000_000, deadline=deadline)
    assert deadline.checks == 11  # one per frame: the code has no jump
