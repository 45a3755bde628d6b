"""What the embedded chain adds to an EVM interpreter, whichever runs (fast or stock): opcode hooks.

- **Giving way** (blocks): JUMP and JUMPI first let the miner give way to requests being served
  (:func:`give_way`). A jump is where any long computation comes back round (loops, internal
  calls), about every 20 µs of a registration: often enough for the miner to pause promptly when
  a request comes (:mod:`dataseal.chain.embedded.serving`), rarely enough to cost nothing
  measurable. Only the miner thread, while it executes a block without the chain's lock, sets the
  hook (``MINER.give_way``); on any other thread a jump runs as py-evm's.
- **Noting** (calls): GAS and SSTORE set ``read_gas`` / ``stored`` on the computation running them,
  for gas estimation: code that neither reads its gas nor calls out behaves the same under any gas
  limit that covers what it uses (plus, if it stores, the 2300 gas SSTORE insists on having left),
  so its estimate needs no second execution.
- **Deadlines** (calls): JUMP, JUMPI and every new frame (CALL, CREATE: recursion without loops)
  check the call's :class:`Deadline` first, so that no call runs much past its time limit
  whatever its code and gas.

Each hook wraps py-evm's opcode (:func:`wrapped_opcode`: same mnemonic, same gas), so the
interpreter runs it as it runs any opcode that is not a plain constant-gas one.
"""
from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from typing import Any, Protocol, cast

from eth.abc import ComputationAPI, MessageAPI, OpcodeAPI, StateAPI, TransactionContextAPI
from eth.vm.opcode_values import GAS, JUMP, JUMPI, SSTORE


class _ThisThread(threading.local):
    give_way: Callable[[], None] | None = None


MINER = _ThisThread()  # MINER.give_way: set by the miner thread for the blocks it executes; None elsewhere


def give_way() -> None:
    """Let requests being served go first, if this thread is the miner executing a block."""
    hook = MINER.give_way
    if hook is not None:
        hook()


class _Before:
    """An opcode that runs ``before(computation)``, then py-evm's own (same mnemonic and gas)."""

    def __init__(self, inner: Any, before: Callable[[ComputationAPI], object]) -> None:
        self.inner = inner
        self.before = before
        self.mnemonic = inner.mnemonic
        self.gas_cost = inner.gas_cost

    def __call__(self, computation: ComputationAPI) -> None:
        self.before(computation)
        return self.inner(computation)


def wrapped_opcode(
    opcodes: Mapping[int, OpcodeAPI], opcode: int, before: Callable[[ComputationAPI], object]
) -> OpcodeAPI:
    """``opcodes[opcode]`` with ``before`` run first (see :class:`_Before`)."""
    return cast(OpcodeAPI, _Before(opcodes[opcode], before))


class Deadline(Protocol):
    """When a call's time is up: :meth:`check` raises (something that is no py-evm VMError, so that
    no frame of the EVM catches it and the whole execution ends)."""

    def check(self) -> None: ...


class NoDeadline:
    def check(self) -> None:
        pass


NO_DEADLINE: Deadline = NoDeadline()


class TimedState(Protocol):
    """A call's state: it carries the call's deadline."""

    deadline: Deadline


def _check_deadline(computation: ComputationAPI) -> None:
    cast(TimedState, computation.state).deadline.check()


def block_opcodes(opcodes: Mapping[int, OpcodeAPI]) -> dict[int, OpcodeAPI]:
    """The opcodes of a block's execution: ``opcodes`` with jumps giving way."""
    return {**opcodes, JUMP: wrapped_opcode(opcodes, JUMP, lambda _c: give_way()),
            JUMPI: wrapped_opcode(opcodes, JUMPI, lambda _c: give_way())}


def call_opcodes(opcodes: Mapping[int, OpcodeAPI]) -> dict[int, OpcodeAPI]:
    """The opcodes of a call: ``opcodes`` with GAS and SSTORE noted and jumps checking the deadline."""
    return {
        **opcodes,
        GAS: wrapped_opcode(opcodes, GAS, lambda computation: setattr(computation, "read_gas", True)),
        SSTORE: wrapped_opcode(opcodes, SSTORE, lambda computation: setattr(computation, "stored", True)),
        JUMP: wrapped_opcode(opcodes, JUMP, _check_deadline),
        JUMPI: wrapped_opcode(opcodes, JUMPI, _check_deadline),
    }


class CallHooks:
    """Mixed into a computation class for calls (before the interpreter's class): the flags that
    :func:`call_opcodes` sets, and the deadline checked at every new frame."""

    read_gas = False
    stored = False

    @classmethod
    def apply_computation(
        cls,
        state: StateAPI,
        message: MessageAPI,
        transaction_context: TransactionContextAPI,
        parent_computation: ComputationAPI | None = None,
    ) -> ComputationAPI:
        cast(TimedState, state).deadline.check()
        return super().apply_computation(  # type: ignore[misc]
            state, message, transaction_context, parent_computation
        )
