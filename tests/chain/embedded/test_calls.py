"""eth_call and eth_estimateGas (dataseal.chain.embedded.calls): state read at a block, reverts with
their data, estimates a transaction can be sent with; bounded like geth's (a gas cap and a time limit)
and run without the chain's lock: an endless loop is stopped with an error saying what to do, and
meanwhile the chain keeps accepting transactions, mining and answering.

The time limit is measured on the chain's clock, here a :class:`ManualClock`: a call runs until
the test moves the clock past its limit (or, ticking, until it has read the clock often enough),
so no test races the wall clock."""
from __future__ import annotations

import threading
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from eth_utils import to_checksum_address
from web3 import Web3

from dataseal.chain.embedded.chain import EmbeddedChain, chain_file
from dataseal.chain.embedded.defaults import DEFAULT_CALL_GAS_CAP
from dataseal.chain.embedded.errors import ExecutionFailed, ExecutionReverted
from dataseal.chain.embedded.provider import EmbeddedProvider
from dataseal.chain.embedded.records import CallRequest, StateOverride
from dataseal.chain.embedded.rpc import RpcDispatcher
from dataseal.chain.embedded.settings import Interpreter, Tuning
from tests.chain.embedded.clocks import HANG_GUARD_SECONDS, ManualClock, until
from tests.chain.embedded.conftest import Funded
from tests.chain.embedded.helpers import (
    BOB,
    ETH,
    GAS_RUNTIME,
    LOG_RUNTIME,
    REVERT_RUNTIME,
    STORE_RUNTIME,
    addr,
    deploy,
    new_key,
    open_chain,
    sign,
)

LOOP_RUNTIME = bytes.fromhex("5b600056")  # JUMPDEST PUSH1 0 JUMP: loops until the gas runs out
GAS_LEFT_RUNTIME = bytes.fromhex("5a60005260206000f3")  # returns the gas left (GAS, MSTORE, RETURN)
ENDLESS_GAS = 2**62  # blocks and calls with this much gas: a loop on it ends by the time limit, not the gas

def test_calls_read_state_and_reverts_carry_their_data(chain: EmbeddedChain, keys: Funded) -> None:
    store = deploy(chain, keys.alice, STORE_RUNTIME)
    reverter = deploy(chain, keys.alice, REVERT_RUNTIME)
    alice = addr(keys.alice.address)
    chain.send_raw_transaction(sign(keys.alice, chain.chain_id, 2, to=to_checksum_address(store), value=0, gas=60_000,
                                    data=(42).to_bytes(32, "big")))
    chain.mine()
    assert chain.get_storage_at(store, 0) == 42
    assert chain.get_code(store) == STORE_RUNTIME
    with pytest.raises(ExecutionReverted, match="execution reverted") as info:
        chain.call(CallRequest(sender=alice, to=reverter))
    assert info.value.data == "0xdeadbeef" and info.value.revert_data == bytes.fromhex("deadbeef")
    with pytest.raises(ExecutionReverted):
        chain.estimate_gas(CallRequest(sender=alice, to=reverter))
    with pytest.raises(ExecutionFailed, match="gas required exceeds allowance \\(22000\\)"):
        chain.call(CallRequest(sender=alice, to=store, gas=22_000, data=(1).to_bytes(32, "big")))
    with pytest.raises(ExecutionFailed, match="balance"):
        chain.call(CallRequest(sender=addr(BOB), to=store, value=ETH))


@pytest.mark.parametrize("runtime", [STORE_RUNTIME, GAS_RUNTIME, LOG_RUNTIME], ids=["sstore", "reads-gas", "log"])
def test_a_transaction_sent_with_exactly_the_estimate_succeeds(
    chain: EmbeddedChain, keys: Funded, runtime: bytes
) -> None:
    contract = deploy(chain, keys.alice, runtime)
    data = (7).to_bytes(32, "big")
    estimate = chain.estimate_gas(CallRequest(sender=addr(keys.alice.address), to=contract, data=data))
    tx = chain.send_raw_transaction(sign(keys.alice, chain.chain_id, 1, to=to_checksum_address(contract), value=0,
                                         gas=estimate, data=data))
    chain.mine()
    receipt = chain.get_receipt(tx)
    assert receipt is not None and receipt.receipt.state_root == b"\x01"
    assert estimate - receipt.gas_used <= 2_300 + 4_800  # at most the SSTORE margin above the (refunded) use


def test_a_plain_transfer_is_estimated_at_21000(chain: EmbeddedChain, keys: Funded) -> None:
    assert chain.estimate_gas(CallRequest(sender=addr(keys.alice.address), to=addr(BOB), value=1)) == 21_000


def endless_call(chain: EmbeddedChain, loop: bytes, errors: list[ExecutionFailed]) -> threading.Thread:
    """A thread named "endless-call" calling the loop; the error it ends with goes into ``errors``."""

    def call() -> None:
        try:
            chain.call(CallRequest(to=loop))
        except ExecutionFailed as exc:
            errors.append(exc)

    return threading.Thread(target=call, name="endless-call")


def running(clock: ManualClock, thread: threading.Thread) -> None:
    """Wait until the call on ``thread`` executes: it read the clock for its deadline, then at its jumps."""
    until(lambda: clock.reads(thread.name) >= 3, "the call executing")


def test_an_endless_call_is_stopped_at_its_time_limit_and_holds_up_nobody(tmp_path: Path, keys: Funded) -> None:
    clock = ManualClock()
    chain = open_chain(tmp_path / "data", keys.addresses, gas_limit=ENDLESS_GAS, clock=clock,
                       tuning=Tuning(call_timeout=3.0, call_gas_cap=ENDLESS_GAS))
    try:
        loop = deploy(chain, keys.alice, LOOP_RUNTIME)
        errors: list[ExecutionFailed] = []
        caller = endless_call(chain, loop, errors)
        caller.start()
        try:
            running(clock, caller)
            # while the loop runs: a transaction is accepted and mined, reads and RPC are answered
            tx = chain.send_raw_transaction(sign(keys.bob, chain.chain_id, 0))
            mined = chain.mine()
            assert mined.transactions == (tx,)
            assert chain.get_receipt(tx) is not None
            assert RpcDispatcher(chain).call("eth_blockNumber") == hex(mined.number)
            assert caller.is_alive() and not errors  # only the clock can stop it
        finally:
            clock.advance(3.01)  # past the call's limit
            caller.join()
        message = errors[0].message
        assert message.startswith("execution aborted (timeout = 3s)")
        assert "stopped after 3 s" in message and "lower gas limit" in message and "endless loop" in message
        # the chain's call VM is fine afterwards
        assert int.from_bytes(chain.call(CallRequest(to=deploy(chain, keys.alice, GAS_LEFT_RUNTIME))), "big") > 0
    finally:
        chain.close(flush=False)


def test_a_timed_out_call_and_estimate_answer_a_json_rpc_error(tmp_path: Path, keys: Funded) -> None:
    # Each reading of the clock moves it 10 ms on: the 0.2 s are up after some 20 jumps.
    chain = open_chain(tmp_path / "data", keys.addresses, clock=ManualClock(tick=0.01),
                       tuning=Tuning(call_timeout=0.2))
    try:
        loop = deploy(chain, keys.alice, LOOP_RUNTIME)
        dispatcher = RpcDispatcher(chain)
        for method in ("eth_call", "eth_estimateGas"):
            response = dispatcher.handle({"jsonrpc": "2.0", "id": 1, "method": method,
                                          "params": [{"to": "0x" + loop.hex(), "gas": hex(30_000_000)}, "latest"]})
            assert response["error"]["code"] == -32000
            assert "execution aborted (timeout = 0.2s)" in response["error"]["message"]
            assert "give it a lower gas limit" in response["error"]["message"]
        assert dispatcher.call("eth_blockNumber") == "0x1"  # still answering
    finally:
        chain.close(flush=False)


def test_calls_get_at_most_the_gas_cap(tmp_path: Path) -> None:
    key = new_key()
    chain = open_chain(tmp_path / "big", [key.address], gas_limit=100_000_000)
    try:
        assert chain.tuning.call_gas_cap == DEFAULT_CALL_GAS_CAP == 50_000_000
        gauge = deploy(chain, key, GAS_LEFT_RUNTIME)
        left = int.from_bytes(chain.call(CallRequest(to=gauge, gas=80_000_000)), "big")
        assert 49_000_000 < left < DEFAULT_CALL_GAS_CAP
        left = int.from_bytes(chain.call(CallRequest(to=gauge)), "big")  # no gas given: the cap, not the block's
        assert 49_000_000 < left < DEFAULT_CALL_GAS_CAP
    finally:
        chain.close(flush=False)
    with EmbeddedChain.open(chain_file(tmp_path / "big"), tuning=Tuning(call_gas_cap=1_000_000)) as capped:
        assert int.from_bytes(capped.call(CallRequest(to=gauge)), "big") < 1_000_000


def test_closing_the_chain_stops_a_running_call(tmp_path: Path, keys: Funded) -> None:
    clock = ManualClock()  # never advanced: only the close can stop the call
    chain = open_chain(tmp_path / "data", keys.addresses, gas_limit=ENDLESS_GAS, clock=clock,
                       tuning=Tuning(call_gas_cap=ENDLESS_GAS))
    loop = deploy(chain, keys.alice, LOOP_RUNTIME)
    errors: list[ExecutionFailed] = []
    caller = endless_call(chain, loop, errors)
    caller.start()
    running(clock, caller)
    chain.close(flush=False)
    caller.join()
    assert "the node is shutting down" in errors[0].message


def test_a_call_with_init_code_above_the_limit_is_refused_with_the_reason(dispatcher: RpcDispatcher) -> None:
    for method in ("eth_call", "eth_estimateGas"):
        response = dispatcher.handle({"jsonrpc": "2.0", "id": 1, "method": method,
                                      "params": [{"data": "0x" + "00" * 100_000}]})
        assert response["error"] == {"code": -32000,
                                     "message": "max initcode size exceeded: code size 100000, limit 49152 (EIP-3860)"}


# ------------------------------------------------------------------ the time limit inside precompiles


def bn256_pairs(count: int) -> bytes:
    """Input of the bn256 pairing precompile (0x08): ``count`` pairs of the two generators."""
    from py_ecc import optimized_bn128 as bn

    g1, g2 = bn.normalize(bn.G1), bn.normalize(bn.G2)
    words = [g1[0].n, g1[1].n, g2[0].coeffs[1], g2[0].coeffs[0], g2[1].coeffs[1], g2[1].coeffs[0]]
    return b"".join(int(w).to_bytes(32, "big") for w in words) * count


def bls_pairs(count: int) -> bytes:
    """Input of the BLS12-381 pairing check (0x0f): ``count`` pairs of the two generators."""
    from eth.precompiles.bls12_381.bls12_381_g1 import g1_optimized_3d_to_bytes
    from eth.precompiles.bls12_381.bls12_381_g2 import g2_optimized_3d_to_bytes
    from py_ecc.optimized_bls12_381 import G1, G2

    return (g1_optimized_3d_to_bytes(G1) + g2_optimized_3d_to_bytes(G2)) * count


def blake2f(rounds: int) -> bytes:
    """Input of blake2f (0x09): ``rounds`` rounds (1 gas each) over a made-up state."""
    return rounds.to_bytes(4, "big") + b"\x01" * (64 + 128 + 16) + b"\x01"


def precompile(number: int) -> bytes:
    return number.to_bytes(20, "big")


LONG_PRECOMPILES = [  # each runs for 10 s or more on a 2-core VM when nothing stops it
    pytest.param(8, bn256_pairs(100), "fast", id="bn256-pairing"),
    pytest.param(8, bn256_pairs(100), "stock", id="bn256-pairing-stock"),
    pytest.param(9, blake2f(10_000_000), "fast", id="blake2f"),
    pytest.param(15, bls_pairs(50), "fast", id="bls12-381-pairing"),
]


def call_thread(chain: EmbeddedChain, request: CallRequest, errors: list[ExecutionFailed]) -> threading.Thread:
    def call() -> None:
        try:
            chain.call(request)
        except ExecutionFailed as exc:
            errors.append(exc)

    return threading.Thread(target=call, name="precompile-call")


def watched(clock: ManualClock) -> None:
    """Wait until a precompile runs under its call's deadline watcher (waiting for the deadline)."""
    clock.sleeper("call-deadline", lambda s: s.timeout is not None)


@pytest.mark.parametrize(("number", "data", "interpreter"), LONG_PRECOMPILES)
def test_the_time_limit_stops_a_call_inside_a_precompile(
    tmp_path: Path, number: int, data: bytes, interpreter: Interpreter
) -> None:
    clock = ManualClock()
    chain = open_chain(tmp_path / "data", clock=clock, tuning=Tuning(call_timeout=5.0, interpreter=interpreter))
    try:
        errors: list[ExecutionFailed] = []
        caller = call_thread(chain, CallRequest(to=precompile(number), data=data), errors)
        caller.start()
        watched(clock)
        assert caller.is_alive() and not errors
        clock.advance(5.01)
        caller.join()
        assert errors and errors[0].message.startswith("execution aborted (timeout = 5s)")
        response = RpcDispatcher(chain).handle({"jsonrpc": "2.0", "id": 1, "method": "eth_call", "params": [
            {"to": "0x" + precompile(8).hex(), "data": "0x" + bn256_pairs(1).hex()}]})
        assert response["result"] == "0x" + "00" * 32  # the next call runs, and to its end
    finally:
        chain.close(flush=False)


def test_a_timed_out_precompile_answers_the_json_rpc_error_of_any_timed_out_call(tmp_path: Path) -> None:
    clock = ManualClock()
    chain = open_chain(tmp_path / "data", clock=clock, tuning=Tuning(call_timeout=5.0))
    try:
        dispatcher = RpcDispatcher(chain)
        responses: list[Any] = []
        request = {"jsonrpc": "2.0", "id": 1, "method": "eth_call",
                   "params": [{"to": "0x" + precompile(8).hex(), "data": "0x" + bn256_pairs(100).hex()}]}
        caller = threading.Thread(target=lambda: responses.append(dispatcher.handle(request)), name="rpc-call")
        caller.start()
        watched(clock)
        clock.advance(5.01)
        caller.join()
        assert responses[0]["error"]["code"] == -32000
        assert responses[0]["error"]["message"].startswith("execution aborted (timeout = 5s)")
    finally:
        chain.close(flush=False)


def test_closing_the_chain_stops_a_call_inside_a_precompile(tmp_path: Path) -> None:
    clock = ManualClock()  # never advanced: only the close can stop the call
    chain = open_chain(tmp_path / "data", clock=clock)
    errors: list[ExecutionFailed] = []
    caller = call_thread(chain, CallRequest(to=precompile(15), data=bls_pairs(50)), errors)
    caller.start()
    watched(clock)
    chain.close(flush=False)
    caller.join()
    assert "the node is shutting down" in errors[0].message


def test_a_modexp_that_would_run_past_the_time_limit_is_refused_up_front(tmp_path: Path) -> None:
    # 1024-byte base and modulus, a 512-byte exponent: 22.4M gas, about half a second of pow; it is
    # priced at 40 ns per gas, so with a time limit of 0.5 s it is refused before it runs.
    size = (1024).to_bytes(32, "big")
    data = size + (512).to_bytes(32, "big") + size + b"\x03" * 1024 + b"\xff" * 512 + b"\xfd" * 1024
    clock = ManualClock()  # never advanced: only the price can stop it
    chain = open_chain(tmp_path / "data", clock=clock, tuning=Tuning(call_timeout=0.5))
    try:
        with pytest.raises(ExecutionFailed, match=r"execution aborted \(timeout = 0.5s\)"):
            chain.call(CallRequest(to=precompile(5), data=data))
        one = (1).to_bytes(32, "big")
        assert chain.call(CallRequest(to=precompile(5), data=one * 3 + bytes([3, 5, 7]))) == b"\x05"  # 3**5 % 7
    finally:
        chain.close(flush=False)


# ------------------------------------------------------------------------------------ state overrides

SLOAD_RUNTIME = bytes.fromhex("6000355460005260206000f3")  # returns storage[calldata[0:32]]
BALANCE_RUNTIME = bytes.fromhex("6000353160005260206000f3")  # returns the balance of the address calldata[12:32]


def word(n: int) -> bytes:
    return n.to_bytes(32, "big")


@pytest.mark.parametrize("interpreter", ["fast", "stock"])
def test_state_overrides_change_one_call_and_nothing_else(tmp_path: Path, keys: Funded, interpreter: str) -> None:
    chain = open_chain(tmp_path / "data", keys.addresses, tuning=Tuning(interpreter=interpreter))
    try:
        store = deploy(chain, keys.alice, STORE_RUNTIME)
        reader = deploy(chain, keys.alice, SLOAD_RUNTIME)
        chain.send_raw_transaction(sign(keys.alice, chain.chain_id, 2, to=to_checksum_address(store), value=0,
                                        gas=60_000, data=word(42)))
        chain.mine()  # the store's slot 0 holds 42

        def read(slot: int, *overrides: StateOverride) -> int:
            return int.from_bytes(chain.call(CallRequest(to=store, data=word(slot)), overrides=overrides), "big")

        code = StateOverride(store, code=SLOAD_RUNTIME)  # the store's own storage, read by other code
        assert read(0, code) == 42
        assert (read(0, replace(code, state_diff=((1, 7),))), read(1, replace(code, state_diff=((1, 7),)))) == (42, 7)
        assert (read(0, replace(code, state=((1, 7),))), read(1, replace(code, state=((1, 7),)))) == (0, 7)
        assert int.from_bytes(chain.call(CallRequest(to=reader, data=word(5)),
                                         overrides=(StateOverride(reader, state_diff=((5, 9),)),)), "big") == 9
        assert chain.call(CallRequest(to=reader, data=word(5))) == word(0)  # the next call sees the chain's state
        balance = StateOverride(reader, code=BALANCE_RUNTIME)
        assert chain.call(CallRequest(to=reader, data=word(int.from_bytes(addr(BOB), "big"))),
                          overrides=(balance, StateOverride(addr(BOB), balance=5 * ETH))) == word(5 * ETH)
        with pytest.raises(ExecutionFailed, match="balance"):
            chain.call(CallRequest(sender=addr(BOB), to=store, value=ETH))
        rich = (StateOverride(addr(BOB), balance=2 * ETH, nonce=7),)
        assert chain.call(CallRequest(sender=addr(BOB), to=store, value=ETH), overrides=rich) == b""
        assert chain.estimate_gas(CallRequest(sender=addr(BOB), to=addr(BOB), value=ETH), overrides=rich) == 21_000
        with pytest.raises(ExecutionFailed, match="balance"):
            chain.estimate_gas(CallRequest(sender=addr(BOB), to=addr(BOB), value=ETH))
        # nothing of it was kept
        assert chain.get_code(store) == STORE_RUNTIME
        assert (chain.get_storage_at(store, 0), chain.get_storage_at(store, 1)) == (42, 0)
        assert (chain.get_balance(addr(BOB)), chain.get_nonce(addr(BOB))) == (0, 0)
        chain.mine()
        assert chain.get_code(store) == STORE_RUNTIME and chain.get_storage_at(store, 0) == 42
        assert chain.get_balance(addr(BOB)) == 0
    finally:
        chain.close(flush=False)


def test_web3_calls_with_state_overrides(chain: EmbeddedChain, keys: Funded) -> None:
    # web3.py's own shapes (its EthModuleTest): code as bytes or hex, quantities as ints or hex, state or stateDiff.
    store = to_checksum_address(deploy(chain, keys.alice, STORE_RUNTIME))
    w3 = Web3(EmbeddedProvider(chain))
    zero = "0x" + "00" * 32
    assert w3.eth.call({"to": store, "data": zero}, "latest", {store: {"code": SLOAD_RUNTIME}}) == word(0)
    assert w3.eth.call({"to": store, "data": zero}, "latest",
                       {store: {"code": "0x" + SLOAD_RUNTIME.hex(), "stateDiff": {zero: "0x" + word(3).hex()}}}
                       ) == word(3)
    for params in ({"nonce": 1, "balance": 1, "code": "0x", "state": {zero: zero}},
                   {"nonce": "0x1", "balance": "0x1", "code": b"\x00", "stateDiff": {zero: zero}}):
        w3.eth.call({"from": keys.alice.address, "to": store}, "latest", {store: params})
        assert w3.eth.estimate_gas({"from": keys.alice.address}, None, {store: params}) == 53_000
    assert w3.eth.get_code(store) == STORE_RUNTIME


def test_a_stop_swallowed_inside_a_precompile_is_raised_again() -> None:
    """An asynchronous CallStopped delivered while a garbage collector's callback runs is swallowed there ("Exception
    ignored in ..."): the watcher raises it again while the call is still inside the precompile, so the call stops
    at the deadline rather than at the precompile's end."""
    from dataseal.chain.embedded.calls import _REDELIVER_SECONDS, CallBudget, CallStopped

    clock = ManualClock()
    budget = CallBudget(5.0, clock)
    outcome: list[str] = []

    def precompile() -> None:
        swallowed = False
        try:
            with budget.abandonable():
                while True:  # a long pure-Python precompile
                    try:
                        while True:
                            pass
                    except CallStopped:
                        if swallowed:
                            raise
                        swallowed = True  # the first delivery lost, as in a weakref callback
                        outcome.append("swallowed")
        except CallStopped:
            outcome.append("stopped")
        finally:
            budget.end()

    caller = threading.Thread(target=precompile, name="precompile-call", daemon=True)  # (a failure would spin on)
    caller.start()
    clock.sleeper("call-deadline", lambda s: s.timeout is not None)  # watching for the deadline
    clock.advance(5.01)
    clock.sleeper("call-deadline", lambda s: s.timeout == _REDELIVER_SECONDS)  # raised once, waiting to raise again
    until(lambda: outcome or None, "the first delivery")
    clock.advance(_REDELIVER_SECONDS)
    caller.join(HANG_GUARD_SECONDS)  # a guard against a hang, not a time limit
    assert outcome == ["swallowed", "stopped"] and budget.stopped
