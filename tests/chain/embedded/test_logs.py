"""eth_getLogs (dataseal.chain.embedded.logs): filters by address, topic and block, and its limits."""
from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest
from eth_utils import keccak, to_checksum_address

from dataseal.chain.embedded.chain import EmbeddedChain
from dataseal.chain.embedded.errors import BlockNotFound, InvalidParams, LimitExceeded
from dataseal.chain.embedded.logs import ScanStopped
from dataseal.chain.embedded.records import LogFilter, LogRecord
from dataseal.chain.embedded.rpc import RpcDispatcher
from dataseal.chain.embedded.settings import Mining, Tuning
from tests.chain.embedded.clocks import HANG_GUARD_SECONDS, ManualClock
from tests.chain.embedded.conftest import Funded
from tests.chain.embedded.helpers import LOG_RUNTIME, deploy, open_chain, sign

LOG2_RUNTIME = bytes.fromhex("60203560003560006000a200")  # LOG2(topics = calldata[0:32], calldata[32:64]), no data


def test_logs_are_filtered_by_address_topic_and_block(chain: EmbeddedChain, keys: Funded) -> None:
    logger = deploy(chain, keys.alice, LOG_RUNTIME)  # block 1
    other = deploy(chain, keys.alice, LOG_RUNTIME)  # block 2
    topics = [keccak(text=f"topic{n}") for n in range(3)]
    nonce = 2
    for target, topic in [(logger, topics[0]), (logger, topics[1]), (other, topics[0]), (logger, topics[2])]:
        chain.send_raw_transaction(sign(keys.alice, chain.chain_id, nonce, to=to_checksum_address(target), value=0,
                                        gas=60_000, data=topic))
        nonce += 1
    chain.mine()  # block 3: four logs
    everything = chain.get_logs(LogFilter(from_block=0, to_block="latest"))
    assert [(r.address, r.topics[0], r.log_index, r.tx_index) for r in everything] == [
        (logger, topics[0], 0, 0), (logger, topics[1], 1, 1), (other, topics[0], 2, 2), (logger, topics[2], 3, 3)
    ]
    assert len(chain.get_logs(LogFilter(from_block=0, addresses=(logger,)))) == 3
    assert len(chain.get_logs(LogFilter(from_block=0, topics=((topics[0], topics[2]),)))) == 3
    assert len(chain.get_logs(LogFilter(from_block=0, addresses=(other,), topics=((topics[1],),)))) == 0
    assert len(chain.get_logs(LogFilter(from_block=0, topics=(None, (topics[0],))))) == 0  # no second topic
    assert chain.get_logs(LogFilter(from_block=1, to_block=2)) == []
    assert len(chain.get_logs(LogFilter(block_hash=chain.head().hash))) == 4
    assert chain.get_logs(LogFilter(from_block=50, to_block=60)) == []
    with pytest.raises(InvalidParams, match="fromBlock 3 is after toBlock 1"):
        chain.get_logs(LogFilter(from_block=3, to_block=1))
    with pytest.raises(BlockNotFound, match="unknown block"):
        chain.get_logs(LogFilter(block_hash=b"\1" * 32))
    with pytest.raises(InvalidParams, match="block -5 is not a block number"):
        chain.get_logs(LogFilter(from_block=-5, to_block=0))


def test_log_queries_too_large_are_refused(chain: EmbeddedChain, keys: Funded) -> None:
    logger = deploy(chain, keys.alice, LOG_RUNTIME)
    for nonce in range(1, 4):
        chain.send_raw_transaction(sign(keys.alice, chain.chain_id, nonce, to=to_checksum_address(logger), value=0,
                                        gas=60_000, data=keccak(text="t")))
    chain.mine()
    chain.close(flush=False)
    with EmbeddedChain.open(chain.path, tuning=Tuning(max_log_results=2), mining=Mining("manual")) as limited:
        with pytest.raises(LimitExceeded, match="query returned more than 2 results: block 2 alone holds more "
                                                "matching logs than that; narrow the addresses or topics"):
            limited.get_logs(LogFilter(from_block=0))
    with EmbeddedChain.open(chain.path, tuning=Tuning(max_log_block_range=2), mining=Mining("manual")) as limited:
        with pytest.raises(LimitExceeded, match="block range too large: 3 blocks \\(0..2\\) asked, at most 2 per "
                                                "eth_getLogs call: split the range, e.g. \\[0x0, 0x1\\] first"):
            limited.get_logs(LogFilter(from_block=0))


def test_too_many_results_suggest_a_range_that_fits(chain: EmbeddedChain, keys: Funded) -> None:
    logger = deploy(chain, keys.alice, LOG_RUNTIME)  # block 1
    for nonce in range(1, 4):  # blocks 2, 3, 4: a log each
        chain.send_raw_transaction(sign(keys.alice, chain.chain_id, nonce, to=to_checksum_address(logger), value=0,
                                        gas=60_000, data=keccak(text="t")))
        chain.mine()
    chain.close(flush=False)
    with EmbeddedChain.open(chain.path, tuning=Tuning(max_log_results=2), mining=Mining("manual")) as limited:
        assert len(limited.get_logs(LogFilter(from_block=1, to_block=3))) == 2  # as many as allowed: answered
        with pytest.raises(LimitExceeded, match=r"query returned more than 2 results: narrow the block range, e.g. "
                                                r"to \[0x1, 0x3\] \(the limit was reached in block 4\)"):
            limited.get_logs(LogFilter(from_block=1))


def test_a_log_with_fewer_topics_than_the_filter_has_positions_does_not_match(
    chain: EmbeddedChain, keys: Funded
) -> None:
    # geth and hardhat: [null, null, null] asks for logs with at least three topics, whatever they are.
    logger = deploy(chain, keys.alice, LOG2_RUNTIME)
    first, second = keccak(text="first"), keccak(text="second")
    chain.send_raw_transaction(sign(keys.alice, chain.chain_id, 1, to=to_checksum_address(logger), value=0,
                                    gas=60_000, data=first + second))
    chain.mine()
    assert [r.topics for r in chain.get_logs(LogFilter(from_block=0, topics=(None, None)))] == [(first, second)]
    assert chain.get_logs(LogFilter(from_block=0, topics=(None, None, None))) == []
    assert chain.get_logs(LogFilter(from_block=0, topics=((first,), None, None))) == []
    assert len(chain.get_logs(LogFilter(from_block=0, topics=((first,), (second,))))) == 1


def test_a_filter_names_at_most_max_log_addresses(tmp_path: Path, keys: Funded) -> None:
    chain = open_chain(tmp_path / "data", keys.addresses, tuning=Tuning(max_log_addresses=2))
    try:
        dispatcher = RpcDispatcher(chain)
        two = ["0x" + f"{n:040x}" for n in range(2)]
        assert dispatcher.call("eth_getLogs", [{"fromBlock": "0x0", "address": two}]) == []
        with pytest.raises(LimitExceeded, match="too many addresses: the filter names 3, at most 2 per query: split "
                                                "them over several queries of 2 or fewer") as refused:
            dispatcher.call("eth_getLogs", [{"fromBlock": "0x0", "address": [*two, "0x" + "ff" * 20]}])
        assert refused.value.code == -32005
        topics = ["0x" + f"{n:064x}" for n in range(3)]
        with pytest.raises(LimitExceeded, match="too many topics: the filter gives 3 alternatives for topic 1, at "
                                                "most 2 per position"):
            dispatcher.call("eth_getLogs", [{"fromBlock": "0x0", "topics": [None, topics]}])
    finally:
        chain.close(flush=False)
    assert Tuning().max_log_addresses == 1_000  # geth's --rpc.getlogmaxaddrs


def test_a_scan_runs_without_the_chain_lock(chain: EmbeddedChain, keys: Funded) -> None:
    # The scan waits inside block 1 until the test lets it go: meanwhile the chain answers, and mines.
    logger = deploy(chain, keys.alice, LOG_RUNTIME)  # block 1
    chain.send_raw_transaction(sign(keys.alice, chain.chain_id, 1, to=to_checksum_address(logger), value=0,
                                    gas=60_000, data=keccak(text="before")))
    chain.mine()  # block 2: a log
    dispatcher = RpcDispatcher(chain)
    inside, go_on = threading.Event(), threading.Event()
    found: list[list[LogRecord]] = []

    def progress(number: int) -> None:
        if number == 1:
            inside.set()
            assert go_on.wait(HANG_GUARD_SECONDS)

    scan = threading.Thread(target=lambda: found.append(chain.get_logs(LogFilter(from_block=0), progress=progress)))
    scan.start()
    try:
        assert inside.wait(HANG_GUARD_SECONDS)
        answers: list[Any] = []

        def meanwhile() -> None:
            answers.append(dispatcher.call("eth_blockNumber"))
            chain.send_raw_transaction(sign(keys.alice, chain.chain_id, 2, to=to_checksum_address(logger), value=0,
                                            gas=60_000, data=keccak(text="during")))
            answers.append(chain.mine().number)

        other = threading.Thread(target=meanwhile)
        other.start()
        other.join(HANG_GUARD_SECONDS)  # a guard against the hang the lock would cause, not a time limit
        assert not other.is_alive(), "eth_blockNumber waited for the scan"
        assert answers == ["0x2", 3]
    finally:
        go_on.set()
        scan.join()
    assert [r.topics for r in found[0]] == [(keccak(text="before"),)]  # the head when it began: block 2
    assert len(chain.get_logs(LogFilter(from_block=0))) == 2


def test_a_scan_ends_when_the_chain_closes(tmp_path: Path, keys: Funded) -> None:
    clock = ManualClock()
    chain = open_chain(tmp_path / "data", keys.addresses, clock=clock)
    for _ in range(3):
        chain.mine()
    inside, go_on = threading.Event(), threading.Event()
    read: list[int] = []
    errors: list[Exception] = []

    def progress(number: int) -> None:
        read.append(number)
        if number == 1:
            inside.set()
            assert go_on.wait(HANG_GUARD_SECONDS)

    def scan() -> None:
        try:
            chain.get_logs(LogFilter(from_block=0), progress=progress)
        except ScanStopped as exc:
            errors.append(exc)

    scanner = threading.Thread(target=scan)
    scanner.start()
    assert inside.wait(HANG_GUARD_SECONDS)
    closer = threading.Thread(target=chain.close, name="closer")
    closer.start()
    clock.sleeper("closer")  # closing waits for the scan...
    go_on.set()  # ...which stops before its next block
    closer.join()
    scanner.join()
    assert read == [0, 1]
    assert [str(e) for e in errors] == [
        "the node is shutting down: the log query was stopped; send it again once the node is back"
    ]
    assert chain.closed
