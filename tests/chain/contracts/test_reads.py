"""Reads pinned to the head (HeadReads): each call made once per head, at that block, and asked for again when the
head is older than max_age (an injected clock) or after invalidate() — on a real py-evm chain."""
from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
from eth_utils import keccak
from web3.middleware import Web3Middleware

from dataseal.chain.contracts.deployed import DatasealContracts
from dataseal.chain.contracts.reads import HeadReads
from dataseal.chain.contracts.records import Registration
from dataseal.chain.errors import ContractRevert
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
