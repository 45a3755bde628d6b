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
- **Precompiles** (calls): a precompile runs as one Python call that checks nothing, and some run
  for as long as the gas allows — py-evm's are pure Python: a bn256 pairing of 100 pairs takes
  over 10 s, a BLS12-381 pairing minutes within a 50M gas cap, blake2f some 5 µs per round (its
  gas). Those (:data:`ABANDONABLE_PRECOMPILES`) run inside :meth:`Deadline.abandonable`, in which
  the deadline stops them from outside, wherever they are (:mod:`..calls`). Pricing them instead
  (refusing up front what would take longer than the time left) would hold the limit only as
  well as a guess of this machine's speed, and a stop signal would still wait for them. modexp
  is the exception: its work is one C ``pow`` that nothing interrupts, so it is priced
  (:data:`MODEXP_SECONDS_PER_GAS`, :meth:`Deadline.check_ahead`): refused up front, as stopped
  at the time limit, when its gas says it would run past it.

Each hook wraps py-evm's opcode (:func:`wrapped_opcode`: same mnemonic, same gas), so the
interpreter runs it as it runs any opcode that is not a plain constant-gas one.
"""
from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager, nullcontext
from typing import Any, Protocol, cast

from eth.abc import ComputationAPI, MessageAPI, OpcodeAPI, StateAPI, TransactionContextAPI
from eth.vm.forks.berlin.computation import _compute_modexp_gas_fee_eip_2565 as modexp_gas
from eth.vm.opcode_values import GAS, JUMP, JUMPI, SSTORE
from eth_typing import Address


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

    def check_ahead(self, seconds: float) -> None:
        """Raise as :meth:`check` does if ``seconds`` more would run past the deadline."""
        ...

    def abandonable(self) -> AbstractContextManager[None]:
        """A context in which the time running out stops this thread from outside, raising in it
        what :meth:`check` raises (for work that checks nothing itself)."""
        ...


class NoDeadline:
    def check(self) -> None:
        pass

    def check_ahead(self, seconds: float) -> None:
        pass

    def abandonable(self) -> AbstractContextManager[None]:
        return nullcontext()


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


# Precompiles that run pure Python for as long as their gas allows: bn256 pairing, blake2f, BLS12-381
# G1 and G2 multi-scalar multiplication and pairing. (The others run a bounded time: one ecrecover,
# one curve addition or multiplication, hashing in C.)
ABANDONABLE_PRECOMPILES = frozenset(Address(n.to_bytes(20, "big")) for n in (0x08, 0x09, 0x0C, 0x0E, 0x0F))
MODEXP = Address((5).to_bytes(20, "big"))
# What modexp's C ``pow`` takes per gas it charges, with a margin: an 8192-bit modulus and exponent
# (44.7M gas) take 1.1 s in CPython 3.11 on a 2-core VM. Larger moduli cost it relatively less
# time than gas (Karatsuba), so the estimate errs long.
MODEXP_SECONDS_PER_GAS = 40e-9

Precompile = Callable[[ComputationAPI], ComputationAPI]


def _abandonable(precompile: Callable[[ComputationAPI], Any]) -> Precompile:
    def run(computation: ComputationAPI) -> ComputationAPI:
        with cast(TimedState, computation.state).deadline.abandonable():
            return cast(ComputationAPI, precompile(computation))

    return run


def _priced(precompile: Callable[[ComputationAPI], Any]) -> Precompile:
    def run(computation: ComputationAPI) -> ComputationAPI:
        gas = modexp_gas(computation.msg.data_as_bytes)
        if gas <= computation.get_gas_remaining():  # (else it runs out of gas at once)
            cast(TimedState, computation.state).deadline.check_ahead(gas * MODEXP_SECONDS_PER_GAS)
        return cast(ComputationAPI, precompile(computation))

    return run


def call_precompiles(precompiles: Mapping[Address, Callable[[ComputationAPI], Any]]) -> dict[Address, Precompile]:
    """The precompiles of a call: the long-running ones stoppable by its deadline (see the module doc)."""
    return {
        address: _abandonable(run) if address in ABANDONABLE_PRECOMPILES else _priced(run) if address == MODEXP
        else cast(Precompile, run)
        for address, run in precompiles.items()
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
