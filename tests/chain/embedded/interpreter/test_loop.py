"""The fast interpreter's computation (dataseal.chain.embedded.interpreter.loop): the JUMPDEST analysis
shared by every run of the same code gives py-evm's answers, jump targets inside PUSH data included; the
lean loop's stack opcodes pad a PUSH the code cuts short, and fail as py-evm's do.

Each computation here runs on its own (no transaction around it) as py-evm's ``PragueComputation`` and
as :class:`LeanComputation`, on the state after the genesis of :mod:`.evm`. (test_differential.py
compares the two interpreters on whole blocks and on generated code.)"""
from __future__ import annotations

from typing import Any

import pytest
from eth.abc import ComputationAPI
from eth.vm.code_stream import CodeStream
from eth.vm.forks.prague.computation import PragueComputation
from eth.vm.message import Message
from hypothesis import given, settings
from hypothesis import strategies as st

from dataseal.chain.embedded.interpreter.loop import LeanComputation
from tests.chain.embedded.interpreter.evm import CALLER, CODE_ADDRESS, genesis_chain

COMPUTATIONS = (PragueComputation, LeanComputation)

# PUSH1 0, CALLDATALOAD, JUMP: to the position the calldata names. Then, by position:
#   4 JUMPDEST, STOP                       a jump target
#   6 PUSH1 0x5b                           7 is a 0x5b in PUSH data
#   8 PUSH32 5b.. (0x5b at 9, 20 and 40)   PUSH data
#  41 JUMPDEST, STOP                       a target right after 32 bytes of PUSH data
#  43 PUSH1 0x60                           44 is a PUSH1 opcode byte in PUSH data
#  45 JUMPDEST, STOP                       a target after 0x60 0x60, whose second 0x60 is data
JUMPER = bytes.fromhex(
    "6000" "35" "56" "5b00" "605b" "7f" + "5b" + "00" * 10 + "5b" + "00" * 19 + "5b" + "5b00" + "6060" + "5b00"
)
# Each target and how a jump to it ends (py-evm's errors): no error, a 0x5b byte that is PUSH data (not an
# instruction), or a byte that is not 0x5b (past the end of the code: STOP).
DATA, NOT_JUMPDEST = "InvalidInstruction", "InvalidJumpDestination"
TARGETS = {4: None, 7: DATA, 9: DATA, 20: DATA, 40: DATA, 41: None, 44: NOT_JUMPDEST, 45: None, 46: NOT_JUMPDEST,
           999: NOT_JUMPDEST}


def run(cls: type[PragueComputation], code: bytes, *, data: bytes = b"", gas: int = 100_000) -> ComputationAPI:
    """``code`` run as a message from the caller to CODE_ADDRESS by the computation class ``cls``."""
    state = genesis_chain("fast").get_vm().state
    message = Message(gas=gas, to=CODE_ADDRESS, sender=CALLER, value=0, data=data, code=code)
    context = state.get_transaction_context_class()(gas_price=0, origin=CALLER)
    return cls.apply_computation(state, message, context)


def stream(code: bytes) -> Any:
    """The code stream of a :class:`LeanComputation` of ``code`` (not run)."""
    state = genesis_chain("fast").get_vm().state
    message = Message(gas=100_000, to=CODE_ADDRESS, sender=CALLER, value=0, data=b"", code=code)
    return LeanComputation(state, message, state.get_transaction_context_class()(gas_price=0, origin=CALLER)).code


def outcome(computation: ComputationAPI) -> tuple[Any, ...]:
    error = computation.error if computation.is_error else None
    return (computation.is_success, type(error).__name__, error.args if error else (), computation.get_gas_remaining())


def test_streams_of_the_same_code_share_one_jumpdest_analysis() -> None:
    code = bytes.fromhex("60015b" "7f" + "5b" * 32 + "5b00")  # made for this test: no other run has seen it
    first, second = stream(code), stream(bytes(bytearray(code)))  # equal code, another bytes object
    for position in range(len(code)):
        first.is_valid_opcode(position)
    # the second stream knows every answer before it is asked
    assert second.valid_positions | second.invalid_positions == set(range(len(code)))
    assert second.valid_positions == {0, 2, 3, 36, 37} and second.invalid_positions == set(range(len(code))) - {
        0, 2, 3, 36, 37}
    other = stream(code[:-1] + b"\x01")  # other code of the same length: its own analysis
    assert other.valid_positions == other.invalid_positions == set()


_code = st.lists(
    st.one_of(st.integers(0x60, 0x7F), st.sampled_from([0x5B, 0x00, 0x56, 0x57]), st.integers(0, 255)), max_size=100
).map(bytes)


@settings(max_examples=200, deadline=None)
@given(code=_code, data=st.data())
def test_the_shared_analysis_gives_py_evms_answers_whatever_is_asked_first(code: bytes, data: st.DataObject) -> None:
    expected = [CodeStream(code).is_valid_opcode(position) for position in range(len(code) + 2)]
    for _ in range(2):  # a first stream works the answers out in some order; a second, sharing them, in another
        order = data.draw(st.permutations(range(len(code) + 2)))
        lean = stream(code)
        assert {p: lean.is_valid_opcode(p) for p in order} == dict(enumerate(expected)), f"code 0x{code.hex()}"


@pytest.mark.parametrize("order", [list(TARGETS), list(reversed(TARGETS))], ids=["forwards", "backwards"])
def test_a_jump_into_push_data_fails_and_a_jump_to_a_jumpdest_succeeds(order: list[int]) -> None:
    for target in order:
        calldata = target.to_bytes(32, "big")
        lean, stock = run(LeanComputation, JUMPER, data=calldata), run(PragueComputation, JUMPER, data=calldata)
        assert outcome(lean) == outcome(stock), target
        assert (type(lean.error).__name__ if lean.is_error else None) == TARGETS[target], target


@pytest.mark.parametrize("cls", COMPUTATIONS, ids=["stock", "lean"])
@pytest.mark.parametrize(("code", "pushed", "pushes"), [
    ("6101", 0x0100, 1),  # PUSH2 with one byte: the missing byte is a trailing zero
    ("62ff", 0xFF0000, 1),
    ("7f0102", 0x0102 << 240, 1),  # PUSH32 with two bytes
    ("61", 0, 1),  # no byte at all
    ("600161", 0, 2),  # the same after another push: only the last is cut
], ids=["push2-one-byte", "push3-one-byte", "push32-two-bytes", "push2-no-byte", "after-a-push"])
def test_a_push_cut_short_by_the_end_of_the_code_is_padded_with_zeros(
    cls: type[PragueComputation], code: str, pushed: int, pushes: int
) -> None:
    computation = run(cls, bytes.fromhex(code), gas=1_000)
    assert computation.is_success
    assert computation.stack_pop1_int() == pushed
    assert computation.get_gas_remaining() == 1_000 - 3 * pushes  # 3 gas each, as any push


@pytest.mark.parametrize(("code", "gas", "error"), [
    ("6001" * 1024, 10_000, None),  # a full stack
    ("6001" * 1025, 10_000, ("FullStack", "Stack limit reached")),
    ("6001" * 1024 + "80", 10_000, ("FullStack", "Stack limit reached")),  # DUP1 on a full stack
    ("6001" * 15 + "8f", 10_000, ("InsufficientStack", "Insufficient stack items for DUP16")),
    ("6001" * 16 + "9f", 10_000, ("InsufficientStack", "Insufficient stack items for SWAP16")),
    ("6001" * 16 + "8f9f", 10_000, None),  # DUP16, then SWAP16 on the 17 items
    ("50", 10_000, ("InsufficientStack", "Wanted 1 stack item, had none")),  # POP
    ("60016001", 6, None),  # exactly the gas of two pushes
    ("60016001", 5, ("OutOfGas", "Out of gas: Needed 3 - Remaining 2 - Reason: PUSH1")),
    ("5b5b", 1, ("OutOfGas", "Out of gas: Needed 1 - Remaining 0 - Reason: JUMPDEST")),
], ids=["full", "overflow", "dup-overflow", "dup-underflow", "swap-underflow", "dup-swap", "pop-empty", "exact-gas",
        "out-of-gas", "jumpdest-gas"])
def test_the_stack_opcodes_fail_as_py_evms_do(code: str, gas: int, error: tuple[str, str] | None) -> None:
    lean = run(LeanComputation, bytes.fromhex(code), gas=gas)
    assert outcome(lean) == outcome(run(PragueComputation, bytes.fromhex(code), gas=gas))
    if error is None:
        assert lean.is_success
    else:
        assert (type(lean.error).__name__, str(lean.error)) == error
        assert lean.get_gas_remaining() == 0  # an error consumes the frame's gas
