"""Reads pinned to the head (HeadReads): each call made once per head, at that block, and asked for again when the
head is older than max_age (an injected clock) or after invalidate() — on a real py-evm chain."""
from __future__ import annotations

import linecache
import sys
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from eth_utils import keccak
from web3.middleware import Web3Middleware

from dataseal.cached import NotCached, cached_only
from dataseal.chain.contracts.deployed import DatasealContracts
from dataseal.chain.contracts.reads import HeadReads
from dataseal.chain.contracts.records import Registration
from dataseal.chain.errors import ChainError, ContractRevert
from tests.chain.embedded.clocks import HANG_GUARD_SECONDS
from tests.conftest import Chain


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def counted(pyevm: Chain) -> Iterator[list[str]]:
    """The JSON-RPC methods the chain's provider is asked, in order (eth_chainId left out)."""
    methods: list[str] = []

    class Counting(Web3Middleware):
        def wrap_make_request(self, make_request: Any) -> Any:
            def middleware(method: Any, params: Any) -> Any:
                if method != "eth_chainId":  # web3's validation asks it around calls (the HTTP provider caches it)
                    methods.append(str(method))
                return make_request(method, params)
            return middleware

    pyevm.w3.middleware_onion.inject(Counting, name="counting", layer=0)
    yield methods
    pyevm.w3.middleware_onion.remove("counting")


def register(pyevm: Chain, label: str) -> int:
    record = pyevm.as_(pyevm.owner).registry.register(Registration(keccak(text=label), keccak(text=f"m-{label}"), 1, 0))
    return record.asset_id


def test_a_call_is_made_once_per_head_and_at_that_block(pyevm: Chain, counted: list[str]) -> None:
    first = register(pyevm, "one")
    clock = Clock()
    reads = HeadReads(pyevm.w3, max_age=0.25, clock=clock)
    readers = DatasealContracts.bind(pyevm.w3, pyevm.deployment, reads=reads)
    counted.clear()

    assert readers.registry.asset(first).owner == pyevm.owner.address
    assert readers.registry.asset(first).owner == pyevm.owner.address
    assert counted.count("eth_call") == 1 and counted.count("eth_blockNumber") == 1

    second = register(pyevm, "two")  # the head moves; the readers have not looked yet
    counted.clear()
    assert readers.registry.total_assets() == 1, "an answer at the head last seen (younger than max_age)"
    assert counted.count("eth_call") == 1 and counted.count("eth_blockNumber") == 0

    clock.now += 0.25  # the head is max_age old: asked again, the new block's answers
    assert readers.registry.total_assets() == 2
    assert readers.registry.asset(second).owner == pyevm.owner.address
    assert counted.count("eth_blockNumber") == 1


def test_invalidate_asks_for_the_head_at_the_next_read(pyevm: Chain) -> None:
    clock = Clock()
    reads = HeadReads(pyevm.w3, clock=clock)
    readers = DatasealContracts.bind(pyevm.w3, pyevm.deployment, reads=reads)
    assert readers.registry.total_assets() == 0
    asset_id = register(pyevm, "mine")
    assert readers.registry.total_assets() == 0  # not yet looked
    reads.invalidate()
    assert readers.registry.total_assets() == 1
    assert readers.registry.asset(asset_id).content_root == keccak(text="mine")


def test_a_revert_is_raised_and_not_kept(pyevm: Chain, counted: list[str]) -> None:
    reads = HeadReads(pyevm.w3, clock=Clock())
    readers = DatasealContracts.bind(pyevm.w3, pyevm.deployment, reads=reads)
    counted.clear()
    for _ in range(2):
        with pytest.raises(ContractRevert, match="UnknownAsset"):
            readers.registry.asset(7)
    assert counted.count("eth_call") == 2


def test_answers_are_bounded(pyevm: Chain) -> None:
    reads = HeadReads(pyevm.w3, clock=Clock(), max_entries=3)
    calls: list[int] = []
    for key in range(10):
        assert reads.read(("k", key), lambda block, key=key: calls.append(block) or key) == key
    assert len(reads._answers) <= 3  # noqa: SLF001 (the bound is the point)
    assert set(calls) == {pyevm.w3.eth.block_number}


def test_a_negative_max_age_is_refused(pyevm: Chain) -> None:
    with pytest.raises(ValueError, match="max_age"):
        HeadReads(pyevm.w3, max_age=-1)


def test_one_reader_asks_for_the_head_the_others_use_the_known_one_unless_a_write_was_mined(pyevm: Chain) -> None:
    asking, release = threading.Event(), threading.Event()
    held = {"on": False}

    class Gate(Web3Middleware):
        def wrap_make_request(self, make_request: Any) -> Any:
            def middleware(method: Any, params: Any) -> Any:
                if method == "eth_blockNumber" and held["on"]:
                    asking.set()
                    assert release.wait(60), "the test never released the head"  # a hang guard, not a time limit
                return make_request(method, params)
            return middleware

    pyevm.w3.middleware_onion.inject(Gate, name="gate", layer=0)
    try:
        clock = Clock()
        reads = HeadReads(pyevm.w3, clock=clock)
        first = reads.head()
        register(pyevm, "moves the head")
        clock.now += 1  # stale: the next reader asks
        held["on"] = True
        answers: list[int] = []
        asker = threading.Thread(target=lambda: answers.append(reads.head()))
        asker.start()
        assert asking.wait(60)
        assert reads.head() == first, "while one reader asks, another reads at the head known"

        reads.invalidate()  # a write was mined: a reader must not read at the head known before it
        waiter = threading.Thread(target=lambda: answers.append(reads.head()))
        waiter.start()
        waiter.join(0.2)
        assert waiter.is_alive(), "after invalidate a reader waits for the head"
        held["on"] = False
        release.set()
        asker.join(60)
        waiter.join(60)
        assert answers == [first + 1, first + 1]
    finally:
        pyevm.w3.middleware_onion.remove("gate")


def test_cached_only_answers_what_is_held_and_raises_not_cached_for_the_rest(pyevm: Chain, counted: list[str]) -> None:
    """Inside cached_only (an event loop) a read never waits: the answer held for the head, else NotCached naming
    what it needed — and nothing is asked of the chain."""
    first = register(pyevm, "held")
    clock = Clock()
    reads = HeadReads(pyevm.w3, clock=clock)
    readers = DatasealContracts.bind(pyevm.w3, pyevm.deployment, reads=reads)
    counted.clear()
    with cached_only(), pytest.raises(NotCached, match="the chain's head"):
        readers.registry.asset(first)  # no head known yet
    assert readers.registry.asset(first).owner == pyevm.owner.address  # outside: asked, and held
    with cached_only():
        assert readers.registry.asset(first).owner == pyevm.owner.address
        with pytest.raises(NotCached, match=r"a call at block \d+"):
            readers.registry.total_assets()  # not asked at this head yet
    plain = DatasealContracts.bind(pyevm.w3, pyevm.deployment)  # no HeadReads: every read is a call
    with cached_only(), pytest.raises(NotCached, match="AssetRegistry.totalAssets"):
        plain.registry.total_assets()
    assert [m for m in counted if m in ("eth_blockNumber", "eth_call")] == ["eth_blockNumber", "eth_call"]
    reads.invalidate()  # a write was mined: the head known before is not read, not even inside
    with cached_only(), pytest.raises(NotCached, match="the chain's head"):
        readers.registry.asset(first)


def join_head_askers() -> None:
    """Wait for HeadReads' background askers to finish (they keep the head they got, then end)."""
    for thread in threading.enumerate():
        if thread.name == "dataseal-head":
            thread.join(HANG_GUARD_SECONDS)
            assert not thread.is_alive(), "the head asker hung"  # a hang guard


def test_cached_only_reads_a_stale_head_while_a_thread_asks_for_the_next(pyevm: Chain) -> None:
    """A stale head inside cached_only: the head known is read at once and one thread of HeadReads asks for the
    next; once it has, readers read at the new head (the test waits for the ask, not for time)."""
    clock = Clock()
    reads = HeadReads(pyevm.w3, clock=clock)
    first = reads.head()
    register(pyevm, "moves the head")
    clock.now += 1
    asked = threading.Event()

    class Seen(Web3Middleware):
        def wrap_make_request(self, make_request: Any) -> Any:
            def middleware(method: Any, params: Any) -> Any:
                answer = make_request(method, params)
                if method == "eth_blockNumber":
                    asked.set()
                return answer
            return middleware

    pyevm.w3.middleware_onion.inject(Seen, name="seen", layer=0)
    try:
        with cached_only():
            assert reads.head() == first
        assert asked.wait(HANG_GUARD_SECONDS), "no thread asked for the head"  # a hang guard, not a time limit
        join_head_askers()
        with cached_only():
            assert reads.head() == first + 1
    finally:
        pyevm.w3.middleware_onion.remove("seen")


def test_a_failed_ask_has_the_next_readers_wait_and_be_told(pyevm: Chain) -> None:
    """When asking for the head fails in the background, readers do not go on reading at an ever older head:
    cached_only raises NotCached, a thread asks and raises the chain's error; a later success clears it."""
    clock = Clock()
    reads = HeadReads(pyevm.w3, clock=clock)
    first = reads.head()
    clock.now += 1
    failing = {"on": True}
    done = threading.Event()

    class Down(Web3Middleware):
        def wrap_make_request(self, make_request: Any) -> Any:
            def middleware(method: Any, params: Any) -> Any:
                if method == "eth_blockNumber" and failing["on"]:
                    done.set()
                    raise ConnectionError("the node is down")
                return make_request(method, params)
            return middleware

    pyevm.w3.middleware_onion.inject(Down, name="down", layer=0)
    try:
        with cached_only():
            assert reads.head() == first  # the known head, while the background ask fails
        assert done.wait(HANG_GUARD_SECONDS)
        join_head_askers()
        with cached_only(), pytest.raises(NotCached):
            reads.head()
        with pytest.raises(ChainError):
            reads.head()
        failing["on"] = False
        assert reads.head() == first
        with cached_only():
            assert reads.head() == first
    finally:
        pyevm.w3.middleware_onion.remove("down")


def test_a_background_asker_that_cannot_start_leaves_the_head_to_the_next_reader(
        pyevm: Chain, monkeypatch: pytest.MonkeyPatch) -> None:
    """No thread to be had (a process at its limit, or shutting down): the error is the reader's, and the asking is
    not left held (every reader that must wait for the head would hang)."""
    clock = Clock()
    reads = HeadReads(pyevm.w3, clock=clock)
    first = reads.head()
    clock.now += 1

    def no_thread(self: threading.Thread) -> None:
        raise RuntimeError("can't start new thread")

    monkeypatch.setattr(threading.Thread, "start", no_thread)
    with cached_only(), pytest.raises(RuntimeError, match="can't start new thread"):
        reads.head()
    monkeypatch.undo()
    assert not reads._asking.locked(), "the asking is left held: every reader that must wait would hang"
    reads.invalidate()  # a reader that must wait for the head gets it
    assert reads.head() == first


def test_readers_that_waited_while_the_asking_failed_are_told_and_do_not_ask_in_turn(pyevm: Chain) -> None:
    """A node that does not answer: the reader asking fails, and those that waited for its answer are told that
    failure, instead of each asking the node again one after another (each waiting the RPC timeout)."""
    clock = Clock()
    reads = HeadReads(pyevm.w3, clock=clock)
    reads.head()
    reads.invalidate()  # readers wait for the next head
    asking, release = threading.Event(), threading.Event()
    asked: list[str] = []

    class Hanging(Web3Middleware):
        def wrap_make_request(self, make_request: Any) -> Any:
            def middleware(method: Any, params: Any) -> Any:
                if method == "eth_blockNumber":
                    asked.append(threading.current_thread().name)
                    asking.set()
                    assert release.wait(HANG_GUARD_SECONDS), "the test never let the ask fail"  # a hang guard
                    raise ConnectionError("the node did not answer")
                return make_request(method, params)
            return middleware

    pyevm.w3.middleware_onion.inject(Hanging, name="hanging", layer=0)
    errors: list[str] = []

    def reader() -> None:
        try:
            reads.head()
        except ChainError as exc:
            errors.append(exc.message)

    try:
        first = threading.Thread(target=reader, name="reader-0")
        first.start()
        assert asking.wait(HANG_GUARD_SECONDS)
        others = [threading.Thread(target=reader, name=f"reader-{n}") for n in (1, 2, 3)]
        for thread in others:
            thread.start()
        guard = time.monotonic() + HANG_GUARD_SECONDS  # a hang guard: the others block at once
        while not all(waits_for_the_asking(thread) for thread in others):
            assert time.monotonic() < guard, "the other readers never waited for the asking"
            threading.Event().wait(0.001)
        release.set()
        for thread in (first, *others):
            thread.join(HANG_GUARD_SECONDS)
        assert asked == ["reader-0"], "the readers that waited were told, not asking again"
        assert len(errors) == 4 and len(set(errors)) == 1 and "the node did not answer" in errors[0]
    finally:
        release.set()
        pyevm.w3.middleware_onion.remove("hanging")


def waits_for_the_asking(thread: threading.Thread) -> bool:
    """Whether ``thread`` is blocked in HeadReads.head waiting for the asking lock (having read the state it waits
    on): its innermost frame is that line."""
    frame = sys._current_frames().get(thread.ident or -1)
    return frame is not None and frame.f_code is HeadReads.head.__code__ and \
        "self._asking.acquire(blocking=wait)" in linecache.getline(frame.f_code.co_filename, frame.f_lineno)
