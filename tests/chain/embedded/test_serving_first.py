"""Requests first: while a request is served, the miner pauses at its next jump or transaction
(see "Serving first" in chain.embedded.chain), never for good: a pause ends when the request
does, or at MINER_GIVE_WAY_SECONDS, after which the miner runs as long again; a request waiting
for a block steps aside. These tests stretch the limit so that only the mechanism can end a pause."""
from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from dataseal.chain.embedded.chain import EmbeddedChain
from dataseal.chain.embedded.giveway import MINER
from dataseal.chain.embedded.rpc import RpcDispatcher
from dataseal.chain.embedded.server import RpcServer
from dataseal.chain.embedded.settings import Tuning
from tests.chain.embedded.conftest import Funded
from tests.chain.embedded.helpers import rpc, sign


def pauses(chain: EmbeddedChain, monkeypatch: pytest.MonkeyPatch) -> tuple[threading.Event, list[float | None]]:
    """An event set when the miner starts a pause, and the time limits of its pauses."""
    started = threading.Event()
    limits: list[float | None] = []
    wait = chain._serving_changed.wait

    def noting(timeout: float | None = None) -> bool:
        limits.append(timeout)
        started.set()
        return wait(timeout)

    monkeypatch.setattr(chain._serving_changed, "wait", noting)
    return started, limits


def test_the_miner_waits_while_a_request_is_served(
    auto_chain: EmbeddedChain, keys: Funded, monkeypatch: pytest.MonkeyPatch
) -> None:
    auto_chain.tuning = Tuning(miner_give_way=600.0)
    paused, _ = pauses(auto_chain, monkeypatch)
    with auto_chain.serving():
        tx = auto_chain.send_raw_transaction(sign(keys.alice, auto_chain.chain_id, 0))
        assert paused.wait(30), "the miner did not pause for the request being served"
        assert auto_chain.pending_count == 1 and auto_chain.get_receipt(tx, wait=0) is None
    receipt = auto_chain.get_receipt(tx, wait=30)  # the request is over: the block comes
    assert receipt is not None and receipt.receipt.state_root == b"\x01"


def test_a_request_waiting_for_its_block_steps_aside(
    auto_chain: EmbeddedChain, keys: Funded, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Were the waiting request still counted, the miner would pause for it longer than it waits.
    auto_chain.tuning = Tuning(miner_give_way=600.0)
    with auto_chain.serving(), auto_chain.serving():  # nested, as a batch inside a request may be
        tx = auto_chain.send_raw_transaction(sign(keys.alice, auto_chain.chain_id, 0))
        receipt = auto_chain.get_receipt(tx, wait=30)
        assert receipt is not None and receipt.receipt.state_root == b"\x01"
        assert auto_chain._serving == 1  # counted again once the wait is over, once for the thread
    assert auto_chain._serving == 0


def test_a_pause_cut_short_is_followed_by_as_long_a_run(
    chain: EmbeddedChain, monkeypatch: pytest.MonkeyPatch
) -> None:
    chain.tuning = Tuning(miner_give_way=1.0)
    _, limits = pauses(chain, monkeypatch)
    inside, leave = threading.Event(), threading.Event()

    def request() -> None:  # one that outlasts the miner's longest pause
        with chain.serving():
            inside.set()
            leave.wait(60)

    serving = threading.Thread(target=request)
    serving.start()
    try:
        assert inside.wait(30)
        started = time.monotonic()
        chain._give_way()  # pauses until its limit: the request is still being served
        assert limits and chain._serving == 1
        # It paused at least 1 s, so it runs at least 1 s more before pausing again.
        assert chain._miner_owed_until >= started + 2.0
        count = len(limits)
        chain._give_way()
        assert len(limits) == count
    finally:
        leave.set()
        serving.join()
    chain._miner_owed_until = 0.0
    chain._give_way()  # nobody is served: no pause at all
    assert len(limits) == count


def test_only_the_miner_thread_gives_way_at_jumps(auto_chain: EmbeddedChain, keys: Funded) -> None:
    seen: list[Any] = []
    build = auto_chain._execute_block

    def noting(*args: Any, **kwargs: Any) -> Any:
        seen.append(MINER.give_way)
        return build(*args, **kwargs)

    auto_chain._execute_block = noting  # type: ignore[method-assign]
    tx = auto_chain.send_raw_transaction(sign(keys.alice, auto_chain.chain_id, 0))
    assert auto_chain.get_receipt(tx, wait=30) is not None
    assert seen and seen[0] == auto_chain._give_way  # the miner's blocks run with the hook
    assert MINER.give_way is None  # this thread (a caller, a request) never has it


def test_the_http_server_serves_each_request_first(auto_chain: EmbeddedChain, monkeypatch: pytest.MonkeyPatch) -> None:
    entered: list[str] = []
    serving = auto_chain.serving

    def noting() -> Any:
        entered.append(threading.current_thread().name)
        return serving()

    monkeypatch.setattr(auto_chain, "serving", noting)
    server = RpcServer(RpcDispatcher(auto_chain), "127.0.0.1", 0)
    server.start()
    try:
        answer = rpc(server.url, "eth_chainId")
        assert int(answer["result"], 16) == auto_chain.chain_id
        assert len(entered) == 1 and entered[0] != threading.current_thread().name
    finally:
        server.shutdown()
