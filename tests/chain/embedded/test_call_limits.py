"""eth_call / eth_estimateGas are bounded like geth's (a gas cap and a time limit) and run without
the chain's lock: an endless loop is stopped with an error saying what to do, and meanwhile the
chain keeps accepting transactions, mining and answering."""
from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest
from eth._utils.address import generate_contract_address
from eth_utils import to_canonical_address

from dataseal.chain.embedded.chain import CALL_GAS_CAP, CallRequest, EmbeddedChain, chain_file
from dataseal.chain.embedded.errors import EmbeddedChainError, ExecutionFailed
from dataseal.chain.embedded.rpc import RpcDispatcher
from tests.chain.embedded.conftest import Funded
from tests.chain.embedded.helpers import init_code, new_key, open_chain, sign

LOOP_RUNTIME = bytes.fromhex("5b600056")  # JUMPDEST PUSH1 0 JUMP: loops until the gas runs out
GAS_LEFT_RUNTIME = bytes.fromhex("5a60005260206000f3")  # returns the gas left (GAS, MSTORE, RETURN)


def deploy(chain: EmbeddedChain, key: Any, runtime: bytes) -> bytes:
    sender = to_canonical_address(key.address)
    nonce = chain.pending_nonce(sender)
    chain.send_raw_transaction(sign(key, chain.chain_id, nonce, to=None, value=0, gas=200_000, data=init_code(runtime)))
    chain.mine()
    return bytes(generate_contract_address(sender, nonce))


def _started(chain: EmbeddedChain, monkeypatch: pytest.MonkeyPatch) -> threading.Event:
    """An event set when the chain starts executing a call."""
    started = threading.Event()
    execute = chain._execute

    def noting(*args: Any, **kwargs: Any) -> Any:
        started.set()
        return execute(*args, **kwargs)

    monkeypatch.setattr(chain, "_execute", noting)
    return started


def test_an_endless_call_is_stopped_and_holds_up_nobody(
    chain: EmbeddedChain, keys: Funded, monkeypatch: pytest.MonkeyPatch
) -> None:
    loop = deploy(chain, keys.alice, LOOP_RUNTIME)
    chain.call_timeout = 3.0
    started = _started(chain, monkeypatch)
    finished: list[str] = []
    errors: list[ExecutionFailed] = []

    def endless() -> None:
        try:
            chain.call(CallRequest(to=loop, gas=30_000_000))
        except ExecutionFailed as exc:
            errors.append(exc)
        finished.append("call")

    caller = threading.Thread(target=endless)
    caller.start()
    try:
        assert started.wait(30)
        # while the loop runs: a transaction is accepted and mined, reads and RPC are answered
        tx = chain.send_raw_transaction(sign(keys.bob, chain.chain_id, 0))
        mined = chain.mine()
        assert mined.transactions == (tx,)
        assert chain.get_receipt(tx) is not None
        assert RpcDispatcher(chain).call("eth_blockNumber") == hex(mined.number)
        finished.append("mined")
    finally:
        caller.join()
    assert finished == ["mined", "call"]
    message = errors[0].message
    assert message.startswith("execution aborted (timeout = 3s)")
    assert "stopped after 3 s" in message and "lower gas limit" in message and "endless loop" in message
    # the chain's call VM is fine afterwards
    assert int.from_bytes(chain.call(CallRequest(to=deploy(chain, keys.alice, GAS_LEFT_RUNTIME))), "big") > 0


def test_a_timed_out_call_and_estimate_answer_a_json_rpc_error(chain: EmbeddedChain, keys: Funded) -> None:
    loop = deploy(chain, keys.alice, LOOP_RUNTIME)
    chain.call_timeout = 0.2
    dispatcher = RpcDispatcher(chain)
    for method in ("eth_call", "eth_estimateGas"):
        response = dispatcher.handle({"jsonrpc": "2.0", "id": 1, "method": method,
                                      "params": [{"to": "0x" + loop.hex(), "gas": hex(30_000_000)}, "latest"]})
        assert response["error"]["code"] == -32000
        assert "execution aborted (timeout = 0.2s)" in response["error"]["message"]
        assert "give it a lower gas limit" in response["error"]["message"]
    assert dispatcher.call("eth_blockNumber") == "0x1"  # still answering


def test_calls_get_at_most_the_gas_cap(tmp_path: Path) -> None:
    key = new_key()
    chain = open_chain(tmp_path / "big", [key.address], gas_limit=100_000_000)
    try:
        assert chain.call_gas_cap == CALL_GAS_CAP == 50_000_000
        gauge = deploy(chain, key, GAS_LEFT_RUNTIME)
        left = int.from_bytes(chain.call(CallRequest(to=gauge, gas=80_000_000)), "big")
        assert 49_000_000 < left < CALL_GAS_CAP
        left = int.from_bytes(chain.call(CallRequest(to=gauge)), "big")  # no gas given: the cap, not the block's
        assert 49_000_000 < left < CALL_GAS_CAP
        chain.call_gas_cap = 1_000_000
        assert int.from_bytes(chain.call(CallRequest(to=gauge)), "big") < 1_000_000
    finally:
        chain.close(flush=False)


def test_the_limits_are_checked_when_the_chain_opens(tmp_path: Path) -> None:
    with pytest.raises(EmbeddedChainError, match="call time limit must be above 0 seconds, got 0"):
        EmbeddedChain.open(chain_file(tmp_path / "a"), call_timeout=0)
    assert not (tmp_path / "a").exists()  # refused before anything was created
    with pytest.raises(EmbeddedChainError, match="call gas cap must be at least 21000, got 5"):
        EmbeddedChain.open(chain_file(tmp_path / "b"), call_gas_cap=5)


def test_closing_the_chain_stops_a_running_call(
    chain: EmbeddedChain, keys: Funded, monkeypatch: pytest.MonkeyPatch
) -> None:
    loop = deploy(chain, keys.alice, LOOP_RUNTIME)
    chain.call_timeout = 600.0  # longer than this test could wait: only the close can stop it
    started = _started(chain, monkeypatch)
    errors: list[ExecutionFailed] = []

    def endless() -> None:
        try:
            chain.call(CallRequest(to=loop, gas=30_000_000))
        except ExecutionFailed as exc:
            errors.append(exc)

    caller = threading.Thread(target=endless)
    caller.start()
    assert started.wait(30)
    chain.close(flush=False)
    caller.join()
    assert "the node is shutting down" in errors[0].message
