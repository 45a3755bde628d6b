"""The embedded chain's rules: py-evm's Prague VM on a single-node, proof-less chain.

Two departures from mainnet rules, both for a chain with one block producer:

- the gas limit stays constant (no voting);
- a block may carry the same timestamp as its parent. Blocks are produced as fast as
  transactions arrive (several per second under load); forcing each one a second later than
  the last would push ``block.timestamp`` — the registration time dataseal records as evidence —
  hours ahead of the wall clock after a busy spell. Timestamps never go backwards.

Two shortcuts that change no result, only the CPU spent per transaction: storage tries updated
in one pass per state root (:mod:`chain.embedded.statetrie`), and the JUMPDEST analysis of a
contract's code shared by all the calls that run it (:class:`DatasealComputation`).
"""
from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import Any, Protocol, cast

from eth.abc import BlockHeaderAPI, ComputationAPI, MessageAPI, OpcodeAPI, StateAPI, TransactionContextAPI
from eth.chains.base import MiningChain
from eth.exceptions import FullStack, Halt, InsufficientStack, OutOfGas
from eth.vm.forks.prague import PragueVM
from eth.vm.forks.prague.computation import PragueComputation
from eth.vm.forks.prague.state import PragueState
from eth.vm.logic import duplication, flow, swap
from eth.vm.logic import stack as stack_logic
from eth.vm.logic.invalid import InvalidOpcode
from eth.vm.opcode import _FastOpcode
from eth.vm.opcode_values import GAS, JUMP, JUMPI, SSTORE
from eth_typing import BlockNumber
from lru import LRU

from dataseal.chain.embedded.giveway import give_way
from dataseal.chain.embedded.statetrie import BatchedAccountDB

DEFAULT_GAS_LIMIT = 30_000_000
ZERO_ADDRESS = b"\0" * 20
EXTRA_DATA = b"dataseal"


def use_native_keccak() -> str:
    """Have eth-hash — py-evm's and web3's keccak256 — use safe-pysha3's C function; the backend's name.

    eth-hash picks pycryptodome first when both are installed, whose ctypes call costs ~5 µs and
    releases the GIL on every hash (py-evm hashes ~60 times per transaction: tries, storage keys,
    blooms); safe-pysha3 costs under 1 µs and computes the same digest. An explicit
    ``ETH_HASH_BACKEND`` is left alone, as is a missing safe-pysha3. Process-wide and idempotent.
    """
    if os.environ.get("ETH_HASH_BACKEND"):
        return os.environ["ETH_HASH_BACKEND"]
    try:
        from eth_hash.backends import pysha3
    except ImportError:  # pragma: no cover - safe-pysha3 is a dependency
        return "auto"
    from eth_hash.auto import keccak

    backend = pysha3.backend
    if backend.keccak256(b"") != bytes.fromhex("c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470"):
        return "auto"  # pragma: no cover - a broken build: keep eth-hash's own choice
    keccak.hasher = backend.keccak256  # type: ignore[assignment]
    keccak.preimage = backend.preimage  # type: ignore[assignment]
    return "pysha3"


# Code -> (positions known valid, positions known invalid) as jump destinations.
_JUMP_ANALYSIS: LRU[bytes, tuple[set[int], set[int]]] = LRU(256)


class _Before:
    """An opcode that runs ``before(computation)``, then py-evm's own (same mnemonic and gas).

    The embedded chain's VMs wrap a few opcodes this way: the miner's jumps give way to requests
    (:func:`_giving_way`), estimation notes GAS and SSTORE (:class:`EstimationComputation`), calls
    check their time limit at jumps (``chain.embedded.chain``).
    """

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


def _giving_way(opcode: int) -> OpcodeAPI:
    """JUMP or JUMPI that first lets the miner give way to requests being served (:func:`give_way`).

    A jump is where any long computation comes back round (loops, internal calls), about every
    20 µs of a registration: often enough for the miner to pause promptly when a request comes
    (see ``EmbeddedChain.serving``), rarely enough to cost nothing measurable.
    """
    return wrapped_opcode(PragueComputation.opcodes, opcode, lambda _computation: give_way())


_NO_PRECOMPILE = object()
# How the loop runs an opcode: by calling its logic, or inline (the stack opcodes, ~2/3 of all run).
_CALL, _PUSH, _DUP, _SWAP, _POP, _JUMPDEST = range(6)
_FastEntry = tuple[int, str, Callable[[ComputationAPI], Any], int, int]  # gas, mnemonic, logic, how, size
_FAST_TABLES: dict[type, list[_FastEntry | None]] = {}


def _inline_kind(logic: Callable[[ComputationAPI], Any]) -> tuple[int, int]:
    """(how, size) for py-evm's own stack logic functions; (_CALL, 0) for any other."""
    for n in range(1, 33):
        if logic is getattr(stack_logic, f"push{n}"):
            return _PUSH, n
    for n in range(1, 17):
        if logic is getattr(duplication, f"dup{n}"):
            return _DUP, n
        if logic is getattr(swap, f"swap{n}"):
            return _SWAP, n
    if logic is stack_logic.pop:
        return _POP, 0
    if logic is flow.jumpdest:
        return _JUMPDEST, 0
    return _CALL, 0


def _fast_table(cls: type[PragueComputation]) -> list[_FastEntry | None]:
    """Opcode value → (gas, mnemonic, logic, how, size) for the class's plain ``_FastOpcode``s, else None."""
    table = _FAST_TABLES.get(cls)
    if table is None:
        table = [None] * 256
        for value, opcode in cls.opcodes.items():
            if type(opcode) is _FastOpcode and opcode.gas_cost >= 0:
                table[value] = (opcode.gas_cost, opcode.mnemonic, opcode.logic_fn, *_inline_kind(opcode.logic_fn))
        _FAST_TABLES[cls] = table
    return table


class DatasealComputation(PragueComputation):
    """A computation whose code stream shares its JUMPDEST findings with every other run of the same code.

    py-evm's ``CodeStream`` works out whether a jump target is an opcode or PUSH data by looking
    back up to 32 bytes, recursively, and memoizes the answer in two sets of its own, so each call
    of a contract starts over (a hundred look-backs per registration). The answer depends on the
    code alone: streams of the same code get the same two sets, kept for the 256 codes run last.

    Its jumps also let the miner give way to requests being served (:func:`_giving_way`).
    """

    opcodes = {**PragueComputation.opcodes, JUMP: _giving_way(JUMP), JUMPI: _giving_way(JUMPI)}

    def __init__(self, state: StateAPI, message: MessageAPI, transaction_context: TransactionContextAPI) -> None:
        super().__init__(state, message, transaction_context)
        code = message.code
        known = _JUMP_ANALYSIS.get(code)
        if known is None:
            known = _JUMP_ANALYSIS[code] = (set(), set())
        self.code.valid_positions, self.code.invalid_positions = known  # type: ignore[attr-defined]

    @classmethod
    def apply_computation(
        cls,
        state: StateAPI,
        message: MessageAPI,
        transaction_context: TransactionContextAPI,
        parent_computation: ComputationAPI | None = None,
    ) -> ComputationAPI:
        """py-evm's ``BaseComputation.apply_computation`` with a leaner opcode loop.

        Most opcodes are py-evm ``_FastOpcode``s, whose call is three Python calls deep before
        the opcode's logic runs (``__call__`` → ``computation.consume_gas`` → the gas meter's).
        The loop here charges their constant gas itself — the same check, the same OutOfGas — and
        calls the logic directly; the stack opcodes (PUSH1-32, DUP, SWAP, POP, JUMPDEST: two thirds
        of the opcodes a registration runs) it performs itself on the stack's list, with py-evm's
        checks and errors. Every other opcode (the dynamic-gas ones, the wrappers of this module)
        is called as py-evm calls it. Mining a registration takes ~15 % less CPU with it (about
        1.9 vs 2.3 ms, blocks of 64, alternated in one process). The differential tests
        (tests/chain/embedded/test_statetrie.py) compare every block with stock py-evm's, failing
        code (stack underflows and overflows included) too. The part before the loop is py-evm's own.
        """
        with cls(state, message, transaction_context) as computation:
            if computation.is_origin_computation:
                computation.contracts_created = []
                if message.is_create:
                    cls.consume_initcode_gas_cost(computation)
            if parent_computation is not None:
                computation.contracts_created = parent_computation.contracts_created
            if message.is_create:
                computation.contracts_created.append(message.storage_address)
            precompile: Any = computation.precompiles.get(message.code_address, _NO_PRECOMPILE)
            if precompile is not _NO_PRECOMPILE:
                if not message.is_delegation:
                    precompile(computation)
                return computation

            table = _fast_table(cls)
            opcode_lookup = computation.opcodes
            meter: Any = computation.get_gas_meter()
            code: Any = computation.code
            read = code.read
            values: list[int | bytes] = cast(Any, computation)._stack.values
            for opcode in code:
                fast = table[opcode]
                try:
                    if fast is not None:
                        cost, mnemonic, logic, how, size = fast
                        if cost > meter.gas_remaining:
                            raise OutOfGas(
                                f"Out of gas: Needed {cost} - Remaining {meter.gas_remaining} - Reason: {mnemonic}"
                            )
                        meter.gas_remaining -= cost
                        # py-evm's eth.vm.logic.stack / duplication / swap / flow, with eth.vm.stack.Stack's
                        # checks and errors, on the stack's own list (bytes as pushed, as Stack keeps them).
                        if how == _PUSH:
                            raw = read(size)
                            if len(values) > 1023:
                                raise FullStack("Stack limit reached")
                            values.append(raw if len(raw) == size else raw.ljust(size, b"\x00"))
                        elif how == _DUP:
                            if len(values) > 1023:
                                raise FullStack("Stack limit reached")
                            if size > len(values):
                                raise InsufficientStack(f"Insufficient stack items for DUP{size}")
                            values.append(values[-size])
                        elif how == _SWAP:
                            if size >= len(values):
                                raise InsufficientStack(f"Insufficient stack items for SWAP{size}")
                            values[-1], values[-size - 1] = values[-size - 1], values[-1]
                        elif how == _POP:
                            if not values:
                                raise InsufficientStack("Wanted 1 stack item, had none")
                            values.pop()
                        elif how == _CALL:
                            logic(computation)
                        # _JUMPDEST: nothing beyond its gas
                    else:
                        opcode_fn = opcode_lookup.get(opcode)
                        if opcode_fn is None:
                            opcode_fn = InvalidOpcode(opcode)
                        opcode_fn(computation=computation)
                except Halt:
                    break
        return computation


class DatasealState(PragueState):
    """PragueState with one-pass storage trie updates and shared jump analysis (see the module doc)."""

    account_db_class = BatchedAccountDB
    computation_class = DatasealComputation


class DatasealVM(PragueVM):
    """PragueVM accepting a block whose timestamp equals its parent's (see the module doc)."""

    _state_class = DatasealState

    @classmethod
    def validate_header(cls, header: BlockHeaderAPI, parent_header: BlockHeaderAPI) -> None:
        if parent_header is not None and header.timestamp == parent_header.timestamp:
            # Everything else about the header is checked against its parent as usual.
            parent_header = parent_header.copy(timestamp=parent_header.timestamp - 1)
        super().validate_header(header, parent_header)


class DatasealChain(MiningChain):
    """The chain class; :func:`chain_class` fixes its chain id."""

    vm_configuration = ((BlockNumber(0), DatasealVM),)

    def create_header_from_parent(self, parent_header: BlockHeaderAPI, **header_params: Any) -> BlockHeaderAPI:
        header_params["gas_limit"] = parent_header.gas_limit
        return super().create_header_from_parent(parent_header, **header_params)


_classes: dict[int, type[DatasealChain]] = {}


def chain_class(chain_id: int) -> type[DatasealChain]:
    """The :class:`DatasealChain` subclass for ``chain_id`` (one class per id, reused)."""
    if chain_id not in _classes:
        _classes[chain_id] = type(f"DatasealChain{chain_id}", (DatasealChain,), {"chain_id": chain_id})
    return _classes[chain_id]


def _noting(opcode: int, flag: str) -> OpcodeAPI:
    """An opcode that also sets ``flag`` on the computation running it."""
    return wrapped_opcode(PragueComputation.opcodes, opcode, lambda computation: setattr(computation, flag, True))


class EstimationComputation(DatasealComputation):
    """A computation that records whether its code executed GAS (``read_gas``) or SSTORE (``stored``).

    Gas estimation uses them: code that neither reads its gas nor calls out behaves the same under
    any gas limit that covers what it uses (plus, if it stores, the 2300 gas SSTORE insists on
    having left), so its estimate needs no second execution.
    """

    opcodes = {**PragueComputation.opcodes, GAS: _noting(GAS, "read_gas"), SSTORE: _noting(SSTORE, "stored")}
    read_gas = False
    stored = False


class EstimationState(DatasealState):
    computation_class = EstimationComputation


class CallVM(DatasealVM):
    """The VM eth_call and eth_estimateGas run in (see :class:`EstimationComputation`)."""

    _state_class = EstimationState


class Deadline(Protocol):
    """When a call's time is up: :meth:`check` raises (something that is no py-evm VMError)."""

    def check(self) -> None: ...


class _NoDeadline:
    def check(self) -> None:
        pass


def _deadline_checked(opcode: int) -> OpcodeAPI:
    """An opcode that checks the call's time first: JUMP and JUMPI, which every loop executes."""
    return wrapped_opcode(EstimationComputation.opcodes, opcode,
                          lambda computation: cast(TimedState, computation.state).deadline.check())


class TimedComputation(EstimationComputation):
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
        cast(TimedState, state).deadline.check()
        return super().apply_computation(state, message, transaction_context, parent_computation)


class TimedState(EstimationState):
    computation_class = TimedComputation
    deadline: Deadline = _NoDeadline()  # replaced by each call's own


class TimedCallVM(CallVM):
    """The VM of eth_call / eth_estimateGas, with the time limit."""

    _state_class = TimedState
