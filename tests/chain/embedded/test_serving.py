"""Requests first (dataseal.chain.embedded.serving): while a request is served, the miner pauses at
its next jump or transaction, never for good: a pause ends when the request does, or at its limit,
after which the miner runs as long again; a request waiting for a block steps aside.

Every test runs on a :class:`ManualClock`, which stands still unless the test moves it: a pause
can end only by what the test does, and the tests see the miner's pauses as waits on the clock."""
from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from dataseal.chain.embedded.chain import EmbeddedChain
from dataseal.chain.embedded.rpc import RpcDispatcher
from dataseal.chain.embedded.server import RpcServer
from dataseal.chain.embedded.serving import ServingFirst
from dataseal.chain.embedded.settings import Mining, Tuning
from tests.chain.embedded.clocks import ManualClock, Sleeper, until
from tests.chain.embedded.conftest import Funded
from tests.chain.embedded.helpers import open_chain, rpc, sign

LIMIT = 1.0  # the longest pause, in the clock's seconds
MINER = "dataseal-miner"  # the miner thread's name
# Counts down from 2000 to 0 (JUMPDEST, SUB, JUMPI back while not 0): 2000 jumps, then stops.
COUNTDOWN_INIT = bytes.fromhex("6107d0" "5b" "6001" "90" "03" "80" "6003" "57" "00")


def a_pause(sleeper: Sleeper) -> bool:
    return sleeper.timeout is not None and sleeper.timeout == pytest.approx(LIMIT, abs=0.1)


def in_thread(target: Callable[[], object], name: str) -> threading.Thread:
    thread = threading.Thread(target=target, name=name)
    thread.start()
    return thread


def ended(thread: threading.Thread) -> None:
    until(lambda: not thread.is_alive(), f"{thread.name} ending")
    thread.join()


@contextmanager
def a_request(serving: Callable[[], Any]) -> Iterator[threading.Event]:
    """A request being served on a thread of its own until the event given is set (or the block ends)."""
    inside, leave = threading.Event(), threading.Event()

    def request() -> None:
        with serving():
            inside.set()
            leave.wait()

    thread = in_thread(request, "request")
    try:
        until(inside.is_set, "the request being served")
        yield leave
    finally:
        leave.set()
        thread.join()


# ------------------------------------------------------------------------------------ ServingFirst alone


def test_a_thread_counts_once_however_nested_and_steps_aside_while_it_waits() -> None:
    serving = ServingFirst(ManualClock(), LIMIT)
    assert serving.being_served == 0
    with serving.serving(), serving.serving():  # nested, as a batch inside a request may be
        assert serving.being_served == 1
        with serving.stepping_aside():
            assert serving.being_served == 0
        assert serving.being_served == 1  # counted again once the wait is over, once for the thread
        with a_request(serving.serving):
            assert serving.being_served == 2
    assert serving.being_served == 0


def test_nobody_served_means_no_pause() -> None:
    clock = ManualClock()
    ServingFirst(clock, LIMIT).give_way()
    assert clock.history == []


def test_a_pause_lasts_until_the_request_is_answered() -> None:
    clock = ManualClock()
    serving = ServingFirst(clock, LIMIT)
    with a_request(serving.serving) as leave:
        miner = in_thread(serving.give_way, MINER)
        assert clock.sleeper(MINER).timeout == LIMIT
        leave.set()  # the request answered: the pause ends, the clock has not moved
        ended(miner)
    serving.give_way()  # that pause owes nothing: with nobody served, no pause at all
    assert len(clock.history) == 1


def test_a_pause_cut_short_is_followed_by_as_long_a_run() -> None:
    clock = ManualClock()
    serving = ServingFirst(clock, LIMIT)
    with a_request(serving.serving):  # one that outlasts the miner's longest pause
        miner = in_thread(serving.give_way, MINER)
        clock.sleeper(MINER)
        clock.advance(LIMIT)  # the pause's limit: it ends with the request still being served
        ended(miner)
        # It paused 1 s, so it runs 1 s more before pausing again.
        serving.give_way()
        clock.advance(LIMIT - 0.01)
        serving.give_way()
        assert len(clock.history) == 1
        clock.advance(0.02)
        miner = in_thread(serving.give_way, MINER)
        assert clock.sleeper(MINER).timeout == LIMIT
    ended(miner)  # the request ended: so did the pause
    assert len(clock.history) == 2


# ------------------------------------------------------------------------------------ the chain's miner


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def idle_chain(tmp_path: Path, keys: Funded, clock: ManualClock) -> Iterator[EmbeddedChain]:
    """Idle mining without gathering a burst (so that the frozen clock need not move for a block)."""
    chain = open_chain(tmp_path / "data", keys.addresses, mining=Mining("idle"), clock=clock,
                       tuning=Tuning(idle_linger=0.0, miner_give_way=LIMIT))
    try:
        yield chain
    finally:
        chain.close()


def test_the_miner_waits_while_a_request_is_served(idle_chain: EmbeddedChain, keys: Funded, clock: ManualClock) -> None:
    with idle_chain.serving():
        tx = idle_chain.send_raw_transaction(sign(keys.alice, idle_chain.chain_id, 0))
        clock.sleeper(MINER, a_pause)
        assert idle_chain.pending_count == 1 and idle_chain.get_receipt(tx, wait=0) is None
    receipt = idle_chain.get_receipt(tx, wait=30)  # the request is over: the block comes
    assert receipt is not None and receipt.receipt.state_root == b"\x01"


def test_a_request_waiting_for_its_block_steps_aside(
    idle_chain: EmbeddedChain, keys: Funded, clock: ManualClock
) -> None:
    # Were the waiting request still counted, the miner would pause for it for good (the clock stands still).
    receipts: list[Any] = []

    def request() -> None:
        with idle_chain.serving(), idle_chain.serving():  # nested, as a batch inside a request may be
            tx = idle_chain.send_raw_transaction(sign(keys.alice, idle_chain.chain_id, 0))
            receipts.append(idle_chain.get_receipt(tx, wait=30))

    ended(in_thread(request, "request"))
    assert receipts[0] is not None and receipts[0].receipt.state_root == b"\x01"


def test_the_miner_gives_way_at_the_jumps_of_a_long_transaction(tmp_path: Path, keys: Funded) -> None:
    # The clock moves 10 ms at each reading: the miner reads it at each give-way point while a request
    # is served, so a run it owes ends after some hundred of them; each pause ends when the test moves
    # the clock past its limit. A transaction of 2000 jumps then pauses the miner many times, at jumps:
    # between transactions and around the block's tries there are only a few places to pause.
    clock = ManualClock(tick=0.01)
    chain = open_chain(tmp_path / "data", keys.addresses, mining=Mining("idle"), clock=clock,
                       tuning=Tuning(idle_linger=0.0, miner_give_way=LIMIT))
    try:
        with a_request(chain.serving):
            tx = chain.send_raw_transaction(sign(keys.alice, chain.chain_id, 0, to=None, value=0, gas=200_000,
                                                 data=COUNTDOWN_INIT))
            pauses: list[Sleeper] = []

            def next_pause_or_mined() -> Sleeper | bool | None:
                found = [s for s in clock.sleepers(MINER) if a_pause(s) and not any(s is p for p in pauses)]
                return found[0] if found else (chain.pending_count == 0 or None)

            while isinstance(found := until(next_pause_or_mined, "a pause, or the block"), Sleeper):
                pauses.append(found)
                clock.advance(LIMIT)
        assert len(pauses) >= 10
        receipt = chain.get_receipt(tx)
        assert receipt is not None and receipt.receipt.state_root == b"\x01"
    finally:
        chain.close()


def test_a_caller_mining_on_its_own_thread_never_pauses(tmp_path: Path, keys: Funded, clock: ManualClock) -> None:
    # Only the miner thread has the hook: a caller mining (or calling) inside a request would otherwise
    # pause for the request it serves itself, for good on a clock that stands still.
    chain = open_chain(tmp_path / "data", keys.addresses, clock=clock, tuning=Tuning(miner_give_way=LIMIT))
    mined: list[Any] = []

    def request() -> None:
        with chain.serving():
            chain.send_raw_transaction(sign(keys.alice, chain.chain_id, 0, to=None, value=0, gas=200_000,
                                            data=COUNTDOWN_INIT))
            mined.append(chain.mine())

    try:
        ended(in_thread(request, "request"))
        assert len(mined[0].transactions) == 1
        assert not [s for s in clock.history if a_pause(s)]
    finally:
        chain.close()


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
